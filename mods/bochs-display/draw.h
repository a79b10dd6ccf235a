/*
 * draw.h - rectangles on the 32 bpp framebuffer, already clipped by the
 * caller: fill, blit, copy (overlapping: scrolling) and read.
 *
 * The device stores the clients' 0x00RRGGBB as is (byte 0 blue), so a
 * pixel is one plain store.  There is no RAM copy of the screen: reads
 * and copies read video memory, which is slow on real hardware's
 * write-combining framebuffers, so clients draw write-only (fbcon scrolls
 * by redrawing from its cells) and read only for rare things such as a
 * screenshot.  Pure C (tests/host/mod_bochs.c).
 */
#ifndef BOCHS_DRAW_H
#define BOCHS_DRAW_H

#include <stddef.h>
#include <stdint.h>

struct draw {
	uint32_t *fb;		/* the mapped framebuffer */
	uint32_t width, height;
	uint32_t pitch;		/* pixels per scan line, >= width */
};

void draw_fill(struct draw *d, uint32_t x, uint32_t y, uint32_t w,
    uint32_t h, uint32_t rgb);
void draw_blit(struct draw *d, const uint32_t *px, size_t pitch, uint32_t x,
    uint32_t y, uint32_t w, uint32_t h);
void draw_copy(struct draw *d, uint32_t sx, uint32_t sy, uint32_t dx,
    uint32_t dy, uint32_t w, uint32_t h);
void draw_read(struct draw *d, uint32_t *px, size_t pitch, uint32_t x,
    uint32_t y, uint32_t w, uint32_t h);

#endif
