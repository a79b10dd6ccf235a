/*
 * grid.h - the console's text: a ring of lines of character cells, the
 * screen being the last `rows` of them and the scrollback the lines
 * before (at least GRID_HISTORY).  The cursor, the pen (the colours new
 * text gets) and the count of lines scrolled since the renderer last
 * looked live here too.
 *
 * Each line also records whether it continues the one above it: text
 * that ran past the last column wrapped there (a soft wrap), rather than
 * a line feed starting it.  A resize (reflow.c) joins such lines and
 * wraps them again at the new width.
 *
 * Pure C over memory its caller provides: no hub calls, so the host tests
 * can drive it (tests/host/mod_fbcon_ansi.c).  Every function keeps the
 * invariants cx < cols, cy < rows and hist <= nlines - rows.
 */
#ifndef FBCON_GRID_H
#define FBCON_GRID_H

#include <stddef.h>
#include <stdint.h>

/* One character cell: a whole code point (the renderer finds its glyph,
 * or the box), in the same word as its colours. */
struct cell {
	uint32_t ch : 21;	/* a Unicode code point; U+FFFD for bad UTF-8 */
	uint32_t fg : 4, bg : 4;	/* palette indices, 0-15 */
	uint32_t attr : 3;	/* CELL_BOLD | CELL_REVERSE */
};
_Static_assert(sizeof(struct cell) == 4, "struct cell is one word");

#define CELL_BOLD 0x01
#define CELL_REVERSE 0x02

#define GRID_FG 7		/* default colours: light grey on black */
#define GRID_BG 0
#define GRID_HISTORY 200	/* lines kept beyond the screen: what a taller
				   mode brings back (a 4K screen has 135 rows
				   to our 48) and a swap hands over */
#define GRID_MAX_COLS 1024	/* bounds for any mode we can draw */
#define GRID_MAX_ROWS 512

struct grid {
	struct cell *ring;	/* nlines lines of cols cells */
	uint8_t *cont;		/* nlines flags, by ring line: a soft wrap */
	uint32_t nlines;	/* rows + GRID_HISTORY */
	uint32_t cols, rows;
	uint32_t top;		/* ring index of screen row 0 */
	uint32_t hist;		/* lines kept above the screen */
	uint32_t cx, cy;	/* the cursor */
	uint8_t wrap;		/* cursor in the last column after a character:
				   the next one goes to a new line first */
	struct cell pen;	/* colours and attributes of new text */
	uint32_t scrolled;	/* lines scrolled since grid_take_scrolled */
};

/* Bytes of memory a grid of cols x rows needs. */
size_t grid_bytes(uint32_t cols, uint32_t rows);
void grid_init(struct grid *g, void *mem, uint32_t cols, uint32_t rows);
/* Move src's text into dst (a fresh size), wrapped again at the new
 * width, keeping the cursor where it is in its text (reflow.c). */
void grid_resize(struct grid *dst, void *mem, uint32_t cols, uint32_t rows,
    const struct grid *src);

/* Screen row `row`; or line i of the hist + rows lines, oldest first. */
struct cell *grid_line(const struct grid *g, uint32_t row);
struct cell *grid_hline(const struct grid *g, uint32_t i);
/* Does line i (of hist + rows) continue line i - 1 (a soft wrap)? */
uint8_t *grid_hcont(const struct grid *g, uint32_t i);
struct cell grid_blank(const struct grid *g);	/* an erased cell */

void grid_text(struct grid *g, const char *s, size_t n);	/* ASCII */
void grid_put(struct grid *g, uint32_t cp);
void grid_linefeed(struct grid *g);	/* down a line, scrolling at the end */
void grid_goto(struct grid *g, long x, long y);	/* clamped */
void grid_erase(struct grid *g, uint32_t row, uint32_t x0, uint32_t x1);
void grid_insert(struct grid *g, uint32_t n);	/* blanks at the cursor */
void grid_delete(struct grid *g, uint32_t n);	/* cells at the cursor */
void grid_clear_history(struct grid *g);
uint32_t grid_take_scrolled(struct grid *g);

#endif
