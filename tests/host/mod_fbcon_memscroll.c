/*
 * mod_fbcon_memscroll.c - fbcon scrolls without reading the display: the
 * display drivers keep no RAM copy of the screen (reading write-combining
 * video memory is slow on real hardware), so a scroll redraws the rows
 * that differ from what the renderer drew, from the cells, and never asks
 * the display for a copy or a read.  After any number of lines scrolled,
 * one frame at a time or many at once, the screen is pixel for pixel what
 * a fresh full redraw of the grid gives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../abi/display.h"
#include "../../abi/rt/font.c"
#include "font_console.c"		/* build/gen: tools/mkfont's */
#include "../../mods/fbcon/grid.c"
#include "../../mods/fbcon/palette.c"
#include "../../mods/fbcon/render.c"

/* The screen is COLS x ROWS cells of the console font, whatever its
 * cell size (FONT_PSF); CELL_MAX bounds the cell for the array. */
enum { COLS = 12, ROWS = 5, CELL_MAX = 32 };
#define W (COLS * (uint32_t)font_console.w)
#define H (ROWS * (uint32_t)font_console.h)

/* A display in RAM that counts the calls it must never get. */
struct screen {
	uint32_t px[COLS * CELL_MAX * ROWS * CELL_MAX];
	unsigned copies, reads, fills, blits;
};

static int
scr_fill(void *ctx, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
    uint32_t rgb)
{
	struct screen *s = ctx;

	s->fills++;
	for (uint32_t j = y; j < y + h; j++)
		for (uint32_t i = x; i < x + w; i++)
			s->px[j * W + i] = rgb;
	return PB_OK;
}

static int
scr_blit(void *ctx, const uint32_t *px, uint32_t pitch, uint32_t x,
    uint32_t y, uint32_t w, uint32_t h)
{
	struct screen *s = ctx;

	s->blits++;
	for (uint32_t j = 0; j < h; j++)
		memcpy(&s->px[(y + j) * W + x], px + (size_t)j * pitch, w * 4);
	return PB_OK;
}

static int
scr_copy(void *ctx, uint32_t sx, uint32_t sy, uint32_t dx, uint32_t dy,
    uint32_t w, uint32_t h)
{
	((struct screen *)ctx)->copies++;
	return PB_ENOTSUP;
}

static int
scr_read(void *ctx, uint32_t *px, uint32_t pitch, uint32_t x, uint32_t y,
    uint32_t w, uint32_t h)
{
	((struct screen *)ctx)->reads++;
	return PB_ENOTSUP;
}

static const struct display_ops scr_ops = {
	.fill = scr_fill, .blit = scr_blit, .copy = scr_copy, .read = scr_read,
};

struct view {
	struct screen s;
	struct render r;
	struct pb_conn c;
	void *mem;
};

static void
view_init(struct view *v)
{
	if (font_console.w > CELL_MAX || font_console.h > CELL_MAX) {
		printf("FAIL host/fbcon_memscroll: a %ux%u font cell is larger "
		    "than CELL_MAX\n", font_console.w, font_console.h);
		exit(1);
	}
	memset(&v->s, 0, sizeof(v->s));
	v->mem = calloc(1, render_bytes(W, H, 1));
	render_setup(&v->r, v->mem, W, H, 1);
	v->c = (struct pb_conn){ .ops = &scr_ops, .ctx = &v->s };
}

/* The grid drawn from nothing: what the screen must show. */
static int
matches_fresh_redraw(struct grid *g, struct view *live)
{
	struct view ref;
	int same;

	view_init(&ref);
	render_frame(&ref.r, &ref.c, g, 1);
	same = memcmp(ref.s.px, live->s.px, sizeof(ref.s.px)) == 0;
	free(ref.mem);
	return same;
}

static void
line(struct grid *g, unsigned i)
{
	char text[32];
	int n = snprintf(text, sizeof(text), "%u line%s", i,
	    i % 3 ? " text" : "");

	grid_text(g, text, (size_t)n);
	grid_linefeed(g);
	g->cx = 0;
}

TEST(fbcon_memscroll_redraws_instead_of_copying)
{
	struct grid g;
	struct view v;
	void *gmem = calloc(1, grid_bytes(COLS, ROWS));
	unsigned n = 0;

	render_init_tables();
	grid_init(&g, gmem, COLS, ROWS);
	view_init(&v);
	REQUIRE(render_frame(&v.r, &v.c, &g, 1) == PB_OK);
	/* One line per frame: each frame scrolls by one. */
	for (; n < 12; n++) {
		line(&g, n);
		REQUIRE(render_frame(&v.r, &v.c, &g, 1) == PB_OK);
		CHECK_MSG(matches_fresh_redraw(&g, &v), "after line %u", n);
	}
	/* Several lines between two frames, fewer than the screen holds. */
	for (unsigned k = 2; k < ROWS; k++) {
		for (unsigned i = 0; i < k; i++)
			line(&g, n++);
		REQUIRE(render_frame(&v.r, &v.c, &g, 1) == PB_OK);
		CHECK_MSG(matches_fresh_redraw(&g, &v), "after %u lines", k);
	}
	/* More than a screenful at once. */
	for (unsigned i = 0; i < 3 * ROWS; i++)
		line(&g, n++);
	REQUIRE(render_frame(&v.r, &v.c, &g, 1) == PB_OK);
	CHECK(matches_fresh_redraw(&g, &v));
	CHECK_EQ_INT(v.s.copies, 0);
	CHECK_EQ_INT(v.s.reads, 0);
	CHECK(v.s.blits > 0);
	free(v.mem);
	free(gmem);
}

/* A call into the display costs two protection-domain switches (a TLB
 * flush each under QEMU's TCG): a changed row is drawn with one call, a
 * text span and its blank tail in one blit, and the picture stays what a
 * fresh redraw gives. */
TEST(fbcon_memscroll_one_display_call_per_changed_row)
{
	struct grid g;
	struct view v;
	void *gmem = calloc(1, grid_bytes(COLS, ROWS));

	render_init_tables();
	grid_init(&g, gmem, COLS, ROWS);
	view_init(&v);
	REQUIRE(render_frame(&v.r, &v.c, &g, 1) == PB_OK);
	for (unsigned n = 0; n < 3 * ROWS; n++) {
		unsigned calls = v.s.fills + v.s.blits;

		line(&g, n);
		REQUIRE(render_frame(&v.r, &v.c, &g, 1) == PB_OK);
		calls = v.s.fills + v.s.blits - calls;
		CHECK_MSG(calls >= 1 && calls <= ROWS, "line %u: %u calls for "
		    "%u rows", n, calls, ROWS);
		CHECK_MSG(matches_fresh_redraw(&g, &v), "after line %u", n);
	}
	free(v.mem);
	free(gmem);
}
