/*
 * scancode.c - scan code set 1 into key events (see scancode.h).
 *
 * Codes are IBM's set 1 (the PC/XT codes, which the 8042 produces from the
 * keyboard's set 2 while translation is on): Microsoft's "Keyboard Scan
 * Code Specification" (rev 1.3a, Appendix C) lists both sets side by side.
 */
#include "scancode.h"

enum scan_state { SC_BASE, SC_E0, SC_E1 };

#define BREAK		0x80
#define PREFIX_E0	0xe0
#define PREFIX_E1	0xe1

/* Modifier keys, left and right apart (releasing one leaves the other). */
#define HELD_LSHIFT	0x01
#define HELD_RSHIFT	0x02
#define HELD_LCTRL	0x04
#define HELD_RCTRL	0x08
#define HELD_LALT	0x10
#define HELD_RALT	0x20

/* Set 1 make codes scancode.c itself knows. */
enum {
	SC_ESC = 0x01, SC_BACKSPACE = 0x0e, SC_TAB = 0x0f, SC_ENTER = 0x1c,
	SC_CTRL = 0x1d, SC_LSHIFT = 0x2a, SC_RSHIFT = 0x36, SC_KP_STAR = 0x37,
	SC_ALT = 0x38, SC_CAPS = 0x3a, SC_F1 = 0x3b, SC_F10 = 0x44,
	SC_NUM = 0x45, SC_SCROLL = 0x46, SC_KP7 = 0x47, SC_KP_MINUS = 0x4a,
	SC_KP_PLUS = 0x4e, SC_KPDOT = 0x53, SC_F11 = 0x57, SC_F12 = 0x58,
	/* after E0 */
	SC_KP_ENTER = 0x1c, SC_KP_SLASH = 0x35,
};

/* The keypad from 0x47 (7) to 0x53 (.): with num lock, and without. */
static const struct {
	uint32_t num, nav;
} keypad[SC_KPDOT - SC_KP7 + 1] = {
	{ '7', KEY_HOME }, { '8', KEY_UP }, { '9', KEY_PGUP }, { '-', '-' },
	{ '4', KEY_LEFT }, { '5', 0 }, { '6', KEY_RIGHT }, { '+', '+' },
	{ '1', KEY_END }, { '2', KEY_DOWN }, { '3', KEY_PGDN },
	{ '0', KEY_INSERT }, { '.', KEY_DELETE },
};

/* E0 xx: the navigation block. */
static uint32_t
extended_key(uint8_t code)
{
	switch (code) {
	case SC_KP_ENTER: return '\r';
	case SC_KP_SLASH: return '/';
	case 0x47: return KEY_HOME;
	case 0x48: return KEY_UP;
	case 0x49: return KEY_PGUP;
	case 0x4b: return KEY_LEFT;
	case 0x4d: return KEY_RIGHT;
	case 0x4f: return KEY_END;
	case 0x50: return KEY_DOWN;
	case 0x51: return KEY_PGDN;
	case 0x52: return KEY_INSERT;
	case 0x53: return KEY_DELETE;
	}
	return 0;	/* print screen, the Windows keys, media keys */
}

void
scan_init(struct scan *s)
{
	*s = (struct scan){ .state = SC_BASE };
}

uint16_t
scan_mods(const struct scan *s, const struct keymap *km)
{
	uint16_t m = s->locks & (KEYMOD_CAPS | KEYMOD_NUM);

	if (s->held & (HELD_LSHIFT | HELD_RSHIFT))
		m |= KEYMOD_SHIFT;
	if (s->held & (HELD_LCTRL | HELD_RCTRL))
		m |= KEYMOD_CTRL;
	if (s->held & HELD_LALT)
		m |= KEYMOD_ALT;
	if (s->held & HELD_RALT)
		m |= keymap_right_alt(km);
	return m;
}

void
scan_set_mods(struct scan *s, uint16_t mods)
{
	s->held = 0;
	if (mods & KEYMOD_SHIFT)
		s->held |= HELD_LSHIFT;
	if (mods & KEYMOD_CTRL)
		s->held |= HELD_LCTRL;
	if (mods & KEYMOD_ALT)
		s->held |= HELD_LALT;
	if (mods & KEYMOD_ALTGR)
		s->held |= HELD_RALT;
	s->locks = (uint16_t)((s->locks & LOCK_SCROLL) |
	    (mods & (KEYMOD_CAPS | KEYMOD_NUM)));
}

void
scan_set_locks(struct scan *s, uint16_t locks)
{
	s->locks = locks & (KEYMOD_CAPS | KEYMOD_NUM | LOCK_SCROLL);
}

uint8_t
scan_led_byte(uint16_t locks)
{
	return (uint8_t)(((locks & LOCK_SCROLL) ? 1 : 0) |
	    ((locks & KEYMOD_NUM) ? 2 : 0) | ((locks & KEYMOD_CAPS) ? 4 : 0));
}

/* A modifier key went down or up: 1 when code was one. */
static int
modifier(struct scan *s, uint8_t code, int ext, int down)
{
	uint8_t bit;

	switch (code) {
	case SC_LSHIFT: bit = ext ? 0 : HELD_LSHIFT; break;
	case SC_RSHIFT: bit = ext ? 0 : HELD_RSHIFT; break;
	case SC_CTRL: bit = ext ? HELD_RCTRL : HELD_LCTRL; break;
	case SC_ALT: bit = ext ? HELD_RALT : HELD_LALT; break;
	default: return 0;
	}
	/* bit 0: E0 2A / E0 36, the fake shifts: nothing to do. */
	if (down)
		s->held |= bit;
	else
		s->held &= (uint8_t)~bit;
	return 1;
}

/* A lock key: toggles on its first make.  1 when code was one. */
static int
lock(struct scan *s, uint8_t code, int down, int *changed)
{
	uint16_t bit;
	uint8_t key;

	switch (code) {
	case SC_CAPS: bit = KEYMOD_CAPS; key = 1; break;
	case SC_NUM: bit = KEYMOD_NUM; key = 2; break;
	case SC_SCROLL: bit = LOCK_SCROLL; key = 4; break;
	default: return 0;
	}
	if (down && !(s->locks_down & key)) {
		s->locks ^= bit;
		*changed = 1;
	}
	if (down)
		s->locks_down |= key;
	else
		s->locks_down &= (uint8_t)~key;
	return 1;
}

/* The code of a key of the base set that is the same on every layout. */
static uint32_t
fixed_key(const struct scan *s, uint8_t code)
{
	int shift = (s->held & (HELD_LSHIFT | HELD_RSHIFT)) != 0;
	int num = (s->locks & KEYMOD_NUM) != 0;

	switch (code) {
	case SC_ESC: return KEY_ESC;
	case SC_BACKSPACE: return 0x08;
	case SC_TAB: return '\t';
	case SC_ENTER: return '\r';
	case SC_KP_STAR: return '*';
	case SC_F11: return KEY_F11;
	case SC_F12: return KEY_F12;
	}
	if (code >= SC_F1 && code <= SC_F10)
		return KEY_F1 + (code - SC_F1);
	if (code >= SC_KP7 && code <= SC_KPDOT)	/* shift inverts num lock */
		return num != shift ? keypad[code - SC_KP7].num :
		    keypad[code - SC_KP7].nav;
	return 0;
}

static int
emit(const struct scan *s, const struct keymap *km, uint32_t key, int down,
    struct key_event *ev)
{
	if (!key)
		return 0;
	*ev = (struct key_event){ .code = key, .mods = scan_mods(s, km),
	    .pressed = (uint8_t)down };
	return 1;
}

int
scan_feed(struct scan *s, const struct keymap *km, uint8_t b,
    struct key_event *ev, int *locks_changed)
{
	uint8_t code = b & (uint8_t)~BREAK;
	int down = !(b & BREAK), ext;
	uint32_t key;

	*locks_changed = 0;
	if (s->state == SC_E1) {		/* inside Pause: swallowed */
		if (--s->skip == 0)
			s->state = SC_BASE;
		return 0;
	}
	if (b == PREFIX_E0) {
		s->state = SC_E0;
		return 0;
	}
	if (b == PREFIX_E1) {			/* E1 1D 45 (or 9D C5) */
		s->state = SC_E1;
		s->skip = 2;
		return 0;
	}
	ext = s->state == SC_E0;
	s->state = SC_BASE;
	if (modifier(s, code, ext, down))
		return 0;
	if (ext)
		return emit(s, km, extended_key(code), down, ev);
	if (lock(s, code, down, locks_changed))
		return 0;
	if ((key = fixed_key(s, code)))
		return emit(s, km, key, down, ev);
	return emit(s, km, keymap_char(km, code, scan_mods(s, km)), down, ev);
}
