/*
 * keymap_it.c - the Italian layout (QWERTY, ISO 105 keys): accented
 * vowels on their own keys (no ~ or ` on it, as on the keyboards), AltGr
 * gives € @ # [ ].
 */
#include "keymap.h"

static const uint8_t it_altgr[KEYMAP_SIZE] = {
	[0x06] = KEYMAP_EURO,				/* € on 5 */
	[0x12] = KEYMAP_EURO,				/* € on e */
	[0x1a] = '[', ']',
	[0x27] = '@', '#',
};

const struct keymap keymap_it = {
	.name = "it",
	.plain = {
		[0x02] = '1', '2', '3', '4', '5', '6', '7', '8', '9', '0',
		[0x0c] = '\'', 0x00ec,				/* ì */
		[0x10] = 'q', 'w', 'e', 'r', 't', 'y', 'u', 'i', 'o', 'p',
		[0x1a] = 0x00e8, '+',				/* è */
		[0x1e] = 'a', 's', 'd', 'f', 'g', 'h', 'j', 'k', 'l',
		[0x27] = 0x00f2, 0x00e0, '\\',			/* ò à */
		[0x2b] = 0x00f9, 'z', 'x', 'c', 'v', 'b', 'n', 'm', ',', '.',
		[0x35] = '-',
		[0x39] = ' ',
		[0x56] = '<',
	},
	.shifted = {
		[0x02] = '!', '"', 0x00a3, '$', '%', '&', '/', '(', ')', '=',
		[0x0c] = '?', '^',				/* £ above */
		[0x10] = 'Q', 'W', 'E', 'R', 'T', 'Y', 'U', 'I', 'O', 'P',
		[0x1a] = 0x00e9, '*',				/* é */
		[0x1e] = 'A', 'S', 'D', 'F', 'G', 'H', 'J', 'K', 'L',
		[0x27] = 0x00e7, 0x00b0, '|',			/* ç ° */
		[0x2b] = 0x00a7, 'Z', 'X', 'C', 'V', 'B', 'N', 'M', ';', ':',
		[0x35] = '_',					/* § above */
		[0x39] = ' ',
		[0x56] = '>',
	},
	.altgr = it_altgr,
	.caps = {
		[0x10] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,		/* q-p */
		[0x1e] = 1, 1, 1, 1, 1, 1, 1, 1, 1,		/* a-l */
		[0x2c] = 1, 1, 1, 1, 1, 1, 1,			/* z-m */
	},
};
