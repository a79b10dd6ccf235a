/*
 * keyboard.h - interface `keyboard` 1.1: key events.
 *
 * A provider queues what arrives until it is read (and exports that queue
 * when it is swapped, so no key is lost).  Minor 1.1 adds notify: the
 * client's work runs when keys wait, so it need not poll.  A client
 * registers again after PB_EV_REBOUND (the new provider does not know
 * it), and polls a 1.0 provider.
 */
#ifndef PB_ABI_KEYBOARD_H
#define PB_ABI_KEYBOARD_H

#include <stdint.h>

struct pb_module;

#define KEYBOARD_IFACE "keyboard"
#define KEYBOARD_MAJOR 1
#define KEYBOARD_MINOR 1

/* Key codes beyond Unicode characters. */
enum key_code {
	KEY_NONE = 0,
	KEY_UP = 0x110000, KEY_DOWN, KEY_LEFT, KEY_RIGHT,
	KEY_HOME, KEY_END, KEY_INSERT, KEY_DELETE, KEY_PGUP, KEY_PGDN,
	KEY_F1, KEY_F2, KEY_F3, KEY_F4, KEY_F5, KEY_F6,
	KEY_F7, KEY_F8, KEY_F9, KEY_F10, KEY_F11, KEY_F12, KEY_ESC,
};

#define KEYMOD_SHIFT	0x01
#define KEYMOD_CTRL	0x02
#define KEYMOD_ALT	0x04
#define KEYMOD_CAPS	0x08
#define KEYMOD_NUM	0x10
/* AltGr, the right Alt of a layout with a third level (abi/rt/keymap.h):
 * the character is that level's, and the event carries no KEYMOD_ALT.
 * (0x20 is scroll lock in the LED and lock fields below.) */
#define KEYMOD_ALTGR	0x40

struct key_event {
	uint32_t code;		/* Unicode character, or enum key_code */
	uint16_t mods;		/* KEYMOD_* */
	uint8_t pressed;	/* 1 press, 0 release */
	uint8_t reserved;
};

struct keyboard_ops {
	/* The next event, or PB_EAGAIN when none is waiting. */
	int (*read)(void *ctx, struct key_event *ev);
	/* Set caps/num/scroll lock LEDs (KEYMOD_CAPS | KEYMOD_NUM | 0x20). */
	int (*set_leds)(void *ctx, uint16_t leds);
	/* 1.1: fn(arg) runs as client's work (client: the caller's own
	 * self) once keys wait, again after read has said PB_EAGAIN and
	 * more came.  fn NULL stops it. */
	int (*notify)(void *ctx, struct pb_module *client, void (*fn)(void *),
	    void *arg);
};

/*
 * The state a keyboard-only provider exports and imports when it is
 * swapped (export_state version KEYBOARD_STATE_VERSION), so another
 * keyboard driver takes over with nothing lost: the modifiers held and
 * the locks on, what the LEDs show, and the keys not yet read.  Console
 * providers that are keyboards too hand over struct console_state
 * (console.h) instead; a keyboard provider may accept both.
 */
#define KEYBOARD_STATE_VERSION 0x4b420001u	/* "KB", 1: never a console's */
#define KEYBOARD_STATE_KEYS 32

struct keyboard_state {
	uint16_t mods;		/* KEYMOD_*: held now, and the locks on */
	uint16_t leds;		/* KEYMOD_CAPS | KEYMOD_NUM | 0x20 (scroll) */
	uint32_t nkeys;
	struct key_event keys[KEYBOARD_STATE_KEYS];	/* oldest first */
};
_Static_assert(sizeof(struct keyboard_state) == 8 + 8 * KEYBOARD_STATE_KEYS,
    "keyboard_state layout");

#endif
