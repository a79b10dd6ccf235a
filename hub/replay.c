/*
 * replay.c - what a restarted module's clients get back (recover.c does
 * the restart).
 *
 * Its resources: a driver publishes them when its device answers again
 * (ahci once a port has signature and IDENTIFY, fat once the volume is
 * mounted, usb-storage once the LUN is ready), not during its start.  A
 * connection held for the module waits for the resource of its name, and
 * is rebound when the new instance publishes it (replay_published, from
 * the hub's offer of new resources), its block requests in flight issued
 * again (shadow.c) and its client told PB_EV_REBOUND.  One that the
 * module has not published again within REPLAY_WAIT_NS falls back as
 * after a withdrawal.  Until then a call through it is answered PB_EBUSY.
 *
 * Its state: a module that declares PB_MOD_RESTATE says that what it
 * exports describes its clients' work only (open files, requests queued
 * by them), nothing of its own memory or device, so it holds after the
 * restart.  It is asked for it once it faulted, before its memory goes
 * (mod_export_faulted: a swap's export, the same guarded and watched
 * entry call as every other, its fault charged and handled as theirs; a
 * state it cannot give is none), and the new instance is
 * started in standby, given it (import_state checks it whole) and
 * activated, as the new side of a swap is.  Without it the module starts
 * afresh and its clients set up again on PB_EV_REBOUND.
 */
#include "hub.h"
#include "../abi/block.h"
#include "../abi/rt/rt.h"

#define REPLAY_WAIT_NS (5ull * 1000 * 1000 * 1000)
#define WAITS 32
#define STATE_MAX (4u << 20)	/* more is not a state, it is a bug */

static struct wait {
	struct conn *c;		/* NULL: free */
	struct pb_module *m;	/* the provider it waits for */
	char name[RES_NAME_MAX];
	char path[BLOCK_PATH_MAX];	/* a block device's path=, or "" */
	uint64_t until_ns;
} waits[WAITS];
static int wait_timer;		/* 0: none */

static struct saved {
	struct pb_module *m;	/* NULL: free */
	void *buf;
	size_t len;
	uint32_t ver;
} saved;

/* --- connections waiting for their resource ------------------------------ */

static long
held_busy(void)
{
	return PB_EBUSY;
}

/* What a held connection that is not gated or shadowed calls: PB_EBUSY
 * from every operation (no interface has more, abi/). */
static long (*const busy_ops[16])(void) = {
	held_busy, held_busy, held_busy, held_busy, held_busy, held_busy,
	held_busy, held_busy, held_busy, held_busy, held_busy, held_busy,
	held_busy, held_busy, held_busy, held_busy,
};

static int
waiting(const struct wait *w)
{
	return w->c && w->c->used && w->c->held && w->c->pub.res == w->name;
}

static void wait_expired(void *arg);
static void served_again(const struct pb_module *m);

static void
timer_for(uint64_t until)
{
	if (!wait_timer && (wait_timer = timer_add(NULL, until - hub_now_ns(),
	    wait_expired, NULL)) < 0)
		wait_timer = 0;
}

/* The waits whose time is up fall back; the timer again for the rest. */
static void
wait_expired(void *arg)
{
	uint64_t now = hub_now_ns(), next = 0;

	(void)arg;
	wait_timer = 0;
	for (unsigned i = 0; i < WAITS; i++) {
		struct wait *w = &waits[i];
		struct conn *c = w->c;

		if (!c)
			continue;
		if (!waiting(w)) {
			w->c = NULL;
		} else if (now >= w->until_ns) {
			w->c = NULL;
			c->held = 0;
			log_event(LOG_BIND, "%s: %s not back within %llu ms",
			    w->m->name, w->name, (unsigned long long)
			    (REPLAY_WAIT_NS / 1000000));
			conn_fall_back(c, w->name);
		} else if (!next || w->until_ns < next) {
			next = w->until_ns;
		}
	}
	if (next)
		timer_for(next);
}

/*
 * c was held for m, which runs again but has not published `name` (yet):
 * c stays held until it does.  0 when there is no room to wait (c falls
 * back at once, as before).
 */
int
replay_wait(struct conn *c, struct pb_module *m, const char *name,
    const char *path)
{
	struct wait *w = NULL;

	for (unsigned i = 0; i < WAITS && !w; i++)
		if (!waiting(&waits[i]))
			w = &waits[i];
	if (!w)
		return 0;
	w->c = c;
	w->m = m;
	rt_strlcpy(w->name, name, sizeof(w->name));
	rt_strlcpy(w->path, path, sizeof(w->path));
	w->until_ns = hub_now_ns() + REPLAY_WAIT_NS;
	c->held = 1;
	c->res = NULL;
	c->pub.res = w->name;
	/* A gated connection answers by itself while it leads nowhere, a
	 * shadowed one holds its requests; a plain one must not call the
	 * old instance's code. */
	if (c->pub.ctx != c && !shadow_wraps(&c->pub))
		c->pub.ops = busy_ops;
	timer_for(w->until_ns);
	return 1;
}

/* r was published (and is offered now): the connections waiting for it
 * go to it.  How many. */
unsigned
replay_published(struct pb_resource *r)
{
	unsigned n = 0, again;

	for (unsigned i = 0; i < WAITS; i++) {
		struct wait *w = &waits[i];
		struct conn *c = w->c;

		if (!c || !waiting(w) || w->m != r->owner || r->standby ||
		    (strcmp(w->name, r->name) != 0 &&
		    !res_same_disk(r, w->m, w->path)))
			continue;
		w->c = NULL;
		c->held = 0;
		conn_rebind(c, r);
		again = shadow_replay(c);
		conn_tell(c, PB_EV_REBOUND);
		log_event(LOG_BIND, "%s: %s back for %s, %u requests issued "
		    "again", r->owner->name, r->name, c->client ?
		    c->client->name : "?", again);
		n++;
	}
	if (n)
		served_again(r->owner);
	return n;
}

/* The last connection that waited for m is back: its recovery is over
 * for its clients only now (a disk comes back once its port is probed,
 * long after the restart that "recovered in" times). */
static void
served_again(const struct pb_module *m)
{
	for (unsigned i = 0; i < WAITS; i++)
		if (waiting(&waits[i]) && waits[i].m == m)
			return;
	if (m->recovery_at_ns)
		log_event(LOG_MOD, "%s: its clients served again %llu us after "
		    "its fault", m->name, (unsigned long long)
		    ((hub_now_ns() - m->recovery_at_ns) / 1000));
}

/* --- the state of a PB_MOD_RESTATE module -------------------------------- */

static void
forget(void)
{
	if (saved.buf)
		mem_free(NULL, saved.buf);
	memset(&saved, 0, sizeof(saved));
}

/* m faulted and is about to be unloaded: keep what it can still export,
 * when it says its state survives a restart. */
void
replay_save(struct pb_module *m)
{
	struct mod_op a = { .max = STATE_MAX };
	int r;

	if (!(m->desc.flags & PB_MOD_RESTATE) || !m->ops ||
	    !m->ops->export_state || !m->ops->import_state)
		return;
	forget();
	if ((r = mod_export_faulted(m, &a)) != PB_OK) {
		if (a.buf)
			mem_free(NULL, a.buf);
		log_event(LOG_ERROR, "%s: no state to restart with (%d, %llu "
		    "bytes)", m->name, r, (unsigned long long)a.len);
		return;
	}
	saved = (struct saved){ m, a.buf, a.len, a.ver };
}

/*
 * m's new instance faulted taking its state, which is then what the
 * fault damaged: as a swap's standby side, it was unloaded and left
 * failed (mod_handle_fault).  It starts again without the state, its
 * clients still held, unless that was its last fault in the window.
 */
static int
afresh(struct pb_module *m)
{
	if (m->state != MOD_FAILED || m->faults > 2)
		return PB_EFAULT;
	log_event(LOG_ERROR, "%s: faulted taking its state: started afresh "
	    "without it", m->name);
	return hub_start_module(m, NULL, 0);
}

/*
 * Start m with the state it gave at its fault: standby, import, activate,
 * its resources shown.  PB_ENOENT when there is none (m starts as
 * usual).  The state is used once: a new fault finds none of it.
 */
int
replay_start(struct pb_module *m)
{
	int r, imported;

	if (saved.m != m)
		return PB_ENOENT;
	if ((r = mod_start(m, PB_START_STANDBY)) != PB_OK) {
		forget();
		return r;
	}
	r = mod_op(m, MOD_OP_IMPORT, &(struct mod_op){ .buf = saved.buf,
	    .len = saved.len, .ver = saved.ver });
	log_event(r == PB_OK ? LOG_MOD : LOG_ERROR, "%s: its state of %llu "
	    "bytes given back (%d)", m->name, (unsigned long long)saved.len, r);
	if (r == PB_EFAULT) {
		forget();
		return afresh(m);
	}
	/* Its requests are the new instance's from the import on: the
	 * replay of a resource it publishes as it activates must not issue
	 * them again. */
	if ((imported = r == PB_OK))
		shadow_state_taken(saved.buf, saved.len, 1);
	if ((r = mod_activate(m)) != PB_OK) {
		if (imported)	/* they go out again, to the fresh start */
			shadow_state_taken(saved.buf, saved.len, 0);
		forget();
		if (r == PB_EFAULT)
			return afresh(m);
		/* It cannot serve what the state described (a disk gone
		 * meanwhile): afresh, without it. */
		log_event(LOG_ERROR, "%s: cannot activate with its state (%d): "
		    "started afresh", m->name, r);
		mod_stop(m);
		if ((r = res_connect_requirements(m, 1)) != PB_OK)
			return r;
		hub_bind_connect(m);
		return mod_start(m, PB_START_NORMAL);
	}
	forget();
	for (unsigned i = 0; i < MAX_RESOURCES; i++)
		if (resources[i].used && resources[i].owner == m &&
		    resources[i].standby) {
			resources[i].standby = 0;
			replay_published(&resources[i]);
		}
	res_offer_module(m);
	return PB_OK;
}
