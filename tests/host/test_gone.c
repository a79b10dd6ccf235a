/*
 * test_gone.c - PB_EV_CLIENT_GONE and vector quarantine (ABI 1.2): a
 * provider learns that a client is going (unloaded, faulted, stopped,
 * disconnected) before the client's memory and vectors are taken back,
 * so a bus provider can silence the client's device first; vectors of a
 * client whose provider failed to do so are never handed out again.
 *
 * The world: `p` serves tcon:p0; `c` needs one tcon to start, holds two
 * heap pages and one interrupt vector.
 */
#include <string.h>

#include "check.h"
#include "fakemod.h"

#define DYNAMIC_VECTORS 176

static struct fm *p, *c;

static int
world(void)
{
	fm_setup();
	p = fm_add("p", 1);
	fm_serve(p, "tcon", "p0");
	c = fm_add("c", 0);
	fm_require(c, "tcon", 1, 0, PB_CARD_ONE, PB_AT_START);
	c->heap_pages = 2;
	c->want_irq = 1;
	return fm_start(p) == PB_OK && fm_start(c) == PB_OK &&
	    fm_conn_res(c, 0, 0) == p->res[0];
}

/* What the client still held when its provider was told. */
static struct {
	unsigned events;
	uint64_t pages;
	unsigned vectors;
	int req;
	char res[48];
} seen;

static void
note_gone(struct fm *f, int event, struct pb_conn *conn, int req)
{
	if (event != PB_EV_CLIENT_GONE || f != p)
		return;
	seen.events++;
	seen.pages = mem_owned(c->m, -1);
	seen.vectors = irq_count(c->m);
	seen.req = req;
	rt_strlcpy(seen.res, conn && conn->res ? conn->res : "-",
	    sizeof(seen.res));
}

static void
watch_gone(void)
{
	memset(&seen, 0, sizeof(seen));
	fm_event_hook = note_gone;
}

TEST(client_gone_told_before_memory_and_vectors_go)
{
	REQUIRE(world());
	watch_gone();
	CHECK_EQ_INT(mod_unload(c->m), PB_OK);
	CHECK_EQ_INT(p->ngone, 1);
	CHECK_EQ_INT(seen.events, 1);
	CHECK_EQ_INT(seen.pages, 2);		/* still the client's */
	CHECK_EQ_INT(seen.vectors, 1);
	CHECK_EQ_INT(seen.req, 0);
	CHECK_STR(seen.res, "tcon:p0");
	/* then everything went back */
	CHECK_EQ_INT(mem_owned(c->m, -1), 0);
	CHECK_EQ_INT(irq_free_count(), DYNAMIC_VECTORS);
	CHECK_EQ_INT(c->ngone, 0);		/* a client is not told */
	fm_teardown();
}

TEST(client_gone_when_the_client_faults)
{
	REQUIRE(world());
	watch_gone();
	c->m->faults = 2;			/* no restart: the third */
	REQUIRE(work_queue(c->m, fm_fault_work, c->m) == PB_OK);
	fm_run_work();
	CHECK_EQ_INT(c->m->faults, 3);
	CHECK_EQ_INT(p->ngone, 1);
	CHECK_EQ_INT(seen.pages, 2);
	CHECK_EQ_INT(mem_owned(c->m, -1), 0);
	fm_teardown();
}

TEST(client_gone_when_the_client_disconnects)
{
	struct pb_conn *pc;

	REQUIRE(world());
	watch_gone();
	pc = hub_services.connect(c->m, "tcon", 1, 0, "tcon:p0");
	REQUIRE(pc != NULL);
	hub_services.disconnect(c->m, pc);
	CHECK_EQ_INT(p->ngone, 1);
	CHECK_EQ_INT(seen.req, PB_REQ_NONE);
	CHECK_EQ_INT(res_clients(p->res[0]), 1);	/* the other stays */
	fm_teardown();
}

/* A provider that faults while silencing the client's device: the
 * client's vectors stay quarantined, never handed to anyone again, and
 * nothing is delivered to them. */
TEST(vectors_quarantined_when_the_provider_fails)
{
	struct pb_module *owner;
	struct fm *k;
	int v, w;

	REQUIRE(world());
	v = c->irq_vector;
	p->fault_at = FM_GONE;
	p->m->faults = 2;			/* p is not restarted */
	CHECK_EQ_INT(mod_unload(c->m), PB_OK);
	CHECK_EQ_INT(p->m->faults, 3);
	CHECK_EQ_INT(irq_count(c->m), 0);	/* not the client's any more */
	CHECK_EQ_INT(irq_free_count(), DYNAMIC_VECTORS - 1);
	CHECK(fm_log_has("quarantined"));
	k = fm_add("k", 0);
	k->m->state = MOD_RUNNING;
	while ((w = irq_alloc(k->m)) >= 0)
		CHECK_MSG(w != v, "vector %d handed out again", v);
	CHECK_EQ_INT(irq_register(k->m, v, NULL, NULL), PB_EINVAL);
	CHECK_EQ_INT(irq_register(NULL, v, (pb_irq_fn)fm_fault_work, NULL),
	    PB_EBUSY);
	hub_irq_dispatch(v);
	CHECK_EQ_INT(c->nirq, 0);
	CHECK(irq_stats(v, &owner) == 1 && owner == &hub_quarantine);
	irq_unregister(k->m, -1);
	fm_teardown();
}
