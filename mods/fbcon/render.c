/*
 * render.c - glyphs to pixels, and frames to display calls (render.h).
 *
 * A glyph row is `pitch` bytes, bit 7 of the first leftmost.  mask2[b][k]
 * holds, for byte b, pixels 2k and 2k+1 as two 32-bit all-ones or
 * all-zeros halves, so at scale 1 each byte of a glyph row becomes 4
 * stores of bg ^ ((fg ^ bg) & mask) with no branch per pixel (fonts whose
 * width is a multiple of 8, as console fonts are).  Larger scales, and
 * other widths, go pixel by pixel and repeat each row.
 */
#include "render.h"
#include "../../abi/rt/font.h"
#include "palette.h"
#include "../../abi/display.h"
#include "../../abi/rt/rt.h"

static uint64_t mask2[256][4];
static const struct font *const font = &font_console;

void
render_init_tables(void)
{
	for (uint32_t b = 0; b < 256; b++)
		for (uint32_t k = 0; k < 4; k++) {
			uint64_t lo = b >> (7 - 2 * k) & 1 ? 0xffffffffull : 0;
			uint64_t hi = b >> (6 - 2 * k) & 1 ? 0xffffffffull : 0;

			mask2[b][k] = lo | hi << 32;	/* little-endian */
		}
}

void
render_fit(uint32_t width, uint32_t height, uint32_t scale, uint32_t *cols,
    uint32_t *rows)
{
	*cols = width / (font->w * scale);
	*rows = height / (font->h * scale);
	if (*cols > GRID_MAX_COLS)
		*cols = GRID_MAX_COLS;
	if (*rows > GRID_MAX_ROWS)
		*rows = GRID_MAX_ROWS;
}

size_t
render_bytes(uint32_t width, uint32_t height, uint32_t scale)
{
	uint32_t cols, rows;

	render_fit(width, height, scale, &cols, &rows);
	return (size_t)cols * (rows + 1) * sizeof(struct cell) + 64 +
	    (size_t)cols * font->w * scale * font->h * scale * sizeof(uint32_t);
}

void
render_setup(struct render *r, void *mem, uint32_t width, uint32_t height,
    uint32_t scale)
{
	memset(r, 0, sizeof(*r));
	r->width = width;
	r->height = height;
	r->scale = scale;
	r->cw = font->w * scale;
	r->ch = font->h * scale;
	render_fit(width, height, scale, &r->cols, &r->rows);
	r->drawn = mem;
	r->want = r->drawn + (size_t)r->cols * r->rows;
	/* The pixels start on a cache line: the glyph stores are 64-bit. */
	r->buf = (uint32_t *)(((uintptr_t)(r->want + r->cols) + 63) &
	    ~(uintptr_t)63);
}

static int
same(struct cell a, struct cell b)
{
	return a.ch == b.ch && a.fg == b.fg && a.bg == b.bg && a.attr == b.attr;
}

/* Foreground and background of a cell as it is drawn. */
static void
colours(struct cell c, uint32_t *fg, uint32_t *bg)
{
	uint32_t f = c.fg & 15, b = c.bg & 15, t;

	if ((c.attr & CELL_BOLD) && f < 8)
		f += 8;			/* bold is the bright colour */
	*fg = palette[f];
	*bg = palette[b];
	if (!(c.attr & CELL_REVERSE) != !(c.attr & CELL_CURSOR)) {
		t = *fg;
		*fg = *bg;
		*bg = t;
	}
}

/* Scale 1, a width of whole bytes: 4 stores per glyph byte. */
static void
glyph_fast(uint32_t *p, size_t pitch, const uint8_t *rows, uint32_t fg,
    uint32_t bg)
{
	uint64_t bg2 = bg | (uint64_t)bg << 32;
	uint64_t x2 = (fg ^ bg) | (uint64_t)(fg ^ bg) << 32;

	for (uint32_t y = 0; y < font->h; y++, p += pitch)
		for (uint32_t b = 0; b < font->pitch; b++) {
			const uint64_t *m = mask2[*rows++];
			uint64_t *q = (uint64_t *)p + 4 * b;

			q[0] = bg2 ^ (x2 & m[0]);
			q[1] = bg2 ^ (x2 & m[1]);
			q[2] = bg2 ^ (x2 & m[2]);
			q[3] = bg2 ^ (x2 & m[3]);
		}
}

/* One cell's glyph into the row buffer at p (pitch in pixels). */
static void
glyph(const struct render *r, uint32_t *p, size_t pitch, struct cell c)
{
	const uint8_t *rows = font_bits(font, font_index(font, c.ch));
	uint32_t fg, bg, s = r->scale;

	colours(c, &fg, &bg);
	if (s == 1 && font->w % 8 == 0) {
		glyph_fast(p, pitch, rows, fg, bg);
		return;
	}
	for (uint32_t y = 0; y < font->h; y++, rows += font->pitch) {
		uint32_t *q = p;

		for (uint32_t i = 0; i < font->w; i++) {
			uint32_t v = rows[i / 8] & (0x80 >> i % 8) ? fg : bg;

			for (uint32_t k = 0; k < s; k++)
				*q++ = v;
		}
		for (uint32_t k = 1; k < s; k++)	/* the same row again */
			memcpy(p + k * pitch, p, r->cw * sizeof(*p));
		p += s * pitch;
	}
}

/* A blank cell looks like a fill of its background. */
static int
blank(struct cell c)
{
	return c.ch == ' ';
}

static uint32_t
blank_colour(struct cell c)
{
	uint32_t fg, bg;

	colours(c, &fg, &bg);
	return bg;
}

/* Are the n cells at c blank, of one background colour? */
static int
blank_run(const struct cell *c, uint32_t n, uint32_t colour)
{
	for (uint32_t i = 0; i < n; i++)
		if (!blank(c[i]) || blank_colour(c[i]) != colour)
			return 0;
	return 1;
}

/*
 * Draw cells [i0, i1] of row y, as in `want`, in one display call: a
 * call into a display with a protection key of its own switches domains
 * twice (under QEMU's TCG each switch flushes the TLB), which costs more
 * than drawing a blank tail as glyphs.  Blank cells of one colour are a
 * fill; any other span is one blit.
 */
static int
draw_span(struct render *r, struct pb_conn *disp, uint32_t y,
    const struct cell *want, uint32_t i0, uint32_t i1)
{
	uint32_t colour = blank_colour(want[i0]), n = i1 - i0 + 1;

	if (blank_run(want + i0, n, colour))
		return PB_CALL(disp, display_ops, fill, i0 * r->cw, y * r->ch,
		    n * r->cw, r->ch, colour);
	for (uint32_t i = 0; i < n; i++)
		glyph(r, r->buf + (size_t)i * r->cw, (size_t)n * r->cw,
		    want[i0 + i]);
	return PB_CALL(disp, display_ops, blit, r->buf, n * r->cw,
	    i0 * r->cw, y * r->ch, n * r->cw, r->ch);
}

static int
draw_row(struct render *r, struct pb_conn *disp, const struct grid *g,
    uint32_t y, long cursor_x)
{
	struct cell *want = r->want;
	const struct cell *line = grid_line(g, y);
	struct cell *drawn = r->drawn + (size_t)y * r->cols;
	uint32_t n = r->cols < g->cols ? r->cols : g->cols, i0, i1;
	int err;

	memcpy(want, line, n * sizeof(struct cell));
	if (cursor_x >= 0 && (uint32_t)cursor_x < n)
		want[cursor_x].attr |= CELL_CURSOR;
	for (i0 = 0; i0 < n && same(want[i0], drawn[i0]); i0++)
		;
	if (i0 == n)
		return PB_OK;
	for (i1 = n - 1; same(want[i1], drawn[i1]); i1--)
		;
	if ((err = draw_span(r, disp, y, want, i0, i1)) == PB_OK)
		memcpy(drawn + i0, want + i0,
		    (i1 - i0 + 1) * sizeof(struct cell));
	return err;
}

/* The whole screen to the default background; `drawn` to match. */
static int
clear(struct render *r, struct pb_conn *disp)
{
	struct cell b = { ' ', GRID_FG, GRID_BG, 0 };

	for (size_t i = 0; i < (size_t)r->cols * r->rows; i++)
		r->drawn[i] = b;
	return PB_CALL(disp, display_ops, fill, 0, 0, r->width, r->height,
	    palette[GRID_BG]);
}

int
render_frame(struct render *r, struct pb_conn *disp, struct grid *g,
    int cursor_on)
{
	uint32_t k = grid_take_scrolled(g), rows;
	int err = PB_OK;

	/* Scrolled lines are redrawn where they differ from `drawn`, which
	 * still describes the screen: nothing is moved or read on it. */
	if (!r->valid || k >= r->rows)
		err = clear(r, disp);
	rows = r->rows < g->rows ? r->rows : g->rows;
	for (uint32_t y = 0; y < rows && err == PB_OK; y++)
		err = draw_row(r, disp, g, y, cursor_on && y == g->cy ?
		    (long)g->cx : -1);
	r->valid = err == PB_OK;
	return err;
}
