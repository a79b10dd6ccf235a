/*
 * apic - the interrupt controllers of a PC: this CPU's local APIC, the
 * I/O APICs the MADT lists and the 8259s (masked).  Provides `irq` 1.1
 * (irq:apic) and describes each I/O APIC as a resource `ioapic:N` (props
 * `id=0 base=0xfec00000 gsi=0-23`; connecting to one gives the same
 * operations as irq:apic).
 *
 *   start	the 8259s masked (remapped first where the MADT has
 *		PCAT_COMPAT); the local APIC enabled
 *		(lapic.c); every I/O APIC pin masked, then the MADT's NMI
 *		sources; the spurious vector's handler; the hub's EOI hook
 *   stop	every routed line masked and forgotten, the local timer
 *		stopped, the EOI hook and the spurious vector given back
 *
 * boot.cfg: `x2apic=yes` switches a local APIC the firmware left in xAPIC
 * mode to x2APIC (unless the DMAR opts out); by default it stays in the
 * mode the firmware left (lapic.c).
 * Not swappable: nothing else drives these chips, and the hub's EOI hook
 * has one owner.  Interrupts reach the hub's IDT, which runs the driver's
 * handler and then apic_eoi() below.
 * QEMU: every configuration (q35 has one I/O APIC of 24 pins at
 * 0xfec00000; `-cpu max` under TCG offers x2APIC).
 */
#include "apic.h"
#include "../../abi/cpu.h"

static struct apic apic;
static struct pb_conn *acpi_conn;	/* requirement 0 */

/*
 * The operations are called from clients' work items, which run with
 * interrupts open, and from their handlers: each holds interrupts back
 * while it works, so an I/O APIC's select/window pair, the ICR or the
 * table of routes is never seen half-changed.
 */
static int
apic_route_isa(void *ctx, unsigned isa_irq, int vector)
{
	struct apic *a = ctx;
	uint64_t held = cpu_irq_save();
	uint32_t gsi;
	unsigned flags;
	int err;

	if ((err = isa_to_gsi(a->plat, isa_irq, &gsi, &flags)) == PB_OK)
		err = route_line(a, gsi, flags, vector);
	cpu_irq_restore(held);
	return err;
}

static int
apic_route_gsi(void *ctx, unsigned gsi, unsigned flags, int vector)
{
	uint64_t held = cpu_irq_save();
	int err = route_line(ctx, gsi, flags, vector);

	cpu_irq_restore(held);
	return err;
}

static int
apic_mask(void *ctx, int vector, int masked)
{
	uint64_t held = cpu_irq_save();
	int err = route_mask(ctx, vector, masked);

	cpu_irq_restore(held);
	return err;
}

static int
apic_unroute(void *ctx, int vector)
{
	uint64_t held = cpu_irq_save();
	int err = route_forget(ctx, vector);

	cpu_irq_restore(held);
	return err;
}

static int
apic_msi_message(void *ctx, int vector, uint64_t *addr, uint32_t *data)
{
	struct apic *a = ctx;

	return msi_compose(a->lapic.id, vector, addr, data);
}

static int
apic_send_self(void *ctx, int vector)
{
	uint64_t held = cpu_irq_save();
	int err = lapic_send_self(ctx, vector);

	cpu_irq_restore(held);
	return err;
}

static int
apic_info(void *ctx, struct irq_info *info)
{
	struct apic *a = ctx;

	*info = (struct irq_info){ .apic_id = a->lapic.id,
	    .nioapics = 0, .spurious = a->spurious };
	rt_strlcpy(info->mode, a->lapic.x2apic ? "x2apic" : "xapic",
	    sizeof(info->mode));
	for (unsigned i = 0; i < a->nioapics; i++)
		if (a->ioapics[i].regs) {
			info->nioapics++;
			info->nlines += a->ioapics[i].nlines;
		}
	return PB_OK;
}

static int
apic_local_timer(void *ctx, int vector, unsigned divide, uint32_t count,
    int periodic)
{
	struct apic *a = ctx;
	uint64_t held = cpu_irq_save();
	int err = lapic_timer(&a->lapic, vector, divide, count, periodic);

	cpu_irq_restore(held);
	return err;
}

static int
apic_local_timer_count(void *ctx, uint32_t *current)
{
	struct apic *a = ctx;

	*current = lapic_timer_current(&a->lapic);
	return PB_OK;
}

static const struct irq_ops apic_irq_ops = {
	.route_isa = apic_route_isa,	/* MADT override, then an I/O APIC pin */
	.route_gsi = apic_route_gsi,	/* an I/O APIC pin, flags as given */
	.mask = apic_mask,		/* the pin's mask bit */
	.unroute = apic_unroute,	/* masked and forgotten */
	.msi_message = apic_msi_message,	/* 0xfee00000 | id << 12 */
	.send_self = apic_send_self,	/* SELF IPI MSR, or ICR shorthand */
	.info = apic_info,
	.local_timer = apic_local_timer,	/* LVT timer, divide, count */
	.local_timer_count = apic_local_timer_count,
};

/* The hub's end-of-interrupt hook, after the handler.  No EOI for the
 * spurious vector (SDM "Spurious Interrupt": it sets no ISR bit), nor
 * for the 8259s' range, which the local APIC never delivers (LINT0 is
 * not ExtINT). */
static void
apic_eoi(void *ctx, int vector)
{
	struct apic *a = ctx;

	if (vector < VEC_ROUTE_MIN || vector == VEC_SPURIOUS)
		return;
	lapic_eoi(&a->lapic);
}

static void
apic_spurious(void *arg)
{
	struct apic *a = arg;

	a->spurious++;
}

static int
overlaps(const struct apic *a, const struct ioapic *io)
{
	for (unsigned i = 0; i < a->nioapics; i++) {
		const struct ioapic *o = &a->ioapics[i];

		if (io->gsi_base < o->gsi_base + o->nlines &&
		    o->gsi_base < io->gsi_base + io->nlines)
			return 1;
	}
	return 0;
}

/* Take the MADT's I/O APICs: each masked whole.  One whose GSIs overlap
 * an earlier one's is left alone. */
static void
ioapics_init(struct apic *a)
{
	const struct acpi_platform *p = a->plat;

	a->nioapics = 0;
	for (uint32_t i = 0; i < p->nioapics && i < ACPI_MAX_IOAPICS; i++) {
		struct ioapic *io = &a->ioapics[a->nioapics];

		*io = (struct ioapic){ .id = p->ioapics[i].id,
		    .phys = p->ioapics[i].phys,
		    .gsi_base = p->ioapics[i].gsi_base };
		if (ioapic_probe(a, io) != PB_OK)
			continue;
		if (overlaps(a, io)) {
			pb_logf(a->hub, a->self, PB_LOG_WARN, "I/O APIC %u: "
			    "GSIs %u-%u overlap another's: skipped", io->id,
			    io->gsi_base, io->gsi_base + io->nlines - 1);
			a->hub->unmap_mmio(a->self, (void *)io->regs);
			continue;
		}
		a->nioapics++;
		ioapic_mask_all(io);
	}
	if (!a->nioapics)
		pb_logf(a->hub, a->self, PB_LOG_WARN, "no usable I/O APIC: "
		    "MSI and the local timer only");
}

static void
publish_all(struct apic *a)
{
	char props[96];
	struct irq_info info;

	apic_info(a, &info);
	rt_snprintf(props, sizeof(props), "mode=%s id=%u ioapics=%u "
	    "lines=%u", info.mode, info.apic_id, info.nioapics, info.nlines);
	if (!a->hub->publish(a->self, IRQ_IFACE, "apic", props,
	    &apic_irq_ops, a))
		pb_logf(a->hub, a->self, PB_LOG_ERR, "cannot publish irq:apic");
	for (unsigned i = 0; i < a->nioapics; i++) {
		const struct ioapic *io = &a->ioapics[i];
		char name[8];

		rt_snprintf(name, sizeof(name), "%u", i);
		rt_snprintf(props, sizeof(props), "id=%u base=0x%x gsi=%u-%u",
		    io->id, io->phys, io->gsi_base,
		    io->gsi_base + io->nlines - 1);
		a->hub->publish(a->self, "ioapic", name, props,
		    &apic_irq_ops, a);
	}
}

static int
hub_has_eoi_hook(const struct pb_hub *h)
{
	return h->size >= offsetof(struct pb_hub, set_irq_eoi) +
	    sizeof(h->set_irq_eoi) && h->set_irq_eoi;
}

static int
apic_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	struct apic *a = &apic;
	int err;

	rt_use_hub(h);
	*a = (struct apic){ .hub = h, .self = m };
	if (mode == PB_START_STANDBY)
		return PB_ENOTSUP;	/* one owner of the chips, no swap */
	if (!hub_has_eoi_hook(h)) {
		pb_logf(h, m, PB_LOG_ERR, "the hub has no EOI hook (ABI %u.%u)",
		    h->abi_major, h->abi_minor);
		return PB_ENOTSUP;
	}
	if (!acpi_conn || !(a->plat = PB_CALL(acpi_conn, acpi_ops,
	    platform))) {
		pb_logf(h, m, PB_LOG_ERR, "no ACPI platform description");
		return PB_ENODEV;
	}
	/* PCAT_COMPAT (ACPI 6.5 Table 5.20): the 8259s are there. */
	pic_disable(a->plat->madt_flags & 1);
	if ((err = lapic_init(a)) != PB_OK)
		return err;
	ioapics_init(a);
	route_nmi_sources(a);
	if ((err = h->irq_register(m, VEC_SPURIOUS, apic_spurious, a)) != PB_OK) {
		pb_logf(h, m, PB_LOG_ERR, "spurious vector 0x%x: %d",
		    VEC_SPURIOUS, err);
		return err;
	}
	if ((err = h->set_irq_eoi(m, apic_eoi, a)) != PB_OK) {
		pb_logf(h, m, PB_LOG_ERR, "the EOI hook is taken (%d)", err);
		h->irq_unregister(m, VEC_SPURIOUS);
		return err;
	}
	a->eoi_hooked = 1;
	publish_all(a);
	pb_logf(h, m, PB_LOG_INFO, "%s id %u (version 0x%x), LINT0 %s, LINT1 "
	    "%s, %u I/O APIC(s), 8259s %s", a->lapic.x2apic ? "x2APIC" :
	    "xAPIC", a->lapic.id, a->lapic.version & 0xff,
	    lapic_read(&a->lapic, LAPIC_LVT_LINT0) & LVT_MASKED ? "masked" :
	    "NMI", lapic_read(&a->lapic, LAPIC_LVT_LINT1) & LVT_MASKED ?
	    "masked" : "NMI", a->nioapics, a->plat->madt_flags & 1 ?
	    "re-initialised and masked" : "masked (the MADT names none)");
	for (unsigned i = 0; i < a->nioapics; i++)
		pb_logf(h, m, PB_LOG_INFO, "I/O APIC %u at 0x%x: version "
		    "0x%x, GSIs %u-%u", a->ioapics[i].id, a->ioapics[i].phys,
		    a->ioapics[i].version & 0xff, a->ioapics[i].gsi_base,
		    a->ioapics[i].gsi_base + a->ioapics[i].nlines - 1);
	return PB_OK;
}

static void
apic_stop(struct pb_module *m)
{
	struct apic *a = &apic;

	if (!a->eoi_hooked)
		return;
	route_mask_everything(a);
	lapic_timer(&a->lapic, 0, 1, 0, 0);
	a->hub->set_irq_eoi(m, NULL, NULL);
	a->hub->irq_unregister(m, VEC_SPURIOUS);
	a->eoi_hooked = 0;
}

static void
apic_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	if (req == 0)
		acpi_conn = ev == PB_EV_DISCONNECTED ? NULL : c;
}

static const struct pb_module_ops apic_ops = {
	.start = apic_start,
	.stop = apic_stop,
	.event = apic_event,
};

PB_MODULE(.name = "apic", .version = "1.0",
    .desc = "local APIC, I/O APICs, 8259s masked: provides irq",
    .flags = PB_MOD_HARDWARE, .rank = 10, .ops = &apic_ops,
    .nprovides = 2,
    .provides = { PB_PROVIDE(IRQ_IFACE, IRQ_MAJOR, IRQ_MINOR),
	PB_PROVIDE("ioapic", 1, 0) },
    .nrequires = 1,
    .requires = { PB_REQUIRE(ACPI_IFACE, ACPI_MAJOR, ACPI_MINOR, PB_CARD_ONE,
	PB_AT_START) });
