/*
 * console.h - interface `console` 1.0: a text output device.
 *
 * Text is UTF-8 with the common ANSI escape sequences (CSI m colours,
 * cursor moves, clear).  Providers: efi-console (firmware phase), serial,
 * fbcon.  A client that wants every console (the shell) requires it with
 * PB_CARD_ALL and writes to each connection.
 */
#ifndef PB_ABI_CONSOLE_H
#define PB_ABI_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

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

#endif
