/*
 * test_recover.c - recovery from a module's fault (hub/recover.c and
 * module.c's mod_handle_fault): the device is silenced before any of the
 * module's memory is freed, and kept out of use when it could not be;
 * clients are held and rebound to the restarted module (PB_EV_REBOUND,
 * never a disconnection); a third fault within the fault window leaves
 * the module stopped, its clients moved down the ladder, in one line;
 * each recovery is logged with its cause and its duration.
 *
 * The world: `bus` (a pci-like provider) serves tcon:bus0 to the driver
 * `drv`, which serves tdrv:drv0 to `app`, which needs it to run; drv
 * holds heap pages and a DMA buffer (its vectors: test_gone.c).
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fakemod.h"

static struct fm *bus, *drv, *app;
static void *dma_buf;

static int
world(void)
{
	uint64_t busaddr;

	fm_setup();
	fm_chain_add(&bus, &drv, &app);
	drv->heap_pages = 2;
	if (!fm_chain_start(bus, drv, app))
		return 0;
	dma_buf = dma_alloc(drv->m, 512, 64, 0, ~0ull, &busaddr);
	return dma_buf && fm_conn_res(app, 0, 0) == drv->res[0];
}

/* What drv still held, and what was free, when bus heard it go. */
static struct {
	unsigned gones;
	uint64_t pages, dma, free_pages;
	int refuse;		/* answer "not silenced" (conn->ops NULL) */
} at_gone;

static void
note_gone(struct fm *f, int event, struct pb_conn *conn, int req)
{
	(void)req;
	if (event != PB_EV_CLIENT_GONE || f != bus)
		return;
	at_gone.gones++;
	at_gone.pages = mem_owned(drv->m, -1);
	at_gone.dma = mem_owned(drv->m, MEM_KIND_DMA);
	at_gone.free_pages = mem_free_pages();
	if (at_gone.refuse)
		conn->ops = NULL;
}

static void
watch_gone(int refuse)
{
	memset(&at_gone, 0, sizeof(at_gone));
	at_gone.refuse = refuse;
	fm_event_hook = note_gone;
}

/* Silence first: bus hears drv go while drv still holds every page, DMA
 * buffer included, and nothing of it went back before; after, the pages
 * are free (and the restart took its own again). */
TEST(recover_device_silenced_before_memory_is_freed)
{
	uint64_t held;

	REQUIRE(world());
	watch_gone(0);
	held = mem_owned(drv->m, -1);
	REQUIRE(held >= 4);	/* image, 2 heap pages, the DMA page */
	REQUIRE(mem_owned(drv->m, MEM_KIND_DMA) == 1);
	fm_fault(drv);
	CHECK_EQ_INT(at_gone.gones, 1);
	CHECK_EQ_INT(at_gone.pages, held);
	CHECK_EQ_INT(at_gone.dma, 1);
	CHECK_EQ_INT(drv->nstart, 2);		/* restarted */
	CHECK_EQ_INT(drv->m->state, MOD_RUNNING);
	CHECK_EQ_INT(mem_owned(drv->m, MEM_KIND_DMA), 0);	/* the old one went */
	CHECK_EQ_INT(mem_owned(&hub_quarantine, -1), 0);
	fm_event_hook = NULL;
	fm_teardown();
}

/* A provider that says it could not silence the device: drv's RAM is
 * never handed out again: the quarantine owns it. */
TEST(recover_unsilenced_device_keeps_its_memory)
{
	uint64_t held, freed_before;

	REQUIRE(world());
	watch_gone(1);
	drv->m->faults = 2;			/* the third: not restarted */
	drv->m->fault_first_ns = fake_now;
	held = mem_owned(drv->m, -1);
	freed_before = mem_free_pages();
	fm_fault(drv);
	CHECK_EQ_INT(at_gone.gones, 1);
	CHECK_EQ_INT(drv->m->state, MOD_FAILED);
	CHECK_EQ_INT(mem_owned(drv->m, -1), 0);
	CHECK_EQ_INT(mem_owned(&hub_quarantine, -1), held);
	CHECK_EQ_INT(mem_free_pages(), freed_before);	/* none came back */
	CHECK(fm_log_has("drv: its device was not silenced"));
	/* The DMA allocator does not hand its units out again either. */
	{
		struct fm *k = fm_add("k", 0);
		uint64_t b;
		void *p;

		k->m->state = MOD_RUNNING;
		p = dma_alloc(k->m, 512, 64, 0, ~0ull, &b);
		CHECK(p && p != dma_buf);
		dma_free(k->m, p);
	}
	fm_event_hook = NULL;
	fm_teardown();
}

/* The clients of a restarted module are held and rebound to its new
 * instance, told PB_EV_REBOUND: never disconnected, never stopped. */
TEST(recover_clients_rebound_to_the_restarted_module)
{
	struct conn *c;

	REQUIRE(world());
	c = fm_conn(app, 0, 0);
	fm_trace_clear();
	fm_fault(drv);
	CHECK_EQ_INT(drv->m->state, MOD_RUNNING);
	CHECK_EQ_INT(app->m->state, MOD_RUNNING);
	CHECK_EQ_INT(app->ndisconnected, 0);
	CHECK_EQ_INT(app->nrebound, 1);
	CHECK(fm_conn(app, 0, 0) == c);		/* the same connection */
	CHECK(c->res == drv->res[0] && c->res->owner == drv->m);
	CHECK(c->pub.ctx == &drv->inst[0]);
	CHECK_STR(c->pub.res, "tdrv:drv0");
	CHECK_EQ_INT(c->held, 0);
	CHECK_CONTAINS(fm_trace, "app.rebound(tdrv:drv0)");
	/* drv's own connection to bus is a new one, bus0 again */
	CHECK(fm_conn_res(drv, 0, 0) == bus->res[0]);
	CHECK_EQ_INT(fm_write(c, "after\n"), PB_OK);
	CHECK(fm_log_has("drv: restarting from its image"));
	CHECK(fm_log_has("drv: recovered in "));
	CHECK(fm_log_has("(vector "));
	CHECK(fm_log_has("1 client rebound"));
	fm_teardown();
}

/* The duration logged runs from the fault to the clients rebound. */
TEST(recover_duration_is_measured_and_kept)
{
	REQUIRE(world());
	drv->tick_ns = 3000000;		/* each entry point takes 3 ms */
	fm_fault(drv);
	CHECK(drv->m->recovered_ns >= 3000000);
	CHECK(drv->m->recovered_ns < 100000000);
	fm_teardown();
}

/* A third fault within the window leaves drv stopped, with one line;
 * a lower provider already running takes its clients. */
TEST(recover_third_fault_in_window_moves_clients_down)
{
	struct fm *low;

	REQUIRE(world());
	low = fm_add("low", 1);
	fm_provide(low, "tdrv", 1, 0);
	fm_publish(low, "tdrv", "low0", "");
	REQUIRE(fm_start(low) == PB_OK);
	REQUIRE(fm_conn_res(app, 0, 0) == drv->res[0]);
	for (int i = 0; i < 3; i++) {
		fake_now += 1000000000ull;	/* 1 s apart: inside 10 s */
		fm_fault(drv);
	}
	CHECK_EQ_INT(drv->m->state, MOD_FAILED);
	CHECK_EQ_INT(fm_count(fm_log(), "drv: restarting from its image"), 2);
	CHECK_EQ_INT(fm_count(fm_log(), "drv: faulted 3 times, not restarted"),
	    1);
	CHECK(fm_log_has("not restarted (within 10000 ms): clients moved to "
	    "low"));
	CHECK(fm_conn_res(app, 0, 0) == low->res[0]);
	CHECK_EQ_INT(app->m->state, MOD_RUNNING);
	CHECK_EQ_INT(app->ndisconnected, 0);
	fm_teardown();
}

/* Faults farther apart than the window are each restarted. */
TEST(recover_faults_outside_the_window_restart)
{
	REQUIRE(world());
	for (int i = 0; i < 5; i++) {
		fake_now += fault_window_ns + 1;
		fm_fault(drv);
		CHECK_MSG(drv->m->state == MOD_RUNNING, "fault %d: %s", i,
		    mod_state_name(drv->m->state));
	}
	CHECK_EQ_INT(drv->nstart, 6);
	CHECK_EQ_INT(app->nrebound, 5);
	CHECK(!fm_log_has("not restarted"));
	fm_teardown();
}

/* The next provider down that is known but not running is started for
 * the clients of a module left stopped (bochs-display -> gop-fb). */
TEST(recover_ladder_starts_the_next_provider_down)
{
	struct fm *low;

	REQUIRE(world());
	low = fm_add_loadable("low", 1);
	fm_provide(low, "tdrv", 1, 0);
	fm_publish(low, "tdrv", "low0", "");
	drv->m->faults = 2;
	drv->m->fault_first_ns = fake_now;
	fm_fault(drv);
	CHECK_EQ_INT(drv->m->state, MOD_FAILED);
	CHECK_EQ_INT(low->m->state, MOD_RUNNING);
	CHECK(fm_conn_res(app, 0, 0) == low->res[0]);
	CHECK_EQ_INT(app->nrebound, 1);
	CHECK_EQ_INT(app->m->state, MOD_RUNNING);
	CHECK(fm_log_has("clients moved to low"));
	fm_teardown();
}

/* With nowhere to go, the clients are told and the one that needs it
 * stops, as on any withdrawal; the line says there was nothing below. */
TEST(recover_give_up_with_no_provider_below)
{
	REQUIRE(world());
	drv->m->faults = 2;
	drv->m->fault_first_ns = fake_now;
	fm_fault(drv);
	CHECK_EQ_INT(drv->m->state, MOD_FAILED);
	CHECK_EQ_INT(app->ndisconnected, 1);
	CHECK(app->m->state != MOD_RUNNING);
	CHECK(fm_log_has("no provider below it for its clients"));
	fm_teardown();
}

/* A restart that faults in start() again is restarted by the nested
 * fault; the held clients are rebound once, by whichever restart
 * succeeded, and the module is running, not marked failed. */
static int start_faults;

static void
fault_in_start(struct fm *f, int step)
{
	if (f == drv && step == FM_START && start_faults) {
		start_faults--;
		fake_fault(f->m);
	}
}

TEST(recover_nested_restart_rebinds_once)
{
	REQUIRE(world());
	start_faults = 1;
	fm_step_hook = fault_in_start;
	fm_fault(drv);
	fm_step_hook = NULL;
	CHECK_EQ_INT(drv->m->state, MOD_RUNNING);
	CHECK_EQ_INT(app->nrebound, 1);
	CHECK_EQ_INT(app->ndisconnected, 0);
	CHECK(fm_conn_res(app, 0, 0) == drv->res[0]);
	CHECK_EQ_INT(fm_count(fm_log(), "drv: recovered in"), 1);
	fm_teardown();
}

/*
 * A fault in an interrupt handler: the handler's call ends, the EOI it
 * was owed is sent, and the restart (which waits for timers and
 * interrupts) runs later as the hub's work, outside the interrupt.
 * Meanwhile the module is not called: its next interrupt is counted,
 * answered with an EOI, and not delivered.
 */
static unsigned irq_calls, eois;

static void
faulting_handler(void *arg)
{
	irq_calls++;
	fake_fault(arg);
}

static void
count_eoi(void *ctx, int vector)
{
	(void)ctx;
	(void)vector;
	eois++;
}

TEST(recover_fault_in_irq_handler_restarts_outside_it)
{
	int v;

	REQUIRE(world());
	irq_calls = eois = 0;
	REQUIRE(hub_set_irq_eoi(bus->m, count_eoi, NULL) == PB_OK);
	v = irq_alloc(drv->m);
	REQUIRE(v > 0);
	REQUIRE(irq_register(drv->m, v, faulting_handler, drv->m) == PB_OK);
	hub_irq_dispatch(v);
	CHECK_EQ_INT(irq_calls, 1);
	CHECK_EQ_INT(eois, 1);
	CHECK_EQ_INT(drv->nstart, 1);		/* not inside the interrupt */
	CHECK(drv->m->fault_pending);
	hub_irq_dispatch(v);			/* awaiting recovery: not called */
	CHECK_EQ_INT(irq_calls, 1);
	CHECK_EQ_INT(eois, 2);
	fm_run_work();
	CHECK_EQ_INT(drv->nstart, 2);		/* restarted by the hub's work */
	CHECK_EQ_INT(drv->m->state, MOD_RUNNING);
	CHECK_EQ_INT(drv->m->fault_pending, 0);
	CHECK_EQ_INT(app->nrebound, 1);
	CHECK_EQ_INT(irq_count(drv->m), 0);	/* the old vector went with it */
	CHECK(fm_log_has("drv: recovered in "));
	hub_set_irq_eoi(bus->m, NULL, NULL);
	fm_teardown();
}

/*
 * A module that calls a service as someone else (its pointer to itself
 * overwritten, here by a stray write) is charged a fault when the
 * service finds an argument bad, and restarted: every later call would
 * fail the same way.
 */
static struct pb_module garbage_self = { .name = "garbage", .base = 0x1000,
    .size = 0x1000 };

static void
tick(void *arg)
{
	(void)arg;
}

static void
call_as_garbage(void *arg)
{
	(void)arg;
	hub_services.timer_after(&garbage_self, 1000, tick, NULL);
}

TEST(recover_service_called_as_another_module_is_a_fault)
{
	REQUIRE(world());
	work_queue(drv->m, call_as_garbage, NULL);
	fm_run_work();
	CHECK(fm_log_has("drv: timer_after: bad function"));
	CHECK(fm_log_has("charged as a fault"));
	CHECK_EQ_INT(drv->nstart, 2);
	CHECK_EQ_INT(drv->m->state, MOD_RUNNING);
	CHECK(fm_log_has("drv: recovered in "));
	CHECK(fm_log_has("corrupt: called the hub as "));
	CHECK_EQ_INT(app->nrebound, 1);
	fm_teardown();
}

/*
 * The clock and end-of-interrupt hooks are guarded calls of their
 * module: one that faults is charged to it, dropped at once (the hub's
 * time goes on from the CPU's clock), and its module restarted as the
 * hub's work.
 */
static int clock_faults;

static uint64_t
bad_now(void *ctx)
{
	(void)ctx;
	if (clock_faults)
		fake_fault(drv->m);
	return fake_now;	/* the CPU's: leaves no offset to later tests */
}

static const struct pb_clock bad_clock = { .now_ns = bad_now };

TEST(recover_faulting_clock_is_dropped_and_its_module_restarted)
{
	uint64_t t1, t2;

	REQUIRE(world());
	clock_faults = 0;
	REQUIRE(hub_set_clock(drv->m, &bad_clock, NULL) == PB_OK);
	fake_now += 1000000;
	t1 = hub_now_ns();
	clock_faults = 1;
	t2 = hub_now_ns();
	CHECK(t2 == t1);			/* from the CPU's */
	CHECK(fm_log_has("hub: clock drv failed: the CPU's goes on"));
	CHECK_EQ_INT(drv->m->fault_pending, 1);
	fake_now += 1000000;
	CHECK(hub_now_ns() == t2 + 1000000);	/* the CPU's, from there */
	fm_run_work();
	CHECK_EQ_INT(drv->nstart, 2);
	CHECK_EQ_INT(drv->m->state, MOD_RUNNING);
	CHECK_EQ_INT(drv->m->faults, 1);
	fm_teardown();
}

static void
bad_eoi(void *ctx, int vector)
{
	(void)ctx;
	(void)vector;
	eois++;
	fake_fault(drv->m);
}

TEST(recover_faulting_eoi_hook_is_dropped_and_its_module_restarted)
{
	int v;

	REQUIRE(world());
	eois = 0;
	REQUIRE(hub_set_irq_eoi(drv->m, bad_eoi, NULL) == PB_OK);
	v = irq_alloc(bus->m);
	REQUIRE(v > 0);
	hub_irq_dispatch(v);
	CHECK_EQ_INT(eois, 1);
	CHECK(fm_log_has("hub: drv's end of interrupt failed"));
	hub_irq_dispatch(v);			/* dropped: not called again */
	CHECK_EQ_INT(eois, 1);
	fm_run_work();
	CHECK_EQ_INT(drv->nstart, 2);
	CHECK_EQ_INT(drv->m->state, MOD_RUNNING);
	irq_unregister(bus->m, -1);
	fm_teardown();
}

/* A client of every provider (the shell of every keyboard) keeps the
 * other one when drv is left stopped, and the one line names it. */
TEST(recover_give_up_every_instance_client_keeps_the_other)
{
	struct fm *other, *all;

	REQUIRE(world());
	other = fm_add("other", 0);
	fm_provide(other, "tdrv", 1, 0);
	fm_publish(other, "tdrv", "other0", "");
	REQUIRE(fm_start(other) == PB_OK);
	all = fm_add("all", 0);
	fm_require(all, "tdrv", 1, 0, PB_CARD_ALL, PB_AT_START);
	REQUIRE(fm_start(all) == PB_OK);
	REQUIRE(mod_unload(app->m) == PB_OK);	/* no client wants one */
	for (int i = 0; i < 3; i++) {
		fake_now += 1000000000ull;
		fm_fault(drv);
	}
	CHECK_EQ_INT(drv->m->state, MOD_FAILED);
	CHECK_EQ_INT(fm_count(fm_log(), "drv: faulted 3 times, not restarted"),
	    1);
	CHECK(fm_log_has("clients moved to other"));
	CHECK_EQ_INT(all->m->state, MOD_RUNNING);
	CHECK(fm_conn_res(all, 0, 0) == other->res[0] ||
	    fm_conn_res(all, 0, 1) == other->res[0]);
	fm_teardown();
}
