/*
 * state.h - fbcon's side of a console swap: struct console_state
 * (abi/console.h, version CONSOLE_STATE_VERSION) to and from the grid.
 *
 * Export writes the recent text as it would have been written: the lines
 * of the scrollback and the screen, oldest first, trailing blanks trimmed,
 * with SGR sequences where the colours change, then the sequences that put
 * the cursor and the pen back where they are.  A console that replays the
 * text through an ANSI parser shows what fbcon showed, at most
 * CONSOLE_STATE_TEXT_MAX bytes of it.  Import validates the blob, then
 * replays its text into a cleared grid.  Pure C (host-tested).
 */
#ifndef FBCON_STATE_H
#define FBCON_STATE_H

#include "../../abi/console.h"
#include "term.h"

#define STATE_MAX (sizeof(struct console_state) + CONSOLE_STATE_TEXT_MAX)

/* Write the state into out (STATE_MAX bytes); returns its length. */
size_t state_export(const struct term *t, void *out);
/* PB_OK, or PB_ESTATE for a blob of another version or a bad length. */
int state_import(struct term *t, const void *buf, size_t len,
    uint32_t version);

#endif
