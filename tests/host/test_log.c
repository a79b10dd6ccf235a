/*
 * test_log.c - the hub's log (hub/log.c) and `log:hub` (abi/log.h): lines
 * numbered and kept (the boot's first for good, the newest in a ring),
 * shown by the hub itself until a reader watches, taken by the reader in
 * order, taken back (the untaken lines written by the hub) when the
 * reader's module stops, by no other module; and the one line format
 * (abi/rt/logfmt.c).
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fake_arch.h"
#include "fakemod.h"

static char direct_out[32768], screen_out[32768];

static void
sink(const char *s, size_t len, int direct)
{
	char *to = direct ? direct_out : screen_out;
	size_t n = strlen(to);

	if (n + len < sizeof(direct_out)) {
		memcpy(to + n, s, len);
		to[n + len] = '\0';
	}
}

static void
setup(void)
{
	fm_setup();
	log_set_sink(sink);
	direct_out[0] = screen_out[0] = '\0';
}

/* A marker line, and the number the next line will get. */
static uint64_t
next_seq(void)
{
	unsigned n = 0;

	log_event(LOG_INFO, "marker");
	while (log_get(n))
		n++;
	return log_get(n - 1)->seq + 1;
}

static void
nothing(void *arg)
{
	(void)arg;
}

/* A log:hub op called by module m's code: the hub knows its caller by
 * the innermost guarded call. */
enum { WATCH, TAKE, READ };
struct call {
	int op;
	void *arg;
};

static long
call_op(void *p)
{
	struct call *c = p;

	if (c->op == WATCH)
		return log_ops.watch(NULL, c->arg);
	if (c->op == TAKE)
		return log_ops.take(NULL, c->arg);
	return log_ops.read(NULL, 0, c->arg);
}

static int
as(struct pb_module *m, int op, void *arg)
{
	struct call c = { op, arg };

	return (int)arch_call_guarded(call_op, &c, m, 0);
}

TEST(log_lines_are_numbered_and_shown_by_the_hub)
{
	struct log_line l;
	uint64_t s;

	setup();
	s = next_seq();
	log_event(LOG_LOAD, "one %d", 1);
	log_quiet(LOG_BIND, "quiet");
	log_event(LOG_ERROR, "bad");
	CHECK_EQ_INT(log_ops.read(NULL, s, &l), PB_OK);
	CHECK_EQ_INT(l.seq, s);
	CHECK_STR(l.text, "one 1");
	CHECK_EQ_INT(l.kind, LOG_LOAD);
	CHECK(l.flags & LOG_F_SHOWN);
	CHECK_EQ_INT(log_ops.read(NULL, s + 1, &l), PB_OK);
	CHECK_EQ_INT(l.flags, LOG_F_QUIET);
	CHECK_EQ_INT(log_ops.read(NULL, s + 3, &l), PB_ENOENT);
	/* No reader: the hub's own writer shows them, quiet ones aside. */
	CHECK_CONTAINS(direct_out, "] one 1\n");
	CHECK_CONTAINS(direct_out, "] error: bad\n");
	CHECK(!strstr(direct_out, "quiet"));
	CHECK(!screen_out[0]);
	log_set_sink(NULL);
	fm_teardown();
}

/* The lines numbered from here on go round the ring: the boot's first
 * LOG_PIN are written (by this test or those before it). */
static void
past_the_pinned(void)
{
	for (int i = 0; i < LOG_PIN; i++)
		log_quiet(LOG_INFO, "filler %d", i);
}

TEST(log_ring_keeps_the_newest)
{
	struct log_line l;
	uint64_t s;

	setup();
	past_the_pinned();
	s = next_seq();
	for (int i = 0; i < LOG_LINES + 10; i++)
		log_event(LOG_INFO, "line %d", i);
	/* A line gone from the ring reads as the oldest kept after it. */
	CHECK_EQ_INT(log_ops.read(NULL, s, &l), PB_OK);
	CHECK_EQ_INT(l.seq, s + 10);
	CHECK_STR(l.text, "line 10");
	CHECK_STR(log_get(0)->text, "line 10");
	CHECK_STR(log_get(LOG_LINES - 1)->text, "line 265");
	CHECK(log_get(LOG_LINES) == NULL);
	log_set_sink(NULL);
	fm_teardown();
}

/* The boot's first LOG_PIN lines are never overwritten: read from seq 0
 * on, the log is those, then a jump over the lines dropped, then the
 * newest LOG_LINES. */
TEST(log_keeps_the_boot_s_first_lines)
{
	struct log_line first, last_pinned, l;
	char oldest[32], newest[32];
	uint64_t s;

	setup();
	past_the_pinned();
	REQUIRE(log_ops.read(NULL, 0, &first) == PB_OK);
	REQUIRE(log_ops.read(NULL, LOG_PIN - 1, &last_pinned) == PB_OK);
	CHECK_EQ_INT(first.seq, 0);
	CHECK_EQ_INT(last_pinned.seq, LOG_PIN - 1);
	s = next_seq();
	for (int i = 0; i < 2 * LOG_LINES; i++)
		log_event(LOG_INFO, "late %d", i);
	snprintf(oldest, sizeof(oldest), "late %d", LOG_LINES);
	snprintf(newest, sizeof(newest), "late %d", 2 * LOG_LINES - 1);
	CHECK_EQ_INT(log_ops.read(NULL, 0, &l), PB_OK);
	CHECK_EQ_INT(l.seq, 0);
	CHECK_STR(l.text, first.text);
	CHECK_EQ_INT(log_ops.read(NULL, LOG_PIN - 1, &l), PB_OK);
	CHECK_EQ_INT(l.seq, LOG_PIN - 1);
	CHECK_STR(l.text, last_pinned.text);
	/* The next after them: the oldest of the newest. */
	CHECK_EQ_INT(log_ops.read(NULL, LOG_PIN, &l), PB_OK);
	CHECK_EQ_INT(l.seq, s + LOG_LINES);
	CHECK_STR(l.text, oldest);
	CHECK_EQ_INT(log_ops.read(NULL, s + 2 * LOG_LINES - 1, &l), PB_OK);
	CHECK_STR(l.text, newest);
	CHECK_EQ_INT(log_ops.read(NULL, s + 2 * LOG_LINES, &l), PB_ENOENT);
	/* The hub's fatal-fault screen shows the newest, without the gap. */
	CHECK_STR(log_get(0)->text, oldest);
	CHECK(log_get(LOG_LINES) == NULL);
	log_set_sink(NULL);
	fm_teardown();
}

TEST(log_reader_takes_the_lines_after_its_watch)
{
	struct fm *f;
	struct pb_work w, other;
	struct log_line l;
	uint64_t s;

	setup();
	f = fm_add("reader", 0);
	f->m->state = MOD_RUNNING;
	work_init(f->m, &w, nothing, NULL);
	work_init(NULL, &other, nothing, NULL);
	past_the_pinned();
	log_event(LOG_INFO, "before");
	CHECK_EQ_INT(as(f->m, WATCH, &w), PB_OK);
	CHECK_EQ_INT(log_ops.watch(NULL, &other), PB_EBUSY);
	CHECK_EQ_INT(as(f->m, WATCH, &w), PB_OK);	/* again: no change */
	direct_out[0] = '\0';
	s = next_seq();
	log_event(LOG_SWAP, "after");
	/* Told by its work item; the hub writes nothing itself now. */
	CHECK(w.queued);
	CHECK(!strstr(direct_out, "after"));
	CHECK_CONTAINS(screen_out, "] after\n");	/* the screen decides */
	CHECK_EQ_INT(as(f->m, TAKE, &l), PB_OK);
	CHECK_STR(l.text, "marker");
	CHECK_EQ_INT(as(f->m, TAKE, &l), PB_OK);
	CHECK_EQ_INT(l.seq, s);
	CHECK_STR(l.text, "after");
	CHECK(!(l.flags & LOG_F_SHOWN));
	CHECK_EQ_INT(as(f->m, TAKE, &l), PB_ENOENT);
	/* Lines it lost to the ring: the next take jumps. */
	for (int i = 0; i < LOG_LINES + 5; i++)
		log_event(LOG_INFO, "flood %d", i);
	CHECK_EQ_INT(as(f->m, TAKE, &l), PB_OK);
	CHECK_STR(l.text, "flood 5");
	CHECK_EQ_INT(l.seq, s + 6);
	/* Given back: the hub shows the untaken lines, then its own. */
	CHECK_EQ_INT(as(f->m, WATCH, NULL), PB_OK);
	CHECK_CONTAINS(direct_out, "] flood 6\n");
	CHECK_CONTAINS(direct_out, "] flood 260\n");
	CHECK(!strstr(direct_out, "flood 5\n"));
	CHECK_EQ_INT(as(f->m, TAKE, &l), PB_ENOENT);
	log_event(LOG_INFO, "mine again");
	CHECK_CONTAINS(direct_out, "] mine again\n");
	work_cancel(&w);
	log_set_sink(NULL);
	fm_teardown();
}

TEST(log_reader_module_stopping_gives_the_log_back)
{
	struct fm *f;
	struct pb_work w;

	setup();
	f = fm_add("reader", 0);
	f->m->state = MOD_RUNNING;
	work_init(f->m, &w, nothing, NULL);
	REQUIRE(as(f->m, WATCH, &w) == PB_OK);
	log_event(LOG_INFO, "not yet taken");
	CHECK(!strstr(direct_out, "not yet taken"));
	log_forget(fm_add("other", 0)->m);	/* not the reader: no change */
	CHECK(!strstr(direct_out, "not yet taken"));
	mod_stop(f->m);
	CHECK_CONTAINS(direct_out, "] not yet taken\n");
	CHECK(!w.queued);
	log_event(LOG_INFO, "after the stop");
	CHECK_CONTAINS(direct_out, "] after the stop\n");
	CHECK(!w.queued);
	log_set_sink(NULL);
	fm_teardown();
}

/* Only the module whose watch made the reader takes its lines or gives
 * the log back; what an op writes is memory its caller could write. */
TEST(log_reader_is_the_module_that_watched)
{
	struct fm *f, *g;
	struct pb_work w, w2;
	struct log_line l;

	setup();
	f = fm_add("reader", 0);
	g = fm_add("other", 0);
	f->m->state = g->m->state = MOD_RUNNING;
	work_init(f->m, &w, nothing, NULL);
	work_init(g->m, &w2, nothing, NULL);
	REQUIRE(as(f->m, WATCH, &w) == PB_OK);
	log_event(LOG_INFO, "for the reader");
	CHECK_EQ_INT(as(g->m, TAKE, &l), PB_EBUSY);
	CHECK_EQ_INT(as(g->m, WATCH, NULL), PB_EBUSY);
	CHECK_EQ_INT(as(g->m, WATCH, &w2), PB_EBUSY);
	CHECK(!strstr(direct_out, "for the reader"));	/* not given back */
	fake_may_write = 0;
	CHECK_EQ_INT(as(f->m, TAKE, &l), PB_EFAULT);
	CHECK_EQ_INT(as(g->m, READ, &l), PB_EFAULT);
	fake_may_write = 1;
	CHECK_CONTAINS(screen_out, "error: reader: log:hub: bad output");
	CHECK_CONTAINS(screen_out, "error: other: log:hub: bad output");
	/* The reader's lines are where they were, in order. */
	CHECK_EQ_INT(as(f->m, TAKE, &l), PB_OK);
	CHECK_STR(l.text, "for the reader");
	CHECK_EQ_INT(as(g->m, READ, &l), PB_OK);
	CHECK_EQ_INT(as(f->m, WATCH, NULL), PB_OK);
	CHECK_EQ_INT(as(g->m, WATCH, &w2), PB_OK);
	CHECK_EQ_INT(as(g->m, WATCH, NULL), PB_OK);
	work_cancel(&w);
	work_cancel(&w2);
	log_set_sink(NULL);
	fm_teardown();
}

TEST(log_format_lines)
{
	struct log_line l = { .ns = 12345678901ull, .kind = LOG_LOAD };
	char buf[LOG_FORMAT_MAX], small[16];

	strcpy(l.text, "serial loaded");
	CHECK_EQ_INT(log_format(&l, buf, sizeof(buf)), 29);
	CHECK_STR(buf, "[   12.345678] serial loaded\n");
	l.kind = LOG_FAULT;
	log_format(&l, buf, sizeof(buf));
	CHECK_STR(buf, "[   12.345678] error: serial loaded\n");
	l.kind = LOG_OUTPUT;
	log_format(&l, buf, sizeof(buf));
	CHECK_STR(buf, "serial loaded\n");
	/* Cut to fit, still one line. */
	l.kind = LOG_INFO;
	CHECK_EQ_INT(log_format(&l, small, sizeof(small)), 15);
	CHECK_STR(small, "[   12.345678]\n");
}

TEST(log_hub_shows_the_firmware_phase_boot_itself)
{
	struct fm *f;
	struct pb_work w;
	struct log_line l;

	setup();
	f = fm_add("reader", 0);
	f->m->state = MOD_RUNNING;
	work_init(f->m, &w, nothing, NULL);
	REQUIRE(as(f->m, WATCH, &w) == PB_OK);
	log_set_direct(1);
	log_event(LOG_LOAD, "booting");
	log_set_direct(0);
	/* On the hub's console, flagged: the reader takes it, to skip it. */
	CHECK_CONTAINS(direct_out, "] booting\n");
	REQUIRE(as(f->m, TAKE, &l) == PB_OK);
	CHECK_STR(l.text, "booting");
	CHECK(l.flags & LOG_F_SHOWN);
	log_event(LOG_LOAD, "booted");
	CHECK(!strstr(direct_out, "booted"));
	/* Given back: not written a second time, and from a line of its
	 * own (the reader may have left a prompt on the console). */
	direct_out[0] = '\0';
	log_take_back();
	CHECK_STR(direct_out, "\r\n[    0.000000] booted\n");
	work_cancel(&w);
	log_set_sink(NULL);
	fm_teardown();
}
