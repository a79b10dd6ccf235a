/*
 * render.h - draws the grid on a `display`, touching only what changed.
 *
 * The renderer keeps `drawn`, the cells as the screen shows them now.  A
 * frame compares the grid with it row by row and redraws the span between
 * the first and the last cell that differ: each span is built as pixels
 * in a row buffer and sent with one blit, blank tails with one fill.
 * Scrolling moves nothing on the screen: the rows that now differ from
 * `drawn` are drawn again, from the cells.  So the display is only ever
 * written, never read (no display copy, which reads video memory, slow on
 * real hardware's write-combining framebuffers, and needs no RAM copy of
 * the screen in the display driver).
 * Cells are the console font's size (font_console, abi/rt/font.h) times
 * the scale; a cell's code point picks its glyph, or the box.
 */
#ifndef FBCON_RENDER_H
#define FBCON_RENDER_H

#include "../../abi/pb.h"
#include "../../abi/rt/font.h"
#include "grid.h"

#define CELL_CURSOR 0x04	/* in `drawn` only: the cursor is on it */
#define RENDER_MAX_SCALE FONT_MAX_SCALE

struct render {
	uint32_t width, height;	/* the display mode, pixels */
	uint32_t scale;		/* font scale, 1-RENDER_MAX_SCALE */
	uint32_t cw, ch;	/* cell size, pixels */
	uint32_t cols, rows;	/* cells that fit */
	struct cell *drawn;	/* cols * rows */
	struct cell *want;	/* cols: the row being drawn, as it should be */
	uint32_t *buf;		/* a row of cells: cols * cw by ch pixels */
	int valid;		/* drawn describes the screen */
};

/* Precompute the glyph row masks; once, before any drawing. */
void render_init_tables(void);
/* The grid size for a mode at a scale (0 x 0 if nothing fits). */
void render_fit(uint32_t width, uint32_t height, uint32_t scale,
    uint32_t *cols, uint32_t *rows);
/* Bytes of memory render_setup needs. */
size_t render_bytes(uint32_t width, uint32_t height, uint32_t scale);
void render_setup(struct render *r, void *mem, uint32_t width,
    uint32_t height, uint32_t scale);
/* Bring the screen up to date with the grid.  On a display error the
 * next frame redraws everything. */
int render_frame(struct render *r, struct pb_conn *disp, struct grid *g,
    int cursor_on);

#endif
