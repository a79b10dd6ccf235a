/*
 * keymap_us.c - the US layout (ANSI 101/104 keys) as data: scan code
 * set 1 make code -> character, plain and with shift.  No third level:
 * right Alt is Alt.
 */
#include "keymap.h"

const struct keymap keymap_us = {
	.name = "us",
	.plain = {
		[0x02] = '1', '2', '3', '4', '5', '6', '7', '8', '9', '0',
		[0x0c] = '-', '=',
		[0x10] = 'q', 'w', 'e', 'r', 't', 'y', 'u', 'i', 'o', 'p',
		[0x1a] = '[', ']',
		[0x1e] = 'a', 's', 'd', 'f', 'g', 'h', 'j', 'k', 'l', ';',
		[0x28] = '\'', '`',
		[0x2b] = '\\', 'z', 'x', 'c', 'v', 'b', 'n', 'm', ',', '.',
		[0x35] = '/',
		[0x39] = ' ',
	},
	.shifted = {
		[0x02] = '!', '@', '#', '$', '%', '^', '&', '*', '(', ')',
		[0x0c] = '_', '+',
		[0x10] = 'Q', 'W', 'E', 'R', 'T', 'Y', 'U', 'I', 'O', 'P',
		[0x1a] = '{', '}',
		[0x1e] = 'A', 'S', 'D', 'F', 'G', 'H', 'J', 'K', 'L', ':',
		[0x28] = '"', '~',
		[0x2b] = '|', 'Z', 'X', 'C', 'V', 'B', 'N', 'M', '<', '>',
		[0x35] = '?',
		[0x39] = ' ',
	},
	.caps = {
		[0x10] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,		/* q-p */
		[0x1e] = 1, 1, 1, 1, 1, 1, 1, 1, 1,		/* a-l */
		[0x2c] = 1, 1, 1, 1, 1, 1, 1,			/* z-m */
	},
};
