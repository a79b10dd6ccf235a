/*
 * crc32.c - the CRC-32 of IEEE 802.3 (reflected polynomial 0xEDB88320,
 * initial and final value all ones), which UEFI uses for the GPT header
 * and entry array (UEFI 2.10 §5.3.2).  Four bits a step from a 16-entry
 * table: small, and fast enough for an entry array of a few KiB.
 */
#include "scan.h"

static const uint32_t crc_nibble[16] = {
	0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
	0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
	0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
	0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

/* Continue a CRC over len more bytes: crc32_update(0, ...) begins one, and
 * feeding a buffer in pieces gives the CRC of the whole. */
uint32_t
crc32_update(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		crc = (crc >> 4) ^ crc_nibble[crc & 15];
		crc = (crc >> 4) ^ crc_nibble[crc & 15];
	}
	return ~crc;
}
