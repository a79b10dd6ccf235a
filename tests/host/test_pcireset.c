/*
 * test_pcireset.c - a faulted driver's device may be reset (hub/res.c
 * conn_tell_gone, recover.c): its bus provider hears PB_EV_CLIENT_FAULTED
 * just before PB_EV_CLIENT_GONE when the driver faulted, never on an
 * orderly unload nor when a swap's rollback takes the device back as it
 * is; a bus that withdraws the device for its reset gets the restarted
 * driver bound to it when it publishes it again, the driver's clients held
 * (never disconnected) meanwhile and rebound after.
 *
 * The world: `bus` (pci-like) publishes dev:d0 (vendor=1), one client;
 * `drv`, loaded by a bind rule for it, serves tcon:drv0 to `app`.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fakemod.h"
#include "../../abi/rt/rt.h"

static struct fm *bus, *drv, *app;
static int withdraw_on_fault;
static char heard[256];		/* bus's events, in order */

static void
bus_hears(struct fm *f, int event, struct pb_conn *c, int req)
{
	size_t n = strlen(heard);

	(void)c;
	(void)req;
	if (f != bus)
		return;
	if (event == PB_EV_CLIENT_FAULTED)
		snprintf(heard + n, sizeof(heard) - n, "faulted ");
	else if (event == PB_EV_CLIENT_GONE)
		snprintf(heard + n, sizeof(heard) - n, "gone ");
	if (event == PB_EV_CLIENT_FAULTED && withdraw_on_fault) {
		f->hub->withdraw(f->m, f->res[0]);
		f->res[0] = NULL;
	}
}

static int
world(void)
{
	struct pb_modinfo *d;

	fm_setup();
	heard[0] = '\0';
	withdraw_on_fault = 0;
	fm_event_hook = bus_hears;
	bus = fm_add("bus", 0);
	fm_provide(bus, "dev", 1, 0);
	fm_publish(bus, "dev", "d0", "vendor=1");
	drv = fm_add_loadable("drv", 1);
	fm_serve(drv, "tcon", "drv0");
	d = &drv->m->desc;
	rt_strlcpy(d->binds[0].iface, "dev", sizeof(d->binds[0].iface));
	rt_strlcpy(d->binds[0].match, "vendor=1", sizeof(d->binds[0].match));
	d->nbinds = 1;
	app = fm_add("app", 0);
	fm_require(app, "tcon", 1, 0, PB_CARD_ONE, PB_AT_START);
	if (fm_start(bus) != PB_OK)
		return 0;
	bus->res[0]->max_clients = 1;
	fm_run_work();			/* the offer: drv binds */
	if (drv->m->state != MOD_RUNNING || fm_start(app) != PB_OK)
		return 0;
	return fm_bind_conn(drv) && fm_conn_res(app, 0, 0) == drv->res[0];
}

static void
done(void)
{
	fm_event_hook = NULL;
	fm_teardown();
}

TEST(pcireset_faulted_driver_told_before_it_goes)
{
	REQUIRE(world());
	fm_fault(drv);
	CHECK_STR(heard, "faulted gone ");
	CHECK_EQ_INT(drv->m->state, MOD_RUNNING);	/* restarted */
	CHECK(fm_bind_conn(drv) != NULL);
	done();
}

TEST(pcireset_orderly_unload_is_not_a_fault)
{
	REQUIRE(world());
	CHECK_EQ_INT(mod_unload(drv->m), PB_OK);
	CHECK_STR(heard, "gone ");
	done();
}

/* A module waiting to take the device back as it is (bind_res: a swap's
 * rollback) keeps it from being reset. */
TEST(pcireset_not_told_when_the_device_goes_back_as_it_is)
{
	struct fm *old;

	REQUIRE(world());
	old = fm_add_loadable("old", 0);
	old->m->bind_res = bus->res[0];
	fm_fault(drv);
	CHECK_STR(heard, "gone ");
	old->m->bind_res = NULL;
	done();
}

/* The bus withdraws the device for its reset: the restart waits for it,
 * app's connection held; published again, drv binds and app is rebound,
 * never disconnected. */
TEST(pcireset_restarted_driver_binds_when_its_device_is_back)
{
	struct conn *c;

	REQUIRE(world());
	c = fm_conn(app, 0, 0);
	withdraw_on_fault = 1;
	fm_fault(drv);
	CHECK_STR(heard, "faulted gone ");
	CHECK_EQ_INT(drv->m->state, MOD_KNOWN);
	CHECK(fm_log_has("drv: waits for its device"));
	CHECK_EQ_INT(drv->nstart, 1);
	CHECK(c->used && c->held);
	CHECK_EQ_INT(fm_write(c, "x\n"), PB_EBUSY);
	CHECK_EQ_INT(app->ndisconnected, 0);
	/* Back: published again, offered; drv binds and serves. */
	REQUIRE((bus->res[0] = bus->hub->publish(bus->m, "dev", "d0",
	    "vendor=1", &fm_tcon_ops[0], &bus->inst[0])) != NULL);
	bus->res[0]->max_clients = 1;
	fm_run_work();
	CHECK_EQ_INT(drv->m->state, MOD_RUNNING);
	CHECK_EQ_INT(drv->nstart, 2);
	REQUIRE(fm_bind_conn(drv) != NULL);
	CHECK(fm_bind_conn(drv)->res == bus->res[0]);
	CHECK(fm_conn(app, 0, 0) == c);
	CHECK_EQ_INT(c->held, 0);
	CHECK(c->res == drv->res[0] && c->res->owner == drv->m);
	CHECK_EQ_INT(app->nrebound, 1);
	CHECK_EQ_INT(app->ndisconnected, 0);
	CHECK_EQ_INT(fm_write(c, "after\n"), PB_OK);
	/* The wait's timer finds nothing to do (replay.c keeps its id:
	 * fm_setup cannot forget it for the next test). */
	fm_advance(6000000000ull);
	CHECK_EQ_INT(app->ndisconnected, 0);
	done();
}

/* An update of drv: drv faults while it drains, and its restart waits
 * for its device, which the new instance holds for the handover.  The
 * swap fails and the new instance goes: the device is free again, and
 * drv binds to it at once, app held meanwhile and rebound, never
 * disconnected (found by the fault campaign with updates: usb-kbd was
 * left waiting for good, the keyboard dead). */
TEST(pcireset_driver_faulting_in_its_update_binds_its_device_again)
{
	struct pb_modinfo *d;
	struct fm *drv2;
	struct conn *c;
	char err[128];

	REQUIRE(world());
	c = fm_conn(app, 0, 0);
	drv2 = fm_add_loadable("drv", 2);	/* the update: same names */
	fm_serve(drv2, "tcon", "drv0");
	d = &drv2->m->desc;
	rt_strlcpy(d->binds[0].iface, "dev", sizeof(d->binds[0].iface));
	rt_strlcpy(d->binds[0].match, "vendor=1", sizeof(d->binds[0].match));
	d->nbinds = 1;
	drv->fault_at = FM_QUIESCE;
	err[0] = '\0';
	CHECK(swap_provider(drv->m, drv2->m, NULL, err, sizeof(err)) != PB_OK);
	fm_run_work();
	CHECK(fm_log_has("drv: waits for its device"));
	CHECK(fm_log_has("drv binds to dev:d0"));
	CHECK_EQ_INT(drv->m->state, MOD_RUNNING);
	CHECK_EQ_INT(drv->nstart, 2);
	REQUIRE(fm_bind_conn(drv) != NULL);
	CHECK(fm_bind_conn(drv)->res == bus->res[0]);
	CHECK(drv2->m->state != MOD_RUNNING);
	CHECK(fm_conn(app, 0, 0) == c);
	CHECK(c->res == drv->res[0] && c->res->owner == drv->m);
	CHECK_EQ_INT(app->ndisconnected, 0);
	CHECK_EQ_INT(fm_write(c, "after\n"), PB_OK);
	fm_advance(6000000000ull);
	CHECK_EQ_INT(app->ndisconnected, 0);
	done();
}

static void
handler(void *arg)
{
	(void)arg;
}

/* A swap hands a device over (both drivers bound to it, marked
 * handover): the new driver may take the old one's vector for it, which
 * the device's MSI already names; no one else may, nor without the
 * handover. */
TEST(pcireset_vector_taken_over_only_with_the_device)
{
	struct fm *next, *other;
	struct conn *c, *n;
	int v;

	REQUIRE(world());
	next = fm_add_loadable("next", 2);
	other = fm_add("other", 0);
	REQUIRE((v = irq_alloc(drv->m)) > 0);
	REQUIRE(irq_register(drv->m, v, handler, drv) == PB_OK);
	CHECK_EQ_INT(irq_register(next->m, v, handler, next), PB_EBUSY);
	REQUIRE((c = fm_bind_conn(drv)) != NULL);
	REQUIRE((n = conn_open_any(next->m, c->res, PB_REQ_BIND)) != NULL);
	CHECK_EQ_INT(irq_register(next->m, v, handler, next), PB_EBUSY);
	c->handover = n->handover = 1;
	CHECK_EQ_INT(irq_register(other->m, v, handler, other), PB_EBUSY);
	irq_hold_module(drv->m, 1);
	CHECK_EQ_INT(irq_register(next->m, v, handler, next), PB_OK);
	CHECK_EQ_INT(irq_count(next->m), 1);
	CHECK_EQ_INT(irq_count(drv->m), 0);
	irq_unregister(drv->m, -1);		/* drv goes: not its any more */
	CHECK_EQ_INT(irq_count(next->m), 1);
	c->handover = n->handover = 0;
	conn_close(n);
	irq_unregister(next->m, -1);
	done();
}
