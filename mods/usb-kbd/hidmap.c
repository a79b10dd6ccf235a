/*
 * hidmap.c - key usages into key codes (see hidmap.h).
 *
 * Positions are Microsoft's "Keyboard Scan Code Specification" (rev
 * 1.3a, Appendix C), which lists each key's HID usage beside its set 1
 * make code.
 */
#include "hidmap.h"

#define HID_USAGE_LAST	0x65	/* the table below ends before this */

/* Usage -> set 1 make code of the layout's keys (0: not a layout key). */
static const uint8_t layout_pos[HID_USAGE_LAST] = {
	/* a-z */
	[0x04] = 0x1e, 0x30, 0x2e, 0x20, 0x12, 0x21, 0x22, 0x23, 0x17,
	0x24, 0x25, 0x26, 0x32, 0x31, 0x18, 0x19, 0x10, 0x13, 0x1f, 0x14,
	0x16, 0x2f, 0x11, 0x2d, 0x15, 0x2c,
	/* 1-9, 0 */
	[0x1e] = 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
	/* space - = [ ] \ (non-US #) ; ' ` , . / */
	[0x2c] = 0x39, 0x0c, 0x0d, 0x1a, 0x1b, 0x2b, 0x2b, 0x27, 0x28, 0x29,
	0x33, 0x34, 0x35,
	[0x64] = 0x56,		/* non-US \ (the ISO key beside left shift) */
};

/* The keypad from 0x59 (1) to 0x63 (.): with num lock, and without. */
static const struct {
	uint32_t num, nav;
} keypad[] = {
	{ '1', KEY_END }, { '2', KEY_DOWN }, { '3', KEY_PGDN },
	{ '4', KEY_LEFT }, { '5', 0 }, { '6', KEY_RIGHT },
	{ '7', KEY_HOME }, { '8', KEY_UP }, { '9', KEY_PGUP },
	{ '0', KEY_INSERT }, { '.', KEY_DELETE },
};
#define KP_FIRST	0x59
#define KP_LAST		0x63

/* Insert (0x49) to Up (0x52). */
static const uint32_t nav[] = {
	KEY_INSERT, KEY_HOME, KEY_PGUP, KEY_DELETE, KEY_END, KEY_PGDN,
	KEY_RIGHT, KEY_LEFT, KEY_DOWN, KEY_UP,
};
#define NAV_FIRST	0x49
#define NAV_LAST	0x52

/* The keys that are the same on every layout. */
static uint32_t
fixed_key(uint8_t usage, uint16_t mods)
{
	int shift = (mods & KEYMOD_SHIFT) != 0;
	int num = (mods & KEYMOD_NUM) != 0;

	switch (usage) {
	case 0x28: return '\r';		/* Enter */
	case 0x29: return KEY_ESC;
	case 0x2a: return 0x08;		/* Backspace */
	case 0x2b: return '\t';
	case 0x54: return '/';		/* the keypad's */
	case 0x55: return '*';
	case 0x56: return '-';
	case 0x57: return '+';
	case 0x58: return '\r';
	}
	if (usage >= 0x3a && usage <= 0x45)
		return KEY_F1 + (uint32_t)(usage - 0x3a);
	if (usage >= NAV_FIRST && usage <= NAV_LAST)
		return nav[usage - NAV_FIRST];
	if (usage >= KP_FIRST && usage <= KP_LAST)	/* shift inverts num */
		return num != shift ? keypad[usage - KP_FIRST].num :
		    keypad[usage - KP_FIRST].nav;
	return 0;
}

uint32_t
hidmap_code(uint8_t usage, uint16_t mods, const struct keymap *km)
{
	uint8_t pos;

	if (usage >= HID_USAGE_LAST || !(pos = layout_pos[usage]))
		return fixed_key(usage, mods);
	return keymap_char(km, pos, mods);
}

uint16_t
hidmap_lock(uint8_t usage)
{
	switch (usage) {
	case HID_USAGE_CAPS: return KEYMOD_CAPS;
	case HID_USAGE_NUM: return KEYMOD_NUM;
	case HID_USAGE_SCROLL: return LOCK_SCROLL;
	}
	return 0;
}

uint16_t
hidmap_mods(uint8_t b, const struct keymap *km)
{
	uint16_t m = 0;

	if (b & (HID_MOD_LSHIFT | HID_MOD_RSHIFT))
		m |= KEYMOD_SHIFT;
	if (b & (HID_MOD_LCTRL | HID_MOD_RCTRL))
		m |= KEYMOD_CTRL;
	if (b & HID_MOD_LALT)
		m |= KEYMOD_ALT;
	if (b & HID_MOD_RALT)
		m |= keymap_right_alt(km);
	return m;
}

uint8_t
hidmap_modbyte(uint16_t mods)
{
	return (uint8_t)(((mods & KEYMOD_SHIFT) ? HID_MOD_LSHIFT : 0) |
	    ((mods & KEYMOD_CTRL) ? HID_MOD_LCTRL : 0) |
	    ((mods & KEYMOD_ALT) ? HID_MOD_LALT : 0) |
	    ((mods & KEYMOD_ALTGR) ? HID_MOD_RALT : 0));
}

uint8_t
hidmap_leds(uint16_t locks)
{
	return (uint8_t)(((locks & KEYMOD_NUM) ? 1 : 0) |
	    ((locks & KEYMOD_CAPS) ? 2 : 0) | ((locks & LOCK_SCROLL) ? 4 : 0));
}
