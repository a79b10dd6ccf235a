/*
 * fbtext.c - the hub's own screen text (see fbtext.h).
 */
#include "fbtext.h"
#include "../abi/rt/font.h"
#include "../abi/rt/rt.h"

/* Printable ASCII and the box (build/gen/font_ascii.c): the hub's text is
 * ASCII, and the whole font would cost it room it does not have. */
#define FONT (&font_ascii)

/* A channel's place in a pixel, from its GOP bit mask (UEFI 2.10
 * §12.9, EFI_PIXEL_BITMASK); 0 bits when the mask is empty. */
static void
channel(uint32_t mask, uint8_t *shift, uint8_t *bits)
{
	*shift = *bits = 0;
	if (!mask)
		return;
	while (!(mask & 1)) {
		mask >>= 1;
		(*shift)++;
	}
	while (mask & 1) {
		mask >>= 1;
		(*bits)++;
	}
	/* Wider than 8 bits: the top 8 of them carry the value. */
	if (*bits > 8) {
		*shift = (uint8_t)(*shift + *bits - 8);
		*bits = 8;
	}
}

static uint32_t
pack(const struct fbtext *t, uint32_t rgb)
{
	uint32_t v = 0;

	for (int i = 0; i < 3; i++) {
		uint32_t c = (rgb >> (16 - 8 * i)) & 0xff;

		if (t->bits[i])
			v |= (c >> (8 - t->bits[i])) << t->shift[i];
	}
	return v;
}

int
fbtext_init(struct fbtext *t, const struct fb_info *fb, void *px)
{
	static const uint32_t rgbx[3] = { 0xff, 0xff00, 0xff0000 };
	static const uint32_t bgrx[3] = { 0xff0000, 0xff00, 0xff };
	const uint32_t *m = fb->format == FB_RGBX ? rgbx :
	    fb->format == FB_BGRX ? bgrx : NULL;
	uint32_t masks[3] = { fb->mask_r, fb->mask_g, fb->mask_b };

	memset(t, 0, sizeof(*t));
	if (!px || fb->format > FB_BITMASK || fb->stride < fb->width)
		return 0;
	for (int i = 0; i < 3; i++)
		channel(m ? m[i] : masks[i], &t->shift[i], &t->bits[i]);
	t->scale = font_scale_for(fb->height);
	t->cols = fb->width / (FONT->w * t->scale);
	t->rows = fb->height / (FONT->h * t->scale);
	if (!t->cols || !t->rows)
		return 0;
	t->px = px;
	t->width = fb->width;
	t->height = fb->height;
	t->stride = fb->stride;
	fbtext_colors(t, 0xc0c0c0, 0x000000);
	return 1;
}

void
fbtext_colors(struct fbtext *t, uint32_t fg, uint32_t bg)
{
	t->fg = pack(t, fg);
	t->bg = pack(t, bg);
}

/* Blank cell row `row` from column `col` to the right edge. */
static void
blank(struct fbtext *t, uint32_t row, uint32_t col)
{
	uint32_t ch = FONT->h * t->scale, x0 = col * FONT->w * t->scale;

	for (uint32_t y = row * ch; y < (row + 1) * ch; y++) {
		volatile uint32_t *p = t->px + (size_t)y * t->stride;

		for (uint32_t x = x0; x < t->width; x++)
			p[x] = t->bg;
	}
}

/* Printable ASCII from the font, anything else the box. */
static void
glyph(struct fbtext *t, unsigned char c)
{
	const uint8_t *g = font_bits(FONT, c < 0x80 ? FONT->ascii[c] :
	    font_box(FONT));
	uint32_t s = t->scale, x0 = t->col * FONT->w * s;

	for (uint32_t y = 0; y < FONT->h * s; y++) {
		volatile uint32_t *p = t->px + (size_t)(t->row * FONT->h * s +
		    y) * t->stride + x0;
		const uint8_t *bits = g + y / s * FONT->pitch;

		for (uint32_t x = 0; x < FONT->w * s; x++)
			p[x] = bits[x / s / 8] & (0x80 >> (x / s % 8)) ?
			    t->fg : t->bg;
	}
}

/* The next row, wrapping to the top: what it held goes. */
static void
newline(struct fbtext *t)
{
	t->col = 0;
	t->row = (t->row + 1) % t->rows;
	blank(t, t->row, 0);
}

void
fbtext_home(struct fbtext *t)
{
	if (!t->px)
		return;
	t->col = t->row = 0;
	blank(t, 0, 0);
}

void
fbtext_write(struct fbtext *t, const char *s, size_t len)
{
	if (!t->px)
		return;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n') {
			blank(t, t->row, t->col);
			newline(t);
			continue;
		}
		/* Control bytes and UTF-8 continuations take no cell; any
		 * other byte outside ASCII is one character: a box. */
		if (c < 0x20 || (c >= 0x80 && c < 0xc0))
			continue;
		if (t->col == t->cols)
			newline(t);
		glyph(t, c);
		t->col++;
	}
}
