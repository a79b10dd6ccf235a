/*
 * framebuffer.h - interface `framebuffer` 1.0: the linear framebuffer the
 * firmware's GOP left, published by the hub from the handoff.
 *
 * It has no operations: its `ops` pointer leads to this description, which
 * a display driver (gop-fb) maps with map_mmio(PB_CACHE_WC).  Formats are
 * GOP's (UEFI 2.10 §12.9): byte 0 red (RGBX), byte 0 blue (BGRX), or masks.
 */
#ifndef PB_ABI_FRAMEBUFFER_H
#define PB_ABI_FRAMEBUFFER_H

#include <stdint.h>

#define FRAMEBUFFER_IFACE "framebuffer"

enum fb_format {
	FB_RGBX = 0,
	FB_BGRX = 1,
	FB_BITMASK = 2,
};

struct fb_info {
	uint64_t base;		/* physical */
	uint64_t size;		/* bytes */
	uint32_t width, height;
	uint32_t stride;	/* pixels per scan line */
	uint32_t format;	/* enum fb_format */
	uint32_t mask_r, mask_g, mask_b, mask_x;
	uint32_t mode;		/* the firmware's mode number */
	uint32_t reserved;
};

#endif
