/*
 * test_kbdheal.c - a driver that faults in the event that brings its
 * bind connection, before its start ran (recover.c): its connection goes
 * with it, so the restarted instance binds to its device again; it was
 * left in the ledger, and the restart waited for a device it held itself
 * (seed 2003 usb 370: usb-kbd entry loop at the bind's CONNECTED, "ledger
 * not empty after unload: ... 1 connections", "waits for its device",
 * the keyboard silent for good).
 *
 * The world of test_pcireset.c: `bus` publishes dev:d0 (vendor=1), one
 * client at a time; `drv`, loaded by a bind rule for it, serves
 * tcon:drv0.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fakemod.h"
#include "../../abi/rt/rt.h"

static struct fm *bus, *drv;
static unsigned faults_left;

static void
drv_faults_once(struct fm *f, int event, struct pb_conn *c, int req)
{
	(void)c;
	(void)req;
	if (f == drv && event == PB_EV_CONNECTED && faults_left) {
		faults_left--;
		fake_fault(f->m);
	}
}

TEST(kbdheal_fault_before_start_lets_go_of_the_bind)
{
	struct pb_modinfo *d;

	fm_setup();
	fm_event_hook = drv_faults_once;
	faults_left = 1;
	bus = fm_add("bus", 0);
	fm_provide(bus, "dev", 1, 0);
	fm_publish(bus, "dev", "d0", "vendor=1");
	drv = fm_add_loadable("drv", 1);
	fm_serve(drv, "tcon", "drv0");
	d = &drv->m->desc;
	rt_strlcpy(d->binds[0].iface, "dev", sizeof(d->binds[0].iface));
	rt_strlcpy(d->binds[0].match, "vendor=1", sizeof(d->binds[0].match));
	d->nbinds = 1;
	REQUIRE(fm_start(bus) == PB_OK);
	bus->res[0]->max_clients = 1;
	fm_run_work();			/* the offer: drv binds, and faults */
	fm_run_work();
	CHECK_EQ_INT(faults_left, 0);
	CHECK_MSG(!fm_log_has("ledger not empty"), "%s", fm_log());
	CHECK(!fm_log_has("waits for its device"));
	CHECK_EQ_INT(drv->m->state, MOD_RUNNING);
	CHECK(fm_bind_conn(drv) != NULL);
	CHECK_EQ_INT(drv->nstart, 1);
	fm_event_hook = NULL;
	fm_teardown();
}
