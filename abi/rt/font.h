/*
 * font.h - the console font fbcon draws with and the hub writes its own
 * screen text in (hub/fbtext.c).  Not drawn here: tools/mkfont converts a
 * PSF console font from a Debian package (console-setup-linux, chosen by
 * the Makefile's FONT_PSF) at build time into build/gen/font_console.c
 * (every glyph, for fbcon) and build/gen/font_ascii.c (printable ASCII,
 * for the hub), and only those are linked with the glyphs.
 *
 * A glyph is `h` rows of `pitch` bytes, the leftmost pixel in bit 7 of a
 * row's first byte.  Code points map to glyphs through the font's Unicode
 * table: below 0x80 by `ascii`, above through map_cp (ascending, binary
 * searched) and map_glyph.  A code point the font has no glyph for, and
 * U+FFFD (what a malformed UTF-8 sequence becomes), draw the box, the
 * last glyph, which mkfont adds.
 */
#ifndef PB_RT_FONT_H
#define PB_RT_FONT_H

#include <stddef.h>
#include <stdint.h>

#define FONT_MAX_SCALE 4

struct font {
	uint16_t w, h;		/* the cell, pixels */
	uint16_t pitch;		/* bytes a glyph row: (w + 7) / 8 */
	uint16_t nglyphs;	/* glyphs, the box last */
	uint32_t nmap;		/* entries of map_cp and map_glyph */
	const uint8_t *glyphs;	/* nglyphs * h * pitch bytes */
	const uint16_t *ascii;	/* the glyph of each code point < 0x80 */
	const uint32_t *map_cp;	/* code points >= 0x80, ascending */
	const uint16_t *map_glyph;
};

extern const struct font font_console;	/* build/gen/font_console.c */
extern const struct font font_ascii;	/* build/gen/font_ascii.c */

/* The scale for a screen `h` pixels high: cells about 16 to 24 pixels
 * high on 1080p-class screens, 32 on 1440p, 48 on 4K, 64 beyond. */
static inline uint32_t
font_scale_for(uint32_t h)
{
	uint32_t s = h / 700;

	return s < 1 ? 1 : s > FONT_MAX_SCALE ? FONT_MAX_SCALE : s;
}

static inline uint32_t
font_box(const struct font *f)
{
	return f->nglyphs - 1u;
}

/* The glyph that draws code point cp: the box when there is none. */
uint32_t font_index(const struct font *f, uint32_t cp);

/* The rows of glyph number g (< nglyphs). */
static inline const uint8_t *
font_bits(const struct font *f, uint32_t g)
{
	return f->glyphs + (size_t)g * f->h * f->pitch;
}

#endif
