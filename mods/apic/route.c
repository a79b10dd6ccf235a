/*
 * route.c - from a device's line to a vector: ISA IRQs through the MADT's
 * interrupt source overrides, GSIs to the I/O APIC pin that serves them,
 * and the table of routed lines (which pin feeds which vector), so that
 * mask and unroute can name a line by its vector.
 *
 * QEMU's MADT (hw/i386/acpi-common.c) overrides IRQ0 to GSI 2 with
 * "conforms" flags, and IRQs 5, 9, 10, 11 to themselves, level triggered
 * and active high.  "Conforms" means the bus's own convention: ISA is
 * edge triggered and active high, PCI level triggered and active low.
 */
#include "apic.h"

#define ISA_IRQS	16
#define ISA_DEFAULT	(IRQ_EDGE | IRQ_ACTIVE_HIGH)

/*
 * MPS INTI flags (ACPI 6.5 Table 5.50) as IRQ_* flags: polarity in bits
 * 1:0 and trigger mode in 3:2, each 00 "conforms to the bus" (take
 * bus_default's) or 10 reserved (taken as conforming too).
 */
unsigned
mps_flags(uint16_t inti, unsigned bus_default)
{
	unsigned f = 0;

	switch (inti & ACPI_POL_MASK) {
	case ACPI_POL_HIGH:
		break;
	case ACPI_POL_LOW:
		f |= IRQ_ACTIVE_LOW;
		break;
	default:
		f |= bus_default & IRQ_ACTIVE_LOW;
	}
	switch (inti & ACPI_TRIG_MASK) {
	case ACPI_TRIG_EDGE:
		break;
	case ACPI_TRIG_LEVEL:
		f |= IRQ_LEVEL;
		break;
	default:
		f |= bus_default & IRQ_LEVEL;
	}
	return f;
}

/* The GSI and flags of an ISA IRQ: its override, or identity mapped
 * with ISA's edge/high (ACPI 6.5 §5.2.12.5). */
int
isa_to_gsi(const struct acpi_platform *plat, unsigned isa_irq, uint32_t *gsi,
    unsigned *flags)
{
	if (isa_irq >= ISA_IRQS)
		return PB_EINVAL;
	*gsi = isa_irq;
	*flags = ISA_DEFAULT;
	for (uint32_t i = 0; i < plat->noverrides && i < ACPI_MAX_OVERRIDES;
	    i++) {
		const struct acpi_override *o = &plat->overrides[i];

		if (o->bus == 0 && o->source == isa_irq) {
			*gsi = o->gsi;
			*flags = mps_flags(o->flags, ISA_DEFAULT);
			break;
		}
	}
	return PB_OK;
}

/* The I/O APIC serving gsi, and its pin there; NULL when none does. */
struct ioapic *
gsi_ioapic(struct apic *a, uint32_t gsi, unsigned *pin)
{
	for (unsigned i = 0; i < a->nioapics; i++) {
		struct ioapic *io = &a->ioapics[i];

		if (io->regs && gsi >= io->gsi_base &&
		    gsi - io->gsi_base < io->nlines) {
			*pin = gsi - io->gsi_base;
			return io;
		}
	}
	return NULL;
}

static struct route *
route_by_vector(struct apic *a, int vector)
{
	for (unsigned i = 0; i < APIC_MAX_ROUTES; i++)
		if (a->routes[i].vector == vector)
			return &a->routes[i];
	return NULL;
}

static struct route *
route_by_gsi(struct apic *a, uint32_t gsi)
{
	for (unsigned i = 0; i < APIC_MAX_ROUTES; i++)
		if (a->routes[i].vector && a->routes[i].gsi == gsi)
			return &a->routes[i];
	return NULL;
}

/* Program the pin of r as its fields say. */
static int
route_program(struct apic *a, const struct route *r)
{
	unsigned pin;
	struct ioapic *io = gsi_ioapic(a, r->gsi, &pin);

	if (!io)
		return PB_ENOENT;
	ioapic_set(io, pin, r->flags & IRQ_NMI ? RTE_DELIV_NMI |
	    ioapic_entry(0, r->flags, a->lapic.id, r->masked) :
	    ioapic_entry(r->vector, r->flags, a->lapic.id, r->masked));
	return PB_OK;
}

/* Check first, then write: a refused route changes nothing. */
static int
route_check(struct apic *a, uint32_t gsi, unsigned flags, int vector)
{
	struct route *by_gsi = route_by_gsi(a, gsi);
	struct route *by_vec = route_by_vector(a, vector);
	unsigned pin;

	/* An NMI is edge triggered (the vector field is ignored, §3.2.4)
	 * and has vector 2 as its route's name. */
	if (flags & IRQ_NMI ? vector != IRQ_NMI_VECTOR || (flags & IRQ_LEVEL) :
	    vector < VEC_ROUTE_MIN || vector > VEC_ROUTE_MAX)
		return PB_EINVAL;
	if (flags & ~(unsigned)(IRQ_LEVEL | IRQ_ACTIVE_LOW | IRQ_NMI))
		return PB_EINVAL;
	if (!gsi_ioapic(a, gsi, &pin)) {
		pb_logf(a->hub, a->self, PB_LOG_WARN, "GSI %u: no I/O APIC "
		    "serves it", gsi);
		return PB_ENOENT;
	}
	/* Physical destination mode names 8 bits of APIC ID (§3.2.4). */
	if (a->lapic.id > 0xff)
		return PB_ENOTSUP;
	if ((by_gsi && by_gsi->vector != vector) ||
	    (by_vec && by_vec->gsi != gsi))
		return PB_EBUSY;
	return PB_OK;
}

/* Route gsi to vector, unmasked.  Routing the same pair again updates
 * the flags; a line or vector already taken otherwise is PB_EBUSY. */
int
route_line(struct apic *a, uint32_t gsi, unsigned flags, int vector)
{
	struct route *r;
	int err;

	if ((err = route_check(a, gsi, flags, vector)) != PB_OK)
		return err;
	if (!(r = route_by_vector(a, vector)) && !(r = route_by_vector(a, 0)))
		return PB_ENOMEM;
	*r = (struct route){ .vector = vector, .gsi = gsi, .flags = flags };
	return route_program(a, r);
}

int
route_mask(struct apic *a, int vector, int masked)
{
	struct route *r;

	if (vector <= 0 || !(r = route_by_vector(a, vector)))
		return PB_ENOENT;
	r->masked = masked != 0;
	return route_program(a, r);
}

int
route_forget(struct apic *a, int vector)
{
	struct route *r;
	int err;

	if ((err = route_mask(a, vector, 1)) != PB_OK)
		return err;
	r = route_by_vector(a, vector);
	*r = (struct route){ 0 };
	return PB_OK;
}

/* stop(): every line routed is masked and forgotten. */
void
route_mask_everything(struct apic *a)
{
	for (unsigned i = 0; i < APIC_MAX_ROUTES; i++)
		if (a->routes[i].vector)
			route_forget(a, a->routes[i].vector);
}

/* The MADT's NMI sources (ACPI 6.5 §5.2.12.6): I/O APIC inputs that
 * deliver an NMI, always edge triggered. */
void
route_nmi_sources(struct apic *a)
{
	const struct acpi_platform *p = a->plat;

	for (uint32_t i = 0; i < p->nnmis && i < ACPI_MAX_NMIS; i++) {
		const struct acpi_nmi *n = &p->nmis[i];
		struct ioapic *io;
		unsigned pin;

		if (n->gsi == ~0u)
			continue;
		if (!(io = gsi_ioapic(a, n->gsi, &pin)) || a->lapic.id > 0xff) {
			pb_logf(a->hub, a->self, PB_LOG_WARN, "NMI source GSI "
			    "%u: no I/O APIC serves it", n->gsi);
			continue;
		}
		ioapic_set(io, pin, RTE_DELIV_NMI | ioapic_entry(0,
		    mps_flags(n->flags, ISA_DEFAULT) & IRQ_ACTIVE_LOW,
		    a->lapic.id, 0));
	}
}
