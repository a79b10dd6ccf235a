/*
 * state.c - the swap state (see state.h).
 */
#include "state.h"
#include "modes.h"
#include "../../abi/pb.h"
#include "../../abi/rt/rt.h"

/* The masks of 32 bpp, byte 0 blue (UEFI 2.10 12.9, PixelBitMask). */
#define MASK_R 0x00ff0000u
#define MASK_G 0x0000ff00u
#define MASK_B 0x000000ffu
#define MASK_X 0xff000000u

void
state_export(struct fb_info *out, uint64_t base, uint64_t size,
    const struct dispi_mode *m)
{
	*out = (struct fb_info){
		.base = base, .size = size,
		.width = m->width, .height = m->height, .stride = m->pitch,
		.format = FB_BGRX,
		.mask_r = MASK_R, .mask_g = MASK_G, .mask_b = MASK_B,
		.mask_x = MASK_X,
		.mode = mode_id(m->width, m->height),
	};
}

/* Is the layout 32 bpp, byte 0 blue, under either of its names? */
static int
bgrx(const struct fb_info *s)
{
	if (s->format == FB_BGRX)
		return 1;
	return s->format == FB_BITMASK && s->mask_r == MASK_R &&
	    s->mask_g == MASK_G && s->mask_b == MASK_B &&
	    (s->mask_x & ~MASK_X) == 0;
}

int
state_import(const void *buf, size_t len, uint32_t version, uint64_t base,
    uint64_t size, struct fb_info *out, const char **why)
{
	struct fb_info s;

	if (version != FB_STATE_VERSION || len != sizeof(s) || !buf) {
		*why = "not a struct fb_info, version 1";
		return PB_ESTATE;
	}
	memcpy(&s, buf, sizeof(s));
	if (s.base != base)
		*why = "the picture is not in this device's framebuffer";
	else if (!bgrx(&s))
		*why = "not 32 bpp with byte 0 blue";
	else if (!s.width || !s.height || s.width > DISPI_MAX_SIDE ||
	    s.height > DISPI_MAX_SIDE || s.stride < s.width ||
	    s.stride > DISPI_MAX_SIDE)
		*why = "bad geometry";
	else if ((uint64_t)s.stride * s.height * 4 > size)
		*why = "larger than the framebuffer";
	else {
		*out = s;
		return PB_OK;
	}
	return PB_ESTATE;
}
