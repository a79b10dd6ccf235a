/*
 * test_work.c - the work queue, timers and interrupt vectors (hub/work.c).
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fakemod.h"

/* work.c's, for the shell's `irqs`; not in hub.h. */

#define DYNAMIC_VECTORS 176	/* 64..239 */

static char ran[256];

static void
note(void *arg)
{
	size_t n = strlen(ran);

	snprintf(ran + n, sizeof(ran) - n, "%s", (const char *)arg);
}

/* A fake module in MOD_RUNNING, without starting anything. */
TEST(work_runs_in_fifo_order)
{
	struct fm *m;

	fm_setup();
	m = fm_add_running("m");
	ran[0] = '\0';
	CHECK_EQ_INT(work_run_one(), 0);
	CHECK_EQ_INT(work_queue(NULL, note, "1"), PB_OK);
	CHECK_EQ_INT(work_queue(m->m, note, "2"), PB_OK);
	CHECK_EQ_INT(work_queue(NULL, note, "3"), PB_OK);
	CHECK_EQ_INT(work_queue(m->m, note, "4"), PB_OK);
	CHECK_EQ_INT(work_run_one(), 1);
	CHECK_STR(ran, "1");
	CHECK_EQ_INT(work_queue(NULL, note, "5"), PB_OK);	/* behind 2-4 */
	CHECK_EQ_INT(fm_run_work(), 4);
	CHECK_STR(ran, "12345");
	CHECK_EQ_INT(work_run_one(), 0);
	fm_teardown();
}

TEST(work_queue_full)
{
	int n = 0;

	fm_setup();
	ran[0] = '\0';
	for (int i = 0; i < 300; i++)
		n += work_queue(NULL, note, "") == PB_OK;
	CHECK_EQ_INT(n, 256);
	CHECK_EQ_INT(work_queue(NULL, note, "x"), PB_ENOMEM);
	CHECK_EQ_INT(fm_run_work(), 256);
	/* The ring wraps cleanly. */
	CHECK_EQ_INT(work_queue(NULL, note, "a"), PB_OK);
	CHECK_EQ_INT(work_queue(NULL, note, "b"), PB_OK);
	CHECK_EQ_INT(fm_run_work(), 2);
	CHECK_STR(ran, "ab");
	fm_teardown();
}

/* Work of a module that went away never runs, even if the slot holds a
 * running module again (a new generation). */
TEST(work_of_a_gone_module_never_runs)
{
	struct fm *m, *k;

	fm_setup();
	m = fm_add_running("m");
	k = fm_add_running("k");
	ran[0] = '\0';
	CHECK_EQ_INT(work_queue(m->m, note, "m1"), PB_OK);
	CHECK_EQ_INT(work_queue(k->m, note, "k1"), PB_OK);
	CHECK_EQ_INT(mod_unload(m->m), PB_OK);
	CHECK_EQ_INT(fm_run_work(), 1);		/* m's item left the queue */
	CHECK_STR(ran, "k1");

	/* A generation bump alone is enough, whatever the state. */
	ran[0] = '\0';
	CHECK_EQ_INT(work_queue(k->m, note, "k2"), PB_OK);
	k->m->generation++;
	CHECK_EQ_INT(fm_run_work(), 1);
	CHECK_STR(ran, "");

	/* So is a module that is no longer running (stopped). */
	CHECK_EQ_INT(work_queue(k->m, note, "k3"), PB_OK);
	k->m->state = MOD_LOADED;
	fm_run_work();
	CHECK_STR(ran, "");
	k->m->state = MOD_RUNNING;
	CHECK_EQ_INT(work_queue(k->m, note, "k4"), PB_OK);
	work_drop_module(k->m);
	fm_run_work();
	CHECK_STR(ran, "");
	CHECK_EQ_INT(work_queue(k->m, note, "k5"), PB_OK);
	fm_run_work();
	CHECK_STR(ran, "k5");
	fm_teardown();
}

/* A work item that faults is its module's fault, not the hub's. */
TEST(work_fault_is_the_modules)
{
	struct fm *m;

	fm_setup();
	m = fm_add_running("m");
	ran[0] = '\0';
	CHECK_EQ_INT(work_queue(m->m, fm_fault_work, m->m), PB_OK);
	CHECK_EQ_INT(work_queue(NULL, note, "after"), PB_OK);
	CHECK_EQ_INT(fm_run_work(), 2);
	CHECK_STR(ran, "after");
	CHECK_EQ_INT(m->m->faults, 1);
	CHECK(fm_log_has("m faulted"));
	CHECK(m->m->state != MOD_RUNNING);
	fm_teardown();
}

TEST(timers_fire_when_due_not_before)
{
	struct fm *m;
	int id1, id2, id3;
	uint64_t t0;

	fm_setup();
	m = fm_add_running("m");
	ran[0] = '\0';
	t0 = fake_now;
	CHECK_EQ_INT(timers_next(), ~0ull);
	id1 = timer_add(NULL, 500, note, "a");
	id2 = timer_add(m->m, 300, note, "b");
	id3 = timer_add(NULL, 500, note, "c");
	CHECK(id1 > 0 && id2 > 0 && id3 > 0);
	CHECK(id1 != id2 && id2 != id3 && id1 != id3);
	CHECK_EQ_INT(timers_next(), t0 + 300);
	timers_run(t0 + 299);
	CHECK_EQ_INT(fm_run_work(), 0);
	timers_run(t0 + 300);
	CHECK_EQ_INT(fm_run_work(), 1);
	CHECK_STR(ran, "b");
	CHECK_EQ_INT(timers_next(), t0 + 500);
	timers_run(t0 + 499);
	CHECK_EQ_INT(fm_run_work(), 0);
	timers_run(t0 + 10000);			/* late is fine */
	CHECK_EQ_INT(fm_run_work(), 2);
	CHECK_STR(ran, "bac");
	/* One-shot. */
	timers_run(t0 + 20000);
	CHECK_EQ_INT(fm_run_work(), 0);
	CHECK_EQ_INT(timers_next(), ~0ull);
	fm_teardown();
}

TEST(timer_cancel)
{
	struct fm *m, *k;
	int a, b, c;

	fm_setup();
	m = fm_add_running("m");
	k = fm_add_running("k");
	ran[0] = '\0';
	a = timer_add(m->m, 100, note, "a");
	b = timer_add(m->m, 100, note, "b");
	c = timer_add(NULL, 100, note, "c");
	timer_cancel(m->m, a);
	timer_cancel(k->m, b);		/* not k's: no effect */
	timer_cancel(m->m, c);		/* the hub's: no effect */
	timer_cancel(m->m, 12345);	/* no such timer */
	fm_advance(100);
	CHECK_STR(ran, "bc");
	timer_cancel(m->m, b);		/* already fired: harmless */
	fm_teardown();
}

TEST(timers_of_a_dropped_module_never_fire)
{
	struct fm *m, *k;

	fm_setup();
	m = fm_add_running("m");
	k = fm_add_running("k");
	ran[0] = '\0';
	CHECK(timer_add(m->m, 100, note, "m") > 0);
	CHECK(timer_add(k->m, 100, note, "k") > 0);
	CHECK_EQ_INT(mod_unload(m->m), PB_OK);
	fm_advance(1000);
	CHECK_STR(ran, "k");

	/* Due and queued, then the module goes: still nothing. */
	ran[0] = '\0';
	CHECK(timer_add(k->m, 100, note, "k2") > 0);
	fake_now += 100;
	timers_run(fake_now);
	CHECK_EQ_INT(mod_unload(k->m), PB_OK);
	fm_run_work();
	CHECK_STR(ran, "");

	/* A new generation of the module: the old timer is dead. */
	k->m->state = MOD_RUNNING;
	CHECK(timer_add(k->m, 100, note, "k3") > 0);
	k->m->generation++;
	fm_advance(100);
	CHECK_STR(ran, "");
	fm_teardown();
}

/* --- interrupts ------------------------------------------------------------ */

static unsigned hits;
static void *hit_arg;

static void
handler(void *arg)
{
	hits++;
	hit_arg = arg;
}

TEST(irq_alloc_register_unregister)
{
	struct fm *m, *k;
	int v, w;

	fm_setup();
	m = fm_add_running("m");
	k = fm_add_running("k");
	CHECK_EQ_INT(irq_free_count(), DYNAMIC_VECTORS);
	v = irq_alloc(m->m);
	CHECK(v >= 64 && v <= 239);
	CHECK_EQ_INT(irq_free_count(), DYNAMIC_VECTORS - 1);
	CHECK_EQ_INT(irq_count(m->m), 1);
	w = irq_alloc(k->m);
	CHECK(w != v && w >= 64 && w <= 239);
	CHECK_EQ_INT(irq_register(m->m, v, handler, &hits), PB_OK);
	CHECK_EQ_INT(irq_register(k->m, v, handler, NULL), PB_EBUSY);
	CHECK_EQ_INT(irq_register(m->m, w, handler, NULL), PB_EBUSY);
	CHECK_EQ_INT(irq_register(m->m, 31, handler, NULL), PB_EINVAL);
	CHECK_EQ_INT(irq_register(m->m, 256, handler, NULL), PB_EINVAL);
	CHECK_EQ_INT(irq_register(m->m, -1, handler, NULL), PB_EINVAL);
	CHECK_EQ_INT(irq_register(m->m, v, NULL, NULL), PB_EINVAL);
	/* A fixed vector outside the dynamic range can be claimed too. */
	CHECK_EQ_INT(irq_register(m->m, 240, handler, NULL), PB_OK);
	CHECK_EQ_INT(irq_count(m->m), 2);
	CHECK_EQ_INT(irq_free_count(), DYNAMIC_VECTORS - 2);
	irq_unregister(k->m, v);		/* not k's */
	CHECK_EQ_INT(irq_count(m->m), 2);
	irq_unregister(m->m, v);
	CHECK_EQ_INT(irq_count(m->m), 1);
	CHECK_EQ_INT(irq_free_count(), DYNAMIC_VECTORS - 1);
	CHECK_EQ_INT(irq_register(k->m, v, handler, NULL), PB_OK);
	irq_unregister(m->m, -1);
	irq_unregister(k->m, -1);
	CHECK_EQ_INT(irq_count(m->m) + irq_count(k->m), 0);
	CHECK_EQ_INT(irq_free_count(), DYNAMIC_VECTORS);
	fm_teardown();
}

TEST(irq_alloc_runs_out)
{
	struct fm *m;
	int n = 0;

	fm_setup();
	m = fm_add_running("m");
	while (irq_alloc(m->m) >= 0 && n < 1000)
		n++;
	CHECK_EQ_INT(n, DYNAMIC_VECTORS);
	CHECK_EQ_INT(irq_free_count(), 0);
	CHECK_EQ_INT(irq_alloc(m->m), PB_ENOMEM);
	/* Unloading the module gives them all back. */
	CHECK_EQ_INT(mod_unload(m->m), PB_OK);
	CHECK_EQ_INT(irq_free_count(), DYNAMIC_VECTORS);
	fm_teardown();
}

TEST(irq_dispatch_counts_and_calls)
{
	struct pb_module *owner = NULL;
	struct fm *m;
	int v, bare;

	fm_setup();
	m = fm_add_running("m");
	hits = 0;
	v = irq_alloc(m->m);
	bare = irq_alloc(m->m);			/* no handler yet */
	REQUIRE(v > 0 && bare > 0);
	REQUIRE(irq_register(m->m, v, handler, &owner) == PB_OK);
	hub_irq_dispatch(v);
	hub_irq_dispatch(v);
	CHECK_EQ_INT(hits, 2);
	CHECK(hit_arg == &owner);
	CHECK_EQ_INT(irq_stats(v, &owner), 2);
	CHECK(owner == m->m);
	hub_irq_dispatch(bare);
	CHECK_EQ_INT(irq_stats(bare, &owner), 1);
	CHECK_EQ_INT(hits, 2);
	hub_irq_dispatch(5);			/* an exception vector */
	hub_irq_dispatch(-1);
	hub_irq_dispatch(256);
	CHECK_EQ_INT(hits, 2);
	/* The count survives a new handler. */
	REQUIRE(irq_register(m->m, v, handler, NULL) == PB_OK);
	hub_irq_dispatch(v);
	CHECK_EQ_INT(irq_stats(v, &owner), 3);
	CHECK(hit_arg == NULL);
	fm_teardown();
}

/* Interrupts of a held module are counted and delivered on release. */
TEST(irq_held_and_replayed)
{
	struct pb_module *owner;
	struct fm *m, *k;
	int v, w;

	fm_setup();
	m = fm_add_running("m");
	k = fm_add_running("k");
	hits = 0;
	v = irq_alloc(m->m);
	w = irq_alloc(k->m);
	REQUIRE(irq_register(m->m, v, handler, NULL) == PB_OK);
	REQUIRE(irq_register(k->m, w, handler, NULL) == PB_OK);
	irq_hold_module(m->m, 1);
	hub_irq_dispatch(v);
	hub_irq_dispatch(v);
	hub_irq_dispatch(v);
	CHECK_EQ_INT(hits, 0);
	CHECK_EQ_INT(irq_stats(v, &owner), 3);
	hub_irq_dispatch(w);			/* k is not held */
	CHECK_EQ_INT(hits, 1);
	irq_hold_module(m->m, 0);
	/* At least one delivery for what came meanwhile (a device's
	 * interrupts coalesce: the handler reads the device's state). */
	CHECK(hits >= 2 && hits <= 4);
	{
		unsigned after = hits;

		irq_hold_module(m->m, 0);	/* nothing more to replay */
		CHECK_EQ_INT(hits, after);
		hub_irq_dispatch(v);
		CHECK_EQ_INT(hits, after + 1);
	}
	/* Held, then the module goes: nothing is delivered to it. */
	irq_hold_module(m->m, 1);
	hub_irq_dispatch(v);
	hits = 0;
	CHECK_EQ_INT(mod_unload(m->m), PB_OK);
	irq_hold_module(m->m, 0);
	CHECK_EQ_INT(hits, 0);
	CHECK_EQ_INT(irq_count(m->m), 0);
	fm_teardown();
}

static void
faulting_handler(void *arg)
{
	fake_fault(arg);
}

/* A handler that faults takes its module down, not the hub; its vectors
 * are released (by the hub's work after the interrupt: recover_defer). */
TEST(irq_handler_fault)
{
	struct fm *m;
	int v;

	fm_setup();
	m = fm_add_running("m");
	v = irq_alloc(m->m);
	REQUIRE(irq_register(m->m, v, faulting_handler, m->m) == PB_OK);
	hub_irq_dispatch(v);
	fm_run_work();
	CHECK_EQ_INT(m->m->faults, 1);
	CHECK_EQ_INT(irq_count(m->m), 0);
	CHECK(fm_log_has("m faulted"));
	hub_irq_dispatch(v);			/* no handler any more */
	CHECK_EQ_INT(m->m->faults, 1);
	fm_teardown();
}

/* A module's vectors go when it stops (mod_stop). */
TEST(irq_released_on_stop)
{
	struct fm *m;

	fm_setup();
	m = fm_add("m", 0);
	m->want_irq = 1;
	REQUIRE(fm_start(m) == PB_OK);
	CHECK_EQ_INT(irq_count(m->m), 1);
	CHECK_EQ_INT(irq_free_count(), DYNAMIC_VECTORS - 1);
	hub_irq_dispatch(m->irq_vector);
	CHECK_EQ_INT(m->nirq, 1);
	mod_stop(m->m);
	CHECK_EQ_INT(irq_count(m->m), 0);
	CHECK_EQ_INT(irq_free_count(), DYNAMIC_VECTORS);
	hub_irq_dispatch(m->irq_vector);
	CHECK_EQ_INT(m->nirq, 1);
	fm_teardown();
}

/* --- intrusive work items (ABI 1.2) ---------------------------------------- */

static struct pb_work items[300];

TEST(work_item_services_present)
{
	CHECK(hub_services.size >= offsetof(struct pb_hub, work_cancel) +
	    sizeof(hub_services.work_cancel));
	CHECK(hub_services.work_init != NULL);
	CHECK(hub_services.work_post != NULL);
	CHECK(hub_services.work_cancel != NULL);
}

/* A completion posted while queue_work's table is full still runs: the
 * item is the caller's memory, posting takes nothing from the hub. */
TEST(work_post_never_fails)
{
	static unsigned count;
	struct fm *m;
	int legacy = 0;

	fm_setup();
	m = fm_add_running("m");
	ran[0] = '\0';
	count = 0;
	while (work_queue(NULL, note, "") == PB_OK && legacy < 1000)
		legacy++;
	CHECK_EQ_INT(work_queue(m->m, note, "x"), PB_ENOMEM);
	for (unsigned i = 0; i < 300; i++) {
		work_init(m->m, &items[i], note,
		    "");
		work_post(&items[i]);
		CHECK(items[i].queued);
	}
	CHECK_EQ_INT(fm_run_work(), legacy + 300);
	for (unsigned i = 0; i < 300; i++)
		count += !items[i].queued;
	CHECK_EQ_INT(count, 300);
	fm_teardown();
}

static void
note_and_repost(void *arg)
{
	struct pb_work *w = arg;

	note("r");
	if (strlen(ran) < 2)
		work_post(w);		/* from its own run: runs again */
}

/* Posting an item already queued keeps it queued once; posting it from
 * its own run queues it again. */
TEST(work_post_is_idempotent_while_queued)
{
	struct fm *m;
	struct pb_work w;

	fm_setup();
	m = fm_add_running("m");
	ran[0] = '\0';
	work_init(m->m, &w, note, "a");
	work_post(&w);
	work_post(&w);
	work_post(&w);
	CHECK_EQ_INT(fm_run_work(), 1);
	CHECK_STR(ran, "a");
	ran[0] = '\0';
	work_init(m->m, &w, note_and_repost, &w);
	work_post(&w);
	CHECK_EQ_INT(fm_run_work(), 2);
	CHECK_STR(ran, "rr");
	CHECK(!w.queued);
	fm_teardown();
}

/* queue_work and work_post share one first-in, first-out order. */
TEST(work_items_and_queued_work_share_fifo_order)
{
	struct fm *m;
	struct pb_work a, b;

	fm_setup();
	m = fm_add_running("m");
	ran[0] = '\0';
	work_init(m->m, &a, note, "2");
	work_init(NULL, &b, note, "4");
	CHECK_EQ_INT(work_queue(m->m, note, "1"), PB_OK);
	work_post(&a);
	CHECK_EQ_INT(work_queue(NULL, note, "3"), PB_OK);
	work_post(&b);
	work_post(&a);				/* still queued: no change */
	CHECK_EQ_INT(fm_run_work(), 4);
	CHECK_STR(ran, "1234");
	fm_teardown();
}

TEST(work_cancel_takes_it_off)
{
	struct fm *m;
	struct pb_work a, b, c;

	fm_setup();
	m = fm_add_running("m");
	ran[0] = '\0';
	work_init(m->m, &a, note, "a");
	work_init(m->m, &b, note, "b");
	work_init(m->m, &c, note, "c");
	work_cancel(&a);			/* not queued: harmless */
	work_post(&a);
	work_post(&b);
	work_post(&c);
	work_cancel(&b);			/* the middle one */
	work_cancel(&c);			/* the last one */
	CHECK(!b.queued && !c.queued);
	work_post(&c);				/* the tail is right again */
	CHECK_EQ_INT(fm_run_work(), 2);
	CHECK_STR(ran, "ac");
	work_post(&b);
	work_cancel(&b);			/* the only one */
	CHECK_EQ_INT(fm_run_work(), 0);
	fm_teardown();
}

/* Posting and cancelling hold interrupts around the list and give them
 * back as they were: a handler posts with them held, work with them open. */
TEST(work_post_keeps_the_interrupt_state)
{
	struct fm *m;
	struct pb_work w;

	fm_setup();
	m = fm_add_running("m");
	work_init(m->m, &w, note, "");
	fake_if = 1;
	work_post(&w);
	CHECK_EQ_INT(fake_if, 1);
	work_cancel(&w);
	CHECK_EQ_INT(fake_if, 1);
	fake_if = 0;
	work_post(&w);
	CHECK_EQ_INT(fake_if, 0);
	fm_run_work();
	fm_teardown();
}

/* An unloaded module's items leave the queue (its memory goes back to the
 * allocator: nothing may point into it), and an item set up for an
 * earlier generation of a module never runs. */
TEST(work_items_of_a_gone_module_never_run)
{
	struct fm *m, *k;
	struct pb_work a, b, c, h;

	fm_setup();
	m = fm_add_running("m");
	k = fm_add_running("k");
	ran[0] = '\0';
	work_init(m->m, &a, note, "a");
	work_init(k->m, &b, note, "b");
	work_init(m->m, &c, note, "c");
	work_init(NULL, &h, note, "h");
	work_post(&a);
	work_post(&b);
	work_post(&c);
	CHECK_EQ_INT(mod_unload(m->m), PB_OK);
	CHECK(!a.queued && !c.queued && b.queued);
	work_post(&h);
	CHECK_EQ_INT(fm_run_work(), 2);
	CHECK_STR(ran, "bh");

	/* k restarts (a new generation): its old item is dead. */
	ran[0] = '\0';
	k->m->generation++;
	work_post(&b);
	fm_run_work();
	CHECK_STR(ran, "");
	work_init(k->m, &b, note, "B");
	work_post(&b);
	fm_run_work();
	CHECK_STR(ran, "B");
	fm_teardown();
}

/* The service checks the function lies in the owner's image (as
 * queue_work does): a fake module has none, so nothing runs. */
TEST(work_init_service_refuses_code_outside_the_owner)
{
	struct fm *m;
	struct pb_work w;

	fm_setup();
	m = fm_add_running("m");
	ran[0] = '\0';
	REQUIRE(hub_services.work_init && hub_services.work_post);
	hub_services.work_init(m->m, &w, note, "x");
	hub_services.work_post(m->m, &w);
	fm_run_work();
	CHECK_STR(ran, "");
	CHECK(fm_log_has("not in its image"));
	fm_teardown();
}

/* ABI 1.2: after timer_cancel returns, the function does not run, even
 * when its expiry was already due and queued as work. */
TEST(timer_cancel_after_its_expiry_was_queued)
{
	struct fm *m;
	int one, every;

	fm_setup();
	m = fm_add_running("m");
	ran[0] = '\0';
	one = timer_add(m->m, 100, note, "o");
	every = timer_add_every(m->m, 100, 100, note, "e");
	REQUIRE(one > 0 && every > 0);
	fake_now += 100;
	timers_run(fake_now);			/* both queued */
	timer_cancel(m->m, one);
	timer_cancel(m->m, every);
	CHECK_EQ_INT(fm_run_work(), 0);
	CHECK_STR(ran, "");
	fm_advance(1000);
	CHECK_STR(ran, "");

	/* A periodic timer whose work is still queued at its next tick
	 * runs once for both; its slot is not reused meanwhile. */
	every = timer_add_every(m->m, 100, 100, note, "e");
	fake_now += 100;
	timers_run(fake_now);
	fake_now += 100;
	timers_run(fake_now);
	CHECK_EQ_INT(fm_run_work(), 1);
	CHECK_STR(ran, "e");
	timer_cancel(m->m, every);
	fm_teardown();
}

/* A provider that has quiesced does nothing: its queued work and its due
 * timers wait (in order) until it resumes, and go with it if it is
 * unloaded instead. */
TEST(work_and_timers_of_a_quiesced_module_wait)
{
	struct fm *m;
	uint64_t t0;

	fm_setup();
	m = fm_add_running("m");
	ran[0] = '\0';
	t0 = fake_now;
	CHECK_EQ_INT(work_queue(m->m, note, "w"), PB_OK);
	CHECK(timer_add(m->m, 100, note, "t") > 0);
	CHECK_EQ_INT(work_queue(NULL, note, "h"), PB_OK);
	m->m->state = MOD_QUIESCED;
	timers_run(t0 + 100);
	CHECK_EQ_INT(fm_run_work(), 1);		/* the hub's only */
	CHECK_STR(ran, "h");
	m->m->state = MOD_RUNNING;		/* resumed */
	CHECK_EQ_INT(fm_run_work(), 2);
	CHECK_STR(ran, "hwt");
	/* Quiesced, then unloaded: what it had queued never runs. */
	CHECK_EQ_INT(work_queue(m->m, note, "x"), PB_OK);
	m->m->state = MOD_QUIESCED;
	CHECK_EQ_INT(fm_run_work(), 0);
	m->m->generation++;
	m->m->state = MOD_UNLOADED;
	CHECK_EQ_INT(fm_run_work(), 1);		/* taken off, not run */
	CHECK_STR(ran, "hwt");
	fm_teardown();
}

/* The queue's order is the hub's: a module that writes over its own
 * queued items (the links the hub kept there once, the owner, the flag)
 * neither breaks the queue nor loses another module's item, and its item
 * still runs as its own. */
TEST(work_queue_survives_queued_items_written_over)
{
	struct fm *m, *k;
	struct pb_work a, b, c;

	fm_setup();
	m = fm_add_running("m");
	k = fm_add_running("k");
	ran[0] = '\0';
	work_init(m->m, &a, note, "a");
	work_init(m->m, &b, note, "b");
	work_init(k->m, &c, note, "c");
	work_post(&a);
	work_post(&b);
	work_post(&c);
	a.next = (struct pb_work *)(uintptr_t)0x219549afbull;
	a.owner = (struct pb_module *)(uintptr_t)0x219549afbull;
	b.owner = NULL;				/* would run as the hub's */
	b.queued = 0;
	work_post(&b);				/* still queued once */
	CHECK_EQ_INT(fm_run_work(), 3);
	CHECK_STR(ran, "abc");
	CHECK(!m->m->fault_pending && !k->m->fault_pending);
	fm_teardown();
}

/* An item whose owner was written over before it was posted is not
 * queued: it names no module, another module, or none (the hub) from a
 * module's memory.  The module whose memory holds it is charged. */
TEST(work_item_naming_a_wrong_owner_is_refused_and_its_holder_charged)
{
	static struct pb_module *const wrong[] = {
		(struct pb_module *)(uintptr_t)0x219549afbull,
		NULL,
		&modules[1],			/* k: another module */
		(struct pb_module *)((char *)&modules[1] + 8),
	};
	struct fm *m;
	struct pb_work *w;

	fm_setup();
	m = fm_add_running("m");
	fm_add_running("k");
	w = mem_alloc(m->m, 1, 0, MEM_KIND_HEAP);
	REQUIRE(w != NULL);
	for (unsigned i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		ran[0] = '\0';
		m->m->fault_pending = 0;
		work_init(m->m, w, note, "w");
		w->owner = wrong[i];
		work_post(w);
		CHECK(!work_queued(w));
		CHECK(fm_log_has("names a wrong owner"));
		CHECK(m->m->fault_pending);
		CHECK_EQ_INT(m->m->fault_vector, FAULT_ITEM);
		CHECK_EQ_INT((long long)m->m->fault_addr,
		    (long long)(uintptr_t)w);
	}
	/* Posted by the module itself, through the service: the same. */
	m->m->fault_pending = 0;
	work_init(m->m, w, note, "w");
	w->owner = wrong[0];
	hub_services.work_post(m->m, w);
	CHECK(!work_queued(w));
	CHECK(m->m->fault_pending);
	CHECK_EQ_INT(m->m->fault_vector, FAULT_ITEM);
	/* Its recovery is due; here the charge is taken back, so the page
	 * stays m's for the last case.  Named rightly, the item runs. */
	m->m->fault_pending = 0;
	CHECK_EQ_INT(fm_run_work(), 1);		/* the recovery's, idle */
	CHECK_STR(ran, "");
	work_init(m->m, w, note, "w");
	work_post(w);
	CHECK_EQ_INT(fm_run_work(), 1);
	CHECK_STR(ran, "w");
	CHECK(!m->m->fault_pending);
	fm_teardown();
}

/* The queue holds WORKQ_SLOTS items; one more is refused with a line,
 * and the ring is whole again once they ran. */
TEST(work_queue_full_says_so)
{
	static struct pb_work many[WORKQ_SLOTS + 1];
	struct fm *m;

	fm_setup();
	m = fm_add_running("m");
	ran[0] = '\0';
	for (unsigned i = 0; i <= WORKQ_SLOTS; i++) {
		work_init(m->m, &many[i], note, "");
		work_post(&many[i]);
	}
	CHECK(!work_queued(&many[WORKQ_SLOTS]));
	CHECK(fm_log_has("the work queue is full"));
	work_cancel(&many[5]);			/* a hole in the middle */
	work_post(&many[WORKQ_SLOTS]);		/* squeezed in */
	CHECK(work_queued(&many[WORKQ_SLOTS]));
	CHECK_EQ_INT(fm_run_work(), WORKQ_SLOTS);
	fm_teardown();
}
