/*
 * usb-hub - the USB hub class driver (USB 2.0 chapter 11, USB 3.2
 * chapter 10): a hub's ports reset and reported to the bus, which
 * enumerates what is there.  Requires nothing; its bind rule loads it
 * for a `usb` resource of class 09 (protocol 0 full speed, 1 high speed
 * single TT, 2 multi TT, 3 SuperSpeed).
 *
 * A bind rule gives a module one device, and a running module is not
 * loaded again for the next: so once running it also takes every other
 * hub, there already or to come (a subscription to `usb`), connecting
 * to each by hand.  Hubs behind hubs come this way: the bus publishes a
 * hub it enumerated on one of our ports, and we set that one up too.
 *
 * Files: setup.c (a hub set up), status.c (its status change endpoint),
 * port.c (a port from connect to the bus), hub.c (the control pipe, the
 * timer, the slots), swap.c (an update under running hubs), desc.c (the
 * descriptors, checked).
 *
 * Try it: `make run CONFIG=usbhub` (a keyboard and the stick behind
 * QEMU's usb-hub), then `usb` and `res`.
 */
#include "usbhub.h"

struct uh_mod uh;

static int
res_at(unsigned i, struct pb_res_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->struct_size = sizeof(*ri);
	return uh.hub->res_info_sized(NULL, i, ri) == PB_OK;
}

/* The properties of resource `res`: 1, or 0 when it is not there. */
int
uh_props_of(const char *res, char *props, size_t cap)
{
	struct pb_res_info ri;

	for (unsigned i = 0; res_at(i, &ri); i++)
		if (ri.name && strcmp(ri.name, res) == 0) {
			rt_strlcpy(props, ri.props ? ri.props : "", cap);
			return 1;
		}
	return 0;
}

static int
is_free_hub(const struct pb_res_info *ri)
{
	char cls[8];

	return ri->name && ri->iface && ri->props && !ri->clients &&
	    strcmp(ri->iface, USB_IFACE) == 0 &&
	    rt_prop_get(ri->props, "class", cls, sizeof(cls)) &&
	    strcmp(cls, "09") == 0 && !hub_by_res(ri->name);
}

static void
take_by_hand(const char *res)
{
	struct pb_conn *c = uh.hub->connect(uh.self, USB_IFACE, USB_MAJOR,
	    USBHUB_USB_MINOR, res);

	if (c)
		hub_add(c, 1);
	else
		uh_logf(PB_LOG_ERR, "%s: cannot connect to it", res);
}

/* A `usb` resource appeared: ours if it is a hub nobody drives. */
static void
consider(const char *res)
{
	struct pb_res_info ri;

	for (unsigned i = 0; res_at(i, &ri); i++)
		if (ri.name && strcmp(ri.name, res) == 0) {
			if (is_free_hub(&ri))
				take_by_hand(ri.name);
			return;
		}
}

/* Serve: the bound hub, every hub nobody drives, and those to come. */
int
uh_take_hubs(void)
{
	struct pb_res_info ri;
	char name[UH_RES_MAX];

	uh.active = 1;
	if (uh.bind) {
		struct pb_conn *c = uh.bind;

		uh.bind = NULL;
		if (!hub_by_conn(c))
			hub_add(c, 0);
	}
	for (unsigned i = 0; res_at(i, &ri); i++)
		if (is_free_hub(&ri)) {
			rt_strlcpy(name, ri.name, sizeof(name));
			take_by_hand(name);
		}
	if (!uh.subscribed && uh.hub->subscribe(uh.self, USB_IFACE) == PB_OK)
		uh.subscribed = 1;
	return PB_OK;
}

static int
hub_has_services(const struct pb_hub *h)
{
	return h->abi_minor >= 2 && h->size >=
	    offsetof(struct pb_hub, res_info_sized) +
	    sizeof(h->res_info_sized) && h->work_init && h->work_post &&
	    h->work_cancel && h->dma_alloc && h->dma_free &&
	    h->res_info_sized && h->timer_after && h->timer_cancel &&
	    h->connect && h->subscribe;
}

static int
uh_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	rt_use_hub(h);
	if (!hub_has_services(h)) {
		h->log(m, PB_LOG_ERR, "needs a hub with ABI 1.2 services "
		    "(work_post, dma_alloc, res_info_sized)");
		return PB_ENOTSUP;
	}
	uh.self = m;
	uh.hub = h;
	if (mode == PB_START_STANDBY)
		return PB_OK;	/* the hubs come at activate */
	return uh_take_hubs();
}

static void
uh_stop(struct pb_module *m)
{
	(void)m;
	hub_forget_all();
	swap_forget();
	memset(&uh, 0, sizeof(uh));
}

static void
uh_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	struct uhub *h;

	(void)m;
	switch (ev) {
	case PB_EV_CONNECTED:
		if (req != PB_REQ_BIND)
			break;
		if (uh.active && !hub_by_conn(c))
			hub_add(c, 0);
		else if (!uh.active)
			uh.bind = c;	/* before start, or in standby */
		break;
	case PB_EV_RESOURCE:
		if (uh.active && !uh.quiescing && c && c->res)
			consider(c->res);
		break;
	case PB_EV_DISCONNECTED:
		if (c == uh.bind)
			uh.bind = NULL;
		else if ((h = hub_by_conn(c)))
			hub_gone(h);
		break;
	}
}

static const struct pb_module_ops ops = {
	.start = uh_start,
	.stop = uh_stop,
	.quiesce = uh_quiesce,
	.export_state = uh_export,
	.import_state = uh_import,
	.release = uh_release,
	.activate = uh_activate,
	.resume = uh_resume,
	.event = uh_event,
};

PB_MODULE(.name = UH_NAME, .version = "1.0",
    .desc = "USB hubs: their ports reset and told to the bus",
    .rank = 0, .flags = 0, .ops = &ops,
    .nbinds = 1, .binds = { PB_BIND(USB_IFACE, "class=09") });
