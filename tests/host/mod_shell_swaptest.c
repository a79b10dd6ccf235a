/*
 * mod_shell_swaptest.c - swaptest's loss check (mods/shell/cmd_display.c)
 * on the host: screens of coded lines are drawn by a fake display, as
 * fbcon would draw them, and read back by check_screen, which must find
 * every line that is missing, out of order or damaged, each once, and
 * must not take a line still being printed, a text row or another run's
 * line for one of its own.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../mods/shell/cmd_display.c"

/* What cmd_display.c uses of the rest of the shell. */
const struct pb_hub *shell_hub;
struct pb_module *shell_self;
void out_write(const char *s, size_t len) { (void)s; (void)len; }
void say(const char *fmt, ...) { (void)fmt; }
int fail(const char *fmt, ...) { (void)fmt; return PB_EINVAL; }
void session_hold(void) { }
void session_release(void) { }

#define COLS 40
#define ROWS 12
#define CW 8
#define CH 16

/* What each screen row shows. */
enum { TEXT, LINE, PARTIAL, DAMAGED, FOREIGN };
struct shown {
	int kind;
	uint32_t seq;		/* LINE, PARTIAL, DAMAGED, FOREIGN */
	unsigned upto;		/* PARTIAL: cells written */
};
static struct shown screen[ROWS];

static const uint32_t palette16[16] = {
	0x000000, 0xaa0000, 0x00aa00, 0xaa5500, 0x0000aa, 0xaa00aa, 0x00aaaa,
	0xaaaaaa, 0x555555, 0xff5555, 0x55ff55, 0xffff55, 0x5555ff, 0xff55ff,
	0x55ffff, 0xffffff,
};

/* The colour of cell k of row y, as fbcon would draw it. */
static uint32_t
colour(uint32_t y, uint32_t k)
{
	uint8_t cell[ST_CELLS];
	uint32_t run = st.run;

	switch (screen[y].kind) {
	case TEXT:		/* glyphs: the middle line of letters, say */
		return k % 3 ? palette16[7] : palette16[0];
	case FOREIGN:
		st.run = run % 15 + 1;
		line_cells(screen[y].seq, cell);
		st.run = run;
		return k < ST_CELLS ? palette16[cell[k]] : palette16[7];
	default:
		line_cells(screen[y].seq, cell);
		if (screen[y].kind == DAMAGED && k == ST_CAL + 3)
			cell[k] ^= 5;
		if (screen[y].kind == PARTIAL && k >= screen[y].upto)
			/* not written yet; the cursor is reversed */
			return k == screen[y].upto ? palette16[7] : palette16[0];
		return k < ST_CELLS ? palette16[cell[k]] : palette16[7];
	}
}

static int
fd_get_mode(void *ctx, struct display_mode *m)
{
	*m = (struct display_mode){ COLS * CW, ROWS * CH, 32, 0 };
	return PB_OK;
}

static int
fd_read(void *ctx, uint32_t *px, uint32_t pitch, uint32_t x, uint32_t y,
    uint32_t w, uint32_t h)
{
	for (uint32_t j = 0; j < h; j++)
		for (uint32_t i = 0; i < w; i++)
			px[j * pitch + i] = colour((y + j) / CH, (x + i) / CW);
	return PB_OK;
}

static const struct display_ops fake_display = {
	.get_mode = fd_get_mode, .read = fd_read,
};

static int
fc_size(void *ctx, uint32_t *cols, uint32_t *rows)
{
	*cols = COLS, *rows = ROWS;
	return PB_OK;
}

static const struct console_ops fake_console = { .size = fc_size };
static struct pb_conn disp_conn = { .ops = &fake_display };
static struct pb_conn con_conn = { .ops = &fake_console };
static uint32_t row_buf[ST_ROW_MAX];

static void
fresh(void)
{
	memset(&st, 0, sizeof(st));
	memset(screen, 0, sizeof(screen));
	st.run = 6;
	st.disp = &disp_conn;
	st.con = &con_conn;
	st.row = row_buf;
	st.running = 1;
}

/* Rows from `first`: lines first..first+n-1 (TEXT above). */
static void
lines(unsigned row0, uint32_t first, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		screen[row0 + i] = (struct shown){ LINE, first + i, 0 };
}

TEST(swaptest_check_counts_nothing_when_all_is_there)
{
	fresh();
	lines(2, 1, 5);
	screen[7] = (struct shown){ PARTIAL, 6, 9 };	/* being printed */
	st.seq = 6, st.coded = 5;
	CHECK_EQ_INT(check_screen(), PB_OK);
	CHECK_EQ_INT(st.lost_lines, 0);
	CHECK_EQ_INT(st.damaged, 0);
	CHECK_EQ_INT(st.verified, 5);
	/* The partial line has all its digits but not its check cells: not
	 * taken, even with the cursor on the last one. */
	screen[7].upto = ST_CELLS - 1;
	CHECK_EQ_INT(check_screen(), PB_OK);
	CHECK_EQ_INT(st.lost_lines, 0);
	CHECK_EQ_INT(st.checks, 2);
}

TEST(swaptest_check_finds_gaps_and_missing_ends)
{
	fresh();
	lines(0, 1, 5);
	st.seq = st.coded = 5;
	CHECK_EQ_INT(check_screen(), PB_OK);
	/* 6..9 printed; 7 never reached the screen, and 9 is not drawn. */
	lines(0, 3, 4);				/* 3 4 5 6 */
	lines(4, 8, 1);				/* 8 */
	st.seq = st.coded = 9;
	CHECK_EQ_INT(check_screen(), PB_OK);
	CHECK_EQ_INT(st.lost_lines, 2);
	CHECK_EQ_INT(st.lost_chars, 2 * line_chars());
	/* The same screen again: those two are not counted twice. */
	CHECK_EQ_INT(check_screen(), PB_OK);
	CHECK_EQ_INT(st.lost_lines, 2);
	/* Lines that scrolled away unseen: 10 and 11 before 12. */
	memset(screen, 0, sizeof(screen));
	lines(0, 12, 2);
	st.seq = st.coded = 13;
	CHECK_EQ_INT(check_screen(), PB_OK);
	CHECK_EQ_INT(st.lost_lines, 4);
}

TEST(swaptest_check_finds_damage_and_order)
{
	fresh();
	lines(0, 1, 3);
	screen[3] = (struct shown){ DAMAGED, 4, 0 };
	lines(4, 5, 2);
	st.seq = st.coded = 6;
	CHECK_EQ_INT(check_screen(), PB_OK);
	CHECK_EQ_INT(st.lost_lines, 1);		/* 4 */
	CHECK_EQ_INT(st.damaged, 1);

	fresh();
	lines(0, 1, 2);
	lines(2, 4, 1);				/* out of order: 1 2 4 3 5 */
	lines(3, 3, 1);
	lines(4, 5, 1);
	st.seq = st.coded = 5;
	CHECK_EQ_INT(check_screen(), PB_OK);
	CHECK(st.damaged >= 1);

	/* A text row between two lines is damage too; above them it is not. */
	fresh();
	lines(1, 1, 2);
	lines(4, 3, 1);
	st.seq = st.coded = 3;
	CHECK_EQ_INT(check_screen(), PB_OK);
	CHECK_EQ_INT(st.lost_lines, 0);
	CHECK_EQ_INT(st.damaged, 1);
}

TEST(swaptest_check_ignores_other_runs)
{
	fresh();
	screen[0] = (struct shown){ FOREIGN, 40, 0 };
	screen[1] = (struct shown){ FOREIGN, 41, 0 };
	lines(2, 1, 2);
	st.seq = st.coded = 2;
	CHECK_EQ_INT(check_screen(), PB_OK);
	CHECK_EQ_INT(st.lost_lines, 0);
	CHECK_EQ_INT(st.damaged, 0);
	CHECK_EQ_INT(st.verified, 2);
}

TEST(swaptest_lines_decode_to_their_number)
{
	uint32_t px[ST_CELLS * CW];
	uint8_t cell[ST_CELLS];

	fresh();
	for (uint32_t seq = 1; seq < 0x1000000; seq = seq * 7 + 3) {
		line_cells(seq, cell);
		for (uint32_t k = 0; k < ST_CELLS * CW; k++)
			px[k] = palette16[cell[k / CW]];
		CHECK_MSG(decode_row(px, CW) == seq, "line %u", seq);
	}
	line_make(123);
	CHECK(strstr(st.line, " swaptest line 000123\n") != NULL);
	CHECK(st.coded_end < st.len);
}
