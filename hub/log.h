/*
 * log.h - the hub's event log: a ring of timestamped lines.
 *
 * Every load, start, bind, swap, unload, refusal and fault is one line,
 * kept in the ring for the shell's `log` and written to the current sink:
 * the firmware console before ExitBootServices, COM1 after (the hub's own
 * polled writer, hub/x86_64/uart.c, whole lines between the serial
 * module's; on a PC without COM1 the ring alone).  Portable: the clock and
 * the sink are set by the caller.
 */
#ifndef PB_HUB_LOG_H
#define PB_HUB_LOG_H

#include <stddef.h>
#include <stdint.h>

#define LOG_LINE_MAX 160
#define LOG_LINES 256

enum log_kind {
	LOG_BOOT, LOG_LOAD, LOG_START, LOG_BIND, LOG_SWAP, LOG_UNLOAD,
	LOG_REFUSE, LOG_FAULT, LOG_ERROR, LOG_MOD, LOG_INFO,
};

struct log_entry {
	uint64_t ns;
	uint8_t kind;
	char text[LOG_LINE_MAX];
};

typedef void (*log_sink_fn)(const char *s, size_t len);

void log_set_clock(uint64_t (*now_ns)(void));
/* Sinks receive each line with its trailing newline. */
void log_set_sink(log_sink_fn sink);
void log_quiet(int kind, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_event(int kind, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_raw(const char *s, size_t len);	/* to the sink, not the ring */
/* The i-th oldest line still in the ring, or NULL. */
const struct log_entry *log_get(unsigned i);
const char *log_kind_name(int kind);
void log_format_entry(const struct log_entry *e, char *buf, size_t cap);

#endif
