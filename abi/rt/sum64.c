/*
 * sum64.c - a quick check sum of memory that must not change behind its
 * owner's back (a module's code: hub/scrub.c; a cache's unwritten blocks:
 * mods/fat/vouch.c).  FNV-1a over 8-byte words: any one flipped bit
 * changes it, and it takes an eighth of the steps a byte-wise sum such
 * as rt_crc32 takes.  Not a defence against someone who wants a
 * collision.  Chained: pass the previous result (RT_SUM64_SEED to begin);
 * bytes past the last whole word are not summed.
 */
#include "rt.h"

uint64_t
rt_sum64(uint64_t h, const void *buf, size_t len)
{
	const volatile uint64_t *w = buf;

	for (size_t i = 0; i < len / 8; i++)
		h = (h ^ w[i]) * 0x100000001b3ull;
	return h;
}
