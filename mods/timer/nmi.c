/*
 * nmi.c - the hub's watchdog tick: one HPET comparator, periodic, routed
 * through the irq provider to an I/O APIC pin with NMI delivery (irq 1.2,
 * IRQ_NMI).  The hub handles vector 2 (hub/x86_64/nmi.c): an NMI cuts into
 * code that holds interrupts, or into an interrupt handler, so a module
 * stuck there is caught too.
 *
 * Why this source: the local APIC timer cannot deliver an NMI (its LVT
 * entry has no delivery mode, SDM 3A §10.5.1), a performance counter in
 * NMI mode needs an architectural PMU, which QEMU's TCG does not offer
 * (CPUID leaf 0xA reads 0 there: not tried further), and QEMU's HPET
 * offers no FSB (MSI) delivery unless asked for (`msi` property).  An
 * I/O APIC redirection entry in NMI delivery mode (82093AA §3.2.4) works
 * on QEMU q35 and on real chipsets alike.
 *
 * The comparator (IA-PC HPET 1.0a §2.3.8 Tn_CONF, §2.3.9 Tn_COMPARATOR)
 * is the last one that can be periodic (Tn_PER_INT_CAP) and reach a pin
 * the irq provider lets us take (Tn_INT_ROUTE_CAP), GSI 2 first: ISA IRQ
 * 0's line, which nothing else here uses.  Edge triggered, as an NMI must
 * be.  Periodic mode is set up as §2.3.9.2.2 says: with Tn_VAL_SET_CNF a
 * write sets the comparator, the next one the period; each 32-bit half
 * of the first value is written with Tn_VAL_SET_CNF set again, since the
 * device clears it at every write (QEMU does).
 *
 * GSI 2 is also where the legacy PIT (8254) raises ISA IRQ 0 while the
 * HPET is not in legacy replacement mode, and firmware leaves it counting
 * (OVMF: about 36 more NMIs a second on QEMU).  Nothing here uses the PIT,
 * so taking GSI 2 stops it: channel 0 in mode 0 (interrupt on terminal
 * count, 8254 datasheet "Mode 0") raises its output once and then holds it.
 *
 * boot.cfg `nmi-watchdog=no` leaves it off; so do `watchdog=0` and
 * `hpet=no` (no HPET).
 */
#include "timer.h"
#include "../../abi/mmio.h"
#include "../../abi/portio.h"

#define PIT_CH0		0x40
#define PIT_MODE	0x43
#define PIT_CH0_MODE0	0x30	/* channel 0, low then high byte, mode 0 */

#define TN_INT_ENB		0x4u	/* Tn_INT_ENB_CNF */
#define TN_TYPE_PERIODIC	0x8u	/* Tn_TYPE_CNF */
#define TN_PER_INT_CAP		0x10u
#define TN_VAL_SET		0x40u	/* Tn_VAL_SET_CNF */
#define TN_ROUTE_SHIFT		9	/* Tn_INT_ROUTE_CNF, 5 bits */
#define TN_FSB_EN		0x4000u
#define HPET_TN_CMP(n)		(0x108 + 0x20 * (n))
#define NMI_PERIOD_NS		(100ull * 1000 * 1000)

static void
cmp_write(const struct hpet *h, unsigned n, uint32_t conf, uint64_t cmp,
    uint64_t period)
{
	volatile uint8_t *c = h->regs + HPET_TN_CONF(n);
	volatile uint8_t *v = h->regs + HPET_TN_CMP(n);

	mmio_write32(c, conf | TN_VAL_SET);
	mmio_write32(v, (uint32_t)cmp);
	mmio_write32(c, conf | TN_VAL_SET);
	mmio_write32(v + 4, (uint32_t)(cmp >> 32));
	mmio_write32(v, (uint32_t)period);
	mmio_write32(v + 4, (uint32_t)(period >> 32));
}

/* Route comparator n's pin `gsi` as an NMI; 0 when refused (taken, or a
 * provider older than irq 1.2). */
static int
route_pin(struct pb_conn *irq, unsigned gsi)
{
	return PB_CALL(irq, irq_ops, route_gsi, gsi, IRQ_EDGE |
	    IRQ_ACTIVE_HIGH | IRQ_NMI, IRQ_NMI_VECTOR) == PB_OK;
}

static void
pit_stop(void)
{
	outb(PIT_MODE, PIT_CH0_MODE0);
	outb(PIT_CH0, 0);
	outb(PIT_CH0, 0);
}

/* The pin to use of comparator n's capabilities: GSI 2 first. */
static int
take_pin(struct pb_conn *irq, uint32_t cap)
{
	if ((cap & (1u << 2)) && route_pin(irq, 2)) {
		pit_stop();
		return 2;
	}
	for (int pin = 31; pin >= 0; pin--)
		if (pin != 2 && (cap & (1u << pin)) && route_pin(irq, pin))
			return pin;
	return -1;
}

int
hpet_nmi_start(struct hpet *h, struct pb_conn *irq, unsigned *which,
    int *gsi)
{
	for (int n = h->caps.ntimers - 1; n >= 0; n--) {
		uint64_t conf = mmio_read64(h->regs + HPET_TN_CONF(n));
		uint64_t period = ns_to_ticks(NMI_PERIOD_NS, h->caps.hz);
		uint32_t c;
		int pin;

		if (!(conf & TN_PER_INT_CAP) || !h->caps.wide ||
		    (pin = take_pin(irq, (uint32_t)(conf >> 32))) < 0)
			continue;
		c = ((uint32_t)conf & ~(TN_INT_ENB | TN_FSB_EN | 0x2u |
		    (0x1fu << TN_ROUTE_SHIFT))) | TN_TYPE_PERIODIC |
		    (uint32_t)pin << TN_ROUTE_SHIFT;
		cmp_write(h, (unsigned)n, c, hpet_read(h) + period, period);
		mmio_write32(h->regs + HPET_TN_CONF(n), c | TN_INT_ENB);
		*which = (unsigned)n;
		*gsi = pin;
		return PB_OK;
	}
	return PB_ENODEV;
}

void
hpet_nmi_stop(struct hpet *h, struct pb_conn *irq, unsigned which)
{
	volatile uint8_t *c = h->regs + HPET_TN_CONF(which);

	mmio_write32(c, mmio_read32(c) & ~TN_INT_ENB);
	PB_CALL(irq, irq_ops, unroute, IRQ_NMI_VECTOR);
}
