/*
 * test_ansi.c - fbcon's text path on the host: the escape sequence and
 * UTF-8 parser (mods/fbcon/ansi.c), what the sequences do to the grid
 * (term.c, grid.c) and the console state carried by swaps (state.c).
 *
 * Parser tests record every callback as text ("T(ab) C(10) CSI(?;25;l)
 * G(e9) E(7)") and compare; each input is also fed one byte per write
 * and in odd chunks, which must give the same record: the parser resumes
 * anywhere.  Grid tests use a small 10x4 screen.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define palette_xterm256 fbcon_palette_xterm256

#include "../../mods/fbcon/ansi.c"
#include "../../mods/fbcon/grid.c"
#include "../../mods/fbcon/reflow.c"
#include "../../mods/fbcon/palette.c"
#include "../../mods/fbcon/term.c"
#include "../../mods/fbcon/state.c"

/* --- the parser, recorded ----------------------------------------------- */

struct rec {
	char log[4096];
	size_t n;
	int in_text;		/* the log ends with a T(...) */
};

static void
rec_add(struct rec *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
rec_add(struct rec *r, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (r->n >= sizeof(r->log) - 1)
		return;
	va_start(ap, fmt);
	k = vsnprintf(r->log + r->n, sizeof(r->log) - r->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		r->n += (size_t)k < sizeof(r->log) - r->n ? (size_t)k :
		    sizeof(r->log) - r->n - 1;
}

/* Text runs are merged, so that where a write split one does not show. */
static void
r_text(void *ctx, const char *s, size_t n)
{
	struct rec *r = ctx;

	if (r->in_text && r->n + n < sizeof(r->log) - 1) {
		r->n--;				/* reopen the T(...) */
		memcpy(r->log + r->n, s, n);
		r->n += n;
		r->log[r->n++] = ')';
		r->log[r->n] = '\0';
		return;
	}
	rec_add(r, "%sT(%.*s)", r->n ? " " : "", (int)n, s);
	r->in_text = 1;
}

static void
r_glyph(void *ctx, uint32_t cp)
{
	struct rec *r = ctx;

	r->in_text = 0;
	rec_add(r, "%sG(%x)", r->n ? " " : "", (unsigned)cp);
}

static void
r_control(void *ctx, int c)
{
	struct rec *r = ctx;

	r->in_text = 0;
	rec_add(r, "%sC(%d)", r->n ? " " : "", c);
}

static void
r_csi(void *ctx, const struct ansi_csi *c)
{
	struct rec *r = ctx;

	r->in_text = 0;
	rec_add(r, "%sCSI(", r->n ? " " : "");
	if (c->priv)
		rec_add(r, "%c;", c->priv);
	for (unsigned i = 0; i < c->n; i++)
		rec_add(r, "%u;", c->p[i]);
	rec_add(r, "%c)", c->final);
}

static void
r_esc(void *ctx, int f)
{
	struct rec *r = ctx;

	r->in_text = 0;
	rec_add(r, "%sE(%c)", r->n ? " " : "", f);
}

static const struct ansi_ops rec_ops = { r_text, r_glyph, r_control, r_csi,
    r_esc };

/* Feed s (n bytes) in chunks of `chunk` bytes (0: all at once). */
static void
feed(struct rec *r, const char *s, size_t n, size_t chunk)
{
	struct ansi a;

	memset(r, 0, sizeof(*r));
	ansi_init(&a);
	if (!chunk)
		chunk = n ? n : 1;
	for (size_t i = 0; i < n; i += chunk)
		ansi_feed(&a, s + i, n - i < chunk ? n - i : chunk, &rec_ops,
		    r);
}

/* Parse s whole, then split in every way we try: all must agree. */
#define PARSES_N(s, n, want) parses(__FILE__, __LINE__, s, n, want)
#define PARSES(s, want) PARSES_N(s, sizeof(s) - 1, want)

static void
parses(const char *file, int line, const char *s, size_t n, const char *want)
{
	static const size_t chunks[] = { 0, 1, 2, 3, 5, 7 };
	struct rec r;

	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		feed(&r, s, n, chunks[i]);
		if (strcmp(r.log, want) != 0) {
			check_fail(file, line, "chunks of %zu: got \"%s\", "
			    "want \"%s\"", chunks[i], r.log, want);
			return;
		}
	}
}

TEST(ansi_text_and_controls)
{
	PARSES("hello", "T(hello)");
	PARSES("a\r\nb", "T(a) C(13) C(10) T(b)");
	PARSES("\b\t\v\f", "C(8) C(9) C(11) C(12)");
	/* NUL, BEL, other C0 and DEL are dropped */
	PARSES_N("a\0\a\x01\x7f" "b", 6, "T(ab)");
}

TEST(ansi_cursor_moves)
{
	PARSES("\033[A\033[3B\033[12C\033[0D", "CSI(A) CSI(3;B) CSI(12;C) "
	    "CSI(0;D)");
	PARSES("\033[5;10H\033[H\033[;7f\033[2;f", "CSI(5;10;H) CSI(H) "
	    "CSI(0;7;f) CSI(2;0;f)");
}

TEST(ansi_erase_and_sgr)
{
	PARSES("\033[J\033[1J\033[2J\033[K\033[1K\033[2K", "CSI(J) CSI(1;J) "
	    "CSI(2;J) CSI(K) CSI(1;K) CSI(2;K)");
	PARSES("\033[m\033[0;1;7;31;42;97;107;39;49m", "CSI(m) "
	    "CSI(0;1;7;31;42;97;107;39;49;m)");
	PARSES("\033[38;5;196m\033[48:2:1:2:3m", "CSI(38;5;196;m) "
	    "CSI(48;2;1;2;3;m)");
}

TEST(ansi_private_and_escapes)
{
	PARSES("\033[?25l\033[?25h", "CSI(?;25;l) CSI(?;25;h)");
	PARSES("\0337x\0338\033c", "E(7) T(x) E(8) E(c)");
	/* ESC with intermediates (charset selection) is dropped whole */
	PARSES("\033(Bx\033)0y", "T(xy)");
	/* control strings: OSC to BEL or ST, DCS/APC to ST */
	PARSES("\033]0;title\007a\033]2;t\033\\b\033Pq#1\033\\c\033_z\033\\d",
	    "T(abcd)");
}

TEST(ansi_split_anywhere)
{
	/* A mixture of everything, split in every chunk size: equal. */
	static const char s[] = "x\033[1;31mred\033[0m\xc3\xa9\xe2\x82\xac"
	    "\033]0;t\007\xf0\x9f\x98\x80\033[?25l\033[10;20H\033(0\r\n";
	struct rec whole, part;

	feed(&whole, s, sizeof(s) - 1, 0);
	CHECK_STR(whole.log, "T(x) CSI(1;31;m) T(red) CSI(0;m) G(e9) "
	    "G(20ac) G(1f600) CSI(?;25;l) CSI(10;20;H) C(13) C(10)");
	for (size_t c = 1; c < sizeof(s); c++) {
		feed(&part, s, sizeof(s) - 1, c);
		CHECK_MSG(strcmp(part.log, whole.log) == 0, "chunk %zu: %s", c,
		    part.log);
	}
}

TEST(ansi_malformed_params)
{
	char s[256];

	/* more than ANSI_MAX_PARAMS: the rest ignored, the sequence kept */
	strcpy(s, "\033[");
	for (int i = 1; i <= 20; i++)
		sprintf(s + strlen(s), "%d;", i);
	strcat(s, "mx");
	PARSES_N(s, strlen(s), "CSI(1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16;m) "
	    "T(x)");
	/* values saturate */
	PARSES("\033[99999999999A", "CSI(9999;A)");
	/* a private marker after parameters: ignored */
	PARSES("\033[1?mx", "T(x)");
	/* intermediates: we know no such sequence, so it is dropped */
	PARSES("\033[1 qx\033[ 1mz", "T(xz)");
}

TEST(ansi_malformed_interruptions)
{
	/* CAN and SUB cancel; the rest is text */
	PARSES("\033[12\030m", "T(m)");
	PARSES("\033[12\032m", "T(m)");
	/* ESC restarts */
	PARSES("\033[1\033[2J", "CSI(2;J)");
	/* C0 controls run in the middle, the sequence goes on */
	PARSES("\033[1\n;2H", "C(10) CSI(1;2;H)");
	/* a non-ASCII byte ends the sequence and starts a character */
	PARSES("\033[1\xc3\xa9x", "G(e9) T(x)");
	/* an ESC at the very end waits for the next write */
	PARSES("a\033", "T(a)");
}

TEST(ansi_overlong_sequences)
{
	char s[1024];
	struct rec r;
	size_t n;

	/* a CSI longer than ANSI_SEQ_MAX is abandoned: what follows is text */
	strcpy(s, "\033[");
	for (n = 2; n < ANSI_SEQ_MAX + 10; n++)
		s[n] = '1';
	strcpy(s + n, "mok");
	feed(&r, s, strlen(s), 0);
	CHECK_CONTAINS(r.log, "ok)");
	CHECK(strstr(r.log, "CSI") == NULL);
	/* so is a control string longer than ANSI_STR_MAX */
	memset(s, 'z', sizeof(s));
	memcpy(s, "\033]0;", 4);
	feed(&r, s, sizeof(s), 0);
	CHECK_CONTAINS(r.log, "T(zzz");
	/* and no more than ANSI_STR_MAX bytes of it were swallowed */
	CHECK(r.n >= sizeof(s) - ANSI_STR_MAX - 4);
}

TEST(ansi_utf8)
{
	PARSES("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
	    "G(e9) G(20ac) G(1f600)");
	PARSES("\xc2\x80\xdf\xbf\xef\xbf\xbf\xf4\x8f\xbf\xbf",
	    "G(80) G(7ff) G(ffff) G(10ffff)");
}

TEST(ansi_utf8_malformed)
{
	/* a stray continuation byte, invalid leads */
	PARSES("\x80x", "G(fffd) T(x)");
	PARSES("\xc0\xaf", "G(fffd) G(fffd)");
	PARSES("\xf5\xff", "G(fffd) G(fffd)");
	/* a character cut short: the byte that broke it counts */
	PARSES("\xe2\x82x", "G(fffd) T(x)");
	PARSES("\xe2\x82\033[A", "G(fffd) CSI(A)");
	PARSES("\xf0\x9f\xc3\xa9", "G(fffd) G(e9)");
	/* overlong forms, surrogates, beyond U+10FFFF */
	PARSES("\xe0\x80\xaf", "G(fffd)");
	PARSES("\xed\xa0\x80", "G(fffd)");
	PARSES("\xf4\x90\x80\x80", "G(fffd)");
}

/* --- the grid through term ------------------------------------------------ */

#define COLS 10
#define ROWS 4

static struct term *
term_new(uint32_t cols, uint32_t rows)
{
	struct term *t = calloc(1, sizeof(*t));
	void *mem = malloc(grid_bytes(cols, rows));

	grid_init(&t->g, mem, cols, rows);
	term_init(t);
	return t;
}

static void
term_free(struct term *t)
{
	free(t->g.ring);
	free(t);
}

/* Screen row y as UTF-8 text, trailing blanks trimmed; U+FFFD (what bad
 * UTF-8 becomes) as '#'. */
static const char *
row(const struct term *t, uint32_t y)
{
	static char buf[4 * GRID_MAX_COLS + 1];
	const struct cell *c = grid_line(&t->g, y);
	struct out o = { buf, 0 };

	for (uint32_t i = 0; i < t->g.cols; i++)
		if (c[i].ch == ANSI_BAD_CHAR)
			put(&o, "#", 1);
		else
			put_utf8(&o, c[i].ch);	/* state.c's */
	while (o.n && buf[o.n - 1] == ' ')
		o.n--;
	buf[o.n] = '\0';
	return buf;
}

static void
tw(struct term *t, const char *s)
{
	term_write(t, s, strlen(s));
}

/* Line i of the scrollback and screen, oldest first, as text. */
static const char *
row_h(const struct term *t, uint32_t i)
{
	static char buf[GRID_MAX_COLS + 1];
	const struct cell *c = grid_hline(&t->g, i);
	uint32_t n = t->g.cols;

	for (uint32_t k = 0; k < n; k++)
		buf[k] = (char)c[k].ch;
	while (n && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	return buf;
}

#define AT(t, x, y) do { CHECK_EQ_INT((t)->g.cx, x); \
	CHECK_EQ_INT((t)->g.cy, y); } while (0)

TEST(term_wrap_and_newline)
{
	struct term *t = term_new(COLS, ROWS);

	tw(t, "abcdefghijKL");
	CHECK_STR(row(t, 0), "abcdefghij");
	CHECK_STR(row(t, 1), "KL");
	AT(t, 2, 1);
	/* exactly a line's worth then \n: no blank line between */
	tw(t, "\r\n0123456789\nx");
	CHECK_STR(row(t, 2), "0123456789");
	CHECK_STR(row(t, 3), "x");
	AT(t, 1, 3);
	term_free(t);
}

TEST(term_controls)
{
	struct term *t = term_new(COLS, ROWS);

	tw(t, "XXXXX\rab\bc");
	CHECK_STR(row(t, 0), "acXXX");
	tw(t, "\r\tT");
	CHECK_STR(row(t, 0), "acXXX   T");
	tw(t, "\t\tZ");		/* past the last stop: the last column */
	CHECK_STR(row(t, 0), "acXXX   TZ");
	tw(t, "\r\b\b");		/* BS stops at the margin */
	AT(t, 0, 0);
	tw(t, "\n\v\f");		/* LF, VT, FF: down, to column 0 */
	AT(t, 0, 3);
	term_free(t);
}

TEST(term_scroll_and_history)
{
	struct term *t = term_new(COLS, ROWS);

	tw(t, "l0\nl1\nl2\nl3\nl4\nl5");
	CHECK_STR(row(t, 0), "l2");
	CHECK_STR(row(t, 3), "l5");
	CHECK_EQ_INT(t->g.hist, 2);
	CHECK_EQ_INT(grid_hline(&t->g, 0)->ch, 'l');
	CHECK_EQ_INT(grid_hline(&t->g, 1)[1].ch, '1');
	CHECK_EQ_INT(grid_take_scrolled(&t->g), 2);
	CHECK_EQ_INT(grid_take_scrolled(&t->g), 0);
	/* the history keeps GRID_HISTORY lines, no more */
	for (int i = 0; i < GRID_HISTORY + 50; i++)
		tw(t, "\n");
	CHECK_EQ_INT(t->g.hist, GRID_HISTORY);
	term_free(t);
}

TEST(term_cursor_moves)
{
	struct term *t = term_new(COLS, ROWS);

	tw(t, "\033[3;5H");
	AT(t, 4, 2);
	tw(t, "\033[A");
	AT(t, 4, 1);
	tw(t, "\033[2B\033[3C");
	AT(t, 7, 3);
	tw(t, "\033[0D");		/* 0 means 1 */
	AT(t, 6, 3);
	tw(t, "\033[99A\033[99D");	/* clamped at the edges */
	AT(t, 0, 0);
	tw(t, "\033[99;99f");
	AT(t, 9, 3);
	tw(t, "\033[H");
	AT(t, 0, 0);
	tw(t, "\033[;4H");
	AT(t, 3, 0);
	tw(t, "\033[2;1H\033[5G");
	AT(t, 4, 1);
	tw(t, "\033[E");
	AT(t, 0, 2);
	term_free(t);
}

TEST(term_erase_display)
{
	struct term *t = term_new(COLS, ROWS);
	const char *fill = "0000000000111111111122222222223333333333";

	tw(t, fill);
	tw(t, "\033[2;5H\033[J");	/* 0: from the cursor down */
	CHECK_STR(row(t, 0), "0000000000");
	CHECK_STR(row(t, 1), "1111");
	CHECK_STR(row(t, 2), "");
	tw(t, "\033[H");
	tw(t, fill);
	tw(t, "\033[3;5H\033[1J");	/* 1: up to the cursor, inclusive */
	CHECK_STR(row(t, 1), "");
	CHECK_STR(row(t, 2), "     22222");
	CHECK_STR(row(t, 3), "3333333333");
	tw(t, "\033[2J");		/* 2: all; the cursor stays */
	for (uint32_t y = 0; y < ROWS; y++)
		CHECK_STR(row(t, y), "");
	AT(t, 4, 2);
	term_free(t);
}

TEST(term_erase_line)
{
	struct term *t = term_new(COLS, ROWS);

	tw(t, "abcdefghij\033[1;4H\033[K");
	CHECK_STR(row(t, 0), "abc");
	tw(t, "\033[1;1Habcdefghij\033[1;4H\033[1K");
	CHECK_STR(row(t, 0), "    efghij");
	tw(t, "\033[2K");
	CHECK_STR(row(t, 0), "");
	/* insert, delete, erase characters */
	tw(t, "\033[1;1Habcdef\033[1;3H\033[2@");
	CHECK_STR(row(t, 0), "ab  cdef");
	tw(t, "\033[3P");
	CHECK_STR(row(t, 0), "abdef");
	tw(t, "\033[2X");
	CHECK_STR(row(t, 0), "ab  f");
	term_free(t);
}

TEST(term_sgr)
{
	struct term *t = term_new(COLS, ROWS);
	struct cell *c = grid_line(&t->g, 0);

	tw(t, "\033[1;7;31;42ma\033[22;27;39;49mb\033[93;104mc\033[0md");
	CHECK_EQ_INT(c[0].attr, CELL_BOLD | CELL_REVERSE);
	CHECK_EQ_INT(c[0].fg, 1);
	CHECK_EQ_INT(c[0].bg, 2);
	CHECK_EQ_INT(c[1].attr, 0);
	CHECK_EQ_INT(c[1].fg, GRID_FG);
	CHECK_EQ_INT(c[1].bg, GRID_BG);
	CHECK_EQ_INT(c[2].fg, 11);
	CHECK_EQ_INT(c[2].bg, 12);
	CHECK_EQ_INT(c[3].fg, GRID_FG);
	/* CSI m is CSI 0 m; unknown parameters are skipped */
	tw(t, "\033[35;4;5;44m\033[me");
	CHECK_EQ_INT(c[4].fg, GRID_FG);
	CHECK_EQ_INT(c[4].bg, GRID_BG);
	tw(t, "\033[35;4;5;44mf");
	CHECK_EQ_INT(c[5].fg, 5);
	CHECK_EQ_INT(c[5].bg, 4);
	/* 256 colours and true colour, to the nearest of the 16 */
	tw(t, "\033[0;38;5;196;48;2;0;0;170mg");
	CHECK_EQ_INT(c[6].fg, 1);	/* 255,0,0 is nearer aa0000 */
	CHECK_EQ_INT(c[6].bg, 4);
	/* a broken 38 ends the SGR without harm */
	tw(t, "\033[0;32;38mh");
	CHECK_EQ_INT(c[7].fg, 2);
	/* erased cells take the background */
	tw(t, "\033[0;46m\033[2K");
	CHECK_EQ_INT(c[0].bg, 6);
	CHECK_EQ_INT(c[0].ch, ' ');
	term_free(t);
}

TEST(term_save_restore_reset)
{
	struct term *t = term_new(COLS, ROWS);

	tw(t, "\033[2;3H\033[31m\0337\033[H\033[0m\0338x");
	CHECK_EQ_INT(grid_line(&t->g, 1)[2].fg, 1);
	AT(t, 3, 1);
	tw(t, "\033[4;4H\033[s\033[H\033[uy");
	CHECK_EQ_INT(grid_line(&t->g, 3)[3].ch, 'y');
	tw(t, "\033[?25l");
	CHECK_EQ_INT(t->cursor_on, 0);
	tw(t, "\033[?25h");
	CHECK_EQ_INT(t->cursor_on, 1);
	tw(t, "\033c");
	AT(t, 0, 0);
	CHECK_STR(row(t, 1), "");
	CHECK_EQ_INT(t->g.pen.fg, GRID_FG);
	term_free(t);
}

TEST(term_utf8_is_one_cell_with_its_code_point)
{
	struct term *t = term_new(COLS, ROWS);

	tw(t, "caf\xc3\xa9 \xe2\x94\x80\xf0\x9f\x98\x80!");
	CHECK_STR(row(t, 0), "caf\xc3\xa9 \xe2\x94\x80\xf0\x9f\x98\x80!");
	AT(t, 8, 0);
	CHECK_EQ_INT(grid_line(&t->g, 0)[3].ch, 0xe9);
	CHECK_EQ_INT(grid_line(&t->g, 0)[5].ch, 0x2500);
	CHECK_EQ_INT(grid_line(&t->g, 0)[6].ch, 0x1f600);
	/* split between writes, still one cell */
	tw(t, "\r\n\xe2");
	tw(t, "\x82");
	tw(t, "\xac=");
	CHECK_STR(row(t, 1), "\xe2\x82\xac=");
	AT(t, 2, 1);
	term_free(t);
}

TEST(term_bad_utf8_is_one_replacement_per_sequence)
{
	struct term *t = term_new(COLS, ROWS);

	/* a cut sequence, a stray continuation, C0 (which starts nothing)
	 * and its continuation, a surrogate: one U+FFFD cell each, and the
	 * byte that broke the first is still read */
	tw(t, "\xe2\x82x\x80\xc0\xaf\xed\xa0\x80y");
	CHECK_STR(row(t, 0), "#x####y");
	AT(t, 7, 0);
	term_free(t);
}

TEST(grid_resize_keeps_the_cursor_line)
{
	struct term *t = term_new(COLS, ROWS);
	struct grid g;
	void *mem;

	tw(t, "a\nb\nc\nd\ne\nf");	/* screen c d e f, history a b */
	mem = malloc(grid_bytes(5, 2));
	grid_resize(&g, mem, 5, 2, &t->g);
	CHECK_EQ_INT(g.cy, 1);
	CHECK_EQ_INT(grid_line(&g, 0)->ch, 'e');
	CHECK_EQ_INT(grid_line(&g, 1)->ch, 'f');
	CHECK_EQ_INT(g.hist, 4);
	free(t->g.ring);
	t->g = g;
	/* growing again brings the history back down */
	mem = malloc(grid_bytes(12, 6));
	grid_resize(&g, mem, 12, 6, &t->g);
	CHECK_EQ_INT(grid_line(&g, 0)->ch, 'a');
	CHECK_EQ_INT(grid_line(&g, 5)->ch, 'f');
	CHECK_EQ_INT(g.cy, 5);
	CHECK_EQ_INT(g.hist, 0);
	free(t->g.ring);
	t->g = g;
	term_free(t);
}

/* Resize t's grid in place, as fbcon does on a mode change. */
static void
resize(struct term *t, uint32_t cols, uint32_t rows)
{
	struct grid g;
	void *mem = malloc(grid_bytes(cols, rows));

	grid_resize(&g, mem, cols, rows, &t->g);
	free(t->g.ring);
	t->g = g;
}

/* A long line wraps again at every width; hard line ends stay. */
TEST(grid_reflow_rewraps_long_lines)
{
	struct term *t = term_new(10, 6);

	tw(t, "0123456789abcdefghij\nshort\nxy");	/* 2 rows, 1, 1 */
	CHECK_STR(row(t, 0), "0123456789");
	CHECK_STR(row(t, 1), "abcdefghij");
	resize(t, 20, 6);
	CHECK_STR(row(t, 0), "0123456789abcdefghij");
	CHECK_STR(row(t, 1), "short");
	CHECK_STR(row(t, 2), "xy");
	AT(t, 2, 2);
	resize(t, 6, 6);
	CHECK_STR(row(t, 0), "012345");
	CHECK_STR(row(t, 1), "6789ab");
	CHECK_STR(row(t, 2), "cdefgh");
	CHECK_STR(row(t, 3), "ij");
	CHECK_STR(row(t, 4), "short");
	CHECK_STR(row(t, 5), "xy");
	AT(t, 2, 5);
	tw(t, "zw");				/* the text goes on where it was */
	CHECK_STR(row(t, 5), "xyzw");
	resize(t, 10, 6);
	CHECK_STR(row(t, 0), "0123456789");
	CHECK_STR(row(t, 1), "abcdefghij");
	CHECK_STR(row(t, 3), "xyzw");
	AT(t, 4, 3);
	term_free(t);
}

/* Narrower and shorter: rows go into the scrollback and come back. */
TEST(grid_reflow_keeps_the_scrollback)
{
	struct term *t = term_new(8, 4);

	tw(t, "aaaaaaaaAA\nbb\ncc\ndd");	/* aaaaaaaa AA bb cc dd */
	CHECK_EQ_INT(t->g.hist, 1);
	resize(t, 4, 3);			/* aaaa aaaa AA bb cc dd */
	CHECK_STR(row(t, 0), "bb");
	CHECK_STR(row(t, 2), "dd");
	CHECK_EQ_INT(t->g.hist, 3);
	CHECK_STR(row_h(t, 0), "aaaa");
	resize(t, 10, 8);
	CHECK_STR(row(t, 0), "aaaaaaaaAA");
	CHECK_STR(row(t, 1), "bb");
	CHECK_STR(row(t, 3), "dd");
	CHECK_EQ_INT(t->g.hist, 0);
	AT(t, 2, 3);
	term_free(t);
}

/* The cursor in the middle of its line, after blanks, or with a wrap
 * pending keeps its place in the text. */
TEST(grid_reflow_keeps_the_cursor_in_its_text)
{
	struct term *t = term_new(12, 4);

	tw(t, "patchbay> ");			/* the trailing blank counts */
	resize(t, 4, 4);
	CHECK_STR(row(t, 2), ">");
	AT(t, 2, 2);
	tw(t, "x");
	resize(t, 20, 4);
	CHECK_STR(row(t, 0), "patchbay> x");
	AT(t, 11, 0);

	tw(t, "\r\n0123456789012345678\033[5D");	/* back over text */
	AT(t, 14, 1);
	resize(t, 8, 4);	/* patchbay / > x / 01234567 / 89012345 / 678 */
	CHECK_STR(row(t, 0), "> x");
	CHECK_STR(row(t, 1), "01234567");
	AT(t, 6, 2);				/* on the '4' of 14 */
	CHECK_EQ_INT(grid_line(&t->g, 2)[6].ch, '4');
	CHECK_EQ_INT(t->g.hist, 1);
	term_free(t);

	t = term_new(8, 4);
	tw(t, "abcdefgh");			/* exactly full: wrap pending */
	CHECK_EQ_INT(t->g.wrap, 1);
	resize(t, 4, 4);
	CHECK_STR(row(t, 1), "efgh");
	AT(t, 3, 1);
	CHECK_EQ_INT(t->g.wrap, 1);
	tw(t, "Z");
	CHECK_STR(row(t, 2), "Z");
	resize(t, 3, 4);			/* abc def gh Z: no wrap now */
	CHECK_STR(row(t, 2), "ghZ");
	CHECK_EQ_INT(t->g.wrap, 1);
	term_free(t);
}

/* A line a line feed ended is never joined to the next one, full or not. */
TEST(grid_reflow_joins_only_soft_wraps)
{
	struct term *t = term_new(4, 4);

	tw(t, "abcd\r\nefgh\r\nij");		/* full lines, hard ends */
	resize(t, 8, 4);
	CHECK_STR(row(t, 0), "abcd");
	CHECK_STR(row(t, 1), "efgh");
	CHECK_STR(row(t, 2), "ij");
	term_free(t);

	t = term_new(4, 4);
	tw(t, "abcdefgh\r\nij");		/* soft: one line of 8 */
	resize(t, 8, 4);
	CHECK_STR(row(t, 0), "abcdefgh");
	CHECK_STR(row(t, 1), "ij");
	resize(t, 4, 4);
	tw(t, "\033[1;1H\033[2K");		/* its first row erased: */
	resize(t, 8, 4);			/* the rest stands alone */
	CHECK_STR(row(t, 0), "");
	CHECK_STR(row(t, 1), "efgh");
	CHECK_STR(row(t, 2), "ij");
	term_free(t);
}

/* --- console state -------------------------------------------------------- */

static int
same_cells(const struct grid *a, const struct grid *b)
{
	if (a->cols != b->cols || a->hist + a->rows != b->hist + b->rows)
		return 0;
	for (uint32_t i = 0; i < a->hist + a->rows; i++)
		if (memcmp(grid_hline(a, i), grid_hline(b, i),
		    a->cols * sizeof(struct cell)) != 0)
			return 0;
	return 1;
}

TEST(state_round_trip)
{
	struct term *a = term_new(COLS, ROWS), *b = term_new(COLS, ROWS);
	char *blob = malloc(2 * STATE_MAX);
	size_t len;

	tw(a, "one\n\033[1;33mtwo\033[0m\nthree \033[44m  \033[0m\n"
	    "\033[7mfour\033[0m\xc3\xa9\xe2\x86\x92\xf0\x9f\x98\x80\xff\n"
	    "five\nsix\033[2A\033[3G\033[32m");
	len = state_export(a, blob);
	CHECK(len > sizeof(struct console_state));
	CHECK_EQ_INT(state_import(b, blob, len, CONSOLE_STATE_VERSION), PB_OK);
	CHECK(same_cells(&a->g, &b->g));
	AT(b, a->g.cx, a->g.cy);
	CHECK_EQ_INT(b->g.pen.fg, 2);
	/* and what b exports is what a exported */
	CHECK_EQ_INT(state_export(b, blob + len), len);
	CHECK(memcmp(blob, blob + len, len) == 0);
	free(blob);
	term_free(a);
	term_free(b);
}

TEST(state_wrap_pending_and_blank_screen)
{
	struct term *a = term_new(COLS, ROWS), *b = term_new(COLS, ROWS);
	char *blob = malloc(STATE_MAX);
	size_t len;

	tw(a, "0123456789");		/* cursor waits to wrap */
	len = state_export(a, blob);
	CHECK_EQ_INT(state_import(b, blob, len, CONSOLE_STATE_VERSION), PB_OK);
	tw(b, "x");
	CHECK_STR(row(b, 1), "x");
	/* history above a cleared screen: the screen comes back as it was */
	tw(a, "\n1\n2\n3\n4\n5\033[2J\033[Htop");
	len = state_export(a, blob);
	CHECK_EQ_INT(state_import(b, blob, len, CONSOLE_STATE_VERSION), PB_OK);
	CHECK_STR(row(b, 0), "top");
	AT(b, 3, 0);
	free(blob);
	term_free(a);
	term_free(b);
}

/* A raw stream, as a console that keeps what it was given exports it. */
TEST(state_import_raw_text)
{
	struct term *t = term_new(COLS, ROWS);
	struct {
		struct console_state st;
		char text[32];
	} blob;

	memset(&blob, 0, sizeof(blob));
	blob.st.text_len = (uint32_t)snprintf(blob.text, sizeof(blob.text),
	    "boot\r\n\033[31mred\033[0m ok");
	CHECK_EQ_INT(state_import(t, &blob, sizeof(blob.st) +
	    blob.st.text_len, CONSOLE_STATE_VERSION), PB_OK);
	CHECK_STR(row(t, 0), "boot");
	CHECK_STR(row(t, 1), "red ok");
	CHECK_EQ_INT(grid_line(&t->g, 1)[0].fg, 1);
	AT(t, 6, 1);
	/* no text: cursor and colours from the fields */
	memset(&blob, 0, sizeof(blob));
	blob.st.cols = 80, blob.st.rows = 25;
	blob.st.cur_x = 3, blob.st.cur_y = 2;
	blob.st.fg = 0xffff55, blob.st.bg = 0x0000aa;
	CHECK_EQ_INT(state_import(t, &blob, sizeof(blob.st),
	    CONSOLE_STATE_VERSION), PB_OK);
	AT(t, 3, 2);
	CHECK_EQ_INT(t->g.pen.fg, 11);
	CHECK_EQ_INT(t->g.pen.bg, 4);
	term_free(t);
}

TEST(state_import_refuses_bad_blobs)
{
	struct term *t = term_new(COLS, ROWS);
	struct console_state st;

	tw(t, "kept");
	memset(&st, 0, sizeof(st));
	CHECK_EQ_INT(state_import(t, &st, sizeof(st), 2), PB_ESTATE);
	CHECK_EQ_INT(state_import(t, &st, sizeof(st) - 1,
	    CONSOLE_STATE_VERSION), PB_ESTATE);
	st.text_len = 1;
	CHECK_EQ_INT(state_import(t, &st, sizeof(st), CONSOLE_STATE_VERSION),
	    PB_ESTATE);
	st.text_len = 0;
	st.nkeys = CONSOLE_STATE_KEYS + 1;
	CHECK_EQ_INT(state_import(t, &st, sizeof(st), CONSOLE_STATE_VERSION),
	    PB_ESTATE);
	CHECK_STR(row(t, 0), "kept");	/* nothing changed */
	term_free(t);
}

TEST(state_export_is_bounded)
{
	struct term *t = term_new(200, 30);
	char *blob = malloc(STATE_MAX);
	char line[256];
	struct console_state st;
	size_t len;

	for (int i = 0; i < 1200; i++) {
		snprintf(line, sizeof(line), "\033[3%dm%04d %0190d\n", i % 8, i,
		    0);
		tw(t, line);
	}
	len = state_export(t, blob);
	memcpy(&st, blob, sizeof(st));
	CHECK(len <= STATE_MAX);
	CHECK(st.text_len <= CONSOLE_STATE_TEXT_MAX);
	CHECK_EQ_INT(len, sizeof(st) + st.text_len);
	/* the newest lines are the ones kept */
	blob[len - 1] = '\0';
	CHECK_CONTAINS(blob + sizeof(st), "1199 ");
	CHECK(strstr(blob + sizeof(st), "0100 ") == NULL);
	free(blob);
	term_free(t);
}
