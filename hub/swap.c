/*
 * swap.c - the swap engine: replace provider P by P' under its clients.
 *
 * The six steps of DESIGN.md, each between two work items:
 *   1. load P' and start it in standby (it touches no hardware);
 *   2. P quiesces; while it answers PB_EAGAIN (requests in flight) the
 *      hub runs the event loop, P's interrupts and work included, and
 *      asks again, up to swap_drain_ns; from its PB_OK on, P's
 *      interrupts are held back;
 *   3. P exports its state (into hub memory sized before step 2) and
 *      lets go of the hardware;
 *   4. P' imports the state and takes the hardware;
 *   5. every connection to P's resources moves to P''s, clients are told;
 *   6. P stays quiesced for a watch window, then is stopped and unloaded.
 * A failure at any step undoes the earlier ones: P resumes, P' is unloaded,
 * and no client sees anything.  The blackout, logged with each swap, runs
 * from the quiesce of P to the end of the rebind: steps 2-4 are one call
 * (swap_provider) or, over the takeover, one call into P and one into P'.
 *
 * The boot's takeover uses the same steps split in two (swap_begin before
 * ExitBootServices, swap_finish after): P is then a firmware-backed module
 * that cannot resume, so a failure after the exit disconnects its clients.
 */
#include "hub.h"
#include "swap.h"
#include "match.h"
#include "../abi/rt/rt.h"

uint64_t swap_watch_ns = 2000000000ull;	/* the watch window */
uint64_t swap_drain_ns = 1000000000ull;	/* boot.cfg swap-drain=MS */
struct swap_stats swap_stats;

/*
 * The entry points a swap calls, as steps (mod_steps): one call into a
 * module runs several in order and stops at the first that does not
 * answer PB_OK; P''s steps follow P's in the same call (`next`).
 */
enum { STEP_QUIESCE = MOD_STEP(MOD_OP_QUIESCE),
    STEP_EXPORT = MOD_STEP(MOD_OP_EXPORT),
    STEP_RELEASE = MOD_STEP(MOD_OP_RELEASE),
    STEP_IMPORT = MOD_STEP(MOD_OP_IMPORT),
    STEP_ACTIVATE = MOD_STEP(MOD_OP_ACTIVATE),
    STEP_RESUME = MOD_STEP(MOD_OP_RESUME) };

/* Is r m's, and of one of the swapped interfaces (NULL: all)? */
static int
owns_iface(const struct pb_module *m, const struct pb_resource *r,
    const char *ifaces)
{
	return r->used && r->owner == m &&
	    (!ifaces || list_has(ifaces, r->iface.iface));
}

/* r's identity: its path= property ("" when it has none). */
static const char *
path_of(const struct pb_resource *r, char *buf)
{
	if (!props_get(r->props, "path", buf, RES_PROPS_MAX))
		buf[0] = '\0';
	return buf;
}

/*
 * The resource of `to` that takes r's place: the one of r's interface
 * with r's path= (pci:00:1f.2/sata:0), so that each client stays on its
 * own device whatever order the new provider found them in.  Resources
 * without a path pair by order among those without one.
 */
static struct pb_resource *
counterpart(const struct pb_module *to, const struct pb_resource *r)
{
	static char want[RES_PROPS_MAX], have[RES_PROPS_MAX];
	const char *iface = r->iface.iface;
	unsigned k = 0;

	path_of(r, want);
	if (!want[0])
		for (const struct pb_resource *q = resources; q < r; q++)
			k += owns_iface(r->owner, q, iface) && !*path_of(q, have);
	for (unsigned i = 0; i < MAX_RESOURCES; i++) {
		struct pb_resource *q = &resources[i];

		if (owns_iface(to, q, iface) &&
		    strcmp(path_of(q, have), want) == 0 && (want[0] || k-- == 0))
			return q;
	}
	return NULL;
}

/*
 * What check_counterparts found last, for the swap whose `record` it
 * carries: old's resources with their counterparts, new's resources, and
 * the connections that move (indices).  While res_changes says that no
 * resource or connection changed since, it stands: the check in the
 * blackout is a comparison, and the rebind moves the connections listed
 * instead of searching every table.
 */
static struct {
	unsigned serial, changes;
	unsigned npairs, nfresh, nmoves;
	uint8_t from[MAX_RESOURCES], to[MAX_RESOURCES];
	uint8_t fresh[MAX_RESOURCES];
	uint8_t conn[MAX_CONNS], conn_to[MAX_CONNS];
} made;
static unsigned made_serial;
_Static_assert(MAX_RESOURCES <= 256 && MAX_CONNS <= 256, "byte indices");

/* The counterpart `made` holds for r, one of old's. */
static unsigned
made_pair(const struct pb_resource *r)
{
	unsigned i = 0;

	while (&resources[made.from[i]] != r)
		i++;
	return made.to[i];
}

/* Pair old's resources (of iface) with new's; the first left without a
 * counterpart, NULL when none is. */
static const struct pb_resource *
pair_all(const struct swap *s)
{
	made.npairs = made.nfresh = 0;
	for (unsigned i = 0; i < MAX_RESOURCES; i++) {
		const struct pb_resource *r = &resources[i], *to;

		if (r->used && r->owner == s->new)
			made.fresh[made.nfresh++] = (uint8_t)i;
		if (!owns_iface(s->old, r, s->iface))
			continue;
		if (!(to = counterpart(s->new, r)))
			return r;
		made.from[made.npairs] = (uint8_t)i;
		made.to[made.npairs++] = (uint8_t)(to - resources);
	}
	return NULL;
}

/* Is c a connection to one of the swapped resources of old? */
static int
moves(const struct swap *s, const struct conn *c)
{
	return c->used && c->res && owns_iface(s->old, c->res, s->iface);
}

/* Do the connections listed still lead to old's resources (a provider's
 * restart holds them with no resource, recover.c)? */
static int
moves_stand(const struct swap *s)
{
	for (unsigned i = 0; i < made.nmoves; i++)
		if (!moves(s, &conns[made.conn[i]]))
			return 0;
	return 1;
}

/* Every resource of old (of iface) must have a counterpart in new, able
 * to serve each of its clients. */
static int
check_counterparts(struct swap *s, char *err, size_t cap)
{
	static char path[RES_PROPS_MAX];
	const struct pb_resource *r;

	if (s->record && s->record == made.serial &&
	    made.changes == res_changes && moves_stand(s))
		return PB_OK;
	made.serial = 0;
	made.nmoves = 0;
	if ((r = pair_all(s))) {
		rt_snprintf(err, cap, "%s publishes no %s%s%s to take over %s",
		    s->new->name, r->iface.iface, *path_of(r, path) ?
		    " with path=" : "", path, r->name);
		return PB_ENOENT;
	}
	for (unsigned k = 0; k < MAX_CONNS; k++) {
		const struct conn *c = &conns[k];
		const struct pb_resource *to;
		const struct pb_require *q;

		if (!moves(s, c))
			continue;
		to = &resources[made_pair(c->res)];
		made.conn[made.nmoves] = (uint8_t)k;
		made.conn_to[made.nmoves++] = (uint8_t)(to - resources);
		if (c->req < 0 || !c->client)
			continue;
		q = &c->client->desc.requires[c->req];
		if (res_serves(to, q->iface, q->major, q->minor))
			continue;
		rt_snprintf(err, cap, "%s cannot serve %s (%s %u.%u)", to->name,
		    c->client->name, q->iface, q->major, q->minor);
		return PB_ENOTSUP;
	}
	made.serial = s->record = ++made_serial;
	made.changes = res_changes;
	return PB_OK;
}

/* Hub memory for P's state, of at least `len` bytes and a page more:
 * room for a state that grows while P quiesces. */
static int
state_buffer(struct swap *s, size_t len)
{
	size_t pages = len / 4096 + 1;

	if (s->buf)
		mem_free(NULL, s->buf);
	s->buf = mem_alloc(NULL, pages, 0, MEM_KIND_HEAP);
	s->cap = s->buf ? pages * 4096 : 0;
	return s->buf ? PB_OK : PB_ENOMEM;
}

/* Before the blackout: P's state size, and the buffer it goes into. */
static int
size_state(struct swap *s, char *err, size_t cap)
{
	struct mod_op a = { 0 };
	int r;

	if ((r = mod_steps(s->old, STEP_EXPORT, &a)) == PB_OK &&
	    (r = state_buffer(s, a.len)) == PB_OK)
		return PB_OK;
	rt_snprintf(err, cap, "%s cannot export its state (%d)", s->old->name,
	    r);
	return r;
}

/* The P of the swap still the one it started with (not faulted and
 * restarted while the hub waited for it)? */
static int
old_intact(const struct swap *s)
{
	return s->old->generation == s->old_gen;
}

/*
 * Step 2 when P answered PB_EAGAIN (requests in flight): its interrupts
 * run while it drains (they carry its completions) and are held again
 * from its PB_OK on.
 */
static int
drain_old(struct swap *s, char *err, size_t cap)
{
	uint64_t deadline = hub_now_ns() + swap_drain_ns;
	struct mod_op a = { 0 };
	int r = PB_EAGAIN;

	s->draining = 1;
	irq_hold_module(s->old, 0);
	while (r == PB_EAGAIN) {
		if (hub_now_ns() >= deadline) {
			rt_snprintf(err, cap, "%s did not drain in %llu ms",
			    s->old->name,
			    (unsigned long long)(swap_drain_ns / 1000000));
			return PB_ETIMEDOUT;
		}
		hub_wait_step(deadline);
		if (!old_intact(s) || s->old->state != MOD_RUNNING ||
		    s->new->state != MOD_STANDBY) {
			rt_snprintf(err, cap, "%s failed while %s drained",
			    old_intact(s) && s->old->state == MOD_RUNNING ?
			    s->new->name : s->old->name, s->old->name);
			return PB_EFAULT;
		}
		r = mod_steps(s->old, STEP_QUIESCE, &a);
	}
	if (r != PB_OK) {
		rt_snprintf(err, cap, "%s refused to quiesce (%d)", s->old->name,
		    r);
		return r;
	}
	irq_hold_module(s->old, 1);
	/* A provider that drains keeps its clients served meanwhile (it
	 * queues, or serves as efi-console does while the firmware's
	 * terminal settles): the blackout begins when it stops. */
	s->drain_ns = hub_now_ns() - s->t0_ns;
	s->t0 = arch_cycles();
	s->t0_ns = hub_now_ns();
	/* While P drained, either side may have published more (a disk
	 * probed): every resource must still have its counterpart. */
	return check_counterparts(s, err, cap);
}

/* What a failed step of P's says. */
static void
old_failed(const struct swap *s, const struct mod_op *a, int r, char *err,
    size_t cap)
{
	if (a->overran)
		rt_snprintf(err, cap, "%s exported %llu bytes into %llu",
		    s->old->name, (unsigned long long)a->len,
		    (unsigned long long)a->cap);
	else if (a->at == STEP_QUIESCE)
		rt_snprintf(err, cap, "%s refused to quiesce (%d)", s->old->name,
		    r);
	else if (a->at == STEP_EXPORT)
		rt_snprintf(err, cap, "%s cannot export its state (%d)",
		    s->old->name, r);
	else
		rt_snprintf(err, cap, "%s cannot release the hardware (%d)",
		    s->old->name, r);
}

/* What a failed step of P''s says. */
static void
new_failed(const struct swap *s, unsigned at, int r, char *err, size_t cap)
{
	rt_snprintf(err, cap, at == STEP_IMPORT ? "%s cannot import the state "
	    "(%d)" : "%s cannot take the hardware (%d)", s->new->name, r);
}

#define OLD_STEPS (STEP_QUIESCE | STEP_EXPORT | STEP_RELEASE)
#define NEW_STEPS (STEP_IMPORT | STEP_ACTIVATE)

/*
 * Steps 2-3, and 4 with s->flip, in one call when P has nothing in
 * flight: P quiesces, exports its state into the buffer made before the
 * blackout and lets go of the hardware; P' imports the state and takes
 * the hardware.  P's interrupts are held from before the call: one that
 * comes while it quiesces waits, and is delivered if it answers
 * PB_EAGAIN after all.  `steps` leaves out what P did already (a second
 * swap of a takeover's provider only exports).
 */
static int
hand_over(struct swap *s, unsigned steps, char *err, size_t cap)
{
	struct mod_op a = { .buf = s->buf, .cap = s->cap,
	    .next = steps & NEW_STEPS ? s->new : NULL };
	int r;

	irq_hold_module(s->old, 1);
	r = mod_steps(s->old, steps, &a);
	if (r == PB_EAGAIN && a.at == STEP_QUIESCE) {
		if ((r = drain_old(s, err, cap)) != PB_OK)
			return r;
		r = mod_steps(s->old, a.steps & ~STEP_QUIESCE, &a);
	}
	/* Past its quiesce P is quiesced, to be resumed if a later step
	 * fails (unless a fault made it a new instance). */
	if (a.at != STEP_QUIESCE && old_intact(s))
		s->old->state = MOD_QUIESCED;
	/* The state grew past its buffer while P quiesced: a bigger one,
	 * and the rest again. */
	if (r != PB_OK && r != PB_EFAULT && a.at == STEP_EXPORT &&
	    !a.overran && a.len > a.cap) {
		if ((r = state_buffer(s, a.len)) != PB_OK)
			goto failed;
		a.buf = s->buf;
		a.cap = s->cap;
		r = mod_steps(s->old, a.steps & ~STEP_QUIESCE, &a);
	}
	if (!(a.steps & OLD_STEPS)) {
		s->len = a.len;
		s->ver = a.ver;
	}
	s->imported = (steps & NEW_STEPS) && !(a.steps & NEW_STEPS);
	if (r == PB_OK)
		return PB_OK;
failed:
	if (a.at & NEW_STEPS)
		new_failed(s, a.at, r, err, cap);
	else
		old_failed(s, &a, r, err, cap);
	return r;
}

/*
 * A driver bound to a device that takes one client (a pci function) is
 * replaced by one whose bind rules match it too (a newer build of
 * itself): the new one gets the device inside the swap, before its
 * standby start, despite the limit.  Both connections are marked: neither
 * side's going silences a device the other drives.  At the rebind the old
 * one's is closed (hand_over_done); if the swap fails, the new one's goes
 * with it (swap_abort).
 */
static void
hand_over_devices(struct swap *s)
{
	for (unsigned i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &conns[i], *n;

		if (!c->used || c->client != s->old || c->req != PB_REQ_BIND ||
		    !hub_binds(s->new, c->res))
			continue;
		if (conn_count(s->new, PB_REQ_BIND))
			return;		/* one device per driver */
		if ((n = conn_open_any(s->new, c->res, PB_REQ_BIND)))
			n->handover = c->handover = 1;
		return;
	}
}

/* The handover is over: the new side keeps its device as any client; the
 * old side lets go of it (if it comes back after a fault of the new one,
 * it connects to the same device again: bind_res). */
static void
hand_over_done(struct swap *s, int done)
{
	for (unsigned i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &conns[i];

		if (!c->used || !c->handover)
			continue;
		c->handover = 0;
		if (done && c->client == s->old) {
			s->old->bind_res = c->res;
			conn_tell(c, PB_EV_DISCONNECTED);
			conn_close(c);
		}
	}
}

/* Step 1 alone: P' started in standby, P untouched.  On failure P' is
 * gone again and err says why. */
int
swap_prepare(struct swap *s, char *err, size_t cap)
{
	int r;

	s->old_gen = s->old->generation;
	if (!s->old->ops->export_state || !s->old->ops->quiesce) {
		rt_snprintf(err, cap, "%s cannot be swapped out (no export_state)",
		    s->old->name);
		return PB_ENOTSUP;
	}
	if (s->new->state != MOD_LOADED && (r = mod_load(s->new)) != PB_OK) {
		rt_snprintf(err, cap, "%s cannot be loaded (%d)", s->new->name, r);
		return r;
	}
	if ((r = res_connect_requirements(s->new, 1)) == PB_OK) {
		hand_over_devices(s);
		hub_bind_connect(s->new);	/* the device it drives */
		r = mod_start(s->new, PB_START_STANDBY);
	}
	if (r != PB_OK) {
		rt_snprintf(err, cap, "%s cannot start in standby (%d)", s->new->name, r);
		goto unload_new;
	}
	if ((r = check_counterparts(s, err, cap)) != PB_OK)
		goto unload_new;
	s->prepared = 1;
	return PB_OK;
unload_new:
	res_drop_module(s->new);	/* requirements connected before */
	mod_unload(s->new);
	return r;
}

/* Steps 1-3 (2-3 after swap_prepare).  On failure everything is undone
 * and err says why. */
int
swap_begin(struct swap *s, char *err, size_t cap)
{
	int r;

	if (!s->prepared && (r = swap_prepare(s, err, cap)) != PB_OK)
		return r;
	if ((r = size_state(s, err, cap)) != PB_OK)
		goto abort;
	s->t0 = arch_cycles();
	s->t0_ns = hub_now_ns();
	if ((r = hand_over(s, (s->old->state == MOD_QUIESCED ? STEP_EXPORT :
	    OLD_STEPS) | (s->flip ? NEW_STEPS : 0), err, cap)) == PB_OK)
		return PB_OK;
abort:
	swap_abort(s);
	return r ? r : PB_EIO;
}

/* Step 5: every client of m hears that it has to set things up again. */
static void
tell_rebound(struct pb_module *m)
{
	for (unsigned k = 0; k < MAX_CONNS; k++) {
		struct conn *c = &conns[k];

		if (c->used && c->res && c->res->owner == m)
			conn_tell(c, PB_EV_REBOUND);
	}
}

/* P takes its work again (a swap failed, or P' failed in its window),
 * its interrupts first; its clients hear that they have to set things
 * up again when it says it lost its state, or when `rebound`. */
static void
resume_old(struct pb_module *m, int rebound)
{
	struct mod_op a = { 0 };
	int r = mod_steps(m, STEP_RESUME, &a);

	if (r < PB_OK)
		log_event(LOG_ERROR, "%s: resume failed (%d)", m->name, r);
	m->state = MOD_RUNNING;
	irq_hold_module(m, 0);
	if (rebound || r == PB_RESUMED_LOST)
		tell_rebound(m);
}

/* The device m is bound to (its PB_REQ_BIND connection), or NULL. */
static struct pb_resource *
bound_device(const struct pb_module *m)
{
	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (conns[i].used && conns[i].client == m &&
		    conns[i].req == PB_REQ_BIND)
			return conns[i].res;
	return NULL;
}

/* Undo steps 1-3 (or 1-4): P resumes, P' goes. */
void
swap_abort(struct swap *s)
{
	struct mod_op a = { 0 };
	int running = s->new->state != MOD_UNLOADED &&
	    s->new->state != MOD_KNOWN;
	struct pb_resource *dev = running ? bound_device(s->new) : NULL;

	/* P' lets go first (abi/pb.h: P'.stop(); P.resume()): two drivers
	 * must never drive one device.  A P' that took the state (imported
	 * and activated) is released first: what it took is P's again, and
	 * its stop completes none of it, or P's resume would complete it a
	 * second time. */
	if (running && s->imported)
		(void)mod_steps(s->new, STEP_RELEASE, &a);
	if (running)
		mod_unload(s->new);
	s->new->state = MOD_KNOWN;
	hand_over_done(s, 0);
	/* P stopped taking work once it was asked (PB_EAGAIN included),
	 * unless it faulted meanwhile and is a new instance now. */
	if ((s->old->state == MOD_QUIESCED || s->draining) && old_intact(s))
		resume_old(s->old, 0);
	else
		irq_hold_module(s->old, 0);
	if (s->buf)
		mem_free(NULL, s->buf);
	s->buf = NULL;
	/* P faulted while it drained and, restarted, waits for its device
	 * (recover.c), which P' held for the handover: free now, it is P's
	 * again, as a device back from a reset is. */
	if (dev && dev->used && s->old->state == MOD_KNOWN &&
	    s->old->desc.nbinds && hub_binds(s->old, dev) && !res_full(dev))
		hub_bind_start(s->old, dev);
}

/*
 * A module replaced by another build of itself (update) keeps its
 * resources' names: the new instance published beside the old one under
 * names of its own (block:sata0-2), and takes the old names over here,
 * so `disks` and scripts see block:sata0 before and after.
 */
static void
swap_names(struct pb_resource *a, struct pb_resource *b)
{
	char name[RES_NAME_MAX];

	rt_strlcpy(name, a->name, sizeof(name));
	rt_strlcpy(a->name, b->name, sizeof(a->name));
	rt_strlcpy(b->name, name, sizeof(b->name));
}

/* Step 5: move every connection of old's resources to new's, as
 * check_counterparts found them just before. */
static void
rebind_all(struct swap *s)
{
	for (unsigned i = 0; i < made.nmoves; i++)
		conn_rebind(&conns[made.conn[i]], &resources[made.conn_to[i]]);
	/* New's resources become visible, old's are kept for the watch
	 * window. */
	for (unsigned i = 0; i < made.nfresh; i++)
		resources[made.fresh[i]].standby = 0;
	for (unsigned i = 0; i < made.npairs; i++) {
		struct pb_resource *r = &resources[made.from[i]];

		if (strcmp(s->old->name, s->new->name) == 0)
			swap_names(r, &resources[made.to[i]]);
		r->standby = 1;
	}
	made.serial = 0;	/* the connections moved */
}

/* m's watch window ends before its time (m is swapped out or faulted):
 * its timer goes too, or swaps in quick succession would fill the timer
 * table with windows that are over. */
static void
end_window(struct pb_module *m)
{
	m->swapped_from = NULL;
	if (m->watch_timer)
		timer_cancel(NULL, m->watch_timer);
	m->watch_timer = 0;
}

/* The provider `new` replaced is let go: unloaded, and an older instance
 * of the same module is done for good. */
static void
retire(struct pb_module *old, const struct pb_module *new)
{
	old->bind_res = NULL;
	if (old->state == MOD_QUIESCED)
		mod_unload(old);
	if (old->state == MOD_UNLOADED && strcmp(old->name, new->name) == 0)
		old->state = MOD_REPLACED;
}

static void
watch_expired(void *arg)
{
	struct pb_module *new = arg;
	struct pb_module *old = new->swapped_from;

	new->watch_timer = 0;
	if (!old || hub_now_ns() < new->watch_until_ns)
		return;
	new->swapped_from = NULL;
	retire(old, new);
}

/*
 * P's state once more, into a buffer of its own: on success it replaces
 * the first export, else that one stands (one line says so).  For the
 * takeover, whose old providers export before the exit and can read what
 * the firmware held last only after it (efi/firmware.c, the late keys).
 */
static void
export_again(struct swap *s)
{
	struct mod_op a = { .cap = s->cap };
	int r;

	if (!s->buf || !(a.buf = mem_alloc(NULL, s->cap / 4096, 0,
	    MEM_KIND_HEAP)))
		return;
	r = mod_steps(s->old, STEP_EXPORT, &a);
	if (r != PB_OK || a.overran || a.len > a.cap) {
		log_event(LOG_ERROR, "%s: its state again after the exit: %d; "
		    "the first export stands", s->old->name, r);
		mem_free(NULL, a.buf);
		return;
	}
	mem_free(NULL, s->buf);
	s->buf = a.buf;
	s->len = a.len;
	s->ver = a.ver;
}

/*
 * Steps 4-5: P' imports and takes the hardware, and P's clients are
 * rebound to it.  The blackout ends here; everything else waits for
 * swap_settle, so that a takeover can end all its blackouts before it
 * settles any of them.
 */
int
swap_serve(struct swap *s, char *err, size_t cap)
{
	struct mod_op a;
	int r;

	if (s->export_again && !s->imported)
		export_again(s);
	a = (struct mod_op){ .buf = s->buf, .len = s->len, .ver = s->ver };
	if (!s->imported &&
	    (r = mod_steps(s->new, STEP_IMPORT | STEP_ACTIVATE, &a)) != PB_OK) {
		new_failed(s, a.at, r, err, cap);
		goto abort;
	}
	s->imported = 1;
	/* P' may have withdrawn or renamed resources since swap_begin
	 * matched them (an import that changed its mind): match again. */
	if ((r = check_counterparts(s, err, cap)) != PB_OK)
		goto abort;
	s->new->state = MOD_RUNNING;
	rebind_all(s);
	s->blackout_cycles = arch_cycles() - s->t0;
	s->blackout_ns = hub_now_ns() - s->t0_ns;
	return PB_OK;
abort:
	swap_abort(s);
	return r;
}

/* After the blackout (step 5's rest, and 6): the clients hear of P', P'
 * takes what it could not in standby, the swap is logged, and P waits,
 * quiesced, for the watch window. */
void
swap_settle(struct swap *s)
{
	char drained[40];
	int r;

	hand_over_done(s, 1);
	irq_hold_module(s->old, 0);
	tell_rebound(s->new);
	/* What P' takes whenever it comes (irq for a driver that polls till
	 * then) was not connected by the standby start. */
	res_connect_requirements(s->new, 0);
	if (s->buf)
		mem_free(NULL, s->buf);
	s->buf = NULL;
	swap_stats.count++;
	s->new->swap_at_ns = s->t0_ns;		/* the boot chart's swap */
	s->new->swap_took_ns = s->blackout_ns;
	swap_stats.last_ns = s->blackout_ns;
	if (s->blackout_ns > swap_stats.worst_ns)
		swap_stats.worst_ns = s->blackout_ns;
	drained[0] = '\0';
	if (s->drain_ns)
		rt_snprintf(drained, sizeof(drained), ", after draining %llu us",
		    (unsigned long long)(s->drain_ns / 1000));
	log_event(LOG_SWAP, "%s -> %s%s%s: blackout %llu us, state %u bytes%s",
	    s->old->name, s->new->name, s->iface ? " for " : "",
	    s->iface ? s->iface : "", (unsigned long long)(s->blackout_ns / 1000),
	    (unsigned)s->len, drained);
	/* P's own predecessor waited out P's watch window: P is replaced
	 * now, so there is nothing to go back to (updates in quick
	 * succession would keep every instance, and its names). */
	if (s->old->swapped_from) {
		struct pb_module *before = s->old->swapped_from;

		end_window(s->old);
		retire(before, s->old);
	}
	s->new->swapped_from = s->old;
	s->new->watch_until_ns = hub_now_ns() + swap_watch_ns;
	res_offer_module(s->new);
	if ((r = timer_add(NULL, swap_watch_ns, watch_expired, s->new)) < 0)
		watch_expired(s->new);
	else
		s->new->watch_timer = r;
}

/* Steps 4-6. */
int
swap_finish(struct swap *s, char *err, size_t cap)
{
	int r = swap_serve(s, err, cap);

	if (r == PB_OK)
		swap_settle(s);
	return r;
}

/*
 * A swap quiesces the whole of old: refuse to swap one interface while old
 * serves another to clients, who would be left with a quiesced provider.
 */
static int
other_clients(const struct pb_module *old, const char *iface, char *err,
    size_t cap)
{
	for (unsigned i = 0; i < MAX_RESOURCES; i++) {
		const struct pb_resource *r = &resources[i];

		if (!r->used || r->owner != old || list_has(iface, r->iface.iface) ||
		    !res_clients(r))
			continue;
		rt_snprintf(err, cap, "%s also serves %s to %u clients; it can "
		    "only be swapped whole", old->name, r->name, res_clients(r));
		return PB_EBUSY;
	}
	return PB_OK;
}

int
swap_provider(struct pb_module *old, struct pb_module *new, const char *iface,
    char *err, size_t cap)
{
	static int under_way;	/* the loop runs while a provider drains */
	struct swap s = { .old = old, .new = new, .iface = iface, .flip = 1 };
	int r;

	if (old == new || old->state != MOD_RUNNING) {
		rt_snprintf(err, cap, "%s is not a running provider", old->name);
		return PB_EINVAL;
	}
	if (under_way) {
		rt_snprintf(err, cap, "another swap is under way");
		return PB_EBUSY;
	}
	if (iface && (r = other_clients(old, iface, err, cap)) != PB_OK)
		return r;
	/* Before the takeover the firmware still drives the devices: two
	 * drivers must never drive one (its serial terminal would steal the
	 * bytes a native serial driver waits for). */
	if (!hub_native && (new->desc.flags & PB_MOD_HARDWARE)) {
		rt_snprintf(err, cap, "%s drives hardware the firmware still "
		    "owns; it can take over after the takeover", new->name);
		return PB_EBUSY;
	}
	/* A provider still in a watch window is replaced by a fresh copy. */
	for (unsigned i = 0; i < nmodules; i++)
		if (modules[i].swapped_from == new) {
			end_window(&modules[i]);
			mod_unload(new);
		}
	if (new->state == MOD_UNLOADED || new->state == MOD_FAILED)
		new->state = MOD_KNOWN;
	under_way = 1;
	if ((r = swap_begin(&s, err, cap)) == PB_OK)
		r = swap_finish(&s, err, cap);
	under_way = 0;
	return r;
}

/* P' faulted inside its watch window: give the clients P back.  P' goes
 * first (its device silenced), then P gets its device again, if it had
 * handed it over, and resumes. */
void
swap_watch_fault(struct pb_module *new)
{
	struct pb_module *old = new->swapped_from;

	end_window(new);
	log_event(LOG_SWAP, "%s faulted in its watch window: back to %s",
	    new->name, old->name);
	for (unsigned i = 0; i < MAX_RESOURCES; i++) {
		struct pb_resource *r = &resources[i], *to;

		if (!r->used || r->owner != new)
			continue;
		if (!(to = counterpart(old, r)))
			continue;
		to->standby = 0;
		if (strcmp(old->name, new->name) == 0)
			swap_names(r, to);	/* the names go back too */
		for (unsigned k = 0; k < MAX_CONNS; k++)
			if (conns[k].used && conns[k].res == r)
				conn_rebind(&conns[k], to);
	}
	mod_unload(new);
	new->fault_pending = 0;
	new->state = MOD_FAILED;
	if (old->bind_res)
		hub_bind_connect(old);
	resume_old(old, 1);
}
