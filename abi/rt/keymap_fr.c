/*
 * keymap_fr.c - the French layout (AZERTY, ISO 105 keys), without dead
 * keys: ^ ¨ ~ ` give themselves.  The digits are shifted; AltGr gives
 * ~ # { [ | ` \ ^ @ ] } on the digit row, € and ¤.
 */
#include "keymap.h"

static const uint8_t fr_altgr[KEYMAP_SIZE] = {
	[0x03] = '~', '#', '{', '[', '|', '`', '\\', '^', '@', ']', '}',
	[0x12] = KEYMAP_EURO,				/* € */
	[0x1b] = 0x00a4,				/* ¤ */
};

const struct keymap keymap_fr = {
	.name = "fr",
	.plain = {
		/* & é " ' ( - è _ ç à ) = */
		[0x02] = '&', 0x00e9, '"', '\'', '(', '-', 0x00e8, '_',
		0x00e7, 0x00e0, ')', '=',
		[0x10] = 'a', 'z', 'e', 'r', 't', 'y', 'u', 'i', 'o', 'p',
		[0x1a] = '^', '$',
		[0x1e] = 'q', 's', 'd', 'f', 'g', 'h', 'j', 'k', 'l', 'm',
		[0x28] = 0x00f9, 0x00b2,			/* ù ² */
		[0x2b] = '*', 'w', 'x', 'c', 'v', 'b', 'n', ',', ';', ':',
		[0x35] = '!',
		[0x39] = ' ',
		[0x56] = '<',
	},
	.shifted = {
		[0x02] = '1', '2', '3', '4', '5', '6', '7', '8', '9', '0',
		[0x0c] = 0x00b0, '+',				/* ° */
		[0x10] = 'A', 'Z', 'E', 'R', 'T', 'Y', 'U', 'I', 'O', 'P',
		[0x1a] = 0x00a8, 0x00a3,			/* ¨ £ */
		[0x1e] = 'Q', 'S', 'D', 'F', 'G', 'H', 'J', 'K', 'L', 'M',
		[0x28] = '%',
		[0x2b] = 0x00b5, 'W', 'X', 'C', 'V', 'B', 'N', '?', '.', '/',
		[0x35] = 0x00a7,				/* § */
		[0x39] = ' ',
		[0x56] = '>',
	},
	.altgr = fr_altgr,
	.caps = {
		[0x10] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,		/* a-p */
		[0x1e] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,		/* q-m */
		[0x2c] = 1, 1, 1, 1, 1, 1,			/* w-n */
	},
};
