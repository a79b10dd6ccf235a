/*
 * recover.c - bringing a faulted module back, shadow-driver style (Swift
 * et al., "Recovering Device Drivers", OSDI 2004): its clients keep their
 * connections while it is stopped and restarted, and are rebound to the
 * new instance's resources of the same names and told PB_EV_REBOUND, so
 * they issue their configuration again; their requests in flight are
 * issued again to the new instance or failed with PB_EIO by the shadow
 * of their interface (shadow.c: block).  None of them sees a
 * disconnection, and none that needs the module is stopped.
 *
 * Order (module.c's mod_handle_fault): the connections are held, then
 * mod_unload runs mod_stop, whose PB_EV_CLIENT_GONE has every provider
 * of the module silence its device (pci: bus mastering, MSI, INTx off,
 * read back) before any of its memory is freed; a provider that could
 * not is answered by keeping all of the module's RAM out of use for
 * good (mod_unload).  Then the restart, then the replay.
 *
 * A module that faults a third time within fault_window_ns of its first
 * is left stopped; its clients go down the fallback ladder (res.c's
 * conn_fall_back) to the next provider of the interface, started first
 * when one is known but not running.
 */
#include "hub.h"
#include "../abi/block.h"
#include "../abi/rt/rt.h"

uint64_t fault_window_ns = 10000000000ull;	/* boot.cfg fault-window=MS */

/* The connections held across a restart, and the resource each is
 * rebound to: of the same name, or for a block device the one of the same
 * path (the restarted instance may name it after the disk it finds now).
 * Restarts nest (a restart that faults restarts again), so each entry
 * names its provider. */
#define HELD_MAX 32
static struct held {
	struct conn *c;
	struct pb_module *provider;
	char name[RES_NAME_MAX];
	char path[BLOCK_PATH_MAX];	/* "": none */
} held[HELD_MAX];

/*
 * Is this fault one too many?  Faults are counted from the first one of
 * a window; a fault after the window has passed starts a new count.
 */
int
recover_gives_up(struct pb_module *m, uint64_t now)
{
	if (!m->faults || now - m->fault_first_ns > fault_window_ns) {
		m->faults = 0;
		m->fault_first_ns = now;
	}
	return ++m->faults > 2;
}

/*
 * m's requests still at its providers (block, fs: shadow.c) are
 * completed into m's memory, its request's status and done, and by
 * DMA into its buffers: its memory must not go to anyone (its own new
 * instance, loaded where it was) before they are.  The event loop runs
 * until they are, at most OUT_WAIT_NS; what is still out then keeps
 * m's memory out of use for good, as a device that was not silenced
 * does (mod_unload).  m is busy: none of its work runs meanwhile.
 */
#define OUT_WAIT_NS 2000000000ull

static void
wait_requests_out(struct pb_module *m)
{
	uint64_t until = hub_now_ns() + OUT_WAIT_NS;
	unsigned n;

	work_item_died(m);	/* a completion it was running is back */
	while (shadow_out_for(m) && hub_now_ns() < until)
		hub_wait_step(until);
	if ((n = shadow_out_for(m)) != 0) {
		log_event(LOG_ERROR, "%s: %u requests still at its providers "
		    "after %llu ms", m->name, n,
		    (unsigned long long)(OUT_WAIT_NS / 1000000));
		shadow_out_tell(m);
		m->unsilenced = 1;
	}
}

/* Unload faulted m.  One that faulted before its start ran (in the
 * event that brought its bind connection) is stopped first, as mod_unload
 * stops only a started one: its connections go with it, so its restart
 * binds to its device again instead of waiting for what it still held. */
static void
unload_faulted(struct pb_module *m)
{
	if (m->state == MOD_LOADED)
		mod_stop(m);
	mod_unload(m);
}

/* Hold every connection to m's resources: it keeps its client, loses
 * its resource until recover_replay.  Beyond HELD_MAX they fall back as
 * on any withdrawal. */
void
recover_hold(struct pb_module *m)
{
	unsigned k = 0;

	for (unsigned i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &conns[i];

		if (!c->used || !c->res || c->res->owner != m || c->handover)
			continue;
		while (k < HELD_MAX && held[k].c)
			k++;
		if (k == HELD_MAX)
			return;
		held[k].c = c;
		held[k].provider = m;
		rt_strlcpy(held[k].name, c->res->name, sizeof(held[k].name));
		if (!res_path(c->res, held[k].path, sizeof(held[k].path)))
			held[k].path[0] = '\0';
		c->held = 1;
		shadow_hold(c);
		c->res = NULL;
		c->pub.res = held[k].name;
	}
}

/* Is c held for m? */
static int
held_for(const struct conn *c, const struct pb_module *m)
{
	for (unsigned k = 0; k < HELD_MAX; k++)
		if (held[k].c == c)
			return held[k].provider == m;
	return 0;
}

/* Has client already a connection of requirement req to r? */
static int
has_conn(const struct conn *c, const struct pb_resource *r)
{
	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (conns[i].used && &conns[i] != c &&
		    conns[i].client == c->client && conns[i].req == c->req &&
		    conns[i].res == r)
			return 1;
	return 0;
}

/*
 * m is running again (or is not): each connection held for it goes to
 * its resource of the same name and hears PB_EV_REBOUND, or falls back
 * as after a withdrawal.  How many were rebound.
 */
static unsigned reissued;	/* requests of the last replay */

unsigned
recover_replay(struct pb_module *m)
{
	unsigned n = 0;

	for (unsigned k = 0; k < HELD_MAX; k++) {
		struct held *h = &held[k];
		struct conn *c = h->c;
		struct pb_resource *r, *disk;

		if (!c || h->provider != m)
			continue;
		h->c = NULL;
		if (!c->used || !c->held)
			continue;	/* its client went meanwhile */
		c->held = 0;
		r = m->state == MOD_RUNNING ? res_find(h->name) : NULL;
		if (m->state == MOD_RUNNING && (!r || r->owner != m) &&
		    (disk = res_find_disk(m, h->path)))
			r = disk;
		if (r && r->owner == m && has_conn(c, r)) {
			/* offered anew (every-instance requirements) */
			conn_tell(c, PB_EV_DISCONNECTED);
			conn_close(c);
		} else if (r && r->owner == m) {
			conn_rebind(c, r);
			reissued += shadow_replay(c);
			conn_tell(c, PB_EV_REBOUND);
			n++;
		} else if (!r && (m->state == MOD_RUNNING ||
		    m->state == MOD_KNOWN) &&
		    replay_wait(c, m, h->name, h->path)) {
			continue;	/* until m publishes it (replay.c) */
		} else {
			/* rebound elsewhere: its requests go there; closed:
			 * they complete with PB_EIO (shadow_close) */
			conn_fall_back(c, h->name);
			if (c->used && c->res)
				reissued += shadow_replay(c);
		}
	}
	return n;
}

/* Does c's client want one provider of what it has (not every one)? */
static int
single(const struct conn *c)
{
	return c->client && c->req >= 0 &&
	    c->client->desc.requires[c->req].card != PB_CARD_ALL;
}

/* Do clients that want one provider use m's `iface`, through its
 * resources or held for it?  They are the ones a ladder serves. */
static int
has_clients(const struct pb_module *m, const char *iface)
{
	size_t n = strlen(iface);

	for (unsigned i = 0; i < MAX_CONNS; i++) {
		const struct conn *c = &conns[i];
		const char *name = c->held ? c->pub.res : c->res ?
		    c->res->name : "";

		if (c->used && single(c) && (c->held ? held_for(c, m) :
		    c->res && c->res->owner == m) &&
		    strncmp(name, iface, n) == 0 && name[n] == ':')
			return 1;
	}
	return 0;
}

/* Is another module than m, not failed or refused, declaring iface? */
static int
known_other(const struct pb_module *m, const char *iface)
{
	for (unsigned k = 0; k < nmodules; k++)
		if (&modules[k] != m && mod_provides(&modules[k], iface) &&
		    modules[k].state != MOD_REFUSED &&
		    modules[k].state != MOD_FAILED &&
		    modules[k].state != MOD_REPLACED)
			return 1;
	return 0;
}

static const char *kept_by(const struct pb_module *m);

/* Start the next provider down of what m's clients use, when none runs
 * but one is known; the name of the one they go to (or go on with, when
 * they use every provider), NULL: none. */
static const char *
ladder_down(struct pb_module *m)
{
	for (unsigned i = 0; i < m->desc.nprovides; i++) {
		const struct pb_provide *p = &m->desc.provides[i];
		struct pb_resource *alt;
		int state = m->state;
		char err[96];

		if (!has_clients(m, p->iface))
			continue;
		alt = res_best(p->iface, p->major, 0, m);
		if (!alt && known_other(m, p->iface)) {
			m->state = MOD_FAILED;	/* the resolver passes it by */
			hub_resolve_and_start(p->iface, p->major, 0, err,
			    sizeof(err));
			m->state = state;
			alt = res_best(p->iface, p->major, 0, m);
		}
		if (alt)
			return alt->owner ? alt->owner->name : "the hub";
	}
	return kept_by(m);
}

/* Clients of m's that want every provider (a shell reading every
 * keyboard) and have others too: who those are ("ps2, serial"), or NULL
 * when none. */
static const char *
kept_by(const struct pb_module *m)
{
	static char list[64];
	struct pb_module *seen[4];
	unsigned nseen = 0;
	size_t n = 0;

	for (unsigned i = 0; i < MAX_CONNS; i++) {
		const struct conn *c = &conns[i];

		if (!c->used || !c->res || c->res->owner != m || single(c))
			continue;
		for (unsigned k = 0; k < MAX_CONNS && nseen < 4; k++) {
			const struct conn *o = &conns[k];
			struct pb_module *p = o->res ? o->res->owner : NULL;
			unsigned j = 0;

			if (!o->used || o == c || o->client != c->client ||
			    o->req != c->req || !p || p == m)
				continue;
			while (j < nseen && seen[j] != p)
				j++;
			if (j < nseen)
				continue;
			seen[nseen++] = p;
			if (n < sizeof(list))
				n += rt_snprintf(list + n, sizeof(list) - n,
				    "%s%s", n ? ", " : "", p->name);
		}
	}
	return nseen ? list : NULL;
}

/* m faulted once too often: left stopped, its clients down the ladder,
 * one line. */
void
recover_give_up(struct pb_module *m)
{
	const char *to = ladder_down(m);

	recover_hold(m);	/* its requests in flight go with them */
	m->busy++;
	wait_requests_out(m);
	unload_faulted(m);
	m->busy--;
	m->fault_pending = 0;
	m->state = MOD_FAILED;
	recover_replay(m);	/* every held connection falls back */
	log_event(LOG_ERROR, "%s: faulted %d times, not restarted (within "
	    "%llu ms): %s%s", m->name, m->faults,
	    (unsigned long long)(fault_window_ns / 1000000),
	    to ? "clients moved to " : "no provider below it for its clients",
	    to ? to : "");
}

/* Why m faulted, in a few words, for the recovery's line. */
static void
cause(const struct pb_module *m, char *buf, size_t cap)
{
	if (m->fault_vector == FAULT_WATCHDOG)
		rt_snprintf(buf, cap, "hung");
	else if (m->fault_vector == FAULT_ANSWER)
		rt_snprintf(buf, cap, "answered a block submit %lld",
		    (long long)m->fault_addr);
	else if (m->fault_vector == FAULT_ITEM)
		rt_snprintf(buf, cap, "wrote over its work item at %p",
		    (void *)(uintptr_t)m->fault_addr);
	else if (m->fault_vector == FAULT_CODE)
		rt_snprintf(buf, cap, "its code changed");
	else if (m->fault_vector == FAULT_SELF)
		rt_snprintf(buf, cap, "corrupt: called the hub as %p",
		    (void *)(uintptr_t)m->fault_addr);
	else
		rt_snprintf(buf, cap, "vector %d at 0x%llx", m->fault_vector,
		    (unsigned long long)m->fault_rip);
}

/*
 * m faulted at t0: stop it, restart it from its image, replay.  Logs the
 * cause and the time from the fault to its clients served again.
 */
void
recover_restart(struct pb_module *m, uint64_t t0)
{
	unsigned n, failed = shadow_failed;
	char why[48];
	int r;

	cause(m, why, sizeof(why));
	reissued = 0;
	/* A disk of a module it serves, withdrawn from here on because of
	 * the restart (its device found afresh), is parked (park.c). */
	m->recovery_at_ns = t0 ? t0 : 1;
	recover_hold(m);
	/* Busy until it is unloaded: a fault in the export (its code or
	 * state is what went wrong) is only no state, and the calls that
	 * stop it must not take it for a new fault to recover, inside this
	 * recovery (take_faulted defers what it finds, and finds it settled
	 * then). */
	m->busy++;
	if (m->fault_vector == FAULT_CODE && (m->desc.flags & PB_MOD_RESTATE))
		scrub_repair(m);	/* its export runs the code loaded */
	replay_save(m);		/* its state, if it survives a restart */
	wait_requests_out(m);
	unload_faulted(m);
	m->busy--;
	m->fault_pending = 0;
	log_event(LOG_MOD, "%s: restarting from its image", m->name);
	m->state = MOD_KNOWN;
	/* Its device is being reset (pci withdrew it at the fault): m binds
	 * to it when it is back, as at boot, its clients held meanwhile. */
	if (m->desc.nbinds && !hub_bind_match(m)) {
		log_event(LOG_MOD, "%s: waits for its device", m->name);
		recover_replay(m);
		return;
	}
	r = hub_start_module(m, NULL, 0);
	if (r != PB_OK && m->state != MOD_RUNNING)
		m->state = MOD_FAILED;
	n = recover_replay(m);
	if (r != PB_OK)
		return;		/* a nested restart said it, or it failed */
	m->recovered_ns = hub_now_ns() - t0;
	log_event(LOG_MOD, "%s: recovered in %llu us (%s), %u client%s "
	    "rebound, %u requests issued again, %u failed", m->name,
	    (unsigned long long)(m->recovered_ns / 1000), why, n,
	    n == 1 ? "" : "s", reissued, shadow_failed - failed);
}

/* m faulted in its swap's watch window: back to the provider it
 * replaced (swap.c), timed like a restart. */
void
recover_swap_back(struct pb_module *m, uint64_t t0)
{
	struct pb_module *old = m->swapped_from;
	unsigned n = 0;
	char why[48];

	cause(m, why, sizeof(why));
	swap_watch_fault(m);
	/* What m took over at the swap and held when it died goes back to
	 * the old provider (which handed all its own over). */
	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (conns[i].used && conns[i].res && conns[i].res->owner == old)
			n += shadow_replay(&conns[i]);
	m->recovered_ns = hub_now_ns() - t0;
	log_event(LOG_MOD, "%s: recovered in %llu us (%s), by its swap's "
	    "rollback, %u requests issued again", m->name,
	    (unsigned long long)(m->recovered_ns / 1000), why, n);
}

/*
 * A fault noted where it cannot be handled: inside an interrupt (the
 * handler's call ended, its EOI is sent by hub_irq_dispatch as always),
 * or while the module's code is still on the stack below.  The module is
 * not called meanwhile (mod_call refuses it), so its vectors are in
 * effect masked; the recovery runs as the hub's work, outside both.
 */
static void
recover_deferred(void *unused)
{
	(void)unused;
	mod_handle_faults();
}

void
recover_defer(void)
{
	static struct pb_work w;

	if (!w.fn)
		work_init(NULL, &w, recover_deferred, NULL);
	work_post(&w);
}
