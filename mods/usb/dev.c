/*
 * dev.c - the device table.  A device's number (`dev`, what the
 * controller knows it by) is its index + 1: stable for its life, across
 * controller swaps too, and not given to another device until the
 * controller has answered its USB_OP_REMOVE.
 *
 * Removal takes the subtree, children first: the interfaces are
 * withdrawn (their class drivers hear PB_EV_DISCONNECTED), the requests
 * the bus holds for them complete with PB_ECANCELED, the controller is
 * told (USB_OP_REMOVE cancels what it has), and the record is freed once
 * none of the bus's own requests is out.
 */
#include "bus.h"

struct udev *bus_devs[BUS_DEVS];

void
req_init(struct udev *d, struct usb_req *r, pb_work_fn fn)
{
	memset(r, 0, sizeof(*r));
	r->size = sizeof(*r);
	r->dev = d->num;
	r->client_data = d;
	bus_hub->work_init(bus_self, &r->done, fn, r);
}

struct udev *
dev_new(struct hci *h, struct udev *parent, uint8_t port, uint8_t speed)
{
	unsigned depth = parent ? parent->depth + 1u : 0, i;
	struct udev *d;

	if (depth >= BUS_TIERS)
		return NULL;
	for (i = 0; i < BUS_DEVS && bus_devs[i]; i++)
		;
	if (i == BUS_DEVS || !(d = bus_hub->alloc(bus_self, sizeof(*d))))
		return NULL;
	memset(d, 0, sizeof(*d));
	d->buf = bus_hub->dma_alloc(bus_self, BUS_BUF, 64, 0,
	    h->info.dma_limit, &d->buf_bus);
	if (!d->buf) {
		bus_hub->free(bus_self, d);
		return NULL;
	}
	d->num = i + 1;
	d->hci = h;
	d->parent = parent;
	d->port = port;
	d->speed = speed;
	d->depth = (uint8_t)depth;
	d->removed = 1;			/* no slot until its ADD */
	if (parent)
		memcpy(d->chain, parent->chain, depth);
	d->chain[depth] = port;
	dev_name_fmt(d->name, sizeof(d->name), h->num, d->chain, depth + 1);
	dev_place_fmt(d->place, sizeof(d->place), h->path, d->chain,
	    depth + 1);
	bus_devs[i] = d;
	return d;
}

/* The device on port of parent (NULL: a root port), gone ones aside. */
struct udev *
dev_at(struct hci *h, struct udev *parent, uint8_t port)
{
	for (unsigned i = 0; i < BUS_DEVS; i++) {
		struct udev *d = bus_devs[i];

		if (d && d->hci == h && d->parent == parent && d->port == port &&
		    d->state != D_GONE)
			return d;
	}
	return NULL;
}

struct udev *
dev_by_num(struct hci *h, uint32_t num)
{
	struct udev *d;

	if (num == 0 || num > BUS_DEVS || !(d = bus_devs[num - 1]))
		return NULL;
	return d->hci == h && d->state != D_GONE ? d : NULL;
}

/* What the configuration left: the device is someone else now, or gone. */
void
dev_forget_config(struct udev *d)
{
	if (d->cfgbuf)
		bus_hub->dma_free(bus_self, d->cfgbuf);
	d->cfgbuf = NULL;
	d->cfg_len = 0;
	memset(&d->cfg, 0, sizeof(d->cfg));
	if (d->ifs)
		memset(d->ifs, 0, d->nifs * sizeof(*d->ifs));
	memset(&d->hub, 0, sizeof(d->hub));
	d->nrp = 0;
	d->product[0] = d->serial[0] = '\0';
	d->langid = 0;
}

/* Free d whatever is out (its controller is gone, or the bus stops). */
void
dev_free_now(struct udev *d)
{
	bus_hub->work_cancel(bus_self, &d->ctl.done);
	bus_hub->work_cancel(bus_self, &d->aux.done);
	bus_hub->work_cancel(bus_self, &d->rm.done);
	d->ctl_busy = d->aux_busy = d->rm_busy = 0;
	d->state = D_GONE;
	dev_maybe_free(d);
}

void
dev_maybe_free(struct udev *d)
{
	if (d->state != D_GONE || d->ctl_busy || d->aux_busy || d->rm_busy)
		return;
	if (d->hci && d->hci->adding == d)
		d->hci->adding = NULL;
	dev_forget_config(d);
	if (d->buf)
		bus_hub->dma_free(bus_self, d->buf);
	if (d->ifs)
		bus_hub->free(bus_self, d->ifs);
	bus_devs[d->num - 1] = NULL;
	bus_hub->free(bus_self, d);
}

/* Tell the controller d has gone (it cancels what it still has, frees
 * the slot): PB_OK when the REMOVE is on its way (enum_rm_done). */
int
dev_unaddress(struct udev *d)
{
	int r;

	if (!d->hci->conn || d->rm_busy || d->removed)
		return PB_ENODEV;
	req_init(d, &d->rm, enum_rm_done);
	d->rm.op = USB_OP_REMOVE;
	d->rm_busy = 1;
	d->removed = 1;
	if ((r = hci_submit(d->hci, &d->rm)) == PB_OK)
		return PB_OK;
	d->rm_busy = 0;
	if (r != PB_ENODEV)
		bus_log(PB_LOG_WARN, "%s: REMOVE: %s", d->name, status_name(r));
	return r;
}

/*
 * d and everything below it go, with one log line: "1-5.2: unplugged",
 * ended by why when not NULL ("(it stopped answering)").  A device not
 * announced yet says "gone while being enumerated", or nothing when why
 * is "" (its enumeration said why it gave up).
 */
void
dev_remove(struct udev *d, const char *why)
{
	if (d->state == D_GONE || d->state == D_FREE)
		return;
	for (unsigned i = 0; i < BUS_DEVS; i++)
		if (bus_devs[i] && bus_devs[i]->parent == d)
			dev_remove(bus_devs[i], "(its hub went)");
	d->state = D_GONE;
	if_withdraw_all(d);
	held_fail_all(d, PB_ECANCELED);
	reset_end(d, PB_ENODEV);
	reset_wait_end(d, NULL, PB_ECANCELED);
	if (d->port_on) {
		req_complete(d->port_on, PB_ECANCELED);
		d->port_on = NULL;
	}
	if (d->announced)
		bus_log(PB_LOG_INFO, "%s: unplugged%s%s", d->name,
		    why && why[0] ? " " : "", why ? why : "");
	else if (!why || why[0])
		bus_log(PB_LOG_INFO, "%s: gone while being enumerated%s%s",
		    d->name, why ? " " : "", why ? why : "");
	if (d->hci && d->hci->adding == d)
		d->hci->adding = NULL;
	dev_unaddress(d);
	enum_add_next(d->hci);
	dev_maybe_free(d);
}
