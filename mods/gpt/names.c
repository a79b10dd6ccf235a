/*
 * names.c - the text forms of what a partition table holds: GUIDs as
 * UEFI writes them, and PartitionName as a property value.
 */
#include "scan.h"
#include "../../abi/rt/rt.h"

/*
 * A GUID as text, upper case (UEFI 2.10 Appendix A): the first three
 * fields are stored little-endian, the last two as bytes in order.
 */
void
guid_text(const uint8_t g[16], char out[37])
{
	static const char hex[] = "0123456789ABCDEF";
	static const uint8_t order[16] = { 3, 2, 1, 0, 5, 4, 7, 6,
	    8, 9, 10, 11, 12, 13, 14, 15 };
	unsigned n = 0;

	for (unsigned i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[n++] = '-';
		out[n++] = hex[g[order[i]] >> 4];
		out[n++] = hex[g[order[i]] & 15];
	}
	out[n] = '\0';
}

/*
 * A UTF-16LE name (up to `units` code units, ending at the first zero) as
 * one word of a property line: UTF-8, with spaces and control characters
 * as '_' (a property value ends at a space), and an unpaired surrogate as
 * U+FFFD.  Stops before a character that would not fit; always terminates
 * dst (cap > 0).  Returns the bytes written.
 */
size_t
utf16le_to_prop(const uint8_t *src, unsigned units, char *dst, size_t cap)
{
	size_t n = 0;
	char enc[4];

	for (unsigned i = 0; i < units; i++) {
		uint32_t c = src[2 * i] | (uint32_t)src[2 * i + 1] << 8;
		unsigned len;

		if (c == 0)
			break;
		if (c >= 0xd800 && c <= 0xdbff && i + 1 < units) {
			uint32_t lo = src[2 * i + 2] |
			    (uint32_t)src[2 * i + 3] << 8;

			if (lo >= 0xdc00 && lo <= 0xdfff) {
				c = 0x10000 + ((c - 0xd800) << 10) +
				    (lo - 0xdc00);
				i++;
			}
		}
		if (c >= 0xd800 && c <= 0xdfff)
			c = 0xfffd;	/* a surrogate without its pair */
		if (c <= 0x20 || c == 0x7f)
			c = '_';
		len = (unsigned)rt_utf8_encode(c, enc);
		if (n + len >= cap)
			break;
		memcpy(dst + n, enc, len);
		n += len;
	}
	if (cap)
		dst[n] = '\0';
	return n;
}
