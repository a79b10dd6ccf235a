/*
 * vt.c - decode a terminal's bytes into key events (see vt.h).
 *
 * States follow the shape of a VT500-series parser (ECMA-48 section 5.4
 * for CSI: parameters 0x30-0x3f, intermediates 0x20-0x2f, a final byte
 * 0x40-0x7e), cut down to what keyboards send.
 */
#include "vt.h"

enum vt_state { VT_GROUND, VT_ESC, VT_CSI, VT_SS3, VT_UTF8 };

#define ESC 0x1b
#define PARAM_MAX 9999

static unsigned
emit(struct key_event out[VT_MAX_OUT], unsigned n, uint32_t code,
    uint16_t mods)
{
	out[n] = (struct key_event){ .code = code, .mods = mods, .pressed = 1 };
	return n + 1;
}

void
vt_init(struct vt *vt)
{
	*vt = (struct vt){ .state = VT_GROUND };
}

int
vt_pending(const struct vt *vt)
{
	return vt->state == VT_ESC || vt->state == VT_CSI ||
	    vt->state == VT_SS3;
}

/* xterm's modifier parameter is 1 + (shift | alt << 1 | ctrl << 2). */
static uint16_t
modifiers(uint16_t p)
{
	uint16_t m = p > 1 ? (uint16_t)(p - 1) : 0, mods = 0;

	if (m & 1)
		mods |= KEYMOD_SHIFT;
	if (m & 2)
		mods |= KEYMOD_ALT;
	if (m & 4)
		mods |= KEYMOD_CTRL;
	return mods;
}

/* The key of a final letter, after CSI or SS3: 0 when none. */
static uint32_t
letter_key(uint8_t c)
{
	switch (c) {
	case 'A': return KEY_UP;
	case 'B': return KEY_DOWN;
	case 'C': return KEY_RIGHT;
	case 'D': return KEY_LEFT;
	case 'H': return KEY_HOME;
	case 'F': return KEY_END;
	case 'P': return KEY_F1;
	case 'Q': return KEY_F2;
	case 'R': return KEY_F3;
	case 'S': return KEY_F4;
	}
	return 0;
}

/* The key of ESC [ n ~ (the VT220 editing and function keys). */
static uint32_t
tilde_key(uint16_t n)
{
	static const uint32_t fkeys[] = {
		[11] = KEY_F1, [12] = KEY_F2, [13] = KEY_F3, [14] = KEY_F4,
		[15] = KEY_F5, [17] = KEY_F6, [18] = KEY_F7, [19] = KEY_F8,
		[20] = KEY_F9, [21] = KEY_F10, [23] = KEY_F11, [24] = KEY_F12,
	};

	switch (n) {
	case 1: case 7: return KEY_HOME;
	case 2: return KEY_INSERT;
	case 3: return KEY_DELETE;
	case 4: case 8: return KEY_END;
	case 5: return KEY_PGUP;
	case 6: return KEY_PGDN;
	}
	return n < sizeof(fkeys) / sizeof(fkeys[0]) ? fkeys[n] : 0;
}

static unsigned ground(struct vt *vt, uint8_t c, struct key_event *out,
    unsigned n);

/* A CSI sequence ended with final byte c. */
static unsigned
csi_final(struct vt *vt, uint8_t c, struct key_event *out, unsigned n)
{
	uint16_t mods = modifiers(vt->param[1]);
	uint32_t key = 0;

	vt->state = VT_GROUND;
	if (vt->odd)
		return n;		/* private or unknown: swallowed */
	if (c == '~')
		key = tilde_key(vt->param[0]);
	else if (c == 'Z')
		return emit(out, n, '\t', KEYMOD_SHIFT);
	else
		key = letter_key(c);
	return key ? emit(out, n, key, mods) : n;
}

static unsigned
csi(struct vt *vt, uint8_t c, struct key_event *out, unsigned n)
{
	if (c >= '0' && c <= '9') {
		if (vt->nparam == 0)
			vt->nparam = 1;
		if (vt->nparam <= 2) {
			uint16_t *p = &vt->param[vt->nparam - 1];
			*p = *p >= PARAM_MAX / 10 ? PARAM_MAX :
			    (uint16_t)(*p * 10 + (c - '0'));
		}
		return n;
	}
	if (c == ';') {
		vt->nparam = vt->nparam ? vt->nparam + 1 : 2;
		if (vt->nparam > 2)
			vt->odd = 1;
		return n;
	}
	if ((c >= 0x20 && c <= 0x2f) || (c >= 0x3a && c <= 0x3f)) {
		vt->odd = 1;		/* intermediates, private markers */
		return n;
	}
	if (c >= 0x40 && c <= 0x7e)
		return csi_final(vt, c, out, n);
	/* A control byte or ESC cuts the sequence: it is a key of its own. */
	vt->state = VT_GROUND;
	return ground(vt, c, out, n);
}

static unsigned
ss3(struct vt *vt, uint8_t c, struct key_event *out, unsigned n)
{
	uint32_t key;

	if (c >= '0' && c <= '9') {	/* some terminals: ESC O 5 A */
		vt->param[1] = (uint16_t)(c - '0');
		return n;
	}
	vt->state = VT_GROUND;
	if (c == 'M')			/* keypad enter */
		return emit(out, n, '\r', 0);
	if ((key = letter_key(c)))
		return emit(out, n, key, modifiers(vt->param[1]));
	if (c < 0x20 || c == 0x7f)
		return ground(vt, c, out, n);
	return n;
}

static unsigned
escape(struct vt *vt, uint8_t c, struct key_event *out, unsigned n)
{
	vt->nparam = vt->odd = 0;
	vt->param[0] = vt->param[1] = 0;
	if (c == '[') {
		vt->state = VT_CSI;
		return n;
	}
	if (c == 'O') {
		vt->state = VT_SS3;
		return n;
	}
	/* ESC then anything else: the ESC key, then that byte. */
	vt->state = VT_GROUND;
	return ground(vt, c, out, emit(out, n, KEY_ESC, 0));
}

/* UTF-8 (RFC 3629): the lead byte's length, or 0 when it cannot lead. */
static unsigned
utf8_len(uint8_t c)
{
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

static int
utf8_valid(uint32_t cp, unsigned len)
{
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };

	return cp >= min[len] && cp <= 0x10ffff &&
	    (cp < 0xd800 || cp > 0xdfff);
}

static unsigned
utf8(struct vt *vt, uint8_t c, struct key_event *out, unsigned n)
{
	if ((c & 0xc0) != 0x80) {	/* cut short */
		vt->state = VT_GROUND;
		return ground(vt, c, out, emit(out, n, VT_REPLACEMENT, 0));
	}
	vt->cp = vt->cp << 6 | (c & 0x3f);
	if (--vt->need)
		return n;
	vt->state = VT_GROUND;
	return emit(out, n, utf8_valid(vt->cp, vt->len) ? vt->cp :
	    VT_REPLACEMENT, 0);
}

static unsigned
ground(struct vt *vt, uint8_t c, struct key_event *out, unsigned n)
{
	int after_cr = vt->after_cr;
	unsigned len;

	vt->after_cr = c == '\r';
	if (c == ESC) {
		vt->state = VT_ESC;
		return n;
	}
	if (c == '\r')
		return emit(out, n, '\r', 0);
	if (c == '\n')
		return after_cr ? n : emit(out, n, '\r', 0);
	if (c == 0x7f || c == 0x08)
		return emit(out, n, 0x08, 0);
	if (c < 0x80)
		return emit(out, n, c, 0);
	if (!(len = utf8_len(c)))
		return emit(out, n, VT_REPLACEMENT, 0);
	vt->state = VT_UTF8;
	vt->len = (uint8_t)len;
	vt->need = (uint8_t)(len - 1);
	vt->cp = c & (0x7f >> len);
	return n;
}

unsigned
vt_feed(struct vt *vt, uint8_t c, struct key_event out[VT_MAX_OUT])
{
	switch (vt->state) {
	case VT_ESC:
		return escape(vt, c, out, 0);
	case VT_CSI:
		return csi(vt, c, out, 0);
	case VT_SS3:
		return ss3(vt, c, out, 0);
	case VT_UTF8:
		return utf8(vt, c, out, 0);
	default:
		return ground(vt, c, out, 0);
	}
}

unsigned
vt_timeout(struct vt *vt, struct key_event out[VT_MAX_OUT])
{
	unsigned n = 0;

	if (!vt_pending(vt))
		return 0;
	/* ESC, ESC [ or ESC O alone: the keys as typed.  Half a sequence
	 * with parameters is noise: dropped. */
	if (vt->state == VT_ESC || vt->nparam == 0) {
		n = emit(out, n, KEY_ESC, 0);
		if (vt->state == VT_CSI && !vt->odd)
			n = emit(out, n, '[', 0);
		else if (vt->state == VT_SS3 && !vt->param[1])
			n = emit(out, n, 'O', 0);
	}
	vt->state = VT_GROUND;
	return n;
}
