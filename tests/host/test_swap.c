/*
 * test_swap.c - the swap engine (hub/swap.c) with fake providers.
 *
 * The usual world: `old` (rank 1) serves tcon:old0 to `cli`, which needs
 * one tcon to start; `new` (rank 2) publishes tcon:new0 once started and is
 * loaded but not started.  Each test swaps old for new and checks the steps
 * of DESIGN.md ("Swapping") through the trace of entry-point calls, the
 * connections, the ledger and the log.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fakemod.h"

static struct fm *old_, *new_, *cli;
static char err[200];

/* old serves cli; new is loaded.  0 when the world could not be built. */
static int
world_with(int loadable_new, int old_irq)
{
	fm_setup();
	err[0] = '\0';
	old_ = fm_add("old", 1);
	fm_serve(old_, "tcon", "old0");
	old_->want_irq = old_irq;
	new_ = loadable_new ? fm_add_loadable("new", 2) : fm_add("new", 2);
	fm_serve(new_, "tcon", "new0");
	cli = fm_add("cli", 0);
	fm_require(cli, "tcon", 1, 0, PB_CARD_ONE, PB_AT_START);
	return fm_start(old_) == PB_OK && fm_start(cli) == PB_OK &&
	    fm_conn(cli, 0, 0) && fm_conn_res(cli, 0, 0) == old_->res[0];
}

#define WORLD()	REQUIRE(world_with(0, 0))

static int
swap(void)
{
	return swap_provider(old_->m, new_->m, "tcon", err, sizeof(err));
}

/* Is c bound to resource k of f, in every field the client reads? */
static int
bound_to(struct conn *c, struct fm *f, int k)
{
	char name[64];

	snprintf(name, sizeof(name), "%s:%s", f->pub[k].iface, f->pub[k].name);
	return c && c->used && c->res == f->res[k] && c->pub.ops == f->iops &&
	    c->pub.ctx == &f->inst[k] && c->pub.res &&
	    strcmp(c->pub.res, name) == 0;
}

static int
ledger_empty(struct fm *f)
{
	char why[128];

	return mod_holds_nothing(f->m, why, sizeof(why));
}

/* --- a swap that works ------------------------------------------------------- */

TEST(swap_steps_in_order)
{
	WORLD();
	fm_trace_clear();
	CHECK_EQ_INT(swap(), PB_OK);
	CHECK_STR(fm_trace, "new.start(standby) old.export(size) old.quiesce "
	    "old.export old.release new.import new.activate "
	    "cli.rebound(tcon:new0)");
	CHECK_EQ_INT(new_->last_mode, PB_START_STANDBY);
	CHECK_EQ_INT(new_->nstart, 1);
	CHECK_EQ_INT(old_->m->state, MOD_QUIESCED);
	CHECK_EQ_INT(new_->m->state, MOD_RUNNING);
	CHECK(old_->quiesced && old_->released && !old_->active);
	CHECK(new_->active);
	CHECK_EQ_INT(old_->nstop, 0);		/* kept for the watch window */
	CHECK_EQ_INT(old_->nresume, 0);
	CHECK(new_->m->swapped_from == old_->m);
	CHECK(old_->m->swapped_from == NULL);
	CHECK_EQ_INT(new_->m->watch_until_ns, fake_now + swap_watch_ns);
	CHECK(fm_log_has("old -> new for tcon: blackout"));
	fm_teardown();
}

/* The second export_state answer is checked against the buffer the first
 * asked for: a provider claiming more fails the swap and keeps serving. */
TEST(swap_export_longer_than_its_buffer_fails)
{
	struct conn *c;

	WORLD();
	c = fm_conn(cli, 0, 0);
	old_->export_lie = 4096;
	CHECK(swap() != PB_OK);
	CHECK_CONTAINS(err, "old exported");
	CHECK_CONTAINS(err, "bytes into");
	CHECK_EQ_INT(fm_last_import_len, 0);	/* new never saw it */
	CHECK_EQ_INT(fm_write(c, "still old\n"), PB_OK);
	CHECK_EQ_INT(mem_owned(NULL, -1), 0);
	fm_teardown();
}

/* The state's size is asked before the blackout; one that grows past its
 * buffer while the provider quiesces gets a bigger one, and the swap goes
 * on with the whole of it. */
static void
grow_in_quiesce(struct fm *f, int step)
{
	if (f == old_ && step == FM_QUIESCE)
		old_->pad = 3 * 4096;
}

TEST(swap_state_grown_while_quiescing_fits_a_bigger_buffer)
{
	WORLD();
	fm_step_hook = grow_in_quiesce;
	fm_trace_clear();
	CHECK_EQ_INT(swap(), PB_OK);
	CHECK_STR(fm_trace, "new.start(standby) old.export(size) old.quiesce "
	    "old.export old.export old.release new.import new.activate "
	    "cli.rebound(tcon:new0)");
	CHECK(fm_last_import_len > 3 * 4096);
	CHECK_EQ_INT(fm_last_import_len, fm_last_export_len);
	CHECK(memcmp(fm_last_import, fm_last_export, fm_last_import_len) == 0);
	CHECK_EQ_INT(mem_owned(NULL, -1), 0);	/* freed after the swap */
	CHECK(bound_to(fm_conn(cli, 0, 0), new_, 0));
	fm_teardown();
}

/* The check before the blackout stands only while no resource or
 * connection changes: a connection made to old's resource while new
 * imports (inside the blackout) moves with the others. */
static struct conn *late_conn;

static void
connect_in_import(struct fm *f, int step)
{
	if (f == new_ && step == FM_IMPORT)
		late_conn = conn_open(NULL, old_->res[0], PB_REQ_NONE);
}

TEST(swap_moves_a_connection_made_in_the_blackout)
{
	WORLD();
	late_conn = NULL;
	fm_step_hook = connect_in_import;
	CHECK_EQ_INT(swap(), PB_OK);
	REQUIRE(late_conn != NULL);
	CHECK(late_conn->res == new_->res[0]);
	CHECK(bound_to(fm_conn(cli, 0, 0), new_, 0));
	fm_teardown();
}

/* The new provider withdrew the resource swap_begin had matched: the
 * swap fails (its counterparts are matched again before the rebinding)
 * instead of rebinding the client to nothing. */
TEST(swap_counterpart_gone_at_activate_fails)
{
	struct conn *c;

	WORLD();
	c = fm_conn(cli, 0, 0);
	new_->withdraw_at_activate = 1;
	fm_trace_clear();
	CHECK(swap() != PB_OK);
	CHECK_CONTAINS(err, "tcon");
	CHECK(bound_to(c, old_, 0));
	CHECK_EQ_INT(fm_write(c, "still old\n"), PB_OK);
	/* New had activated: it lets go of what it imported before it
	 * stops, and old resumes with it (completed once, by old). */
	CHECK_MSG(strstr(fm_trace, "new.release") &&
	    strstr(fm_trace, "new.stop") && strstr(fm_trace, "old.resume") &&
	    strstr(fm_trace, "new.release") < strstr(fm_trace, "new.stop") &&
	    strstr(fm_trace, "new.stop") < strstr(fm_trace, "old.resume"),
	    "\"%s\"", fm_trace);
	fm_teardown();
}

TEST(swap_state_passes_byte_exact)
{
	struct conn *c;

	WORLD();
	c = fm_conn(cli, 0, 0);
	old_->pad = 5000;		/* more than a page of state */
	old_->export_version = new_->import_version = 7;
	CHECK_EQ_INT(fm_write(c, "one\ntwo\n"), PB_OK);
	CHECK_EQ_INT(fm_write(c, "three\npartial"), PB_OK);
	CHECK_EQ_INT(swap(), PB_OK);
	CHECK(fm_last_export_len > 5000);
	CHECK_EQ_INT(fm_last_import_len, fm_last_export_len);
	CHECK(memcmp(fm_last_import, fm_last_export, fm_last_export_len) == 0);
	CHECK_EQ_INT(fm_last_import_version, 7);
	CHECK_EQ_INT(new_->inst[0].lines, 3);
	CHECK_STR(new_->inst[0].text, "one\ntwo\nthree\npartial");
	/* The hub's copy of the state is gone. */
	CHECK_EQ_INT(mem_owned(NULL, -1), 0);
	/* The client goes on where it was, on new. */
	CHECK_EQ_INT(fm_write(c, " end\n"), PB_OK);
	CHECK_EQ_INT(fm_lines(c), 4);
	CHECK_STR(new_->inst[0].text, "one\ntwo\nthree\npartial end\n");
	CHECK_EQ_INT(old_->inst[0].writes, 2);
	CHECK_EQ_INT(new_->inst[0].writes, 1);
	fm_teardown();
}

TEST(swap_rebinds_every_client)
{
	struct fm *all, *hand;
	struct pb_conn *pc;
	struct conn *c[3];
	char deps[128];

	WORLD();
	all = fm_add("all", 0);
	fm_require(all, "tcon", 1, 0, PB_CARD_ALL, PB_LATER);
	hand = fm_add("hand", 0);
	REQUIRE(fm_start(all) == PB_OK && fm_start(hand) == PB_OK);
	pc = hub_services.connect(hand->m, "tcon", 1, 0, "tcon:old0");
	REQUIRE(pc != NULL);
	c[0] = fm_conn(cli, 0, 0);
	c[1] = fm_conn(all, 0, 0);
	c[2] = (struct conn *)pc;
	for (int i = 0; i < 3; i++)
		CHECK_MSG(bound_to(c[i], old_, 0), "conn %d not on old0", i);
	CHECK_EQ_INT(swap(), PB_OK);
	for (int i = 0; i < 3; i++)
		CHECK_MSG(bound_to(c[i], new_, 0), "conn %d not on new0", i);
	CHECK_EQ_INT(cli->nrebound, 1);
	CHECK_EQ_INT(all->nrebound, 1);
	CHECK_EQ_INT(hand->nrebound, 1);
	CHECK_EQ_INT(cli->ndisconnected + all->ndisconnected +
	    hand->ndisconnected, 0);
	CHECK_EQ_INT(fm_nconns(all), 1);	/* not connected twice */
	CHECK(res_find("tcon:old0") == NULL);	/* hidden in the window */
	CHECK(res_find("tcon:new0") == new_->res[0]);
	CHECK(res_best("tcon", 1, 0, NULL) == new_->res[0]);
	CHECK_EQ_INT(res_clients(old_->res[0]), 0);
	CHECK_EQ_INT(res_clients(new_->res[0]), 3);
	CHECK_EQ_INT(hub_dependants(old_->m, deps, sizeof(deps)), 0);
	CHECK_EQ_INT(hub_dependants(new_->m, deps, sizeof(deps)), 3);
	CHECK_STR(deps, "cli, all, hand");
	fm_teardown();
}

/* Two resources each: the k-th of old goes to the k-th of new, and the
 * state of each instance with it. */
TEST(swap_pairs_resources_in_order)
{
	struct fm *hand;
	struct pb_conn *pc;

	fm_setup();
	old_ = fm_add("old", 1);
	fm_serve(old_, "tcon", "old0");
	fm_serve(old_, "tcon", "old1");
	new_ = fm_add("new", 2);
	fm_serve(new_, "tcon", "new0");
	fm_serve(new_, "tcon", "new1");
	cli = fm_add("cli", 0);
	fm_require(cli, "tcon", 1, 0, PB_CARD_ONE, PB_AT_START);
	hand = fm_add("hand", 0);
	REQUIRE(fm_start(old_) == PB_OK && fm_start(cli) == PB_OK &&
	    fm_start(hand) == PB_OK);
	pc = hub_services.connect(hand->m, "tcon", 1, 0, "tcon:old1");
	REQUIRE(pc != NULL);
	CHECK(bound_to(fm_conn(cli, 0, 0), old_, 0));
	CHECK_EQ_INT(fm_write(fm_conn(cli, 0, 0), "a\n"), PB_OK);
	CHECK_EQ_INT(fm_write((struct conn *)pc, "b\nc\n"), PB_OK);
	CHECK_EQ_INT(swap(), PB_OK);
	CHECK(bound_to(fm_conn(cli, 0, 0), new_, 0));
	CHECK(bound_to((struct conn *)pc, new_, 1));
	CHECK_EQ_INT(new_->inst[0].lines, 1);
	CHECK_EQ_INT(new_->inst[1].lines, 2);
	CHECK_STR(new_->inst[1].text, "b\nc\n");
	fm_teardown();
}

TEST(swap_old_kept_for_the_watch_window)
{
	WORLD();
	CHECK_EQ_INT(swap(), PB_OK);
	fm_advance(swap_watch_ns - 1);
	CHECK_EQ_INT(old_->m->state, MOD_QUIESCED);
	CHECK(new_->m->swapped_from == old_->m);
	CHECK_EQ_INT(old_->nstop, 0);
	fm_advance(1);
	CHECK_EQ_INT(old_->m->state, MOD_UNLOADED);
	CHECK(new_->m->swapped_from == NULL);
	CHECK_EQ_INT(old_->nstop, 1);
	CHECK_EQ_INT(fm_nres(old_), 0);
	CHECK(ledger_empty(old_));
	CHECK(fm_log_has("old unloaded; ledger empty"));
	/* Nothing reached the clients. */
	CHECK_EQ_INT(new_->m->state, MOD_RUNNING);
	CHECK(bound_to(fm_conn(cli, 0, 0), new_, 0));
	CHECK_EQ_INT(cli->ndisconnected, 0);
	CHECK_EQ_INT(cli->nrebound, 1);
	fm_teardown();
}

TEST(swap_blackout_recorded)
{
	struct fm *third;

	WORLD();
	/* Every entry point takes 1 us: quiesce, export, release, import,
	 * activate are the blackout; new's standby start and old's export
	 * of its size (asked before) are not. */
	old_->tick_ns = new_->tick_ns = 1000;
	CHECK_EQ_INT(swap(), PB_OK);
	CHECK_EQ_INT(swap_stats.count, 1);
	CHECK_EQ_INT(swap_stats.last_ns, 5000);
	CHECK_EQ_INT(swap_stats.worst_ns, 5000);
	CHECK(fm_log_has("old -> new for tcon: blackout 5 us"));

	third = fm_add("third", 3);
	fm_serve(third, "tcon", "third0");
	new_->tick_ns = third->tick_ns = 100;
	CHECK_EQ_INT(swap_provider(new_->m, third->m, "tcon", err, sizeof(err)),
	    PB_OK);
	CHECK_EQ_INT(swap_stats.count, 2);
	CHECK_EQ_INT(swap_stats.last_ns, 500);
	CHECK_EQ_INT(swap_stats.worst_ns, 5000);
	CHECK(bound_to(fm_conn(cli, 0, 0), third, 0));
	fm_teardown();
}

/* "Every swap ... happens ... with the provider's interrupts held back
 * across the flip." */
static unsigned irqs_seen_in_import;

static void
irq_in_import(struct fm *f, int step)
{
	if (f == new_ && step == FM_IMPORT) {
		hub_irq_dispatch(old_->irq_vector);
		irqs_seen_in_import = old_->nirq;
	}
}

TEST(swap_holds_old_interrupts)
{
	REQUIRE(world_with(0, 1));
	REQUIRE(old_->irq_vector >= 64);
	hub_irq_dispatch(old_->irq_vector);
	CHECK_EQ_INT(old_->nirq, 1);
	irqs_seen_in_import = 99;
	fm_step_hook = irq_in_import;
	CHECK_EQ_INT(swap(), PB_OK);
	CHECK_EQ_INT(irqs_seen_in_import, 1);	/* held */
	/* Not replayed to the old provider: it released the device. */
	CHECK_EQ_INT(old_->nirq, 1);
	fm_teardown();
}

TEST(swap_rollback_releases_held_interrupts)
{
	REQUIRE(world_with(0, 1));
	new_->fail_at = FM_ACTIVATE;
	irqs_seen_in_import = 99;
	fm_step_hook = irq_in_import;
	CHECK(swap() != PB_OK);
	CHECK_EQ_INT(irqs_seen_in_import, 0);
	CHECK_EQ_INT(old_->nirq, 1);
	hub_irq_dispatch(old_->irq_vector);	/* not held any more */
	CHECK_EQ_INT(old_->nirq, 2);
	fm_teardown();
}

/* --- a failed swap loses nothing ------------------------------------------ */

struct rollback {
	const char *name;
	int in_new;		/* the step is new's (else old's) */
	int step;
	int quiesced;		/* old was quiesced when it failed */
	const char *trace;	/* the calls up to the failure */
	const char *err;
};

#define UPTO_RELEASE "new.start(standby) old.export(size) old.quiesce " \
	"old.export old.release"
static const struct rollback rollbacks[] = {
	{ "standby", 1, FM_STANDBY, 0, "new.start(standby)",
	    "new cannot start in standby" },
	{ "quiesce", 0, FM_QUIESCE, 0,
	    "new.start(standby) old.export(size) old.quiesce",
	    "old refused to quiesce" },
	{ "export size", 0, FM_EXPORT_SIZE, 0,
	    "new.start(standby) old.export(size)",
	    "old cannot export its state" },
	{ "export", 0, FM_EXPORT, 1,
	    "new.start(standby) old.export(size) old.quiesce old.export",
	    "old cannot export its state" },
	{ "release", 0, FM_RELEASE, 1, UPTO_RELEASE,
	    "old cannot release the hardware" },
	{ "import", 1, FM_IMPORT, 1, UPTO_RELEASE " new.import",
	    "new cannot import the state" },
	{ "activate", 1, FM_ACTIVATE, 1,
	    UPTO_RELEASE " new.import new.activate",
	    "new cannot take the hardware" },
};

/* After a failed swap: old serves as before, new is gone, no client saw
 * anything.  `fault`: the step faulted rather than failed. */
static void
check_rolled_back(const struct rollback *t, int r, int fault)
{
	struct conn *c = fm_conn(cli, 0, 0);
	const char *rest = fm_trace + strlen(t->trace);

	CHECK_MSG(r == (fault ? PB_EFAULT : PB_EIO), "%s: swap returned %d",
	    t->name, r);
	CHECK_MSG(strstr(err, t->err) != NULL, "%s: err \"%s\"", t->name, err);
	CHECK_MSG(strncmp(fm_trace, t->trace, strlen(t->trace)) == 0,
	    "%s: trace \"%s\"", t->name, fm_trace);
	CHECK_MSG(fm_count(rest, "old.resume") == (unsigned)t->quiesced,
	    "%s: trace \"%s\"", t->name, fm_trace);
	CHECK_MSG(fm_count(fm_trace, "new.stop") == (fault && t->in_new ? 0 : 1),
	    "%s: trace \"%s\"", t->name, fm_trace);
	CHECK_MSG(old_->m->state == MOD_RUNNING, "%s: old is %s", t->name,
	    mod_state_name(old_->m->state));
	CHECK_MSG(old_->nresume == (unsigned)t->quiesced, "%s: %u resumes",
	    t->name, old_->nresume);
	CHECK_MSG(!old_->quiesced && !old_->released && old_->active,
	    "%s: old not serving", t->name);
	CHECK_MSG(bound_to(c, old_, 0), "%s: cli not on old0", t->name);
	CHECK_MSG(cli->nrebound == 0 && cli->ndisconnected == 0,
	    "%s: cli was told something", t->name);
	CHECK_MSG(res_find("tcon:old0") == old_->res[0], "%s: old0 hidden",
	    t->name);
	CHECK_MSG(new_->m->state == MOD_KNOWN || new_->m->state ==
	    MOD_UNLOADED || new_->m->state == MOD_FAILED, "%s: new is %s",
	    t->name, mod_state_name(new_->m->state));
	CHECK_MSG(fm_nres(new_) == 0, "%s: new left resources", t->name);
	CHECK_MSG(ledger_empty(new_), "%s: new's ledger", t->name);
	CHECK_MSG(mem_owned(NULL, -1) == 0, "%s: state buffer kept", t->name);
	CHECK_MSG(swap_stats.count == 0, "%s: counted as a swap", t->name);
	CHECK_MSG(!new_->m->swapped_from && !old_->m->swapped_from,
	    "%s: watch window set", t->name);
	/* old still works and kept its state */
	CHECK_MSG(fm_write(c, "after\n") == PB_OK && old_->inst[0].lines == 2,
	    "%s: old lost its state", t->name);
}

static void
rollback_case(const struct rollback *t, int fault)
{
	struct fm *f;

	WORLD();
	CHECK_EQ_INT(fm_write(fm_conn(cli, 0, 0), "before\n"), PB_OK);
	f = t->in_new ? new_ : old_;
	if (fault)
		f->fault_at = t->step;
	else
		f->fail_at = t->step;
	fm_trace_clear();
	check_rolled_back(t, swap(), fault);
	fm_teardown();
}

#define ROLLBACK(tname, i) \
	TEST(swap_rollback_at_##tname) { rollback_case(&rollbacks[i], 0); }
ROLLBACK(standby, 0)
ROLLBACK(quiesce, 1)
ROLLBACK(export_size, 2)
ROLLBACK(export, 3)
ROLLBACK(release, 4)
ROLLBACK(import, 5)
ROLLBACK(activate, 6)

/* A fault of new inside its swap rolls back the same way. */
TEST(swap_fault_in_new_during_import_rolls_back)
{
	rollback_case(&rollbacks[5], 1);
	CHECK(fm_log_has("new faulted"));
}

TEST(swap_fault_in_new_during_activate_rolls_back)
{
	rollback_case(&rollbacks[6], 1);
}

TEST(swap_fault_in_new_during_standby_start_rolls_back)
{
	rollback_case(&rollbacks[0], 1);
}

/* abi/pb.h: "If a step fails: P'.stop(); P.resume() and P keeps serving."
 * P' lets go before P takes the hardware back. */
TEST(swap_rollback_stops_new_before_resuming_old)
{
	for (int i = 3; i < 7; i++) {	/* the steps after the quiesce */
		const char *stop, *resume;

		REQUIRE(world_with(0, 0));
		(rollbacks[i].in_new ? new_ : old_)->fail_at = rollbacks[i].step;
		fm_trace_clear();
		CHECK(swap() != PB_OK);
		stop = strstr(fm_trace, "new.stop");
		resume = strstr(fm_trace, "old.resume");
		CHECK_MSG(stop && resume && stop < resume,
		    "%s: \"%s\"", rollbacks[i].name, fm_trace);
		/* a step of new's failed: it took nothing to give back */
		CHECK_MSG(!strstr(fm_trace, "new.release"), "%s: \"%s\"",
		    rollbacks[i].name, fm_trace);
		fm_teardown();
	}
}

/* A module being swapped in that faults is rolled back by the swap, not
 * restarted on its own by the fault handler (which would start it in
 * NORMAL mode beside old, or nest a second swap). */
TEST(swap_fault_in_new_does_not_restart_it)
{
	static const int steps[] = { FM_STANDBY, FM_IMPORT, FM_ACTIVATE };

	for (unsigned i = 0; i < 3; i++) {
		REQUIRE(world_with(1, 0));
		new_->fault_at = steps[i];
		fm_trace_clear();
		CHECK(swap() == PB_EFAULT);
		CHECK_MSG(fm_count(fm_trace, "new.start") == 1,
		    "step %d: \"%s\"", steps[i], fm_trace);
		CHECK_MSG(new_->m->state != MOD_RUNNING, "step %d: new runs",
		    steps[i]);
		CHECK_MSG(old_->m->state == MOD_RUNNING, "step %d: old is %s",
		    steps[i], mod_state_name(old_->m->state));
		CHECK_MSG(bound_to(fm_conn(cli, 0, 0), old_, 0),
		    "step %d: cli moved", steps[i]);
		CHECK_MSG(fm_nres(new_) == 0, "step %d: new0 left", steps[i]);
		fm_teardown();
	}
}

TEST(swap_state_version_mismatch_rolls_back)
{
	WORLD();
	old_->export_version = 2;	/* new only knows version 1 */
	CHECK_EQ_INT(swap(), PB_ESTATE);
	CHECK_CONTAINS(err, "new cannot import the state");
	CHECK_EQ_INT(fm_last_import_version, 2);
	CHECK_EQ_INT(old_->m->state, MOD_RUNNING);
	CHECK_EQ_INT(old_->nresume, 1);
	CHECK(bound_to(fm_conn(cli, 0, 0), old_, 0));
	fm_teardown();
}

TEST(swap_state_too_big_for_memory_rolls_back)
{
	WORLD();
	old_->pad = 8u << 20;		/* the arena has 4 MiB */
	CHECK_EQ_INT(swap(), PB_ENOMEM);
	CHECK_CONTAINS(err, "old cannot export its state");
	CHECK_EQ_INT(old_->m->state, MOD_RUNNING);
	CHECK_EQ_INT(old_->nresume, 0);		/* found out before quiesce */
	CHECK(bound_to(fm_conn(cli, 0, 0), old_, 0));
	CHECK_EQ_INT(fm_nres(new_), 0);
	fm_teardown();
}

/* --- refusals ------------------------------------------------------------- */

TEST(swap_refused_without_export_state)
{
	WORLD();
	old_->m->ops = &fm_ops_noexport;
	fm_trace_clear();
	CHECK_EQ_INT(swap(), PB_ENOTSUP);
	CHECK_CONTAINS(err, "old cannot be swapped out");
	CHECK_STR(fm_trace, "");		/* new never started */
	CHECK_EQ_INT(new_->m->state, MOD_LOADED);
	CHECK_EQ_INT(old_->m->state, MOD_RUNNING);
	CHECK(bound_to(fm_conn(cli, 0, 0), old_, 0));
	fm_teardown();
}

TEST(swap_refused_when_old_is_not_running)
{
	WORLD();
	CHECK_EQ_INT(swap_provider(new_->m, old_->m, "tcon", err, sizeof(err)),
	    PB_EINVAL);
	CHECK_CONTAINS(err, "new is not a running provider");
	CHECK_EQ_INT(swap_provider(old_->m, old_->m, "tcon", err, sizeof(err)),
	    PB_EINVAL);
	CHECK_EQ_INT(old_->m->state, MOD_RUNNING);
	CHECK_EQ_INT(new_->m->state, MOD_LOADED);
	fm_teardown();
}

TEST(swap_refused_without_counterpart)
{
	fm_setup();
	old_ = fm_add("old", 1);
	fm_serve(old_, "tcon", "old0");
	fm_serve(old_, "tcon", "old1");
	new_ = fm_add("new", 2);
	fm_serve(new_, "tcon", "new0");
	cli = fm_add("cli", 0);
	fm_require(cli, "tcon", 1, 0, PB_CARD_ONE, PB_AT_START);
	REQUIRE(fm_start(old_) == PB_OK && fm_start(cli) == PB_OK);
	fm_trace_clear();
	CHECK_EQ_INT(swap(), PB_ENOENT);
	CHECK_CONTAINS(err, "new publishes no tcon to take over tcon:old1");
	CHECK_STR(fm_trace, "new.start(standby) new.stop");
	CHECK_EQ_INT(old_->m->state, MOD_RUNNING);
	CHECK(!old_->quiesced);
	CHECK(bound_to(fm_conn(cli, 0, 0), old_, 0));
	CHECK_EQ_INT(fm_nres(new_), 0);
	CHECK(ledger_empty(new_));
	fm_teardown();
}

/* new's tcon is too old for cli: rebinding cli to it would have it call
 * operations new does not have.  The swap must not go ahead. */
TEST(swap_refused_when_new_cannot_serve_a_client)
{
	fm_setup();
	old_ = fm_add("old", 1);
	fm_provide(old_, "tcon", 1, 2);
	fm_publish(old_, "tcon", "old0", NULL);
	new_ = fm_add("new", 2);
	fm_provide(new_, "tcon", 1, 0);
	fm_publish(new_, "tcon", "new0", NULL);
	cli = fm_add("cli", 0);
	fm_require(cli, "tcon", 1, 2, PB_CARD_ONE, PB_AT_START);
	REQUIRE(fm_start(old_) == PB_OK && fm_start(cli) == PB_OK);
	CHECK(swap() != PB_OK);
	CHECK(bound_to(fm_conn(cli, 0, 0), old_, 0));
	CHECK(res_serves(fm_conn_res(cli, 0, 0), "tcon", 1, 2));
	CHECK_EQ_INT(old_->m->state, MOD_RUNNING);
	fm_teardown();
}

/* A provider that already runs (and serves its own clients) cannot be
 * swapped in: a refused swap must leave it running. */
TEST(swap_refused_when_new_already_runs)
{
	struct fm *cli2;

	WORLD();
	REQUIRE(fm_start(new_) == PB_OK);
	cli2 = fm_add("cli2", 0);
	REQUIRE(hub_services.connect(cli2->m, "tcon", 1, 0, "tcon:new0"));
	CHECK(swap() != PB_OK);
	CHECK_EQ_INT(new_->m->state, MOD_RUNNING);
	CHECK_EQ_INT(new_->nstop, 0);
	CHECK(bound_to(fm_conn(cli2, -1, 0), new_, 0));
	CHECK(bound_to(fm_conn(cli, 0, 0), old_, 0));
	CHECK_EQ_INT(old_->m->state, MOD_RUNNING);
	fm_teardown();
}

/* new needs `dep` (there) and `missing` (not there) to start: the swap
 * fails, and new keeps no connection to dep. */
TEST(swap_standby_requirements_undone)
{
	struct fm *dep;
	char deps[64];

	WORLD();
	dep = fm_add("dep", 1);
	fm_serve(dep, "dep", "d0");
	REQUIRE(fm_start(dep) == PB_OK);
	fm_require(new_, "dep", 1, 0, PB_CARD_ONE, PB_AT_START);
	fm_require(new_, "missing", 1, 0, PB_CARD_ONE, PB_AT_START);
	CHECK_EQ_INT(swap(), PB_ENOENT);
	CHECK_CONTAINS(err, "new cannot start in standby");
	CHECK_EQ_INT(fm_nconns(new_), 0);
	CHECK_EQ_INT(hub_dependants(dep->m, deps, sizeof(deps)), 0);
	CHECK(ledger_empty(new_));
	CHECK(!fm_log_has("ledger not empty"));
	CHECK(bound_to(fm_conn(cli, 0, 0), old_, 0));
	fm_teardown();
}

/* --- the watch window ------------------------------------------------------- */

static void
cli_writes(void *arg)
{
	fm_write(arg, "from a work item\n");
}

/* new faults in its watch window, called by a client: the hub swaps back
 * by itself. */
TEST(swap_fault_in_watch_window_swaps_back)
{
	struct conn *c;

	WORLD();
	c = fm_conn(cli, 0, 0);
	CHECK_EQ_INT(fm_write(c, "x\n"), PB_OK);
	CHECK_EQ_INT(swap(), PB_OK);
	new_->fault_at = FM_WRITE;
	fm_trace_clear();
	CHECK_EQ_INT(work_queue(cli->m, cli_writes, c), PB_OK);
	fm_run_work();
	CHECK(fm_log_has("new faulted in its watch window: back to old"));
	CHECK_EQ_INT(old_->m->state, MOD_RUNNING);
	CHECK_EQ_INT(old_->nresume, 1);
	CHECK(!old_->quiesced && !old_->released && old_->active);
	CHECK(bound_to(c, old_, 0));
	CHECK(res_find("tcon:old0") == old_->res[0]);
	CHECK(res_best("tcon", 1, 0, NULL) == old_->res[0]);
	CHECK_EQ_INT(new_->m->state, MOD_FAILED);
	CHECK_EQ_INT(fm_nres(new_), 0);
	CHECK(new_->m->swapped_from == NULL);
	CHECK_EQ_INT(cli->m->state, MOD_RUNNING);	/* not blamed */
	CHECK_EQ_INT(cli->ndisconnected, 0);
	CHECK_EQ_INT(fm_write(c, "y\n"), PB_OK);
	CHECK_EQ_INT(old_->inst[0].lines, 2);
	/* The window's end does not unload old any more. */
	fm_advance(swap_watch_ns);
	CHECK_EQ_INT(old_->m->state, MOD_RUNNING);
	CHECK_EQ_INT(old_->nstop, 0);
	CHECK(bound_to(c, old_, 0));
	fm_teardown();
}

/* DESIGN.md: clients are told when their connection is rebound; the swap
 * back is a rebind too. */
TEST(swap_back_tells_clients)
{
	WORLD();
	CHECK_EQ_INT(swap(), PB_OK);
	new_->fault_at = FM_WRITE;
	fm_trace_clear();
	CHECK_EQ_INT(work_queue(cli->m, cli_writes, fm_conn(cli, 0, 0)), PB_OK);
	fm_run_work();
	CHECK(bound_to(fm_conn(cli, 0, 0), old_, 0));
	CHECK_EQ_INT(cli->nrebound, 2);
	CHECK_CONTAINS(fm_trace, "cli.rebound(tcon:old0)");
	fm_teardown();
}

/* After the window, a fault of new is an ordinary fault: old is gone, so
 * cli, which needs a tcon to run, loses it and is stopped.  (Run in a child:
 * res.c's fallback used to crash on exactly this.) */
static const char *
fault_after_window(void)
{
	FM_ICHECK(world_with(0, 0));
	FM_ICHECK(swap() == PB_OK);
	fm_advance(swap_watch_ns);
	FM_ICHECK(old_->m->state == MOD_UNLOADED);
	new_->fault_at = FM_WRITE;
	FM_ICHECK(work_queue(cli->m, cli_writes, fm_conn(cli, 0, 0)) == PB_OK);
	fm_run_work();
	FM_ICHECK(!fm_log_has("back to old"));
	FM_ICHECK(fm_log_has("new faulted"));
	FM_ICHECK(old_->m->state == MOD_UNLOADED);
	FM_ICHECK(old_->nresume == 0);
	FM_ICHECK(cli->ndisconnected == 1);
	FM_ICHECK(cli->m->state == MOD_LOADED);		/* stopped */
	FM_ICHECK(cli->nstop == 1);
	FM_ICHECK(fm_nconns(cli) == 0);
	fm_teardown();
	return NULL;
}

TEST(swap_fault_after_watch_window_does_not_swap_back)
{
	const char *why = fm_isolated(fault_after_window);

	CHECK_MSG(why == NULL, "%s", why);
}

/* Unloading old by hand inside the window must not leave new pointing at
 * it: a fault of new would then "swap back" to a module with no code
 * (swap_watch_fault calls old's resume through old->ops, now NULL). */
TEST(swap_unload_old_inside_watch_window)
{
	char e[128];
	int r;

	WORLD();
	CHECK_EQ_INT(swap(), PB_OK);
	r = hub_unload(old_->m, e, sizeof(e));
	if (r == PB_OK)
		CHECK_MSG(new_->m->swapped_from != old_->m,
		    "old unloaded but new->swapped_from still points at it");
	else
		CHECK_EQ_INT(old_->m->state, MOD_QUIESCED);
	fm_teardown();
}

/* --- A -> B -> A ------------------------------------------------------------ */

static struct fm *a_, *b_;

static int
aba_world(int loadable_a)
{
	fm_setup();
	err[0] = '\0';
	a_ = loadable_a ? fm_add_loadable("a", 1) : fm_add("a", 1);
	fm_serve(a_, "tcon", "a0");
	b_ = fm_add("b", 2);
	fm_serve(b_, "tcon", "b0");
	cli = fm_add("cli", 0);
	fm_require(cli, "tcon", 1, 0, PB_CARD_ONE, PB_AT_START);
	return fm_start(a_) == PB_OK && fm_start(cli) == PB_OK &&
	    fm_write(fm_conn(cli, 0, 0), "1\n") == PB_OK &&
	    swap_provider(a_->m, b_->m, "tcon", err, sizeof(err)) == PB_OK &&
	    fm_write(fm_conn(cli, 0, 0), "2\n") == PB_OK;
}

/* A fake with no image cannot be loaded again: going back to it inside
 * its window unloads it, then fails to load it, and b keeps serving. */
TEST(swap_aba_without_image_fails_cleanly)
{
	REQUIRE(aba_world(0));
	fm_trace_clear();
	CHECK(swap_provider(b_->m, a_->m, "tcon", err, sizeof(err)) != PB_OK);
	CHECK_CONTAINS(err, "a cannot be loaded");
	CHECK_STR(fm_trace, "a.stop");
	CHECK_EQ_INT(b_->m->state, MOD_RUNNING);
	CHECK(b_->m->swapped_from == NULL);
	CHECK(bound_to(fm_conn(cli, 0, 0), b_, 0));
	CHECK_EQ_INT(cli->nrebound, 1);
	CHECK_EQ_INT(cli->ndisconnected, 0);
	CHECK(ledger_empty(a_));
	CHECK_EQ_INT(b_->inst[0].lines, 2);
	fm_teardown();
}

/* With an image, a comes back as a fresh copy, takes b's state, and b
 * waits out its own window. */
TEST(swap_aba_inside_watch_window)
{
	REQUIRE(aba_world(1));
	fm_advance(swap_watch_ns / 2);
	REQUIRE(a_->m->state == MOD_QUIESCED);
	fm_trace_clear();
	CHECK_EQ_INT(swap_provider(b_->m, a_->m, "tcon", err, sizeof(err)),
	    PB_OK);
	CHECK_STR(fm_trace, "a.stop a.start(standby) b.export(size) b.quiesce "
	    "b.export b.release a.import a.activate cli.rebound(tcon:a0)");
	CHECK_EQ_INT(a_->m->state, MOD_RUNNING);
	CHECK(a_->m->base != 0);
	CHECK(a_->m->swapped_from == b_->m);
	CHECK(b_->m->swapped_from == NULL);
	CHECK_EQ_INT(b_->m->state, MOD_QUIESCED);
	CHECK(bound_to(fm_conn(cli, 0, 0), a_, 0));
	CHECK_EQ_INT(a_->inst[0].lines, 2);
	CHECK_EQ_INT(fm_write(fm_conn(cli, 0, 0), "3\n"), PB_OK);
	/* b's first window ends: nothing happens to a. */
	fm_advance(swap_watch_ns / 2);
	CHECK_EQ_INT(a_->m->state, MOD_RUNNING);
	CHECK_EQ_INT(b_->m->state, MOD_QUIESCED);
	/* a's window ends: b goes. */
	fm_advance(swap_watch_ns / 2);
	CHECK_EQ_INT(b_->m->state, MOD_UNLOADED);
	CHECK(ledger_empty(b_));
	CHECK_EQ_INT(a_->m->state, MOD_RUNNING);
	CHECK(bound_to(fm_conn(cli, 0, 0), a_, 0));
	CHECK_EQ_INT(a_->inst[0].lines, 3);
	CHECK_EQ_INT(cli->ndisconnected, 0);
	fm_teardown();
}

TEST(swap_aba_after_watch_window)
{
	REQUIRE(aba_world(1));
	fm_advance(swap_watch_ns);
	REQUIRE(a_->m->state == MOD_UNLOADED);
	CHECK(ledger_empty(a_));
	CHECK_EQ_INT(swap_provider(b_->m, a_->m, "tcon", err, sizeof(err)),
	    PB_OK);
	CHECK_EQ_INT(a_->m->state, MOD_RUNNING);
	CHECK(a_->m->swapped_from == b_->m);
	CHECK(bound_to(fm_conn(cli, 0, 0), a_, 0));
	CHECK_EQ_INT(a_->inst[0].lines, 2);
	CHECK_EQ_INT(cli->nrebound, 2);
	fm_teardown();
}

static void
nothing(void *arg)
{
	(void)arg;
}

/* Swaps back and forth inside each other's windows, many more than the
 * timer table holds: each window that ends early takes its timer along,
 * and timers stay free for everyone else. */
TEST(swap_many_quick_swaps_keep_timers_free)
{
	struct pb_module *from, *to;
	int id;

	fm_setup();
	err[0] = '\0';
	a_ = fm_add_loadable("a", 1);
	fm_serve(a_, "tcon", "a0");
	b_ = fm_add_loadable("b", 2);
	fm_serve(b_, "tcon", "b0");
	cli = fm_add("cli", 0);
	fm_require(cli, "tcon", 1, 0, PB_CARD_ONE, PB_AT_START);
	REQUIRE(fm_start(a_) == PB_OK && fm_start(cli) == PB_OK);
	from = a_->m, to = b_->m;
	for (int i = 0; i < 200; i++) {
		REQUIRE(swap_provider(from, to, "tcon", err, sizeof(err)) ==
		    PB_OK);
		from = to, to = to == a_->m ? b_->m : a_->m;
	}
	CHECK(bound_to(fm_conn(cli, 0, 0), a_, 0));
	id = timer_add(NULL, 1000, nothing, NULL);
	CHECK(id > 0);
	timer_cancel(NULL, id);
	/* The last window runs out as usual: b goes. */
	fm_advance(swap_watch_ns);
	CHECK_EQ_INT(b_->m->state, MOD_UNLOADED);
	CHECK_EQ_INT(a_->m->state, MOD_RUNNING);
	fm_teardown();
}

/* --- the ways in ------------------------------------------------------------ */

/* Starting a better-ranked provider of what a running one serves swaps it
 * in (lifecycle's start_one). */
TEST(swap_on_start_of_a_better_provider)
{
	char e[128] = "";

	REQUIRE(world_with(1, 0));
	fm_trace_clear();
	CHECK_EQ_INT(hub_start_module(new_->m, e, sizeof(e)), PB_OK);
	CHECK_CONTAINS(fm_trace, "new.start(standby) old.export(size) "
	    "old.quiesce");
	CHECK_EQ_INT(new_->m->state, MOD_RUNNING);
	CHECK_EQ_INT(old_->m->state, MOD_QUIESCED);
	CHECK(bound_to(fm_conn(cli, 0, 0), new_, 0));
	fm_teardown();
}

/* --- drivers a bind rule loaded -------------------------------------------- */

static struct fm *bus_;
static int bound_at_standby;

/* The client's connection to the resource its bind rule chose. */
static void
note_bound(struct fm *f, int step)
{
	if (f == new_ && step == FM_STANDBY)
		bound_at_standby = fm_bind_conn(f) != NULL;
}

/* The usual world, new (loadable) binding to `dev` resources of vendor 1,
 * and a bus that publishes one, taking a single client. */
static int
bind_world(void)
{
	struct pb_modinfo *d;

	fm_setup();
	err[0] = '\0';
	old_ = fm_add_loadable("old", 1);
	fm_serve(old_, "tcon", "old0");
	new_ = fm_add_loadable("new", 2);
	fm_serve(new_, "tcon", "new0");
	cli = fm_add("cli", 0);
	fm_require(cli, "tcon", 1, 0, PB_CARD_ONE, PB_AT_START);
	if (fm_start(old_) != PB_OK || fm_start(cli) != PB_OK)
		return 0;
	d = &new_->m->desc;
	rt_strlcpy(d->binds[0].iface, "dev", sizeof(d->binds[0].iface));
	rt_strlcpy(d->binds[0].match, "vendor=1", sizeof(d->binds[0].match));
	d->nbinds = 1;
	bus_ = fm_add("bus", 0);
	fm_provide(bus_, "dev", 1, 0);
	fm_publish(bus_, "dev", "d0", "vendor=1 device=2");
	bound_at_standby = 0;
	fm_step_hook = note_bound;
	if (fm_start(bus_) != PB_OK)
		return 0;
	bus_->res[0]->max_clients = 1;
	return 1;
}

/* A driver a bind rule loads that outranks the running provider comes in
 * through a swap, connected to its device before its standby start. */
TEST(swap_of_a_bound_driver_connects_its_device_first)
{
	REQUIRE(bind_world());
	fm_run_work();			/* the offer: bind rule, supersede */
	CHECK(bound_at_standby);
	CHECK_EQ_INT(new_->m->state, MOD_RUNNING);
	CHECK(bound_to(fm_conn(cli, 0, 0), new_, 0));
	REQUIRE(fm_bind_conn(new_) != NULL);
	CHECK(fm_bind_conn(new_)->res == bus_->res[0]);
	fm_step_hook = NULL;
	fm_teardown();
}

/* Swapped out and back in, a fresh copy of the driver finds its device
 * again through its rule: the hub matched nothing for it this time. */
TEST(swap_back_to_a_bound_driver_reconnects_its_device)
{
	REQUIRE(bind_world());
	fm_run_work();
	REQUIRE(new_->m->state == MOD_RUNNING);
	CHECK_EQ_INT(swap_provider(new_->m, old_->m, "tcon", err, sizeof(err)),
	    PB_OK);
	CHECK(fm_bind_conn(new_) != NULL);	/* quiesced in its watch window */
	bound_at_standby = 0;
	CHECK_EQ_INT(swap_provider(old_->m, new_->m, "tcon", err, sizeof(err)),
	    PB_OK);
	CHECK(bound_at_standby);
	REQUIRE(fm_bind_conn(new_) != NULL);
	CHECK(fm_bind_conn(new_)->res == bus_->res[0]);
	CHECK_EQ_INT(res_clients(bus_->res[0]), 1);
	CHECK(bound_to(fm_conn(cli, 0, 0), new_, 0));
	fm_step_hook = NULL;
	fm_teardown();
}

/* Without its device a driver is no provider: the resolver takes the
 * plain one of lower rank; once the device appears, the driver binds to
 * it and takes over. */
TEST(bound_driver_serves_only_with_its_device)
{
	struct pb_modinfo *d;
	char e[160] = "";

	fm_setup();
	old_ = fm_add_loadable("plain", 1);
	fm_serve(old_, "tcon", "plain0");
	new_ = fm_add_loadable("drv", 2);
	fm_serve(new_, "tcon", "drv0");
	d = &new_->m->desc;
	rt_strlcpy(d->binds[0].iface, "dev", sizeof(d->binds[0].iface));
	rt_strlcpy(d->binds[0].match, "vendor=1", sizeof(d->binds[0].match));
	d->nbinds = 1;
	cli = fm_add("cli", 0);
	fm_require(cli, "tcon", 1, 0, PB_CARD_ONE, PB_AT_START);
	CHECK_EQ_INT(hub_start_module(cli->m, e, sizeof(e)), PB_OK);
	CHECK(bound_to(fm_conn(cli, 0, 0), old_, 0));
	CHECK_EQ_INT(new_->nstart, 0);
	bus_ = fm_add("bus", 0);
	fm_provide(bus_, "dev", 1, 0);
	fm_publish(bus_, "dev", "d0", "vendor=1");
	REQUIRE(fm_start(bus_) == PB_OK);
	fm_run_work();
	CHECK(bound_to(fm_conn(cli, 0, 0), new_, 0));
	CHECK(fm_bind_conn(new_) != NULL);
	fm_teardown();
}

static char ctl_out[1024];

static void
ctl_line(void *arg, const char *line)
{
	size_t n = strlen(ctl_out);

	(void)arg;
	snprintf(ctl_out + n, sizeof(ctl_out) - n, "%s\n", line);
}

TEST(swap_control_command)
{
	WORLD();
	ctl_out[0] = '\0';
	new_->fail_at = FM_IMPORT;
	CHECK(hub_control(NULL, "swap tcon new", ctl_line, NULL) < 0);
	CHECK_CONTAINS(ctl_out, "error: swap tcon: new cannot import the state");
	CHECK_CONTAINS(ctl_out, "nothing changed");
	CHECK(bound_to(fm_conn(cli, 0, 0), old_, 0));

	/* The fake has no image: give new its entry points back. */
	new_->fail_at = FM_NONE;
	new_->m->ops = &fm_ops;
	new_->m->state = MOD_LOADED;
	ctl_out[0] = '\0';
	CHECK_EQ_INT(hub_control(NULL, "swap tcon new", ctl_line, NULL), PB_OK);
	CHECK_CONTAINS(ctl_out, "swapped tcon: old -> new, blackout ");
	CHECK_CONTAINS(ctl_out, " us\n");
	CHECK(bound_to(fm_conn(cli, 0, 0), new_, 0));
	ctl_out[0] = '\0';
	CHECK(hub_control(NULL, "swap tcon cli", ctl_line, NULL) < 0);
	CHECK_CONTAINS(ctl_out, "error: swap: cli does not provide tcon");
	fm_teardown();
}

/* --- asynchronous quiesce (ABI 1.2) ----------------------------------------- */

/*
 * The old provider answers PB_EAGAIN while requests are in flight: the
 * hub runs the event loop (the old provider's completions and interrupts
 * come through) and asks again; its interrupts are held while it is
 * asked, delivered while it drains, and held again from the PB_OK on.
 */
static struct pb_work completion;
static unsigned drain_calls, irqs_while_draining, completions;
static unsigned irqs_in_first, irqs_at_second;

static void
complete(void *arg)
{
	(void)arg;
	completions++;
}

static void
drain_hook(struct fm *f, int step)
{
	if (f != old_ || step != FM_QUIESCE)
		return;
	drain_calls++;
	if (drain_calls == 1) {
		/* a completion the device raises while it is asked */
		work_post(&completion);
		hub_irq_dispatch(old_->irq_vector);
		irqs_in_first = old_->nirq;
	} else if (drain_calls == 2) {
		/* ... and one while it drains */
		irqs_at_second = old_->nirq;
		hub_irq_dispatch(old_->irq_vector);
		irqs_while_draining = old_->nirq;
	}
}

TEST(swap_quiesce_drains_with_the_loop_running)
{
	REQUIRE(world_with(0, 1));
	old_->again = 2;
	drain_calls = irqs_while_draining = completions = 0;
	irqs_in_first = irqs_at_second = 99;
	work_init(old_->m, &completion, complete, NULL);
	fm_step_hook = drain_hook;
	fm_trace_clear();
	CHECK_EQ_INT(swap(), PB_OK);
	CHECK_EQ_INT(drain_calls, 3);
	CHECK_EQ_INT(irqs_in_first, 0);		/* held while asked */
	CHECK_EQ_INT(irqs_at_second, 1);	/* delivered when it drained */
	CHECK_EQ_INT(irqs_while_draining, 2);	/* not held while draining */
	CHECK_EQ_INT(completions, 1);		/* its work ran meanwhile */
	CHECK_STR(fm_trace, "new.start(standby) old.export(size) old.quiesce "
	    "old.irq old.quiesce old.irq old.quiesce old.export old.release "
	    "new.import new.activate cli.rebound(tcon:new0)");
	CHECK_EQ_INT(old_->nresume, 0);
	CHECK(bound_to(fm_conn(cli, 0, 0), new_, 0));
	fm_teardown();
}

/* Interrupts that come after PB_OK are held across the flip. */
TEST(swap_quiesce_holds_interrupts_from_ok_on)
{
	REQUIRE(world_with(0, 1));
	old_->again = 1;
	irqs_seen_in_import = 99;
	fm_step_hook = irq_in_import;
	CHECK_EQ_INT(swap(), PB_OK);
	CHECK_EQ_INT(irqs_seen_in_import, 0);
	fm_teardown();
}

/* A provider that never drains: past swap-drain the swap fails, the old
 * provider resumes (it had stopped taking work) and keeps its clients. */
TEST(swap_quiesce_deadline_fails_the_swap)
{
	uint64_t t0;

	WORLD();
	old_->again = ~0u;
	old_->tick_ns = 50000000ull;		/* 50 ms per call */
	swap_drain_ns = 1000000000ull;
	t0 = fake_now;
	CHECK_EQ_INT(swap(), PB_ETIMEDOUT);
	CHECK_CONTAINS(err, "old did not drain in 1000 ms");
	CHECK(fake_now - t0 >= 1000000000ull && fake_now - t0 < 1200000000ull);
	CHECK_EQ_INT(old_->nresume, 1);
	CHECK_EQ_INT(old_->m->state, MOD_RUNNING);
	CHECK(new_->m->state != MOD_RUNNING && new_->m->state != MOD_STANDBY);
	CHECK(bound_to(fm_conn(cli, 0, 0), old_, 0));
	CHECK_EQ_INT(fm_write(fm_conn(cli, 0, 0), "x"), PB_OK);
	fm_teardown();
}

/* While the hub waits for a drain it runs the work of modules that are
 * not in a call, never that of the module that asked for the swap (it is
 * inside its own work item) nor the hub's own (offers, bind rules). */
static struct fm *sh;
static int swap_result;
static char order[64];

static void
mark(void *arg)
{
	size_t n = strlen(order);

	snprintf(order + n, sizeof(order) - n, "%s", (const char *)arg);
}

static void
shell_swaps(void *arg)
{
	(void)arg;
	swap_result = swap();
}

static void
queue_during_drain(struct fm *f, int step)
{
	if (f != old_ || step != FM_QUIESCE || order[0])
		return;
	mark("q");
	work_queue(sh->m, mark, "S");		/* the busy caller's */
	work_queue(NULL, mark, "H");		/* the hub's */
	work_queue(cli->m, mark, "C");		/* an idle module's */
}

TEST(swap_drain_runs_only_idle_modules_work)
{
	WORLD();
	sh = fm_add("sh", 0);
	sh->m->state = MOD_RUNNING;
	old_->again = 1;
	order[0] = '\0';
	fm_step_hook = queue_during_drain;
	REQUIRE(work_queue(sh->m, shell_swaps, NULL) == PB_OK);
	fm_run_work();
	CHECK_EQ_INT(swap_result, PB_OK);
	CHECK_STR(order, "qCSH");
	fm_teardown();
}

/* The takeover's split swap (swap_begin before ExitBootServices) drains
 * the same way. */
TEST(swap_begin_drains_for_the_takeover)
{
	struct swap s;

	WORLD();
	old_->again = 3;
	s = (struct swap){ .old = old_->m, .new = new_->m, .iface = "tcon" };
	CHECK_EQ_INT(swap_begin(&s, err, sizeof(err)), PB_OK);
	CHECK(old_->quiesced && old_->released);
	CHECK_EQ_INT(swap_finish(&s, err, sizeof(err)), PB_OK);
	CHECK(bound_to(fm_conn(cli, 0, 0), new_, 0));
	fm_teardown();
}

/* A takeover's split swap that exports again (export_again), begun: the
 * client wrote "typed " before the first export, and "late" lands in
 * old's state after it, as the stub's last ConIn keys do. */
static int
begin_export_again(struct swap *s)
{
	if (!world_with(0, 0) ||
	    fm_write(fm_conn(cli, 0, 0), "typed ") != PB_OK)
		return 0;
	*s = (struct swap){ .old = old_->m, .new = new_->m, .iface = "tcon",
	    .export_again = 1 };
	if (swap_begin(s, err, sizeof(err)) != PB_OK)
		return 0;
	strcat(old_->inst[0].text, "late");
	return 1;
}

/* What old read after the first export goes with the state, and the
 * hub's copies are freed. */
TEST(swap_finish_exports_again_for_the_takeover)
{
	struct swap s;

	REQUIRE(begin_export_again(&s));
	CHECK_EQ_INT(swap_finish(&s, err, sizeof(err)), PB_OK);
	CHECK_STR(new_->inst[0].text, "typed late");
	CHECK_EQ_INT(mem_owned(NULL, -1), 0);
	fm_teardown();
}

/* A second export that fails leaves the first: the swap goes on. */
TEST(swap_finish_keeps_the_first_export_when_the_second_fails)
{
	struct swap s;

	REQUIRE(begin_export_again(&s));
	old_->fail_at = FM_EXPORT;
	old_->fail_err = PB_EIO;
	CHECK_EQ_INT(swap_finish(&s, err, sizeof(err)), PB_OK);
	CHECK_STR(new_->inst[0].text, "typed ");
	CHECK(bound_to(fm_conn(cli, 0, 0), new_, 0));
	CHECK_EQ_INT(mem_owned(NULL, -1), 0);
	fm_teardown();
}

/* A takeover ends every blackout before it settles any swap (boot.c's
 * finish_takeover): swap_serve leaves the client bound to the new
 * provider and the blackout measured, and tells no one; swap_settle tells
 * the client, frees the state and logs the swap. */
TEST(swap_serve_ends_the_blackout_and_swap_settle_tells_the_clients)
{
	struct swap s;
	unsigned swaps;

	REQUIRE(begin_export_again(&s));
	swaps = swap_stats.count;
	CHECK_EQ_INT(swap_serve(&s, err, sizeof(err)), PB_OK);
	CHECK(bound_to(fm_conn(cli, 0, 0), new_, 0));
	CHECK_STR(new_->inst[0].text, "typed late");
	CHECK_EQ_INT(cli->nrebound, 0);
	CHECK(mem_owned(NULL, -1) > 0);		/* the state, till settled */
	CHECK(!fm_log_has("old -> new for tcon: blackout"));
	swap_settle(&s);
	CHECK_EQ_INT(cli->nrebound, 1);
	CHECK_EQ_INT(mem_owned(NULL, -1), 0);
	CHECK_EQ_INT(swap_stats.count, swaps + 1);
	CHECK(fm_log_has("old -> new for tcon: blackout"));
	fm_teardown();
}

/* --- counterparts by identity (ABI 1.2) ------------------------------------- */

/*
 * old drives two disks, new finds them in the other order: each client
 * must stay on its disk (path=), not on whatever came first.
 */
static struct fm *c0, *c1;

static int
two_disks(const char *n0, const char *n1, const char *m0, const char *m1)
{
	fm_setup();
	err[0] = '\0';
	old_ = fm_add("old", 1);
	fm_provide(old_, "tcon", 1, 0);
	fm_publish(old_, "tcon", "a0", n0);
	fm_publish(old_, "tcon", "a1", n1);
	new_ = fm_add("new", 2);
	fm_provide(new_, "tcon", 1, 0);
	fm_publish(new_, "tcon", "b0", m0);
	fm_publish(new_, "tcon", "b1", m1);
	c0 = fm_add("c0", 0);
	c1 = fm_add("c1", 0);
	if (fm_start(old_) != PB_OK || fm_start(c0) != PB_OK ||
	    fm_start(c1) != PB_OK)
		return 0;
	return hub_services.connect(c0->m, "tcon", 1, 0, "tcon:a0") &&
	    hub_services.connect(c1->m, "tcon", 1, 0, "tcon:a1");
}

TEST(swap_pairs_resources_by_path_not_order)
{
	REQUIRE(two_disks("path=pci:00:1f.2/sata:0 serial=QM1",
	    "path=pci:00:1f.2/sata:1", "path=pci:00:1f.2/sata:1",
	    "path=pci:00:1f.2/sata:0 serial=QM1"));
	CHECK_EQ_INT(swap(), PB_OK);
	CHECK(bound_to(fm_conn(c0, PB_REQ_NONE, 0), new_, 1));
	CHECK(bound_to(fm_conn(c1, PB_REQ_NONE, 0), new_, 0));
	/* The swap back pairs by path too. */
	new_->fault_at = FM_WRITE;
	CHECK_EQ_INT(work_queue(c0->m, cli_writes,
	    fm_conn(c0, PB_REQ_NONE, 0)), PB_OK);
	fm_run_work();
	CHECK(fm_log_has("back to old"));
	CHECK(bound_to(fm_conn(c0, PB_REQ_NONE, 0), old_, 0));
	CHECK(bound_to(fm_conn(c1, PB_REQ_NONE, 0), old_, 1));
	fm_teardown();
}

/* Without paths on either side, order decides (as before); a resource
 * with a path never takes one without. */
TEST(swap_pairs_pathless_resources_by_order)
{
	REQUIRE(two_disks("path=pci:00:1f.2/sata:0", "", "",
	    "path=pci:00:1f.2/sata:0"));
	CHECK_EQ_INT(swap(), PB_OK);
	CHECK(bound_to(fm_conn(c0, PB_REQ_NONE, 0), new_, 1));
	CHECK(bound_to(fm_conn(c1, PB_REQ_NONE, 0), new_, 0));
	fm_teardown();
}

/* A disk new does not have: the swap fails naming it; nothing changed. */
TEST(swap_fails_naming_the_missing_path)
{
	REQUIRE(two_disks("path=pci:00:1f.2/sata:0",
	    "path=pci:00:1f.2/sata:1", "path=pci:00:1f.2/sata:0",
	    "path=pci:00:1f.2/sata:2"));
	CHECK_EQ_INT(swap(), PB_ENOENT);
	CHECK_CONTAINS(err, "path=pci:00:1f.2/sata:1");
	CHECK_EQ_INT(old_->m->state, MOD_RUNNING);
	CHECK_EQ_INT(old_->nresume, 0);		/* never quiesced */
	CHECK(bound_to(fm_conn(c0, PB_REQ_NONE, 0), old_, 0));
	CHECK(bound_to(fm_conn(c1, PB_REQ_NONE, 0), old_, 1));
	CHECK(new_->m->state != MOD_RUNNING && new_->m->state != MOD_STANDBY);
	fm_teardown();
}

/* While one swap waits for its provider to drain, another cannot start
 * (a module's work running meanwhile asks for one). */
static int nested_result = 1;
static char nested_err[128];
static struct fm *third;

static void
swap_again(void *arg)
{
	(void)arg;
	nested_result = swap_provider(old_->m, third->m, "tcon", nested_err,
	    sizeof(nested_err));
}

static void
nest_during_drain(struct fm *f, int step)
{
	if (f == old_ && step == FM_QUIESCE && nested_result == 1)
		work_queue(cli->m, swap_again, NULL);
}

TEST(swap_refuses_a_second_swap_while_draining)
{
	WORLD();
	third = fm_add("third", 3);
	fm_serve(third, "tcon", "third0");
	old_->again = 1;
	nested_result = 1;
	fm_step_hook = nest_during_drain;
	CHECK_EQ_INT(swap(), PB_OK);
	CHECK_EQ_INT(nested_result, PB_EBUSY);
	CHECK_STR(nested_err, "another swap is under way");
	CHECK_EQ_INT(third->nstart, 0);
	CHECK(bound_to(fm_conn(cli, 0, 0), new_, 0));
	fm_teardown();
}

/*
 * The old provider publishes a resource while it drains (a disk it was
 * probing comes up): the new one has no counterpart for it, so the swap
 * fails with the resource named and the old provider resumes with every
 * client, instead of the rebind meeting a resource without a counterpart.
 */
static void
publish_while_draining(struct fm *f, int step)
{
	if (f != old_ || step != FM_QUIESCE || drain_calls++)
		return;
	hub_services.publish(old_->m, "tcon", "late", "path=pci:00:1f.2/x:9",
	    &fm_tcon_ops[0], old_);
}

TEST(swap_resource_published_while_draining_needs_a_counterpart)
{
	REQUIRE(world_with(0, 0));
	old_->again = 1;
	drain_calls = 0;
	fm_step_hook = publish_while_draining;
	CHECK_EQ_INT(swap(), PB_ENOENT);
	CHECK_CONTAINS(err, "tcon:late");
	CHECK_EQ_INT(old_->nresume, 1);
	CHECK(bound_to(fm_conn(cli, 0, 0), old_, 0));
	fm_teardown();
}

/* --- a clean shutdown (hub_shutdown) ---------------------------------------- */

/* Before a poweroff every fs provider quiesces (writes back, marks its
 * volumes clean), with the loop running while it answers PB_EAGAIN; one
 * that does not finish by swap-drain is logged and the reset goes on.
 * Only fs providers quiesce.  Then every module stops, the last started
 * first (clients before their providers), so no device is left armed
 * across the reset. */
TEST(shutdown_quiesces_every_file_system)
{
	struct fm *fs1, *fs2, *other;

	fm_setup();
	fs1 = fm_add("fs1", 0);
	fm_serve(fs1, "fs", "a");
	fs2 = fm_add("fs2", 0);
	fm_serve(fs2, "fs", "b");
	other = fm_add("other", 0);
	fm_serve(other, "tcon", "c");
	REQUIRE(fm_start(fs1) == PB_OK && fm_start(fs2) == PB_OK &&
	    fm_start(other) == PB_OK);
	fs1->again = 2;
	fs2->again = 1000000;		/* never drains */
	swap_drain_ns = 5000000ull;
	fm_trace_clear();
	hub_shutdown();
	CHECK(fm_log_has("shutdown: fs2 did not write back"));
	CHECK(!strstr(fm_trace, "other.quiesce"));
	CHECK_CONTAINS(fm_trace, "quiesce other.stop fs2.stop fs1.stop");
	CHECK_EQ_INT(fs1->m->state, MOD_LOADED);
	CHECK_EQ_INT(fs2->m->state, MOD_LOADED);
	CHECK_EQ_INT(other->m->state, MOD_LOADED);
	swap_drain_ns = 1000000000ull;
	fm_teardown();
}

/* A driver that declined the device it was loaded for (start answered
 * PB_ENODEV) is loaded again for the next matching device, not refused
 * for good: a second keyboard plugged after a first it could not drive. */
TEST(declined_driver_binds_to_the_next_device)
{
	struct pb_modinfo *d;
	struct fm *drv;

	fm_setup();
	drv = fm_add_loadable("drv", 2);
	d = &drv->m->desc;
	rt_strlcpy(d->binds[0].iface, "dev", sizeof(d->binds[0].iface));
	rt_strlcpy(d->binds[0].match, "vendor=1", sizeof(d->binds[0].match));
	d->nbinds = 1;
	drv->fail_at = FM_START;
	drv->fail_err = PB_ENODEV;
	bus_ = fm_add("bus", 0);
	fm_provide(bus_, "dev", 1, 0);
	fm_publish(bus_, "dev", "d0", "vendor=1");
	REQUIRE(fm_start(bus_) == PB_OK);
	fm_run_work();
	CHECK_EQ_INT(drv->nstart, 1);
	CHECK_EQ_INT(drv->m->state, MOD_FAILED);
	drv->fail_at = FM_NONE;
	REQUIRE(bus_->hub->publish(bus_->m, "dev", "d1", "vendor=1",
	    bus_->iops, &bus_->inst[1]) != NULL);
	fm_run_work();
	CHECK_EQ_INT(drv->nstart, 2);
	CHECK_EQ_INT(drv->m->state, MOD_RUNNING);
	CHECK(fm_bind_conn(drv) != NULL);
	fm_teardown();
}
