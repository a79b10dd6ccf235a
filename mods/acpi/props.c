/*
 * props.c - the property lines of the resources the module publishes, and
 * its one-line summary.  Pure formatting, host-tested.
 *
 * Polarity and trigger are decoded from the MPS INTI flags (ACPI 6.5
 * Table 5.26): "conform" means as the bus says (ISA: edge, active high).
 */
#include "../../abi/rt/rt.h"
#include "scan.h"
#include "spec.h"

const char *
acpi_pol_name(uint16_t flags)
{
	switch (flags & ACPI_POL_MASK) {
	case ACPI_POL_CONFORM:
		return "conform";
	case ACPI_POL_HIGH:
		return "high";
	case ACPI_POL_LOW:
		return "low";
	default:
		return "reserved";
	}
}

const char *
acpi_trig_name(uint16_t flags)
{
	switch (flags & ACPI_TRIG_MASK) {
	case ACPI_TRIG_CONFORM:
		return "conform";
	case ACPI_TRIG_EDGE:
		return "edge";
	case ACPI_TRIG_LEVEL:
		return "level";
	default:
		return "reserved";
	}
}

void
acpi_cpu_props(const struct acpi_cpu *c, char *buf, size_t cap)
{
	rt_snprintf(buf, cap, "apic=%u uid=%u enabled=%u%s", c->apic_id,
	    c->uid, c->enabled, c->x2apic ? " x2apic=1" : "");
}

void
acpi_override_props(const struct acpi_override *o, char *buf, size_t cap)
{
	rt_snprintf(buf, cap, "isa=%u gsi=%u flags=0x%x pol=%s trig=%s",
	    o->source, o->gsi, o->flags, acpi_pol_name(o->flags),
	    acpi_trig_name(o->flags));
}

/* A local APIC NMI names its CPU(s) and LINT pin; an NMI source its GSI. */
void
acpi_nmi_props(const struct acpi_nmi *n, char *buf, size_t cap)
{
	char who[24];

	if (n->gsi != 0xffffffffu) {
		rt_snprintf(buf, cap, "gsi=%u flags=0x%x pol=%s trig=%s",
		    n->gsi, n->flags, acpi_pol_name(n->flags),
		    acpi_trig_name(n->flags));
		return;
	}
	if (n->uid == 0xffffffffu)
		rt_strlcpy(who, "all", sizeof(who));
	else
		rt_snprintf(who, sizeof(who), "%u", n->uid);
	rt_snprintf(buf, cap, "uid=%s lint=%u flags=0x%x pol=%s trig=%s", who,
	    n->lint, n->flags, acpi_pol_name(n->flags),
	    acpi_trig_name(n->flags));
}

void
acpi_ecam_props(const struct acpi_ecam *e, char *buf, size_t cap)
{
	rt_snprintf(buf, cap, "seg=%u bus=%u-%u base=0x%llx", e->segment,
	    e->bus_start, e->bus_end, (unsigned long long)e->base);
}

void
acpi_hpet_props(const struct acpi_platform *p, char *buf, size_t cap)
{
	rt_snprintf(buf, cap, "base=0x%llx min-tick=%u number=%u",
	    (unsigned long long)p->hpet_phys, p->hpet_min_tick,
	    p->hpet_number);
}

/* The FADT's reset register (§4.8.3.6), for the hub's reboot
 * (hub/reset.c): " reset=io:0xcf9:0x0f"; "" when it names none. */
static void
reset_prop(const struct acpi_platform *p, char *buf, size_t cap)
{
	static const char *const space[] = { "mem", "io", "pci" };
	const struct acpi_gas *g = &p->reset_reg;

	buf[0] = '\0';
	if (p->have_fadt && (p->fadt_flags & FADT_RESET_REG_SUP) &&
	    g->address && g->space < 3)
		rt_snprintf(buf, cap, " reset=%s:0x%llx:0x%02x",
		    space[g->space], (unsigned long long)g->address,
		    p->reset_value);
}

/* acpi:tables: the count, the RSDP, the DMAR's flags when there is one,
 * and the reset register when the FADT names one. */
void
acpi_tables_props(const struct acpi_set *s, char *buf, size_t cap)
{
	char dmar[24] = "", reset[48];

	if (s->plat.have_dmar)
		rt_snprintf(dmar, sizeof(dmar), " dmar-flags=0x%x",
		    s->plat.dmar_flags);
	reset_prop(&s->plat, reset, sizeof(reset));
	rt_snprintf(buf, cap, "tables=%u bad=%u rev=%u oem=%s%s%s", s->ntables,
	    s->nbad, s->rsdp_revision, s->rsdp_oem, dmar, reset);
}

static const char *
plural(unsigned n)
{
	return n == 1 ? "" : "s";
}

/* "9 tables (1 bad), 2 cpus, 1 ioapic, 5 overrides, 1 nmi, ..." */
void
acpi_summary(const struct acpi_set *s, char *buf, size_t cap)
{
	const struct acpi_platform *p = &s->plat;
	char bad[24] = "";

	if (s->nbad)
		rt_snprintf(bad, sizeof(bad), " (%u bad)", s->nbad);
	rt_snprintf(buf, cap, "%u table%s%s, %u cpu%s, %u ioapic%s, "
	    "%u override%s, %u nmi%s, %u ecam, hpet %s, pm timer %s",
	    s->ntables, plural(s->ntables), bad, p->ncpus, plural(p->ncpus),
	    p->nioapics, plural(p->nioapics), p->noverrides,
	    plural(p->noverrides), p->nnmis, plural(p->nnmis), p->necam,
	    p->hpet_phys ? "yes" : "no", p->pm_tmr_port ? "yes" : "no");
}
