/*
 * madt.c - the Multiple APIC Description Table (ACPI 6.5 §5.2.12): the
 * local APIC address, the CPUs, the I/O APICs, the interrupt source
 * overrides and the NMIs.
 *
 * The entries follow the 44-byte fixed part, each starting with a type
 * and a length.  Every entry is bounded by its own length field: a length
 * under 2 or one that runs past the table ends the walk (nothing after it
 * can be found), a known type whose length is shorter than its structure
 * is skipped, and unknown types are stepped over.  Each problem is counted
 * and the table logs one line for all of them.
 *
 * QEMU q35 (hw/i386/acpi-common.c) emits one Local APIC per possible CPU,
 * one I/O APIC at 0xfec00000 with GSI base 0, an override ISA 0 -> GSI 2
 * with flags 0 (conforms), overrides of ISA 5, 9, 10, 11 as level,
 * active-high, and one Local APIC NMI for all CPUs on LINT1.
 */
#include "../../abi/rt/rt.h"
#include "scan.h"
#include "spec.h"

#define ALL_CPUS 0xffffffffu

struct madt_walk {
	struct acpi_set *s;
	unsigned bad;		/* entries too short for their type */
	unsigned dropped;	/* entries beyond the platform's arrays */
};

static int
has_cpu(const struct acpi_platform *p, uint32_t apic_id)
{
	for (uint32_t i = 0; i < p->ncpus; i++)
		if (p->cpus[i].apic_id == apic_id)
			return 1;
	return 0;
}

/* A processor; flags as Table 5.23.  One with neither Enabled nor Online
 * Capable set is unusable and left out (§5.2.12.2).  An x2APIC entry for
 * an APIC id a Local APIC entry gave already is the same CPU. */
static void
add_cpu(struct madt_walk *w, uint32_t apic_id, uint32_t uid, uint32_t flags,
    int x2apic)
{
	struct acpi_platform *p = &w->s->plat;

	if (!(flags & (MADT_ENABLED | MADT_ONLINE_CAPABLE)) ||
	    has_cpu(p, apic_id))
		return;
	if (p->ncpus == ACPI_MAX_CPUS) {
		w->dropped++;
		w->s->cpus_dropped++;
		return;
	}
	p->cpus[p->ncpus++] = (struct acpi_cpu){ .apic_id = apic_id,
	    .uid = uid, .enabled = (flags & MADT_ENABLED) != 0,
	    .x2apic = x2apic };
}

static void
add_nmi(struct madt_walk *w, uint32_t uid, uint32_t gsi, uint16_t flags,
    uint8_t lint)
{
	struct acpi_platform *p = &w->s->plat;

	if (p->nnmis == ACPI_MAX_NMIS) {
		w->dropped++;
		return;
	}
	p->nmis[p->nnmis++] = (struct acpi_nmi){ .uid = uid, .gsi = gsi,
	    .flags = flags, .lint = lint };
}

static void
io_apic(struct madt_walk *w, const struct madt_io_apic *e)
{
	struct acpi_platform *p = &w->s->plat;

	if (p->nioapics == ACPI_MAX_IOAPICS) {
		w->dropped++;
		return;
	}
	p->ioapics[p->nioapics++] = (struct acpi_ioapic){ .id = e->io_apic_id,
	    .phys = e->io_apic_address,
	    .gsi_base = e->global_system_interrupt_base };
}

static void
override(struct madt_walk *w, const struct madt_int_src_override *e)
{
	struct acpi_platform *p = &w->s->plat;

	if (p->noverrides == ACPI_MAX_OVERRIDES) {
		w->dropped++;
		return;
	}
	p->overrides[p->noverrides++] = (struct acpi_override){
	    .bus = e->bus, .source = e->source, .flags = e->flags,
	    .gsi = e->global_system_interrupt };
}

/* One entry of `len` bytes at b (len >= 2, inside the table). */
static void
entry(struct madt_walk *w, const uint8_t *b, uint8_t len)
{
	union {
		struct madt_local_apic lapic;
		struct madt_io_apic ioapic;
		struct madt_int_src_override iso;
		struct madt_nmi_source nmi;
		struct madt_local_apic_nmi lnmi;
		struct madt_local_apic_override lover;
		struct madt_local_x2apic x2;
		struct madt_local_x2apic_nmi x2nmi;
	} e;
	static const uint8_t need[] = {
		[MADT_LOCAL_APIC] = sizeof(e.lapic),
		[MADT_IO_APIC] = sizeof(e.ioapic),
		[MADT_INT_SRC_OVERRIDE] = sizeof(e.iso),
		[MADT_NMI_SOURCE] = sizeof(e.nmi),
		[MADT_LOCAL_APIC_NMI] = sizeof(e.lnmi),
		[MADT_LOCAL_APIC_OVERRIDE] = sizeof(e.lover),
		[MADT_LOCAL_X2APIC] = sizeof(e.x2),
		[MADT_LOCAL_X2APIC_NMI] = sizeof(e.x2nmi),
	};
	uint8_t type = b[0];

	if (type >= sizeof(need) || need[type] == 0)
		return;		/* a type we do not use (GIC, RINTC, ...) */
	if (len < need[type]) {
		w->bad++;
		return;
	}
	memcpy(&e, b, need[type]);
	switch (type) {
	case MADT_LOCAL_APIC:
		add_cpu(w, e.lapic.apic_id, e.lapic.acpi_processor_uid,
		    e.lapic.flags, 0);
		break;
	case MADT_LOCAL_X2APIC:
		add_cpu(w, e.x2.x2apic_id, e.x2.acpi_processor_uid,
		    e.x2.flags, 1);
		break;
	case MADT_IO_APIC:
		io_apic(w, &e.ioapic);
		break;
	case MADT_INT_SRC_OVERRIDE:
		override(w, &e.iso);
		break;
	case MADT_NMI_SOURCE:
		add_nmi(w, ALL_CPUS, e.nmi.global_system_interrupt,
		    e.nmi.flags, 0);
		break;
	case MADT_LOCAL_APIC_NMI:
		add_nmi(w, e.lnmi.acpi_processor_uid == 0xff ? ALL_CPUS :
		    e.lnmi.acpi_processor_uid, ALL_CPUS, e.lnmi.flags,
		    e.lnmi.local_apic_lint);
		break;
	case MADT_LOCAL_X2APIC_NMI:
		add_nmi(w, e.x2nmi.acpi_processor_uid, ALL_CPUS,
		    e.x2nmi.flags, e.x2nmi.local_x2apic_lint);
		break;
	case MADT_LOCAL_APIC_OVERRIDE:
		/* §5.2.12.8: replaces the 32-bit address of the header. */
		w->s->plat.lapic_phys = e.lover.local_apic_address;
		break;
	}
}

void
acpi_madt_parse(struct acpi_set *s, const uint8_t *t, uint32_t len)
{
	struct madt_walk w = { .s = s };
	struct madt m;
	uint32_t off = sizeof(m);
	const char *stop = NULL;

	if (len < sizeof(m))
		return;
	memcpy(&m, t, sizeof(m));
	s->plat.lapic_phys = m.local_apic_address;
	s->plat.madt_flags = m.flags;
	while (off + 2 <= len) {
		uint8_t elen = t[off + 1];

		if (elen < 2) {
			stop = "an entry of length < 2";
			break;
		}
		if (elen > len - off) {
			stop = "an entry past the table's end";
			break;
		}
		entry(&w, t + off, elen);
		off += elen;
	}
	if (!stop && off != len)
		stop = "a partial entry at the end";
	if (stop)
		acpi_logf(s, PB_LOG_WARN, "MADT: %s at offset %u; the rest is "
		    "ignored", stop, off);
	if (w.bad)
		acpi_logf(s, PB_LOG_WARN, "MADT: %u entries too short for "
		    "their type; skipped", w.bad);
	if (w.dropped)
		acpi_logf(s, PB_LOG_WARN, "MADT: %u entries beyond what the "
		    "platform description holds; left out", w.dropped);
}
