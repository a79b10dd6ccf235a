/*
 * test_fault.c - whose fault is it: the innermost guarded call's module,
 * whatever the instruction pointer says (hub/module.c hub_fault_culprit,
 * through the fake exception path fake_fault_at).
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fakemod.h"

/* Stand-ins for code: the hub's image and a provider's. */
static uint8_t hub_text[4096];
static uint8_t prov_text[4096];

#define HUB_RIP ((uint64_t)(uintptr_t)hub_text + 0x40)
#define PROV_RIP ((uint64_t)(uintptr_t)prov_text + 0x80)
#define WILD_RIP 0x0000414141414141ull

static void
setup(void)
{
	fm_setup();
	fake_hub_lo = (uint64_t)(uintptr_t)hub_text;
	fake_hub_hi = fake_hub_lo + sizeof(hub_text);
	fake_hub_died = 0;
}

static void
teardown(void)
{
	fake_hub_lo = fake_hub_hi = 0;
	hub_stack_guard = 0;
	fm_teardown();
}

struct shot {
	int vector;
	uint64_t rip, addr;
};

static void
fault_in_work(void *arg)
{
	const struct shot *s = arg;

	fake_fault_at(s->vector, s->rip, s->addr);
}

/* One work item of module "m" faults at s; the hub's next item runs. */
static struct pb_module *
fault_in_item(struct shot *s, char *ran)
{
	struct fm *m = fm_add_running("m");

	CHECK_EQ_INT(work_queue(m->m, fault_in_work, s), PB_OK);
	CHECK_EQ_INT(fm_run_work(), 1);
	snprintf(ran, 16, "%d", fake_hub_died);
	return m->m;
}

/* A call to NULL: rip 0, in no image. */
TEST(fault_null_call_charged_to_the_caller)
{
	struct shot s = { 14, 0, 0 };
	struct pb_module *m;
	char died[16];

	setup();
	m = fault_in_item(&s, died);
	CHECK_STR(died, "0");
	CHECK_EQ_INT(m->faults, 1);
	CHECK_EQ_INT(m->fault_where, FAULT_IN_NOCODE);
	CHECK(fm_log_has("m faulted: vector 14 at rip 0x0 addr 0x0 "
	    "(at no code, during its call)"));
	CHECK(m->state != MOD_RUNNING);
	teardown();
}

/* A return to a bad address: the fetch faults at a wild rip. */
TEST(fault_bad_return_charged_to_the_caller)
{
	struct shot s = { 14, WILD_RIP, WILD_RIP };
	struct pb_module *m;
	char died[16];

	setup();
	m = fault_in_item(&s, died);
	CHECK_STR(died, "0");
	CHECK_EQ_INT(m->faults, 1);
	CHECK_EQ_INT(m->fault_where, FAULT_IN_NOCODE);
	CHECK(fm_log_has("m faulted: vector 14 at rip 0x414141414141"));
	teardown();
}

/* A bad pointer handed to a hub service: the hub's code faults, during
 * the module's call, so the module is charged. */
TEST(fault_inside_a_hub_service_charged_to_the_caller)
{
	struct shot s = { 13, HUB_RIP, 0 };
	struct pb_module *m;
	char died[16];

	setup();
	m = fault_in_item(&s, died);
	CHECK_STR(died, "0");
	CHECK_EQ_INT(m->faults, 1);
	CHECK_EQ_INT(m->fault_where, FAULT_IN_HUB);
	CHECK(fm_log_has("m faulted: vector 13"));
	CHECK(fm_log_has("(in the hub, during its call)"));
	teardown();
}

/* A page fault on the page under the stack: named a stack overflow and
 * charged to the module, wherever the push that hit it ran. */
TEST(fault_stack_overflow_charged_and_named)
{
	static uint8_t stack_guard[4096];
	struct shot s = { 14, HUB_RIP, 0 };
	struct pb_module *m;
	char died[16];

	setup();
	hub_stack_guard = (uint64_t)(uintptr_t)stack_guard;
	s.addr = hub_stack_guard + 4088;
	m = fault_in_item(&s, died);
	CHECK_STR(died, "0");
	CHECK_EQ_INT(m->faults, 1);
	CHECK(fm_log_has("during its call): stack overflow"));
	teardown();
}

/* A client calls its provider directly through a connection (no guard
 * of the provider's): a fault in the provider's image is the provider's,
 * and the client's call only sees PB_EFAULT. */
static void
call_into_provider(void *arg)
{
	struct shot s = { 14, PROV_RIP, 8 };

	(void)arg;
	fake_fault_at(s.vector, s.rip, s.addr);
}

TEST(fault_in_a_providers_image_charged_to_the_provider)
{
	struct fm *client, *prov;

	setup();
	client = fm_add_running("client");
	prov = fm_add_running("prov");
	prov->m->base = (uint64_t)(uintptr_t)prov_text;
	prov->m->size = sizeof(prov_text);
	CHECK_EQ_INT(work_queue(client->m, call_into_provider, NULL), PB_OK);
	fm_run_work();
	CHECK_EQ_INT(prov->m->faults, 1);
	CHECK_EQ_INT(prov->m->fault_where, FAULT_IN_IMAGE);
	CHECK_EQ_INT(client->m->faults, 0);
	CHECK(client->m->state == MOD_RUNNING);
	CHECK(fm_log_has("prov faulted: vector 14"));
	CHECK(!fm_log_has("client faulted"));
	prov->m->base = 0;
	teardown();
}

/* Nested: an interrupt handler of module b cuts into a's work item and
 * faults in a hub service.  b is charged (its call is innermost), and
 * a's item goes on after the handler's guard unwound. */
static int irq_vec;
static int a_went_on;

static void
b_handler(void *arg)
{
	(void)arg;
	fake_fault_at(14, HUB_RIP, 0x10);
}

static void
a_work(void *arg)
{
	(void)arg;
	hub_irq_dispatch(irq_vec);
	a_went_on = 1;
}

TEST(fault_charged_to_the_innermost_call)
{
	struct fm *a, *b;

	setup();
	a = fm_add_running("a");
	b = fm_add_running("b");
	a_went_on = 0;
	irq_vec = irq_alloc(b->m);
	REQUIRE(irq_register(b->m, irq_vec, b_handler, NULL) == PB_OK);
	CHECK_EQ_INT(work_queue(a->m, a_work, NULL), PB_OK);
	fm_run_work();
	CHECK_EQ_INT(b->m->faults, 1);
	CHECK_EQ_INT(a->m->faults, 0);
	CHECK_EQ_INT(a_went_on, 1);
	CHECK(fm_log_has("b faulted: vector 14"));
	CHECK_EQ_INT(fake_hub_died, 0);
	teardown();
}

/* The guard's owner is restored as calls return: after b's nested call,
 * a is innermost again. */
static struct pb_module *seen_inner, *seen_after;

static long
inner_call(void *arg)
{
	(void)arg;
	seen_inner = fake_guard_owner();
	return PB_OK;
}

static void
outer_work(void *arg)
{
	mod_call(arg, inner_call, NULL, 0);
	seen_after = fake_guard_owner();
}

TEST(fault_guard_owner_nests_and_restores)
{
	struct fm *a, *b;

	setup();
	a = fm_add_running("a");
	b = fm_add_running("b");
	CHECK_EQ_INT(work_queue(a->m, outer_work, b->m), PB_OK);
	fm_run_work();
	CHECK(seen_inner == b->m);
	CHECK(seen_after == a->m);
	CHECK(fake_guard_owner() == NULL);
	teardown();
}

/* With no module call in progress the fault is the hub's own: fatal. */
TEST(fault_outside_any_call_is_the_hubs)
{
	struct fm *m;

	setup();
	m = fm_add_running("m");
	CHECK_EQ_INT(fake_fault_at(14, HUB_RIP, 0), -1);
	CHECK_EQ_INT(fake_hub_died, 1);
	CHECK_EQ_INT(m->m->faults, 0);
	/* Even at a module's code: no guard, no one to unwind to. */
	m->m->base = (uint64_t)(uintptr_t)prov_text;
	m->m->size = sizeof(prov_text);
	CHECK_EQ_INT(fake_fault_at(14, PROV_RIP, 0), -1);
	CHECK_EQ_INT(fake_hub_died, 2);
	m->m->base = 0;
	teardown();
}
