/*
 * font.h - the 8x16 bitmap font fbcon draws with and the hub writes its
 * own screen text in (hub/fbtext.c): one byte per row, the leftmost pixel
 * in bit 7.  Glyphs for printable ASCII (0x20-0x7E) and a box for
 * everything else (font.c).  Shared at build time like the rest of rt/.
 */
#ifndef PB_RT_FONT_H
#define PB_RT_FONT_H

#include <stdint.h>

#define FONT_W 8
#define FONT_H 16
#define FONT_FIRST 0x20
#define FONT_LAST 0x7e
#define FONT_BOX (FONT_LAST - FONT_FIRST + 1)	/* index of the box */
#define FONT_NGLYPHS (FONT_BOX + 1)
#define FONT_MAX_SCALE 4

/* The scale for a screen `h` pixels high: cells about 16 to 24 pixels
 * high on 1080p-class screens, 32 on 1440p, 48 on 4K, 64 beyond. */
static inline uint32_t
font_scale_for(uint32_t h)
{
	uint32_t s = h / 700;

	return s < 1 ? 1 : s > FONT_MAX_SCALE ? FONT_MAX_SCALE : s;
}

#ifndef FONT_ROW
extern const uint8_t font_8x16[FONT_NGLYPHS][FONT_H];

/* The rows of character c's glyph. */
static inline const uint8_t *
font_glyph(uint32_t c)
{
	return font_8x16[c >= FONT_FIRST && c <= FONT_LAST ? c - FONT_FIRST :
	    FONT_BOX];
}
#endif

#endif
