/*
 * tnvmeflr - test module: a DMA driver for QEMU's NVMe controller
 * (1b36:0010, class 01.08.02) behind a pcie-root-port, where QEMU 7.2
 * offers function-level reset (PCIe Device Capabilities bit 28), for
 * tests/scenario/test_pcireset.py:
 *
 *	-device pcie-root-port,id=rp9,bus=pcie.0,chassis=9,addr=0x9
 *	-drive if=none,id=nv,format=raw,file=IMG
 *	-device nvme,serial=flr,drive=nv,bus=rp9
 *
 * Each instance logs the controller registers and COMMAND as it finds
 * them; a controller left enabled (the firmware's NVMe driver leaves it
 * so, its queues in boot-services memory) is disabled first (CC.EN 0,
 * then CSTS.RDY 0, §7.6.2).  It then turns bus mastering on, sets up an admin
 * queue pair in its DMA memory (NVMe 1.4 §7.6.1: AQA, ASQ, ACQ, then
 * CC.EN with the queue entry sizes) and, once CSTS.RDY, has the
 * controller write the Identify Controller data into its memory (§5.15,
 * CNS 01h): the controller masters the bus.  A new instance after a fault
 * finds CC, AQA and ASQ at their reset value (0) only if the function was
 * reset meanwhile.  A 2 ms timer drives the steps and ticks on after
 * them, for `faultinject tnvmeflr work ...`; every wait is bounded.
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/pci.h"
#include "../../../abi/mmio.h"
#include "../../../abi/rt/rt.h"

/* Controller registers (NVMe 1.4 §3.1). */
#define NVME_CAP	0x00	/* TO: bits 31:24, in 500 ms */
#define NVME_CC		0x14
#define NVME_CSTS	0x1c
#define NVME_AQA	0x24
#define NVME_ASQ	0x28
#define NVME_ACQ	0x30
#define NVME_SQ0TDBL	0x1000
#define NVME_CQ0HDBL	0x1004	/* CAP.DSTRD 0: QEMU's */
#define CC_EN		0x1u
#define CC_IOSQES	(6u << 16)	/* 64-byte submission entries */
#define CC_IOCQES	(4u << 20)	/* 16-byte completion entries */
#define CSTS_RDY	0x1u
#define CSTS_CFS	0x2u
#define QUEUE_ENTRIES	8
#define OPC_IDENTIFY	0x06
#define CNS_CONTROLLER	0x01
#define ID_MODEL	24		/* MN, 40 bytes (§5.15.2.2) */

#define TICK_NS		2000000ull
#define ID_WAIT_TICKS	500		/* 1 s for the Identify */

_Static_assert(QUEUE_ENTRIES * 64 <= 4096, "the admin SQ fits a page");

enum step { S_NONE, S_DISABLE, S_READY, S_IDENTIFY, S_RUN };

static const struct pb_hub *hub;
static struct pb_module *self;
static struct pb_conn *dev;
static volatile uint8_t *regs;
static uint32_t *sq, *cq;
static uint8_t *id;
static enum step step;
static unsigned ticks, wait_ticks;

#define say(...) pb_logf(hub, self, PB_LOG_INFO, __VA_ARGS__)

static uint32_t
rd(unsigned off)
{
	return mmio_read32(regs + off);
}

static void
wr(unsigned off, uint32_t v)
{
	mmio_write32(regs + off, v);
}

static uint32_t
cfg(unsigned off, unsigned width)
{
	uint32_t v = 0;

	if (PB_CALL(dev, pci_ops, cfg_read, (uint16_t)off, width, &v) != PB_OK)
		return 0;
	return v;
}

static void *
page(uint64_t *bus)
{
	void *p = hub->dma_alloc(self, 4096, 4096, 0, ~0ull, bus);

	if (p)
		memset(p, 0, 4096);
	return p;
}

/* The Identify Controller command into the admin SQ, its doorbell rung. */
static void
identify(uint64_t id_bus)
{
	sq[0] = OPC_IDENTIFY | (1u << 16);	/* CID 1 */
	sq[6] = (uint32_t)id_bus;		/* PRP1 */
	sq[7] = (uint32_t)(id_bus >> 32);
	sq[10] = CNS_CONTROLLER;
	mmio_wmb();
	wr(NVME_SQ0TDBL, 1);
}

static uint64_t sq_bus, cq_bus, id_bus;

/* The admin queue pair (§7.6.1), then the controller enabled. */
static void
setup(void)
{
	if (PB_CALL(dev, pci_ops, enable, PCI_CMD_MASTER, 1) != PB_OK) {
		say("bus mastering refused");
		step = S_RUN;
		return;
	}
	wr(NVME_AQA, (QUEUE_ENTRIES - 1) << 16 | (QUEUE_ENTRIES - 1));
	wr(NVME_ASQ, (uint32_t)sq_bus);
	wr(NVME_ASQ + 4, (uint32_t)(sq_bus >> 32));
	wr(NVME_ACQ, (uint32_t)cq_bus);
	wr(NVME_ACQ + 4, (uint32_t)(cq_bus >> 32));
	wr(NVME_CC, CC_EN | CC_IOSQES | CC_IOCQES);
	say("enabled: CC 0x%08x, admin queues at 0x%llx and 0x%llx",
	    rd(NVME_CC), (unsigned long long)sq_bus,
	    (unsigned long long)cq_bus);
	step = S_READY;
	wait_ticks = 0;
}

/* The steps, each bounded. */
static void
tick(void *arg)
{
	(void)arg;
	ticks++;
	if (step == S_DISABLE) {
		if (!(rd(NVME_CSTS) & CSTS_RDY)) {
			say("disabled the controller found enabled");
			setup();
		} else if (++wait_ticks > ID_WAIT_TICKS) {
			say("CSTS.RDY stays set after CC.EN 0 (CSTS 0x%08x)",
			    rd(NVME_CSTS));
			step = S_RUN;
		}
	} else if (step == S_READY) {
		if (rd(NVME_CSTS) & CSTS_CFS) {
			say("controller fatal status (CSTS 0x%08x)",
			    rd(NVME_CSTS));
			step = S_RUN;
		} else if (rd(NVME_CSTS) & CSTS_RDY) {
			identify(id_bus);
			step = S_IDENTIFY;
			wait_ticks = 0;
		} else if (++wait_ticks > ID_WAIT_TICKS) {
			say("CSTS.RDY not set (CSTS 0x%08x)", rd(NVME_CSTS));
			step = S_RUN;
		}
	} else if (step == S_IDENTIFY) {
		mmio_rmb();
		if (cq[3] & (1u << 16)) {	/* the phase tag: done */
			wr(NVME_CQ0HDBL, 1);
			say("identify: status 0x%x, model '%.16s': the "
			    "controller masters the bus", cq[3] >> 17,
			    (const char *)id + ID_MODEL);
			step = S_RUN;
		} else if (++wait_ticks > ID_WAIT_TICKS) {
			say("identify not answered (CSTS 0x%08x)",
			    rd(NVME_CSTS));
			step = S_RUN;
		}
	}
}

static void
t_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	(void)m;
	if (req == PB_REQ_BIND && ev == PB_EV_CONNECTED)
		dev = c;
}

static int
t_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	(void)mode;
	self = m;
	hub = h;
	step = S_NONE;
	if (!dev || PB_CALL(dev, pci_ops, enable, PCI_CMD_MEM, 1) != PB_OK ||
	    !(regs = PB_CALL(dev, pci_ops, map_bar, self, 0, PB_CACHE_UC)))
		return PB_ENODEV;
	say("at start: COMMAND 0x%04x CC 0x%08x CSTS 0x%08x AQA 0x%08x "
	    "ASQ 0x%08x%08x", cfg(PCI_COMMAND, 2), rd(NVME_CC), rd(NVME_CSTS),
	    rd(NVME_AQA), rd(NVME_ASQ + 4), rd(NVME_ASQ));
	if (!(sq = page(&sq_bus)) || !(cq = page(&cq_bus)) ||
	    !(id = page(&id_bus)))
		return PB_ENOMEM;
	if (rd(NVME_CC) & CC_EN) {
		wr(NVME_CC, 0);
		step = S_DISABLE;
		wait_ticks = 0;
	} else {
		setup();
	}
	return hub->timer_every(self, TICK_NS, tick, NULL) < 0 ? PB_ENOMEM :
	    PB_OK;
}

/* An orderly stop resets the controller: it reads no queue of ours after
 * (CC.EN 0 deletes the admin queues, §7.6.2). */
static void
t_stop(struct pb_module *m)
{
	(void)m;
	if (regs)
		wr(NVME_CC, 0);
}

static const struct pb_module_ops ops = {
	.start = t_start,
	.stop = t_stop,
	.event = t_event,
};

PB_MODULE(.name = "tnvmeflr", .version = "1.0",
    .desc = "test: an NVMe controller's DMA driver that faults, for FLR",
    .flags = PB_MOD_HARDWARE, .ops = &ops,
    .nbinds = 1, .binds = { PB_BIND("pci", "vendor=1b36 device=0010") });
