/*
 * vt.h - the terminal's keys: decode what a VT100/xterm-style terminal
 * sends down the line into abi/keyboard.h key events.
 *
 * Pure logic (no hardware, no hub), fed one byte at a time, so it works
 * the same from a polled or an interrupt-driven receiver and is tested on
 * the host (tests/host/test_serial.c).
 *
 *   ESC [ A..D, ESC O A..D	arrows (ESC [ 1;5 A: with modifiers)
 *   ESC [ H / F, ESC O H / F	home / end
 *   ESC [ n ~			1 7 home, 2 insert, 3 delete, 4 8 end,
 *				5 pgup, 6 pgdn, 11-15 17-21 23 24 F1-F12
 *   ESC O P..S, ESC [ P..S	F1-F4
 *   ESC [ Z			shift-tab
 *   DEL (0x7f), BS (0x08)	backspace (0x08)
 *   CR, CR LF, LF		enter (0x0d)
 *   UTF-8			the code point (U+FFFD when malformed)
 * A lone ESC becomes KEY_ESC once the line has been idle (vt_timeout);
 * a complete sequence it does not know is swallowed.
 */
#ifndef SERIAL_VT_H
#define SERIAL_VT_H

#include <stdint.h>

#include "../../abi/keyboard.h"

#define VT_MAX_OUT 3		/* key events one byte can complete */
#define VT_REPLACEMENT 0xfffd

struct vt {
	uint8_t state;		/* enum vt_state (vt.c) */
	uint8_t nparam;		/* parameters begun, CSI/SS3 */
	uint8_t odd;		/* private marker or intermediate seen */
	uint8_t need;		/* UTF-8 continuation bytes still due */
	uint8_t len;		/* UTF-8 sequence length */
	uint8_t after_cr;	/* the previous byte was CR */
	uint16_t param[2];	/* CSI parameters: key, modifiers */
	uint32_t cp;		/* UTF-8 code point so far */
};

void vt_init(struct vt *vt);
/* Feed one byte; returns how many events it completed into out. */
unsigned vt_feed(struct vt *vt, uint8_t c, struct key_event out[VT_MAX_OUT]);
/* Is a sequence begun that only more bytes or a timeout can end? */
int vt_pending(const struct vt *vt);
/* The line went idle: an escape begun is a key press after all. */
unsigned vt_timeout(struct vt *vt, struct key_event out[VT_MAX_OUT]);

#endif
