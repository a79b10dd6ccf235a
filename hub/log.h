/*
 * log.h - the hub's event log: timestamped lines, the boot's first
 * LOG_PIN kept for good and the newest LOG_RING in a ring (the `log`
 * interface, abi/log.h, is how modules see it).
 *
 * Every load, start, bind, swap, unload, refusal and fault is one line,
 * kept in the ring and shown by the log's reader (the shell, through
 * `log:hub`) or, while there is none, by the hub's own writer, the sink:
 * the firmware console before ExitBootServices, COM1 after (the hub's
 * polled writer, hub/x86_64/uart.c), and the screen while no module
 * draws there (screen.c).  Portable: the clock and the sink are set by
 * the caller.
 */
#ifndef PB_HUB_LOG_H
#define PB_HUB_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "../abi/log.h"

#define LOG_LINES LOG_RING

struct pb_module;

/* A formatted line with its newline; `direct` when no reader shows it,
 * so the hub's own console must. */
typedef void (*log_sink_fn)(const char *s, size_t len, int direct);

void log_set_clock(uint64_t (*now_ns)(void));
void log_set_sink(log_sink_fn sink);
/* While the boot runs in the firmware phase (LOG_DIRECT) the hub writes
 * the boot's steps, each module's load and every error on the firmware
 * console itself, reader or not (flagged LOG_F_SHOWN, which the reader
 * does not show again): a hang before the boot's end leaves the last
 * step on the screen.  The other lines wait for the reader until the
 * direct writing ends.  LOG_DIRECT_ERRORS (the takeover, until its
 * swaps are over) writes errors only: a line on ConOut may make the
 * firmware take keys from the UART, which the exit would lose, and after
 * the exit the hub's screen writer would draw inside the blackouts. */
#define LOG_DIRECT 1
#define LOG_DIRECT_ERRORS 2
void log_set_direct(int on);
void log_quiet(int kind, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_event(int kind, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A line already on the firmware console (the stub's): ring only. */
void log_shown(int kind, const char *text);
/* The i-th oldest of the newest lines kept without a gap (the boot's
 * first lines among them until lines were dropped), or NULL. */
const struct log_line *log_get(unsigned i);
/* The reader stops showing the log: the hub writes what it did not take
 * and shows the lines itself from now on (before a reset, at a fatal
 * fault, when the reader's module stops). */
void log_take_back(void);
void log_forget(const struct pb_module *m);	/* m stops */
/* `log:hub`'s operations. */
extern const struct log_ops log_ops;

#endif
