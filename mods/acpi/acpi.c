/*
 * acpi - provides `acpi` 1.0: the firmware's ACPI tables, verified, and
 * the platform they describe (abi/acpi.h), from the RSDP the hub
 * publishes as `rsdp:uefi`.
 *
 * At start it reads every table (tables.c), parses MADT, MCFG, HPET,
 * FADT and DMAR, and publishes what the platform has, so that `res` and
 * bind rules see it.  Each resource's ops pointer leads to the parsed entry
 * (read-only data, like the hub's `rsdp:uefi`):
 *
 *	acpi:tables	 struct acpi_ops	 tables=N bad=N rev=N oem=...
 *	cpu:N		 struct acpi_cpu	 apic=0 uid=0 enabled=1
 *	irq-override:N	 struct acpi_override	 isa=0 gsi=2 flags=0x0 pol= trig=
 *	nmi:N		 struct acpi_nmi	 uid=all lint=1 flags=0x0 ...
 *	ecam:N		 struct acpi_ecam	 seg=0 bus=0-255 base=0xb0000000
 *	hpet:0		 struct acpi_platform	 base=0xfed00000 min-tick=128 ...
 *
 * With a DMAR, acpi:tables adds its flags: `dmar-flags=0x3` (bit 1 is the
 * x2APIC opt-out the apic module honours; ACPI_DMAR_* in abi/acpi.h).
 * With a FADT reset register, it adds `reset=io:0xcf9:0x0f` (space mem, io
 * or pci, address, value), which the hub's reboot falls back to
 * (hub/reset.c).
 *
 * (The apic module publishes `ioapic:N` itself: it reads the line count.)
 * Only the first ACPI_PUBLISH_CPUS CPUs become resources, so a large
 * machine cannot fill the hub's resource table; platform() has them all.
 *
 * The module only reads memory, so it runs in the firmware phase too
 * (PB_MOD_AUTOSTART, not PB_MOD_HARDWARE), and standby is the same as a
 * normal start.  Tables are mapped write-back, which is how the firmware
 * maps them (EFI ACPI reclaim/NVS memory), copied and unmapped.
 *
 * QEMU: any tools/qemu-run configuration (q35 + OVMF: RSDP revision 2,
 * XSDT listing FACP, APIC, HPET, MCFG, WAET and OVMF's BGRT, and the
 * FADT's DSDT and FACS: 9 tables); --config smp2 gives two Local APICs.
 */
#include "../../abi/pbmod.h"
#include "scan.h"

#define ACPI_PUBLISH_CPUS 16
/* Three pages: QEMU q35's tables (a DSDT of 8.3 KiB and 0.8 KiB more)
 * fit one chunk; a larger DSDT (a PC's) gets a block of its own. */
#define ARENA_CHUNK (12u * 1024)

static const struct pb_hub *hub;
static struct pb_module *self;
static struct pb_conn *rsdp;		/* requirement 0 */
static struct acpi_set set;

/* --- the copies: packed into chunks of hub memory -------------------- */

static struct {
	uint8_t *chunk;
	uint32_t left;
	unsigned nblocks;
	void *blocks[ACPI_MAX_TABLES];	/* at most one per table */
} arena;

static void *
arena_alloc(void *arg, uint32_t len)
{
	uint32_t need = (len + 7) & ~7u;
	uint8_t *p;

	(void)arg;
	if (need <= arena.left) {
		p = arena.chunk;
		arena.chunk += need;
		arena.left -= need;
		return p;
	}
	if (arena.nblocks == ACPI_MAX_TABLES)
		return NULL;
	/* A big table gets a block of its own; the chunk stays. */
	if (need > ARENA_CHUNK / 2)
		return arena.blocks[arena.nblocks++] = hub->alloc(self, need);
	if (!(p = hub->alloc(self, ARENA_CHUNK)))
		return NULL;
	arena.blocks[arena.nblocks++] = p;
	arena.chunk = p + need;
	arena.left = ARENA_CHUNK - need;
	return p;
}

static void
arena_free(void)
{
	for (unsigned i = 0; i < arena.nblocks; i++)
		if (arena.blocks[i])
			hub->free(self, arena.blocks[i]);
	memset(&arena, 0, sizeof(arena));
}

/* --- firmware memory through the hub -------------------------------- */

static const void *
hub_map(void *arg, uint64_t phys, uint32_t len)
{
	(void)arg;
	return hub->map_mmio(self, phys, len, PB_CACHE_WB);
}

static void
hub_unmap(void *arg, const void *va, uint32_t len)
{
	(void)arg;
	(void)len;
	hub->unmap_mmio(self, (void *)(uintptr_t)va);
}

static void
hub_log(void *arg, int level, const char *msg)
{
	(void)arg;
	hub->log(self, level, msg);
}

static const struct acpi_io io = {
	.map = hub_map,
	.unmap = hub_unmap,
	.alloc = arena_alloc,
	.log = hub_log,
};

/* --- acpi 1.1 ---------------------------------------------------------- */

static const struct acpi_platform *
acpi_platform(void *ctx)
{
	return &((struct acpi_set *)ctx)->plat;
}

static int
acpi_table(void *ctx, unsigned index, struct acpi_table_info *t)
{
	struct acpi_set *s = ctx;

	if (!t)
		return PB_EINVAL;
	if (index >= s->ntables)
		return PB_ENOENT;
	*t = s->tables[index].info;
	return PB_OK;
}

static int
acpi_find(void *ctx, const char *sig, unsigned instance, const void **data,
    uint32_t *len)
{
	const struct acpi_table *t;

	if (!sig || strnlen(sig, 5) != 4 || !data || !len)
		return PB_EINVAL;
	if (!(t = acpi_table_find(ctx, sig, instance)))
		return PB_ENOENT;
	*data = t->data;
	*len = t->info.length;
	return PB_OK;
}

static const struct acpi_ops acpi_ops = {
	.platform = acpi_platform,	/* parsed once, at start */
	.table = acpi_table,		/* every table, with its problem */
	.find = acpi_find,		/* usable tables only: the copies */
};

/* --- resources --------------------------------------------------------- */

static void
publish(const char *iface, unsigned n, const char *props, const void *ops)
{
	char name[12];

	rt_snprintf(name, sizeof(name), "%u", n);
	if (!hub->publish(self, iface, name, props, ops, NULL))
		pb_logf(hub, self, PB_LOG_WARN, "cannot publish %s:%s", iface,
		    name);
}

static int
publish_all(void)
{
	const struct acpi_platform *p = &set.plat;
	char props[128];

	acpi_tables_props(&set, props, sizeof(props));
	if (!hub->publish(self, ACPI_IFACE, "tables", props, &acpi_ops, &set))
		return PB_ENOMEM;
	for (unsigned i = 0; i < p->ncpus && i < ACPI_PUBLISH_CPUS; i++) {
		acpi_cpu_props(&p->cpus[i], props, sizeof(props));
		publish("cpu", i, props, &p->cpus[i]);
	}
	if (p->ncpus > ACPI_PUBLISH_CPUS)
		pb_logf(hub, self, PB_LOG_INFO, "%u cpus published of %u",
		    ACPI_PUBLISH_CPUS, p->ncpus);
	for (unsigned i = 0; i < p->noverrides; i++) {
		acpi_override_props(&p->overrides[i], props, sizeof(props));
		publish("irq-override", i, props, &p->overrides[i]);
	}
	for (unsigned i = 0; i < p->nnmis; i++) {
		acpi_nmi_props(&p->nmis[i], props, sizeof(props));
		publish("nmi", i, props, &p->nmis[i]);
	}
	for (unsigned i = 0; i < p->necam; i++) {
		acpi_ecam_props(&p->ecam[i], props, sizeof(props));
		publish("ecam", i, props, &p->ecam[i]);
	}
	if (p->hpet_phys) {
		acpi_hpet_props(p, props, sizeof(props));
		publish("hpet", 0, props, p);
	}
	return PB_OK;
}

/* --- the module -------------------------------------------------------- */

static int
acpi_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	const struct acpi_rsdp *r;
	char line[160];
	int err;

	rt_use_hub(h);
	(void)mode;	/* reading memory is all it does, standby or not */
	self = m;
	hub = h;
	if (!rsdp)
		return PB_ENODEV;
	r = rsdp->ops;
	if (acpi_scan(&set, &io, r->phys) != PB_OK) {
		pb_logf(hub, self, PB_LOG_ERR, "no usable ACPI tables from the "
		    "RSDP at 0x%llx", (unsigned long long)r->phys);
		arena_free();
		return PB_ENODEV;
	}
	if ((err = publish_all()) != PB_OK) {
		arena_free();
		return err;
	}
	acpi_summary(&set, line, sizeof(line));
	hub->log(self, PB_LOG_INFO, line);
	return PB_OK;
}

static void
acpi_stop(struct pb_module *m)
{
	(void)m;
	arena_free();
	memset(&set, 0, sizeof(set));
}

static void
acpi_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	(void)m;
	if (req == 0)
		rsdp = ev == PB_EV_DISCONNECTED ? NULL : c;
}

static const struct pb_module_ops ops = {
	.start = acpi_start,
	.stop = acpi_stop,
	.event = acpi_event,
};

PB_MODULE(.name = "acpi", .version = "1.0",
    .desc = "ACPI tables: CPUs, interrupts, ECAM, HPET, FADT, DMAR",
    .rank = 0, .flags = PB_MOD_AUTOSTART, .ops = &ops,
    .nprovides = 6,
    .provides = {
	PB_PROVIDE(ACPI_IFACE, ACPI_MAJOR, ACPI_MINOR),
	PB_PROVIDE("cpu", 1, 0),
	PB_PROVIDE("irq-override", 1, 0),
	PB_PROVIDE("nmi", 1, 0),
	PB_PROVIDE("ecam", 1, 0),
	PB_PROVIDE("hpet", 1, 0),
    },
    .nrequires = 1,
    .requires = { PB_REQUIRE(RSDP_IFACE, 1, 0, PB_CARD_ONE, PB_AT_START) });
