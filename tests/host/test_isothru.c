/*
 * test_isothru.c - interrupt handlers run on the event loop
 * (PB_IRQ_ON_LOOP, hub/work.c): the interrupt queues the handler as its
 * module's work, once however many come first, and the work the handler
 * posts itself runs in the same call (one protection-domain switch).
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fakemod.h"

static char ran[64];
static struct pb_module *owner;
static struct pb_work posted;

static void
note(void *arg)
{
	size_t n = strlen(ran);

	snprintf(ran + n, sizeof(ran) - n, "%s", (const char *)arg);
}

/* A handler that collects and posts its own work, as ahci's does. */
static void
handler(void *arg)
{
	note(arg);
	hub_services.work_post(owner, &posted);
}

static int
loop_turns(void)
{
	int turns = 0;

	while (work_run_one())
		turns++;
	return turns;
}

static int
setup(int flags)
{
	struct fm *f;
	int v;

	fm_setup();
	f = fm_add("drv", 0);
	f->m->state = MOD_RUNNING;
	owner = f->m;
	ran[0] = '\0';
	work_init(owner, &posted, note, "w");
	v = irq_alloc(owner);
	CHECK_EQ_INT(irq_register(owner, v | flags, handler, "i"), PB_OK);
	return v;
}

/* The interrupt only queues the handler; the loop's one turn runs it and
 * the work it posted, in order. */
TEST(isothru_an_on_loop_handler_runs_with_its_posts_in_one_call)
{
	int v = setup(PB_IRQ_ON_LOOP);

	hub_irq_dispatch(v);
	CHECK_STR(ran, "");
	CHECK_EQ_INT(loop_turns(), 1);
	CHECK_STR(ran, "iw");
	fm_teardown();
}

/* Interrupts that come before its turn run the handler once: it reads
 * everything the device raised. */
TEST(isothru_interrupts_before_the_turn_run_the_handler_once)
{
	int v = setup(PB_IRQ_ON_LOOP);

	hub_irq_dispatch(v);
	hub_irq_dispatch(v);
	hub_irq_dispatch(v);
	CHECK_EQ_INT(loop_turns(), 1);
	CHECK_STR(ran, "iw");
	hub_irq_dispatch(v);		/* and again after it */
	CHECK_EQ_INT(loop_turns(), 1);
	CHECK_STR(ran, "iwiw");
	fm_teardown();
}

/* Unregistered, registered again or quarantined while its turn waits:
 * the old turn never runs (its item lives in the vector). */
TEST(isothru_a_waiting_turn_goes_with_its_vector)
{
	int v = setup(PB_IRQ_ON_LOOP);

	hub_irq_dispatch(v);
	irq_unregister(owner, v);
	CHECK_EQ_INT(loop_turns(), 0);
	CHECK_STR(ran, "");
	v = irq_alloc(owner);
	CHECK_EQ_INT(irq_register(owner, v | PB_IRQ_ON_LOOP, handler, "i"),
	    PB_OK);
	hub_irq_dispatch(v);
	CHECK_EQ_INT(irq_register(owner, v, handler, "j"), PB_OK);
	CHECK_EQ_INT(loop_turns(), 0);
	hub_irq_dispatch(v);		/* not on the loop any more */
	CHECK_STR(ran, "j");
	CHECK_EQ_INT(loop_turns(), 1);
	CHECK_STR(ran, "jw");
	ran[0] = '\0';
	CHECK_EQ_INT(irq_register(owner, v | PB_IRQ_ON_LOOP, handler, "i"),
	    PB_OK);
	hub_irq_dispatch(v);
	irq_quarantine(owner);
	CHECK_EQ_INT(loop_turns(), 0);
	CHECK_STR(ran, "");
	fm_teardown();
}

/* A held vector (a swap) counts the interrupt and queues nothing; the
 * release replays it. */
TEST(isothru_a_held_on_loop_vector_is_replayed_at_release)
{
	int v = setup(PB_IRQ_ON_LOOP);

	irq_hold_module(owner, 1);
	hub_irq_dispatch(v);
	CHECK_EQ_INT(loop_turns(), 0);
	irq_hold_module(owner, 0);
	CHECK_STR(ran, "i");
	CHECK_EQ_INT(loop_turns(), 1);
	CHECK_STR(ran, "iw");
	fm_teardown();
}

/* Without the flag the handler runs in the interrupt, as before; the
 * flag on a vector out of range is refused. */
TEST(isothru_without_the_flag_the_handler_runs_in_the_interrupt)
{
	int v = setup(0);

	hub_irq_dispatch(v);
	CHECK_STR(ran, "i");
	CHECK_EQ_INT(irq_register(owner, 300 | PB_IRQ_ON_LOOP, handler, "i"),
	    PB_EINVAL);
	CHECK_EQ_INT(irq_register(owner, 10 | PB_IRQ_ON_LOOP, handler, "i"),
	    PB_EINVAL);
	fm_teardown();
}

/*
 * A batch goes on with the items other modules posted meanwhile, each in
 * its own module's domain (arch_guard_retarget): a completion posted to a
 * client runs right after its provider's work, one domain switch between
 * them, and a fault there is the client's.
 */
static struct fm *client;
static struct pb_work to_client;

static void
provider_work(void *arg)
{
	note(arg);
	hub_services.work_post(owner, &to_client);	/* a completion */
}

static void
client_work(void *arg)
{
	note(arg);
	CHECK(arch_guard_owner() == client->m);
}

static void
client_faults(void *arg)
{
	note(arg);
	fake_fault(client->m);
}

static void
chain_setup(pb_work_fn client_fn)
{
	fm_setup();
	owner = fm_add("drv", 0)->m;
	owner->state = MOD_RUNNING;
	client = fm_add("cli", 0);
	client->m->state = MOD_RUNNING;
	ran[0] = '\0';
	work_init(owner, &posted, provider_work, "p");
	work_init(client->m, &to_client, client_fn, "c");
}

TEST(isothru_a_batch_goes_on_with_another_modules_post_as_its_own)
{
	chain_setup(client_work);
	hub_services.work_post(owner, &posted);
	CHECK_EQ_INT(loop_turns(), 1);
	CHECK_STR(ran, "pc");
	fm_teardown();
}

TEST(isothru_a_fault_in_the_chained_item_is_that_modules)
{
	chain_setup(client_faults);
	hub_services.work_post(owner, &posted);
	loop_turns();
	CHECK_STR(ran, "pc");
	CHECK(fm_log_has("cli faulted"));
	CHECK(!fm_log_has("drv faulted"));
	fm_teardown();
}

/* A module in a call (its code on the stack below) gets no item of its
 * run inside another's: it waits for a turn of its own. */
TEST(isothru_a_busy_modules_post_waits_for_its_own_turn)
{
	chain_setup(client_work);
	client->m->busy++;
	hub_services.work_post(owner, &posted);
	CHECK_EQ_INT(work_run_one(), 1);	/* drv's item alone */
	CHECK_STR(ran, "p");
	client->m->busy--;
	CHECK_EQ_INT(loop_turns(), 1);
	CHECK_STR(ran, "pc");
	fm_teardown();
}

/* A chained item that waits inside a call of the hub's (a swap's drain:
 * the shell's `update`) lets the provider whose batch it runs in go on
 * (its items have returned: it carries the drain's completions), and
 * does not let its own module's other items run inside it. */
static struct pb_work provider_next, client_next;

static void
client_waits(void *arg)
{
	note(arg);
	hub_services.work_post(owner, &provider_next);
	hub_services.work_post(client->m, &client_next);
	for (int i = 0; i < 10 && !strchr(ran, 'q'); i++)
		hub_wait_step(fake_now + 1000);
	note(")");
}

TEST(isothru_a_chained_item_that_waits_lets_its_host_module_run)
{
	chain_setup(client_waits);
	work_init(owner, &provider_next, note, "q");
	work_init(client->m, &client_next, note, "d");
	hub_services.work_post(owner, &posted);
	loop_turns();
	CHECK_STR(ran, "pcq)d");
	fm_teardown();
}
