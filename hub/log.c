/*
 * log.c - the event ring (see log.h).
 */
#include "hub.h"
#include "../abi/rt/rt.h"

static struct log_entry ring[LOG_LINES];
static unsigned head;		/* entries ever written */
static uint64_t (*clock_ns)(void);
static log_sink_fn sink;

static const char *const kind_names[] = {
	[LOG_BOOT] = "boot", [LOG_LOAD] = "load", [LOG_START] = "start",
	[LOG_BIND] = "bind", [LOG_SWAP] = "swap", [LOG_UNLOAD] = "unload",
	[LOG_REFUSE] = "refuse", [LOG_FAULT] = "fault", [LOG_ERROR] = "error",
	[LOG_MOD] = "mod", [LOG_INFO] = "info",
};

void
log_set_clock(uint64_t (*now_ns)(void))
{
	clock_ns = now_ns;
}

void
log_set_sink(log_sink_fn s)
{
	sink = s;
}

const char *
log_kind_name(int kind)
{
	if (kind < 0 || kind >= (int)(sizeof(kind_names) / sizeof(kind_names[0])))
		return "?";
	return kind_names[kind];
}

void
log_format_entry(const struct log_entry *e, char *buf, size_t cap)
{
	uint64_t us = e->ns / 1000;

	/* Errors and refusals carry the contract's "error: " prefix. */
	rt_snprintf(buf, cap, "[%5u.%06u] %s%s\n", (unsigned)(us / 1000000),
	    (unsigned)(us % 1000000),
	    e->kind == LOG_ERROR || e->kind == LOG_REFUSE ||
	    e->kind == LOG_FAULT ? "error: " : "", e->text);
}

void
log_raw(const char *s, size_t len)
{
	if (sink)
		sink(s, len);
}

static void
log_vrecord(int kind, int echo, const char *fmt, va_list ap)
{
	uint64_t held = arch_irq_hold();
	struct log_entry *e = &ring[head++ % LOG_LINES];
	char line[LOG_LINE_MAX + 32];

	e->ns = clock_ns ? clock_ns() : 0;
	e->kind = (uint8_t)kind;
	rt_vsnprintf(e->text, sizeof(e->text), fmt, ap);
	if (echo) {
		log_format_entry(e, line, sizeof(line));
		log_raw(line, strlen(line));
	}
	arch_irq_release(held);
}

/* Interrupt handlers log too: an entry is written with them held. */
void
log_event(int kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vrecord(kind, 1, fmt, ap);
	va_end(ap);
}

/* Into the ring only, not on the console: routine detail that would cut
 * into a command's output (a command's own connections). */
void
log_quiet(int kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vrecord(kind, 0, fmt, ap);
	va_end(ap);
}

const struct log_entry *
log_get(unsigned i)
{
	unsigned n = head < LOG_LINES ? head : LOG_LINES;

	if (i >= n)
		return NULL;
	return &ring[(head - n + i) % LOG_LINES];
}
