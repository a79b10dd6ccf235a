/*
 * state.c - the swap (`update nvme PATH`): what the old driver hands over
 * and how the new one takes the controller without losing a request.
 *
 * The state is abi/block.h's struct block_state (every namespace by
 * path, its requests not completed, oldest first), followed by our own
 * tail: the Identify Controller results, the interrupt the old side
 * leaves programmed, and each namespace's geometry, so that the new side
 * sends no Identify.  A provider that knows only the block_state part
 * reads past nothing it needs; a state without the tail (efi-block's)
 * makes activate identify everything afresh, the handed-over requests
 * waiting in the queue meanwhile.
 *
 * Exactly once (docs/abi.md, a block provider's swap entries): export
 * hands the listed requests over: the old driver keeps them aside (held),
 * neither serves nor completes them, and takes them all back at resume.
 * The new driver takes them at activate, after its last step that can
 * fail, as if they had been submitted to it (from their first block: a
 * request partly done when the drain ran out is issued whole again;
 * reads, writes and flushes are safe to repeat).
 *
 * The controller: quiesce answers PB_EAGAIN while a command is on the
 * device or a bring-up step runs (each is bounded); release leaves the
 * controller enabled and its interrupt message programmed; activate
 * resets it with the new side's own queues (CC.EN=0, ctrl.c), so nothing
 * of the old side's memory is used after, and adopts the vector.
 */
#include "nvme.h"

#define NVME_STATE_MAGIC 0x31454d56u	/* "VME1": the tail */

struct nvme_state_tail {
	uint32_t magic;
	uint32_t nns;
	uint32_t geom_size;		/* sizeof(struct nvme_geom) */
	uint32_t ident_size;		/* sizeof(struct nvme_ident) */
	uint32_t vector;		/* the old side's vector + 1, 0: none */
	uint32_t irq_kind;		/* enum irq_kind of that vector */
	struct nvme_ident id;
	uint32_t reserved;		/* the geometry 8-byte aligned */
	/* followed by nns struct nvme_geom */
};
/* The tail passes between builds of the module: its layout is fixed. */
_Static_assert(sizeof(struct nvme_geom) == 24, "nvme_geom layout");
_Static_assert(sizeof(struct nvme_ident) == 92, "nvme_ident layout");
_Static_assert(sizeof(struct nvme_state_tail) == 24 + 92 + 4,
    "state tail layout");

/* --- export ------------------------------------------------------------- */

/* Room for n requests in c->held (kept for the next swap): made when
 * quiesce answers PB_OK, so that export allocates nothing. */
static int
held_reserve(struct nvme *c, uint32_t n)
{
	if (n <= c->held_cap)
		return PB_OK;
	if (c->held)
		c->hub->free(c->self, c->held);
	c->held_cap = 0;
	if (!(c->held = c->hub->alloc(c->self, (n ? n : 1) *
	    sizeof(*c->held))))
		return PB_ENOMEM;
	c->held_cap = n;
	return PB_OK;
}

/* The namespace's requests not completed, oldest first (out NULL:
 * counted only): those wholly on the device (a drain that ran out),
 * then the queue. */
static unsigned
ns_requests(struct nvme *c, const struct nvme_ns *ns, struct block_req **out)
{
	unsigned n = 0;

	for (unsigned s = 0; s < NVME_SLOTS; s++) {
		struct block_req *r = c->slot[s].r;
		unsigned k, dup = 0;

		if (!r || rq_of(r)->ns != ns || rq_of(r)->state != RQ_ISSUED)
			continue;
		for (unsigned t = 0; t < s; t++)
			dup |= c->slot[t].r == r;
		if (dup)
			continue;
		if (out) {
			for (k = n; k > 0 && (int32_t)(rq_of(out[k - 1])->seq -
			    rq_of(r)->seq) > 0; k--)
				out[k] = out[k - 1];
			out[k] = r;
		}
		n++;
	}
	for (struct block_req *r = c->head; r; r = rq_of(r)->next)
		if (rq_of(r)->ns == ns) {
			if (out)
				out[n] = r;
			n++;
		}
	return n;
}

static void
count(struct nvme *c, uint32_t *ndisks, uint32_t *nreq, uint32_t *nknown)
{
	*ndisks = *nreq = *nknown = 0;
	for (unsigned i = 0; i < c->nns; i++) {
		if (!c->ns[i].res)
			continue;
		(*ndisks)++;
		*nreq += ns_requests(c, &c->ns[i], NULL);
		*nknown += ns_known(&c->ns[i]);
	}
}

/* The tail only when every published namespace is known: the new side
 * then sends no Identify at all. */
static size_t
size_of_state(uint32_t ndisks, uint32_t nreq, uint32_t nknown, int tail)
{
	return rt_block_state_size(ndisks, nreq) + (tail ? sizeof(struct nvme_state_tail)
	    + nknown * sizeof(struct nvme_geom) : 0);
}

static int
tail_wanted(const struct nvme *c, uint32_t ndisks, uint32_t nknown)
{
	return ndisks && nknown == ndisks && ident_sane(&c->id);
}

int
state_size(struct nvme *c, size_t *len)
{
	uint32_t ndisks, nreq, nknown;

	count(c, &ndisks, &nreq, &nknown);
	*len = size_of_state(ndisks, nreq, nknown,
	    tail_wanted(c, ndisks, nknown));
	return PB_OK;
}

int
state_export(struct nvme *c, void *buf, size_t cap, size_t *len)
{
	uint32_t ndisks, nreq, nknown, d = 0, first = 0, k = 0;
	struct block_state *st = buf;
	struct block_state_disk *disks;
	struct block_req **reqs;
	struct nvme_state_tail *tail = NULL;
	struct nvme_geom *g = NULL;
	int with_tail;

	count(c, &ndisks, &nreq, &nknown);
	with_tail = tail_wanted(c, ndisks, nknown);
	*len = size_of_state(ndisks, nreq, nknown, with_tail);
	if (cap < *len)
		return PB_EINVAL;
	memset(buf, 0, *len);
	if (held_reserve(c, nreq) != PB_OK)
		return PB_ENOMEM;
	*st = (struct block_state){ ndisks, nreq };
	disks = (struct block_state_disk *)(st + 1);
	reqs = rt_block_state_reqs(st);
	if (with_tail) {
		tail = (struct nvme_state_tail *)(void *)((uint8_t *)buf +
		    rt_block_state_size(ndisks, nreq));
		*tail = (struct nvme_state_tail){ NVME_STATE_MAGIC, nknown,
		    sizeof(struct nvme_geom), sizeof(struct nvme_ident),
		    c->irq != IRQ_POLL ? (uint32_t)c->vector + 1 : 0,
		    (uint32_t)c->irq, c->id, 0 };
		g = (struct nvme_geom *)(tail + 1);
	}
	for (unsigned i = 0; i < c->nns; i++) {
		struct nvme_ns *ns = &c->ns[i];
		unsigned n;

		if (!ns->res)
			continue;
		n = ns_requests(c, ns, reqs + first);
		for (unsigned j = 0; j < n; j++)
			c->held[first + j] = (struct nvme_held){
			    reqs[first + j], ns->g.nsid };
		rt_strlcpy(disks[d].path, ns->path, BLOCK_PATH_MAX);
		disks[d].first = first;
		disks[d++].nreq = n;
		first += n;
		if (g)
			g[k++] = ns->g;
	}
	io_forget(c);		/* handed over */
	c->nheld = nreq;
	return PB_OK;
}

/* --- quiesce, release, resume (the old side) ----------------------------- */

int
state_quiesce(struct nvme *c)
{
	uint32_t ndisks, nreq, nknown;

	if (c->standby || c->released || c->state == C_DOWN ||
	    c->state == C_DEAD)
		return PB_OK;
	if (ctrl_waiting(c) || c->state == C_ADMIN || c->inflight ||
	    c->admin_busy)
		return PB_EAGAIN;	/* each of them is bounded */
	count(c, &ndisks, &nreq, &nknown);
	held_reserve(c, nreq);		/* export checks it again */
	if (c->tick_id)			/* idle: resume arms it */
		c->hub->timer_cancel(c->self, c->tick_id);
	c->tick_id = 0;
	return PB_OK;
}

/* The controller and its interrupt message stay as they are for the new
 * side (which resets the one and adopts the other); we touch neither. */
int
state_release(struct nvme *c)
{
	if (c->tick_id)
		c->hub->timer_cancel(c->self, c->tick_id);
	c->tick_id = 0;
	c->released = 1;
	return PB_OK;
}

/* What the last export handed over, ours again, first in the queue. */
static void
take_back_held(struct nvme *c)
{
	for (uint32_t k = c->nheld; k-- > 0; ) {
		struct nvme_ns *ns = nvme_ns_by_id(c, c->held[k].nsid);

		if (ns) {
			io_queue_first(ns, c->held[k].r);
			rq_of(c->held[k].r)->checked = 0;
		}
	}
	c->nheld = 0;
}

/*
 * Is the controller still as we left it: enabled, ready, no fault, and
 * on our admin queue?  A new side that activated reset it and enabled it
 * again with its own (AQA, ASQ, ACQ: §3.1.8-10), then created its I/O
 * queues through them; if it faulted in its watch window, the hub gave
 * the namespaces back to us with the controller still running on the
 * new side's queues, in memory freed with it.
 */
static int
ctrl_intact(struct nvme *c)
{
	uint32_t cc = reg_rd(c, NVME_CC), csts = reg_rd(c, NVME_CSTS);

	return cc != 0xffffffffu && (cc & CC_EN) && (csts & CSTS_RDY) &&
	    !(csts & CSTS_CFS) && c->state == C_READY &&
	    reg_rd(c, NVME_AQA) == AQA(c->aq.size, c->aq.size) &&
	    reg_rd64(c, NVME_ASQ) == c->aq.sq_bus &&
	    reg_rd64(c, NVME_ACQ) == c->aq.cq_bus;
}

/* Undo quiesce and release: serve again; a controller the failed new
 * side touched is brought up again with our queues.  Until CC.EN=0 has
 * dropped the other side's queues and commands (§7.3.1), bus mastering
 * stays off (the hub turned it off at that side's fault): what they
 * still complete must not reach memory that is no longer theirs.
 * enable() turns it on again before CC.EN=1.  A function that went to
 * the next driver and came back had MSI and MSI-X turned off as that
 * driver went (the pci provider silences it): our message is programmed
 * again, not adopted. */
int
state_resume(struct nvme *c)
{
	c->quiesced = 0;
	if (c->standby)
		return PB_OK;
	take_back_held(c);
	if (c->released) {
		c->released = 0;
		PB_CALL(c->pci, pci_ops, enable, PCI_CMD_MEM, 1);
		if (c->fn_handed || c->irq == IRQ_POLL ||
		    irq_adopt(c, c->vector, c->irq) != PB_OK)
			irq_setup(c);
		c->fn_handed = 0;
		if (c->state == C_READY && !ctrl_intact(c)) {
			nlog(c, PB_LOG_WARN, "%s: the controller changed "
			    "while handed over: bringing it up again",
			    c->name);
			ctrl_begin(c, 1);
		} else {
			ctrl_enable_pci(c);
		}
	}
	io_dispatch(c);
	tick_rearm(c);
	return PB_OK;
}

/* --- standby, import, activate (the new side) -------------------------- */

static int
imported_reserve(struct nvme *c, uint32_t n)
{
	if (n <= c->imported_cap)
		return PB_OK;
	if (c->imported)
		c->hub->free(c->self, c->imported);
	c->imported_cap = 0;
	if (!(c->imported = c->hub->alloc(c->self, (n ? n : 1) *
	    sizeof(*c->imported))))
		return PB_ENOMEM;
	c->imported_cap = n;
	return PB_OK;
}

/* NSID of a path "<our pci>/nvme:N", or 0. */
static uint32_t
nsid_of_path(const struct nvme *c, const char *path)
{
	size_t n = strlen(c->pci->res);
	const char *end;
	uint64_t v;

	if (strncmp(path, c->pci->res, n) != 0 ||
	    strncmp(path + n, "/nvme:", 6) != 0)
		return 0;
	v = rt_strtou(path + n + 6, &end, 10);
	return *end || v == 0 || v >= 0xffffffffull ? 0 : (uint32_t)v;
}

/*
 * The namespaces the driver before us serves, published by path for the
 * swap's pairing: found in the hub's inventory (the old side's block
 * resources on our function), since no admin command can go to the
 * controller while the old side owns its queues.  Nothing is written.
 */
void
state_standby_publish(struct nvme *c)
{
	struct pb_res_info info;
	char path[BLOCK_PATH_MAX];
	unsigned n = 0;
	uint32_t nsid;

	int (*list)(const char *, unsigned, struct pb_res_info *) =
	    c->hub->size > offsetof(struct pb_hub, res_info_sized) &&
	    c->hub->res_info_sized ? c->hub->res_info_sized :
	    c->hub->res_info;

	nvme_pick_name(c);
	for (unsigned i = 0; list; i++) {
		struct nvme_ns *ns;

		info = (struct pb_res_info){ .struct_size = sizeof(info) };
		if (list(NULL, i, &info) != PB_OK)
			break;
		if (!info.name || strncmp(info.name, "block:", 6) != 0 ||
		    !info.props || !rt_prop_get(info.props, "path", path,
		    sizeof(path)) || !(nsid = nsid_of_path(c, path)) ||
		    nvme_ns_by_id(c, nsid) || !(ns = nvme_ns_add(c, nsid)))
			continue;
		if (nvme_publish(ns) == PB_OK)
			n++;
	}
	imported_reserve(c, 2 * NVME_SLOTS);	/* import checks it again */
	nlog(c, PB_LOG_INFO, "standby: %u namespace%s on %s ready to take "
	    "over", n, n == 1 ? "" : "s", c->pci->res);
}

static struct nvme_ns *
ns_by_path(struct nvme *c, const char *path)
{
	for (unsigned i = 0; i < c->nns; i++)
		if (c->ns[i].res && strcmp(c->ns[i].path, path) == 0)
			return &c->ns[i];
	return NULL;
}

/* The tail's Identify results, each checked; all or nothing. */
static void
import_tail(struct nvme *c, const uint8_t *at, size_t left)
{
	const struct nvme_state_tail *t = (const void *)at;
	const struct nvme_geom *g;
	unsigned have = 0;

	if (left < sizeof(*t) || t->magic != NVME_STATE_MAGIC ||
	    t->geom_size != sizeof(*g) || t->ident_size != sizeof(t->id) ||
	    t->nns > NVME_MAX_NS ||
	    left - sizeof(*t) < t->nns * sizeof(*g) || !ident_sane(&t->id))
		return;
	g = (const struct nvme_geom *)(t + 1);
	for (uint32_t k = 0; k < t->nns; k++) {
		struct nvme_ns *ns = nvme_ns_by_id(c, g[k].nsid);

		if (!ns || !ident_geom_sane(&g[k], &t->id)) {
			nlog(c, PB_LOG_WARN, "the handed-over namespace %u is "
			    "not one we publish: identifying afresh",
			    g[k].nsid);
			return;
		}
	}
	for (uint32_t k = 0; k < t->nns; k++)
		have += nvme_ns_by_id(c, g[k].nsid) != NULL;
	if (have != c->nns)
		return;		/* one lacks geometry: Identify */
	c->id = t->id;
	for (uint32_t k = 0; k < t->nns; k++) {
		struct nvme_ns *ns = nvme_ns_by_id(c, g[k].nsid);

		ns->g = g[k];
		ns->seen = 1;
	}
	c->have_import = 1;
	/* vector + 1, 0 none: a blob's word, so anything beyond a vector
	 * number is none (irq_register checks the vector itself). */
	c->adopt_vector = t->vector >= 1 && t->vector <= 256 ?
	    (int)t->vector - 1 : -1;
	c->adopt_kind = (int)t->irq_kind;
}

/* One disk of a block state (rt_block_state_walk): one of our
 * namespaces, every request whole (and, while running, one the namespace
 * can run), into c->imported. */
static int
import_disk(void *ctx, const struct block_state_disk *disk,
    struct block_req *const *reqs)
{
	struct nvme *c = ctx;
	struct nvme_ns *ns = ns_by_path(c, disk->path);

	if (!ns || (!c->standby && (c->state != C_READY || !ns_known(ns)))) {
		nlog(c, PB_LOG_WARN, "refusing the block state: disk %.64s is "
		    "not one of ours", disk->path);
		return PB_ESTATE;
	}
	for (uint32_t k = 0; k < disk->nreq; k++) {
		struct block_req *r = reqs[k];

		if (!r || r->size < sizeof(*r) ||
		    (!c->standby && io_check(ns, r) != PB_OK)) {
			nlog(c, PB_LOG_WARN, "refusing the block state: request "
			    "%u of %s is not one it can run", k, ns->path);
			return PB_ESTATE;
		}
		c->imported[c->nimported++] = (struct nvme_held){ r,
		    ns->g.nsid };
	}
	return PB_OK;
}

/* The requests of a block_state, checked, into c->imported.  PB_ESTATE
 * having kept nothing (the caller drops what was taken). */
static int
import_requests(struct nvme *c, const struct block_state *st, size_t len)
{
	if (len < sizeof(*st) ||
	    len < rt_block_state_size(st->ndisks, st->nreq))
		return PB_ESTATE;		/* before it sizes anything */
	if (imported_reserve(c, st->nreq) != PB_OK)
		return PB_ENOMEM;
	c->nimported = 0;
	return rt_block_state_walk(st, len, NVME_MAX_NS, import_disk, c);
}

/* Is r one the last export handed over (the hub gives it back)? */
static int
handed_over(struct nvme *c, const struct block_req *r)
{
	for (uint32_t k = 0; k < c->nheld; k++)
		if (c->held[k].r == r) {
			c->held[k] = c->held[--c->nheld];
			return 1;
		}
	return 0;
}

/* A running import: the requests are ours from now on, as if submitted;
 * those we handed over ourselves go first in the queue again. */
static void
take_imported(struct nvme *c)
{
	for (uint32_t k = c->nimported; k-- > 0; ) {
		struct nvme_held *h = &c->imported[k];

		if (handed_over(c, h->r)) {
			io_queue_first(nvme_ns_by_id(c, h->nsid), h->r);
			h->r = NULL;
		}
	}
	for (uint32_t k = 0; k < c->nimported; k++)
		if (c->imported[k].r)
			io_take(nvme_ns_by_id(c, c->imported[k].nsid),
			    c->imported[k].r);
	if (c->nimported)
		nlog(c, PB_LOG_INFO, "took %u handed-over request%s",
		    c->nimported, c->nimported == 1 ? "" : "s");
	c->nimported = 0;
	io_dispatch(c);
}

int
state_import(struct nvme *c, const void *buf, size_t len, uint32_t version)
{
	const struct block_state *st = buf;
	size_t base;
	int err;

	c->nimported = 0;
	if (c->standby) {
		c->have_import = 0;
		c->adopt_vector = -1;
	}
	if (!buf || !len)
		return PB_OK;		/* nothing handed over */
	if (version != BLOCK_STATE_VERSION) {
		nlog(c, PB_LOG_WARN, "refusing a state of version 0x%x",
		    version);
		return PB_ESTATE;
	}
	if ((err = import_requests(c, buf, len)) != PB_OK) {
		c->nimported = 0;
		return err;
	}
	if (!c->standby) {
		take_imported(c);
		return PB_OK;
	}
	base = rt_block_state_size(st->ndisks, st->nreq);
	import_tail(c, (const uint8_t *)buf + base, len - base);
	return PB_OK;
}

/*
 * Take the controller: reset with our queues (with the old side's
 * Identify results: no Identify), the old side's interrupt adopted, the
 * handed-over requests queued for when it is ready.  Nothing after the
 * checks can fail.
 */
int
state_activate(struct nvme *c)
{
	const char *why;
	int err;

	if (!c->standby)
		return PB_EINVAL;
	if ((err = ctrl_enable_pci(c)) != PB_OK)
		return err;
	if ((err = ctrl_read_caps(c, &why)) != PB_OK) {
		nlog(c, PB_LOG_ERR, "%s: %s", c->pci->res, why);
		return err;
	}
	c->standby = 0;
	if (!c->have_import || irq_adopt(c, c->adopt_vector, c->adopt_kind) !=
	    PB_OK)
		irq_setup(c);
	c->note_reqs = c->nimported;
	ctrl_begin(c, c->have_import);
	nvme_note(c, NOTE_TAKEOVER);
	return PB_OK;
}

/*
 * After the blackout (the takeover's note work): the imported requests
 * are ours, first in the queue, before any a client submitted since the
 * rebind.  They are taken here rather than in activate because a swap
 * undone after our activate (the hub's rebind check failing) stops us in
 * the same hub call, before any work of ours runs, and resumes the old
 * side, which takes them back: stop then drops the ones not taken
 * (state_drop_imported), and each completes once, by the old side.
 */
void
state_take_imported(struct nvme *c)
{
	for (uint32_t k = c->nimported; k-- > 0; ) {
		struct nvme_ns *ns = nvme_ns_by_id(c, c->imported[k].nsid);

		if (ns)
			io_queue_first(ns, c->imported[k].r);
	}
	c->nimported = 0;
	io_dispatch(c);
}
