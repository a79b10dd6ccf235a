/*
 * keymap_gb.c - the UK layout (ISO 102/105 keys): £ on shift 3, @ and "
 * swapped against US, # ~ beside Enter, \ | beside left shift; AltGr
 * gives € and ¦.
 */
#include "keymap.h"

static const uint8_t gb_altgr[KEYMAP_SIZE] = {
	[0x05] = KEYMAP_EURO,	/* € */
	[0x29] = 0x00a6,	/* ¦ */
};

const struct keymap keymap_gb = {
	.name = "gb",
	.plain = {
		[0x02] = '1', '2', '3', '4', '5', '6', '7', '8', '9', '0',
		[0x0c] = '-', '=',
		[0x10] = 'q', 'w', 'e', 'r', 't', 'y', 'u', 'i', 'o', 'p',
		[0x1a] = '[', ']',
		[0x1e] = 'a', 's', 'd', 'f', 'g', 'h', 'j', 'k', 'l', ';',
		[0x28] = '\'', '`',
		[0x2b] = '#', 'z', 'x', 'c', 'v', 'b', 'n', 'm', ',', '.',
		[0x35] = '/',
		[0x39] = ' ',
		[0x56] = '\\',
	},
	.shifted = {
		[0x02] = '!', '"', 0x00a3, '$', '%', '^', '&', '*', '(', ')',
		[0x0c] = '_', '+',
		[0x10] = 'Q', 'W', 'E', 'R', 'T', 'Y', 'U', 'I', 'O', 'P',
		[0x1a] = '{', '}',
		[0x1e] = 'A', 'S', 'D', 'F', 'G', 'H', 'J', 'K', 'L', ':',
		[0x28] = '@', 0x00ac,				/* ¬ */
		[0x2b] = '~', 'Z', 'X', 'C', 'V', 'B', 'N', 'M', '<', '>',
		[0x35] = '?',
		[0x39] = ' ',
		[0x56] = '|',
	},
	.altgr = gb_altgr,
	.caps = {
		[0x10] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,		/* q-p */
		[0x1e] = 1, 1, 1, 1, 1, 1, 1, 1, 1,		/* a-l */
		[0x2c] = 1, 1, 1, 1, 1, 1, 1,			/* z-m */
	},
};
