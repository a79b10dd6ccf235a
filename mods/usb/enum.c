/*
 * enum.c - enumerating a device (USB 2.0 §9.1.2 and §9.4, USB 3.2 §9.1.2
 * and §9.4), one request at a time through the device's `ctl` request:
 *
 *   ADD          the controller enables a slot and addresses the device
 *                (one device of a controller at a time: address 0)
 *   DEV8, MPS    full speed: the first 8 bytes of the device descriptor,
 *                then the default pipe's real max packet (xHCI §4.6.7)
 *   SETADDR      two steps only (below): the address, after DEV8 and MPS
 *   DEV          the device descriptor
 *   CFG9, CFG    the first configuration: 9 bytes, then wTotalLength
 *                (at most DESC_CONFIG_MAX), checked whole (desc.c)
 *   LANG ...     string 0, then product and serial (failures tolerated)
 *   EP           USB_OP_EP_ENABLE for every endpoint of the alternate
 *                settings 0, with its SuperSpeed companion
 *   SETCFG       SET_CONFIGURATION
 *   HUB, REPLAY, RESUME   after a swap only (swap.c): the hub's slot
 *                fields, the class drivers' replayed requests, then the
 *                controller runs what it held
 *
 * After a swap (`again`), DEV checks the same vid:pid came back (and
 * SERIAL the same serial); the configuration read before is kept.
 * Each attempt has a deadline (BUS_ENUM_NS) on top of the controller's
 * own timeouts; a failure is one log line, the device is removed from
 * the controller (USB_OP_REMOVE) and the whole enumeration tried once
 * more, then given up with one more line.
 *
 * Two orders of addressing (HARDWARE.md: some devices want one, some the
 * other), each attempt the other one: the address first (ADD sends
 * SET_ADDRESS, then the descriptor is read), or in two steps with a
 * usb-hci 1.2 controller: ADD leaves the device at address 0
 * (USB_REQ_ADD_DEFAULT), its descriptor's first 8 bytes are read there,
 * then SETADDR, as Windows and Linux's "new scheme" do.  The first
 * attempt addresses first unless boot.cfg says usb-address=two-step.
 * The controller addresses one device at a time until SETADDR.
 */
#include "bus.h"

enum step {
	ST_ADD, ST_DEV8, ST_MPS, ST_SETADDR, ST_DEV, ST_CFG9, ST_CFG, ST_LANG,
	ST_PRODUCT, ST_SERIAL, ST_EP, ST_SETCFG, ST_HUB, ST_REPLAY, ST_RESUME,
	ST_DONE
};

static const char *const step_names[] = {
	[ST_ADD] = "address", [ST_DEV8] = "device descriptor",
	[ST_MPS] = "default pipe", [ST_SETADDR] = "address",
	[ST_DEV] = "device descriptor",
	[ST_CFG9] = "configuration descriptor",
	[ST_CFG] = "configuration", [ST_LANG] = "languages",
	[ST_PRODUCT] = "product string", [ST_SERIAL] = "serial number",
	[ST_EP] = "endpoint", [ST_SETCFG] = "SET_CONFIGURATION",
	[ST_HUB] = "hub", [ST_REPLAY] = "replay", [ST_RESUME] = "resume",
	[ST_DONE] = "done",
};

int bus_two_step_first;

static void enum_done(void *arg);
static void step_go(struct udev *d);

/* The order of this attempt: two steps on every other one (above). */
static void
choose_order(struct udev *d)
{
	d->two_step = d->hci->minor >= 2 &&
	    (d->attempt & 1) != bus_two_step_first;
}

/* --- which step comes next ------------------------------------------------ */

static int
step_after(const struct udev *d, int s)
{
	switch (s) {
	case ST_ADD:
		return d->speed == USB_SPEED_FULL || d->two_step ? ST_DEV8 :
		    ST_DEV;
	case ST_DEV:
		return d->again ? ST_SERIAL : ST_CFG9;
	case ST_SERIAL:
		return ST_EP;
	}
	return s + 1;
}

/* Has step s (at d->idx) anything to do? */
static int
applies(struct udev *d, int s)
{
	switch (s) {
	case ST_MPS:		/* 8, 64, 512 to start with (xHCI §4.3.3) */
		return d->mps0 != (d->speed >= USB_SPEED_SUPER ? 512 :
		    d->speed == USB_SPEED_HIGH ? 64 : 8);
	case ST_SETADDR:
		return d->two_step;
	case ST_LANG:
		return d->dd.iProduct || d->dd.iSerialNumber;
	case ST_PRODUCT:
		return d->langid && d->dd.iProduct;
	case ST_SERIAL:
		return d->langid && d->dd.iSerialNumber &&
		    (!d->again || d->serial[0]);
	case ST_EP:
		while (d->idx < d->cfg.nep && !d->cfg.eps[d->idx].enable)
			d->idx++;
		return d->idx < d->cfg.nep;
	case ST_HUB:
		return d->hub.set;
	case ST_REPLAY:
		return (unsigned)d->idx < d->nrp;
	case ST_RESUME:
		return d->need_resume;
	}
	return 1;
}

static void
advance(struct udev *d)
{
	if (d->step == ST_EP || d->step == ST_REPLAY) {
		d->idx++;
		if (applies(d, d->step))
			return;
	}
	do {
		d->step = step_after(d, d->step);
		d->idx = 0;
	} while (d->step != ST_DONE && !applies(d, d->step));
}

/* --- building a step's request ------------------------------------------- */

static void
ctl_setup(struct udev *d, uint8_t bm, uint8_t req, uint16_t val,
    uint16_t idx, uint16_t len, void *va, uint64_t bus)
{
	struct usb_req *r = &d->ctl;

	r->op = USB_OP_XFER;
	r->ep = 0;
	r->u.setup = (struct usb_setup){ bm, req, val, idx, len };
	r->length = len;
	d->ctl_seg = (struct usb_seg){ .va = va, .bus = bus, .len = len };
	r->segs = len ? &d->ctl_seg : NULL;
	r->nseg = len ? 1 : 0;
}

/* GET_DESCRIPTOR (§9.4.3) into the device's buffer. */
static void
get_desc(struct udev *d, uint8_t type, uint8_t index, uint16_t lang,
    uint16_t len)
{
	ctl_setup(d, USB_DIR_IN | USB_TYPE_STANDARD | USB_RECIP_DEVICE,
	    USB_REQ_GET_DESCRIPTOR, (uint16_t)(type << 8 | index), lang, len,
	    d->buf, d->buf_bus);
}

static int
build_config(struct udev *d)
{
	if (d->cfgbuf)
		bus_hub->dma_free(bus_self, d->cfgbuf);
	d->cfgbuf = bus_hub->dma_alloc(bus_self, d->cfg_len, 64, 0,
	    d->hci->info.dma_limit, &d->cfg_bus);
	if (!d->cfgbuf)
		return PB_ENOMEM;
	ctl_setup(d, USB_DIR_IN | USB_TYPE_STANDARD | USB_RECIP_DEVICE,
	    USB_REQ_GET_DESCRIPTOR, USB_DT_CONFIG << 8, 0, d->cfg_len,
	    d->cfgbuf, d->cfg_bus);
	return PB_OK;
}

static void
build_ep(struct udev *d)
{
	const struct desc_ep *e = &d->cfg.eps[d->idx];

	d->ctl.op = USB_OP_EP_ENABLE;
	d->ctl.ep = e->addr;
	d->ctl.u.ep.desc = (const void *)(d->cfgbuf + e->off);
	d->ctl.u.ep.ss = e->ss_off ? (const void *)(d->cfgbuf + e->ss_off) :
	    NULL;
}

static void
build_replay(struct udev *d)
{
	const struct replay *p = &d->rp[d->idx];

	memcpy(d->buf, p->data, p->setup.wLength);
	ctl_setup(d, p->setup.bmRequestType, p->setup.bRequest,
	    p->setup.wValue, p->setup.wIndex, p->setup.wLength, d->buf,
	    d->buf_bus);
}

static int
build(struct udev *d)
{
	struct usb_req *r = &d->ctl;

	switch (d->step) {
	case ST_ADD:
		r->op = USB_OP_ADD;
		r->flags = d->two_step ? USB_REQ_ADD_DEFAULT : 0;
		r->u.add.parent = d->parent ? d->parent->num : 0;
		r->u.add.port = d->port;
		r->u.add.speed = d->speed;
		break;
	case ST_DEV8:
		get_desc(d, USB_DT_DEVICE, 0, 0, 8);
		break;
	case ST_MPS:
		r->op = USB_OP_EP0_MPS;
		r->u.mps.mps = d->mps0;
		break;
	case ST_SETADDR:
		r->op = USB_OP_SET_ADDRESS;
		break;
	case ST_DEV:
		get_desc(d, USB_DT_DEVICE, 0, 0, sizeof(struct usb_device_desc));
		break;
	case ST_CFG9:
		get_desc(d, USB_DT_CONFIG, 0, 0, sizeof(struct usb_config_desc));
		break;
	case ST_CFG:
		return build_config(d);
	case ST_LANG:
		get_desc(d, USB_DT_STRING, 0, 0, BUS_BUF - 1);
		break;
	case ST_PRODUCT:
		get_desc(d, USB_DT_STRING, d->dd.iProduct, d->langid,
		    BUS_BUF - 1);
		break;
	case ST_SERIAL:
		get_desc(d, USB_DT_STRING, d->dd.iSerialNumber, d->langid,
		    BUS_BUF - 1);
		break;
	case ST_EP:
		build_ep(d);
		break;
	case ST_SETCFG:		/* §9.4.7 */
		ctl_setup(d, USB_TYPE_STANDARD | USB_RECIP_DEVICE,
		    USB_REQ_SET_CONFIGURATION, d->cfg.value, 0, 0, NULL, 0);
		break;
	case ST_HUB:
		r->op = USB_OP_HUB;
		r->u.hub.nports = d->hub.nports;
		r->u.hub.mtt = d->hub.mtt;
		r->u.hub.ttt = d->hub.ttt;
		break;
	case ST_REPLAY:
		build_replay(d);
		break;
	case ST_RESUME:
		r->op = USB_OP_RESUME;
		break;
	}
	return PB_OK;
}

/* --- the end: ready, failed once, or given up ------------------------------ */

static void
announce(struct udev *d)
{
	bus_log(PB_LOG_INFO, "%s: %04x:%04x %s%s(%s speed) plugged", d->name,
	    d->dd.idVendor, d->dd.idProduct, d->product,
	    d->product[0] ? " " : "", desc_speed_name(d->speed));
	d->announced = 1;
}

static void
finish(struct udev *d)
{
	struct usb_req *po = d->port_on;

	d->port_on = NULL;
	d->need_resume = 0;
	if (d->again) {
		swap_back(d);
	} else {
		d->state = D_READY;
		if (if_publish_all(d) != PB_OK) {
			bus_log(PB_LOG_ERR, "%s: its interfaces cannot be "
			    "published: left unused", d->name);
			if_withdraw_all(d);
		}
		announce(d);
		held_release(d);
	}
	if (po)
		req_complete(po, PB_OK);
}

static void
give_up(struct udev *d, int status)
{
	if (d->port_on) {
		req_complete(d->port_on, status);
		d->port_on = NULL;
	}
	dev_remove(d, "");
}

/* The step failed: one line, then once more from the start, or not. */
static void
step_failed(struct udev *d, int status, const char *why)
{
	char reason[DESC_WHY + 32];

	if (d->timed_out) {
		rt_snprintf(reason, sizeof(reason), "no answer within %u s",
		    (unsigned)(BUS_ENUM_NS / 1000000000ull));
		status = PB_ETIMEDOUT;
	} else {
		rt_strlcpy(reason, why ? why : status_name(status),
		    sizeof(reason));
	}
	if (status == PB_OK)
		status = PB_EIO;
	if (d->attempt++ == 0) {
		choose_order(d);
		bus_log(PB_LOG_WARN, "%s: %s: %s; trying again%s", d->name,
		    step_names[d->step], reason, d->two_step ?
		    ", its descriptor read before its address" : d->hci->minor
		    >= 2 ? ", its address before its descriptor" : "");
		d->step = ST_ADD;
		if (dev_unaddress(d) == PB_OK)
			return;		/* enum_rm_done goes on */
		d->timed_out = 0;
		d->deadline = bus_hub->now_ns() + BUS_ENUM_NS;
		step_go(d);
		return;
	}
	bus_log(PB_LOG_ERR, "%s: %s: %s; giving up", d->name,
	    step_names[d->step], reason);
	give_up(d, status);
}

/* --- taking a step's answer ------------------------------------------------- */

static int
take_device(struct udev *d, const struct usb_req *r, char *why, size_t cap)
{
	struct usb_device_desc dd;
	uint16_t mps;

	if (desc_device(d->buf, r->actual, d->speed, &dd, why, cap) != PB_OK)
		return PB_EINVAL;
	desc_ep0_mps(d->buf, r->actual, d->speed, &mps, NULL, 0);
	if (d->speed == USB_SPEED_FULL && mps != d->mps0) {
		rt_snprintf(why, cap, "bMaxPacketSize0 %u, %u before", mps,
		    d->mps0);
		return PB_EINVAL;
	}
	d->mps0 = mps;
	if (d->again && (dd.idVendor != d->dd.idVendor ||
	    dd.idProduct != d->dd.idProduct ||
	    (d->serial[0] && !dd.iSerialNumber))) {
		char was[48];

		rt_snprintf(was, sizeof(was), "(%04x:%04x came back in its "
		    "place)", dd.idVendor, dd.idProduct);
		swap_replaced(d, was);
	}
	d->dd = dd;
	return PB_OK;
}

static void
take_serial(struct udev *d, const struct usb_req *r)
{
	char s[BUS_STR];

	if (desc_string(d->buf, r->actual, s, sizeof(s), 1) != PB_OK)
		return;
	if (d->again && strcmp(s, d->serial) != 0) {
		swap_replaced(d, "(another serial number came back in its "
		    "place)");
		d->step = ST_CFG9 - 1;	/* advance() reads the rest anew */
		d->idx = 0;
	}
	rt_strlcpy(d->serial, s, sizeof(d->serial));
}

/* The answer of the step; PB_EINVAL with why when it is unusable. */
static int
take(struct udev *d, const struct usb_req *r, char *why, size_t cap)
{
	switch (d->step) {
	case ST_DEV8:
		return desc_ep0_mps(d->buf, r->actual, d->speed, &d->mps0, why,
		    cap);
	case ST_DEV:
		return take_device(d, r, why, cap);
	case ST_CFG9:
		return desc_config_head(d->buf, r->actual, &d->cfg_len, why,
		    cap);
	case ST_CFG:
		return desc_config(d->cfgbuf, r->actual, d->speed, &d->cfg, why,
		    cap);
	case ST_LANG:
		if (desc_langid(d->buf, r->actual, &d->langid) != PB_OK)
			d->langid = 0;
		break;
	case ST_PRODUCT:
		desc_string(d->buf, r->actual, d->product, sizeof(d->product),
		    0);
		break;
	case ST_SERIAL:
		take_serial(d, r);
		break;
	}
	return PB_OK;
}

/* Steps whose failure the device survives. */
static int
tolerated(struct udev *d, int status)
{
	switch (d->step) {
	case ST_LANG:
		d->langid = 0;
		return 1;
	case ST_PRODUCT:
	case ST_SERIAL:
		return 1;
	case ST_HUB:
	case ST_RESUME:
		bus_log(PB_LOG_WARN, "%s: %s: %s", d->name,
		    step_names[d->step], status_name(status));
		return 1;
	case ST_REPLAY:
		bus_log(PB_LOG_WARN, "%s: replay of request %02x/%02x: %s",
		    d->name, d->rp[d->idx].setup.bmRequestType,
		    d->rp[d->idx].setup.bRequest, status_name(status));
		return 1;
	}
	return 0;
}

static void
step_done(struct udev *d, struct usb_req *r)
{
	char why[DESC_WHY];

	if (d->timed_out) {
		step_failed(d, PB_ETIMEDOUT, NULL);
		return;
	}
	if (r->status != PB_OK) {
		if (tolerated(d, r->status))
			goto next;
		step_failed(d, r->status, NULL);
		return;
	}
	why[0] = '\0';
	if (take(d, r, why, sizeof(why)) != PB_OK) {
		step_failed(d, PB_EINVAL, why);
		return;
	}
next:
	advance(d);
	step_go(d);
}

static void
enum_done(void *arg)
{
	struct usb_req *r = arg;
	struct udev *d = r->client_data;
	struct hci *h = d->hci;
	int was_adding = h->adding == d;

	d->ctl_busy = 0;
	/* In two steps the device is at address 0 until SETADDR. */
	if (was_adding && r->status == PB_OK && !d->timed_out &&
	    d->state == D_ENUM && d->two_step && d->step < ST_SETADDR)
		was_adding = 0;
	if (was_adding)
		h->adding = NULL;
	if (d->state != D_ENUM)
		dev_maybe_free(d);	/* d may be no more */
	else
		step_done(d, r);
	if (was_adding)
		enum_add_next(h);
}

static void
step_go(struct udev *d)
{
	struct hci *h = d->hci;
	int r;

	if (d->step == ST_DONE) {
		finish(d);
		return;
	}
	if (d->step == ST_ADD && h->adding && h->adding != d)
		return;			/* enum_add_next() starts it */
	req_init(d, &d->ctl, enum_done);
	if ((r = build(d)) == PB_OK) {
		d->ctl_busy = 1;
			if (d->step == ST_ADD) {
			h->adding = d;
			d->removed = 0;
		}
		if ((r = hci_submit(h, &d->ctl)) == PB_OK)
			return;
		d->ctl_busy = 0;
		if (h->adding == d)
			h->adding = NULL;
	}
	step_failed(d, r, NULL);
}

/* --- entry points ---------------------------------------------------------- */

void
enum_start(struct udev *d, int again, uint8_t speed)
{
	d->again = again && speed == d->speed;
	if (again && !d->again)
		swap_replaced(d, "(it came back at another speed)");
	if (d->state == D_LOST)
		d->need_resume = 1;
	d->speed = speed;
	d->state = D_ENUM;
	d->attempt = 0;
	choose_order(d);
	d->timed_out = 0;
	d->deadline = bus_hub->now_ns() + BUS_ENUM_NS;
	d->step = ST_ADD;
	d->idx = 0;
	d->mps0 = 0;
	tick_arm();
	step_go(d);
}

/* The device being addressed is done: the next one waiting goes. */
void
enum_add_next(struct hci *h)
{
	if (!h || !h->conn || h->adding)
		return;
	for (unsigned i = 0; i < BUS_DEVS; i++) {
		struct udev *d = bus_devs[i];

		if (d && d->hci == h && d->state == D_ENUM &&
		    d->step == ST_ADD && !d->ctl_busy && !d->rm_busy) {
			step_go(d);
			return;
		}
	}
}

/* USB_OP_REMOVE answered: the device goes, or its second attempt. */
void
enum_rm_done(void *arg)
{
	struct usb_req *r = arg;
	struct udev *d = r->client_data;

	d->rm_busy = 0;
	if (d->state == D_LOST && d->resetting) {
		reset_port(d);
		return;
	}
	if (d->state != D_ENUM) {
		dev_maybe_free(d);
		return;
	}
	d->timed_out = 0;
	d->deadline = bus_hub->now_ns() + BUS_ENUM_NS;
	step_go(d);
}

/* Deadlines: a request still out is cancelled (its completion fails the
 * step); a device still waiting to be addressed fails at once. */
void
enum_tick(uint64_t now)
{
	for (unsigned i = 0; i < BUS_DEVS; i++) {
		struct udev *d = bus_devs[i];

		if (!d || d->state != D_ENUM || d->timed_out ||
		    now < d->deadline)
			continue;
		d->timed_out = 1;
		if (d->ctl_busy)
			hci_cancel(d->hci, d->num, 0xff);
		else if (!d->rm_busy)
			step_failed(d, PB_ETIMEDOUT, NULL);
	}
}
