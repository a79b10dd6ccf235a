/*
 * keymap_es.c - the Spanish layout (QWERTY with ñ, ISO 105 keys), without
 * dead keys: ` ^ ´ ¨ give themselves.  AltGr gives \ | @ # ~ ¬ € [ ] { }.
 */
#include "keymap.h"

static const uint8_t es_altgr[KEYMAP_SIZE] = {
	[0x02] = '|', '@', '#', '~',
	[0x07] = 0x00ac,				/* ¬ */
	[0x12] = KEYMAP_EURO,				/* € */
	[0x1a] = '[', ']',
	[0x28] = '{', '\\',
	[0x2b] = '}',
};

const struct keymap keymap_es = {
	.name = "es",
	.plain = {
		[0x02] = '1', '2', '3', '4', '5', '6', '7', '8', '9', '0',
		[0x0c] = '\'', 0x00a1,				/* ¡ */
		[0x10] = 'q', 'w', 'e', 'r', 't', 'y', 'u', 'i', 'o', 'p',
		[0x1a] = '`', '+',
		[0x1e] = 'a', 's', 'd', 'f', 'g', 'h', 'j', 'k', 'l',
		[0x27] = 0x00f1, 0x00b4, 0x00ba,		/* ñ ´ º */
		[0x2b] = 0x00e7, 'z', 'x', 'c', 'v', 'b', 'n', 'm', ',', '.',
		[0x35] = '-',
		[0x39] = ' ',
		[0x56] = '<',
	},
	.shifted = {
		[0x02] = '!', '"', 0x00b7, '$', '%', '&', '/', '(', ')', '=',
		[0x0c] = '?', 0x00bf,				/* · above, ¿ */
		[0x10] = 'Q', 'W', 'E', 'R', 'T', 'Y', 'U', 'I', 'O', 'P',
		[0x1a] = '^', '*',
		[0x1e] = 'A', 'S', 'D', 'F', 'G', 'H', 'J', 'K', 'L',
		[0x27] = 0x00d1, 0x00a8, 0x00aa,		/* Ñ ¨ ª */
		[0x2b] = 0x00c7, 'Z', 'X', 'C', 'V', 'B', 'N', 'M', ';', ':',
		[0x35] = '_',
		[0x39] = ' ',
		[0x56] = '>',
	},
	.altgr = es_altgr,
	.caps = {
		[0x10] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,		/* q-p */
		[0x1e] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,		/* a-ñ */
		[0x2b] = 1, 1, 1, 1, 1, 1, 1, 1,		/* ç, z-m */
	},
};
