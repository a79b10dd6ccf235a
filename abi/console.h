/*
 * console.h - interface `console` 1.0: a text output device.
 *
 * Text is UTF-8 with the common ANSI escape sequences (CSI m colours,
 * cursor moves, clear).  Providers: efi-console (firmware phase), serial,
 * fbcon.  A client that wants every console (the shell) requires it with
 * PB_CARD_ALL and writes to each connection.  A console on a screen says
 * so with the property `kind=screen` (fbcon): the shell shows the hub's
 * log there less verbosely than on a serial line.
 */
#ifndef PB_ABI_CONSOLE_H
#define PB_ABI_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "keyboard.h"

#define CONSOLE_IFACE "console"
#define CONSOLE_MAJOR 1
#define CONSOLE_MINOR 0

struct console_ops {
	/* Write len bytes; returns bytes taken (all of them, or an error). */
	int (*write)(void *ctx, const char *s, size_t len);
	/* Size in character cells. */
	int (*size)(void *ctx, uint32_t *cols, uint32_t *rows);
	int (*clear)(void *ctx);
};

/*
 * The state every console provider exports and imports when it is swapped
 * (export_state version CONSOLE_STATE_VERSION), so any console can take
 * over from any other: the recent output to redraw or replay, the cursor,
 * the colours, and the keys typed but not yet read (for providers that
 * are keyboards too).  A provider takes what it can use and ignores the
 * rest; the blob is the struct followed by text_len bytes of text.
 */
#define CONSOLE_STATE_VERSION 1
#define CONSOLE_STATE_KEYS 32
#define CONSOLE_STATE_TEXT_MAX (64u << 10)

struct console_state {
	uint32_t cols, rows;		/* the exporter's size; 0 if unknown */
	uint32_t cur_x, cur_y;
	uint32_t fg, bg;		/* 0x00RRGGBB */
	uint32_t text_len;		/* bytes following the struct */
	uint32_t nkeys;
	struct key_event keys[CONSOLE_STATE_KEYS];	/* oldest first */
	/* then: char text[text_len], oldest first, as written; then, when
	 * more keys are unread than keys[] holds, the rest as struct
	 * key_event up to the blob's end, oldest first (an importer that
	 * takes keys takes them too; the others ignore them) */
};
_Static_assert(sizeof(struct console_state) == 32 + 8 * CONSOLE_STATE_KEYS,
    "console_state layout");

#endif
