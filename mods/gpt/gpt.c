/*
 * gpt - the partitions of every `block` disk, as `block` resources.
 *
 * Requires every `block` disk, whenever one appears (a disk that is
 * itself a partition, with `disk=` in its properties, is never read);
 * reads its GPT (UEFI 2.10 §5.3, with the backup when the primary is
 * damaged) or MBR with its logical partitions (§5.2.1), and publishes
 * `block:<disk>.p<N>` for each partition (props.c lists the properties).
 * A request on a partition goes to the disk moved by the partition's
 * first block (partio.c).  Started at boot though nothing asks for it
 * (PB_MOD_AUTOSTART), like a bus enumerator: what it finds is what file
 * systems bind to.  Swappable (swap.c).  Needs ABI 1.2: intrusive work
 * for completions, DMA memory for the scan's reads, sized inventory.
 *
 * Try it: `make run`, then `res` lists block:sata0.p1 with esp=1.
 */
#include "gpt.h"

const struct pb_hub *gpt_hub;
struct pb_module *gpt_self;

static int
hub_has_abi_1_2(const struct pb_hub *h)
{
	return h->abi_minor >= 2 && h->size >=
	    offsetof(struct pb_hub, res_info_sized) +
	    sizeof(h->res_info_sized) && h->work_init && h->work_post &&
	    h->work_cancel && h->dma_alloc && h->dma_free && h->res_info_sized;
}

static int
gpt_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	rt_use_hub(h);
	if (!hub_has_abi_1_2(h)) {
		h->log(m, PB_LOG_ERR, "needs a hub with ABI 1.2 services "
		    "(work_post, dma_alloc, res_info_sized)");
		return PB_ENOTSUP;
	}
	gpt_self = m;
	gpt_hub = h;
	if (mode == PB_START_STANDBY)
		return gpt_adopt();
	return PB_OK;
}

/* The hub takes back memory, connections and resources: forget them. */
static void
gpt_stop(struct pb_module *m)
{
	(void)m;
	disk_forget_all();
	memset(gpt_parts, 0, sizeof(gpt_parts));
	swap_forget();
}

/* A client of one of our partitions goes: its requests are its memory,
 * about to be taken back, so they are let go without a word.  Which
 * client sent a request is not known, so it is every request on that
 * partition (a partition has one client: its file system). */
static void
client_gone(struct pb_conn *c)
{
	struct gpart *gp = c ? c->ctx : NULL;

	if (gp < gpt_parts || gp >= gpt_parts + GPT_PARTS || !gp->disk)
		return;
	io_forget(gp, 0);
}

static void
gpt_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	(void)m;
	switch (ev) {
	case PB_EV_CONNECTED:
		if (req == REQ_DISK)
			disk_connected(c, 0);
		break;
	case PB_EV_DISCONNECTED:
		disk_gone(c);
		break;
	case PB_EV_REBOUND:
		disk_rebound(c);
		break;
	case PB_EV_CLIENT_GONE:
		client_gone(c);
		break;
	}
}

static const struct pb_module_ops ops = {
	.start = gpt_start,
	.stop = gpt_stop,
	.quiesce = gpt_quiesce,
	.export_state = gpt_export,
	.import_state = gpt_import,
	.release = gpt_release,
	.activate = gpt_activate,
	.resume = gpt_resume,
	.event = gpt_event,
};

PB_MODULE(.name = GPT_NAME, .version = "1.0",
    .desc = "GPT and MBR partitions of every block disk",
    .rank = 0, .flags = PB_MOD_AUTOSTART, .ops = &ops,
    .nprovides = 1,
    .provides = { PB_PROVIDE(BLOCK_IFACE, BLOCK_MAJOR, BLOCK_MINOR) },
    .nrequires = 1,
    .requires = { [REQ_DISK] = PB_REQUIRE(BLOCK_IFACE, BLOCK_MAJOR,
	BLOCK_MINOR, PB_CARD_ALL, PB_LATER) });
