/*
 * display.h - interface `display` 1.0, and its minor 1.1.
 *
 * A linear 32-bit framebuffer the client draws on through these operations
 * (never by keeping the buffer's address: a swap may move it).  Pixels are
 * 0x00RRGGBB; the provider converts to the hardware's format (RGB, BGR or
 * bit masks).  Minor 1.1 appends mode listing and mode setting.
 */
#ifndef PB_ABI_DISPLAY_H
#define PB_ABI_DISPLAY_H

#include <stdint.h>

#define DISPLAY_IFACE "display"
#define DISPLAY_MAJOR 1
#define DISPLAY_MINOR 1

struct display_mode {
	uint32_t width, height;
	uint32_t bpp;
	uint32_t id;		/* provider's mode number */
};

struct display_ops {
	/* 1.0 */
	int (*get_mode)(void *ctx, struct display_mode *m);
	int (*fill)(void *ctx, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
	    uint32_t rgb);
	/* Copy a w*h block of 0x00RRGGBB pixels (pitch in pixels) to x,y. */
	int (*blit)(void *ctx, const uint32_t *px, uint32_t pitch, uint32_t x,
	    uint32_t y, uint32_t w, uint32_t h);
	/* Move a block within the screen (scrolling). */
	int (*copy)(void *ctx, uint32_t sx, uint32_t sy, uint32_t dx,
	    uint32_t dy, uint32_t w, uint32_t h);
	int (*read)(void *ctx, uint32_t *px, uint32_t pitch, uint32_t x,
	    uint32_t y, uint32_t w, uint32_t h);
	/* 1.1 */
	int (*list_modes)(void *ctx, unsigned index, struct display_mode *m);
	int (*set_mode)(void *ctx, uint32_t id);
};

#endif
