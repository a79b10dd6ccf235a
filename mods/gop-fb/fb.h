/*
 * fb.h - drawing on a linear framebuffer: fill, blit, copy and read of
 * rectangles that the caller has already clipped to the screen.
 *
 * Clients give and get 0x00RRGGBB pixels; the framebuffer holds them in
 * its own format (pixfmt.h), `pitch` bytes per scan line (stride x bytes
 * per pixel, not width: GOP's PixelsPerScanLine may exceed it).  There is no
 * RAM copy of the screen: reads and copies read video memory, slow on
 * real hardware's write-combining framebuffers, so clients draw
 * write-only (fbcon scrolls by redrawing from its cells) and read only
 * for rare things such as a screenshot.
 */
#ifndef GOPFB_FB_H
#define GOPFB_FB_H

#include <stddef.h>
#include <stdint.h>

#include "pixfmt.h"

struct fb {
	uint8_t *base;		/* the mapped framebuffer */
	uint32_t width, height;
	size_t pitch;		/* bytes per scan line */
	const struct pixfmt *fmt;
};

void fb_fill(struct fb *f, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
    uint32_t rgb);
void fb_blit(struct fb *f, const uint32_t *px, size_t pitch, uint32_t x,
    uint32_t y, uint32_t w, uint32_t h);
/* Overlapping rectangles are fine (scrolling). */
void fb_copy(struct fb *f, uint32_t sx, uint32_t sy, uint32_t dx, uint32_t dy,
    uint32_t w, uint32_t h);
void fb_read(struct fb *f, uint32_t *px, size_t pitch, uint32_t x,
    uint32_t y, uint32_t w, uint32_t h);

#endif
