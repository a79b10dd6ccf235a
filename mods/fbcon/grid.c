/*
 * grid.c - the text grid and its scrollback ring (see grid.h).
 *
 * Scrolling moves `top` one line along the ring and blanks the line that
 * comes into view: O(cols), whatever the size of the scrollback.  The line
 * that scrolls off the top stays in the ring as history until the ring
 * comes round to it again.
 */
#include "grid.h"
#include "../../abi/rt/rt.h"

size_t
grid_bytes(uint32_t cols, uint32_t rows)
{
	return ((size_t)cols * sizeof(struct cell) + 1) * (rows + GRID_HISTORY);
}

static uint32_t
hindex(const struct grid *g, uint32_t i)
{
	return (g->top + g->nlines - g->hist + i) % g->nlines;
}

struct cell *
grid_hline(const struct grid *g, uint32_t i)
{
	return g->ring + (size_t)hindex(g, i) * g->cols;
}

uint8_t *
grid_hcont(const struct grid *g, uint32_t i)
{
	return g->cont + hindex(g, i);
}

struct cell *
grid_line(const struct grid *g, uint32_t row)
{
	return g->ring + (size_t)((g->top + row) % g->nlines) * g->cols;
}

static uint8_t *
cont_of(const struct grid *g, uint32_t row)
{
	return g->cont + (g->top + row) % g->nlines;
}

struct cell
grid_blank(const struct grid *g)
{
	return (struct cell){ ' ', g->pen.fg, g->pen.bg, 0 };
}

static void
fill(struct cell *c, uint32_t n, struct cell v)
{
	while (n--)
		*c++ = v;
}

void
grid_init(struct grid *g, void *mem, uint32_t cols, uint32_t rows)
{
	memset(g, 0, sizeof(*g));
	g->ring = mem;
	g->cols = cols;
	g->rows = rows;
	g->nlines = rows + GRID_HISTORY;
	g->cont = (uint8_t *)(g->ring + (size_t)g->nlines * cols);
	g->pen = (struct cell){ ' ', GRID_FG, GRID_BG, 0 };
	fill(g->ring, g->nlines * cols, g->pen);
	memset(g->cont, 0, g->nlines);
}

static void
scroll_up(struct grid *g)
{
	g->top = (g->top + 1) % g->nlines;
	if (g->hist < g->nlines - g->rows)
		g->hist++;
	fill(grid_line(g, g->rows - 1), g->cols, grid_blank(g));
	*cont_of(g, g->rows - 1) = 0;
	if (g->scrolled < g->rows)
		g->scrolled++;
}

void
grid_linefeed(struct grid *g)
{
	if (g->cy + 1 < g->rows)
		g->cy++;
	else
		scroll_up(g);
}

/* A pending wrap happens now: to the start of the next line. */
static void
wrap(struct grid *g)
{
	g->wrap = 0;
	g->cx = 0;
	grid_linefeed(g);
	*cont_of(g, g->cy) = 1;
}

void
grid_put(struct grid *g, uint32_t cp)
{
	struct cell *c;

	if (g->wrap)
		wrap(g);
	c = grid_line(g, g->cy) + g->cx;
	*c = g->pen;
	c->ch = cp;
	if (g->cx + 1 < g->cols)
		g->cx++;
	else
		g->wrap = 1;
}

/* A run of printable ASCII: whole spans of a line at a time. */
void
grid_text(struct grid *g, const char *s, size_t n)
{
	while (n) {
		struct cell *c, pen = g->pen;
		uint32_t room;

		if (g->wrap)
			wrap(g);
		room = g->cols - g->cx;
		if (room > n)
			room = (uint32_t)n;
		c = grid_line(g, g->cy) + g->cx;
		for (uint32_t i = 0; i < room; i++) {
			pen.ch = (uint8_t)s[i];	/* ASCII: its code point */
			c[i] = pen;
		}
		s += room;
		n -= room;
		g->cx += room;
		if (g->cx == g->cols) {
			g->cx = g->cols - 1;
			g->wrap = 1;
		}
	}
}

void
grid_goto(struct grid *g, long x, long y)
{
	g->cx = x < 0 ? 0 : x >= (long)g->cols ? g->cols - 1 : (uint32_t)x;
	g->cy = y < 0 ? 0 : y >= (long)g->rows ? g->rows - 1 : (uint32_t)y;
	g->wrap = 0;
}

/* Blank cells [x0, x1) of screen row `row` (clamped). */
void
grid_erase(struct grid *g, uint32_t row, uint32_t x0, uint32_t x1)
{
	if (row >= g->rows)
		return;
	if (x1 > g->cols)
		x1 = g->cols;
	if (x0 < x1)
		fill(grid_line(g, row) + x0, x1 - x0, grid_blank(g));
	/* A line erased to its end no longer runs on into the next; one
	 * erased whole no longer continues the one above. */
	if (x1 == g->cols && row + 1 < g->rows)
		*cont_of(g, row + 1) = 0;
	if (x0 == 0 && x1 == g->cols)
		*cont_of(g, row) = 0;
}

void
grid_insert(struct grid *g, uint32_t n)
{
	struct cell *line = grid_line(g, g->cy);
	uint32_t room = g->cols - g->cx;

	if (n > room)
		n = room;
	memmove(line + g->cx + n, line + g->cx,
	    (room - n) * sizeof(struct cell));
	fill(line + g->cx, n, grid_blank(g));
	g->wrap = 0;
}

void
grid_delete(struct grid *g, uint32_t n)
{
	struct cell *line = grid_line(g, g->cy);
	uint32_t room = g->cols - g->cx;

	if (n > room)
		n = room;
	memmove(line + g->cx, line + g->cx + n,
	    (room - n) * sizeof(struct cell));
	fill(line + g->cols - n, n, grid_blank(g));
	g->wrap = 0;
}

void
grid_clear_history(struct grid *g)
{
	g->hist = 0;
}

uint32_t
grid_take_scrolled(struct grid *g)
{
	uint32_t n = g->scrolled;

	g->scrolled = 0;
	return n;
}
