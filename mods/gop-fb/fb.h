/*
 * fb.h - drawing on a linear framebuffer: fill, blit, copy and read of
 * rectangles that the caller has already clipped to the screen.
 *
 * Clients give and get 0x00RRGGBB pixels; the framebuffer holds them in
 * its own format (pixfmt.h), `pitch` bytes per scan line (stride x bytes
 * per pixel, not width: GOP's PixelsPerScanLine may exceed it).  When a
 * shadow is present it holds the screen in the clients' format, so that
 * reads and the source of copies come from RAM: reading write-combining
 * video memory is slow on real hardware.  A stale shadow (another driver
 * drew the screen) is read back before the first read or copy needs it,
 * unless a fill of the whole screen comes first, as a client's redraw's
 * usually does.
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
	uint32_t *shadow;	/* width * height pixels, or NULL */
	int stale;		/* the shadow may differ from the screen */
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
/* The screen changed behind our back: read it back when needed. */
void fb_stale(struct fb *f);

#endif
