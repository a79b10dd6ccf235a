/*
 * usb-storage - USB mass storage, SCSI over Bulk-Only Transport 1.0,
 * provides `block` 1.0: one resource per LUN of every stick, block:usbN
 * (LUN 0) and block:usbN.lL (LUN L), path= the stick's dev= plus /lun:L
 * (pci:00:02.0/usb:2/lun:0): the path efi-block gives the firmware's
 * disk, so at the takeover the hub hands that disk and its clients (gpt,
 * fat) to us (hub/park.c).
 *
 * Binds to `usb` interfaces of class 08, subclass 06 (SCSI transparent),
 * protocol 50 (Bulk-Only).  The hub loads a module once, for the first
 * stick; the module subscribes to `usb` and connects by hand to every
 * other stick of its class nobody drives (dev.c), so several sticks, each
 * with several LUNs, run at once.
 *
 * Entry points:
 *   start      attach the bound stick and any other (probe.c); in standby
 *              publish a counterpart of each disk of the running
 *              usb-storage and touch nothing (state.c)
 *   stop       requests still ours complete PB_ECANCELED; the bus cancels
 *              what it still holds of ours
 *   quiesce    no new command; PB_EAGAIN while one is on the wire
 *   export     the queued requests and the LUNs' geometry (state.c)
 *   release    never submit to the bus again
 *   import, activate, resume: state.c
 *   event      the bind rule's connection, the hand-made ones going, a
 *              `usb` resource appearing
 *
 * boot.cfg: `usb-storage=no` leaves every stick alone.
 * QEMU: tools/qemu-run --config usbonly (the boot disk is a usb-storage
 * stick on qemu-xhci), and `device_add usb-storage,bus=xhci.0,drive=...`
 * in the monitor for a second one.
 */
#include "usbstor.h"

struct usbstor us;

static int
any_stick(void)
{
	for (unsigned i = 0; i < USBSTOR_DEVS; i++)
		if (dev_in_use(i))
			return 1;
	return 0;
}

static int
usbstor_start(struct pb_module *self, const struct pb_hub *hub, int mode)
{
	struct pb_conn *bound = us.bound;	/* connected before start */
	struct usbstor_dev *d;

	rt_use_hub(hub);
	memset(&us, 0, sizeof(us));
	us.bound = bound;
	us.hub = hub;
	us.self = self;
	if (!HUB_HAS(hub, res_info_sized) || !hub->dma_alloc ||
	    !hub->dma_addr || !hub->work_post) {
		slog(PB_LOG_INFO, "needs the hub's ABI 1.2 services (dma_alloc, "
		    "work_post): declined");
		return PB_ENODEV;
	}
	if (pb_setting_off(hub, "usb-storage")) {
		slog(PB_LOG_INFO, "off (boot.cfg usb-storage=no)");
		return PB_ENODEV;
	}
	us.standby = mode == PB_START_STANDBY;
	us.subscribed = hub->subscribe(self, USB_IFACE) == PB_OK;
	if (us.standby) {
		if (bound)
			dev_add(bound);
		state_standby_devices();
		us.started = 1;
		return PB_OK;
	}
	if (bound && (d = dev_add(bound)))
		probe_begin(d);
	dev_scan();
	if (!any_stick()) {
		memset(&us, 0, sizeof(us));
		return PB_ENODEV;
	}
	us.started = 1;
	return PB_OK;
}

/* Everything ends: requests still ours complete PB_ECANCELED (none after
 * a swap handed them over), the bus forgets ours, memory goes back. */
static void
usbstor_stop(struct pb_module *self)
{
	unsigned n = 0;

	if (!us.hub)
		return;
	for (unsigned i = 0; i < USBSTOR_DEVS; i++) {
		struct usbstor_dev *d = us.dev[i];

		if (!d || (d->state == DEV_FREE && !d->bot.in_flight))
			continue;
		if (d->bot.in_flight && d->conn && !us.released)
			PB_CALL(d->conn, usb_ops, cancel, 0xff);
		if (us.released || us.standby) {
			io_forget(d);
		} else {
			int out = d->bot.in_flight;

			n += d->nqueued + (d->cur ? 1 : 0);
			d->bot.state = BS_IDLE;
			d->bot.in_flight = 0;	/* cancelled: never seen */
			io_fail_all(d, PB_ECANCELED);
			/* ... but still the bus's unless it gave it back
			 * (its status written): then its DMA buffer stays */
			d->bot.in_flight = out &&
			    d->bot.req.status == BOT_PENDING;
		}
		for (unsigned l = 0; d->lun && l < d->nlun_cap; l++)
			lun_withdraw(&d->lun[l]);
		d->state = d->state == DEV_FREE ? DEV_FREE : DEV_GONE;
		d->conn = NULL;
		dev_forget(d);
	}
	if (n)
		slog(PB_LOG_INFO, "stopped: %u request%s cancelled", n,
		    n == 1 ? "" : "s");
	state_forget();
	for (unsigned i = 0; i < USBSTOR_DEVS; i++) {
		struct usbstor_dev *d = us.dev[i];

		if (!d)
			continue;
		if (d->lun)
			us.hub->free(us.self, d->lun);
		/* A stick whose request the bus still holds keeps its slot
		 * (the completion is in it) until the hub takes it back. */
		if (!d->bot.in_flight)
			us.hub->free(us.self, d);
	}
	/* The hub closes our connections without telling: none may be
	 * used if we are started anew.  A request still at the bus stays
	 * as it is, in its stick's slot kept above: the bus and the
	 * controller drop it when they hear PB_EV_CLIENT_GONE, after this
	 * stop, and find it by its links and its owner. */
	memset(&us, 0, sizeof(us));
}

static int
usbstor_quiesce(struct pb_module *self)
{
	us.quiesced = 1;
	return state_quiesce();
}

static int
usbstor_export(struct pb_module *self, void *buf, size_t cap, size_t *len,
    uint32_t *version)
{
	return state_export(buf, cap, len, version);
}

static int
usbstor_release(struct pb_module *self)
{
	return state_release();
}

static int
usbstor_import(struct pb_module *self, const void *buf, size_t len,
    uint32_t version)
{
	return state_import(buf, len, version);
}

static int
usbstor_activate(struct pb_module *self)
{
	return state_activate();
}

static int
usbstor_resume(struct pb_module *self)
{
	return state_resume();
}

static void
usbstor_event(struct pb_module *self, int ev, struct pb_conn *c, int req)
{
	struct usbstor_dev *d;

	switch (ev) {
	case PB_EV_CONNECTED:
		if (req != PB_REQ_BIND)
			break;
		if (!us.started) {
			us.bound = c;	/* start() takes it */
		} else if (us.released) {
			/* the swap rolled back: the stick we handed over */
			if ((d = dev_handed(c->res)))
				d->conn = c;
		} else if (!us.standby && !dev_of_conn(c) &&
		    (d = dev_add(c))) {
			probe_begin(d);
		}
		break;
	case PB_EV_DISCONNECTED:
		if (c == us.bound)
			us.bound = NULL;
		if (us.started && (d = dev_of_conn(c)))
			dev_disconnected(d);
		break;
	case PB_EV_RESOURCE:
		if (us.started)
			dev_scan();	/* a stick for us? */
		break;
	case PB_EV_CLIENT_GONE:
		io_client_gone(c);
		break;
	default:		/* PB_EV_REBOUND: the bus was swapped */
		break;
	}
}

static const struct pb_module_ops ops = {
	.start = usbstor_start,		/* attach goes on after it */
	.stop = usbstor_stop,		/* requests end, the bus forgets ours */
	.quiesce = usbstor_quiesce,	/* PB_EAGAIN while a command runs */
	.export_state = usbstor_export,	/* struct block_state + LUNs */
	.import_state = usbstor_import,	/* checked, queued at activate */
	.release = usbstor_release,	/* the bus is never called again */
	.activate = usbstor_activate,	/* the queues run, no command first */
	.resume = usbstor_resume,	/* the handed requests come back */
	.event = usbstor_event,		/* sticks and clients coming, going */
};

PB_MODULE(.name = USBSTOR_NAME, .version = "1.0",
    .desc = "USB mass storage: SCSI over Bulk-Only Transport",
    .rank = 20, .flags = PB_MOD_HARDWARE, .ops = &ops,
    .nprovides = 1,
    .provides = { PB_PROVIDE(BLOCK_IFACE, BLOCK_MAJOR, BLOCK_MINOR) },
    .nbinds = 1,
    .binds = { PB_BIND(USB_IFACE, "class=08 subclass=06 protocol=50") });
