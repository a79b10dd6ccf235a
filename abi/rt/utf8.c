/*
 * utf8.c - a code point as UTF-8 (RFC 3629 section 3), for the modules
 * that write text others read: the shell's line editor, fbcon's saved
 * screen, gpt's partition names.
 */
#include "rt.h"

size_t
rt_utf8_encode(uint32_t cp, char out[4])
{
	size_t n;

	if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;	/* surrogates and beyond Unicode: not encodable */
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	n = cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
	out[0] = (char)((0xf00u >> n) | cp >> (6 * (n - 1)));
	for (size_t i = 1; i < n; i++)
		out[i] = (char)(0x80 | (cp >> (6 * (n - 1 - i)) & 0x3f));
	return n;
}
