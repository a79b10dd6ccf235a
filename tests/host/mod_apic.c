/*
 * mod_apic.c - host tests of the apic module against register models:
 * a local APIC (x2APIC MSRs or the xAPIC page), I/O APICs behind their
 * select/window pair (82093AA §3) with any number of pins and GSI bases,
 * and the 8259s' ports.  The module's files are compiled in; its CPU
 * instructions (abi/cpu.h), MMIO (abi/mmio.h) and port I/O (abi/portio.h)
 * land in the models below.
 *
 * Checked: the mode chosen from IA32_APIC_BASE, CPUID, boot.cfg's x2apic=
 * and the DMAR's x2APIC opt-out (the firmware's mode kept), the local APIC
 * set-up (SVR, TPR, LVTs, LINT NMIs from the MADT, ESR), the 8259
 * initialisation words (with PCAT_COMPAT) and their masks (always),
 * every I/O APIC pin masked at start, redirection entries written for
 * ISA overrides (polarity/trigger decoded, "conforms" as ISA), GSIs on several I/O APICs, mask/unmask/unroute, refusals, the
 * MSI message, self-IPIs, the EOI hook and stop().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../mods/apic/apic.c"
#include "../../mods/apic/lapic.c"
#include "../../mods/apic/ioapic.c"
#include "../../mods/apic/route.c"
#include "../../mods/apic/pic8259.c"
#include "../../mods/apic/msi.c"
#include "../../abi/rt/setting.c"

/* ---- the CPU: MSRs, CPUID, interrupt flag ------------------------------ */

#define NMSR 0x900
static uint64_t msr[NMSR];
static uint32_t msr_writes[64][2];	/* (msr, low value) in order */
static unsigned nmsr_writes;
static uint32_t cpuid1_ecx, cpuid1_edx;
static int irq_open = 1, irq_saves;

uint64_t
rdmsr(uint32_t m)
{
	if (m >= NMSR) {
		check_fail(__FILE__, __LINE__, "rdmsr 0x%x", m);
		return 0;
	}
	return msr[m];
}

void
wrmsr(uint32_t m, uint64_t v)
{
	if (m >= NMSR) {
		check_fail(__FILE__, __LINE__, "wrmsr 0x%x", m);
		return;
	}
	msr[m] = v;
	if (nmsr_writes < 64) {
		msr_writes[nmsr_writes][0] = m;
		msr_writes[nmsr_writes++][1] = (uint32_t)v;
	}
}

void
cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	(void)sub;
	r[0] = r[1] = r[2] = r[3] = 0;
	if (leaf == 1) {
		r[2] = cpuid1_ecx;
		r[3] = cpuid1_edx;
	}
}

uint64_t rdtsc(void) { return 0; }
void cpu_pause(void) { }

uint64_t
cpu_irq_save(void)
{
	uint64_t f = irq_open ? 0x200 : 0;

	irq_open = 0;
	irq_saves++;
	return f;
}

void
cpu_irq_restore(uint64_t flags)
{
	if (flags & 0x200)
		irq_open = 1;
}

/* Which MSR writes happened, in order: did `m` get `v` as write k? */
static int
msr_written(uint32_t m, uint32_t v)
{
	for (unsigned i = 0; i < nmsr_writes; i++)
		if (msr_writes[i][0] == m && msr_writes[i][1] == v)
			return 1;
	return 0;
}

static unsigned
msr_write_count(uint32_t m)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nmsr_writes; i++)
		n += msr_writes[i][0] == m;
	return n;
}

/* ---- the 8259s' ports ---------------------------------------------------- */

static uint16_t out_port[64];
static uint8_t out_val[64];
static unsigned nouts;

void
outb(uint16_t port, uint8_t v)
{
	if (nouts < 64) {
		out_port[nouts] = port;
		out_val[nouts++] = v;
	}
}

uint8_t inb(uint16_t port) { (void)port; return 0xff; }
uint32_t inl(uint16_t port) { (void)port; return ~0u; }

/* ---- MMIO: the xAPIC page and I/O APICs ---------------------------------- */

#define MAX_IOAPIC_MODELS 4

struct ioapic_model {
	uint64_t phys;
	uint8_t window[0x20];		/* what map_mmio hands out */
	uint32_t sel;
	uint32_t id, ver;		/* ver 0xffffffff: nothing there */
	uint64_t rte[256];
	unsigned unmasked_high_writes;	/* high half written while unmasked */
};

static struct ioapic_model models[MAX_IOAPIC_MODELS];
static unsigned nmodels;
static uint8_t xapic_page[4096] __attribute__((aligned(4096)));
static uint64_t xapic_phys = 0xfee00000;

static struct ioapic_model *
model_at(const volatile void *p, unsigned *off)
{
	for (unsigned i = 0; i < nmodels; i++) {
		const uint8_t *w = models[i].window;

		if ((const uint8_t *)p >= w && (const uint8_t *)p < w + 0x20) {
			*off = (unsigned)((const uint8_t *)p - w);
			return &models[i];
		}
	}
	return NULL;
}

static uint32_t
model_read(struct ioapic_model *m)
{
	if (m->sel == 0)
		return m->id << 24;
	if (m->sel == 1)
		return m->ver;
	if (m->sel >= 0x10 && m->sel < 0x10 + 2 * 256) {
		uint64_t e = m->rte[(m->sel - 0x10) / 2];

		return (m->sel & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
	}
	return 0;
}

static void
model_write(struct ioapic_model *m, uint32_t v)
{
	unsigned pin;

	if (m->sel < 0x10 || m->sel >= 0x10 + 2 * 256)
		return;
	pin = (m->sel - 0x10) / 2;
	if (m->sel & 1) {
		if (!(m->rte[pin] & RTE_MASKED))
			m->unmasked_high_writes++;
		m->rte[pin] = (m->rte[pin] & 0xffffffffull) | ((uint64_t)v << 32);
	} else {
		m->rte[pin] = (m->rte[pin] & ~0xffffffffull) | v;
	}
}

uint32_t
mmio_read32(const volatile void *reg)
{
	unsigned off;
	struct ioapic_model *m = model_at(reg, &off);

	if (!m)
		return *(const volatile uint32_t *)reg;
	if (off == 0)
		return m->sel;
	if (off == 0x10)
		return m->ver == ~0u ? ~0u : model_read(m);
	return 0;
}

void
mmio_write32(volatile void *reg, uint32_t v)
{
	unsigned off;
	struct ioapic_model *m = model_at(reg, &off);

	if (!m) {
		*(volatile uint32_t *)reg = v;
		return;
	}
	if (off == 0)
		m->sel = v;
	else if (off == 0x10)
		model_write(m, v);
}

uint64_t mmio_read64(const volatile void *reg) { return *(const volatile uint64_t *)reg; }
void mmio_write64(volatile void *reg, uint64_t v) { *(volatile uint64_t *)reg = v; }

static struct ioapic_model *
add_model(uint64_t phys, uint32_t id, unsigned npins)
{
	struct ioapic_model *m = &models[nmodels++];

	memset(m, 0, sizeof(*m));
	m->phys = phys;
	m->id = id;
	m->ver = 0x20 | ((npins - 1) << 16);
	/* What a firmware might leave: entries unmasked, with vectors. */
	for (unsigned i = 0; i < 256; i++)
		m->rte[i] = 0x30 + i % 16;
	return m;
}


/* boot.cfg as the hub publishes it: config:boot's properties. */
static const char *boot_cfg = "target=os";

static int
fake_res_info(const char *module, unsigned index, struct pb_res_info *out)
{
	static const char *const names[] = { "framebuffer:gop0", "config:boot" };

	if (strcmp(module, "hub") != 0 || index >= 2)
		return PB_ENOENT;
	*out = (struct pb_res_info){ .name = names[index], .iface = "x",
	    .props = index == 1 ? boot_cfg : "w=1 h=1", .owner = "hub" };
	return PB_OK;
}

/* ---- a fake hub ----------------------------------------------------------- */

static char logbuf[8192];
static struct { char iface[16], name[16], props[96]; } pubs[8];
static unsigned npubs;
static pb_irq_fn vec_fn[256];
static void *vec_arg[256];
static pb_eoi_fn eoi_fn;
static void *eoi_ctx;
static unsigned nunmaps;

static void
fake_log(struct pb_module *m, int level, const char *msg)
{
	(void)m, (void)level;
	strncat(logbuf, msg, sizeof(logbuf) - strlen(logbuf) - 2);
	strcat(logbuf, "\n");
}

static void *
fake_map_mmio(struct pb_module *m, uint64_t phys, size_t len, int cache)
{
	(void)m;
	CHECK_EQ_INT(cache, PB_CACHE_UC);
	if (phys == xapic_phys && len <= 4096)
		return xapic_page;
	for (unsigned i = 0; i < nmodels; i++)
		if (models[i].phys == phys && len <= 0x20)
			return models[i].window;
	return NULL;
}

static void
fake_unmap_mmio(struct pb_module *m, void *va)
{
	(void)m, (void)va;
	nunmaps++;
}

static struct pb_resource *
fake_publish(struct pb_module *m, const char *iface, const char *name,
    const char *props, const void *ops, void *ctx)
{
	(void)m, (void)ops, (void)ctx;
	if (npubs == 8)
		return NULL;
	snprintf(pubs[npubs].iface, 16, "%s", iface);
	snprintf(pubs[npubs].name, 16, "%s", name);
	snprintf(pubs[npubs].props, 96, "%s", props);
	return (struct pb_resource *)&pubs[npubs++];
}

static int
fake_irq_register(struct pb_module *m, int v, pb_irq_fn fn, void *arg)
{
	(void)m;
	if (v < 32 || v > 255)
		return PB_EINVAL;
	vec_fn[v] = fn;
	vec_arg[v] = arg;
	return PB_OK;
}

static void
fake_irq_unregister(struct pb_module *m, int v)
{
	(void)m;
	vec_fn[v] = NULL;
}

static int
fake_set_irq_eoi(struct pb_module *m, pb_eoi_fn fn, void *ctx)
{
	(void)m;
	eoi_fn = fn;
	eoi_ctx = ctx;
	return PB_OK;
}

static const struct pb_hub fake_hub = {
	.size = sizeof(struct pb_hub), .abi_major = 1, .abi_minor = 1,
	.log = fake_log, .map_mmio = fake_map_mmio,
	.unmap_mmio = fake_unmap_mmio, .publish = fake_publish,
	.irq_register = fake_irq_register,
	.irq_unregister = fake_irq_unregister,
	.set_irq_eoi = fake_set_irq_eoi,
	.res_info = fake_res_info,
};

/* ---- the platform (what the acpi module would parse) --------------------- */

#include "fakeacpi.h"

/* QEMU q35's MADT (hw/i386/acpi-common.c): one CPU, one I/O APIC of 24
 * pins, IRQ0 -> GSI2 conforming, IRQs 5, 9, 10, 11 level/high, LINT1 NMI
 * for every processor. */
static void
qemu_platform(void)
{
	static const struct { uint8_t src; uint32_t gsi; uint16_t flags; }
	    ovr[] = { { 0, 2, 0 }, { 5, 5, 0xd }, { 9, 9, 0xd },
	    { 10, 10, 0xd }, { 11, 11, 0xd } };

	memset(&plat, 0, sizeof(plat));
	plat.lapic_phys = xapic_phys;
	plat.madt_flags = 1;
	plat.ncpus = 1;
	plat.cpus[0] = (struct acpi_cpu){ .apic_id = 0, .uid = 0, .enabled = 1 };
	plat.nioapics = 1;
	plat.ioapics[0] = (struct acpi_ioapic){ 0, 0xfec00000, 0, 0 };
	plat.noverrides = 5;
	for (unsigned i = 0; i < 5; i++)
		plat.overrides[i] = (struct acpi_override){ 0, ovr[i].src,
		    ovr[i].flags, ovr[i].gsi };
	plat.nnmis = 1;
	plat.nmis[0] = (struct acpi_nmi){ .uid = ~0u, .gsi = ~0u, .flags = 0,
	    .lint = 1 };
}

static struct pb_module *const SELF = (struct pb_module *)&plat;

/* A fresh machine: x2APIC offered by CPUID and left on by the firmware
 * (so the tests see the MSR path), the QEMU MADT, one model. */
static void
reset(void)
{
	memset(msr, 0, sizeof(msr));
	nmsr_writes = nouts = npubs = nunmaps = 0;
	nmodels = 0;
	memset(xapic_page, 0, sizeof(xapic_page));
	memset(vec_fn, 0, sizeof(vec_fn));
	eoi_fn = NULL;
	logbuf[0] = '\0';
	irq_open = 1;
	irq_saves = 0;
	boot_cfg = "target=os";
	msr[MSR_IA32_APIC_BASE] = xapic_phys | APIC_BASE_EN | APIC_BASE_EXTD |
	    APIC_BASE_BSP;
	msr[X2APIC_MSR(LAPIC_VERSION)] = 0x50014;	/* 6 LVTs */
	*(uint32_t *)(xapic_page + LAPIC_VERSION) = 0x50014;
	cpuid1_ecx = CPUID1_ECX_X2APIC;
	cpuid1_edx = CPUID1_EDX_APIC;
	qemu_platform();
	add_model(0xfec00000, 0, 24);
	apic_event(SELF, PB_EV_CONNECTED, &fake_acpi_conn, 0);
}

static int
start(void)
{
	return apic_start(SELF, &fake_hub, PB_START_NORMAL);
}

static const struct irq_ops *
ops(void)
{
	return &apic_irq_ops;
}

/* ---- tests ---------------------------------------------------------------- */

TEST(apic_mode_choice)
{
	uint64_t en = APIC_BASE_EN, x2 = APIC_BASE_EN | APIC_BASE_EXTD;
	uint32_t ecx = CPUID1_ECX_X2APIC, edx = CPUID1_EDX_APIC;

	CHECK_EQ_INT(lapic_choose(x2, 0, edx, 0), LAPIC_X2APIC_ON);
	CHECK_EQ_INT(lapic_choose(x2, ecx, edx, 0), LAPIC_X2APIC_ON);
	CHECK_EQ_INT(lapic_choose(x2, ecx, edx, 1), LAPIC_X2APIC_ON);
	/* Offered but off: kept off unless asked. */
	CHECK_EQ_INT(lapic_choose(en, ecx, edx, 0), LAPIC_XAPIC);
	CHECK_EQ_INT(lapic_choose(0, ecx, edx, 0), LAPIC_XAPIC);
	CHECK_EQ_INT(lapic_choose(en, ecx, edx, 1), LAPIC_X2APIC_ENABLE);
	CHECK_EQ_INT(lapic_choose(0, ecx, edx, 1), LAPIC_X2APIC_ENABLE);
	CHECK_EQ_INT(lapic_choose(en, 0, edx, 1), LAPIC_XAPIC);
	/* EXTD without EN is not a mode (SDM: invalid); not x2APIC "on". */
	CHECK_EQ_INT(lapic_choose(APIC_BASE_EXTD, 0, edx, 0), LAPIC_XAPIC);
	CHECK_EQ_INT(lapic_choose(x2, ecx, 0, 1), LAPIC_NONE);
}

TEST(apic_x2apic_setup)
{
	reset();
	msr[X2APIC_MSR(LAPIC_ID)] = 0;
	REQUIRE(start() == PB_OK);
	CHECK((msr[MSR_IA32_APIC_BASE] & (APIC_BASE_EN | APIC_BASE_EXTD)) ==
	    (APIC_BASE_EN | APIC_BASE_EXTD));
	CHECK_EQ_INT(apic.lapic.x2apic, 1);
	CHECK_EQ_INT(msr[X2APIC_MSR(LAPIC_SVR)], 0x1ff);
	CHECK_EQ_INT(msr[X2APIC_MSR(LAPIC_TPR)], 0);
	CHECK_EQ_INT(msr[X2APIC_MSR(LAPIC_LVT_TIMER)], LVT_MASKED);
	CHECK_EQ_INT(msr[X2APIC_MSR(LAPIC_LVT_ERROR)], LVT_MASKED);
	CHECK_EQ_INT(msr[X2APIC_MSR(LAPIC_LVT_PMC)], LVT_MASKED);
	CHECK_EQ_INT(msr[X2APIC_MSR(LAPIC_LVT_THERMAL)], LVT_MASKED);
	/* 6 LVTs: there is no CMCI register to touch (a #GP in x2APIC). */
	CHECK_EQ_INT(msr_write_count(X2APIC_MSR(LAPIC_LVT_CMCI)), 0);
	CHECK_EQ_INT(msr[X2APIC_MSR(LAPIC_LVT_LINT0)], LVT_MASKED);
	CHECK_EQ_INT(msr[X2APIC_MSR(LAPIC_LVT_LINT1)], LVT_DELIV_NMI);
	CHECK_EQ_INT(msr_write_count(X2APIC_MSR(LAPIC_ESR)), 2);
	CHECK_EQ_INT(msr[X2APIC_MSR(LAPIC_ESR)], 0);
	/* the hub: spurious vector, EOI hook, resources */
	CHECK(vec_fn[0xff] != NULL);
	CHECK(eoi_fn == apic_eoi);
	REQUIRE(npubs == 2);
	CHECK_STR(pubs[0].iface, "irq");
	CHECK_STR(pubs[0].props, "mode=x2apic id=0 ioapics=1 lines=24");
	CHECK_STR(pubs[1].iface, "ioapic");
	CHECK_STR(pubs[1].name, "0");
	CHECK_STR(pubs[1].props, "id=0 base=0xfec00000 gsi=0-23");
	apic_stop(SELF);
}

TEST(apic_x2apic_from_disabled)
{
	reset();
	boot_cfg = "x2apic=yes";
	msr[MSR_IA32_APIC_BASE] = xapic_phys | APIC_BASE_BSP;	/* EN clear */
	REQUIRE(start() == PB_OK);
	/* EN first, then EN|EXTD: never EXTD alone. */
	REQUIRE(nmsr_writes >= 2);
	CHECK_EQ_INT(msr_writes[0][0], MSR_IA32_APIC_BASE);
	CHECK_EQ_INT(msr_writes[0][1] & (APIC_BASE_EN | APIC_BASE_EXTD),
	    APIC_BASE_EN);
	CHECK_EQ_INT(msr_writes[1][0], MSR_IA32_APIC_BASE);
	CHECK_EQ_INT(msr_writes[1][1] & (APIC_BASE_EN | APIC_BASE_EXTD),
	    APIC_BASE_EN | APIC_BASE_EXTD);
	apic_stop(SELF);
}

TEST(apic_already_x2apic)
{
	reset();
	msr[MSR_IA32_APIC_BASE] |= APIC_BASE_EXTD;
	cpuid1_ecx = 0;		/* whatever CPUID says, EXTD rules */
	msr[X2APIC_MSR(LAPIC_ID)] = 0x12345;	/* 32-bit x2APIC ID */
	REQUIRE(start() == PB_OK);
	CHECK_EQ_INT(apic.lapic.x2apic, 1);
	CHECK_EQ_INT(apic.lapic.id, 0x12345);
	CHECK_EQ_INT(msr_write_count(MSR_IA32_APIC_BASE), 0);
	/* an ID over 255 cannot be named by an RTE or an MSI */
	CHECK_EQ_INT(ops()->route_isa(&apic, 1, 0x41), PB_ENOTSUP);
	uint64_t addr;
	uint32_t data;
	CHECK_EQ_INT(ops()->msi_message(&apic, 0x41, &addr, &data),
	    PB_ENOTSUP);
	apic_stop(SELF);
}

TEST(apic_xapic_setup)
{
	reset();
	msr[MSR_IA32_APIC_BASE] &= ~APIC_BASE_EXTD;
	cpuid1_ecx = 0;
	*(uint32_t *)(xapic_page + LAPIC_ID) = 3u << 24;
	plat.lapic_phys = 0xfee01000;	/* the MADT disagrees: MSR wins */
	REQUIRE(start() == PB_OK);
	CHECK_EQ_INT(apic.lapic.x2apic, 0);
	CHECK_EQ_INT(apic.lapic.id, 3);
	CHECK(apic.lapic.mmio == xapic_page);
	CHECK_CONTAINS(logbuf, "MADT says the local APIC is at 0xfee01000");
	CHECK_EQ_INT(*(uint32_t *)(xapic_page + LAPIC_SVR), 0x1ff);
	CHECK_EQ_INT(*(uint32_t *)(xapic_page + LAPIC_LVT_LINT0), LVT_MASKED);
	CHECK_EQ_INT(*(uint32_t *)(xapic_page + LAPIC_LVT_LINT1),
	    LVT_DELIV_NMI);
	CHECK_EQ_INT(*(uint32_t *)(xapic_page + LAPIC_LVT_TIMER), LVT_MASKED);
	CHECK_EQ_INT(msr_write_count(MSR_IA32_APIC_BASE), 0);
	CHECK_STR(pubs[0].props, "mode=xapic id=3 ioapics=1 lines=24");
	/* entries name APIC ID 3 */
	REQUIRE(ops()->route_isa(&apic, 4, 0x44) == PB_OK);
	CHECK_EQ_INT(models[0].rte[4] >> 56, 3);
	apic_stop(SELF);
}

TEST(apic_no_local_apic)
{
	reset();
	cpuid1_edx = 0;
	CHECK_EQ_INT(start(), PB_ENODEV);
	CHECK_CONTAINS(logbuf, "no local APIC");
	CHECK(eoi_fn == NULL);
}

TEST(apic_lint_nmi_entries)
{
	memset(&plat, 0, sizeof(plat));
	plat.ncpus = 2;
	plat.cpus[0] = (struct acpi_cpu){ .apic_id = 0, .uid = 7 };
	plat.cpus[1] = (struct acpi_cpu){ .apic_id = 1, .uid = 8 };
	/* LINT0 NMI active low for UID 7 only; LINT1 for all, high */
	plat.nnmis = 3;
	plat.nmis[0] = (struct acpi_nmi){ .uid = 7, .gsi = ~0u,
	    .flags = ACPI_POL_LOW | ACPI_TRIG_EDGE, .lint = 0 };
	plat.nmis[1] = (struct acpi_nmi){ .uid = ~0u, .gsi = ~0u,
	    .flags = ACPI_POL_HIGH, .lint = 1 };
	plat.nmis[2] = (struct acpi_nmi){ .uid = ~0u, .gsi = 5, .lint = 0 };
	CHECK_EQ_INT(lapic_lint_entry(&plat, 0, 0),
	    LVT_DELIV_NMI | LVT_ACTIVE_LOW);
	CHECK_EQ_INT(lapic_lint_entry(&plat, 1, 0), LVT_MASKED);
	CHECK_EQ_INT(lapic_lint_entry(&plat, 0, 1), LVT_DELIV_NMI);
	CHECK_EQ_INT(lapic_lint_entry(&plat, 1, 1), LVT_DELIV_NMI);
	/* a CPU the MADT does not list gets only the "all" entries */
	CHECK_EQ_INT(lapic_lint_entry(&plat, 9, 0), LVT_MASKED);
	CHECK_EQ_INT(lapic_lint_entry(&plat, 9, 1), LVT_DELIV_NMI);
	plat.nnmis = 0;
	CHECK_EQ_INT(lapic_lint_entry(&plat, 0, 1), LVT_MASKED);
}

TEST(apic_pic_init_sequence)
{
	static const uint16_t port[] = { 0x20, 0xa0, 0x21, 0xa1, 0x21, 0xa1,
	    0x21, 0xa1, 0x21, 0xa1 };
	static const uint8_t val[] = { 0x11, 0x11, 0x20, 0x28, 0x04, 0x02,
	    0x01, 0x01, 0xff, 0xff };
	unsigned k = 0;

	reset();
	REQUIRE(start() == PB_OK);
	/* the words in order, with POST-port delays in between */
	for (unsigned i = 0; i < nouts; i++) {
		if (out_port[i] == 0x80)
			continue;
		REQUIRE(k < sizeof(port) / sizeof(port[0]));
		CHECK_MSG(out_port[i] == port[k] && out_val[i] == val[k],
		    "word %u: 0x%02x to 0x%x, wanted 0x%02x to 0x%x", k,
		    out_val[i], out_port[i], val[k], port[k]);
		k++;
	}
	CHECK_EQ_INT(k, 10);
	apic_stop(SELF);

	/* no PCAT_COMPAT: not re-initialised, masked all the same (a
	 * board may have them without saying so) */
	reset();
	plat.madt_flags = 0;
	REQUIRE(start() == PB_OK);
	REQUIRE(nouts == 2);
	CHECK(out_port[0] == 0x21 && out_val[0] == 0xff);
	CHECK(out_port[1] == 0xa1 && out_val[1] == 0xff);
	apic_stop(SELF);
}

TEST(apic_masks_every_pin_at_start)
{
	reset();
	add_model(0xfec01000, 1, 32);
	plat.nioapics = 2;
	plat.ioapics[1] = (struct acpi_ioapic){ 1, 0xfec01000, 24, 0 };
	REQUIRE(start() == PB_OK);
	for (unsigned m = 0; m < 2; m++)
		for (unsigned pin = 0; pin < (m ? 32u : 24u); pin++)
			CHECK_MSG(models[m].rte[pin] & RTE_MASKED,
			    "I/O APIC %u pin %u not masked: 0x%llx", m, pin,
			    (unsigned long long)models[m].rte[pin]);
	/* pins beyond MRE are not the I/O APIC's: untouched */
	CHECK(!(models[0].rte[24] & RTE_MASKED));
	CHECK_STR(pubs[0].props, "mode=x2apic id=0 ioapics=2 lines=56");
	CHECK_STR(pubs[2].props, "id=1 base=0xfec01000 gsi=24-55");
	apic_stop(SELF);
}

TEST(apic_mps_flags)
{
	unsigned isa = IRQ_EDGE | IRQ_ACTIVE_HIGH;
	unsigned pci = IRQ_LEVEL | IRQ_ACTIVE_LOW;

	CHECK_EQ_INT(mps_flags(0x0, isa), isa);		/* conforms */
	CHECK_EQ_INT(mps_flags(0x0, pci), pci);
	CHECK_EQ_INT(mps_flags(0x1, pci), IRQ_LEVEL);	/* high, conforms */
	CHECK_EQ_INT(mps_flags(0x3, isa), IRQ_ACTIVE_LOW);
	CHECK_EQ_INT(mps_flags(0x4, pci), IRQ_ACTIVE_LOW);	/* edge */
	CHECK_EQ_INT(mps_flags(0xc, isa), IRQ_LEVEL);
	CHECK_EQ_INT(mps_flags(0xd, isa), IRQ_LEVEL);		/* QEMU's */
	CHECK_EQ_INT(mps_flags(0xf, isa), IRQ_LEVEL | IRQ_ACTIVE_LOW);
	CHECK_EQ_INT(mps_flags(0x5, pci), 0);
	/* reserved encodings (10b) are taken as conforming */
	CHECK_EQ_INT(mps_flags(0x2, isa), isa);
	CHECK_EQ_INT(mps_flags(0x8, pci), pci);
}

TEST(apic_route_isa_overrides)
{
	reset();
	REQUIRE(start() == PB_OK);
	/* IRQ0 -> GSI 2, conforming: ISA edge, active high */
	REQUIRE(ops()->route_isa(&apic, 0, 0x40) == PB_OK);
	CHECK_EQ_INT(models[0].rte[2], 0x40);
	CHECK(models[0].rte[0] & RTE_MASKED);	/* pin 0 left alone */
	/* IRQ9 -> GSI 9, level, active high (flags 0xd) */
	REQUIRE(ops()->route_isa(&apic, 9, 0x49) == PB_OK);
	CHECK_EQ_INT(models[0].rte[9], 0x49 | RTE_LEVEL);
	/* IRQ1: no override, identity and ISA's defaults */
	REQUIRE(ops()->route_isa(&apic, 1, 0x41) == PB_OK);
	CHECK_EQ_INT(models[0].rte[1], 0x41);
	/* an override that says active low, edge */
	plat.overrides[plat.noverrides++] = (struct acpi_override){ 0, 12,
	    0x7, 20 };
	REQUIRE(ops()->route_isa(&apic, 12, 0x4c) == PB_OK);
	CHECK_EQ_INT(models[0].rte[20], 0x4c | RTE_ACTIVE_LOW);
	/* a bus other than ISA is not an ISA override */
	plat.overrides[plat.noverrides++] = (struct acpi_override){ 1, 14,
	    0xf, 21 };
	REQUIRE(ops()->route_isa(&apic, 14, 0x4e) == PB_OK);
	CHECK_EQ_INT(models[0].rte[14], 0x4e);
	CHECK_EQ_INT(ops()->route_isa(&apic, 16, 0x50), PB_EINVAL);
	/* no entry was ever written half-way while unmasked */
	CHECK_EQ_INT(models[0].unmasked_high_writes, 0);
	/* the operations held interrupts and opened them again */
	CHECK(irq_saves > 0);
	CHECK_EQ_INT(irq_open, 1);
	apic_stop(SELF);
}

TEST(apic_route_gsi_several_ioapics)
{
	reset();
	add_model(0xfec10000, 5, 16);
	add_model(0xfec20000, 6, 8);
	plat.nioapics = 3;
	plat.ioapics[1] = (struct acpi_ioapic){ 5, 0xfec10000, 40, 0 };
	plat.ioapics[2] = (struct acpi_ioapic){ 6, 0xfec20000, 24, 0 };
	REQUIRE(start() == PB_OK);
	REQUIRE(ops()->route_gsi(&apic, 43, IRQ_LEVEL | IRQ_ACTIVE_LOW,
	    0x60) == PB_OK);
	CHECK_EQ_INT(models[1].rte[3], 0x60 | RTE_LEVEL | RTE_ACTIVE_LOW);
	REQUIRE(ops()->route_gsi(&apic, 31, IRQ_EDGE | IRQ_ACTIVE_LOW,
	    0x61) == PB_OK);
	CHECK_EQ_INT(models[2].rte[7], 0x61 | RTE_ACTIVE_LOW);
	REQUIRE(ops()->route_gsi(&apic, 23, IRQ_LEVEL, 0x62) == PB_OK);
	CHECK_EQ_INT(models[0].rte[23], 0x62 | RTE_LEVEL);
	/* GSIs 32-39 and 56 up: no I/O APIC */
	CHECK_EQ_INT(ops()->route_gsi(&apic, 35, 0, 0x63), PB_ENOENT);
	CHECK_EQ_INT(ops()->route_gsi(&apic, 56, 0, 0x63), PB_ENOENT);
	CHECK_CONTAINS(logbuf, "GSI 56: no I/O APIC serves it");
	CHECK_EQ_INT(ops()->route_gsi(&apic, 0, 0x4, 0x63), PB_EINVAL);
	struct irq_info info;
	REQUIRE(ops()->info(&apic, &info) == PB_OK);
	CHECK_EQ_INT(info.nioapics, 3);
	CHECK_EQ_INT(info.nlines, 48);
	CHECK_STR(info.mode, "x2apic");
	apic_stop(SELF);
}

TEST(apic_ioapic_absent_or_overlapping)
{
	reset();
	add_model(0xfec10000, 1, 24)->ver = ~0u;	/* nothing there */
	add_model(0xfec20000, 2, 24);			/* GSIs 10-33 */
	plat.nioapics = 3;
	plat.ioapics[1] = (struct acpi_ioapic){ 1, 0xfec10000, 24, 0 };
	plat.ioapics[2] = (struct acpi_ioapic){ 2, 0xfec20000, 10, 0 };
	REQUIRE(start() == PB_OK);
	CHECK_CONTAINS(logbuf, "IOAPICVER reads 0xffffffff");
	CHECK_CONTAINS(logbuf, "GSIs 10-33 overlap");
	CHECK_EQ_INT(apic.nioapics, 1);
	CHECK_EQ_INT(nunmaps, 2);
	CHECK_EQ_INT(models[2].rte[0] & RTE_MASKED, 0);	/* left alone */
	CHECK_EQ_INT(ops()->route_gsi(&apic, 30, 0, 0x50), PB_ENOENT);
	apic_stop(SELF);
}

TEST(apic_mask_unroute_and_refusals)
{
	reset();
	REQUIRE(start() == PB_OK);
	REQUIRE(ops()->route_gsi(&apic, 16, IRQ_LEVEL | IRQ_ACTIVE_LOW,
	    0x70) == PB_OK);
	CHECK(!(models[0].rte[16] & RTE_MASKED));
	CHECK_EQ_INT(ops()->mask(&apic, 0x70, 1), PB_OK);
	CHECK(models[0].rte[16] & RTE_MASKED);
	CHECK_EQ_INT(models[0].rte[16] & 0xff, 0x70);
	CHECK_EQ_INT(ops()->mask(&apic, 0x70, 0), PB_OK);
	CHECK(!(models[0].rte[16] & RTE_MASKED));
	CHECK(models[0].rte[16] & RTE_LEVEL);
	/* a line or a vector already taken */
	CHECK_EQ_INT(ops()->route_gsi(&apic, 16, 0, 0x71), PB_EBUSY);
	CHECK_EQ_INT(ops()->route_gsi(&apic, 17, 0, 0x70), PB_EBUSY);
	CHECK(models[0].rte[17] & RTE_MASKED);
	/* the same pair again: new flags */
	CHECK_EQ_INT(ops()->route_gsi(&apic, 16, IRQ_LEVEL, 0x70), PB_OK);
	CHECK_EQ_INT(models[0].rte[16] & RTE_ACTIVE_LOW, 0);
	/* vectors outside 0x30-0xfe */
	CHECK_EQ_INT(ops()->route_gsi(&apic, 18, 0, 0x2f), PB_EINVAL);
	CHECK_EQ_INT(ops()->route_gsi(&apic, 18, 0, 0xff), PB_EINVAL);
	CHECK_EQ_INT(ops()->route_gsi(&apic, 18, 0, 0x100), PB_EINVAL);
	/* unroute: masked and forgotten */
	CHECK_EQ_INT(ops()->unroute(&apic, 0x70), PB_OK);
	CHECK(models[0].rte[16] & RTE_MASKED);
	CHECK_EQ_INT(ops()->mask(&apic, 0x70, 0), PB_ENOENT);
	CHECK_EQ_INT(ops()->unroute(&apic, 0x70), PB_ENOENT);
	CHECK_EQ_INT(ops()->route_gsi(&apic, 17, 0, 0x70), PB_OK);
	CHECK_EQ_INT(ops()->mask(&apic, 0, 1), PB_ENOENT);
	CHECK_EQ_INT(models[0].unmasked_high_writes, 0);
	apic_stop(SELF);
}

/* irq 1.2: a line delivered as an NMI (the hub's watchdog tick). */
TEST(apic_route_gsi_as_nmi)
{
	reset();
	REQUIRE(start() == PB_OK);
	REQUIRE(ops()->route_gsi(&apic, 2, IRQ_NMI, IRQ_NMI_VECTOR) == PB_OK);
	CHECK_EQ_INT(models[0].rte[2] & ~(0xffull << RTE_DEST_SHIFT),
	    RTE_DELIV_NMI);
	/* edge only, vector 2 only; a vector 2 without the flag is not one */
	CHECK_EQ_INT(ops()->route_gsi(&apic, 3, IRQ_NMI | IRQ_LEVEL,
	    IRQ_NMI_VECTOR), PB_EINVAL);
	CHECK_EQ_INT(ops()->route_gsi(&apic, 3, IRQ_NMI, 0x40), PB_EINVAL);
	CHECK_EQ_INT(ops()->route_gsi(&apic, 3, 0, IRQ_NMI_VECTOR), PB_EINVAL);
	CHECK_EQ_INT(ops()->unroute(&apic, IRQ_NMI_VECTOR), PB_OK);
	CHECK(models[0].rte[2] & RTE_MASKED);
	apic_stop(SELF);
}

TEST(apic_route_table_full)
{
	unsigned ok = 0;

	reset();
	add_model(0xfec10000, 1, 120);
	plat.nioapics = 2;
	plat.ioapics[1] = (struct acpi_ioapic){ 1, 0xfec10000, 24, 0 };
	REQUIRE(start() == PB_OK);
	for (int v = 0x40; v < 0x40 + APIC_MAX_ROUTES; v++)
		ok += ops()->route_gsi(&apic, (unsigned)v, 0, v) == PB_OK;
	CHECK_EQ_INT(ok, APIC_MAX_ROUTES);
	CHECK_EQ_INT(ops()->route_gsi(&apic, 143, 0, 0x90), PB_ENOMEM);
	apic_stop(SELF);
	for (int v = 0x40; v < 0x40 + APIC_MAX_ROUTES; v++)
		CHECK(models[1].rte[v - 24] & RTE_MASKED);
}

TEST(apic_nmi_source)
{
	reset();
	plat.nmis[plat.nnmis++] = (struct acpi_nmi){ .uid = ~0u, .gsi = 7,
	    .flags = ACPI_POL_LOW | ACPI_TRIG_LEVEL };
	REQUIRE(start() == PB_OK);
	/* NMI delivery, unmasked, edge whatever the flags say */
	CHECK_EQ_INT(models[0].rte[7], RTE_DELIV_NMI | RTE_ACTIVE_LOW);
	apic_stop(SELF);
}

TEST(apic_msi_message)
{
	uint64_t addr = 0;
	uint32_t data = 0;

	CHECK_EQ_INT(msi_compose(0, 0x41, &addr, &data), PB_OK);
	CHECK_EQ_INT(addr, 0xfee00000);
	CHECK_EQ_INT(data, 0x41);
	CHECK_EQ_INT(msi_compose(3, 0xe0, &addr, &data), PB_OK);
	CHECK_EQ_INT(addr, 0xfee03000);
	CHECK_EQ_INT(data, 0xe0);
	CHECK_EQ_INT(msi_compose(255, 0x50, &addr, &data), PB_OK);
	CHECK_EQ_INT(addr, 0xfeeff000);
	CHECK_EQ_INT(msi_compose(256, 0x50, &addr, &data), PB_ENOTSUP);
	CHECK_EQ_INT(msi_compose(0, 0x20, &addr, &data), PB_EINVAL);
	CHECK_EQ_INT(msi_compose(0, 0xff, &addr, &data), PB_EINVAL);
}

TEST(apic_send_self)
{
	reset();
	REQUIRE(start() == PB_OK);
	CHECK_EQ_INT(ops()->send_self(&apic, 0x55), PB_OK);
	CHECK_EQ_INT(msr[X2APIC_MSR(LAPIC_SELF_IPI)], 0x55);
	CHECK_EQ_INT(X2APIC_MSR(LAPIC_SELF_IPI), 0x83f);
	CHECK_EQ_INT(ops()->send_self(&apic, 0x10), PB_EINVAL);
	apic_stop(SELF);

	reset();
	msr[MSR_IA32_APIC_BASE] &= ~APIC_BASE_EXTD;	/* xAPIC: the ICR */
	REQUIRE(start() == PB_OK);
	CHECK_EQ_INT(ops()->send_self(&apic, 0x56), PB_OK);
	CHECK_EQ_INT(*(uint32_t *)(xapic_page + LAPIC_ICR),
	    ICR_SELF | ICR_ASSERT | 0x56);
	/* a delivery that never completes: bounded, and said */
	*(uint32_t *)(xapic_page + LAPIC_ICR) |= ICR_PENDING;
	CHECK_EQ_INT(ops()->send_self(&apic, 0x57), PB_ETIMEDOUT);
	CHECK_CONTAINS(logbuf, "ICR delivery status still pending");
	CHECK_EQ_INT(irq_open, 1);
	apic_stop(SELF);
}

TEST(apic_local_timer)
{
	uint32_t code, cur;

	CHECK(lapic_divide_code(1, &code) == PB_OK && code == 0xb);
	CHECK(lapic_divide_code(2, &code) == PB_OK && code == 0x0);
	CHECK(lapic_divide_code(16, &code) == PB_OK && code == 0x3);
	CHECK(lapic_divide_code(32, &code) == PB_OK && code == 0x8);
	CHECK(lapic_divide_code(128, &code) == PB_OK && code == 0xa);
	CHECK_EQ_INT(lapic_divide_code(3, &code), PB_EINVAL);
	CHECK_EQ_INT(lapic_divide_code(256, &code), PB_EINVAL);
	CHECK_EQ_INT(lapic_divide_code(0, &code), PB_EINVAL);

	reset();
	REQUIRE(start() == PB_OK);
	CHECK_EQ_INT(ops()->local_timer(&apic, 0x42, 16, 12345, 1), PB_OK);
	CHECK_EQ_INT(msr[X2APIC_MSR(LAPIC_TIMER_DIV)], 0x3);
	CHECK_EQ_INT(msr[X2APIC_MSR(LAPIC_LVT_TIMER)],
	    0x42 | LVT_TIMER_PERIODIC);
	CHECK_EQ_INT(msr[X2APIC_MSR(LAPIC_TIMER_INIT)], 12345);
	CHECK_EQ_INT(ops()->local_timer(&apic, 0x42, 1, 99, 0), PB_OK);
	CHECK_EQ_INT(msr[X2APIC_MSR(LAPIC_LVT_TIMER)], 0x42);
	msr[X2APIC_MSR(LAPIC_TIMER_CUR)] = 77;
	CHECK(ops()->local_timer_count(&apic, &cur) == PB_OK && cur == 77);
	CHECK_EQ_INT(ops()->local_timer(&apic, 0x42, 3, 99, 0), PB_EINVAL);
	CHECK_EQ_INT(ops()->local_timer(&apic, 0x1f, 1, 99, 0), PB_EINVAL);
	/* 0 stops it, masked */
	CHECK_EQ_INT(ops()->local_timer(&apic, 0x42, 1, 0, 0), PB_OK);
	CHECK_EQ_INT(msr[X2APIC_MSR(LAPIC_TIMER_INIT)], 0);
	CHECK(msr[X2APIC_MSR(LAPIC_LVT_TIMER)] & LVT_MASKED);
	apic_stop(SELF);
}

TEST(apic_eoi_hook_and_spurious)
{
	reset();
	REQUIRE(start() == PB_OK);
	REQUIRE(eoi_fn != NULL);
	nmsr_writes = 0;
	eoi_fn(eoi_ctx, 0x40);
	CHECK_EQ_INT(msr_write_count(X2APIC_MSR(LAPIC_EOI)), 1);
	CHECK(msr_written(X2APIC_MSR(LAPIC_EOI), 0));
	/* spurious: no EOI, counted by its handler */
	vec_fn[0xff](vec_arg[0xff]);
	eoi_fn(eoi_ctx, 0xff);
	/* the 8259s' range never came through the local APIC */
	eoi_fn(eoi_ctx, 0x27);
	eoi_fn(eoi_ctx, 0x2f);
	CHECK_EQ_INT(msr_write_count(X2APIC_MSR(LAPIC_EOI)), 1);
	struct irq_info info;
	REQUIRE(ops()->info(&apic, &info) == PB_OK);
	CHECK_EQ_INT(info.spurious, 1);
	apic_stop(SELF);
}

TEST(apic_stop_gives_back)
{
	reset();
	REQUIRE(start() == PB_OK);
	REQUIRE(ops()->route_isa(&apic, 1, 0x41) == PB_OK);
	REQUIRE(ops()->route_gsi(&apic, 16, IRQ_LEVEL, 0x50) == PB_OK);
	REQUIRE(ops()->local_timer(&apic, 0x42, 1, 1000, 0) == PB_OK);
	apic_stop(SELF);
	CHECK(models[0].rte[1] & RTE_MASKED);
	CHECK(models[0].rte[16] & RTE_MASKED);
	CHECK(msr[X2APIC_MSR(LAPIC_LVT_TIMER)] & LVT_MASKED);
	CHECK_EQ_INT(msr[X2APIC_MSR(LAPIC_TIMER_INIT)], 0);
	CHECK(eoi_fn == NULL);
	CHECK(vec_fn[0xff] == NULL);
	/* nothing routed survives */
	CHECK_EQ_INT(route_by_gsi(&apic, 1) == NULL, 1);
}

TEST(apic_needs_acpi_and_abi)
{
	struct pb_hub old = fake_hub;

	reset();
	apic_event(SELF, PB_EV_DISCONNECTED, &fake_acpi_conn, 0);
	CHECK_EQ_INT(start(), PB_ENODEV);
	CHECK_CONTAINS(logbuf, "no ACPI platform description");
	reset();
	old.size = offsetof(struct pb_hub, timer_every);	/* ABI 1.0 */
	CHECK_EQ_INT(apic_start(SELF, &old, PB_START_NORMAL), PB_ENOTSUP);
	CHECK_EQ_INT(apic_start(SELF, &fake_hub, PB_START_STANDBY),
	    PB_ENOTSUP);
	CHECK(eoi_fn == NULL);
}

/* The mode the firmware left is kept: x2APIC offered by CPUID is not
 * switched on (the firmware's SMM may use the xAPIC page), x2APIC left on
 * stays on; x2apic=yes switches it on, unless the DMAR opts out. */
TEST(apic_keeps_the_firmwares_mode)
{
	reset();
	msr[MSR_IA32_APIC_BASE] &= ~APIC_BASE_EXTD;	/* left in xAPIC */
	*(uint32_t *)(xapic_page + LAPIC_ID) = 2u << 24;
	REQUIRE(start() == PB_OK);
	CHECK_EQ_INT(apic.lapic.x2apic, 0);
	CHECK(apic.lapic.mmio == xapic_page);
	CHECK_EQ_INT(apic.lapic.id, 2);
	CHECK_EQ_INT(msr_write_count(MSR_IA32_APIC_BASE), 0);
	CHECK_EQ_INT(*(uint32_t *)(xapic_page + LAPIC_SVR), 0x1ff);
	CHECK_STR(pubs[0].props, "mode=xapic id=2 ioapics=1 lines=24");
	CHECK_CONTAINS(logbuf, "xAPIC id 2");
	apic_stop(SELF);

	reset();				/* left in x2APIC */
	REQUIRE(start() == PB_OK);
	CHECK_EQ_INT(apic.lapic.x2apic, 1);
	CHECK_EQ_INT(msr_write_count(MSR_IA32_APIC_BASE), 0);
	CHECK_CONTAINS(logbuf, "x2APIC id 0");
	apic_stop(SELF);
}

TEST(apic_x2apic_on_request_and_dmar_opt_out)
{
	reset();
	boot_cfg = "target=os x2apic=yes";
	msr[MSR_IA32_APIC_BASE] &= ~APIC_BASE_EXTD;
	REQUIRE(start() == PB_OK);
	CHECK_EQ_INT(apic.lapic.x2apic, 1);
	CHECK((msr[MSR_IA32_APIC_BASE] & (APIC_BASE_EN | APIC_BASE_EXTD)) ==
	    (APIC_BASE_EN | APIC_BASE_EXTD));
	apic_stop(SELF);

	reset();				/* the DMAR says no */
	boot_cfg = "x2apic=yes";
	msr[MSR_IA32_APIC_BASE] &= ~APIC_BASE_EXTD;
	plat.have_dmar = 1;
	plat.dmar_flags = ACPI_DMAR_INTR_REMAP | ACPI_DMAR_X2APIC_OPT_OUT;
	REQUIRE(start() == PB_OK);
	CHECK_EQ_INT(apic.lapic.x2apic, 0);
	CHECK_EQ_INT(msr_write_count(MSR_IA32_APIC_BASE), 0);
	CHECK_CONTAINS(logbuf, "x2apic=yes not followed: the DMAR table opts "
	    "out of x2APIC (flags bit 1)");
	apic_stop(SELF);

	reset();				/* a DMAR without the flag */
	boot_cfg = "x2apic=yes";
	msr[MSR_IA32_APIC_BASE] &= ~APIC_BASE_EXTD;
	plat.have_dmar = 1;
	plat.dmar_flags = ACPI_DMAR_INTR_REMAP;
	REQUIRE(start() == PB_OK);
	CHECK_EQ_INT(apic.lapic.x2apic, 1);
	apic_stop(SELF);

	reset();				/* asked, but not offered */
	boot_cfg = "x2apic=yes";
	msr[MSR_IA32_APIC_BASE] &= ~APIC_BASE_EXTD;
	cpuid1_ecx = 0;
	REQUIRE(start() == PB_OK);
	CHECK_EQ_INT(apic.lapic.x2apic, 0);
	CHECK_CONTAINS(logbuf, "x2apic=yes: this CPU has no x2APIC");
	apic_stop(SELF);

	/* Left in x2APIC despite the opt-out: it cannot be left safely. */
	reset();
	plat.have_dmar = 1;
	plat.dmar_flags = ACPI_DMAR_X2APIC_OPT_OUT;
	REQUIRE(start() == PB_OK);
	CHECK_EQ_INT(apic.lapic.x2apic, 1);
	CHECK_EQ_INT(msr_write_count(MSR_IA32_APIC_BASE), 0);
	CHECK_CONTAINS(logbuf, "though its DMAR opts out of it: staying in "
	    "x2APIC mode");
	apic_stop(SELF);
}

TEST(apic_x2apic_switch)
{
	/* x2apic=no is the default now: nothing to do, nothing said */
	reset();
	boot_cfg = "target=os x2apic=no font-scale=2";
	msr[MSR_IA32_APIC_BASE] &= ~APIC_BASE_EXTD;
	REQUIRE(start() == PB_OK);
	CHECK_EQ_INT(apic.lapic.x2apic, 0);
	CHECK_EQ_INT(msr_write_count(MSR_IA32_APIC_BASE), 0);
	apic_stop(SELF);
	/* only `yes` turns it on, and only the whole key */
	reset();
	boot_cfg = "x2apic=yess myx2apic=yes";
	msr[MSR_IA32_APIC_BASE] &= ~APIC_BASE_EXTD;
	REQUIRE(start() == PB_OK);
	CHECK_EQ_INT(apic.lapic.x2apic, 0);
	apic_stop(SELF);
	/* handed over in x2APIC mode: it cannot be left */
	reset();
	boot_cfg = "x2apic=no";
	REQUIRE(start() == PB_OK);
	CHECK_EQ_INT(apic.lapic.x2apic, 1);
	CHECK_CONTAINS(logbuf, "x2apic=no ignored");
	apic_stop(SELF);
}
