/*
 * test_transparent_replay.c - what a restarted module's clients get back
 * (hub/replay.c): a held connection waits for the new instance to publish
 * its resource again, however late, within the wait, and falls back after
 * it; a PB_MOD_RESTATE module gets the state it exported at its fault
 * back (standby, import, activate), and none when the export lies about
 * its length.
 *
 * The world of test_recover.c: `bus` serves tcon:bus0 to `drv`, which
 * serves tdrv:drv0 to `app`.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fakemod.h"

static struct fm *bus, *drv, *app;

static int
world(void)
{
	fm_setup();
	fm_chain_add(&bus, &drv, &app);
	return fm_chain_start(bus, drv, app);
}

/* drv publishes tdrv:drv0 again, as a driver does once its device
 * answers (after its start). */
static struct pb_resource *
publish_late(void)
{
	struct pb_resource *r = drv->hub->publish(drv->m, "tdrv", "drv0", "",
	    drv->iops, &drv->inst[0]);

	fm_run_work();		/* the offer of new resources */
	return r;
}

/* The restarted drv publishes its resource only later: app's connection
 * stays held (no disconnection, no stop) and goes to it then. */
TEST(transparent_held_connection_waits_for_a_late_publish)
{
	struct conn *c;
	struct pb_resource *r;

	REQUIRE(world());
	c = fm_conn(app, 0, 0);
	drv->npub = 0;			/* its start publishes nothing */
	fm_fault(drv);
	CHECK_EQ_INT(drv->m->state, MOD_RUNNING);
	CHECK_EQ_INT(app->m->state, MOD_RUNNING);
	CHECK_EQ_INT(app->ndisconnected, 0);
	CHECK_EQ_INT(app->nrebound, 0);
	CHECK_EQ_INT(c->held, 1);
	CHECK(c->res == NULL);
	CHECK_STR(c->pub.res, "tdrv:drv0");
	fm_advance(2000000000ull);	/* 2 s: within the wait */
	CHECK_EQ_INT(c->held, 1);
	CHECK_EQ_INT(app->ndisconnected, 0);
	CHECK(!fm_log_has("drv: its clients served again"));
	REQUIRE((r = publish_late()) != NULL);
	/* Its recovery, for its clients, took the 2 s they waited. */
	CHECK(fm_log_has("drv: its clients served again 2000000 us after its "
	    "fault"));
	CHECK_EQ_INT(app->nrebound, 1);
	CHECK_EQ_INT(app->ndisconnected, 0);
	CHECK(fm_conn(app, 0, 0) == c);	/* the same connection */
	CHECK(c->res == r);
	CHECK_EQ_INT(c->held, 0);
	CHECK_EQ_INT(fm_nconns(app), 1);	/* not offered anew beside it */
	CHECK_EQ_INT(fm_write(c, "after\n"), PB_OK);
	CHECK(fm_log_has("drv: tdrv:drv0 back for app"));
	/* The wait's timer finds nothing to do any more. */
	fm_advance(6000000000ull);
	CHECK_EQ_INT(app->ndisconnected, 0);
	CHECK(c->res == r);
	fm_teardown();
}

/* Not published again within the wait: the connection falls back as
 * after a withdrawal (app, which needs it, is told and stopped). */
TEST(transparent_held_connection_falls_back_after_the_wait)
{
	struct conn *c;

	REQUIRE(world());
	c = fm_conn(app, 0, 0);
	drv->npub = 0;
	fm_fault(drv);
	CHECK_EQ_INT(c->held, 1);
	fm_advance(4900000000ull);
	CHECK_EQ_INT(app->ndisconnected, 0);
	fm_advance(200000000ull);	/* 5.1 s */
	CHECK_EQ_INT(app->ndisconnected, 1);
	CHECK(fm_log_has("drv: tdrv:drv0 not back within 5000 ms"));
	CHECK(fm_log_has("app: lost tdrv:drv0, which it needs; stopping"));
	/* A publish after that rebinds nothing. */
	publish_late();
	CHECK_EQ_INT(app->nrebound, 0);
	fm_teardown();
}

/* A PB_MOD_RESTATE module: the state it exported at its fault is what
 * its new instance imports, byte for byte, between a standby start and
 * its activate; its client keeps the connection and is rebound. */
TEST(transparent_restate_module_gets_its_state_back)
{
	char before[FM_TEXT_MAX];
	struct conn *c;

	REQUIRE(world());
	drv->m->desc.flags |= PB_MOD_RESTATE;
	c = fm_conn(app, 0, 0);
	CHECK_EQ_INT(fm_write(c, "one\ntwo\nhalf"), PB_OK);
	memcpy(before, drv->inst[0].text, sizeof(before));
	fm_trace_clear();
	memset(fm_last_import, 0, sizeof(fm_last_import));
	fm_fault(drv);
	CHECK_EQ_INT(drv->m->state, MOD_RUNNING);
	CHECK_CONTAINS(fm_trace, "drv.export(size) drv.export");
	CHECK_CONTAINS(fm_trace, "drv.start(standby) drv.import drv.activate");
	CHECK_EQ_INT(fm_last_import_len, fm_last_export_len);
	CHECK(memcmp(fm_last_import, fm_last_export, fm_last_export_len) == 0);
	CHECK_EQ_INT(drv->inst[0].lines, 2);	/* what the old one counted */
	CHECK_STR(drv->inst[0].text, before);	/* and its unflushed text */
	CHECK(strstr(before, "half") != NULL);
	CHECK_EQ_INT(app->nrebound, 1);
	CHECK_EQ_INT(app->ndisconnected, 0);
	CHECK(c->res == drv->res[0]);
	CHECK_EQ_INT(fm_lines(c), 2);
	CHECK(fm_log_has("drv: its state of "));
	fm_teardown();
}

/* An export that claims more than the buffer it was given is no state:
 * the module starts afresh (the swap's length check, here too). */
TEST(transparent_restate_export_longer_than_its_buffer_is_refused)
{
	REQUIRE(world());
	drv->m->desc.flags |= PB_MOD_RESTATE;
	drv->export_lie = 64;
	fm_trace_clear();
	fm_fault(drv);
	CHECK(fm_log_has("drv: no state to restart with"));
	CHECK_CONTAINS(fm_trace, "drv.start(normal)");
	CHECK(!strstr(fm_trace, "drv.import"));
	CHECK_EQ_INT(drv->m->state, MOD_RUNNING);
	CHECK_EQ_INT(app->nrebound, 1);
	fm_teardown();
}

/* Without the flag nothing is exported at a fault: a module's state may
 * describe its own memory, gone with it. */
TEST(transparent_no_state_without_restate)
{
	REQUIRE(world());
	fm_trace_clear();
	fm_fault(drv);
	CHECK(!strstr(fm_trace, "drv.export"));
	CHECK_CONTAINS(fm_trace, "drv.start(normal)");
	fm_teardown();
}

/* A new instance that cannot activate with the state (its disk went
 * meanwhile) is started afresh without it, not left stopped. */
TEST(transparent_restate_activate_refused_starts_afresh)
{
	REQUIRE(world());
	drv->m->desc.flags |= PB_MOD_RESTATE;
	drv->fail_at = FM_ACTIVATE;
	drv->fail_err = PB_ENODEV;
	fm_trace_clear();
	fm_fault(drv);
	CHECK(fm_log_has("drv: cannot activate with its state (-"));
	CHECK_CONTAINS(fm_trace, "drv.start(standby) drv.import drv.activate");
	CHECK_CONTAINS(fm_trace, "drv.start(normal)");
	CHECK_EQ_INT(drv->m->state, MOD_RUNNING);
	CHECK(fm_conn_res(drv, 0, 0) == bus->res[0]);	/* connected again */
	CHECK_EQ_INT(app->nrebound, 1);
	CHECK_EQ_INT(app->ndisconnected, 0);
	fm_teardown();
}

/* kbdheal: a new instance that faults taking its state (the state is
 * what the fault damaged) starts afresh without it, its client rebound,
 * instead of being left stopped as a swap's standby side is (seed 2003
 * usb 160: fat's import faulted and /esp went away). */
TEST(transparent_kbdheal_import_fault_starts_afresh)
{
	REQUIRE(world());
	drv->m->desc.flags |= PB_MOD_RESTATE;
	drv->fault_at = FM_IMPORT;
	fm_trace_clear();
	fm_fault(drv);
	CHECK_CONTAINS(fm_trace, "drv.start(standby) drv.import");
	CHECK_CONTAINS(fm_trace, "drv.start(normal)");
	CHECK(fm_log_has("drv: faulted taking its state: started afresh"));
	CHECK_EQ_INT(drv->m->state, MOD_RUNNING);
	CHECK(fm_conn_res(drv, 0, 0) == bus->res[0]);
	CHECK(fm_conn_res(app, 0, 0) == drv->res[0]);
	CHECK_EQ_INT(app->nrebound, 1);
	CHECK_EQ_INT(app->ndisconnected, 0);
	fm_teardown();
}

/* The same at activate. */
TEST(transparent_kbdheal_activate_fault_starts_afresh)
{
	REQUIRE(world());
	drv->m->desc.flags |= PB_MOD_RESTATE;
	drv->fault_at = FM_ACTIVATE;
	fm_trace_clear();
	fm_fault(drv);
	CHECK_CONTAINS(fm_trace, "drv.import drv.activate");
	CHECK_CONTAINS(fm_trace, "drv.start(normal)");
	CHECK_EQ_INT(drv->m->state, MOD_RUNNING);
	CHECK(fm_conn_res(app, 0, 0) == drv->res[0]);
	CHECK_EQ_INT(app->nrebound, 1);
	CHECK_EQ_INT(app->ndisconnected, 0);
	fm_teardown();
}
