/*
 * draw.h - rectangles on the 32 bpp framebuffer, already clipped by the
 * caller: fill, blit, copy (overlapping: scrolling) and read.
 *
 * The device stores the clients' 0x00RRGGBB as is (byte 0 blue), so a
 * pixel is one plain store.  A RAM shadow of the screen, when there is
 * one, is where reads and the source of copies come from: reading
 * write-combining video memory is slow on real hardware.  A stale shadow
 * (another driver drew the screen) is loaded from the screen before the
 * first read or copy needs it, unless a fill of the whole screen comes
 * first, as a console's redraw's does.  Pure C (tests/host/mod_bochs.c).
 */
#ifndef BOCHS_DRAW_H
#define BOCHS_DRAW_H

#include <stddef.h>
#include <stdint.h>

struct draw {
	uint32_t *fb;		/* the mapped framebuffer */
	uint32_t width, height;
	uint32_t pitch;		/* pixels per scan line, >= width */
	uint32_t *shadow;	/* width * height pixels, or NULL */
	int stale;		/* the shadow may differ from the screen */
};

void draw_fill(struct draw *d, uint32_t x, uint32_t y, uint32_t w,
    uint32_t h, uint32_t rgb);
void draw_blit(struct draw *d, const uint32_t *px, size_t pitch, uint32_t x,
    uint32_t y, uint32_t w, uint32_t h);
void draw_copy(struct draw *d, uint32_t sx, uint32_t sy, uint32_t dx,
    uint32_t dy, uint32_t w, uint32_t h);
void draw_read(struct draw *d, uint32_t *px, size_t pitch, uint32_t x,
    uint32_t y, uint32_t w, uint32_t h);
/* The screen changed behind our back. */
void draw_stale(struct draw *d);

#endif
