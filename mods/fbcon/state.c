/*
 * state.c - console state to and from text (see state.h).
 */
#include "state.h"
#include "palette.h"
#include "../../abi/pb.h"
#include "../../abi/rt/rt.h"

#define TAIL_MAX 64	/* the cursor and pen sequences at the end */

/* An output that also just counts (p NULL). */
struct out {
	char *p;
	size_t n;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (o->p)
		memcpy(o->p + o->n, s, n);
	o->n += n;
}

static void
putf(struct out *o, const char *fmt, uint32_t v)
{
	char tmp[16];

	put(o, tmp, (size_t)rt_snprintf(tmp, sizeof(tmp), fmt, (unsigned)v));
}

static int
plain(struct cell c)
{
	return c.fg == GRID_FG && c.bg == GRID_BG && c.attr == 0;
}

/* The SGR that sets c's colours and attributes from the defaults. */
static void
put_sgr(struct out *o, struct cell c)
{
	put(o, "\033[0", 3);
	if (c.attr & CELL_BOLD)
		put(o, ";1", 2);
	if (c.attr & CELL_REVERSE)
		put(o, ";7", 2);
	if (c.fg != GRID_FG)
		putf(o, ";%u", c.fg < 8 ? 30u + c.fg : 90u + c.fg - 8);
	if (c.bg != GRID_BG)
		putf(o, ";%u", c.bg < 8 ? 40u + c.bg : 100u + c.bg - 8);
	put(o, "m", 1);
}

/* A cell's code point as UTF-8; one that cannot be encoded (a cell
 * holds 21 bits) is written as U+FFFD. */
static void
put_utf8(struct out *o, uint32_t cp)
{
	char b[4];
	size_t n = rt_utf8_encode(cp, b);

	if (n == 0)
		n = rt_utf8_encode(0xfffd, b);
	put(o, b, n);
}

/* Cells up to the last that shows anything. */
static uint32_t
trimmed(const struct cell *line, uint32_t cols)
{
	while (cols && line[cols - 1].ch == ' ' &&
	    line[cols - 1].bg == GRID_BG &&
	    !(line[cols - 1].attr & CELL_REVERSE))
		cols--;
	return cols;
}

static void
line_text(struct out *o, const struct cell *line, uint32_t cols)
{
	struct cell pen = { ' ', GRID_FG, GRID_BG, 0 };
	uint32_t n = trimmed(line, cols);

	for (uint32_t i = 0; i < n; i++) {
		struct cell c = line[i];

		if (c.fg != pen.fg || c.bg != pen.bg || c.attr != pen.attr) {
			put_sgr(o, c);
			pen = c;
		}
		put_utf8(o, c.ch);
	}
	if (!plain(pen))
		put(o, "\033[0m", 4);
}

/*
 * The last line worth sending.  With history above it, the whole screen,
 * so that a replay into a screen of the same height scrolls the history
 * out of sight exactly; otherwise the cursor's line or a lower one with
 * text, so that a smaller screen keeps the top.
 */
static uint32_t
last_line(const struct grid *g)
{
	uint32_t last = g->hist + g->cy;

	if (g->hist)
		return g->hist + g->rows - 1;

	for (uint32_t y = g->rows; y-- > g->cy + 1; )
		if (trimmed(grid_line(g, y), g->cols)) {
			last = g->hist + y;
			break;
		}
	return last;
}

/* The first line from which the text up to `last` fits in `room`. */
static uint32_t
first_line(const struct grid *g, uint32_t last, size_t room)
{
	size_t total = 0;
	uint32_t i = last + 1;

	while (i > 0) {
		struct out o = { NULL, 0 };

		line_text(&o, grid_hline(g, i - 1), g->cols);
		if (total + o.n + 1 > room)
			break;
		total += o.n + 1;
		i--;
	}
	return i;
}

/* Put the cursor back where it is, unless the text left it there. */
static void
cursor_tail(struct out *o, const struct grid *g, uint32_t last)
{
	uint32_t at = g->hist + g->cy;
	uint32_t k = trimmed(grid_hline(g, at), g->cols);
	int there = last == at && ((k < g->cols && k == g->cx && !g->wrap) ||
	    (k == g->cols && g->wrap));

	if (there)
		return;
	if (last > at)
		putf(o, "\033[%uA", last - at);
	put(o, "\r", 1);
	if (g->cx)
		putf(o, "\033[%uC", g->cx);
}

size_t
state_export(const struct term *t, void *out)
{
	const struct grid *g = &t->g;
	struct console_state st = {
		.cols = g->cols, .rows = g->rows,
		.cur_x = g->cx, .cur_y = g->cy,
		.fg = palette[g->pen.fg & 15], .bg = palette[g->pen.bg & 15],
	};
	struct out o = { (char *)out + sizeof(st), 0 };
	uint32_t last = last_line(g);
	uint32_t first = first_line(g, last, CONSOLE_STATE_TEXT_MAX - TAIL_MAX);

	for (uint32_t i = first; i <= last; i++) {
		line_text(&o, grid_hline(g, i), g->cols);
		if (i < last)
			put(&o, "\n", 1);
	}
	cursor_tail(&o, g, last);
	if (!plain(g->pen))
		put_sgr(&o, g->pen);
	st.text_len = (uint32_t)o.n;
	memcpy(out, &st, sizeof(st));
	return sizeof(st) + o.n;
}

int
state_import(struct term *t, const void *buf, size_t len, uint32_t version)
{
	struct console_state st;
	struct grid *g = &t->g;

	if (version != CONSOLE_STATE_VERSION || len < sizeof(st))
		return PB_ESTATE;
	memcpy(&st, buf, sizeof(st));
	if (st.text_len > len - sizeof(st) || st.nkeys > CONSOLE_STATE_KEYS)
		return PB_ESTATE;

	term_reset(t);
	grid_clear_history(g);
	term_write(t, (const char *)buf + sizeof(st), st.text_len);
	if (st.text_len == 0 && st.cols && st.rows) {
		/* Nothing to replay: the position and colours as given. */
		grid_goto(g, st.cur_x, st.cur_y);
		g->pen.fg = palette_nearest(st.fg);
		g->pen.bg = palette_nearest(st.bg);
	}
	return PB_OK;
}
