/*
 * fbtext.h - the hub's own text on the screen: lines written straight
 * into the framebuffer the firmware left (the handoff's base, stride and
 * format) with the ASCII of fbcon's console font (abi/rt/font.h), scaled
 * for the screen's height like fbcon's.
 *
 * For when no module draws there (from the takeover until fbcon serves,
 * or with no fbcon at all) and for a fatal fault's report, so a frozen
 * screen says why.  Lines go down the screen and wrap to the top, each
 * row blanked as the text reaches it: nothing is ever read back from
 * video memory (slow, and write-combined).  Portable: the host tests give
 * it a framebuffer in memory.
 */
#ifndef PB_HUB_FBTEXT_H
#define PB_HUB_FBTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "../abi/framebuffer.h"

struct fbtext {
	uint32_t *px;			/* NULL: no screen to write on */
	uint32_t width, height, stride;	/* pixels */
	uint8_t shift[3], bits[3];	/* red, green, blue in a pixel */
	uint32_t scale;			/* font scale */
	uint32_t cols, rows;		/* cells */
	uint32_t col, row;		/* the cursor */
	uint32_t fg, bg;		/* as pixels */
};

/* Set t up on fb, mapped at px; 0 when the format cannot be written. */
int fbtext_init(struct fbtext *t, const struct fb_info *fb, void *px);
/* Colours as 0x00RRGGBB. */
void fbtext_colors(struct fbtext *t, uint32_t fg, uint32_t bg);
/* The cursor to the top left, that row blanked. */
void fbtext_home(struct fbtext *t);
/* Text: "\n" ends a line; a line longer than the screen goes on below. */
void fbtext_write(struct fbtext *t, const char *s, size_t len);

#endif
