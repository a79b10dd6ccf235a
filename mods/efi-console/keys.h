/*
 * keys.h - the firmware's keys in abi/keyboard.h terms, and the few held
 * back for a swap.  Pure logic; tested on the host.
 */
#ifndef EFICON_KEYS_H
#define EFICON_KEYS_H

#include <stdint.h>

#include "../../abi/console.h"
#include "../../abi/firmware.h"
#include "../../abi/keyboard.h"

/* Keys read from ConIn but not yet by the client: what a swap hands over. */
struct keybuf {
	struct key_event ev[CONSOLE_STATE_KEYS];	/* oldest first */
	uint32_t n;
};

/* ConIn's key as a key event: 1, or 0 when it means nothing to us. */
int efikey_translate(const struct firmware_key *k, struct key_event *ev);

int keybuf_full(const struct keybuf *b);
int keybuf_put(struct keybuf *b, const struct key_event *ev);	/* 0: full */
int keybuf_get(struct keybuf *b, struct key_event *ev);	/* 0: empty */

#endif
