/*
 * test_inject.c - the hub's fault-injection mechanism (hub/inject.c): the
 * `inject` control command, and what an armed injection does at the next
 * call of its moment into its module (only the kinds that cannot hurt the
 * host test itself: a wrong return code, a skipped handler, a flipped
 * argument bit, a write through a corrupted pointer that stays in a
 * buffer of the test's).
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fakemod.h"
#include "fake_arch.h"

static char said[200];

static void
keep(void *arg, const char *line)
{
	(void)arg;
	snprintf(said, sizeof(said), "%s", line);
}

static int
ctl(const char *line)
{
	said[0] = '\0';
	return hub_control(NULL, line, keep, NULL);
}

static void *seen_arg;
static unsigned calls;

static void
item(void *arg)
{
	seen_arg = arg;
	calls++;
}

TEST(inject_control_arms_and_reports)
{
	fm_setup();
	fm_add_running("m");
	CHECK_EQ_INT(ctl("inject"), PB_OK);
	CHECK_CONTAINS(said, "inject: none");
	CHECK_EQ_INT(ctl("inject m 1:10:0x5"), PB_OK);
	CHECK_STR(said, "inject: armed m 1:10:0x5 faults=0 total=0 "
	    "state=running");
	CHECK(ctl("inject nosuch 1:0:0") < 0);
	CHECK(ctl("inject m 3:0:0") < 0);	/* no such moment */
	CHECK(ctl("inject m 1:12:0") < 0);	/* no such type */
	CHECK(ctl("inject m 1:2") < 0);
	CHECK(ctl("inject m 1:2:0x1g") < 0);
	CHECK_EQ_INT(ctl("inject off"), PB_OK);
	CHECK_EQ_INT(ctl("inject"), PB_OK);
	CHECK_CONTAINS(said, "inject: none m");
	fm_teardown();
}

/* Armed for work, an interrupt handler does not take it, the next work
 * item does: with bit 63 of its argument flipped. */
TEST(inject_regbit_at_the_next_work_item)
{
	static int x;
	struct fm *m;

	fm_setup();
	m = fm_add_running("m");
	calls = 0;
	CHECK_EQ_INT(ctl("inject m 1:4:63"), PB_OK);
	CHECK_EQ_INT(work_queue(m->m, item, &x), PB_OK);
	CHECK_EQ_INT(fm_run_work(), 1);
	CHECK_EQ_INT(calls, 1);
	CHECK(seen_arg == (void *)((uintptr_t)&x ^ (1ull << 63)));
	ctl("inject");
	CHECK_CONTAINS(said, "inject: fired m 1:4:0x3f");
	/* Once: the next item gets its own argument. */
	CHECK_EQ_INT(work_queue(m->m, item, &x), PB_OK);
	CHECK_EQ_INT(fm_run_work(), 1);
	CHECK(seen_arg == &x);
	fm_teardown();
}

/* Another module's calls, and a restarted instance's, are not taken. */
TEST(inject_only_its_module_and_generation)
{
	static int x;
	struct fm *m, *k;

	fm_setup();
	m = fm_add_running("m");
	k = fm_add_running("k");
	CHECK_EQ_INT(ctl("inject m 1:4:0"), PB_OK);
	CHECK_EQ_INT(work_queue(k->m, item, &x), PB_OK);
	CHECK_EQ_INT(fm_run_work(), 1);
	CHECK(seen_arg == &x);
	m->m->generation++;		/* as an unload does */
	CHECK_EQ_INT(work_queue(m->m, item, &x), PB_OK);
	CHECK_EQ_INT(fm_run_work(), 1);
	CHECK(seen_arg == &x);
	ctl("inject");
	CHECK_CONTAINS(said, "inject: armed m");
	fm_teardown();
}

/* A write through the argument pointer with bit 3 flipped: 8 bytes on. */
TEST(inject_pointer_writes_next_to_the_argument)
{
	static uint64_t buf[4] __attribute__((aligned(32)));
	struct fm *m;

	fm_setup();
	m = fm_add_running("m");
	memset(buf, 0, sizeof(buf));
	CHECK_EQ_INT(ctl("inject m 1:1:0x12"), PB_OK);	/* 18 % 18 = 0 */
	CHECK_EQ_INT(work_queue(m->m, item, &buf[0]), PB_OK);
	CHECK_EQ_INT(fm_run_work(), 1);
	CHECK(buf[1] == 0x12);
	CHECK(seen_arg == &buf[0]);	/* and then the real call */
	fm_teardown();
}

/* A code bit goes into the module's own code (its executable sections),
 * never into the page below its image: that page holds no header (it is
 * not loaded) but another module's code or the hub's, and a bit flipped
 * there crashed the hub (campaign usbonly 41, with updates, #18). */
TEST(inject_codebit_flips_only_the_modules_own_code)
{
	static uint8_t image[3 * 4096];
	struct pb_module saved;
	struct fm *m;

	fm_setup();
	m = fm_add_running("m");
	calls = 0;
	CHECK_EQ_INT(ctl("inject m 1:5:0x200000000"), PB_OK); /* bit 2, +0 */
	CHECK_EQ_INT(work_queue(m->m, item, NULL), PB_OK);
	saved = *m->m;
	memset(image, 0, sizeof(image));
	m->m->base = (uint64_t)(uintptr_t)image;
	m->m->head = 4096;
	m->m->size = sizeof(image);
	m->m->code_rva = 4096;
	m->m->code_len = 4096;
	CHECK_EQ_INT(fm_run_work(), 1);
	*m->m = saved;
	CHECK_EQ_INT(image[0], 0);		/* the page below: untouched */
	CHECK_EQ_INT(image[4096], 4);		/* its code's first byte */
	CHECK_EQ_INT(calls, 1);
	fm_teardown();
}

/* The store is the module's, made in its domain: the injector's own
 * writes before it (its record of firing) are the hub's code writing the
 * hub's memory, which on hardware takes the hub's domain for the call. */
TEST(inject_store_made_in_the_modules_domain)
{
	static uint64_t buf[4] __attribute__((aligned(32)));
	struct fm *m;

	fm_setup();
	m = fm_add_running("m");
	fake_domain = fake_store_domain = NULL;
	CHECK_EQ_INT(ctl("inject m 1:1:0x12"), PB_OK);
	CHECK_EQ_INT(work_queue(m->m, item, &buf[0]), PB_OK);
	CHECK_EQ_INT(fm_run_work(), 1);
	CHECK(fake_store_domain == m->m);
	fm_teardown();
}

/* slot: 8 bytes into the record of the call itself (arch_guard_slot), at
 * PARAM's byte rounded down to 8; then the real call (bit 7 clear). */
TEST(inject_slot_writes_into_the_calls_guard_slot)
{
	static int x;
	uint64_t *slot = (uint64_t *)(uintptr_t)arch_guard_slot();
	struct fm *m;

	fm_setup();
	m = fm_add_running("m");
	memset(slot, 0, 128);
	calls = 0;
	CHECK_EQ_INT(ctl("inject m 1:11:0x4d"), PB_OK);	/* byte 72: rip */
	CHECK_EQ_INT(work_queue(m->m, item, &x), PB_OK);
	CHECK_EQ_INT(fm_run_work(), 1);
	CHECK(slot[9] == 0xdeadbeefcafef00dull);
	CHECK(slot[8] == 0 && slot[10] == 0);
	CHECK_EQ_INT(calls, 1);
	CHECK(seen_arg == &x);
	fm_teardown();
}

/* PARAM bit 8: into the guard depth instead (its word, and its check). */
TEST(inject_slot_bit_8_writes_into_the_guard_depth)
{
	static int x;
	uint64_t *slot = (uint64_t *)(uintptr_t)arch_guard_slot();
	uint64_t *depth = (uint64_t *)(uintptr_t)arch_guard_depth_word();
	struct fm *m;

	fm_setup();
	m = fm_add_running("m");
	memset(slot, 0, 128);
	*depth = 0;
	calls = 0;
	CHECK_EQ_INT(ctl("inject m 1:11:0x148"), PB_OK);
	CHECK_EQ_INT(work_queue(m->m, item, &x), PB_OK);
	CHECK_EQ_INT(fm_run_work(), 1);
	CHECK(*depth == 0xdeadbeefcafef00dull);
	for (unsigned i = 0; i < 16; i++)
		CHECK_MSG(slot[i] == 0, "slot word %u written", i);
	CHECK_EQ_INT(calls, 1);
	fm_teardown();
}

static unsigned handled;

static void
handler(void *arg)
{
	(void)arg;
	handled++;
}

/* skip at an interrupt: the handler does not run (no acknowledge). */
TEST(inject_skip_at_an_interrupt)
{
	struct fm *m;
	int v;

	fm_setup();
	m = fm_add_running("m");
	handled = 0;
	v = irq_alloc(m->m);
	CHECK(v > 0);
	CHECK_EQ_INT(irq_register(m->m, v, handler, NULL), PB_OK);
	CHECK_EQ_INT(ctl("inject m 2:10:0"), PB_OK);
	hub_irq_dispatch(v);
	CHECK_EQ_INT(handled, 0);
	hub_irq_dispatch(v);
	CHECK_EQ_INT(handled, 1);
	fm_teardown();
}

static long
entry(void *arg)
{
	calls++;
	return PB_OK;
}

/* retcode at an entry: the call runs, its result is replaced. */
TEST(inject_retcode_at_an_entry)
{
	struct fm *m;

	fm_setup();
	m = fm_add_running("m");
	calls = 0;
	CHECK_EQ_INT(ctl("inject m 0:8:0xfffffffffffffffb"), PB_OK);
	CHECK_EQ_INT(mod_call_watched(m->m, entry, NULL, 0), -5);
	CHECK_EQ_INT(calls, 1);
	CHECK_EQ_INT(mod_call_watched(m->m, entry, NULL, 0), PB_OK);
	fm_teardown();
}
