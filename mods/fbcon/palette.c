/*
 * palette.c - the colours of palette.h.
 */
#include "palette.h"

/* The usual PC text-mode colours. */
const uint32_t palette[16] = {
	0x000000, 0xaa0000, 0x00aa00, 0xaa5500,
	0x0000aa, 0xaa00aa, 0x00aaaa, 0xaaaaaa,
	0x555555, 0xff5555, 0x55ff55, 0xffff55,
	0x5555ff, 0xff55ff, 0x55ffff, 0xffffff,
};

static int32_t
sq(int32_t v)
{
	return v * v;
}

uint8_t
palette_nearest(uint32_t rgb)
{
	uint32_t best = 0;
	int32_t bestd = INT32_MAX;

	for (uint32_t i = 0; i < 16; i++) {
		int32_t d = 0;

		for (uint32_t shift = 0; shift < 24; shift += 8)
			d += sq((int32_t)(rgb >> shift & 0xff) -
			    (int32_t)(palette[i] >> shift & 0xff));

		if (d < bestd) {
			bestd = d;
			best = i;
		}
	}
	return (uint8_t)best;
}

uint32_t
palette_xterm256(uint32_t n)
{
	static const uint8_t level[6] = { 0, 95, 135, 175, 215, 255 };
	uint32_t v;

	if (n < 16)
		return palette[n];
	if (n < 232) {
		n -= 16;
		return (uint32_t)level[n / 36] << 16 |
		    (uint32_t)level[n / 6 % 6] << 8 | level[n % 6];
	}
	v = n > 255 ? 238 : 8 + 10 * (n - 232);
	return v << 16 | v << 8 | v;
}
