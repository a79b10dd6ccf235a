/*
 * test_watchsafe.c - the watchdog and the work queue do not trust the
 * page every module may write (struct hub_shared, hub.h; hub/shared.c,
 * hub/work.c).  A stray 8-byte write of each kind of garbage into each
 * word before the ring, made while a hook or handler hangs, neither
 * keeps the watchdog from ending it nor makes it end anything early;
 * the hub's clock keeps going; garbage in the ring is dropped with one
 * line and runs nothing twice.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fakemod.h"

#define LIMIT 2000000000ull
#define LATE (LIMIT + 1000000)
#define HEADER_WORDS (offsetof(struct hub_shared, posts) / 8)
#define KINDS 5

/* Is the innermost call overdue, as the NMI would ask right now? */
static int
overdue(void)
{
	return hub_watch_overdue(arch_now_ns(), arch_guard_depth());
}

/* The stray write under test: garbage of kind `kind` into header word
 * `word` (0: none). */
static unsigned stray_word, stray_kind;
static int stray_on;

static uint64_t
garbage(unsigned kind)
{
	switch (kind) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return fake_now - 1;		/* due a moment ago */
	case 3:
		return fake_now + 1000 * LIMIT;	/* due long after */
	default:
		return ~0ull;
	}
}

static void
stray(void)
{
	if (stray_on)
		((volatile uint64_t *)(void *)&hub_shared)[stray_word] =
		    garbage(stray_kind);
}

/* What the NMI saw in the hung call: early, late, and whether it may end
 * the code it finds (owner: the module whose code runs). */
static int seen_early, seen_late, seen_may_end;
static struct fm *hung_in;

static void
hang(void)
{
	stray();
	seen_early = overdue();
	fake_now += LATE;
	seen_late = overdue();
	seen_may_end = hub_watch_may_end(hung_in->m, arch_guard_owner());
}

/* Every word, every kind: the NMI ends the hung call, and only late. */
static int
sweep(void (*run_once)(void))
{
	int bad = 0;

	for (stray_word = 0; stray_word < HEADER_WORDS; stray_word++)
		for (stray_kind = 0; stray_kind < KINDS; stray_kind++) {
			seen_early = seen_late = seen_may_end = -1;
			stray_on = 1;
			run_once();
			stray_on = 0;
			memset(&hub_shared, 0, offsetof(struct hub_shared,
			    posts));
			if (seen_early != 0 || seen_late != 1 ||
			    seen_may_end != 1) {
				fprintf(stderr, "  word %u kind %u: early %d "
				    "late %d may end %d\n", stray_word,
				    stray_kind, seen_early, seen_late,
				    seen_may_end);
				bad++;
			}
		}
	return bad;
}

/* --- an interrupt handler that hangs, cutting into no watched call ----- */

static int vector;

static void
hung_handler(void *arg)
{
	(void)arg;
	hang();
}

static void
dispatch_once(void)
{
	hub_irq_dispatch(vector);
}

TEST(watchsafe_stray_write_in_a_handler_neither_blinds_nor_fires)
{
	uint64_t limit = hub_watchdog_ns;

	fm_setup();
	hub_watchdog_ns = LIMIT;
	hung_in = fm_add_running("drv");
	vector = irq_alloc(hung_in->m);
	CHECK_EQ_INT(irq_register(hung_in->m, vector, hung_handler, NULL),
	    PB_OK);
	CHECK_EQ_INT(sweep(dispatch_once), 0);
	hub_watchdog_ns = limit;
	fm_teardown();
}

/* --- the clock's hook, run for a module's now_ns (in its domain) -------- */

static struct fm *caller;
static int module_reads;	/* the clock is read for a module's now_ns */

/* Only the module's reading hangs (the hub reads it around the item). */
static uint64_t
hung_clock_read(void *ctx)
{
	(void)ctx;
	if (module_reads)
		hang();
	return fake_now;
}

static void
clock_arm(void *ctx, uint64_t ns)
{
	(void)ctx;
	(void)ns;
}

static const struct pb_clock hung_clock = { hung_clock_read, clock_arm };

static void
item_reads_the_clock(void *arg)
{
	(void)arg;
	module_reads = 1;
	hub_services.now_ns();	/* the module's service */
	module_reads = 0;
}

static void
module_reads_once(void)
{
	CHECK_EQ_INT(work_queue(caller->m, item_reads_the_clock, NULL),
	    PB_OK);
	fm_run_work();
}

TEST(watchsafe_stray_write_in_a_modules_clock_hook_neither_blinds_nor_fires)
{
	uint64_t limit = hub_watchdog_ns;

	fm_setup();
	hub_watchdog_ns = LIMIT;
	caller = fm_add_running("m");
	hung_in = fm_add_running("timer");
	CHECK_EQ_INT(hub_set_clock(hung_in->m, &hung_clock, NULL), PB_OK);
	CHECK_EQ_INT(sweep(module_reads_once), 0);
	work_drop_module(hung_in->m);
	hub_watchdog_ns = limit;
	fm_teardown();
}

/* --- the interrupt controller's end-of-interrupt hook, the hub's call --- */

static void
hung_eoi(void *ctx, int v)
{
	(void)ctx;
	(void)v;
	hang();
}

static void
spurious_once(void)
{
	hub_irq_dispatch(200);	/* nobody's vector: only the EOI runs */
}

TEST(watchsafe_stray_write_in_the_eoi_hook_neither_blinds_nor_fires)
{
	uint64_t limit = hub_watchdog_ns;

	fm_setup();
	hub_watchdog_ns = LIMIT;
	hung_in = fm_add_running("apic");
	CHECK_EQ_INT(hub_set_irq_eoi(hung_in->m, hung_eoi, NULL), PB_OK);
	CHECK_EQ_INT(sweep(spurious_once), 0);
	work_drop_module(hung_in->m);
	hub_watchdog_ns = limit;
	fm_teardown();
}

/* --- a damaged record is said once, from the hub's code ------------------ */

static void
nothing(void *arg)
{
	(void)arg;
}

static unsigned
log_count(const char *needle)
{
	unsigned n = 0;

	for (const char *p = fm_log(); (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static uint64_t
damaging_clock_read(void *ctx)
{
	(void)ctx;
	if (module_reads) {
		((volatile uint64_t *)(void *)&hub_shared)[1] = 12345;
		seen_early = overdue();	/* the NMI finds it damaged */
	}
	return fake_now;
}

static const struct pb_clock damaging_clock = { damaging_clock_read,
    clock_arm };

TEST(watchsafe_a_damaged_hook_record_is_said_once)
{
	struct fm *t;

	fm_setup();
	caller = fm_add_running("m");
	t = fm_add_running("timer");
	CHECK_EQ_INT(hub_set_clock(t->m, &damaging_clock, NULL), PB_OK);
	CHECK_EQ_INT(work_queue(caller->m, item_reads_the_clock, NULL), PB_OK);
	CHECK_EQ_INT(work_queue(caller->m, nothing, NULL), PB_OK);
	CHECK_EQ_INT(work_queue(t->m, nothing, NULL), PB_OK);
	fm_run_work();
	CHECK_EQ_INT(seen_early, 0);
	CHECK_EQ_INT(log_count("shared page was damaged"), 1);
	if (log_count("shared page was damaged") != 1)
		fprintf(stderr, "%s", fm_log());
	work_drop_module(t->m);
	fm_teardown();
}

/* --- the hub's clock ------------------------------------------------------ */

TEST(watchsafe_the_clock_goes_on_after_garbage_on_the_page)
{
	uint64_t before;

	fm_setup();
	for (unsigned kind = 0; kind < KINDS; kind++) {
		memset(&hub_shared, (int)(garbage(kind) & 0xff),
		    offsetof(struct hub_shared, posts));
		hub_shared.posts_in = hub_shared.posts_out = 0;
		before = hub_now_ns();
		fake_now += 1000;
		CHECK_EQ_INT(hub_now_ns(), before + 1000);
	}
	memset(&hub_shared, 0, sizeof(hub_shared));
	fm_teardown();
}

static int clock_faults;

static uint64_t
faulting_clock_read(void *ctx)
{
	(void)ctx;
	if (clock_faults)
		fake_fault(hung_in->m);
	return fake_now;
}

static const struct pb_clock faulting_clock = { faulting_clock_read,
    clock_arm };

/* The clock fails after garbage landed on the page (where the last time
 * a module was given used to be kept): the CPU's clock goes on from the
 * hub's own last reading, without a jump. */
TEST(watchsafe_a_lost_clock_goes_on_without_a_jump_after_garbage)
{
	uint64_t before, after;

	fm_setup();
	hung_in = fm_add_running("timer");
	clock_faults = 0;
	CHECK_EQ_INT(hub_set_clock(hung_in->m, &faulting_clock, NULL), PB_OK);
	before = hub_now_ns();
	((uint64_t *)(void *)&hub_shared)[0] = before + 1000 * LIMIT;
	fake_now += 500;
	clock_faults = 1;
	after = hub_now_ns();
	clock_faults = 0;
	CHECK(fm_log_has("failed: the CPU's goes on"));
	CHECK(after >= before);
	CHECK(after - before <= 1000000);
	fm_run_work();		/* its recovery */
	work_drop_module(hung_in->m);
	fm_teardown();
}

/* --- the ring of posted items -------------------------------------------- */

static char ran[64];

static void
note(void *arg)
{
	size_t n = strlen(ran);

	snprintf(ran + n, sizeof(ran) - n, "%s", (const char *)arg);
}

/* A pending slot overwritten with something that is no item: that one
 * is dropped with one line, the others run, in order. */
TEST(watchsafe_a_garbage_ring_slot_is_dropped_with_one_line)
{
	static uint64_t not_an_item[8];
	struct pb_work a, b, c;
	struct fm *m;

	fm_setup();
	m = fm_add_running("m");
	ran[0] = '\0';
	work_init(m->m, &a, note, "a");
	work_init(m->m, &b, note, "b");
	work_init(m->m, &c, note, "c");
	hub_services.work_post(m->m, &a);
	hub_services.work_post(m->m, &b);
	hub_services.work_post(m->m, &c);
	hub_shared.posts[(hub_shared.posts_out + 1) % POSTS_RING] =
	    (struct pb_work *)(void *)not_an_item;
	CHECK_EQ_INT(fm_run_work(), 2);
	CHECK_STR(ran, "ac");
	CHECK_EQ_INT(log_count("is no module's: dropped"), 1);
	fm_teardown();
}

/* Either count set back, or thrown far ahead: what the ring held before
 * does not run again; one line; posting goes on as before. */
static int
counts_damaged(int which)
{
	struct pb_work w[3], after;
	struct fm *m;
	int ok;

	fm_setup();
	m = fm_add_running("m");
	ran[0] = '\0';
	work_init(m->m, &w[0], note, "x");
	work_init(m->m, &w[1], note, "y");
	work_init(m->m, &w[2], note, "z");
	for (int i = 0; i < 3; i++)
		hub_services.work_post(m->m, &w[i]);
	fm_run_work();
	if (which == 0)
		hub_shared.posts_out -= 3;	/* set back */
	else if (which == 1)
		hub_shared.posts_in += 1000;	/* thrown ahead */
	else
		hub_shared.posts_out += 5;	/* past posts_in */
	work_init(m->m, &after, note, "!");
	work_post(&after);
	fm_run_work();
	hub_services.work_post(m->m, &w[0]);
	fm_run_work();
	ok = strcmp(ran, "xyz!x") == 0 &&
	    log_count("is no module's: dropped") == 1;
	if (!ok)
		fprintf(stderr, "  case %d: ran %s, %u lines\n", which, ran,
		    log_count("is no module's: dropped"));
	fm_teardown();
	return ok;
}

TEST(watchsafe_garbage_ring_counts_run_nothing_twice)
{
	CHECK(counts_damaged(0));
	CHECK(counts_damaged(1));
	CHECK(counts_damaged(2));
}

/* --- PB_EV_CLIENT_GONE names the going client ----------------------------- */

static struct fm *gone_p;
static void *gone_named;
static unsigned gone_told;

static void
note_client(struct fm *f, int event, struct pb_conn *conn, int req)
{
	(void)req;
	if (event != PB_EV_CLIENT_GONE || f != gone_p)
		return;
	gone_told++;
	gone_named = conn ? conn->client_data : NULL;
}

/* The provider finds the client in client_data: the owner its requests'
 * done items carry (usb-storage and ahci drop those by it, gone.c). */
TEST(watchsafe_client_gone_names_the_client)
{
	struct fm *c;
	struct pb_work w;

	fm_setup();
	gone_p = fm_add("p", 1);
	fm_serve(gone_p, "tcon", "p0");
	c = fm_add("c", 0);
	fm_require(c, "tcon", 1, 0, PB_CARD_ONE, PB_AT_START);
	REQUIRE(fm_start(gone_p) == PB_OK && fm_start(c) == PB_OK);
	hub_services.work_init(c->m, &w, note, "");
	gone_told = 0;
	gone_named = NULL;
	fm_event_hook = note_client;
	CHECK_EQ_INT(mod_unload(c->m), PB_OK);
	CHECK_EQ_INT(gone_told, 1);
	CHECK(gone_named == (void *)c->m);
	CHECK(gone_named == (void *)w.owner);
	fm_event_hook = NULL;
	fm_teardown();
}

/* --- a restart's export of its faulted module (hub/replay.c) --------------
 *
 * The world of test_transparent_replay.c: `bus` serves tcon:bus0 to
 * `drv` (PB_MOD_RESTATE), which serves tdrv:drv0 to `app`. */

static struct fm *r_bus, *r_drv, *r_app;

static int
restate_world(void)
{
	fm_setup();
	r_bus = fm_add("bus", 0);
	fm_serve(r_bus, "tcon", "bus0");
	r_drv = fm_add_loadable("drv", 5);
	fm_require(r_drv, "tcon", 1, 0, PB_CARD_ONE, PB_AT_START);
	fm_provide(r_drv, "tdrv", 1, 0);
	fm_publish(r_drv, "tdrv", "drv0", "");
	r_app = fm_add("app", 0);
	fm_require(r_app, "tdrv", 1, 0, PB_CARD_ONE, PB_AT_START);
	if (fm_start(r_bus) || fm_start(r_drv) || fm_start(r_app))
		return 0;
	r_drv->m->desc.flags |= PB_MOD_RESTATE;
	return fm_conn_res(r_app, 0, 0) == r_drv->res[0];
}

static void
fault_in_work(void *arg)
{
	fake_fault(arg);
}

static void
fault_drv(void)
{
	work_queue(r_drv->m, fault_in_work, r_drv->m);
	fm_run_work();
}

static void
said_nothing(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

/* The export is an entry call like every other: an injection armed for
 * drv's next entry (a wrong return code) meets it, and the state it
 * spoils is none; drv starts afresh, its client rebound. */
TEST(watchsafe_restart_export_is_an_entry_like_every_other)
{
	REQUIRE(restate_world());
	CHECK_EQ_INT(hub_control(NULL, "inject drv 0:8:0xfffffffffffffff4",
	    said_nothing, NULL), PB_OK);	/* PB_ENOMEM */
	fm_trace_clear();
	fault_drv();
	CHECK(fm_log_has("drv: no state to restart with (-12"));
	CHECK_CONTAINS(fm_trace, "drv.export(size)");
	CHECK_CONTAINS(fm_trace, "drv.start(normal)");
	CHECK_EQ_INT(r_drv->m->state, MOD_RUNNING);
	CHECK_EQ_INT(r_app->nrebound, 1);
	hub_control(NULL, "inject off", said_nothing, NULL);
	fm_teardown();
}

/* A fault in the export is the faulted module's, contained: no state, one
 * restart (not a second recovery nested in it, nor a fault counted
 * twice), its client rebound once. */
TEST(watchsafe_restart_export_fault_is_contained)
{
	REQUIRE(restate_world());
	r_drv->fault_at = FM_EXPORT_SIZE;
	fault_drv();
	r_drv->fault_at = FM_NONE;
	fm_run_work();
	CHECK(fm_log_has("drv: no state to restart with"));
	CHECK_EQ_INT(r_drv->m->state, MOD_RUNNING);
	CHECK_EQ_INT(r_drv->m->faults, 1);
	CHECK_EQ_INT(r_app->nrebound, 1);
	CHECK_EQ_INT(log_count("drv: restarting from its image"), 1);
	fm_teardown();
}

/* While its export runs, the faulted module's interrupt handlers are
 * still kept out: only the export's own call reaches it. */
static unsigned irq_runs, irq_seen_in_export;
static int drv_vector;

static void
drv_handler(void *arg)
{
	(void)arg;
	irq_runs++;
}

static void
interrupt_in_export(struct fm *f, int step)
{
	unsigned before = irq_runs;

	if (f != r_drv || step != FM_EXPORT_SIZE)
		return;
	hub_irq_dispatch(drv_vector);
	irq_seen_in_export += irq_runs - before;
}

TEST(watchsafe_restart_export_lets_no_interrupt_in)
{
	REQUIRE(restate_world());
	drv_vector = irq_alloc(r_drv->m);
	REQUIRE(irq_register(r_drv->m, drv_vector, drv_handler, NULL) ==
	    PB_OK);
	irq_runs = irq_seen_in_export = 0;
	hub_irq_dispatch(drv_vector);
	CHECK_EQ_INT(irq_runs, 1);		/* delivered while it runs */
	fm_step_hook = interrupt_in_export;
	fm_trace_clear();
	fault_drv();
	fm_step_hook = NULL;
	CHECK_CONTAINS(fm_trace, "drv.export(size)");
	CHECK_EQ_INT(irq_seen_in_export, 0);
	CHECK_EQ_INT(r_drv->m->state, MOD_RUNNING);
	fm_teardown();
}
