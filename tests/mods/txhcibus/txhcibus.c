/*
 * txhcibus - test module: the least of a USB bus driver, so the scenario
 * tests drive the xhci module against QEMU's own USB devices (and across
 * `update xhci`) without the real bus driver.  A client of `usb-hci`:
 *
 *  - it keeps a USB_OP_WAIT_EVENT standing (ep = 1 the first time: every
 *    connected root port); on CONNECT it sets the device up, with the
 *    root port as its `dev`: ADD, the device descriptor's first 8 bytes,
 *    EP0_MPS, the whole descriptor, the configuration, SET_CONFIGURATION,
 *    EP_ENABLE of interface 0's endpoints (with SuperSpeed companions),
 *    and logs
 *      txhcibus: dev 2: 46f4:0001 class 08 at super speed, 2 endpoints
 *  - a mass-storage device (08/06/50) is read: READ(10) of its block 0
 *    through a Command Block Wrapper, 512 bytes, the Command Status
 *    Wrapper:  txhcibus: dev 2: block 0 fnv=<fnv1a64> csw status 0
 *  - a boot keyboard (03/01/01) gets an interrupt IN request, submitted
 *    again at each completion:  txhcibus: dev 5: report 00 00 04 ...
 *  - DISCONNECT: REMOVE.
 *  - after a swap of the controller (PB_EV_REBOUND) the old requests come
 *    back through the new driver: the standing WAIT_EVENT reports the
 *    ports again, each known device is set up again and resumed
 *    (USB_OP_RESUME), and its held interrupt IN goes on:
 *      txhcibus: dev 5: set up again, resumed
 * Everything is a struct usb_req of its own, completed as its own work.
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/usb.h"

#define MAX_DEVS	8
#define MAX_EPS		4

static const struct pb_hub *hub;
static struct pb_module *self;
static struct pb_conn *hci;
static struct usb_hci_info info;

enum step {
	S_NONE, S_ADD, S_DESC8, S_MPS, S_DESC, S_CFG9, S_CFG, S_SETCFG,
	S_EP, S_RESUME, S_CBW, S_DATA, S_CSW, S_READY,
};

struct tdev {
	uint32_t dev;
	uint8_t port, speed;
	int known;		/* set up once before (a swap follows) */
	enum step step;
	unsigned ep;		/* endpoints enabled so far */
	unsigned neps;
	struct usb_endpoint_desc eps[MAX_EPS];
	struct usb_ss_ep_comp_desc ss[MAX_EPS];
	int has_ss[MAX_EPS];
	uint8_t desc[18];
	uint8_t *buf;		/* a page of DMA memory */
	uint64_t bus;
	struct usb_req ctl;	/* one set-up step at a time */
	struct usb_seg seg;
	struct usb_req intr;	/* the keyboard's standing request */
	struct usb_seg iseg;
	int intr_on;
	uint8_t bulk_in, bulk_out, intr_in;
};

static struct tdev devs[MAX_DEVS];
static struct usb_req wait;
static int first_wait = 1;

static const char *const speeds[] = { "no", "low", "full", "high", "super",
    "super+" };

static void ctl_done(void *arg);
static void intr_done(void *arg);

static int
submit(struct usb_req *r)
{
	return PB_CALL(hci, usb_hci_ops, submit, r);
}

static void
fail(struct tdev *d, const char *what, int err)
{
	pb_logf(hub, self, PB_LOG_ERR, "dev %u: %s failed (%d)", d->dev, what,
	    err);
	d->step = S_NONE;
}

/* The next set-up request of d: op with len bytes of the buffer. */
static int
req(struct tdev *d, uint8_t op, uint8_t ep, uint32_t len)
{
	d->ctl = (struct usb_req){ .size = sizeof(d->ctl), .op = op,
	    .ep = ep, .dev = d->dev, .length = len, .nseg = len ? 1 : 0,
	    .segs = &d->seg };
	d->seg = (struct usb_seg){ d->buf, d->bus, len, 0 };
	hub->work_init(self, &d->ctl.done, ctl_done, d);
	return PB_OK;
}

static int
control(struct tdev *d, uint8_t type, uint8_t request, uint16_t value,
    uint16_t len)
{
	req(d, USB_OP_XFER, 0, len);
	d->ctl.u.setup = (struct usb_setup){ type, request, value, 0, len };
	return submit(&d->ctl);
}

/* Interface 0's endpoints (and their SuperSpeed companions). */
static void
parse_config(struct tdev *d, const uint8_t *p, unsigned len)
{
	int iface0 = 0;

	d->neps = 0;
	for (unsigned at = 0; at + 2 <= len && p[at] >= 2; at += p[at]) {
		if (p[at + 1] == USB_DT_INTERFACE && at + 9 <= len) {
			iface0 = p[at + 2] == 0 && p[at + 3] == 0;
			if (iface0 && p[at + 5] == USB_CLASS_HID && p[at + 7] == 1)
				d->intr_in = 1;
		} else if (iface0 && p[at + 1] == USB_DT_ENDPOINT &&
		    at + 7 <= len && d->neps < MAX_EPS) {
			memcpy(&d->eps[d->neps++], p + at, 7);
		} else if (iface0 && p[at + 1] == USB_DT_SS_EP_COMP &&
		    at + 6 <= len && d->neps) {
			memcpy(&d->ss[d->neps - 1], p + at, 6);
			d->has_ss[d->neps - 1] = 1;
		}
	}
}

static uint64_t
fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (n--)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

static void
start_intr(struct tdev *d)
{
	d->intr = (struct usb_req){ .size = sizeof(d->intr), .op = USB_OP_XFER,
	    .ep = d->intr_in, .dev = d->dev, .length = 8, .nseg = 1,
	    .segs = &d->iseg };
	d->iseg = (struct usb_seg){ d->buf + 2048, d->bus + 2048, 8, 0 };
	hub->work_init(self, &d->intr.done, intr_done, d);
	d->intr_on = submit(&d->intr) == PB_OK;
}

/* The class's part, once configured. */
static int
class_begin(struct tdev *d, uint8_t cls)
{
	static const uint8_t cbw[31] = {
		0x55, 0x53, 0x42, 0x43, 0x01, 0, 0, 0, 0x00, 0x02, 0, 0, 0x80,
		0, 10, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0,
	};

	d->step = S_READY;
	if (cls == USB_CLASS_STORAGE && d->bulk_in && d->bulk_out) {
		memcpy(d->buf, cbw, sizeof(cbw));
		d->step = S_CBW;
		req(d, USB_OP_XFER, d->bulk_out, sizeof(cbw));
		return submit(&d->ctl);
	}
	if (d->intr_in)
		start_intr(d);
	return PB_OK;
}

static int
enable_next(struct tdev *d)
{
	const struct usb_endpoint_desc *e;

	if (d->ep == d->neps) {
		pb_logf(hub, self, PB_LOG_INFO, "dev %u: %02x%02x:%02x%02x class "
		    "%02x at %s speed, %u endpoints", d->dev, d->desc[9],
		    d->desc[8], d->desc[11], d->desc[10], d->desc[4],
		    speeds[d->speed <= 5 ? d->speed : 0], d->neps);
		if (d->known) {
			d->step = S_RESUME;
			req(d, USB_OP_RESUME, 0, 0);
			return submit(&d->ctl);
		}
		d->known = 1;
		return class_begin(d, d->desc[4] ? d->desc[4] :
		    d->intr_in ? USB_CLASS_HID : USB_CLASS_STORAGE);
	}
	e = &d->eps[d->ep];
	if ((e->bmAttributes & 3) == USB_EP_BULK)
		*(e->bEndpointAddress & 0x80 ? &d->bulk_in : &d->bulk_out) =
		    e->bEndpointAddress;
	else if ((e->bmAttributes & 3) == USB_EP_INTERRUPT &&
	    (e->bEndpointAddress & 0x80) && d->intr_in)
		d->intr_in = e->bEndpointAddress;
	req(d, USB_OP_EP_ENABLE, 0, 0);
	d->ctl.u.ep.desc = e;
	d->ctl.u.ep.ss = d->has_ss[d->ep] ? &d->ss[d->ep] : NULL;
	d->ep++;
	return submit(&d->ctl);
}

/* One set-up step ended: the next. */
static void
ctl_done(void *arg)
{
	struct tdev *d = arg;
	int err = PB_OK;
	uint16_t total;
	const uint8_t *csw;

	if (d->ctl.status != PB_OK) {
		fail(d, "a step", d->ctl.status);
		return;
	}
	switch (d->step) {
	case S_ADD:
		d->step = S_DESC8;
		err = control(d, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_DEVICE << 8,
		    8);
		break;
	case S_DESC8:
		memcpy(d->desc, d->buf, 8);
		d->step = S_MPS;
		req(d, USB_OP_EP0_MPS, 0, 0);
		d->ctl.u.mps.mps = d->speed >= USB_SPEED_SUPER ?
		    (uint16_t)(1u << (d->desc[7] & 15)) : d->desc[7];
		err = submit(&d->ctl);
		break;
	case S_MPS:
		d->step = S_DESC;
		err = control(d, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_DEVICE << 8,
		    18);
		break;
	case S_DESC:
		memcpy(d->desc, d->buf, 18);
		d->step = S_CFG9;
		err = control(d, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_CONFIG << 8,
		    9);
		break;
	case S_CFG9:
		total = (uint16_t)(d->buf[2] | d->buf[3] << 8);
		d->step = S_CFG;
		err = control(d, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_CONFIG << 8,
		    total > 1024 ? 1024 : total);
		break;
	case S_CFG:
		parse_config(d, d->buf, d->ctl.actual);
		d->step = S_SETCFG;
		err = control(d, 0, USB_REQ_SET_CONFIGURATION, d->buf[5], 0);
		break;
	case S_SETCFG:
		d->step = S_EP;
		d->ep = 0;
		err = enable_next(d);
		break;
	case S_EP:
		err = enable_next(d);
		break;
	case S_RESUME:
		pb_logf(hub, self, PB_LOG_INFO, "dev %u: set up again, resumed",
		    d->dev);
		d->step = S_READY;
		break;
	case S_CBW:
		d->step = S_DATA;
		req(d, USB_OP_XFER, d->bulk_in, 512);
		err = submit(&d->ctl);
		break;
	case S_DATA:
		pb_logf(hub, self, PB_LOG_INFO, "dev %u: block 0 fnv=%016llx "
		    "(%u bytes)", d->dev, (unsigned long long)fnv(d->buf, 512),
		    d->ctl.actual);
		d->step = S_CSW;
		req(d, USB_OP_XFER, d->bulk_in, 13);
		err = submit(&d->ctl);
		break;
	case S_CSW:
		csw = d->buf;
		pb_logf(hub, self, PB_LOG_INFO, "dev %u: csw %s status %u",
		    d->dev, csw[0] == 0x55 && csw[1] == 0x53 && csw[2] == 0x42 &&
		    csw[3] == 0x53 ? "ok" : "bad", csw[12]);
		d->step = S_READY;
		break;
	default:
		break;
	}
	if (err != PB_OK)
		fail(d, "submit", err);
}

static void
intr_done(void *arg)
{
	struct tdev *d = arg;
	const uint8_t *r = d->buf + 2048;

	d->intr_on = 0;
	if (d->intr.status != PB_OK) {
		pb_logf(hub, self, PB_LOG_INFO, "dev %u: interrupt IN ended (%d)",
		    d->dev, d->intr.status);
		return;
	}
	pb_logf(hub, self, PB_LOG_INFO, "dev %u: report %02x %02x %02x %02x "
	    "%02x %02x %02x %02x", d->dev, r[0], r[1], r[2], r[3], r[4], r[5],
	    r[6], r[7]);
	start_intr(d);
}

static struct tdev *
dev_of(uint8_t port)
{
	for (unsigned i = 0; i < MAX_DEVS; i++)
		if (devs[i].port == port)
			return &devs[i];
	for (unsigned i = 0; i < MAX_DEVS; i++)
		if (!devs[i].port) {
			devs[i].port = port;
			devs[i].dev = port;
			return &devs[i];
		}
	return NULL;
}

static void wait_done(void *arg);

static void
wait_again(void)
{
	wait = (struct usb_req){ .size = sizeof(wait),
	    .op = USB_OP_WAIT_EVENT, .ep = first_wait ? 1 : 0 };
	first_wait = 0;
	hub->work_init(self, &wait.done, wait_done, NULL);
	if (submit(&wait) != PB_OK)
		pb_logf(hub, self, PB_LOG_ERR, "WAIT_EVENT refused");
}

static void
connected(uint8_t port, uint8_t speed)
{
	struct tdev *d = dev_of(port);

	if (!d || (d->step != S_NONE && d->step != S_READY))
		return;
	if (!d->buf && !(d->buf = hub->dma_alloc(self, 4096, 4096, 0,
	    info.dma_limit, &d->bus))) {
		fail(d, "dma_alloc", PB_ENOMEM);
		return;
	}
	d->speed = speed;
	d->step = S_ADD;
	d->bulk_in = d->bulk_out = 0;
	req(d, USB_OP_ADD, 0, 0);
	d->ctl.u.add.port = port;
	d->ctl.u.add.speed = speed;
	if (submit(&d->ctl) != PB_OK)
		fail(d, "ADD", PB_EINVAL);
}

static void
wait_done(void *arg)
{
	struct tdev *d;

	if (wait.status != PB_OK) {
		pb_logf(hub, self, PB_LOG_INFO, "WAIT_EVENT ended (%d)",
		    wait.status);
		return;
	}
	switch (wait.u.event.kind) {
	case USB_EVENT_CONNECT:
		pb_logf(hub, self, PB_LOG_INFO, "port %u connected at %s speed",
		    wait.u.event.port, speeds[wait.u.event.speed <= 5 ?
		    wait.u.event.speed : 0]);
		connected(wait.u.event.port, wait.u.event.speed);
		break;
	case USB_EVENT_DISCONNECT:
		pb_logf(hub, self, PB_LOG_INFO, "port %u disconnected",
		    wait.u.event.port);
		if ((d = dev_of(wait.u.event.port)) && d->step != S_NONE) {
			req(d, USB_OP_REMOVE, 0, 0);
			d->step = S_NONE;
			d->known = 0;
			submit(&d->ctl);
		}
		break;
	default:
		pb_logf(hub, self, PB_LOG_INFO, "event %u", wait.u.event.kind);
		first_wait = wait.u.event.kind == USB_EVENT_OVERFLOW;
		break;
	}
	wait_again();
}

static void
begin(void *arg)
{
	info = (struct usb_hci_info){ .size = sizeof(info) };
	PB_CALL(hci, usb_hci_ops, info, &info);
	pb_logf(hub, self, PB_LOG_INFO, "%s: %u ports, %u slots", hci->res,
	    info.nports, info.max_devices);
	wait_again();
}

static struct pb_work begin_work;

static void
txhcibus_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	if (req != 0)
		return;
	if (ev == PB_EV_CONNECTED) {
		hci = c;
		hub->work_init(self, &begin_work, begin, NULL);
		hub->work_post(self, &begin_work);
	} else if (ev == PB_EV_REBOUND) {
		/* The requests went with the swap; the devices come again as
		 * CONNECT events through the standing WAIT_EVENT. */
		for (unsigned i = 0; i < MAX_DEVS; i++)
			if (devs[i].step == S_READY)
				devs[i].step = S_NONE;
		pb_logf(hub, self, PB_LOG_INFO, "the controller was swapped");
	} else if (ev == PB_EV_DISCONNECTED) {
		hci = NULL;
	}
}

static int
txhcibus_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	self = m;
	hub = h;
	return PB_OK;
}

static const struct pb_module_ops ops = {
	.start = txhcibus_start,
	.event = txhcibus_event,
};

PB_MODULE(.name = "txhcibus", .version = "1.0",
    .desc = "test: the least of a USB bus driver, for xhci",
    .ops = &ops,
    .nrequires = 1,
    .requires = { PB_REQUIRE(USB_HCI_IFACE, USB_HCI_MAJOR, USB_HCI_MINOR,
	PB_CARD_ONE, PB_LATER) });
