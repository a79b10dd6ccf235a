/*
 * park.c - the takeover of disks: parking a firmware-backed disk until its
 * native driver appears.
 *
 * The console is swapped at ExitBootServices (boot.c) because its native
 * providers are loaded and waiting then.  A disk's are not: its driver
 * binds to a PCI function that pci publishes only after the exit, and
 * probes its ports asynchronously, publishing each disk when ready.  So a
 * `block` resource of a firmware-backed module that has clients and an
 * identity (`path=`, abi/block.h) is parked instead:
 *
 *  park_module (before the exit): the module is quiesced and released (it
 *	never calls the firmware again, but keeps taking requests into its
 *	queue: efi-block), and stays loaded, quiesced, after the exit; its
 *	parked resources are hidden from new clients (standby) while those
 *	they have keep their connections.  Its other resources go.
 *  park_claim (a resource is offered, before its clients and binds): a
 *	`block` resource of a running native module with a parked one's
 *	path takes it over.  The parked module exports its state (handing
 *	its requests over), the requests of this disk are submitted to the
 *	new resource in their order, as their clients would have, and those
 *	of its other disks go back to it through its import_state; the
 *	connections are rebound, their clients told PB_EV_REBOUND, the parked
 *	resource withdrawn, and the parked module unloaded once it has none
 *	left.  The native driver needs nothing but its block_ops: a request
 *	it refuses completes with its answer, as a client's submit would.  If
 *	the new resource goes meanwhile (its module faulted), the requests
 *	not submitted complete with PB_EIO and the disk stays parked.
 *  park_check (at the end of the boot, then every 100 ms): a parked disk
 *	whose controller no driver holds goes at once, without waiting for
 *	the deadline: its path begins with its controller's PCI function
 *	(pci:00:1f.2/sata:0), which a native driver binds to, so once pci
 *	has published that function and offered it to the bind rules, a
 *	function nobody holds means no driver is coming (a real PC with an
 *	unsupported controller, or ahci=no); a path in the firmware's own
 *	words (not pci:) no driver spells.  Otherwise the disk waits until
 *	the deadline, boot.cfg disk-wait=MS, 10 s after the exit.
 *  park_expire: the disks left are withdrawn; their clients are told
 *	PB_EV_DISCONNECTED (never rebound to another disk), and the parked
 *	module is unloaded, whose stop() completes the queued requests
 *	(efi-block: PB_ECANCELED).
 *
 * Each step is one log line, e.g.
 *   takeover: block:efi0 (path=pci:00:1f.2/sata:0) -> block:sata0 (ahci),
 *   2 requests handed over, parked 143 ms
 */
#include "hub.h"
#include "match.h"
#include "../abi/block.h"
#include "../abi/rt/rt.h"

#define PARK_MAX 16
#define PARK_CHECK_NS 100000000ull	/* 100 ms */

uint64_t park_wait_ns = 10000000000ull;

static struct parked {
	struct pb_resource *res;
	struct pb_module *owner;
	char name[RES_NAME_MAX];	/* to tell a reused slot */
	char path[BLOCK_PATH_MAX];
} parked[PARK_MAX];
static unsigned nparked;
static uint64_t since_ns;		/* the exit */
static int check_timer;

/* --- calling the modules ------------------------------------------------- */

struct submit {
	const struct pb_resource *res;
	struct block_req *req;
};

static long
call_submit(void *arg)
{
	struct submit *a = arg;

	arch_grant_note(a->res->owner, a->req);
	return ((const struct block_ops *)a->res->ops)->submit(a->res->ctx,
	    a->req);
}

static int
import(struct pb_module *m, void *buf, size_t len)
{
	struct mod_op c = { .buf = buf, .len = len,
	    .ver = BLOCK_STATE_VERSION };

	return mod_op(m, MOD_OP_IMPORT, &c);
}

/* --- what is parked ------------------------------------------------------ */

static int
path_of(const struct pb_resource *r, char *path, size_t cap)
{
	return r->used && strcmp(r->iface.iface, BLOCK_IFACE) == 0 &&
	    props_get(r->props, "path", path, cap) && path[0];
}

/* Is p still the resource it was (not unloaded, its slot not reused)? */
static int
still_parked(const struct parked *p)
{
	return p->res->used && p->res->owner == p->owner &&
	    strcmp(p->res->name, p->name) == 0 &&
	    p->owner->state == MOD_QUIESCED;
}

static void
forget(struct parked *p)
{
	*p = parked[--nparked];
}

int
park_holds(const struct pb_module *m)
{
	for (unsigned i = 0; i < nparked; i++)
		if (parked[i].owner == m)
			return 1;
	return 0;
}

static int
parkable(const struct pb_resource *r)
{
	char path[BLOCK_PATH_MAX];

	return res_clients(r) && path_of(r, path, sizeof(path));
}

static unsigned
count_parkable(const struct pb_module *f)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MAX_RESOURCES; i++)
		if (resources[i].used && resources[i].owner == f &&
		    parkable(&resources[i]))
			n++;
	return n;
}

/* Quiesce and release f: 0 when it would not (then it runs on). */
static int
hold(struct pb_module *f)
{
	struct mod_op c = { 0 };
	int r;

	if ((r = mod_op(f, MOD_OP_QUIESCE, &c)) != PB_OK) {
		log_event(LOG_ERROR, "takeover: %s refused to quiesce (%d); "
		    "its disks go at the exit", f->name, r);
		return 0;
	}
	if ((r = mod_op(f, MOD_OP_RELEASE, &c)) != PB_OK) {
		log_event(LOG_ERROR, "takeover: %s cannot let the firmware go "
		    "(%d); its disks go at the exit", f->name, r);
		mod_op(f, MOD_OP_RESUME, &c);
		return 0;
	}
	return 1;
}

/* Before the exit: park f's disks that have clients. */
unsigned
park_module(struct pb_module *f)
{
	unsigned want = count_parkable(f), n = 0;

	if (!want)
		return 0;
	if (!f->ops->quiesce || !f->ops->export_state ||
	    !f->ops->import_state || nparked + want > PARK_MAX) {
		log_event(LOG_ERROR, "takeover: %s cannot park its disks (%s); "
		    "they go at the exit", f->name, nparked + want > PARK_MAX ?
		    "too many" : "it cannot hand its requests over");
		return 0;
	}
	if (!hold(f))
		return 0;
	f->state = MOD_QUIESCED;
	for (unsigned i = 0; i < MAX_RESOURCES; i++) {
		struct pb_resource *r = &resources[i];
		struct parked *p = &parked[nparked];

		if (!r->used || r->owner != f)
			continue;
		if (!parkable(r)) {
			res_withdraw(r);	/* nobody waits for it */
			continue;
		}
		*p = (struct parked){ .res = r, .owner = f };
		rt_strlcpy(p->name, r->name, sizeof(p->name));
		path_of(r, p->path, sizeof(p->path));
		r->standby = 1;		/* no new clients, no fallback to it */
		nparked++;
		n++;
		log_event(LOG_SWAP, "takeover: %s (path=%s) parked, %u client%s "
		    "kept until a native driver takes it", r->name, p->path,
		    res_clients(r), res_clients(r) == 1 ? "" : "s");
	}
	return n;
}

/* ExitBootServices failed: the parked modules serve again. */
void
park_abort(void)
{
	struct mod_op c = { 0 };

	for (unsigned i = 0; i < nparked; i++) {
		struct parked *p = &parked[i];

		p->res->standby = 0;
		if (p->owner->state != MOD_QUIESCED)
			continue;
		if (mod_op(p->owner, MOD_OP_RESUME, &c) != PB_OK)
			log_event(LOG_ERROR, "takeover: %s cannot resume",
			    p->owner->name);
		p->owner->state = MOD_RUNNING;
	}
	nparked = 0;
}

static void tick(void *arg);

/* After the exit: the deadline starts. */
void
park_start_clock(void)
{
	int id;

	if (!nparked)
		return;
	since_ns = hub_now_ns();
	id = timer_add_every(NULL, PARK_CHECK_NS, PARK_CHECK_NS, tick, NULL);
	if (id < 0) {
		log_event(LOG_ERROR, "takeover: no timer for the disks' "
		    "deadline; they go now");
		park_expire();
		return;
	}
	check_timer = id;
}

/* Nothing parked any more: no more checks. */
static void
stop_checking(void)
{
	if (!nparked && check_timer) {
		timer_cancel(NULL, check_timer);
		check_timer = 0;
	}
}

static void
unload_if_done(struct pb_module *owner)
{
	if (!park_holds(owner) && owner->state == MOD_QUIESCED)
		mod_unload(owner);
	stop_checking();
}

/* --- the states: one disk's requests for its driver, the rest back ------- */

struct state {
	uint8_t *buf;
	size_t len;
	struct block_state st;
};

static struct block_state_disk
disk_of(const struct state *s, uint32_t i)
{
	struct block_state_disk d;

	memcpy(&d, s->buf + sizeof(s->st) + i * sizeof(d), sizeof(d));
	d.path[sizeof(d.path) - 1] = '\0';
	return d;
}

static const uint8_t *
reqs_of(const struct state *s, const struct block_state_disk *d)
{
	return s->buf + sizeof(s->st) + s->st.ndisks * sizeof(*d) +
	    d->first * sizeof(struct block_req *);
}

static size_t
state_size(uint32_t ndisks, uint32_t nreq)
{
	return sizeof(struct block_state) + ndisks *
	    sizeof(struct block_state_disk) + nreq * sizeof(struct block_req *);
}

/* The exporter's state, checked well-formed: 0, or an error. */
static int
export_from(struct pb_module *m, struct state *s)
{
	struct mod_op c = { 0 };
	int r;

	memset(s, 0, sizeof(*s));
	r = mod_export(m, &c);
	s->buf = c.buf;		/* freed by the caller */
	if (r != PB_OK || c.len < sizeof(s->st))
		return r != PB_OK ? r : PB_ESTATE;
	s->len = c.len;
	memcpy(&s->st, s->buf, sizeof(s->st));
	if (c.ver != BLOCK_STATE_VERSION || s->st.ndisks > 256 ||
	    s->st.nreq > s->len / sizeof(void *) ||
	    state_size(s->st.ndisks, s->st.nreq) > s->len)
		return PB_ESTATE;
	for (uint32_t i = 0; i < s->st.ndisks; i++) {
		struct block_state_disk d = disk_of(s, i);

		if (d.first > s->st.nreq || d.nreq > s->st.nreq - d.first)
			return PB_ESTATE;
	}
	return PB_OK;
}

/* The disks of s other than those with this path, and their requests:
 * a state of its own in out (s->len bytes), for the exporter back. */
static void
others(const struct state *s, const char *path, struct state *rest,
    uint8_t *out)
{
	uint32_t nd = 0, nr = 0;
	size_t at;

	for (uint32_t i = 0; i < s->st.ndisks; i++) {
		struct block_state_disk d = disk_of(s, i);

		if (strcmp(d.path, path) != 0) {
			nd++;
			nr += d.nreq;
		}
	}
	rest->buf = out;
	rest->st = (struct block_state){ nd, nr };
	rest->len = state_size(nd, nr);
	memcpy(out, &rest->st, sizeof(rest->st));
	at = state_size(nd, 0);
	nd = nr = 0;
	for (uint32_t i = 0; i < s->st.ndisks; i++) {
		struct block_state_disk d = disk_of(s, i);

		if (strcmp(d.path, path) == 0)
			continue;
		memcpy(out + at + nr * sizeof(void *), reqs_of(s, &d),
		    d.nreq * sizeof(void *));
		d.first = nr;
		nr += d.nreq;
		memcpy(out + sizeof(rest->st) + nd++ * sizeof(d), &d,
		    sizeof(d));
	}
}

/* --- claiming: a native resource takes a parked one over ------------------ */

static unsigned
rebind_clients(struct pb_resource *from, struct pb_resource *to)
{
	unsigned n = 0;

	for (unsigned k = 0; k < MAX_CONNS; k++)
		if (conns[k].used && conns[k].res == from) {
			conn_rebind(&conns[k], to);
			n++;
		}
	return n;
}

/* `to` is not offered yet: every connection on it was rebound. */
static void
tell_rebound(struct pb_resource *to)
{
	for (unsigned k = 0; k < MAX_CONNS; k++)
		if (conns[k].used && conns[k].res == to)
			conn_tell(&conns[k], PB_EV_REBOUND);
}

/* Give the exporter back what no one took; an error here loses them. */
static void
give_back(struct pb_module *old, struct state *s, const char *what)
{
	int r;

	if (!s->st.nreq)
		return;
	if ((r = import(old, s->buf, s->len)) != PB_OK)
		log_event(LOG_ERROR, "takeover: %s refused %u requests of its "
		    "own back (%d): %s", old->name, s->st.nreq, r, what);
}

/* Is `to` still the resource `new` published? */
static int
still_there(const struct pb_resource *to, const struct pb_module *new,
    const char *name)
{
	return to->used && to->owner == new && new->state == MOD_RUNNING &&
	    strcmp(to->name, name) == 0;
}

/*
 * Submit the requests of the disks of s with this path to `to`, in order,
 * as their clients would have.  One it refuses completes with its answer;
 * once `to` is gone, every one left completes with PB_EIO.  How many it
 * took, of *nmine.
 */
static unsigned
resubmit(const struct state *s, const char *path, struct pb_resource *to,
    unsigned *nmine)
{
	struct pb_module *new = to->owner;
	char name[RES_NAME_MAX];
	const uint8_t *reqs;
	unsigned taken = 0;

	rt_strlcpy(name, to->name, sizeof(name));
	*nmine = 0;
	for (uint32_t d = 0; d < s->st.ndisks; d++) {
		struct block_state_disk disk = disk_of(s, d);

		if (strcmp(disk.path, path) != 0)
			continue;
		reqs = reqs_of(s, &disk);
		*nmine += disk.nreq;
		for (uint32_t k = 0; k < disk.nreq; k++) {
			struct submit c = { .res = to };
			struct block_req *req;
			int r = PB_EIO;

			memcpy(&req, reqs + k * sizeof(req), sizeof(req));
			c.req = req;
			if (still_there(to, new, name) && (r = (int)
			    mod_call_watched(new, call_submit, &c)) == PB_OK) {
				taken++;
				continue;
			}
			req->status = r;	/* the provider's part, once */
			work_post(&req->done);
		}
	}
	return taken;
}

/* The whole handover; 0 when the disk stays parked. */
static int
hand_over(struct parked *p, struct pb_resource *to, unsigned *nreq)
{
	struct pb_module *old = p->owner, *new = to->owner;
	char name[RES_NAME_MAX];
	struct state all, rest;
	uint8_t *parts = NULL;
	unsigned nmine;
	int r;

	rt_strlcpy(name, to->name, sizeof(name));
	if ((r = export_from(old, &all)) != PB_OK) {
		log_event(LOG_ERROR, "takeover: %s cannot hand %s over: its "
		    "state (%d)", old->name, p->name, r);
		give_back(old, &all, "a bad state");
		goto out;
	}
	parts = mem_alloc(NULL, (all.len + 4095) / 4096, 0, MEM_KIND_HEAP);
	if (!parts) {
		r = PB_ENOMEM;
		give_back(old, &all, "out of memory");
		goto out;
	}
	others(&all, p->path, &rest, parts);
	give_back(old, &rest, "other disks'");
	*nreq = resubmit(&all, p->path, to, &nmine);
	if (*nreq < nmine)
		log_event(LOG_ERROR, "takeover: %s took %u of the %u requests "
		    "of %s; the others completed with its answer", name,
		    *nreq, nmine, p->name);
	if (!still_there(to, new, name)) {
		log_event(LOG_ERROR, "takeover: %s went while it took %s over; "
		    "%s stays parked", name, p->name, p->name);
		r = PB_EIO;
	}
out:
	if (parts)
		mem_free(NULL, parts);
	if (all.buf)
		mem_free(NULL, all.buf);
	return r == PB_OK;
}

/* A resource is offered: if it is a parked disk's native self, it takes
 * the disk over.  Called before its clients and binds are served. */
void
park_claim(struct pb_resource *to)
{
	char path[BLOCK_PATH_MAX];
	unsigned nreq = 0, nclients;

	if (!nparked || !to->owner || to->standby ||
	    to->owner->state != MOD_RUNNING ||
	    (to->owner->desc.flags & PB_MOD_FIRMWARE) ||
	    !path_of(to, path, sizeof(path)))
		return;
	for (unsigned i = 0; i < nparked;) {
		struct parked *p = &parked[i];
		struct pb_module *old = p->owner;

		if (!still_parked(p)) {
			forget(p);	/* unloaded meanwhile: nothing to do */
			continue;
		}
		if (strcmp(p->path, path) != 0 || !hand_over(p, to, &nreq)) {
			i++;
			continue;
		}
		nclients = rebind_clients(p->res, to);
		log_event(LOG_SWAP, "takeover: %s (path=%s) -> %s (%s), %u "
		    "request%s handed over, %u client%s, parked %llu ms",
		    p->name, p->path, to->name, to->owner->name, nreq,
		    nreq == 1 ? "" : "s", nclients, nclients == 1 ? "" : "s",
		    (unsigned long long)((hub_now_ns() - since_ns) / 1000000));
		tell_rebound(to);
		res_withdraw(p->res);	/* no connections left on it */
		forget(p);
		unload_if_done(old);
		return;
	}
}

/* --- the deadline -------------------------------------------------------- */

/* Does the client need what c gave it to run (as conn_fall_back says)? */
static int
needed(const struct conn *c)
{
	const struct pb_require *q;

	if (!c->client || c->req < 0)
		return 0;
	q = &c->client->desc.requires[c->req];
	return q->card == PB_CARD_ONE && q->when == PB_AT_START &&
	    c->client->state == MOD_RUNNING;
}

static unsigned
disconnect_clients(struct pb_resource *r)
{
	unsigned n = 0;

	for (unsigned k = 0; k < MAX_CONNS; k++) {
		struct conn *c = &conns[k];
		struct pb_module *client = c->client;
		int stop;

		if (!c->used || c->res != r)
			continue;
		stop = needed(c);
		conn_tell(c, PB_EV_DISCONNECTED);
		conn_close(c);
		n++;
		if (stop) {
			log_event(LOG_MOD, "%s: lost %s, which it needs; "
			    "stopping", client->name, r->name);
			mod_stop(client);
		}
	}
	return n;
}

/* p goes: its clients are told, then its module may go. */
static void
let_go(struct parked *p, const char *why)
{
	struct pb_module *old = p->owner;
	unsigned n = disconnect_clients(p->res);

	log_event(LOG_SWAP, "takeover: %s (path=%s) gone: %s; %u client%s "
	    "told", p->name, p->path, why, n, n == 1 ? "" : "s");
	res_withdraw(p->res);
	forget(p);
	unload_if_done(old);
}

void
park_expire(void)
{
	char why[64];

	rt_snprintf(why, sizeof(why), "no native driver took it in %llu ms",
	    (unsigned long long)((hub_now_ns() - since_ns) / 1000000));
	while (nparked) {
		struct parked *p = &parked[nparked - 1];

		if (still_parked(p))
			let_go(p, why);
		else
			forget(p);
	}
}

/*
 * Could a native driver still take p?  Not when its path does not begin
 * with a PCI function, and not when that function, published and offered
 * to the bind rules, has no client: no driver holds the controller.
 */
static int
driver_may_come(const struct parked *p, char *fn, size_t cap)
{
	const char *slash = strchr(p->path, '/');
	size_t len = slash ? (size_t)(slash - p->path) : strlen(p->path);
	const struct pb_resource *r;

	if (strncmp(p->path, "pci:", 4) != 0 || len >= cap) {
		rt_strlcpy(fn, "", cap);
		return 0;
	}
	memcpy(fn, p->path, len);
	fn[len] = '\0';
	r = res_find(fn);
	return !r || !r->offered || res_clients(r) > 0;
}

void
park_check(void)
{
	char fn[RES_NAME_MAX], why[96];

	if (nparked && hub_now_ns() - since_ns >= park_wait_ns) {
		park_expire();
		return;
	}
	for (unsigned i = 0; i < nparked;) {
		struct parked *p = &parked[i];

		if (!still_parked(p)) {
			forget(p);
		} else if (!driver_may_come(p, fn, sizeof(fn))) {
			rt_snprintf(why, sizeof(why), fn[0] ? "no driver holds "
			    "its controller %s" : "no native driver names it",
			    fn);
			let_go(p, why);
		} else {
			i++;
		}
	}
	stop_checking();
}

static void
tick(void *arg)
{
	(void)arg;
	park_check();
}
