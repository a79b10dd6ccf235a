/*
 * trecover-edu - test module: a DMA driver for QEMU's `edu` device
 * (1234:11e8, QEMU docs/specs/edu.rst) that is killed with a DMA in
 * flight, for tests/scenario/test_recover.py.
 *
 * Each instance logs COMMAND as it finds it at start (the previous
 * instance's fault must have left bus mastering off), turns memory decode
 * on, waits for the device to be idle, turns bus mastering on and runs a DMA round trip through the device's
 * 4 KiB buffer at device address 0x40000: 2 KiB of a pattern from RAM to
 * the device, then back into the other half of its DMA page, compared.
 * It checks first that the second half still holds the sentinel it wrote
 * at start: a DMA of an earlier instance, still running after its driver
 * died, would have overwritten it if the page was that instance's.
 * With boot.cfg `trecover-edu=crash` it then starts a DMA from the device
 * into its page and, without waiting for it, calls through NULL.
 *
 * edu's registers (32-bit below 0x80, 64-bit at 0x80..0x98): DMA source, destination, count,
 * command (bit 0 run, bit 1 direction: 1 = device to RAM).  edu clamps
 * DMA addresses to 28 bits, so the page lies below 256 MiB.
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/pci.h"
#include "../../../abi/rt/rt.h"

#define EDU_ID		0x00
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_DMA_RUN	0x1
#define EDU_DMA_TO_RAM	0x2
#define EDU_BUF		0x40000
#define HALF		2048
#define STEP_NS		300000000ull	/* edu runs a DMA 100 ms after */
#define SENTINEL	0x5a

static const struct pb_hub *hub;
static struct pb_module *self;
static struct pb_conn *dev;
static volatile uint8_t *regs;
static uint8_t *page;
static uint64_t page_bus;
static int crash_after;
static uint8_t seed;		/* this instance's pattern */
static unsigned waits;

typedef void (*fn_t)(void);
static fn_t volatile null_fn;	/* the compiler must not see NULL */

#define say(...) pb_logf(hub, self, PB_LOG_INFO, __VA_ARGS__)

static uint64_t
rd(unsigned off)
{
	return *(volatile uint64_t *)(regs + off);
}

static void
wr(unsigned off, uint64_t v)
{
	*(volatile uint64_t *)(regs + off) = v;
}

static void
dma(uint64_t src, uint64_t dst, int to_ram)
{
	wr(EDU_DMA_SRC, src);
	wr(EDU_DMA_DST, dst);
	wr(EDU_DMA_CNT, HALF);
	wr(EDU_DMA_CMD, EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0));
}

static void
crash(void)
{
	dma(EDU_BUF, page_bus + HALF, 1);
	say("crashing with a DMA to 0x%llx in flight",
	    (unsigned long long)(page_bus + HALF));
	null_fn();
}

static void
compare(void *arg)
{
	unsigned bad = 0;

	(void)arg;
	if (rd(EDU_DMA_CMD) & EDU_DMA_RUN) {
		say("dma back not done");
		return;
	}
	for (unsigned i = 0; i < HALF; i++)
		bad += page[HALF + i] != (uint8_t)(i * 7 + seed);
	say("dma round trip: %s (%u bytes differ)", bad ? "bad" : "ok", bad);
	if (crash_after)
		crash();
}

static void
back(void *arg)
{
	unsigned changed = 0;

	(void)arg;
	if (rd(EDU_DMA_CMD) & EDU_DMA_RUN) {
		say("dma out not done");
		return;
	}
	for (unsigned i = 0; i < HALF; i++)
		changed += page[HALF + i] != SENTINEL;
	say("sentinel at 0x%llx: %s (%u bytes changed)",
	    (unsigned long long)(page_bus + HALF),
	    changed ? "overwritten" : "untouched", changed);
	dma(EDU_BUF, page_bus + HALF, 1);
	hub->timer_after(self, STEP_NS, compare, NULL);
}

/* The device may still run a DMA an earlier instance started (its bus
 * mastering went off, but edu has no reset to stop it): bus mastering
 * goes on only once the device is idle, as a real driver resets its
 * controller before it does. */
static void
out(void *arg)
{
	(void)arg;
	if (rd(EDU_DMA_CMD) & EDU_DMA_RUN) {
		if (waits++ == 0)
			say("a DMA of an earlier instance is still running");
		if (waits < 10)
			hub->timer_after(self, STEP_NS / 3, out, NULL);
		return;
	}
	/* Only now: with mastering on, that DMA would land. */
	PB_CALL(dev, pci_ops, enable, PCI_CMD_MASTER, 1);
	dma(page_bus, EDU_BUF, 0);
	hub->timer_after(self, STEP_NS, back, NULL);
}

static void
edu_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	(void)m;
	if (req == PB_REQ_BIND && ev == PB_EV_CONNECTED)
		dev = c;
}

static int
edu_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	uint32_t cmd = 0;
	char what[16];

	seed = (uint8_t)(h->now_ns() >> 12) | 1;
	(void)mode;
	self = m;
	hub = h;
	crash_after = pb_setting(hub, "trecover-edu", what, sizeof(what)) &&
	    !strcmp(what, "crash");
	if (!dev)
		return PB_ENODEV;
	PB_CALL(dev, pci_ops, cfg_read, PCI_COMMAND, 2, &cmd);
	say("COMMAND at start 0x%04x: bus master %s", cmd,
	    cmd & PCI_CMD_MASTER ? "on" : "off");
	if (PB_CALL(dev, pci_ops, enable, PCI_CMD_MEM, 1))
		return PB_EIO;
	regs = PB_CALL(dev, pci_ops, map_bar, self, 0, PB_CACHE_UC);
	page = hub->dma_alloc(self, 4096, 4096, 0, 0x0fffffffull, &page_bus);
	if (!regs || !page || (*(volatile uint32_t *)(regs + EDU_ID) & 0xff) != 0xed) {
		pb_logf(hub, self, PB_LOG_ERR, "no edu: regs %p page %p",
		    (void *)regs, (void *)page);
		return PB_ENODEV;
	}
	for (unsigned i = 0; i < HALF; i++) {
		page[i] = (uint8_t)(i * 7 + seed);
		page[HALF + i] = SENTINEL;
	}
	say("page at 0x%llx", (unsigned long long)page_bus);
	return hub->timer_after(self, 1000000, out, NULL) < 0 ? PB_ENOMEM :
	    PB_OK;
}

static const struct pb_module_ops ops = {
	.start = edu_start,
	.event = edu_event,
};

PB_MODULE(.name = "trecover-edu", .version = "1.0",
    .desc = "test: an edu DMA driver killed with a DMA in flight",
    .flags = PB_MOD_HARDWARE, .ops = &ops,
    .nbinds = 1, .binds = { PB_BIND("pci", "vendor=1234 device=11e8") });
