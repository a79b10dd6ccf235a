/*
 * log.c - the event ring and its reader (see log.h and abi/log.h).
 *
 * Interrupt handlers and the fault handler log too: the ring is touched
 * with interrupts held, and telling the reader is a work_post, which
 * never fails and never allocates.
 */
#include "hub.h"
#include "../abi/rt/rt.h"

/* The boot's first LOG_PIN lines stay in pinned[], never overwritten:
 * how a boot began (the stub, the firmware phase, the takeover) is what
 * log.txt must show of a PC that does not boot right, however long it
 * ran since.  The lines after them go round the ring. */
static struct log_line pinned[LOG_PIN];
static struct log_line ring[LOG_LINES];
static uint64_t head;		/* lines ever written: the next seq */
static uint64_t (*clock_ns)(void);
static log_sink_fn sink;
static struct pb_work *reader;	/* the reader's work item, or NULL */
static struct pb_module *reader_mod;	/* whose watch made it (NULL: the hub) */
static uint64_t taken;		/* the reader's next seq to take */
static int hub_shows;		/* LOG_DIRECT, LOG_DIRECT_ERRORS or 0 */
static uint64_t waiting = ~0ull;	/* the first line left for the reader */

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

/* The oldest of the newest lines kept without a gap. */
static uint64_t
oldest(void)
{
	return head > LOG_PIN + LOG_LINES ? head - LOG_LINES : 0;
}

/* Where line seq is kept (one copy of this: the hub's .text is watched). */
static __attribute__((noinline)) struct log_line *
slot(uint64_t seq)
{
	return seq < LOG_PIN ? &pinned[seq] : &ring[seq % LOG_LINES];
}

/* The hub's own writer, and the screen while nobody draws there. */
static void
to_sink(struct log_line *e, int direct)
{
	char line[LOG_FORMAT_MAX];

	if (direct)
		e->flags |= LOG_F_SHOWN;
	if (sink)
		sink(line, log_format(e, line, sizeof(line)), direct);
}

/* The hub writes the lines from seq s on that nobody showed. */
static void
show_from(uint64_t s)
{
	for (s = s > oldest() ? s : oldest(); s < head; s++)
		if (!(slot(s)->flags & (LOG_F_QUIET | LOG_F_SHOWN)))
			to_sink(slot(s), 1);
}

/* From off on, what the firmware phase left is shown: by the reader,
 * or by the hub if none came. */
void
log_set_direct(int on)
{
	uint64_t held = arch_irq_hold();

	hub_shows = on;
	if (!on && waiting != ~0ull) {
		if (reader)
			work_post(reader);
		else
			show_from(waiting);
		waiting = ~0ull;
	}
	arch_irq_release(held);
}

/*
 * In the firmware phase the hub writes on the firmware console what a
 * hang should leave on the screen (the boot's steps, each module's load)
 * and what went wrong.  Each line there costs milliseconds (the firmware
 * draws every glyph): the others wait in the ring, and the reader shows
 * them once the firmware has gone.
 */
static int
firmware_shows(const struct log_line *e)
{
	return log_is_error(e) || (hub_shows == LOG_DIRECT && (e->kind == LOG_BOOT ||
	    e->kind == LOG_LOAD || e->kind == LOG_SWAP ||
	    e->kind == LOG_OUTPUT));
}

static void
log_vrecord(int kind, int flags, const char *fmt, va_list ap)
{
	uint64_t held = arch_irq_hold();
	struct log_line *e = slot(head);

	e->seq = head++;
	e->ns = clock_ns ? clock_ns() : 0;
	e->kind = (uint8_t)kind;
	e->flags = (uint8_t)flags;
	rt_vsnprintf(e->text, sizeof(e->text), fmt, ap);
	if (!(flags & (LOG_F_QUIET | LOG_F_SHOWN))) {
		if (hub_shows && !firmware_shows(e)) {
			if (waiting == ~0ull)
				waiting = e->seq;
		} else {
			if (reader && !hub_shows)
				work_post(reader);
			to_sink(e, !reader || hub_shows);
		}
	}
	arch_irq_release(held);
}

static void __attribute__((format(printf, 3, 4)))
log_event_flags(int kind, int flags, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vrecord(kind, flags, fmt, ap);
	va_end(ap);
}

void
log_event(int kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vrecord(kind, 0, fmt, ap);
	va_end(ap);
}

/* Into the ring only, never shown: routine detail that would cut into
 * a command's output (a command's own connections). */
void
log_quiet(int kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vrecord(kind, LOG_F_QUIET, fmt, ap);
	va_end(ap);
}

/* A line someone else showed already (the stub's, on the firmware
 * console), for the ring only. */
void
log_shown(int kind, const char *text)
{
	log_event_flags(kind, LOG_F_SHOWN, "%s", text);
}

const struct log_line *
log_get(unsigned i)
{
	uint64_t seq = oldest() + i;

	return seq < head ? slot(seq) : NULL;
}

void
log_take_back(void)
{
	uint64_t held = arch_irq_hold();

	waiting = ~0ull;	/* written below, or at the watch */
	if (reader) {
		reader = NULL;
		reader_mod = NULL;
		/* The reader may have left a prompt and half a typed line on
		 * the console: the hub's lines begin on a line of their own. */
		if (sink)
			sink("\r\n", 2, 1);
		show_from(taken);
	}
	arch_irq_release(held);
}

/* The reader's module stops: its work item goes with it. */
void
log_forget(const struct pb_module *m)
{
	if (reader && reader_mod == m)
		log_take_back();
}

/* --- log:hub ----------------------------------------------------------- */

/*
 * The ops are the hub's code, reached from a module through the hub's
 * gate (x86_64/svcgate.S), in the hub's domain: what they write for the
 * caller must be memory it could write itself (argcheck.c).  And the log
 * has one reader: only the module whose watch made it takes its lines or
 * gives it back, so no other module can take the reader's lines or leave
 * it watching nothing.
 */
static int
op_read(void *ctx, uint64_t seq, struct log_line *out)
{
	uint64_t held;
	int r = PB_ENOENT;

	(void)ctx;
	if (!hub_out_ok("log:hub", out, sizeof(*out)))
		return PB_EFAULT;
	held = arch_irq_hold();
	if (seq < head) {
		*out = *slot(seq < LOG_PIN || seq > oldest() ? seq : oldest());
		r = PB_OK;
	}
	arch_irq_release(held);
	return r;
}

static int
op_watch(void *ctx, struct pb_work *w)
{
	struct pb_module *caller = arch_guard_owner();
	uint64_t held;
	int r = PB_OK;

	(void)ctx;
	/* Posting it writes the item: the caller's memory, as for out. */
	if (w && !hub_out_ok("log:hub", w, sizeof(*w)))
		return PB_EFAULT;
	held = arch_irq_hold();
	if (reader && (reader_mod != caller || (w && w != reader))) {
		r = PB_EBUSY;	/* another's: neither replaced nor given back */
	} else if (!reader && w) {
		reader = w;
		reader_mod = caller;
		taken = waiting < head ? waiting : head;
		waiting = ~0ull;
	}
	arch_irq_release(held);
	if (!w && r == PB_OK)
		log_take_back();
	return r;
}

static int
op_take(void *ctx, struct log_line *out)
{
	struct pb_module *caller = arch_guard_owner();
	uint64_t held;
	int r = PB_ENOENT;

	(void)ctx;
	if (!hub_out_ok("log:hub", out, sizeof(*out)))
		return PB_EFAULT;
	held = arch_irq_hold();
	if (reader && reader_mod != caller) {
		r = PB_EBUSY;
	} else if (reader && taken < head) {
		if (taken < oldest())
			taken = oldest();
		*out = *slot(taken++);
		r = PB_OK;
	}
	arch_irq_release(held);
	return r;
}

const struct log_ops log_ops = {
	.read = op_read,
	.watch = op_watch,
	.take = op_take,
};
