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
#include "../../abi/rt/rt.h"

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

/* A PB_MOD_RESTATE module's export at its fault runs the code it was
 * loaded with, not the changed code (which could say anything): the code
 * is put back from its file first. */
static int code_whole_at_export = -1;

static void
whole_at_export(struct fm *f, int step)
{
	if (f == drv && step == FM_EXPORT && code_whole_at_export < 0)
		code_whole_at_export = rt_sum64(RT_SUM64_SEED,
		    (const void *)code_of(f->m), f->m->code_len) ==
		    f->m->code_sum;
}

TEST(scrub_puts_the_code_back_before_the_state_is_taken)
{
	REQUIRE(world());
	drv->m->desc.flags |= PB_MOD_RESTATE;
	fm_step_hook = whole_at_export;
	code_of(drv->m)[0x321] ^= 0x04;
	code_of(drv->m)[0x328] ^= 0x01;		/* the next word */
	CHECK_EQ_INT(scrub_turn(), 1);
	fm_run_work();
	CHECK_EQ_INT(code_whole_at_export, 1);
	CHECK(fm_log_has("drv: its code put back as loaded (2 words changed) "
	    "before its state is taken"));
	CHECK(fm_log_has("drv: recovered in"));
	CHECK_EQ_INT(drv->nstart, 2);
	CHECK_EQ_INT(scrub_turn(), 0);
	fm_teardown();
}
