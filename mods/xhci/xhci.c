/*
 * xhci - provides `usb-hci` 1.0 (abi/usb.h) for an xHCI USB host
 * controller (PCI class 0c.03.30): one resource per controller,
 * `usb-hci:xhci0` (xhci1 ...), with the properties
 *   path=pci:00:02.0 ports=8 usb2=5-8 usb3=1-4
 * Its one client is the bus driver (`usb`), which adds the devices it
 * finds on the root ports this driver resets and reports.
 *
 * start() maps BAR0, reads the capabilities (caps.c), publishes and
 * returns; the bring-up goes on as timer-driven steps (hc.c): BIOS
 * handoff and Intel port routing (handoff.c), halt, reset, the rings and
 * contexts (ring.c, ctx.c), interrupts (irq.c), then the root ports
 * (port.c).  Requests (req.c): transfers (xfer.c), device set-up (dev.c)
 * and endpoint recovery (fix.c) through the command ring (cmd.c); the
 * events say how they went (event.c).  Swaps (state.c).
 *
 * boot.cfg: `xhci=no` keeps it off the controller; `xhci-msi=no` polls;
 * `xhci-handoff=no` skips the BIOS handoff; `xhci-route=no` leaves
 * Intel's port routing alone.
 * QEMU: tools/qemu-run --config usb (qemu-xhci with a USB stick and a
 * keyboard); -trace 'usb_xhci_*' through --extra shows the controller's
 * side.
 */
#include "xhci.h"

#ifndef XHCI_INSTANCES
#define XHCI_INSTANCES 1	/* a module image drives one controller */
#endif
/* A second build under other names (a test module) for swap tests. */
#ifndef XHCI_NAME
#define XHCI_NAME "xhci"
#endif

enum { REQ_IRQ = 0 };

#define PCI_CLASS_SERIAL	0x0c
#define PCI_SUBCLASS_USB	0x03
#define PCI_PROGIF_XHCI		0x30

static struct xhci instances[XHCI_INSTANCES];

static struct xhci *
xhci_of(struct pb_module *self, int claim)
{
	struct xhci *unused = NULL;

	for (unsigned i = 0; i < XHCI_INSTANCES; i++) {
		if (instances[i].self == self)
			return &instances[i];
		if (!instances[i].self && !unused)
			unused = &instances[i];
	}
	if (!claim || !unused)
		return NULL;
	memset(unused, 0, sizeof(*unused));
	unused->self = self;
	unused->vector = -1;
	return unused;
}

uint64_t
xhci_now(const struct xhci *a)
{
	return a->hub->now_ns();
}

/* --- the step timer ----------------------------------------------------- */

static void tick(void *arg);

/* Have tick run at `when` at the latest. */
void
tick_arm(struct xhci *a, uint64_t when)
{
	uint64_t t = xhci_now(a);
	int id;

	if (a->released || a->stopping || a->standby || !when)
		return;
	if (a->tick_id && a->tick_at <= when)
		return;
	if (a->tick_id)
		a->hub->timer_cancel(a->self, a->tick_id);
	id = a->hub->timer_after(a->self, when > t ? when - t : 0, tick, a);
	a->tick_id = id > 0 ? id : 0;
	a->tick_at = when;
	if (id <= 0 && !a->timer_failed)
		xlog(a, PB_LOG_ERR, "no timer (%d): steps and timeouts wait "
		    "for the next event", id);
	a->timer_failed = id <= 0;
}

static uint64_t
earliest(uint64_t a, uint64_t b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

static void
tick(void *arg)
{
	struct xhci *a = arg;
	uint64_t t, next;

	a->tick_id = 0;
	if (a->released || a->stopping || a->standby)
		return;
	hc_step(a);
	t = xhci_now(a);
	if (a->hstate == HC_UP) {
		if (!a->quiesced)
			port_steps(a, t);
		cmd_timeouts(a, t);
	}
	if (a->hstate == HC_UP) {
		xfer_timeouts(a, t);
		state_held_timeout(a, t);
	}
	next = a->hstate == HC_UP ? 0 : a->h_next;
	if (a->hstate == HC_UP) {
		if (!a->quiesced)
			next = earliest(next, port_next(a));
		next = earliest(next, cmd_next_deadline(a));
		next = earliest(next, xfer_next_deadline(a));
		next = earliest(next, a->held_deadline);
		next = earliest(next, a->q_deadline);
	}
	if (next)
		tick_arm(a, next);
}

/* --- the resource -------------------------------------------------------- */

/* The name of a resource of ours (by path) another instance published. */
static int
name_of_path(const struct xhci *a, char *name, size_t cap)
{
	struct pb_res_info info;
	char path[XHCI_PATH_MAX];

	for (unsigned i = 0; a->hub->res_info_sized; i++) {
		info = (struct pb_res_info){ .struct_size = sizeof(info) };
		if (a->hub->res_info_sized(NULL, i, &info) != PB_OK)
			return 0;
		if (!info.name || strncmp(info.name, USB_HCI_IFACE ":",
		    sizeof(USB_HCI_IFACE)) != 0 || !info.props ||
		    !rt_prop_get(info.props, "path", path, sizeof(path)) ||
		    strcmp(path, a->path) != 0)
			continue;
		rt_strlcpy(name, info.name + sizeof(USB_HCI_IFACE), cap);
		return 1;
	}
	return 0;
}

static int
name_taken(const struct xhci *a, const char *name)
{
	struct pb_res_info info;
	char full[8 + XHCI_NAME_MAX];

	rt_snprintf(full, sizeof(full), "%s:%s", USB_HCI_IFACE, name);
	for (unsigned i = 0; a->hub->res_info_sized; i++) {
		info = (struct pb_res_info){ .struct_size = sizeof(info) };
		if (a->hub->res_info_sized(NULL, i, &info) != PB_OK)
			return 0;
		if (info.name && strcmp(info.name, full) == 0)
			return 1;
	}
	return 0;
}

/* usb-hci:xhciN, the name the old side of a swap has when it can. */
static int
xhci_publish(struct xhci *a)
{
	char props[128], u2[24], u3[24];

	caps_port_range(a, 0, u2, sizeof(u2));
	caps_port_range(a, 1, u3, sizeof(u3));
	rt_snprintf(props, sizeof(props), "path=%s ports=%u usb2=%s usb3=%s",
	    a->path, a->nports, u2, u3);
	if (name_of_path(a, a->name, sizeof(a->name)) &&
	    (a->res = a->hub->publish(a->self, USB_HCI_IFACE, a->name, props,
	    &xhci_hci_ops, a)))
		return PB_OK;
	for (unsigned k = 0; k < 16; k++) {
		rt_snprintf(a->name, sizeof(a->name), "xhci%u", k);
		if (name_taken(a, a->name))
			continue;
		a->res = a->hub->publish(a->self, USB_HCI_IFACE, a->name, props,
		    &xhci_hci_ops, a);
		if (a->res)
			return PB_OK;
	}
	xlog(a, PB_LOG_ERR, "%s: usb-hci resource not published", a->path);
	return PB_ENOMEM;
}

static void
xhci_withdraw(struct xhci *a)
{
	if (a->res)
		a->hub->withdraw(a->self, a->res);
	a->res = NULL;
}

/* --- the module ---------------------------------------------------------- */

static int
attach(struct xhci *a, const char **why)
{
	const struct pci_bar *b;

	if (PB_CALL(a->pci, pci_ops, info, &a->fn) != PB_OK) {
		*why = "pci gives no function info";
		return PB_EIO;
	}
	if (a->fn.class_code != PCI_CLASS_SERIAL ||
	    a->fn.subclass != PCI_SUBCLASS_USB ||
	    a->fn.prog_if != PCI_PROGIF_XHCI) {
		*why = "not an xHCI controller (class 0c.03.30)";
		return PB_ENODEV;
	}
	b = &a->fn.bars[0];
	if ((b->kind != PCI_BAR_MEM32 && b->kind != PCI_BAR_MEM64) ||
	    !b->base || b->size < 0x100) {
		*why = "BAR0 is no usable memory BAR";
		return PB_ENODEV;
	}
	a->bar = PB_CALL(a->pci, pci_ops, map_bar, a->self, 0, PB_CACHE_UC);
	if (!a->bar) {
		*why = "BAR0 cannot be mapped";
		return PB_ENOMEM;
	}
	a->bar_size = b->size;
	rt_strlcpy(a->path, a->pci->res ? a->pci->res : "pci:?",
	    sizeof(a->path));
	return PB_OK;
}

/* Devices and their memory given back (requests must be gone first). */
void
xhci_forget_devices(struct xhci *a)
{
	for (unsigned i = 0; i < XHCI_MAX_SLOTS; i++)
		if (a->devs[i])
			dev_free(a, a->devs[i]);
	memset(a->by_slot, 0, sizeof(a->by_slot));
}

/* Everything given back; the instance is free for a new start. */
static void
forget(struct xhci *a)
{
	const struct pb_hub *hub = a->hub;
	struct pb_module *self = a->self;

	if (hub) {
		if (a->tick_id)
			hub->timer_cancel(self, a->tick_id);
		irq_teardown(a);
		hc_free_memory(a);
		xhci_withdraw(a);
		if (hub->size > offsetof(struct pb_hub, work_cancel)) {
			hub->work_cancel(self, &a->ev_work);
			hub->work_cancel(self, &a->note_work);
		}
		if (a->imported)
			hub->free(self, a->imported);
		if (a->bar)
			hub->unmap_mmio(self, (void *)a->bar);
	}
	memset(a, 0, sizeof(*a));
}

static int
xhci_start(struct pb_module *self, const struct pb_hub *hub, int mode)
{
	struct xhci *a = xhci_of(self, 1);
	const char *why = NULL;
	uint32_t cmd = 0;
	int err;

	rt_use_hub(hub);
	if (!a)
		return PB_ENOMEM;
	a->hub = hub;
	if (pb_setting_off(hub, "xhci")) {
		xlog(a, PB_LOG_INFO, "off (boot.cfg xhci=no)");
		err = PB_ENODEV;
		goto out;
	}
	if (hub->size <= offsetof(struct pb_hub, work_cancel) ||
	    !hub->dma_alloc || !hub->dma_addr || !hub->work_post) {
		xlog(a, PB_LOG_INFO, "needs the hub's ABI 1.2 services "
		    "(dma_alloc, work_post): declined");
		err = PB_ENODEV;
		goto out;
	}
#ifdef XHCI_STANDBY_ONLY
	if (mode != PB_START_STANDBY) {
		err = PB_ENODEV;
		goto out;
	}
#endif
	if (!a->pci) {
		xlog(a, PB_LOG_ERR, "no PCI function bound");
		err = PB_ENODEV;
		goto out;
	}
	hub->work_init(self, &a->ev_work, xhci_event_work, a);
	hub->work_init(self, &a->note_work, state_note, a);
	if ((err = attach(a, &why)) != PB_OK)
		goto fail;
	if (mode == PB_START_STANDBY) {
		/* Registers only read: the driver before us runs it. */
		if (PB_CALL(a->pci, pci_ops, cfg_read, PCI_COMMAND, 2,
		    &cmd) != PB_OK || !(cmd & PCI_CMD_MEM)) {
			why = "standby: memory decoding is off";
			err = PB_ENODEV;
			goto fail;
		}
	} else if (hc_enable_pci(a) != PB_OK) {
		why = "memory decoding and bus mastering cannot be enabled";
		err = PB_EIO;
		goto fail;
	}
	if ((err = caps_read(a, &why)) != PB_OK)
		goto fail;
	if ((err = xhci_publish(a)) != PB_OK)
		goto out;
	if (mode == PB_START_STANDBY) {
		a->standby = 1;
		return PB_OK;
	}
	hc_begin(a);
	return PB_OK;
fail:
	xlog(a, PB_LOG_ERR, "%s: %s", a->path[0] ? a->path : "xhci", why);
out:
	forget(a);
	return err;
}

/* The controller quiet, every request ended, everything given back.
 * After a swap the controller and the requests are the next driver's. */
static void
xhci_stop(struct pb_module *self)
{
	struct xhci *a = xhci_of(self, 0);

	if (!a)
		return;
	a->stopping = 1;
	if (!a->released && !a->standby && !a->handed) {
		hc_halt_now(a);
		xhci_fail_all(a, PB_ECANCELED);
	} else {
		state_forget(a);	/* handed over, or never ours */
	}
	forget(a);
}

static int
xhci_quiesce(struct pb_module *self)
{
	struct xhci *a = xhci_of(self, 0);

	return a ? state_quiesce(a) : PB_EINVAL;
}

static int
xhci_export(struct pb_module *self, void *buf, size_t cap, size_t *len,
    uint32_t *version)
{
	struct xhci *a = xhci_of(self, 0);

	if (!a)
		return PB_EINVAL;
	*version = USB_HCI_STATE_VERSION;
	return buf ? state_export(a, buf, cap, len) : state_size(a, len);
}

static int
xhci_release(struct pb_module *self)
{
	struct xhci *a = xhci_of(self, 0);

	return a ? state_release(a) : PB_EINVAL;
}

static int
xhci_import(struct pb_module *self, const void *buf, size_t len,
    uint32_t version)
{
	struct xhci *a = xhci_of(self, 0);

	return a ? state_import(a, buf, len, version) : PB_EINVAL;
}

static int
xhci_activate(struct pb_module *self)
{
	struct xhci *a = xhci_of(self, 0);

	return a ? state_activate(a) : PB_EINVAL;
}

static int
xhci_resume(struct pb_module *self)
{
	struct xhci *a = xhci_of(self, 0);

	return a ? state_resume(a) : PB_EINVAL;
}

/* The function went away under us; after a swap it went to the next
 * driver: nothing to do, the resource stays for a swap back. */
static void
pci_gone(struct xhci *a)
{
	if (a->released) {
		a->pci = NULL;
		a->superseded = 1;
		return;
	}
	xlog(a, PB_LOG_WARN, "%s went away: its devices are gone", a->path);
	if (a->tick_id)
		a->hub->timer_cancel(a->self, a->tick_id);
	a->tick_id = 0;
	irq_teardown(a);
	xhci_fail_all(a, PB_ECANCELED);
	xhci_withdraw(a);
	a->released = 1;
	a->pci = NULL;
}

/* How many clients our resource has (the going one counted). */
static unsigned
clients(const struct xhci *a)
{
	struct pb_res_info info;
	char full[8 + XHCI_NAME_MAX];

	rt_snprintf(full, sizeof(full), "%s:%s", USB_HCI_IFACE, a->name);
	for (unsigned i = 0; a->hub->res_info_sized; i++) {
		info = (struct pb_res_info){ .struct_size = sizeof(info) };
		if (a->hub->res_info_sized(NULL, i, &info) != PB_OK)
			break;
		if (info.name && strcmp(info.name, full) == 0 &&
		    info.owner && strcmp(info.owner, XHCI_NAME) == 0)
			return info.clients;
	}
	return 1;
}

/* The bus driver goes: its requests end (their buffers are about to be
 * freed: the controller is stopped first; the bus's own end silently,
 * its class drivers' PB_ECANCELED), the devices are forgotten,
 * and the controller starts over for the next client.  While another
 * client stays (a bus swap's two sides), nothing changes. */
static void
client_gone(struct xhci *a)
{
	if (a->standby || a->released || a->stopping || !a->pci ||
	    clients(a) > 1)
		return;
	xlog(a, PB_LOG_INFO, "%s: its client went: requests cancelled, the "
	    "controller starts over", a->name);
	hc_halt_now(a);
	a->bus_going = 1;	/* the bus's own requests: its memory goes */
	xhci_fail_all(a, PB_ECANCELED);
	a->bus_going = 0;
	state_forget(a);
	if (a->hstate != HC_DEAD && a->hstate != HC_DOWN)
		hc_begin(a);
}

static void
xhci_event(struct pb_module *self, int ev, struct pb_conn *c, int req)
{
	struct xhci *a = xhci_of(self, 1);
	int running;

	if (!a)
		return;
	if (ev == PB_EV_CLIENT_GONE) {
		if (a->hub)
			client_gone(a);
		return;
	}
	running = a->hub && !a->standby && !a->released && !a->stopping &&
	    a->hstate != HC_DOWN && a->hstate != HC_DEAD && a->op;
	if (req == PB_REQ_BIND) {
		if (ev == PB_EV_CONNECTED || ev == PB_EV_REBOUND)
			a->pci = c;
		else if (ev == PB_EV_DISCONNECTED && c == a->pci)
			pci_gone(a);
	} else if (req == REQ_IRQ) {
		if (ev == PB_EV_CONNECTED || ev == PB_EV_REBOUND)
			a->irqc = c;
		else if (ev == PB_EV_DISCONNECTED && c == a->irqc)
			a->irqc = NULL;
		if (running && a->hstate >= HC_START)
			irq_reconsider(a);
	}
}

static const struct pb_module_ops ops = {
	.start = xhci_start,		/* bring-up goes on after it */
	.stop = xhci_stop,		/* quiet, requests ended */
	.quiesce = xhci_quiesce,	/* PB_EAGAIN until halted */
	.export_state = xhci_export,	/* struct usb_hci_state */
	.import_state = xhci_import,	/* checked, taken at activate */
	.release = xhci_release,	/* interrupts, bus mastering off */
	.activate = xhci_activate,	/* reset, ports reported again */
	.resume = xhci_resume,		/* runs on (a failed swap) */
	.event = xhci_event,		/* the PCI function, irq, client */
};

PB_MODULE(.name = XHCI_NAME, .version = "1.0",
    .desc = "USB host controller (xHCI): root ports, slots, transfers",
    .rank = 20, .flags = PB_MOD_HARDWARE | PB_MOD_RESTATE, .ops = &ops,
    .nprovides = 1,
    .provides = { PB_PROVIDE(USB_HCI_IFACE, USB_HCI_MAJOR, USB_HCI_MINOR) },
    .nrequires = 1,
    .requires = { [REQ_IRQ] = PB_REQUIRE(IRQ_IFACE, IRQ_MAJOR, 0,
	PB_CARD_OPTIONAL, PB_AT_START) },
    .nbinds = 1,
    .binds = { PB_BIND(PCI_IFACE, "class=0c.03.30") });
