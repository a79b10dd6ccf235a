/*
 * hidmap.h - a USB keyboard's key usages into abi/keyboard.h key codes:
 * HID Usage Tables 1.12, §10 (the Keyboard/Keypad page, 0x07), and the
 * boot report's modifier byte and LED byte (HID 1.11, Appendix B.1).
 *
 * The keys of the layout are mapped to their position, the scan code
 * set 1 make code the shared layout is keyed by (abi/rt/keymap.h), so a
 * USB and a PS/2 keyboard type the same characters.  The keys that mean
 * the same on every layout (Enter, Esc, Backspace, Tab, F1-F12, the
 * navigation block, the keypad) give what ps2's scancode.c gives: the
 * keypad's digits with num lock, its navigation keys without, shift
 * inverting num lock; caps lock shifts only what the layout marks.
 * Pure logic, tested on the host (tests/host/mod_usb_kbd.c).
 */
#ifndef USBKBD_HIDMAP_H
#define USBKBD_HIDMAP_H

#include <stdint.h>

#include "../../abi/keyboard.h"
#include "../../abi/rt/keymap.h"

/* The boot report's modifier byte (HID 1.11 B.1, Usage Tables §10
 * usages 0xE0-0xE7, in that order). */
#define HID_MOD_LCTRL	0x01
#define HID_MOD_LSHIFT	0x02
#define HID_MOD_LALT	0x04
#define HID_MOD_LGUI	0x08
#define HID_MOD_RCTRL	0x10
#define HID_MOD_RSHIFT	0x20
#define HID_MOD_RALT	0x40
#define HID_MOD_RGUI	0x80

/* Usages with a meaning of their own (Usage Tables §10). */
#define HID_USAGE_NONE		0x00	/* an empty slot of the key array */
#define HID_USAGE_ROLLOVER	0x01	/* ErrorRollOver: the phantom state */
#define HID_USAGE_UNDEFINED	0x03	/* ErrorUndefined; 0x02 POSTFail */
#define HID_USAGE_CAPS		0x39
#define HID_USAGE_SCROLL	0x47
#define HID_USAGE_NUM		0x53

#define LOCK_SCROLL	0x20	/* the scroll lock bit of set_leds */

/* The key code of `usage` with these KEYMOD_* (held and locks); 0 when
 * it gives none (modifiers, locks, Print Screen, Pause, media keys). */
uint32_t hidmap_code(uint8_t usage, uint16_t mods, const struct keymap *km);
/* KEYMOD_CAPS, KEYMOD_NUM or LOCK_SCROLL for a lock key, else 0. */
uint16_t hidmap_lock(uint8_t usage);
/* KEYMOD_SHIFT, _CTRL, _ALT of a modifier byte; right Alt is KEYMOD_ALTGR
 * on a layout with a third level. */
uint16_t hidmap_mods(uint8_t modbyte, const struct keymap *km);
/* The modifier byte of KEYMOD_* held (a state imported): left keys,
 * and right Alt for AltGr. */
uint8_t hidmap_modbyte(uint16_t mods);
/* The output report's LED byte for these locks (bit 0 num, 1 caps,
 * 2 scroll: HID 1.11 B.1, the LED page's usages 1-3). */
uint8_t hidmap_leds(uint16_t locks);

#endif
