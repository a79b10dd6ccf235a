/*
 * test_domain.c - protection domains, the portable half: mem.c tells the
 * arch side which pages modules may write (hub/x86_64/domain.c keys them),
 * and a provider that faults under its client's call (a gated connection,
 * hub/x86_64/conngate.S) is charged and handled when the client's call
 * ends, the client untouched (hub/module.c, after_call).
 */
#include <string.h>

#include "check.h"
#include "fakemod.h"

static const struct fake_domain_call *
last_domain_call(void)
{
	return fake_ndomain_calls ? &fake_domain_calls[fake_ndomain_calls - 1] :
	    NULL;
}

TEST(domain_module_pages_writable_by_modules_hub_pages_not)
{
	struct fm *f;
	const struct fake_domain_call *c;
	void *mine, *hub_pages, *hub_heap;

	fm_setup();
	f = fm_add("m", 0);
	fake_ndomain_calls = 0;
	mine = mem_alloc(f->m, 2, 0, MEM_KIND_PAGES);
	CHECK((c = last_domain_call()) != NULL);
	CHECK_EQ_INT(c->modules, 1);
	CHECK_EQ_INT(c->npages, 2);
	CHECK(c->base == (uint64_t)(uintptr_t)mine);
	/* The hub's own pages (page tables, its records) stay the hub's,
	 * as free pages are: nothing to tell (and page tables come from
	 * here, so telling could recurse); its heap buffers are what it
	 * hands modules to fill. */
	hub_pages = mem_alloc(NULL, 1, 0, MEM_KIND_PAGES);
	CHECK_EQ_INT(fake_ndomain_calls, 1);
	hub_heap = mem_alloc(NULL, 1, 0, MEM_KIND_HEAP);
	CHECK_EQ_INT(last_domain_call()->modules, 1);
	/* Freed pages go back to the hub. */
	CHECK_EQ_INT(mem_free(f->m, mine), PB_OK);
	c = last_domain_call();
	CHECK_EQ_INT(c->modules, 0);
	CHECK(c->base == (uint64_t)(uintptr_t)mine);
	CHECK_EQ_INT(c->npages, 2);
	mem_free(NULL, hub_pages);
	mem_free(NULL, hub_heap);
	fm_teardown();
}

TEST(domain_mmio_every_page_it_touches)
{
	struct fm *f;
	const struct fake_domain_call *c;

	fm_setup();
	f = fm_add("m", 0);
	fake_ndomain_calls = 0;
	/* 0x20 bytes across a page boundary: two pages. */
	CHECK_EQ_INT(mem_note_mmio(f->m, 0xfebf0ff0ull, 0x20), PB_OK);
	CHECK((c = last_domain_call()) != NULL);
	CHECK(c->base == 0xfebf0000ull);
	CHECK_EQ_INT(c->npages, 2);
	CHECK_EQ_INT(c->modules, 1);
	fm_teardown();
}

static struct fm *prov;

static long
provider_op(void *arg)
{
	(void)arg;
	fake_fault(prov->m);
}

/* The client calls its provider through a gate (a guarded call of the
 * provider's), sees PB_EFAULT, and returns normally itself. */
static void
client_work(void *arg)
{
	long *seen = arg;

	*seen = arch_call_guarded(provider_op, NULL, prov->m, 0);
}

TEST(domain_provider_fault_handled_when_the_clients_call_ends)
{
	struct fm *client;
	long seen = 0;

	fm_setup();
	client = fm_add("client", 0);
	prov = fm_add("prov", 0);
	client->m->state = MOD_RUNNING;
	prov->m->state = MOD_RUNNING;
	CHECK_EQ_INT(work_queue(client->m, client_work, &seen), PB_OK);
	CHECK_EQ_INT(fm_run_work(), 1);
	CHECK_EQ_INT(seen, PB_EFAULT);
	CHECK_EQ_INT(prov->m->faults, 1);
	CHECK_EQ_INT(prov->m->fault_pending, 0);
	CHECK(fm_log_has("prov faulted: vector 14"));
	CHECK_EQ_INT(client->m->faults, 0);
	CHECK(!fm_log_has("client faulted"));
	CHECK_EQ_INT(client->m->state, MOD_RUNNING);
	fm_teardown();
}
