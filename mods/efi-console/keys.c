/*
 * keys.c - UEFI keys to key events (see keys.h).
 *
 * EFI_INPUT_KEY (UEFI 2.10, 12.3 "Simple Text Input Protocol"): ScanCode
 * is nonzero for keys without a character (table "EFI Scan Codes for
 * EFI_SIMPLE_TEXT_INPUT_PROTOCOL"); UnicodeChar carries the rest, with
 * backspace 0x08 and enter 0x0d as ConIn gives them.
 */
#include "keys.h"

/* EFI scan codes 0x01-0x17, in order. */
static const uint32_t scan_keys[] = {
	[0x01] = KEY_UP, [0x02] = KEY_DOWN, [0x03] = KEY_RIGHT,
	[0x04] = KEY_LEFT, [0x05] = KEY_HOME, [0x06] = KEY_END,
	[0x07] = KEY_INSERT, [0x08] = KEY_DELETE, [0x09] = KEY_PGUP,
	[0x0a] = KEY_PGDN, [0x0b] = KEY_F1, [0x0c] = KEY_F2, [0x0d] = KEY_F3,
	[0x0e] = KEY_F4, [0x0f] = KEY_F5, [0x10] = KEY_F6, [0x11] = KEY_F7,
	[0x12] = KEY_F8, [0x13] = KEY_F9, [0x14] = KEY_F10, [0x15] = KEY_F11,
	[0x16] = KEY_F12, [0x17] = KEY_ESC,
};

int
efikey_translate(const struct firmware_key *k, struct key_event *ev)
{
	uint32_t code = 0;

	if (k->scan && k->scan < sizeof(scan_keys) / sizeof(scan_keys[0]))
		code = scan_keys[k->scan];
	if (!code)
		code = k->ch;		/* characters pass through */
	if (!code)
		return 0;		/* a scan code we do not know */
	*ev = (struct key_event){ .code = code, .pressed = 1 };
	return 1;
}

int
keybuf_full(const struct keybuf *b)
{
	return b->n >= CONSOLE_STATE_KEYS;
}

int
keybuf_put(struct keybuf *b, const struct key_event *ev)
{
	if (keybuf_full(b))
		return 0;
	b->ev[b->n++] = *ev;
	return 1;
}

int
keybuf_get(struct keybuf *b, struct key_event *ev)
{
	if (!b->n)
		return 0;
	*ev = b->ev[0];
	b->n--;
	for (uint32_t i = 0; i < b->n; i++)
		b->ev[i] = b->ev[i + 1];
	return 1;
}
