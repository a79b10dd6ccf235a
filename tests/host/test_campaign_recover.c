/*
 * test_campaign_recover.c - a fault while the hub recovers a module
 * (hub/recover.c): the export a PB_MOD_RESTATE module is asked for at its
 * fault may fault too (its code or state is what went wrong).  That is
 * only an answer, no state, never a second recovery nested inside the
 * first (campaign seed 2003 injection 36: fat's export faulted after a
 * watchdog stop, fat was restarted inside its own restart, and the outer
 * one then unloaded the new instance, and /esp went away).
 *
 * The world of test_recover.c: `bus` serves tcon:bus0 to `drv`, which
 * serves tdrv:drv0 to `app`; drv's stop tells bus its client went.
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

TEST(campaign_fault_in_the_export_at_a_fault_is_no_second_recovery)
{
	REQUIRE(world());
	drv->m->desc.flags |= PB_MOD_RESTATE;
	drv->fault_at = FM_EXPORT_SIZE;
	fm_fault(drv);
	CHECK(fm_log_has("drv: no state to restart with"));
	CHECK_EQ_INT(fm_count(fm_log(), "drv: restarting from its image"), 1);
	CHECK_EQ_INT(fm_count(fm_log(), "drv: recovered in"), 1);
	CHECK(!fm_log_has("ledger not empty"));
	CHECK_EQ_INT(drv->nstart, 2);
	CHECK_EQ_INT(drv->m->state, MOD_RUNNING);
	CHECK_EQ_INT(drv->m->fault_pending, 0);
	CHECK_EQ_INT(app->nrebound, 1);
	CHECK_EQ_INT(app->ndisconnected, 0);
	CHECK(fm_conn_res(app, 0, 0) == drv->res[0]);
	fm_teardown();
}
