/*
 * reflow.c - the grid moves into one of another size (grid_resize).
 *
 * The text is taken as logical lines: a line the line feed started and
 * the lines that continue it (soft wraps), with the blanks at its end
 * dropped.  Each is wrapped again at the new width, so a long line that
 * filled two rows of 80 takes one of 160 and four of 40; nothing is cut
 * off at the right.  The cursor keeps its place in its logical line.
 *
 * The new screen ends at the cursor's row or the last row with text below
 * it, whichever is lower: when the screen grows, lines come back down
 * from the scrollback; when it shrinks, as few as needed go up into it.
 * What no longer fits the scrollback goes, oldest first; rows below the
 * screen go when the cursor would otherwise leave it.
 */
#include "grid.h"
#include "../../abi/rt/rt.h"

/* Where the cursor is in the source's text. */
struct spot {
	uint32_t line;		/* the source line (of hist + rows) */
	uint32_t next;		/* offset in its logical line of the next
				   character, pending wrap included */
};

/* A blank that carries nothing: the end of a line may drop it. */
static int
empty(struct cell c)
{
	return c.ch == ' ' && c.bg == GRID_BG && !(c.attr & CELL_REVERSE);
}

/* The end of source line i: the logical line that begins there. */
static uint32_t
logical_end(const struct grid *g, uint32_t i, uint32_t n)
{
	while (++i < n && *grid_hcont(g, i))
		;
	return i;
}

/* Cells of the logical line [i, j) up to its last one that shows. */
static uint32_t
logical_len(const struct grid *g, uint32_t i, uint32_t j)
{
	for (uint32_t k = j; k-- > i; ) {
		const struct cell *c = grid_hline(g, k);

		for (uint32_t x = g->cols; x-- > 0; )
			if (!empty(c[x]))
				return (k - i) * g->cols + x + 1;
	}
	return 0;
}

/*
 * The row and column (within a logical line of len cells) of offset
 * `next` at width cols, and whether a wrap is pending there: as after
 * writing the character before it, when that one ends a row and the text.
 */
static void
place(uint32_t next, int wrap, uint32_t len, uint32_t cols, uint32_t *row,
    uint32_t *col, uint8_t *pending)
{
	*pending = 0;
	if (next && (wrap || (next % cols == 0 && next >= len))) {
		/* the last character written, and the wrap after it */
		*row = (next - 1) / cols;
		*col = (next - 1) % cols;
		if (*col + 1 < cols)
			(*col)++;
		else
			*pending = 1;
		return;
	}
	*row = next / cols;
	*col = next % cols;
}

/* Rows the logical line [i, j) takes at width cols. */
static uint32_t
rows_for(const struct grid *g, uint32_t i, uint32_t j, uint32_t cols,
    const struct spot *at)
{
	uint32_t len = logical_len(g, i, j), need = (len + cols - 1) / cols;
	uint32_t row, col;
	uint8_t pending;

	if (at->line >= i && at->line < j) {
		place(at->next, g->wrap, len, cols, &row, &col, &pending);
		if (row + 1 > need)
			need = row + 1;
	}
	return need ? need : 1;
}

/* Copy cells [from, from + n) of the logical line starting at source
 * line i to d. */
static void
copy_cells(const struct grid *g, uint32_t i, uint32_t from, uint32_t n,
    struct cell *d)
{
	while (n) {
		const struct cell *s = grid_hline(g, i + from / g->cols);
		uint32_t x = from % g->cols, k = g->cols - x;

		if (k > n)
			k = n;
		memcpy(d, s + x, k * sizeof(struct cell));
		d += k, from += k, n -= k;
	}
}

/* The rows kept: [first, end) of the new lines, the screen from top. */
struct window {
	uint32_t first, top, end;
};

static struct window
choose(uint32_t cursor, uint32_t last_text, uint32_t rows)
{
	struct window w;

	w.end = (cursor > last_text ? cursor : last_text) + 1;
	w.top = w.end > rows ? w.end - rows : 0;
	if (w.top > cursor) {		/* text below: the cursor stays */
		w.top = cursor;
		w.end = cursor + rows;
	}
	w.first = w.top > GRID_HISTORY ? w.top - GRID_HISTORY : 0;
	return w;
}

void
grid_resize(struct grid *dst, void *mem, uint32_t cols, uint32_t rows,
    const struct grid *src)
{
	uint32_t n = src->hist + src->rows, i, j, out = 0, len, k;
	uint32_t cursor = 0, cursor_col = 0, last_text = 0, row, col;
	struct spot at = { src->hist + src->cy, src->cx + src->wrap };
	struct window w;
	uint8_t pending = 0;

	/* The cursor's offset counts the rows of its line above it. */
	for (i = at.line; i > 0 && *grid_hcont(src, i); i--)
		at.next += src->cols;

	/* Pass 1: where every logical line lands, and the cursor. */
	for (i = 0; i < n; i = j) {
		j = logical_end(src, i, n);
		k = rows_for(src, i, j, cols, &at);
		if (logical_len(src, i, j))
			last_text = out + k - 1;
		if (at.line >= i && at.line < j) {
			place(at.next, src->wrap, logical_len(src, i, j), cols,
			    &row, &col, &pending);
			cursor = out + row;
			cursor_col = col;
		}
		out += k;
	}
	w = choose(cursor, last_text, rows);

	/* Pass 2: the rows kept, into the new ring from its start. */
	grid_init(dst, mem, cols, rows);
	out = 0;
	for (i = 0; i < n && out < w.end; i = j) {
		j = logical_end(src, i, n);
		k = rows_for(src, i, j, cols, &at);
		len = logical_len(src, i, j);
		for (uint32_t r = 0; r < k; r++, out++) {
			uint32_t from = r * cols;

			if (out < w.first || out >= w.end)
				continue;
			if (from < len)
				copy_cells(src, i, from, len - from < cols ?
				    len - from : cols, dst->ring +
				    (size_t)(out - w.first) * cols);
			dst->cont[out - w.first] = r > 0;
		}
	}
	dst->hist = dst->top = w.top - w.first;
	dst->cy = cursor - w.top;
	dst->cx = cursor_col;
	dst->wrap = pending;
	dst->pen = src->pen;
	dst->scrolled = rows;		/* everything moved */
}
