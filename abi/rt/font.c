/*
 * font.c - code points to glyphs (see font.h).
 */
#include "font.h"

uint32_t
font_index(const struct font *f, uint32_t cp)
{
	uint32_t lo = 0, hi = f->nmap;

	if (cp < 0x80)
		return f->ascii[cp];
	while (lo < hi) {	/* the first entry >= cp */
		uint32_t mid = lo + (hi - lo) / 2;

		if (f->map_cp[mid] < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < f->nmap && f->map_cp[lo] == cp ? f->map_glyph[lo] :
	    font_box(f);
}
