/*
 * scancode.h - scan code set 1 (what the 8042 delivers with translation
 * on) into abi/keyboard.h key events.  Pure logic, fed one byte at a
 * time from the interrupt's ring; tested on the host (tests/host/mod_ps2.c).
 *
 *   xx		make code of a key; xx | 0x80 its break code
 *   E0 xx	the extended keys: right Ctrl and Alt, the navigation block,
 *		keypad Enter and /; E0 2A / E0 AA (and E0 36 / E0 B6) are the
 *		"fake shifts" the keyboard wraps them in: ignored
 *   E1 1D 45 E1 9D C5	Pause, make only: swallowed (keyboard 1.0 has no
 *		code for it)
 * Shift, Ctrl and Alt are held (left and right apart); Caps, Num and
 * Scroll Lock toggle on the first make only, not on typematic repeats.
 * Characters come from the layout (keymap.h); caps lock shifts only what
 * the layout marks, and shift inverts num lock on the keypad.
 */
#ifndef PS2_SCANCODE_H
#define PS2_SCANCODE_H

#include <stdint.h>

#include "../../abi/keyboard.h"
#include "../../abi/rt/keymap.h"

#define LOCK_SCROLL	0x20	/* the scroll lock LED bit of set_leds */

struct scan {
	uint8_t state;		/* enum scan_state (scancode.c) */
	uint8_t skip;		/* bytes of a pause sequence still due */
	uint8_t held;		/* HELD_* modifier keys down */
	uint8_t locks_down;	/* lock keys down: repeats do not toggle */
	uint16_t locks;		/* KEYMOD_CAPS | KEYMOD_NUM | LOCK_SCROLL */
};

void scan_init(struct scan *s);
/* Feed one byte: 1 and *ev when it completed a key that has a code;
 * *locks_changed set to 1 when a lock toggled (the LEDs follow). */
int scan_feed(struct scan *s, const struct keymap *km, uint8_t b,
    struct key_event *ev, int *locks_changed);
/* KEYMOD_* now: modifiers held and locks on (right Alt is AltGr on a
 * layout with a third level). */
uint16_t scan_mods(const struct scan *s, const struct keymap *km);
/* Take over modifiers and locks (a swap, or set_leds). */
void scan_set_mods(struct scan *s, uint16_t mods);
void scan_set_locks(struct scan *s, uint16_t locks);
/* The LED byte of command 0xED for these locks (bit 0 scroll, 1 num,
 * 2 caps). */
uint8_t scan_led_byte(uint16_t locks);

#endif
