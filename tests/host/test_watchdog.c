/*
 * test_watchdog.c - what the NMI watchdog and the firmware's timer event
 * decide (hub/work.c: hub_watch_overdue, hub_watch_unwound,
 * hub_watch_may_end): which call is overdue, a handler judged by its own
 * count, a nested call by its own, nothing of the hub's, nothing stale
 * after an unwind, and never module code the hub called itself.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fakemod.h"

#define LIMIT 2000000000ull
#define LATE (LIMIT + 1000000)

/* Is the innermost call overdue, as the NMI would ask right now? */
static int
overdue(void)
{
	return hub_watch_overdue(arch_now_ns(), arch_guard_depth());
}

static int seen_early, seen_late, seen_in_handler, seen_handler_late,
    seen_after_handler;
static int vector;

static void
long_item(void *arg)
{
	(void)arg;
	seen_early = overdue();
	fake_now += LATE;
	seen_late = overdue();
}

TEST(watch_overdue_only_past_the_limit_inside_the_call)
{
	struct fm *m;
	uint64_t limit = hub_watchdog_ns;

	fm_setup();
	hub_watchdog_ns = LIMIT;
	m = fm_add_running("m");
	CHECK_EQ_INT(work_queue(m->m, long_item, NULL), PB_OK);
	fm_run_work();
	CHECK_EQ_INT(seen_early, 0);
	CHECK_EQ_INT(seen_late, 1);
	CHECK_EQ_INT(overdue(), 0);		/* the hub's own code now */
	/* watchdog=0: nothing is ever overdue. */
	hub_watchdog_ns = 0;
	CHECK_EQ_INT(work_queue(m->m, long_item, NULL), PB_OK);
	fm_run_work();
	CHECK_EQ_INT(seen_late, 0);
	hub_watchdog_ns = limit;
	fm_teardown();
}

static void
slow_handler(void *arg)
{
	(void)arg;
	seen_in_handler = overdue();
	fake_now += LATE;
	seen_handler_late = overdue();
}

/* A work item already late when an interrupt cuts in: the handler has a
 * count of its own, and when it returns the item is judged again. */
static void
late_item_interrupted(void *arg)
{
	(void)arg;
	fake_now += LATE;
	hub_irq_dispatch(vector);
	seen_after_handler = overdue();
}

TEST(watch_handler_judged_by_its_own_count)
{
	struct fm *m, *d;
	uint64_t limit = hub_watchdog_ns;

	fm_setup();
	hub_watchdog_ns = LIMIT;
	m = fm_add_running("m");
	d = fm_add_running("drv");
	vector = irq_alloc(d->m);
	CHECK_EQ_INT(irq_register(d->m, vector, slow_handler, NULL), PB_OK);
	CHECK_EQ_INT(work_queue(m->m, late_item_interrupted, NULL), PB_OK);
	fm_run_work();
	CHECK_EQ_INT(seen_in_handler, 0);
	CHECK_EQ_INT(seen_handler_late, 1);
	CHECK_EQ_INT(seen_after_handler, 1);
	/* A handler cutting into the hub (no watched call) counts too. */
	seen_handler_late = 0;
	hub_irq_dispatch(vector);
	CHECK_EQ_INT(seen_handler_late, 1);
	CHECK_EQ_INT(overdue(), 0);
	hub_watchdog_ns = limit;
	fm_teardown();
}

static struct fm *callee;
static int seen_inner_early, seen_outer_paused;

static long
inner_call(void *arg)
{
	(void)arg;
	seen_inner_early = overdue();
	fake_now += LATE;
	return PB_OK;
}

/* The item is late; the call it makes is judged on its own, and the
 * time spent in it is not the item's. */
static void
caller_item(void *arg)
{
	(void)arg;
	fake_now += LIMIT / 2;
	mod_call_watched(callee->m, inner_call, NULL, 0);
	seen_outer_paused = overdue();
	fake_now += LIMIT;
	seen_late = overdue();
}

TEST(watch_nested_call_own_count_and_the_callers_paused)
{
	struct fm *m;
	uint64_t limit = hub_watchdog_ns;

	fm_setup();
	hub_watchdog_ns = LIMIT;
	m = fm_add_running("m");
	callee = fm_add_running("callee");
	CHECK_EQ_INT(work_queue(m->m, caller_item, NULL), PB_OK);
	fm_run_work();
	CHECK_EQ_INT(seen_inner_early, 0);
	CHECK_EQ_INT(seen_outer_paused, 0);	/* 1 s of its own so far */
	CHECK_EQ_INT(seen_late, 1);		/* 2 s now */
	hub_watchdog_ns = limit;
	fm_teardown();
}

static int seen_hub_wait;

/* The hub waiting inside a call (a swap's drain) is its own business. */
static void
waiting_item(void *arg)
{
	struct watch outer = watch_begin(NULL);

	(void)arg;
	fake_now += LATE;
	seen_hub_wait = hub_watch_overdue(arch_now_ns(),
	    arch_guard_depth() + 1);
	watch_end(outer);
}

TEST(watch_never_the_hubs_own_wait)
{
	struct fm *m;
	uint64_t limit = hub_watchdog_ns;

	fm_setup();
	hub_watchdog_ns = LIMIT;
	m = fm_add_running("m");
	CHECK_EQ_INT(work_queue(m->m, waiting_item, NULL), PB_OK);
	fm_run_work();
	CHECK_EQ_INT(seen_hub_wait, 0);
	hub_watchdog_ns = limit;
	fm_teardown();
}

static int seen_stale, seen_fresh;

/* The handler's guard was popped (an unwind): its count is over, and a
 * guard taken at the same depth afterwards is not judged by it. */
static void
unwound_handler(void *arg)
{
	unsigned d = arch_guard_depth() - 1;

	(void)arg;
	fake_now += LATE;
	hub_watch_unwound(d);
	seen_stale = hub_watch_overdue(arch_now_ns(), d + 1);
}

TEST(watch_unwound_guard_leaves_nothing_stale)
{
	struct fm *d;
	uint64_t limit = hub_watchdog_ns;

	fm_setup();
	hub_watchdog_ns = LIMIT;
	d = fm_add_running("drv");
	vector = irq_alloc(d->m);
	CHECK_EQ_INT(irq_register(d->m, vector, unwound_handler, NULL), PB_OK);
	seen_stale = 1;
	hub_irq_dispatch(vector);
	CHECK_EQ_INT(seen_stale, 0);
	seen_fresh = overdue();
	CHECK_EQ_INT(seen_fresh, 0);
	hub_watchdog_ns = limit;
	fm_teardown();
}

static uint64_t
clk_now_ns(void *ctx)
{
	(void)ctx;
	return fake_now;
}

static const struct pb_clock fake_clock = { .now_ns = clk_now_ns };

static void
eoi(void *ctx, int vector)
{
	(void)ctx;
	(void)vector;
}

TEST(watch_may_end_module_code_not_what_the_hub_called_itself)
{
	struct fm *a, *b, *timer, *apic;

	fm_setup();
	a = fm_add_running("a");
	b = fm_add_running("b");
	timer = fm_add_running("timer");
	apic = fm_add_running("apic");
	CHECK_EQ_INT(hub_set_clock(timer->m, &fake_clock, NULL), PB_OK);
	CHECK_EQ_INT(hub_set_irq_eoi(apic->m, eoi, NULL), PB_OK);
	CHECK_EQ_INT(hub_watch_may_end(NULL, a->m), 0);	/* hub code */
	CHECK_EQ_INT(hub_watch_may_end(a->m, a->m), 1);
	CHECK_EQ_INT(hub_watch_may_end(b->m, a->m), 1);	/* a's provider */
	CHECK_EQ_INT(hub_watch_may_end(timer->m, a->m), 0);	/* the clock */
	CHECK_EQ_INT(hub_watch_may_end(apic->m, a->m), 0);	/* the EOI */
	CHECK_EQ_INT(hub_watch_may_end(timer->m, timer->m), 1);
	work_drop_module(timer->m);
	work_drop_module(apic->m);
	fm_teardown();
}
