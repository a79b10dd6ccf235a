/*
 * flr.c - function-level reset of a function whose driver faulted.
 *
 * A driver that dies leaves its device in whatever state it was driving
 * it into: queues half set up, a DMA engine armed, an interrupt latched.
 * pci.c turns bus mastering and interrupts off at once; where the function
 * can be reset on its own, it is also reset, so the next driver finds it
 * as after power-on.  Only after a fault: on an orderly unload or a swap
 * the device's state must survive (the hub says which: abi/pb.h
 * PB_EV_CLIENT_FAULTED).
 *
 * Two ways to reset one function (Linux tries them in the same order):
 *   PCI Express: Device Capabilities bit 28 says it can; Device Control
 *     bit 15 starts it (PCIe 3.0 §7.8.3, §7.8.4, §6.6.2).
 *   Advanced Features capability (PCI AF ECN, conventional PCI): AF
 *     Capabilities must offer both Transactions Pending and FLR; AF
 *     Control bit 0 starts it.
 * Otherwise nothing more is done than pci.c did.
 *
 * The function may not be touched for 100 ms after (§6.6.2), and it
 * answers with Configuration Request Retry Status or not at all until it
 * is ready: its resource is withdrawn at once, so no new driver binds to
 * a function in reset, and a timer (never a busy wait) looks after 100 ms
 * and every 100 ms after that, up to FLR_POLLS times (§6.6.1 gives a
 * device 1.0 s).  Once the Vendor ID reads valid again, what pci owns is
 * put back as enumeration found it (BARs, Interrupt Line, the decode bits
 * of COMMAND; bus mastering stays off and INTx disabled, as pci.c left
 * them) and the resource is published again: the hub binds the restarted
 * driver to it.  A function that never comes back stays withdrawn, with
 * one line.
 */
#include "pcibus.h"

/* PCI Express capability (PCIe 3.0 §7.8) */
#define PCIE_DEVCAP		0x04
#define PCIE_DEVCAP_FLR		(1u << 28)
#define PCIE_DEVCTL		0x08
#define PCIE_DEVCTL_BCR_FLR	0x8000
#define PCIE_DEVSTA		0x0a
#define PCIE_DEVSTA_TRPND	0x0020	/* Transactions Pending */

/* Advanced Features capability (PCI AF ECN) */
#define AF_CAP			0x03
#define AF_CAP_TP		0x01
#define AF_CAP_FLR		0x02
#define AF_CTRL			0x04
#define AF_CTRL_FLR		0x01
#define AF_STATUS		0x05
#define AF_STATUS_TP		0x01

#define FLR_WAIT_NS	100000000ull	/* PCIe 3.0 §6.6.2: 100 ms */
#define FLR_POLLS	10		/* then 1 s has passed */
#define VENDOR_CRS	0x0001		/* a CRS completion, read as ID */

void
flr_probe(struct func *f)
{
	uint8_t af;

	f->flr = FLR_NONE;
	if ((f->info.header_type & PCI_HDR_TYPE_MASK) != PCI_HDR_NORMAL)
		return;			/* bridges: not ours to reset */
	if (f->info.cap_pcie && (cfg_read(f, f->info.cap_pcie + PCIE_DEVCAP,
	    4) & PCIE_DEVCAP_FLR)) {
		f->flr = FLR_PCIE;
		return;
	}
	if (!f->cap_af)
		return;
	af = (uint8_t)cfg_read(f, f->cap_af + AF_CAP, 1);
	if ((af & AF_CAP_TP) && (af & AF_CAP_FLR))
		f->flr = FLR_AF;
}

/* Still transactions of the dead driver's in flight?  Bus mastering is
 * off, so no new ones start; the reset discards the rest, which is said. */
static int
pending(const struct func *f)
{
	if (f->flr == FLR_PCIE)
		return cfg_read(f, f->info.cap_pcie + PCIE_DEVSTA, 2) &
		    PCIE_DEVSTA_TRPND;
	return cfg_read(f, f->cap_af + AF_STATUS, 1) & AF_STATUS_TP;
}

static void
initiate(const struct func *f)
{
	unsigned at;

	if (f->flr == FLR_PCIE) {
		at = f->info.cap_pcie + PCIE_DEVCTL;
		cfg_write(f, at, 2, cfg_read(f, at, 2) | PCIE_DEVCTL_BCR_FLR);
	} else {
		cfg_write(f, f->cap_af + AF_CTRL, 1, AF_CTRL_FLR);
	}
}

/* Back to what enumeration found: the BARs as the firmware assigned them,
 * the Interrupt Line, and decode (never bus mastering: the next driver
 * turns it on). */
static void
restore(const struct func *f)
{
	for (unsigned i = 0; i < f->nbars; i++)
		if (f->bar_orig[i] != 0xffffffffu)
			cfg_write(f, PCI_BAR0 + 4 * i, 4, f->bar_orig[i]);
	cfg_write(f, PCI_INTERRUPT_LINE, 1, f->info.irq_line);
	cfg_write(f, PCI_COMMAND, 2, (f->cmd_orig & (PCI_CMD_IO |
	    PCI_CMD_MEM)) | PCI_CMD_INTX_DISABLE);
}

static void flr_poll(void *arg);

static int
wait_step(struct func *f)
{
	return pci.hub->timer_after(pci.self, FLR_WAIT_NS, flr_poll, f) < 0 ?
	    PB_ENOMEM : PB_OK;
}

/* FLR_WAIT_NS after the reset, and every FLR_WAIT_NS after that. */
static void
flr_poll(void *arg)
{
	struct func *f = arg;
	uint16_t vendor = cfg_read(f, PCI_VENDOR_ID, 2);

	f->reset_polls++;
	if (vendor != f->info.vendor) {
		if (f->reset_polls < FLR_POLLS && wait_step(f) == PB_OK)
			return;
		pci_log(PB_LOG_ERR, "%s: not back %u ms after its reset "
		    "(Vendor ID reads 0x%04x): left out of use", f->name,
		    f->reset_polls * (unsigned)(FLR_WAIT_NS / 1000000), vendor);
		return;
	}
	restore(f);
	f->resetting = 0;
	pci_log(PB_LOG_INFO, "%s: back %u ms after its reset: BARs and "
	    "COMMAND 0x%04x restored, offered again", f->name,
	    f->reset_polls * (unsigned)(FLR_WAIT_NS / 1000000),
	    cfg_read(f, PCI_COMMAND, 2));
	func_publish(f);
}

/*
 * Reset f, whose driver faulted and is going (its bus mastering is off).
 * Its resource goes first: the hub restarts the driver right after this,
 * and it must not bind to the function until it is back.
 */
int
flr_start(struct func *f)
{
	if (f->resetting)
		return PB_EBUSY;
	f->reset_polls = 0;
	if (wait_step(f) != PB_OK) {
		pci_log(PB_LOG_ERR, "%s: no timer for the 100 ms after a reset: "
		    "not reset", f->name);
		return PB_ENOMEM;
	}
	if (pending(f))
		pci_log(PB_LOG_WARN, "%s: transactions pending at its reset: "
		    "they are discarded", f->name);
	f->resetting = 1;
	if (f->res)
		pci.hub->withdraw(pci.self, f->res);
	f->res = NULL;
	initiate(f);
	pci_log(PB_LOG_INFO, "%s: its driver faulted: function-level reset "
	    "(%s), withdrawn until it is back", f->name,
	    f->flr == FLR_PCIE ? "PCIe" : "Advanced Features");
	return PB_OK;
}
