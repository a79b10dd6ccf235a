/*
 * usb - the USB bus driver: the client of every `usb-hci` controller and
 * the provider of one `usb` resource per interface of every device on
 * them (abi/usb.h), which class drivers bind to by class and ids.
 *
 * Loaded when the first controller appears (a bind rule on `usb-hci`:
 * the bus has nothing to do without one); further controllers come
 * through a subscription and a connection the bus makes itself (hci.c),
 * since a running module is not loaded again by a bind rule.  Each
 * controller keeps a WAIT_EVENT request standing; a root port that
 * connects is enumerated (enum.c, USB 2.0 and 3.2 chapter 9), its
 * interfaces published (publish.c) and its class drivers' requests
 * forwarded (fwd.c, aux.c).  A hub's driver reports its ports (aux.c),
 * and a controller swap is followed by finding every device again under
 * its old number (swap.c).  One timer checks the deadlines of both.
 *
 * Try it: `make run CONFIG=usb`, then the shell's `usb`.
 */
#include "bus.h"

const struct pb_hub *bus_hub;
struct pb_module *bus_self;

/* The bind connection may come before start: kept for it. */
static struct pb_conn *early_conn;
static int tick_id;

static int
hub_has_abi_1_2(const struct pb_hub *h)
{
	return h->abi_minor >= 2 && h->size >=
	    offsetof(struct pb_hub, res_info_sized) +
	    sizeof(h->res_info_sized) && h->work_init && h->work_post &&
	    h->work_cancel && h->dma_alloc && h->dma_free && h->res_info_sized &&
	    h->res_limit && h->timer_after && h->timer_cancel;
}

const char *
status_name(int status)
{
	switch (status) {
	case PB_OK:
		return "ok";
	case USB_ESTALL:
		return "stall";
	case PB_EIO:
		return "transaction error";
	case PB_ETIMEDOUT:
		return "timed out";
	case PB_ECANCELED:
		return "cancelled";
	case PB_ENODEV:
		return "no such device";
	case PB_EINVAL:
		return "refused";
	case PB_ENOMEM:
		return "out of memory";
	case PB_EBUSY:
		return "busy";
	}
	return "failed";
}

/* A request the bus holds completes: its owner's work runs it. */
void
req_complete(struct usb_req *r, int status)
{
	r->status = status;
	r->actual = 0;
	bus_hub->work_post(bus_self, &r->done);
}

/* --- the timer: deadlines of enumerations, of swaps, event retries ------ */

static int
tick_wanted(void)
{
	for (unsigned i = 0; i < BUS_DEVS; i++) {
		struct udev *d = bus_devs[i];

		if (d && (d->state == D_ENUM || d->state == D_LOST ||
		    (d->state == D_READY && d->fault_until)))
			return 1;
	}
	for (unsigned i = 0; i < BUS_HCIS; i++)
		if (bus_hcis[i].used && bus_hcis[i].ev_retry)
			return 1;
	return 0;
}

static void
tick_run(void *arg)
{
	uint64_t now = bus_hub->now_ns();

	(void)arg;
	tick_id = 0;
	enum_tick(now);
	swap_tick(now);
	hci_tick();
	if (tick_wanted())
		tick_arm();
}

void
tick_arm(void)
{
	int id;

	if (tick_id > 0)
		return;
	id = bus_hub->timer_after(bus_self, BUS_TICK_NS, tick_run, NULL);
	if (id > 0)
		tick_id = id;
	else
		bus_log(PB_LOG_ERR, "no timer: deadlines are not checked");
}

/* --- entry points ------------------------------------------------------- */

/* boot.cfg usb-address=two-step: devices are addressed in two steps
 * first (enum.c), for a PC whose devices want it. */
static int
two_step_first(const struct pb_hub *h)
{
	char v[16];

	if (!pb_setting(h, "usb-address", v, sizeof(v)))
		return 0;
	if (strcmp(v, "two-step") == 0) {
		bus_log(PB_LOG_INFO, "devices addressed in two steps first "
		    "(boot.cfg usb-address=two-step)");
		return 1;
	}
	if (strcmp(v, "first") != 0)
		bus_log(PB_LOG_ERR, "usb-address=%s: not two-step or first: "
		    "ignored", v);
	return 0;
}

static int
bus_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	rt_use_hub(h);
	if (!hub_has_abi_1_2(h)) {
		h->log(m, PB_LOG_ERR, "needs a hub with ABI 1.2 services "
		    "(work_post, dma_alloc, res_info_sized, res_limit)");
		return PB_ENOTSUP;
	}
	bus_self = m;
	bus_hub = h;
	if (mode == PB_START_STANDBY)
		return PB_ENOTSUP;	/* the bus is not swappable (yet) */
	bus_two_step_first = two_step_first(h);
	if (h->subscribe(m, USB_HCI_IFACE) != PB_OK)
		bus_log(PB_LOG_WARN, "no subscription: only the first "
		    "controller is driven");
	if (early_conn) {
		hci_connected(early_conn, 0);
		early_conn = NULL;
	}
	hci_scan();
	return PB_OK;
}

/* The hub takes back memory, connections and resources: forget them,
 * completing the class drivers' requests the bus still holds. */
static void
bus_stop(struct pb_module *m)
{
	(void)m;
	if (tick_id > 0)
		bus_hub->timer_cancel(bus_self, tick_id);
	tick_id = 0;
	hci_forget_all();
	early_conn = NULL;
}

static void
bus_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	(void)m;
	switch (ev) {
	case PB_EV_CONNECTED:
		if (req != PB_REQ_BIND)
			break;
		if (!bus_hub)
			early_conn = c;
		else
			hci_connected(c, 0);
		break;
	case PB_EV_DISCONNECTED:
		if (c == early_conn)
			early_conn = NULL;
		else
			hci_gone(c);
		break;
	case PB_EV_REBOUND:
		hci_rebound(c);
		break;
	case PB_EV_RESOURCE:
		if (bus_hub && c && c->res)
			hci_offered(c->res);
		break;
	case PB_EV_CLIENT_GONE:
		fwd_client_gone(c);
		break;
	}
}

static const struct pb_module_ops ops = {
	.start = bus_start,
	.stop = bus_stop,
	.event = bus_event,
};

PB_MODULE(.name = BUS_NAME, .version = "1.0",
    .desc = "USB bus: enumerates devices, one usb resource per interface",
    .rank = 0, .flags = 0, .ops = &ops,
    .nprovides = 1,
    .provides = { PB_PROVIDE(USB_IFACE, USB_MAJOR, USB_MINOR) },
    .nbinds = 1,
    .binds = { PB_BIND(USB_HCI_IFACE, "") });
