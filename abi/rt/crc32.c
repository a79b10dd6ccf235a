/*
 * crc32.c - CRC-32 as zlib, gzip, PNG and GPT compute it: the reflected
 * polynomial 0xEDB88320, initial value and final xor ~0.  Chained: pass
 * the previous result as crc (0 to begin).
 */
#include "rt.h"

uint32_t
rt_crc32(uint32_t crc, const void *buf, size_t len)
{
	static uint32_t table[256];
	const uint8_t *p = buf;

	if (!table[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}
