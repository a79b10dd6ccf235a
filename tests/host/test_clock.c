/*
 * test_clock.c - periodic timers, the timer provider's clock and alarm,
 * the end-of-interrupt hook, the watchdog's clock, and resources that take
 * one client (hub/work.c, hub/res.c).
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fakemod.h"

static unsigned ticks;

static void
tick(void *arg)
{
	(void)arg;
	ticks++;
}

TEST(periodic_timer_fires_each_period_and_skips_when_late)
{
	struct fm *m;
	uint64_t t0;
	int id;

	fm_setup();
	m = fm_add_running("m");
	ticks = 0;
	t0 = fake_now;
	id = timer_add_every(m->m, 100, 100, tick, NULL);
	CHECK(id > 0);
	timers_run(t0 + 99);
	CHECK_EQ_INT(fm_run_work(), 0);
	timers_run(t0 + 100);
	CHECK_EQ_INT(fm_run_work(), 1);
	/* Two ticks before the loop runs its work: the timer's item is
	 * queued once (ABI 1.2 intrusive items), so it runs once. */
	timers_run(t0 + 200);
	timers_run(t0 + 300);
	CHECK_EQ_INT(fm_run_work(), 1);
	CHECK_EQ_INT(timers_next(), t0 + 400);
	/* A loop that comes 5 periods late runs it once, not five times. */
	timers_run(t0 + 750);
	CHECK_EQ_INT(fm_run_work(), 1);
	CHECK_EQ_INT(timers_next(), t0 + 800);
	timer_cancel(m->m, id);
	CHECK_EQ_INT(timers_next(), ~0ull);
	CHECK_EQ_INT(ticks, 3);
	fm_teardown();
}

/* A fake timer provider: its own clock, and the alarms asked of it. */
static uint64_t clk_now;
static uint64_t armed_ns;
static unsigned arms;

static uint64_t
clk_read(void *ctx)
{
	(void)ctx;
	return clk_now;
}

static void
clk_arm(void *ctx, uint64_t ns)
{
	(void)ctx;
	armed_ns = ns;
	arms++;
}

static const struct pb_clock fake_clock = { clk_read, clk_arm };
static uint64_t rearm_first, rearm_after;

TEST(clock_change_keeps_time_continuous)
{
	struct fm *t, *other;
	uint64_t before;

	fm_setup();
	t = fm_add_running("timer");
	other = fm_add_running("other");
	fake_now = 5000;
	before = hub_now_ns();
	clk_now = 1;	/* the provider counts from its own zero */
	CHECK_EQ_INT(hub_set_clock(t->m, &fake_clock, NULL), PB_OK);
	CHECK_EQ_INT(hub_now_ns(), before);
	clk_now += 700;
	fake_now += 700;	/* both tick alike: no offset left after */
	CHECK_EQ_INT(hub_now_ns(), before + 700);
	/* One clock at a time. */
	CHECK_EQ_INT(hub_set_clock(other->m, &fake_clock, NULL), PB_EBUSY);
	/* The alarm is asked for the time left. */
	arms = 0;
	CHECK_EQ_INT(hub_arm_alarm(before + 700 + 250), 1);
	CHECK_EQ_INT(armed_ns, 250);
	CHECK_EQ_INT(hub_arm_alarm(before), 1);	/* past: at once */
	CHECK_EQ_INT(armed_ns, 0);
	CHECK_EQ_INT(hub_arm_alarm(~0ull), 1);
	CHECK_EQ_INT(armed_ns, ~0ull);
	/* The provider goes: back to the CPU's clock, no jump. */
	before = hub_now_ns();
	work_drop_module(t->m);
	CHECK_EQ_INT(hub_now_ns(), before);
	CHECK_EQ_INT(hub_now_ns(), fake_now);
	CHECK_EQ_INT(hub_arm_alarm(before + 10), 0);	/* nobody to ask */
	fm_teardown();
}

static unsigned eois;
static int eoi_vector;

static void
eoi(void *ctx, int vector)
{
	(void)ctx;
	eois++;
	eoi_vector = vector;
}

static void
handler(void *arg)
{
	(void)arg;
	ticks++;
}

TEST(eoi_hook_runs_after_every_device_vector)
{
	struct fm *apic, *drv;
	int v;

	fm_setup();
	apic = fm_add_running("apic");
	drv = fm_add_running("drv");
	eois = 0;
	ticks = 0;
	CHECK_EQ_INT(hub_set_irq_eoi(apic->m, eoi, NULL), PB_OK);
	CHECK_EQ_INT(hub_set_irq_eoi(drv->m, eoi, NULL), PB_EBUSY);
	v = irq_alloc(drv->m);
	CHECK_EQ_INT(irq_register(drv->m, v, handler, NULL), PB_OK);
	hub_irq_dispatch(v);
	CHECK_EQ_INT(ticks, 1);
	CHECK_EQ_INT(eois, 1);
	CHECK_EQ_INT(eoi_vector, v);
	/* A vector nobody handles is still acknowledged. */
	hub_irq_dispatch(200);
	CHECK_EQ_INT(eois, 2);
	/* Held (during a swap): counted, acknowledged, replayed later. */
	irq_hold_module(drv->m, 1);
	hub_irq_dispatch(v);
	CHECK_EQ_INT(ticks, 1);
	CHECK_EQ_INT(eois, 3);
	irq_hold_module(drv->m, 0);
	CHECK_EQ_INT(ticks, 2);
	/* The controller goes: its hook with it. */
	work_drop_module(apic->m);
	hub_irq_dispatch(v);
	CHECK_EQ_INT(eois, 3);
	fm_teardown();
}

static uint64_t seen_due;

static void
long_item(void *arg)
{
	(void)arg;
	fake_now += 3000000000ull;
	seen_due = hub_watchdog_due() != NULL;
}

TEST(watchdog_due_only_while_a_long_item_runs)
{
	struct fm *m;
	uint64_t limit = hub_watchdog_ns;

	fm_setup();
	m = fm_add_running("m");
	hub_watchdog_ns = 2000000000ull;
	CHECK(hub_watchdog_due() == NULL);
	CHECK_EQ_INT(work_queue(m->m, long_item, NULL), PB_OK);
	seen_due = 0;
	fm_run_work();
	CHECK_EQ_INT(seen_due, 1);
	CHECK(hub_watchdog_due() == NULL);	/* nothing runs now */
	hub_watchdog_ns = 0;			/* watchdog=0: off */
	CHECK_EQ_INT(work_queue(m->m, long_item, NULL), PB_OK);
	fm_run_work();
	CHECK_EQ_INT(seen_due, 0);
	hub_watchdog_ns = limit;
	fm_teardown();
}

/* What a fake saw at its start step: the watchdog's verdict, and whether
 * interrupts were open. */
static struct pb_module *due_at_start;
static int if_at_start;

static void
note_start(struct fm *f, int step)
{
	if (step != FM_START)
		return;
	due_at_start = hub_watchdog_due();
	if_at_start = fake_if;
}

TEST(watchdog_counts_a_start_which_runs_with_interrupts_open)
{
	struct fm *f;
	uint64_t limit = hub_watchdog_ns;

	fm_setup();
	hub_watchdog_ns = 2000000000ull;
	f = fm_add("slow", 0);
	f->tick_ns = 3000000000ull;	/* start() takes 3 s */
	fm_step_hook = note_start;
	fake_if = 0;			/* the hub's own code holds them */
	due_at_start = NULL;
	if_at_start = 0;
	CHECK_EQ_INT(fm_start(f), PB_OK);
	CHECK(due_at_start == f->m);
	CHECK_EQ_INT(if_at_start, 1);
	CHECK_EQ_INT(fake_if, 0);		/* held again after */
	CHECK(hub_watchdog_due() == NULL);
	hub_watchdog_ns = limit;
	fm_teardown();
}

static struct fm *inner_fm;
static struct pb_module *due_inside, *due_back, *due_paused, *due_own;
static int if_inside;

static long
inner_call(void *arg)
{
	(void)arg;
	due_inside = hub_watchdog_due();
	if_inside = fake_if;
	return PB_OK;
}

static long
inner_long_call(void *arg)
{
	(void)arg;
	fake_now += 3000000000ull;
	return PB_OK;
}

/* A work item that holds interrupts, runs 3 s, then calls another
 * module: the inner call keeps them held, and does not inherit the
 * item's overdue count; the item's count is back after. */
static void
late_caller(void *arg)
{
	uint64_t held = arch_irq_hold();

	(void)arg;
	fake_now += 3000000000ull;
	mod_call_watched(inner_fm->m, inner_call, NULL, 0);
	due_back = hub_watchdog_due();
	arch_irq_release(held);
}

/* A work item whose inner call takes 3 s: not the item's time. */
static void
patient_caller(void *arg)
{
	(void)arg;
	mod_call_watched(inner_fm->m, inner_long_call, NULL, 0);
	due_paused = hub_watchdog_due();
	fake_now += 3000000000ull;
	due_own = hub_watchdog_due();
}

TEST(watchdog_nested_call_keeps_the_callers_interrupts_and_own_count)
{
	struct fm *outer;
	uint64_t limit = hub_watchdog_ns;

	fm_setup();
	hub_watchdog_ns = 2000000000ull;
	outer = fm_add_running("outer");
	inner_fm = fm_add_running("inner");
	fake_if = 0;
	due_inside = due_back = due_own = NULL;
	due_paused = outer->m;
	if_inside = 1;
	CHECK_EQ_INT(work_queue(outer->m, late_caller, NULL), PB_OK);
	CHECK_EQ_INT(work_queue(outer->m, patient_caller, NULL), PB_OK);
	fm_run_work();
	CHECK(due_inside == NULL);		/* a count of its own */
	CHECK_EQ_INT(if_inside, 0);		/* as the item chose */
	CHECK(due_back == outer->m);		/* the item's 3 s again */
	CHECK(due_paused == NULL);		/* the inner 3 s not counted */
	CHECK(due_own == outer->m);		/* the item's own 3 s */
	CHECK_EQ_INT(fake_if, 0);
	hub_watchdog_ns = limit;
	fm_teardown();
}

/* A watched item arms the alarm for its deadline; an alarm for an
 * earlier timer takes that place, and after its interrupt the deadline is
 * armed again (the event loop, which would, is not running). */
static void
rearm_item(void *arg)
{
	uint64_t start = hub_now_ns();

	(void)arg;
	rearm_first = armed_ns;
	hub_arm_alarm(start + 1000000);		/* a timer 1 ms away */
	clk_now += 2000000;			/* it fired */
	fake_now += 2000000;
	hub_watchdog_rearm();
	rearm_after = armed_ns;
}

TEST(watchdog_deadline_armed_again_after_a_timers_alarm)
{
	struct fm *t, *m;
	uint64_t limit = hub_watchdog_ns;

	fm_setup();
	hub_watchdog_ns = 2000000000ull;
	t = fm_add_running("timer");
	m = fm_add_running("m");
	clk_now = fake_now;
	CHECK_EQ_INT(hub_set_clock(t->m, &fake_clock, NULL), PB_OK);
	CHECK_EQ_INT(work_queue(m->m, rearm_item, NULL), PB_OK);
	fm_run_work();
	CHECK_EQ_INT(rearm_first, 2000000000ull);
	CHECK_EQ_INT(rearm_after, 2000000000ull - 2000000);
	work_drop_module(t->m);
	hub_watchdog_ns = limit;
	fm_teardown();
}

TEST(resource_limited_to_one_client)
{
	struct fm *p, *a, *b;
	struct pb_resource *r;
	static const int ops;

	fm_setup();
	p = fm_add_running("pci");
	a = fm_add_running("drva");
	b = fm_add_running("drvb");
	fm_provide(p, "tcon", 1, 0);
	r = res_publish(p->m, "tcon", "f0", "vendor=1234", &ops, NULL);
	REQUIRE(r != NULL);
	r->max_clients = 1;
	CHECK(res_best("tcon", 1, 0, NULL) == r);
	CHECK(conn_open(a->m, r, PB_REQ_NONE) != NULL);
	CHECK(res_full(r));
	CHECK(conn_open(b->m, r, PB_REQ_NONE) == NULL);
	CHECK(res_best("tcon", 1, 0, NULL) == NULL);
	fm_teardown();
}
