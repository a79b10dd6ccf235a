/*
 * keymap.h - a keyboard layout as data: what character each key of the
 * main block gives, plain and shifted, by its scan code set 1 make code
 * (the position of the key, whatever is printed on it).  Shared by every
 * keyboard driver (ps2, usb-kbd: a USB usage is mapped to the position
 * first), so they type the same characters.
 *
 * Keys that mean the same on every layout (Esc, Enter, Backspace, Tab,
 * the modifiers and locks, F1-F12, the keypad, the navigation keys) are
 * each driver's own (ps2's scancode.c, usb-kbd's hidmap.c), not a
 * layout's.  A layout is one more const table in a file of its own
 * (keymap_us.c); 0 means the key gives no character.
 */
#ifndef PB_RT_KEYMAP_H
#define PB_RT_KEYMAP_H

#include <stdint.h>

#define KEYMAP_SIZE 0x59	/* make codes 0x00-0x58 */

struct keymap {
	const char *name;		/* "us" */
	uint32_t plain[KEYMAP_SIZE];	/* Unicode, 0: none */
	uint32_t shifted[KEYMAP_SIZE];
	uint8_t caps[KEYMAP_SIZE];	/* 1: caps lock shifts it (letters) */
};

extern const struct keymap keymap_us;

#endif
