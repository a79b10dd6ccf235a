/*
 * fbfit.c - the framebuffer geometry checks of fbfit.h.
 */
#include "fbfit.h"

uint64_t
fb_bytes_needed(uint32_t width, uint32_t height, uint32_t stride)
{
	if (!width || !height || stride < width)
		return 0;
	return ((uint64_t)(height - 1) * stride + width) * FB_BYTES_PER_PIXEL;
}

unsigned
fb_bitmask_bytes(uint32_t r, uint32_t g, uint32_t b, uint32_t x)
{
	if (!r || !g || !b || (r & g) || (r & b) || (g & b) ||
	    (x & (r | g | b)))
		return 0;
	return FB_BYTES_PER_PIXEL;
}
