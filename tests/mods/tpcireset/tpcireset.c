/*
 * tpcireset - test module: a driver for a modern virtio PCI function
 * (QEMU's virtio-rng-pci, 1af4:1044, behind a pcie-root-port, where it
 * offers function-level reset), for tests/scenario/test_pcireset.py.
 *
 * Each instance finds the common configuration structure through the
 * function's virtio capabilities (virtio 1.0 §4.1.4: vendor capability
 * 0x09, cfg_type 1, its BAR and offset), logs the device status register
 * as it finds it (§4.1.4.3: device_status at 0x14; 0 after a reset), then
 * sets ACKNOWLEDGE | DRIVER (§3.1.1) and logs the register's bus address,
 * so the test can read it with QEMU's monitor.  A new instance after a
 * fault finds 0 only if the function was reset meanwhile; after an
 * orderly unload it finds what the last one set.  A timer ticks every
 * 50 ms (reading the register) for `faultinject tpcireset work ...`.
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/pci.h"
#include "../../../abi/rt/rt.h"

#define PCI_CAP_VENDOR		0x09
#define VIRTIO_CAP_CFG_TYPE	0x03
#define VIRTIO_CAP_BAR		0x04
#define VIRTIO_CAP_OFFSET	0x08
#define VIRTIO_COMMON_CFG	1
#define VIRTIO_DEVICE_STATUS	0x14
#define VIRTIO_ACKNOWLEDGE	0x01
#define VIRTIO_DRIVER		0x02
#define PCI_STATUS_CAPS		0x0010
#define CAPS_MAX		48
#define TICK_NS			50000000ull

static const struct pb_hub *hub;
static struct pb_module *self;
static struct pb_conn *dev;
static volatile uint8_t *common;

#define say(...) pb_logf(hub, self, PB_LOG_INFO, __VA_ARGS__)

static uint32_t
cfg(unsigned off, unsigned width)
{
	uint32_t v = 0;

	if (PB_CALL(dev, pci_ops, cfg_read, (uint16_t)off, width, &v) != PB_OK)
		return 0;
	return v;
}

/* The common configuration's BAR and offset: PB_OK, or PB_ENODEV. */
static int
find_common(unsigned *bar, uint32_t *off)
{
	unsigned at, n;

	if (!(cfg(PCI_STATUS, 2) & PCI_STATUS_CAPS))
		return PB_ENODEV;
	for (at = cfg(PCI_CAP_PTR, 1) & 0xfc, n = 0; at >= 0x40 &&
	    n < CAPS_MAX; at = cfg(at + 1, 1) & 0xfc, n++)
		if (cfg(at, 1) == PCI_CAP_VENDOR &&
		    cfg(at + VIRTIO_CAP_CFG_TYPE, 1) == VIRTIO_COMMON_CFG) {
			*bar = cfg(at + VIRTIO_CAP_BAR, 1);
			*off = cfg(at + VIRTIO_CAP_OFFSET, 4);
			return *bar < 6 ? PB_OK : PB_ENODEV;
		}
	return PB_ENODEV;
}

static void
tick(void *arg)
{
	(void)arg;
	(void)common[VIRTIO_DEVICE_STATUS];
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
	struct pci_func_info info;
	volatile uint8_t *base;
	unsigned bar;
	uint32_t off;

	(void)mode;
	self = m;
	hub = h;
	if (!dev || PB_CALL(dev, pci_ops, info, &info) != PB_OK ||
	    find_common(&bar, &off) != PB_OK) {
		pb_logf(hub, self, PB_LOG_ERR, "no virtio common configuration");
		return PB_ENODEV;
	}
	say("COMMAND at start 0x%04x", cfg(PCI_COMMAND, 2));
	if (PB_CALL(dev, pci_ops, enable, PCI_CMD_MEM, 1) != PB_OK ||
	    !(base = PB_CALL(dev, pci_ops, map_bar, self, bar, PB_CACHE_UC)))
		return PB_EIO;
	common = base + off;
	say("device status at start 0x%02x", common[VIRTIO_DEVICE_STATUS]);
	common[VIRTIO_DEVICE_STATUS] = VIRTIO_ACKNOWLEDGE | VIRTIO_DRIVER;
	say("device status set to 0x%02x at 0x%llx",
	    common[VIRTIO_DEVICE_STATUS], (unsigned long long)
	    (info.bars[bar].base + off + VIRTIO_DEVICE_STATUS));
	return hub->timer_every(self, TICK_NS, tick, NULL) < 0 ? PB_ENOMEM :
	    PB_OK;
}

static const struct pb_module_ops ops = {
	.start = t_start,
	.event = t_event,
};

PB_MODULE(.name = "tpcireset", .version = "1.0",
    .desc = "test: a virtio function's driver that faults, for FLR",
    .flags = PB_MOD_HARDWARE, .ops = &ops,
    .nbinds = 1, .binds = { PB_BIND("pci", "vendor=1af4 device=1044") });
