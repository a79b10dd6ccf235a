/*
 * state.c - the swap (`update usb-storage ...`, `swap block:usb0 ...`).
 *
 * The state is abi/block.h's struct block_state (every LUN by path, its
 * requests not completed, oldest first), followed by our own tail: each
 * LUN's INQUIRY and READ CAPACITY results (struct usbstor_state_lun), so
 * the new driver takes the sticks without a command.  A state without
 * the tail makes the new driver probe the sticks again at activate, the
 * handed-over requests waiting in their queues.
 *
 *   standby (new)  publishes a counterpart for every disk the running
 *                  usb-storage serves: same name, same path=, its
 *                  properties; the stick's `usb` resource is the bind
 *                  rule's (the hub hands it over) or connected by hand
 *   quiesce (old)  no new command; PB_EAGAIN while one is on the wire
 *                  (a recovery's steps and a port reset too: bot.state),
 *                  a request waits to be issued again, or a stick attaches
 *   export (old)   hands the queued requests over (kept aside in
 *                  us.held, taken back by resume)
 *   release (old)  never submits to the bus again
 *   import (new)   checks everything, then keeps the requests and the
 *                  LUNs' geometry for activate; while running, takes
 *                  them at once (the ones it handed itself go first)
 *   activate (new) the sticks are ours: their queues run
 *   resume (old)   a failed swap: the sticks let go are connected again
 *                  (the bound one, handed over at the rebind, the hub
 *                  connects again when the new driver faulted in its
 *                  watch window), each through a reset recovery first
 *                  (§5.3.4: the new driver may have left a command half
 *                  way), then the requests handed over run
 * A `usb` provider's swap or a controller swap under the bus is not ours
 * to see: our requests wait in the bus (abi/usb.h).
 */
#include "usbstor.h"

#define USBSTOR_STATE_MAGIC 0x31425355u	/* "USB1": the tail */
#define IMPORT_MAX	4096

/* The tail passes between builds of the module: its layout is fixed. */
struct usbstor_state_lun {
	char path[BLOCK_PATH_MAX];
	uint32_t lun, type, block_size, flags;
	uint64_t block_count;
	uint32_t media_id, reserved;
	char vendor[12], product[20], rev[8];
};
_Static_assert(sizeof(struct usbstor_state_lun) == 136, "state lun layout");

struct usbstor_state_tail {
	uint32_t magic;
	uint32_t nluns;
	uint32_t lun_size;		/* sizeof(struct usbstor_state_lun) */
	uint32_t reserved;
};
_Static_assert(sizeof(struct usbstor_state_tail) == 16, "state tail layout");

static size_t
base_size(uint32_t ndisks, uint32_t nreq)
{
	size_t n = sizeof(struct block_state) +
	    ndisks * sizeof(struct block_state_disk);

	return ((n + 7) & ~(size_t)7) + nreq * sizeof(struct block_req *);
}

static int
exported(const struct usbstor_lun *l)
{
	return l->res && l->dev->state != DEV_GONE && l->dev->state != DEV_FREE;
}

/* --- quiesce, export, resume (the old side) ------------------------------ */

int
state_quiesce(void)
{
	if (us.standby || us.released)
		return PB_OK;
	for (unsigned i = 0; i < USBSTOR_DEVS; i++) {
		const struct usbstor_dev *d = dev_in_use(i);

		if (!d || d->state == DEV_GONE)
			continue;
		if (d->state == DEV_ATTACHING || d->cur ||
		    d->bot.state != BS_IDLE ||
		    (d->bot.in_flight && !d->bot.lost))
			return PB_EAGAIN;
	}
	return PB_OK;
}

/* The requests queued for LUN l (its stick's queue has all of them). */
static uint32_t
queued_for(const struct usbstor_lun *l)
{
	uint32_t n = 0;

	for (struct block_req *r = l->dev->head; r; r = rq_of(r)->next)
		n += rq_of(r)->lun == l->lun;
	return n;
}

static void
count(uint32_t *ndisks, uint32_t *nreq, uint32_t *nknown)
{
	*ndisks = *nreq = *nknown = 0;
	for (unsigned i = 0; i < USBSTOR_DEVS; i++)
		for (unsigned l = 0; us.dev[i] && us.dev[i]->lun &&
		    l < us.dev[i]->nlun_cap; l++) {
			const struct usbstor_lun *lun = &us.dev[i]->lun[l];

			if (!exported(lun))
				continue;
			(*ndisks)++;
			*nknown += lun->known;
			*nreq += queued_for(lun);
		}
}

static size_t
state_size(void)
{
	uint32_t ndisks, nreq, nknown;

	count(&ndisks, &nreq, &nknown);
	return base_size(ndisks, nreq) + sizeof(struct usbstor_state_tail) +
	    nknown * sizeof(struct usbstor_state_lun);
}

static struct usbstor_state_lun
lun_state(const struct usbstor_lun *l)
{
	struct usbstor_state_lun s = {
		.lun = l->lun, .type = l->type, .block_size = l->block_size,
		.flags = l->flags, .block_count = l->block_count,
		.media_id = l->media_id,
	};

	rt_strlcpy(s.path, l->path, sizeof(s.path));
	rt_strlcpy(s.vendor, l->vendor, sizeof(s.vendor));
	rt_strlcpy(s.product, l->product, sizeof(s.product));
	rt_strlcpy(s.rev, l->rev, sizeof(s.rev));
	return s;
}

/* The requests of LUN l on its stick's queue, in order, into reqs and
 * held; how many. */
static uint32_t
lun_requests(struct usbstor_lun *l, struct block_req **reqs,
    struct usbstor_held *held)
{
	uint32_t n = 0;

	for (struct block_req *r = l->dev->head; r; r = rq_of(r)->next) {
		if (rq_of(r)->lun != l->lun)
			continue;
		reqs[n] = r;
		held[n++] = (struct usbstor_held){ r, l->dev->index, l->lun };
	}
	return n;
}

int
state_export(void *buf, size_t cap, size_t *len, uint32_t *version)
{
	uint32_t ndisks, nreq, nknown, d = 0, first = 0, k = 0;
	struct block_state_disk *disks;
	struct usbstor_state_tail *tail;
	struct usbstor_state_lun *sl;
	struct usbstor_held *held = NULL;
	struct block_req **reqs;

	*version = BLOCK_STATE_VERSION;
	*len = state_size();
	if (!buf)
		return PB_OK;
	if (cap < *len)
		return PB_EINVAL;
	for (unsigned i = 0; i < USBSTOR_DEVS; i++)
		if (us.dev[i] && us.dev[i]->cur && us.dev[i]->state != DEV_GONE)
			return PB_EBUSY;	/* not quiesced */
	for (unsigned i = 0; i < USBSTOR_DEVS; i++)
		if (dev_in_use(i) && us.dev[i]->state != DEV_GONE)
			io_drop_unserved(us.dev[i]);
	count(&ndisks, &nreq, &nknown);
	if (nreq && !(held = us.hub->alloc(us.self, nreq * sizeof(*held))))
		return PB_ENOMEM;
	memset(buf, 0, *len);
	*(struct block_state *)buf = (struct block_state){ ndisks, nreq };
	disks = (struct block_state_disk *)((struct block_state *)buf + 1);
	reqs = (struct block_req **)(void *)((uint8_t *)buf +
	    base_size(ndisks, 0));
	tail = (struct usbstor_state_tail *)(void *)((uint8_t *)buf +
	    base_size(ndisks, nreq));
	*tail = (struct usbstor_state_tail){ USBSTOR_STATE_MAGIC, nknown,
	    sizeof(struct usbstor_state_lun), 0 };
	sl = (struct usbstor_state_lun *)(tail + 1);
	for (unsigned i = 0; i < USBSTOR_DEVS; i++) {
		struct usbstor_dev *dv = us.dev[i];

		for (unsigned l = 0; dv && dv->lun && l < dv->nlun_cap; l++) {
			struct usbstor_lun *lun = &dv->lun[l];
			uint32_t n;

			if (!exported(lun))
				continue;
			/* No requests: no held array (NULL + 0 is UB). */
			n = nreq ? lun_requests(lun, reqs + first, held +
			    first) : 0;
			rt_strlcpy(disks[d].path, lun->path, BLOCK_PATH_MAX);
			disks[d].first = first;
			disks[d++].nreq = n;
			first += n;
			if (lun->known)
				sl[k++] = lun_state(lun);
		}
		if (dv && dv->state != DEV_FREE && dv->state != DEV_GONE)
			io_forget(dv);		/* handed over */
	}
	if (us.held)
		us.hub->free(us.self, us.held);
	us.held = held;
	us.nheld = nreq;
	return PB_OK;
}

static struct usbstor_dev *
live_dev(uint32_t index)
{
	struct usbstor_dev *d = index < USBSTOR_DEVS ? dev_in_use(index) :
	    NULL;

	return d && d->state != DEV_GONE ? d : NULL;
}

/* What the last export handed, ours again, first in its queues. */
static void
take_back_held(void)
{
	for (uint32_t k = us.nheld; k-- > 0;) {
		struct usbstor_held *h = &us.held[k];
		struct usbstor_dev *d;

		if (!h->r)
			continue;
		if ((d = live_dev(h->dev)))
			io_queue_first(d, h->r, h->lun);
		else {
			h->r->status = PB_ECANCELED;	/* its stick went */
			us.hub->work_post(us.self, &h->r->done);
		}
	}
	if (us.held)
		us.hub->free(us.self, us.held);
	us.held = NULL;
	us.nheld = 0;
}

static void
kick_all(void)
{
	for (unsigned i = 0; i < USBSTOR_DEVS; i++)
		if (us.dev[i] && us.dev[i]->state == DEV_READY)
			io_kick(us.dev[i]);
}

/* The sticks we connected to by hand are let go, so the next driver
 * can connect to them (a `usb` resource may take one client); the bind
 * rule's is handed over by the hub. */
int
state_release(void)
{
	us.released = 1;
	if (us.standby)
		return PB_OK;
	for (unsigned i = 0; i < USBSTOR_DEVS; i++) {
		struct usbstor_dev *d = dev_in_use(i);

		if (!d || d->state == DEV_GONE || !d->by_hand || !d->conn)
			continue;
		us.hub->disconnect(us.self, d->conn);
		d->conn = NULL;
	}
	return PB_OK;
}

/* The stick is ours again: its queue runs. */
static void
taken_back(struct usbstor_dev *d)
{
	if (d->state == DEV_READY)
		io_kick(d);
}

/*
 * A failed swap: the sticks let go at release are connected again (the
 * bound one the hub handed over, if the swap got that far, it connected
 * again before the resume: dev_handed).  The next driver may have used
 * them, and may have left a command half way when it faulted: each goes
 * through a reset recovery (BOT §5.3.4) before our first command.
 */
static void
reconnect(void)
{
	for (unsigned i = 0; i < USBSTOR_DEVS; i++) {
		struct usbstor_dev *d = dev_in_use(i);

		if (!d || d->state == DEV_GONE || (!d->by_hand && !d->handed))
			continue;
		if (d->by_hand && !d->conn)
			d->conn = us.hub->connect(us.self, USB_IFACE, USB_MAJOR,
			    USBSTOR_USB_MINOR, d->res);
		d->handed = 0;
		if (!d->conn) {
			dev_gone(d, "its usb resource went during a swap");
			dev_maybe_free(d);
		} else if (d->state == DEV_READY) {
			bot_reset_recovery(d, taken_back);
		}
	}
}

int
state_resume(void)
{
	us.quiesced = 0;
	if (us.standby)
		return PB_OK;
	if (us.released)
		reconnect();
	us.released = 0;
	take_back_held();
	kick_all();
	dev_scan();	/* a stick that came while we were quiesced */
	return PB_OK;
}

/* --- standby, import, activate (the new side) ---------------------------- */

static struct usbstor_lun *
lun_of_path(const char *path)
{
	for (unsigned i = 0; i < USBSTOR_DEVS; i++) {
		struct usbstor_dev *d = dev_in_use(i);

		if (!d || d->state == DEV_GONE || !d->lun)
			continue;
		for (unsigned l = 0; l < d->nlun_cap; l++)
			if (d->lun[l].res && strcmp(d->lun[l].path, path) == 0)
				return &d->lun[l];
	}
	return NULL;
}

/* The `usb` resource whose dev= is dev, into name. */
static int
usb_res_of(const char *dev, char *name, size_t cap)
{
	struct pb_res_info ri;
	char v[USBSTOR_DEV_MAX];

	for (unsigned i = 0; res_at(i, &ri) == PB_OK; i++)
		if (ri.iface && strcmp(ri.iface, USB_IFACE) == 0 && ri.props &&
		    rt_prop_get(ri.props, "dev", v, sizeof(v)) &&
		    strcmp(v, dev) == 0) {
			rt_strlcpy(name, ri.name, cap);
			return 1;
		}
	return 0;
}

/* The stick at dev (its usb resource's dev=): ours already (the bind
 * rule's, which the hub hands over), or a slot connected at activate,
 * once the running driver has let go of it (state_release). */
static struct usbstor_dev *
standby_dev(const char *dev)
{
	struct usbstor_dev *d = dev_of_path(dev);
	char name[64];

	if (d)
		return d;
	if (!usb_res_of(dev, name, sizeof(name))) {
		slog(PB_LOG_WARN, "standby: no usb resource for %s to take "
		    "over", dev);
		return NULL;
	}
	if ((d = dev_new(name)))
		d->by_hand = 1;
	return d;
}

/* The stick (ours, or a slot for it) and the LUN a running driver's
 * disk names in its path= (dev=, then /lun:L), with the path; NULL when
 * it names none. */
static struct usbstor_dev *
standby_place(const char *props, char *path, unsigned *lun)
{
	char dev[USBSTOR_DEV_MAX];
	const char *at;
	uint64_t n;

	if (!rt_prop_get(props, "path", path, BLOCK_PATH_MAX))
		return NULL;
	for (at = path + strlen(path); at > path && *at != '/'; at--)
		;
	if (strncmp(at, "/lun:", 5) != 0 || (size_t)(at - path) >= sizeof(dev))
		return NULL;
	n = rt_strtou(at + 5, NULL, 10);
	memcpy(dev, path, (size_t)(at - path));
	dev[at - path] = '\0';
	if (n >= USBSTOR_LUNS)
		return NULL;
	*lun = (unsigned)n;
	return standby_dev(dev);
}

/* One disk of the running driver: its counterpart, same name and path. */
static void
standby_lun(const char *name, const char *props)
{
	char path[BLOCK_PATH_MAX];
	struct usbstor_dev *d;
	struct usbstor_lun *l;
	unsigned lun;

	if (!(d = standby_place(props, path, &lun)) || lun >= d->nlun_cap)
		return;
	l = &d->lun[lun];
	if (l->res)
		return;		/* listed twice: an older instance's, retired */
	if (strncmp(name, "block:usb", 9) == 0)
		d->no = (unsigned)rt_strtou(name + 9, NULL, 10);
	rt_strlcpy(l->name, name + sizeof(BLOCK_IFACE), sizeof(l->name));
	rt_strlcpy(l->path, path, sizeof(l->path));
	l->res = us.hub->publish(us.self, BLOCK_IFACE, l->name, props,
	    &usbstor_block_ops, l);
	l->present = l->res != NULL;
}

/* start(STANDBY): a counterpart for every disk the running usb-storage
 * publishes (read from the hub's inventory before we publish any). */
void
state_standby_devices(void)
{
	struct pb_res_info ri;
	struct { char name[64]; char props[USBSTOR_PROPS]; } *seen;
	unsigned n = 0, max = USBSTOR_DEVS * USBSTOR_LUNS;

	if (!(seen = us.hub->alloc(us.self, max * sizeof(*seen))))
		return;
	for (unsigned i = 0; n < max && res_at(i, &ri) == PB_OK; i++) {
		if (!ri.iface || strcmp(ri.iface, BLOCK_IFACE) != 0 ||
		    !ri.owner || strcmp(ri.owner, USBSTOR_NAME) != 0 ||
		    !ri.props || !ri.name)
			continue;
		rt_strlcpy(seen[n].name, ri.name, sizeof(seen[n].name));
		rt_strlcpy(seen[n].props, ri.props, sizeof(seen[n].props));
		n++;
	}
	/* Room for every LUN first: records move only before any is
	 * published (dev_luns). */
	for (unsigned i = 0; i < n; i++) {
		char path[BLOCK_PATH_MAX];
		struct usbstor_dev *d;
		unsigned lun;

		if ((d = standby_place(seen[i].props, path, &lun)))
			dev_luns(d, lun + 1);
	}
	for (unsigned i = 0; i < n; i++)
		standby_lun(seen[i].name, seen[i].props);
	us.hub->free(us.self, seen);
}

static void
drop_imported(void)
{
	if (us.imported)
		us.hub->free(us.self, us.imported);
	us.imported = NULL;
	us.nimported = 0;
}

/* The tail's LUNs, each onto our counterpart of its path. */
static void
import_tail(const uint8_t *at, size_t left)
{
	struct usbstor_state_tail t;

	if (left < sizeof(t))
		return;
	memcpy(&t, at, sizeof(t));
	if (t.magic != USBSTOR_STATE_MAGIC || t.lun_size !=
	    sizeof(struct usbstor_state_lun) || t.nluns > IMPORT_MAX ||
	    (left - sizeof(t)) / sizeof(struct usbstor_state_lun) < t.nluns)
		return;
	for (uint32_t k = 0; k < t.nluns; k++) {
		struct usbstor_state_lun s;
		struct usbstor_lun *l;
		const char *why = "";

		memcpy(&s, at + sizeof(t) + k * sizeof(s), sizeof(s));
		s.path[sizeof(s.path) - 1] = '\0';
		if (!(l = lun_of_path(s.path)) || s.lun != l->lun ||
		    !scsi_geometry_ok(s.block_count - 1, s.block_size, &why) ||
		    !s.block_count)
			continue;
		l->type = (uint8_t)s.type;
		l->block_size = s.block_size;
		l->block_count = s.block_count;
		l->flags = (s.flags & (BLOCK_RO | BLOCK_FLUSHES | BLOCK_FUA)) |
		    BLOCK_REMOVABLE;
		l->media_id = s.media_id;
		/* Words for a property, whoever wrote the blob. */
		scsi_ascii(l->vendor, (const uint8_t *)s.vendor,
		    strnlen(s.vendor, sizeof(l->vendor) - 1));
		scsi_ascii(l->product, (const uint8_t *)s.product,
		    strnlen(s.product, sizeof(l->product) - 1));
		scsi_ascii(l->rev, (const uint8_t *)s.rev,
		    strnlen(s.rev, sizeof(l->rev) - 1));
		l->known = 1;
	}
}

/* The block_state's requests, checked, into us.imported: every disk one
 * of our LUNs (unless it lists none), every request whole (and, while
 * running, one the LUN can run).  PB_ESTATE having kept nothing. */
static int
import_requests(const uint8_t *buf, size_t len)
{
	struct block_state st;
	uint32_t next = 0;

	memcpy(&st, buf, sizeof(st));
	if (st.ndisks > USBSTOR_DEVS * USBSTOR_LUNS || st.nreq > IMPORT_MAX ||
	    len < base_size(st.ndisks, st.nreq))
		return PB_ESTATE;
	if (st.nreq && !(us.imported = us.hub->alloc(us.self, st.nreq *
	    sizeof(*us.imported))))
		return PB_ENOMEM;
	for (uint32_t i = 0; i < st.ndisks; i++) {
		struct block_state_disk sd;
		struct usbstor_lun *l;

		memcpy(&sd, buf + sizeof(st) + i * sizeof(sd), sizeof(sd));
		if (strnlen(sd.path, BLOCK_PATH_MAX) == BLOCK_PATH_MAX ||
		    sd.first != next || sd.nreq > st.nreq - next)
			return PB_ESTATE;
		l = lun_of_path(sd.path);
		if (!l && sd.nreq) {
			slog(PB_LOG_WARN, "refusing the block state: %s is not "
			    "one of our disks", sd.path);
			return PB_ESTATE;
		}
		for (uint32_t k = 0; k < sd.nreq; k++) {
			struct block_req *r;

			memcpy(&r, buf + base_size(st.ndisks, 0) + (next + k) *
			    sizeof(r), sizeof(r));
			if (!r || r->size < sizeof(*r) ||
			    (!us.standby && io_check(l, r) != PB_OK))
				return PB_ESTATE;
			us.imported[us.nimported++] = (struct usbstor_held){
			    r, l->dev->index, l->lun };
		}
		next += sd.nreq;
	}
	return PB_OK;
}

/* Is r one the last export handed (the hub gives it back)? */
static int
handed(const struct block_req *r)
{
	for (uint32_t k = 0; k < us.nheld; k++)
		if (us.held[k].r == r) {
			us.held[k].r = NULL;
			return 1;
		}
	return 0;
}

/* A running import: the requests are ours from now on; those we handed
 * ourselves go first in their queues again, in their order. */
static void
take_imported(void)
{
	for (uint32_t k = us.nimported; k-- > 0;) {
		struct usbstor_held *h = &us.imported[k];

		if (handed(h->r)) {
			io_queue_first(us.dev[h->dev], h->r, h->lun);
			h->r = NULL;
		}
	}
	for (uint32_t k = 0; k < us.nimported; k++)
		if (us.imported[k].r)
			io_queue(us.dev[us.imported[k].dev], us.imported[k].r,
			    us.imported[k].lun);
	drop_imported();
	kick_all();
}

int
state_import(const void *buf, size_t len, uint32_t version)
{
	const struct block_state *st = buf;
	int err;

	drop_imported();
	if (!buf || !len)
		return PB_OK;		/* nothing handed over */
	if (version != BLOCK_STATE_VERSION || len < sizeof(*st)) {
		slog(PB_LOG_WARN, "refusing a state of version 0x%x", version);
		return PB_ESTATE;
	}
	if ((err = import_requests(buf, len)) != PB_OK) {
		drop_imported();
		return err;
	}
	if (!us.standby) {
		take_imported();
		return PB_OK;
	}
	import_tail((const uint8_t *)buf + base_size(st->ndisks, st->nreq),
	    len - base_size(st->ndisks, st->nreq));
	return PB_OK;
}

/* A stick taken over runs at once when every disk it has is known;
 * else (no tail, or a stick the bind rule gave us) it is probed. */
static void
take_dev(struct usbstor_dev *d, unsigned *sticks, unsigned *probing)
{
	int known = 1, any = 0;

	for (unsigned l = 0; l < d->nlun_cap; l++)
		if (d->lun[l].res) {
			any = 1;
			known &= d->lun[l].known;
		}
	if (any && known) {
		d->state = DEV_READY;
		(*sticks)++;
		return;
	}
	(*probing)++;
	probe_begin(d);
}

/* The sticks the running driver connected to by hand: ours now (it
 * let go at release).  PB_ENODEV when one cannot be had: the swap fails
 * and the old driver connects to them again. */
static int
connect_standby(void)
{
	for (unsigned i = 0; i < USBSTOR_DEVS; i++) {
		struct usbstor_dev *d = us.dev[i];
		struct pb_conn *c;

		if (!d || d->state != DEV_STANDBY || d->conn)
			continue;
		c = us.hub->connect(us.self, USB_IFACE, USB_MAJOR,
		    USBSTOR_USB_MINOR, d->res);
		if (!c) {
			slog(PB_LOG_ERR, "cannot take %s over: no connection",
			    d->res);
			return PB_ENODEV;
		}
		if (!dev_bind(d, c)) {
			us.hub->disconnect(us.self, c);
			return PB_ENODEV;
		}
	}
	return PB_OK;
}

int
state_activate(void)
{
	unsigned sticks = 0, probing = 0, nreq = us.nimported;
	int err;

	if (!us.standby)
		return PB_EINVAL;
	if ((err = connect_standby()) != PB_OK)
		return err;
	us.standby = 0;
	for (uint32_t k = 0; k < us.nimported; k++)
		io_queue(us.dev[us.imported[k].dev], us.imported[k].r,
		    us.imported[k].lun);
	drop_imported();
	for (unsigned i = 0; i < USBSTOR_DEVS; i++)
		if (us.dev[i] && us.dev[i]->state == DEV_STANDBY)
			take_dev(us.dev[i], &sticks, &probing);
	kick_all();
	slog(PB_LOG_INFO, "took over %u stick%s and %u request%s%s", sticks,
	    sticks == 1 ? "" : "s", nreq, nreq == 1 ? "" : "s", probing ?
	    "; probing the sticks handed over without their LUNs" : "");
	dev_scan();
	return PB_OK;
}

/* stop(): what import kept goes (never ours), as does what we handed. */
void
state_forget(void)
{
	drop_imported();
	if (us.held)
		us.hub->free(us.self, us.held);
	us.held = NULL;
	us.nheld = 0;
}
