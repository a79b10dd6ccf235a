/*
 * keymap.h - a keyboard layout as data: what character each key of the
 * main block gives, plain, shifted and with AltGr, by its scan code set 1
 * make code (the position of the key, whatever is printed on it).  Shared
 * by every keyboard driver (ps2, usb-kbd: a USB usage is mapped to the
 * position first), so they type the same characters.
 *
 * Keys that mean the same on every layout (Esc, Enter, Backspace, Tab,
 * the modifiers and locks, F1-F12, the keypad, the navigation keys) are
 * each driver's own (ps2's scancode.c, usb-kbd's hidmap.c), not a
 * layout's.  A layout is one more const table in a file of its own
 * (keymap_us.c, keymap_gb.c, ...); 0 means the key gives no character.
 * Dead keys are not composed: a layout gives the accent itself, as the
 * "nodeadkeys" variants of Linux's layouts do.
 *
 * boot.cfg `keymap=NAME` chooses the layout (keymap_chosen); "us" when
 * it names none.
 */
#ifndef PB_RT_KEYMAP_H
#define PB_RT_KEYMAP_H

#include <stddef.h>
#include <stdint.h>

#define KEYMAP_SIZE 0x59	/* make codes 0x00-0x58 */

/* The tables are Latin-1, a byte a key, which every layout here fits
 * but for €: KEYMAP_EURO (a C1 control no key types) stands for it. */
#define KEYMAP_EURO	0x80

struct keymap {
	const char *name;		/* "us" */
	uint8_t plain[KEYMAP_SIZE];	/* Latin-1, 0: none */
	uint8_t shifted[KEYMAP_SIZE];
	/* With AltGr (right Alt); NULL: the layout has no third level, and
	 * right Alt is Alt. */
	const uint8_t *altgr;
	uint8_t caps[KEYMAP_SIZE];	/* 1: caps lock shifts it (letters) */
};

extern const struct keymap keymap_us, keymap_gb, keymap_de, keymap_fr,
    keymap_es, keymap_it;

/* The character of the key at make code pos, with mods (KEYMOD_SHIFT,
 * KEYMOD_CAPS, KEYMOD_ALTGR); 0: none. */
uint32_t keymap_char(const struct keymap *km, uint8_t pos, uint16_t mods);
/* What the right Alt key is on km: KEYMOD_ALTGR, or KEYMOD_ALT. */
uint16_t keymap_right_alt(const struct keymap *km);
/* The layout named name; NULL: none of ours. */
const struct keymap *keymap_named(const char *name);
/* The layouts' names, for a message: "us, gb, de, fr, es, it". */
extern const char keymap_names[];

struct pb_hub;
struct pb_module;
/* boot.cfg's keymap= layout, or us; one line when it names none of ours
 * (said by `self`). */
const struct keymap *keymap_chosen(const struct pb_hub *hub,
    struct pb_module *self);

#endif
