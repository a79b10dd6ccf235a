/*
 * dev.c - the sticks: one `struct usbstor_dev` per `usb` connection.
 *
 * A stick is added for its connection: the bind rule's, or one made by
 * hand for another `usb` resource of our class (dev_scan: the hub binds
 * a module once, so the second stick reaches us through the `usb`
 * subscription).  Its identity is the resource's dev= property (abi/
 * usb.h: the controller's PCI function and the port chain, spelled as
 * efi/devpath.c spells the firmware's handle), each LUN's path= is dev=
 * plus /lun:L.  Its bulk endpoints come from the interface's descriptors.
 *
 * A stick that goes (its connection disconnected, or the bus cancelling
 * its requests) completes its queued requests PB_ECANCELED and withdraws
 * its disks at once; its slot is free once the bus has given back the
 * request it had in flight.  A stick that stops answering (dead) keeps
 * its disks, whose requests fail PB_ENODEV.
 */
#include "usbstor.h"

/* --- the hub's inventory ------------------------------------------------- */

/* The i-th resource of the hub's inventory. */
int
res_at(unsigned i, struct pb_res_info *ri)
{
	*ri = (struct pb_res_info){ .struct_size = sizeof(*ri) };
	if (HUB_HAS(us.hub, res_info_sized) && us.hub->res_info_sized)
		return us.hub->res_info_sized(NULL, i, ri);
	return us.hub->res_info ? us.hub->res_info(NULL, i, ri) : PB_ENOENT;
}

/* Resource `name`'s properties, client count and owner: PB_ENOENT when
 * there is no such resource. */
int
res_props_of(const char *name, char *buf, size_t cap, unsigned *clients,
    const char **owner)
{
	struct pb_res_info ri;

	for (unsigned i = 0; res_at(i, &ri) == PB_OK; i++) {
		if (!ri.name || strcmp(ri.name, name) != 0)
			continue;
		rt_strlcpy(buf, ri.props ? ri.props : "", cap);
		if (clients)
			*clients = ri.clients;
		if (owner)
			*owner = ri.owner;
		return PB_OK;
	}
	return PB_ENOENT;
}

static int
name_taken(const char *name)
{
	char full[8 + USBSTOR_NAME_MAX], props[8];

	rt_snprintf(full, sizeof(full), "%s:%s", BLOCK_IFACE, name);
	return res_props_of(full, props, sizeof(props), NULL, NULL) == PB_OK;
}

/* usbN: the lowest N no other stick of ours and no resource has. */
unsigned
dev_pick_no(const struct usbstor_dev *d)
{
	char name[USBSTOR_NAME_MAX];

	for (unsigned n = 0;; n++) {
		int mine = 0;

		for (unsigned i = 0; i < USBSTOR_DEVS; i++)
			mine |= dev_in_use(i) && us.dev[i] != d &&
			    us.dev[i]->no == n;
		rt_snprintf(name, sizeof(name), "usb%u", n);
		if (!mine && !name_taken(name))
			return n;
	}
}

/* --- timers -------------------------------------------------------------- */

static void
fire(struct usbstor_dev *d)
{
	enum timer_kind kind = d->timer_kind;

	d->timer_id = 0;
	d->timer_kind = TK_NONE;
	if (kind == TK_BOT)
		bot_timeout(d);
	else if (kind == TK_CANCEL)
		bot_cancel_wait_over(d);
	else if (kind == TK_WAIT && d->wait_fn)
		d->wait_fn(d);
	dev_maybe_free(d);
}

void
dev_timer_fired(void *arg)
{
	struct usbstor_dev *d = dev_of(arg, "a timer");

	if (d)
		fire(d);
	else
		sweep_timers();
}

/* The timers due (one ran with a damaged argument: it was one of them). */
void
sweep_timers(void)
{
	uint64_t now = us.hub->now_ns();

	for (unsigned i = 0; i < USBSTOR_DEVS; i++) {
		struct usbstor_dev *d = us.dev[i];

		if (d && d->timer_kind != TK_NONE && d->timer_at <= now)
			fire(d);
	}
}

void
dev_timer_off(struct usbstor_dev *d)
{
	if (d->timer_id)
		us.hub->timer_cancel(us.self, d->timer_id);
	d->timer_id = 0;
	d->timer_kind = TK_NONE;
}

/* The stick's one timer: `kind` in ns (replacing what was armed). */
void
dev_timer(struct usbstor_dev *d, uint64_t ns, enum timer_kind kind)
{
	int id;

	dev_timer_off(d);
	id = us.hub->timer_after(us.self, ns, dev_timer_fired, d);
	if (id <= 0) {
		slog(PB_LOG_ERR, "usb%u: no timer (%d): a stage has no "
		    "deadline", d->no, id);
		return;
	}
	d->timer_id = id;
	d->timer_kind = kind;
	d->timer_at = us.hub->now_ns() + ns;
}

/* fn(d) in ns, between two commands. */
void
dev_wait(struct usbstor_dev *d, uint64_t ns, void (*fn)(struct usbstor_dev *d))
{
	d->wait_fn = fn;
	dev_timer(d, ns, TK_WAIT);
	if (d->timer_kind != TK_WAIT)
		fn(d);		/* no timer: at once (the loops are counted) */
}

/* --- adding a stick ------------------------------------------------------ */

/* dev= of the usb resource; an older bus without it: path= less /if:N. */
static int
identity(struct usbstor_dev *d, const char *props)
{
	char *slash;

	if (rt_prop_get(props, "dev", d->dev, sizeof(d->dev)) && d->dev[0])
		return 1;
	if (!rt_prop_get(props, "path", d->dev, sizeof(d->dev)) || !d->dev[0])
		return 0;
	slash = d->dev + strlen(d->dev);
	while (slash > d->dev && *slash != '/')
		slash--;
	if (strncmp(slash, "/if:", 4) == 0)
		*slash = '\0';
	return 1;
}

/* The bulk-IN and bulk-OUT endpoints of the interface (MSC BOT §4.3). */
static int
endpoints(struct usbstor_dev *d)
{
	uint8_t desc[512];
	size_t len = 0;

	if (PB_CALL(d->conn, usb_ops, descriptors, desc, sizeof(desc), &len) !=
	    PB_OK)
		return 0;
	if (len > sizeof(desc))
		len = sizeof(desc);
	for (size_t at = 0; at + 2 <= len && desc[at] >= 2; at += desc[at]) {
		const uint8_t *e = desc + at;

		if (e[1] != USB_DT_ENDPOINT || at + 7 > len ||
		    (e[3] & 3) != USB_EP_BULK)
			continue;
		if ((e[2] & USB_DIR_IN) && !d->ep_in)
			d->ep_in = e[2];
		else if (!(e[2] & USB_DIR_IN) && !d->ep_out)
			d->ep_out = e[2];
	}
	return d->ep_in && d->ep_out;
}

/* Its identity from the usb resource's properties, and its LUNs' paths. */
static int
identify(struct usbstor_dev *d)
{
	char props[USBSTOR_PROPS];

	if (res_props_of(d->res, props, sizeof(props), NULL, NULL) != PB_OK ||
	    !identity(d, props))
		return 0;
	rt_prop_get(props, "serial", d->serial, sizeof(d->serial));
	for (unsigned l = 0; l < d->nlun_cap; l++)
		rt_snprintf(d->lun[l].path, sizeof(d->lun[l].path), "%s/lun:%u",
		    d->dev, l);
	return 1;
}

static const char *
describe(struct usbstor_dev *d)
{
	struct usb_info ui = { .size = sizeof(ui) };

	if (!identify(d))
		return "its resource has no dev= (no identity)";
	if (PB_CALL(d->conn, usb_ops, info, &ui) != PB_OK ||
	    ui.size < offsetof(struct usb_info, dma_limit) + 8)
		return "the bus does not describe it";
	if (ui.cls != USB_CLASS_STORAGE || ui.subclass != MSC_SUBCLASS_SCSI ||
	    ui.protocol != MSC_PROTOCOL_BOT)
		return "it is not SCSI over Bulk-Only Transport";
	d->iface = ui.iface;
	d->speed = ui.speed;
	d->max_transfer = ui.max_transfer;
	d->max_segs = ui.max_segments;
	d->dma_limit = ui.dma_limit ? ui.dma_limit : ~0ull;
	d->ep_in = d->ep_out = 0;
	if (!endpoints(d))
		return "its interface lacks a bulk-IN or bulk-OUT endpoint";
	if (d->max_transfer < 4096 || !d->max_segs)
		return "the bus takes too little per request";
	if (!d->dma)
		d->dma = us.hub->dma_alloc(us.self, DMA_SIZE, 64, 0,
		    d->dma_limit, &d->dma_bus);
	if (!d->dma)
		return "no DMA memory";
	return NULL;
}

static struct usbstor_dev *
free_slot(void)
{
	struct usbstor_dev *d;

	for (unsigned i = 0; i < USBSTOR_DEVS; i++)
		if ((d = us.dev[i]) && d->state == DEV_FREE &&
		    !d->bot.in_flight)
			return d;
	for (unsigned i = 0; i < USBSTOR_DEVS; i++)
		if (!us.dev[i] && (d = us.hub->alloc(us.self, sizeof(*d)))) {
			memset(d, 0, sizeof(*d));
			d->index = i;
			return us.dev[i] = d;
		}
	return NULL;
}

/* A slot for the stick of usb resource `res`, not connected yet. */
struct usbstor_dev *
dev_new(const char *res)
{
	struct usbstor_dev *d = free_slot();
	struct usbstor_lun *luns;
	unsigned index, cap;

	if (!d) {
		slog(PB_LOG_WARN, "%s: more than %u sticks, or no memory: not "
		    "driven", res, USBSTOR_DEVS);
		return NULL;
	}
	if (!(luns = d->lun) && !(luns = us.hub->alloc(us.self,
	    sizeof(*luns)))) {
		slog(PB_LOG_ERR, "%s: no memory for its LUNs: not driven", res);
		return NULL;
	}
	cap = d->lun ? d->nlun_cap : 1;
	index = d->index;
	memset(d, 0, sizeof(*d));
	memset(luns, 0, cap * sizeof(*luns));
	d->lun = luns;
	d->nlun_cap = (uint8_t)cap;
	d->index = index;
	rt_strlcpy(d->res, res, sizeof(d->res));
	us.hub->work_init(us.self, &d->bot.req.done, bot_req_done, d);
	us.hub->work_init(us.self, &d->kick, io_dispatch, d);
	for (unsigned l = 0; l < d->nlun_cap; l++) {
		d->lun[l].dev = d;
		d->lun[l].lun = (uint8_t)l;
		d->lun[l].media_id = 1;
	}
	d->state = DEV_STANDBY;
	if (!identify(d)) {
		slog(PB_LOG_WARN, "%s: not driven: its resource has no dev= "
		    "(no identity)", res);
		d->state = DEV_FREE;
		return NULL;
	}
	return d;
}

/* The stick on connection c: described, its DMA block taken.  0, said
 * in one line, when we cannot drive it. */
int
dev_bind(struct usbstor_dev *d, struct pb_conn *c)
{
	const char *why;

	d->conn = c;
	if ((why = describe(d))) {
		slog(PB_LOG_WARN, "%s: not driven: %s", d->res, why);
		d->conn = NULL;
		return 0;
	}
	return 1;
}

/* A stick for connection c, ready to attach (or to take over); NULL
 * when we cannot drive it. */
struct usbstor_dev *
dev_add(struct pb_conn *c)
{
	struct usbstor_dev *d = dev_new(c->res ? c->res : "");

	if (!d)
		return NULL;
	if (!dev_bind(d, c)) {
		struct usbstor_lun *luns = d->lun;	/* the slot's */
		uint8_t cap = d->nlun_cap;

		if (d->dma)
			us.hub->dma_free(us.self, d->dma);
		memset(d, 0, sizeof(*d));
		d->lun = luns;
		d->nlun_cap = cap;
		return NULL;
	}
	return d;
}

/* Room for n LUN records (GET MAX LUN + 1, or a swap's LUN n - 1): 1
 * when there is.  The records move, so they grow only while none of the
 * stick's is published; 0 when some is, or with no memory.  (16 records
 * for every stick were 2.5 KiB, two pages of data with the rest: issue
 * 16.) */
int
dev_luns(struct usbstor_dev *d, unsigned n)
{
	struct usbstor_lun *luns;
	unsigned had = d->nlun_cap;

	if (n <= had)
		return 1;
	for (unsigned l = 0; l < had; l++)
		if (d->lun[l].res)
			return 0;
	if (n > USBSTOR_LUNS || !(luns = us.hub->alloc(us.self,
	    n * sizeof(*luns))))
		return 0;
	memset(luns, 0, n * sizeof(*luns));
	memcpy(luns, d->lun, had * sizeof(*luns));
	us.hub->free(us.self, d->lun);
	d->lun = luns;
	d->nlun_cap = (uint8_t)n;
	for (unsigned l = had; l < n; l++) {
		luns[l].dev = d;
		luns[l].lun = (uint8_t)l;
		luns[l].media_id = 1;
		rt_snprintf(luns[l].path, sizeof(luns[l].path), "%s/lun:%u",
		    d->dev, l);
	}
	return 1;
}

struct usbstor_dev *
dev_of_conn(const struct pb_conn *c)
{
	for (unsigned i = 0; i < USBSTOR_DEVS; i++)
		if (dev_in_use(i) && us.dev[i]->conn == c)
			return us.dev[i];
	return NULL;
}

struct usbstor_dev *
dev_of_path(const char *dev)
{
	for (unsigned i = 0; i < USBSTOR_DEVS; i++)
		if (dev_in_use(i) && us.dev[i]->state != DEV_GONE &&
		    strcmp(us.dev[i]->dev, dev) == 0)
			return us.dev[i];
	return NULL;
}

/* The stick of `res` we handed over at a swap, not connected again. */
struct usbstor_dev *
dev_handed(const char *res)
{
	for (unsigned i = 0; i < USBSTOR_DEVS; i++)
		if (dev_in_use(i) && us.dev[i]->handed && !us.dev[i]->conn &&
		    res && strcmp(us.dev[i]->res, res) == 0)
			return us.dev[i];
	return NULL;
}

/* A stick gone waits for the bus to give back its command, which a
 * controller restarted without its requests never does (USB_HCI_FRESH:
 * a rolled back controller swap); the bus plugs the stick in again
 * under the same resource name meanwhile, and that one is not driven. */
static int
driven(const char *resname)
{
	for (unsigned i = 0; i < USBSTOR_DEVS; i++)
		if (dev_in_use(i) && us.dev[i]->state != DEV_GONE &&
		    strcmp(us.dev[i]->res, resname) == 0)
			return 1;
	return 0;
}

static int
ours(const char *props)
{
	char v[8];

	return rt_prop_get(props, "class", v, sizeof(v)) &&
	    strcmp(v, "08") == 0 &&
	    rt_prop_get(props, "subclass", v, sizeof(v)) &&
	    strcmp(v, "06") == 0 &&
	    rt_prop_get(props, "protocol", v, sizeof(v)) &&
	    strcmp(v, "50") == 0;
}

static int
declined(const char *resname)
{
	for (unsigned i = 0; i < USBSTOR_DEVS; i++)
		if (strcmp(us.declined[i], resname) == 0)
			return 1;
	return 0;
}

/* Every `usb` resource of our class that nobody drives: connected by
 * hand and attached (the bind rule brought us only the first); one we
 * could not drive is not tried again. */
void
dev_scan(void)
{
	struct pb_res_info ri;

	if (us.standby || us.quiesced || us.released)
		return;
	for (unsigned i = 0; res_at(i, &ri) == PB_OK; i++) {
		struct pb_conn *c;
		struct usbstor_dev *d;

		if (!ri.name || !ri.iface || strcmp(ri.iface, USB_IFACE) != 0 ||
		    ri.clients || !ri.props || !ours(ri.props) ||
		    driven(ri.name) || declined(ri.name))
			continue;
		if (!(c = us.hub->connect(us.self, USB_IFACE, USB_MAJOR,
		    USBSTOR_USB_MINOR, ri.name)))
			continue;
		if (!(d = dev_add(c))) {
			rt_strlcpy(us.declined[us.ndeclined++ % USBSTOR_DEVS],
			    ri.name, sizeof(us.declined[0]));
			us.hub->disconnect(us.self, c);
			continue;
		}
		d->by_hand = 1;
		probe_begin(d);
	}
}

/* --- going --------------------------------------------------------------- */

static void
withdraw_all(struct usbstor_dev *d)
{
	for (unsigned l = 0; l < d->nlun_cap; l++)
		lun_withdraw(&d->lun[l]);
}

/* Gone: queued requests complete PB_ECANCELED, the disks go; the one
 * under way completes when its command ends (bot.c: PB_ECANCELED). */
void
dev_gone(struct usbstor_dev *d, const char *why)
{
	unsigned n = d->nqueued + (d->cur ? 1 : 0);

	if (d->state == DEV_GONE || d->state == DEV_FREE)
		return;
	if (d->state == DEV_READY || d->state == DEV_DEAD)
		slog(PB_LOG_INFO, "usb%u: the stick went (%s): %u request%s "
		    "cancelled, its disks withdrawn", d->no, why, n,
		    n == 1 ? "" : "s");
	else
		slog(PB_LOG_INFO, "%s: the stick went (%s)", d->res, why);
	d->state = DEV_GONE;
	if (d->timer_kind == TK_WAIT)
		dev_timer_off(d);
	io_fail_all(d, PB_ECANCELED);
	withdraw_all(d);
}

/* The connection went (PB_EV_DISCONNECTED): it is never used again. */
void
dev_disconnected(struct usbstor_dev *d)
{
	if (us.released) {
		/* Handed over in a swap: the next driver has the stick.  The
		 * record stays, its disks with it, until our stop: if that
		 * driver faults in its watch window, the hub connects us to
		 * the stick again before our resume (dev_handed). */
		d->conn = NULL;
		io_forget(d);
		d->handed = 1;
		return;
	} else {
		dev_gone(d, "disconnected");
		d->conn = NULL;
	}
	dev_maybe_free(d);
}

/* Stopped answering: the disks stay, every request fails PB_ENODEV. */
void
dev_dead(struct usbstor_dev *d)
{
	if (d->state != DEV_GONE)
		d->state = DEV_DEAD;
	if (d->nqueued)
		slog(PB_LOG_ERR, "usb%u: %u queued request%s fail PB_ENODEV",
		    d->no, d->nqueued, d->nqueued == 1 ? "" : "s");
	io_fail_all(d, PB_ENODEV);
}

/* A gone stick's slot, free once nothing of it is the bus's. */
void
dev_maybe_free(struct usbstor_dev *d)
{
	if (d->state != DEV_GONE || d->conn || d->bot.in_flight)
		return;
	dev_forget(d);
}

/* Everything of the stick let go (its requests must be gone already). */
void
dev_forget(struct usbstor_dev *d)
{
	int in_flight = d->bot.in_flight;

	dev_timer_off(d);
	if (in_flight && d->conn)
		PB_CALL(d->conn, usb_ops, cancel, 0xff);
	us.hub->work_cancel(us.self, &d->kick);
	if (!in_flight) {
		us.hub->work_cancel(us.self, &d->bot.req.done);
		if (d->dma)
			us.hub->dma_free(us.self, d->dma);
		d->dma = NULL;	/* else freed when the bus gives it back */
	}
	d->state = DEV_FREE;
	d->conn = NULL;
	d->res[0] = '\0';
	d->bot.in_flight = in_flight;	/* the slot waits for it */
}
