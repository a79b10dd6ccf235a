/*
 * test_scrub.c - a module whose code changed since its load is charged a
 * fault and restarted from its image (hub/scrub.c): the fault campaign's
 * flipped code bits that never fault, but leave the module doing the
 * wrong thing for good.
 *
 * The world of test_recover.c: `bus` serves tcon:bus0 to `drv`, which
 * serves tdrv:drv0 to `app`; drv is loaded from a PE image whose one
 * section is code.
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

static volatile uint8_t *
code_of(const struct pb_module *m)
{
	return (volatile uint8_t *)(uintptr_t)(m->base + m->code_rva);
}

TEST(scrub_restarts_a_module_whose_code_changed)
{
	REQUIRE(world());
	REQUIRE(drv->m->code_len == 4096);
	CHECK_EQ_INT(scrub_turn(), 0);		/* whole: nothing to do */
	code_of(drv->m)[0x123] ^= 0x10;		/* one bit, in its last page */
	CHECK_EQ_INT(scrub_turn(), 1);
	fm_run_work();
	CHECK(fm_log_has("drv faulted: its code at 0x"));
	CHECK(fm_log_has("drv: restarting from its image"));
	CHECK(fm_log_has("drv: recovered in"));
	CHECK(fm_log_has("(its code changed)"));
	CHECK_EQ_INT(drv->nstart, 2);
	CHECK_EQ_INT(drv->m->state, MOD_RUNNING);
	CHECK_EQ_INT(drv->m->fault_pending, 0);
	CHECK_EQ_INT(app->nrebound, 1);
	CHECK(fm_conn_res(app, 0, 0) == drv->res[0]);
	CHECK_EQ_INT(scrub_turn(), 0);		/* loaded whole again */
	CHECK_EQ_INT(fm_count(fm_log(), "faulted"), 1);
	fm_teardown();
}

/* The last byte of the last page counts too, and a module that is not
 * running (quiesced by a swap, its code still mapped) is not charged. */
TEST(scrub_sums_whole_pages_and_only_running_modules)
{
	REQUIRE(world());
	code_of(drv->m)[drv->m->code_len - 1] ^= 0x80;
	drv->m->state = MOD_QUIESCED;
	CHECK_EQ_INT(scrub_turn(), 0);
	drv->m->state = MOD_RUNNING;
	CHECK_EQ_INT(scrub_turn(), 1);
	fm_run_work();
	CHECK_EQ_INT(drv->nstart, 2);
	CHECK_EQ_INT(scrub_turn(), 0);
	fm_teardown();
}
