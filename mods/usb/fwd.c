/*
 * fwd.c - the `usb` operations a class driver calls on its interface.
 *
 * submit checks the request, then hands it to the controller with
 * req->dev set: its completion goes straight to the class driver.  It
 * refuses (PB_EINVAL, one log line) SET_ADDRESS, SET_CONFIGURATION and
 * SET_INTERFACE (the bus owns the device's state), an endpoint that is
 * not one of the interface's (alternate setting 0), and a replayed
 * request (USB_REQ_REPLAY) that is not host-to-device with at most 8
 * bytes.  CLEAR_HALT and HUB_CONFIG take a step of the bus first, PORT_ON
 * and PORT_OFF are the bus's own (aux.c), RESET_DEVICE too (reset.c).
 * While the device is found again after a controller swap or its reset,
 * requests wait in the bus, in order, and go when it is back
 * (held_release).
 */
#include "bus.h"

static int
refuse(struct uif *f, const char *what)
{
	bus_log(PB_LOG_ERR, "usb:%s: %s refused", f->name, what);
	return PB_EINVAL;
}

/* Is ep one of f's enabled endpoints? */
static int
ep_of(const struct uif *f, uint8_t ep)
{
	const struct desc_cfg *c = &f->dev->cfg;

	for (unsigned i = 0; i < f->d.nep; i++) {
		const struct desc_ep *e = &c->eps[f->d.ep_first + i];

		if (e->addr == ep && e->enable)
			return 1;
	}
	return 0;
}

/* A control request on the default pipe. */
static int
check_control(struct uif *f, const struct usb_req *r)
{
	const struct usb_setup *s = &r->u.setup;
	int standard = (s->bmRequestType & 0x60) == USB_TYPE_STANDARD;

	if (standard && s->bRequest == USB_REQ_SET_ADDRESS)
		return refuse(f, "SET_ADDRESS");
	if (standard && s->bRequest == USB_REQ_SET_CONFIGURATION)
		return refuse(f, "SET_CONFIGURATION");
	if (standard && s->bRequest == USB_REQ_SET_INTERFACE)
		return refuse(f, "SET_INTERFACE");
	if (s->wLength != r->length)
		return refuse(f, "a control request whose wLength is not its "
		    "length");
	if ((r->flags & USB_REQ_REPLAY) && ((s->bmRequestType & USB_DIR_IN) ||
	    s->wLength > BUS_REPLAY_DATA))
		return refuse(f, "a replayed request that is not host-to-device "
		    "with at most 8 bytes");
	return PB_OK;
}

static int
check_segs(struct uif *f, const struct usb_req *r)
{
	uint64_t sum = 0;

	if (r->length && (!r->segs || !r->nseg))
		return refuse(f, "a transfer without segments");
	for (unsigned i = 0; r->length && i < r->nseg; i++)
		sum += r->segs[i].len;
	if (r->length && sum != r->length)
		return refuse(f, "a transfer whose segments are not its length");
	return PB_OK;
}

static int
check(struct uif *f, const struct usb_req *r)
{
	char what[48];

	switch (r->op) {
	case USB_OP_XFER:
		if (check_segs(f, r) != PB_OK)
			return PB_EINVAL;
		if (r->ep == 0)
			return check_control(f, r);
		if (ep_of(f, r->ep))
			return PB_OK;
		rt_snprintf(what, sizeof(what), "endpoint 0x%02x (not its own)",
		    r->ep);
		return refuse(f, what);
	case USB_OP_CLEAR_HALT:
		if (r->ep == 0 || ep_of(f, r->ep))
			return PB_OK;
		rt_snprintf(what, sizeof(what), "CLEAR_HALT of endpoint 0x%02x "
		    "(not its own)", r->ep);
		return refuse(f, what);
	case USB_OP_HUB_CONFIG:
		if (f->d.cls != USB_CLASS_HUB)
			return refuse(f, "HUB_CONFIG of an interface that is "
			    "not a hub");
		if (!r->u.hub.nports || r->u.hub.ttt > 3 || r->u.hub.mtt > 1)
			return refuse(f, "HUB_CONFIG out of range");
		return PB_OK;
	case USB_OP_RESET_DEVICE:
	case USB_OP_HUB_RESET_WAIT:
		if (r->length)
			return refuse(f, "a reset request with data");
		return PB_OK;
	case USB_OP_PORT_ON:
	case USB_OP_PORT_OFF:
		if (f->d.cls != USB_CLASS_HUB)
			return refuse(f, "PORT_ON/OFF of an interface that is "
			    "not a hub");
		if (!r->u.port.port || (r->op == USB_OP_PORT_ON &&
		    (r->u.port.speed < USB_SPEED_LOW ||
		    r->u.port.speed > USB_SPEED_SUPER_PLUS)))
			return refuse(f, "PORT_ON/OFF out of range");
		return PB_OK;
	}
	rt_snprintf(what, sizeof(what), "op %u", r->op);
	return refuse(f, what);
}

/* Hand r on (the device is ready).  queued: it waited in the bus, so a
 * refusal completes it instead of being returned. */
int
fwd_dispatch(struct uif *f, struct usb_req *r, int queued)
{
	struct udev *d = f->dev;
	int e;

	switch (r->op) {
	case USB_OP_CLEAR_HALT:
	case USB_OP_HUB_CONFIG:
		aux_enqueue(d, r);
		return PB_OK;
	case USB_OP_PORT_ON:
		port_on(f, r);
		return PB_OK;
	case USB_OP_PORT_OFF:
		port_off(f, r);
		return PB_OK;
	}
	r->dev = d->num;
	e = hci_submit(d->hci, r);
	if (e == PB_EFAULT) {
		swap_fault_hold(d, r);	/* its controller is restarted */
		return PB_OK;
	}
	if (e == PB_EBUSY && queued)
		return PB_OK;	/* the controller holds it already: taken
				 * with its state at the restart above */
	if (e != PB_OK && queued) {
		req_complete(r, e);
		return PB_OK;
	}
	return e;
}

static int
if_submit(void *ctx, struct usb_req *r)
{
	struct uif *f = ctx;
	struct udev *d = f->dev;
	int e;

	if (!r || r->size < sizeof(*r))
		return PB_EINVAL;
	if (!d || !f->res || d->state == D_GONE)
		return PB_ENODEV;
	if ((e = check(f, r)) != PB_OK)
		return e;
	if (r->op == USB_OP_XFER && r->ep == 0 && (r->flags & USB_REQ_REPLAY))
		replay_note(d, r);
	bscr(r)->next = NULL;
	bscr(r)->f = f;
	f->client = r->done.owner;
	if (r->op == USB_OP_RESET_DEVICE)
		return reset_start(f, r);
	if (r->op == USB_OP_HUB_RESET_WAIT)
		return reset_wait_take(f, r);
	if (d->state != D_READY) {
		held_add(d, r);
		return PB_OK;
	}
	return fwd_dispatch(f, r, 0);
}

static int
if_info(void *ctx, struct usb_info *out)
{
	struct uif *f = ctx;
	struct udev *d = f->dev;
	struct usb_info i;
	size_t n;

	if (!out || out->size < offsetof(struct usb_info, vid))
		return PB_EINVAL;
	if (!d || !f->res)
		return PB_ENODEV;
	i = (struct usb_info){ .size = sizeof(i), .vid = d->dd.idVendor,
	    .pid = d->dd.idProduct, .bcd_device = d->dd.bcdDevice,
	    .ep0_mps = d->mps0, .speed = d->speed, .iface = f->d.num,
	    .alt = 0, .config = d->cfg.value, .cls = f->d.cls,
	    .subclass = f->d.subclass, .protocol = f->d.protocol,
	    .max_transfer = d->hci->info.max_transfer,
	    .max_segments = d->hci->info.max_segments,
	    .dma_limit = d->hci->info.dma_limit, .resets = d->resets };
	n = out->size < sizeof(i) ? out->size : sizeof(i);
	i.size = (uint32_t)n;
	memcpy(out, &i, n);
	return PB_OK;
}

static int
if_descriptors(void *ctx, void *buf, size_t cap, size_t *len)
{
	struct uif *f = ctx;
	struct udev *d = f->dev;

	if (!len || (cap && !buf))
		return PB_EINVAL;
	if (!d || !f->res || !d->cfgbuf)
		return PB_ENODEV;
	*len = f->d.len;
	memcpy(buf, d->cfgbuf + f->d.off, cap < f->d.len ? cap : f->d.len);
	return PB_OK;
}

/* Is f an interface of a device in the table? */
static int
uif_live(const struct uif *f)
{
	for (unsigned i = 0; f && i < BUS_DEVS; i++) {
		const struct udev *d = bus_devs[i];

		if (d && d->ifs && f >= d->ifs && f < d->ifs + d->nifs)
			return f->dev == d;
	}
	return 0;
}

/* --- requests held in the bus -------------------------------------------- */

void
held_add(struct udev *d, struct usb_req *r)
{
	bscr(r)->next = NULL;
	if (d->held_tail)
		bscr(d->held_tail)->next = r;
	else
		d->held_head = r;
	d->held_tail = r;
}

/* Take out of d's held list the requests of f (on ep, or all: 0xff)
 * and return them linked, oldest first. */
static struct usb_req *
held_take(struct udev *d, const struct uif *f, uint8_t ep)
{
	struct usb_req **at = &d->held_head, *taken = NULL, **tail = &taken;

	d->held_tail = NULL;
	while (*at) {
		struct usb_req *r = *at;

		if ((!f || bscr(r)->f == f) && (ep == 0xff || r->ep == ep)) {
			*at = bscr(r)->next;
			bscr(r)->next = NULL;
			*tail = r;
			tail = &bscr(r)->next;
			continue;
		}
		d->held_tail = r;
		at = &bscr(r)->next;
	}
	return taken;
}

/* The device is ready: what waited goes, in order. */
void
held_release(struct udev *d)
{
	struct usb_req *r = held_take(d, NULL, 0xff);

	while (r && d->state == D_READY) {
		struct usb_req *next = bscr(r)->next;

		fwd_dispatch(bscr(r)->f, r, 1);
		r = next;
	}
	while (r) {		/* the device went meanwhile */
		struct usb_req *next = bscr(r)->next;

		req_complete(r, PB_ECANCELED);
		r = next;
	}
}

void
held_fail_all(struct udev *d, int status)
{
	struct usb_req *r = held_take(d, NULL, 0xff);

	while (r) {
		struct usb_req *next = bscr(r)->next;

		req_complete(r, status);
		r = next;
	}
	aux_forget(d, NULL, status);
}

static int
if_cancel(void *ctx, uint8_t ep)
{
	struct uif *f = ctx;
	struct udev *d = f->dev;
	struct usb_req *r;

	if (!d || d->state == D_GONE)
		return PB_OK;
	if (ep == USB_EP_HUB_RESET_WAIT) {
		reset_wait_end(d, f, PB_ECANCELED);
		return PB_OK;
	}
	if (ep != 0xff && ep != 0 && !ep_of(f, ep))
		return PB_EINVAL;
	for (r = held_take(d, f, ep); r; ) {
		struct usb_req *next = bscr(r)->next;

		req_complete(r, PB_ECANCELED);
		r = next;
	}
	if (ep == 0xff) {
		aux_forget(d, f, PB_ECANCELED);
		reset_wait_end(d, f, PB_ECANCELED);
		hci_cancel(d->hci, d->num, 0);
		for (unsigned i = 0; i < f->d.nep; i++)
			hci_cancel(d->hci, d->num,
			    d->cfg.eps[f->d.ep_first + i].addr);
	} else {
		hci_cancel(d->hci, d->num, ep);
	}
	return PB_OK;
}

/* A class driver goes: its requests are its memory, about to be taken
 * back.  The bus lets go of those it holds without a word, and the
 * controller drops the rest before this returns, its endpoints stopped
 * (usb-hci forget: the driver's requests are those whose `done` is its).
 * When the controller could not, the hub is told (conn->ops NULL): it
 * keeps the driver's memory. */
void
fwd_client_gone(struct pb_conn *c)
{
	struct uif *f = c && c->ops == &bus_usb_ops ? c->ctx : NULL;
	struct udev *d = uif_live(f) ? f->dev : NULL;
	int e;

	if (!d || d->state == D_GONE)
		return;
	held_take(d, f, 0xff);
	aux_forget(d, f, 0);
	if (d->reset_req && bscr(d->reset_req)->f == f)
		d->reset_req = NULL;	/* it goes on, unanswered */
	reset_wait_end(d, f, 0);
	for (unsigned i = 0; i < BUS_DEVS; i++) {
		struct udev *k = bus_devs[i];

		if (k && k->parent == d && k->port_on &&
		    bscr(k->port_on)->f == f)
			k->port_on = NULL;
	}
	if (!f->client)
		return;		/* it never sent the controller anything */
	e = hci_forget(d->hci, d->num, f->client);
	f->client = NULL;
	if (e == PB_OK)
		return;
	bus_log(PB_LOG_ERR, "usb:%s: its driver went but the controller did "
	    "not drop its requests (%s): its memory stays out of use",
	    f->name, status_name(e));
	c->ops = NULL;
}

const struct usb_ops bus_usb_ops = {
	.info = if_info,
	.descriptors = if_descriptors,
	.submit = if_submit,
	.cancel = if_cancel,
};
