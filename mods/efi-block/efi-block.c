/*
 * efi-block - `block` over the firmware's Block I/O, for the firmware
 * phase: one resource, block:efiN, per whole disk the firmware shows
 * (partitions are left to gpt), with the properties of abi/block.h and
 * the identity `path` the native driver of the same disk publishes.
 * Requires `firmware` 1.1 (abi/firmware.h), so it lives until the
 * takeover: there the hub quiesces it, holds its disks' clients for their
 * native driver (hub/park.c), takes its queue by export and unloads it.
 *
 * Entry points:
 *   start	ask the firmware for its disks, publish the ones we serve;
 *		standby (the new side of a swap) dispatches nothing yet
 *   quiesce	stop dispatching; nothing is ever on the device between two
 *		work items (Block I/O is synchronous), so never PB_EAGAIN
 *   export	hand every queued request over in a struct block_state
 *   release	the old side of a swap: the firmware is never called
 *		again, though requests are still taken and queued
 *   import	requests listed for our disks go first in their queues
 *   activate	dispatch (the new side of a swap)
 *   resume	a failed swap: take back what export handed, dispatch
 *   stop	every request still ours completes with PB_ECANCELED
 */
#include "efi-block.h"

struct efiblk efb;

#define HUB_HAS(h, f) \
	((h)->size >= offsetof(struct pb_hub, f) + sizeof((h)->f))

static void
log_disks(void)
{
	for (unsigned i = 0; i < efb.ndisks; i++) {
		const struct efiblk_disk *d = &efb.disk[i];

		pb_logf(efb.hub, efb.self, PB_LOG_INFO, "block:%s: %s, %llu "
		    "blocks of %u bytes%s%s", d->name, d->fw.path,
		    (unsigned long long)d->block_count, d->fw.block_size,
		    d->fw.model[0] ? ", " : "", d->fw.model);
	}
}

static int
efiblk_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	struct pb_conn *fw = efb.fw;	/* connected before start */
	int n;

	rt_use_hub(h);
	memset(&efb, 0, sizeof(efb));
	efb.fw = fw;
	efb.hub = h;
	efb.self = m;
	if (!fw)
		return PB_ENOENT;
#ifdef EFIBLK_STANDBY_ONLY
	/* The second build that swap tests alternate with this one
	 * (tests/mods/tefiblk) only ever takes over from it. */
	if (mode != PB_START_STANDBY)
		return PB_ENODEV;
#endif
	if (!HUB_HAS(h, work_cancel)) {
		pb_logf(h, m, PB_LOG_ERR, "needs the hub's work items (ABI "
		    "1.2)");
		return PB_ENOTSUP;
	}
	h->work_init(m, &efb.serve, efiblk_serve, NULL);
	efb.quiet = mode == PB_START_STANDBY;
	if ((n = efiblk_disks_probe()) < 0)
		return n;
	if (n == 0) {
		pb_logf(h, m, PB_LOG_INFO, "the firmware shows no disk we "
		    "can serve");
		return PB_ENODEV;
	}
	if (mode == PB_START_NORMAL)
		log_disks();
	return PB_OK;
}

static void
efiblk_stop(struct pb_module *m)
{
	unsigned n;

	if (efb.hub && HUB_HAS(efb.hub, work_cancel)) {
		n = efiblk_cancel_all(PB_ECANCELED);
		if (n)
			pb_logf(efb.hub, m, PB_LOG_INFO, "stopped: %u requests "
			    "cancelled", n);
		efb.hub->work_cancel(m, &efb.serve);
		efiblk_forget_handed();
	}
	/* The hub closes our connections without telling: none may be
	 * used if we are started anew. */
	memset(&efb, 0, sizeof(efb));
}

static int
efiblk_quiesce(struct pb_module *m)
{
	efb.quiet = 1;
	return PB_OK;
}

static int
efiblk_export_state(struct pb_module *m, void *buf, size_t cap, size_t *len,
    uint32_t *version)
{
	return efiblk_export(buf, cap, len, version);
}

static int
efiblk_import_state(struct pb_module *m, const void *buf, size_t len,
    uint32_t version)
{
	return efiblk_import(buf, len, version);
}

static int
efiblk_release(struct pb_module *m)
{
	efb.parked = 1;
	return PB_OK;
}

static int
efiblk_activate(struct pb_module *m)
{
	efb.quiet = 0;
	efiblk_kick();
	return PB_OK;
}

static int
efiblk_resume(struct pb_module *m)
{
	efb.quiet = efb.parked = 0;
	efiblk_take_back();
	efiblk_kick();
	return PB_OK;
}

static void
efiblk_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	if (ev == PB_EV_CONNECTED && req == 0)
		efb.fw = c;
	else if (ev == PB_EV_DISCONNECTED && c == efb.fw)
		efb.fw = NULL;		/* ExitBootServices */
}

static const struct pb_module_ops efiblk_ops = {
	.start = efiblk_start,
	.stop = efiblk_stop,
	.quiesce = efiblk_quiesce,
	.export_state = efiblk_export_state,
	.import_state = efiblk_import_state,
	.release = efiblk_release,
	.activate = efiblk_activate,
	.resume = efiblk_resume,
	.event = efiblk_event,
};

PB_MODULE(.name = EFIBLK_NAME, .version = "1.0",
    .desc = "block over UEFI Block I/O, whole disks, until the takeover",
    .flags = PB_MOD_BOOT | PB_MOD_FIRMWARE, .rank = 0, .ops = &efiblk_ops,
    .nprovides = 1,
    .provides = { PB_PROVIDE(BLOCK_IFACE, BLOCK_MAJOR, BLOCK_MINOR) },
    .nrequires = 1,
    .requires = { PB_REQUIRE(FIRMWARE_IFACE, FIRMWARE_MAJOR, 1, PB_CARD_ONE,
	PB_AT_START) });
