/*
 * mod_ahci.c - the ahci module against a register-level model of an
 * AHCI HBA with SATA disks and an ATAPI drive (ahcimodel.h), a fake hub
 * (fakehub.h: clock, timers, intrusive work, DMA with bus addresses of
 * its own), a fake `pci` function (class 01.06.01, ABAR in BAR5, MSI)
 * and a fake `irq` provider.
 *
 * What is checked: the bring-up (BIOS handoff, HBA reset, bounded when
 * it hangs, CAP and PI written back when it loses them), the probe and the resource's properties, reads and writes
 * byte for byte through scatter-gather lists (client bus addresses,
 * dma_addr runs, pages scattered on the bus, 64-bit and 32-bit DMA),
 * NCQ with every tag in flight and completions out of order, flush and
 * FUA, the checks of submit, error recovery (an error then success; a
 * bad sector that fails only its own request; a device that never
 * answers), probes that must decline (silence, BSY stuck, absurd
 * geometry, lying IDENTIFY, no link), a slot bit never issued, hot plug
 * and a flapping port, ATAPI read-only with UNIT ATTENTION, polling
 * without MSI, stop leaving the device quiet, and the swap: requests in
 * flight handed from one instance to another and completed exactly once,
 * with no HBA reset or COMRESET in the blackout, and a failed swap that
 * resumes.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../abi/pbmod.h"

#define AHCI_INSTANCES 2	/* the two sides of a swap */
#include "../../mods/ahci/cmd.c"
#include "../../mods/ahci/gone.c"
#include "../../mods/ahci/hba.c"
#include "../../mods/ahci/identify.c"
#include "../../mods/ahci/io.c"
#include "../../mods/ahci/irq.c"
#include "../../mods/ahci/port.c"
#include "../../mods/ahci/state.c"
#undef PB_MODULE
#define PB_MODULE(...) const struct pb_modinfo ahci_modinfo = { \
	.magic = PB_MODINFO_MAGIC, __VA_ARGS__ }
#include "../../mods/ahci/ahci.c"
#include "../../abi/rt/setting.c"
#include "../../abi/rt/blockstate.c"

#include "fakehub.h"
#include "ahcimodel.h"

uint64_t
cpu_irq_save(void)
{
	return 0;
}

void
cpu_irq_restore(uint64_t flags)
{
	(void)flags;
}

/* The barriers: the compiler's part is all a host test can check. */
void
mmio_wmb(void)
{
	__asm__ volatile("" : : : "memory");
}

void
mmio_rmb(void)
{
	__asm__ volatile("" : : : "memory");
}

void
mmio_mb(void)
{
	__asm__ volatile("" : : : "memory");
}

/* ---- the fake hub ------------------------------------------------------- */

static char self2_storage, client_storage;
#define SELF2 ((struct pb_module *)&self2_storage)
#define CLIENT ((struct pb_module *)&client_storage)

#define FRES 16

static struct fres {
	int used;
	char name[40];
	char props[256];
	const void *ops;
	void *ctx;
	struct pb_module *owner;
} fres[FRES];
static char cfg_props[128];
static unsigned heap_out;

static struct pb_resource *
fake_publish(struct pb_module *self, const char *iface, const char *name,
    const char *props, const void *ops, void *ctx)
{
	char full[40];

	snprintf(full, sizeof(full), "%s:%s", iface, name);
	for (unsigned i = 0; i < FRES; i++)
		if (fres[i].used && strcmp(fres[i].name, full) == 0) {
			fake_log(self, PB_LOG_ERR, "hub: resource exists");
			return NULL;
		}
	for (unsigned i = 0; i < FRES; i++)
		if (!fres[i].used) {
			fres[i] = (struct fres){ 1, "", "", ops, ctx, self };
			snprintf(fres[i].name, sizeof(fres[i].name), "%s", full);
			snprintf(fres[i].props, sizeof(fres[i].props), "%s",
			    props);
			return (struct pb_resource *)&fres[i];
		}
	return NULL;
}

static int
fake_set_props(struct pb_module *self, struct pb_resource *r,
    const char *props)
{
	struct fres *f = (struct fres *)r;

	snprintf(f->props, sizeof(f->props), "%s", props);
	return PB_OK;
}

static int
fake_withdraw(struct pb_module *self, struct pb_resource *r)
{
	memset(r, 0, sizeof(struct fres));
	return PB_OK;
}

static int
fake_res_info_sized(const char *module, unsigned index,
    struct pb_res_info *out)
{
	for (unsigned i = 0; i < FRES; i++)
		if (fres[i].used && index-- == 0) {
			*out = (struct pb_res_info){ .struct_size = sizeof(*out),
			    .name = fres[i].name, .props = fres[i].props };
			return PB_OK;
		}
	return PB_ENOENT;
}

static unsigned heap_calls;	/* alloc calls, ever */

static void *
fake_alloc(struct pb_module *self, size_t n)
{
	heap_calls++;
	heap_out++;
	return malloc(n);
}

static void
fake_free(struct pb_module *self, void *p)
{
	heap_out--;
	free(p);
}

static void
fake_unmap_mmio(struct pb_module *self, void *va)
{
}

static unsigned timer_calls;	/* timers asked for: the driver's ticks */

static int
counting_timer_after(struct pb_module *self, uint64_t ns, pb_work_fn fn,
    void *arg)
{
	timer_calls++;
	return fake_timer_after(self, ns, fn, arg);
}

static struct pb_hub hub = {
	.size = sizeof(struct pb_hub),
	.abi_major = PB_ABI_MAJOR,
	.abi_minor = PB_ABI_MINOR,
	.log = fake_log,
	.alloc = fake_alloc,
	.free = fake_free,
	.unmap_mmio = fake_unmap_mmio,
	.publish = fake_publish,
	.set_props = fake_set_props,
	.withdraw = fake_withdraw,
	.queue_work = fake_queue_work,
	.irq_alloc = fake_irq_alloc,
	.irq_register = fake_irq_register,
	.irq_unregister = fake_irq_unregister,
	.now_ns = fake_now,
	.timer_after = counting_timer_after,
	.timer_cancel = fake_timer_cancel,
	.res_info = fake_res_info,
	.dma_alloc = fake_dma_alloc,
	.dma_free = fake_dma_free,
	.dma_addr = fake_dma_addr,
	.work_init = fake_work_init,
	.work_post = fake_work_post,
	.work_cancel = fake_work_cancel,
	.res_info_sized = fake_res_info_sized,
};

/* ---- the fake pci function and irq provider -------------------------------- */

static struct pci_func_info func;
static uint32_t pci_cmd;
static unsigned msi_enables;

static int
fpci_info(void *ctx, struct pci_func_info *i)
{
	*i = func;
	return PB_OK;
}

static int
fpci_cfg_read(void *ctx, uint16_t off, unsigned width, uint32_t *v)
{
	*v = off == PCI_COMMAND ? pci_cmd : 0;
	return PB_OK;
}

/* A list still running when bus mastering comes on (its DMA goes to
 * memory its driver had: after a rollback, memory freed with it). */
static int list_ran_at_master_on;

static int
fpci_enable(void *ctx, uint16_t bits, int on)
{
	if (on && (bits & PCI_CMD_MASTER) && !(pci_cmd & PCI_CMD_MASTER))
		for (unsigned i = 0; i < M_PORTS; i++)
			if (m.p[i].cmd & ((1u << 0) | (1u << 15)))
				list_ran_at_master_on = 1;
	pci_cmd = on ? pci_cmd | bits : pci_cmd & ~(uint32_t)bits;
	return PB_OK;
}

static void *
fpci_map_bar(void *ctx, struct pb_module *client, unsigned bar, int cache)
{
	return bar == 5 && cache == PB_CACHE_UC ? abar : NULL;
}

/* As the pci provider does (mods/pci/msi.c): MSI or an MSI-X entry
 * programmed and unmasked, the other one off; only what the function's
 * capabilities offer. */
static int
fpci_msi_enable(void *ctx, int kind, unsigned entry, uint64_t addr,
    uint32_t data)
{
	if (addr != 0xfee00000u)
		return PB_EINVAL;
	if (kind == PCI_IRQ_MSIX) {
		if (!func.cap_msix)
			return PB_ENOTSUP;
		if (entry >= func.msix_entries || entry >= M_MSIX)
			return PB_EINVAL;
		m.msi_on = 0;
		m.msix_on = m.msix_fmask = 1;
		m.msix[entry].addr_lo = (uint32_t)addr;
		m.msix[entry].addr_hi = (uint32_t)(addr >> 32);
		m.msix[entry].data = data;
		m.msix[entry].ctrl &= ~1u;
		m.msix_fmask = 0;
	} else {
		if (kind != PCI_IRQ_MSI || entry)
			return PB_EINVAL;
		if (!func.cap_msi)
			return PB_ENOTSUP;
		m.msix_on = 0;
		m.msi_on = 1;
		m.msi_vector = (int)data;
	}
	msi_enables++;
	return PB_OK;
}

static int
fpci_msi_disable(void *ctx)
{
	m.msi_on = m.msix_on = 0;
	return PB_OK;
}

static const struct pci_ops fpci_ops = {
	.info = fpci_info, .cfg_read = fpci_cfg_read, .enable = fpci_enable,
	.map_bar = fpci_map_bar, .msi_enable = fpci_msi_enable,
	.msi_disable = fpci_msi_disable,
};
static struct pb_conn pci_conn = { .ops = &fpci_ops, .res = "pci:00:1f.2" };

static int
firq_msi_message(void *ctx, int vector, uint64_t *addr, uint32_t *data)
{
	*addr = 0xfee00000u;
	*data = (uint32_t)vector;
	return PB_OK;
}

static const struct irq_ops firq_ops = { .msi_message = firq_msi_message };
static struct pb_conn irq_conn = { .ops = &firq_ops, .res = "irq:apic" };

/* ---- running the machine --------------------------------------------------- */

/* Device, interrupts and work until nothing moves. */
static void
pump(void)
{
	for (unsigned i = 0; i < 100000; i++)
		if (!model_run() && !model_deliver() && !run_posted() &&
		    !run_work())
			return;
	fprintf(stderr, "pump: the machine never settles\n");
	abort();
}

/* Let ms milliseconds pass, a millisecond at a time. */
static void
wait_ms(unsigned ms)
{
	for (unsigned i = 0; i < ms; i++) {
		time_passes(1000000);
		pump();
	}
}

static struct fres *
res_named(const char *name)
{
	for (unsigned i = 0; i < FRES; i++)
		if (fres[i].used && strcmp(fres[i].name, name) == 0)
			return &fres[i];
	return NULL;
}

static unsigned
nres(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < FRES; i++)
		n += fres[i].used;
	return n;
}

static unsigned
count_of(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static const char *
prop(const struct fres *f, const char *key)
{
	static char v[96];

	if (!f || !rt_prop_get(f->props, key, v, sizeof(v)))
		return "(none)";
	return v;
}

/* A fresh world: the model as QEMU's ICH9 without disks, the fakes. */
static void
world(void)
{
	for (unsigned i = 0; i < AHCI_INSTANCES; i++)
		memset(&instances[i], 0, sizeof(instances[i]));
	fakehub_reset();
	fake_dma_reset();
	model_reset();
	memset(fres, 0, sizeof(fres));
	cfg_props[0] = '\0';
	fake_boot_cfg = cfg_props;
	heap_out = 0;
	msi_enables = 0;
	memset(&func, 0, sizeof(func));
	func.class_code = 0x01, func.subclass = 0x06, func.prog_if = 0x01;
	func.vendor = 0x8086, func.device = 0x2922;
	func.cap_msi = 0x80;
	func.bars[5] = (struct pci_bar){ 0xfebd5000, M_ABAR_SIZE,
	    PCI_BAR_MEM32, 0, 0, 0 };
	pci_cmd = PCI_CMD_MEM;
	hub.size = sizeof(struct pb_hub);
}

/* Start instance `self` (normal or standby), bound to the function. */
static int
start_as(struct pb_module *self, int mode, int with_irq)
{
	ahci_event(self, PB_EV_CONNECTED, &pci_conn, PB_REQ_BIND);
	if (with_irq)
		ahci_event(self, PB_EV_CONNECTED, &irq_conn, REQ_IRQ);
	return ahci_start(self, &hub, mode);
}

/* Start and let the probes run their course (bounded). */
static int
boot(int with_irq)
{
	int err = start_as(SELF, PB_START_NORMAL, with_irq);

	pump();
	wait_ms(30);
	return err;
}

static void
shutdown(struct pb_module *self)
{
	ahci_stop(self);
	pump();
}

/* Everything given back: DMA memory, heap, the model happy. */
static int
clean_end(void)
{
	return fdma_allocs == 0 && heap_out == 0 && timers_armed() == 0;
}

/* ---- requests ------------------------------------------------------------------ */

struct tio {
	struct block_req r;
	struct block_seg seg[AHCI_MAX_SEGS];
	unsigned done;			/* completions seen */
	uint8_t *buf;
	size_t len;
};

static void
tio_done(void *arg)
{
	struct tio *t = arg;

	t->done++;
}

enum { BUS_ZERO, BUS_GIVEN };

/*
 * A request of `count` blocks of `bs` over a fresh buffer split into
 * nseg segments (the last takes the rest), each piece's bus address
 * given or left to dma_addr.  high: the buffer's bus addresses above
 * 4 GiB; scattered: every page apart on the bus.
 */
static void
tio_make(struct tio *t, int op, uint64_t lba, uint32_t count, uint32_t bs,
    unsigned nseg, int bus_mode, int high, int scattered)
{
	size_t len = (size_t)count * bs, per = nseg ? len / nseg / bs * bs : 0;

	memset(t, 0, sizeof(*t));
	t->len = len;
	if (len) {
		t->buf = aligned_alloc(4096, (len + 4095) & ~(size_t)4095);
		memset(t->buf, 0xee, len);
		fake_dma_map(t->buf, len, high, scattered);
	}
	t->r.size = sizeof(t->r);
	t->r.op = (uint16_t)op;
	t->r.lba = lba;
	t->r.count = count;
	t->r.nseg = (uint16_t)nseg;
	t->r.segs = t->seg;
	for (unsigned i = 0; i < nseg; i++) {
		size_t off = i * per, n = i + 1 == nseg ? len - off : per;
		size_t run;

		t->seg[i].va = t->buf + off;
		t->seg[i].len = (uint32_t)n;
		if (bus_mode == BUS_GIVEN)
			fake_dma_addr(NULL, t->buf + off, n, &t->seg[i].bus,
			    &run);
	}
	fake_work_init(CLIENT, &t->r.done, tio_done, t);
}

static void
tio_free(struct tio *t)
{
	if (t->buf) {
		fake_dma_unmap(t->buf);
		free(t->buf);
	}
	t->buf = NULL;
}

static int
submit(struct fres *f, struct tio *t)
{
	return ((const struct block_ops *)f->ops)->submit(f->ctx, &t->r);
}

static int
info_of(struct fres *f, struct block_info *bi)
{
	memset(bi, 0, sizeof(*bi));
	bi->size = sizeof(*bi);
	return ((const struct block_ops *)f->ops)->info(f->ctx, bi);
}

/* Does the buffer hold the disk's blocks lba..? */
static int
same_as_disk(const struct tio *t, unsigned port)
{
	const struct mdev *d = &m.p[port].d;

	return memcmp(t->buf, d->data + t->r.lba * d->bs, t->len) == 0;
}

/* ---- bring-up ------------------------------------------------------------------ */

TEST(ahci_off_by_boot_cfg)
{
	world();
	strcpy(cfg_props, "ahci=no");
	CHECK_EQ_INT(start_as(SELF, PB_START_NORMAL, 1), PB_ENODEV);
	CHECK_CONTAINS(log_text, "off (boot.cfg ahci=no)");
	CHECK_EQ_INT(m.reg_writes, 0);
	CHECK(clean_end());
}

TEST(ahci_declines_registers_all_ones)
{
	world();
	m.cap = m.pi = 0xffffffffu;
	m.ghc = 0xffffffffu;
	CHECK_EQ_INT(start_as(SELF, PB_START_NORMAL, 1), PB_ENODEV);
	CHECK_CONTAINS(log_text, "read all ones");
	CHECK_EQ_INT(nres(), 0);
	CHECK(clean_end());
}

TEST(ahci_declines_without_abi12_hub)
{
	world();
	hub.size = offsetof(struct pb_hub, dma_alloc);
	CHECK_EQ_INT(start_as(SELF, PB_START_NORMAL, 1), PB_ENODEV);
	CHECK_CONTAINS(log_text, "ABI 1.2");
	CHECK(clean_end());
}

TEST(ahci_bringup_publishes_the_disk)
{
	struct fres *f;
	struct block_info bi;

	world();
	model_disk(0, 16384, 1);
	REQUIRE(boot(1) == PB_OK);
	CHECK_EQ_INT(m.hr_writes, 1);
	CHECK(m.ghc & 0x80000000u);		/* AE */
	CHECK(m.ghc & 2);			/* IE */
	CHECK(pci_cmd & PCI_CMD_MASTER);
	CHECK(m.msi_on);
	CHECK_EQ_INT(m.p[0].d.resets, 1);	/* one COMRESET */
	REQUIRE((f = res_named("block:sata0")) != NULL);
	CHECK_STR(prop(f, "path"), "pci:00:1f.2/sata:0");
	CHECK_STR(prop(f, "size"), "8388608");
	CHECK_STR(prop(f, "bs"), "512");
	CHECK_STR(prop(f, "model"), "QEMU_HARDDISK");
	CHECK_STR(prop(f, "serial"), "QM00001");
	CHECK_STR(prop(f, "ro"), "0");
	CHECK_STR(prop(f, "rm"), "0");
	CHECK_STR(prop(f, "wwn"), "5000c500a1b2c3d4");
	CHECK_EQ_INT(nres(), 1);		/* ports 1-5 are empty */
	REQUIRE(info_of(f, &bi) == PB_OK);
	CHECK_EQ_INT(bi.block_size, 512);
	CHECK_EQ_INT(bi.block_count, 16384);
	CHECK_EQ_INT(bi.queue_depth, 32);
	CHECK_EQ_INT(bi.max_segments, AHCI_MAX_SEGS);
	CHECK_EQ_INT(bi.max_transfer, 4u << 20);
	CHECK(bi.flags & BLOCK_FLUSHES);
	CHECK(bi.flags & BLOCK_FUA);
	CHECK_EQ_INT(bi.dma_limit, ~0ull);
	CHECK_CONTAINS(log_text, "interrupts by MSI");
	/* Five empty ports wait a second for a link: the timer looks every
	 * millisecond at first, then every 10 ms, not without a pause. */
	timer_calls = 0;
	wait_ms(1000);
	CHECK_MSG(timer_calls < 150, "%u timers in a second", timer_calls);
	CHECK_EQ_INT(ahci_of(SELF, 0)->port[5].state, PS_EMPTY);
	CHECK_MSG(m.bad == 0, "model: %s", m.why);
	shutdown(SELF);
	CHECK(clean_end());
}

/* Port structures go to the highest implemented port, not to 32; with
 * PI 0 CAP.NP says how many (drvmem). */
TEST(ahci_ports_allocated_as_pi_says)
{
	world();
	m.pi = 0x5;
	model_disk(2, 2048, 0);
	REQUIRE(boot(1) == PB_OK);
	CHECK_EQ_INT(ahci_of(SELF, 0)->nports, 3);
	CHECK_EQ_INT(heap_out, 1);
	CHECK(res_named("block:sata2") != NULL);
	shutdown(SELF);
	CHECK(clean_end());

	world();
	m.pi = 0;
	m.cap = (m.cap & ~0x1fu) | 1;		/* CAP.NP: 2 ports */
	REQUIRE(boot(1) == PB_OK);
	CHECK_EQ_INT(ahci_of(SELF, 0)->nports, 2);
	CHECK_CONTAINS(log_text, "PI is 0: using CAP.NP (2 ports)");
	shutdown(SELF);
	CHECK(clean_end());
}

/* An HBA whose GHC.HR resets CAP and PI (HwInit, §10.4.3: Intel
 * chipsets whose firmware writes them once): written back after the
 * reset, so the HBA keeps the firmware's ports and a driver started
 * after this one (a restart, a swap's new side) reads the same. */
TEST(ahci_hba_reset_keeps_cap_and_pi)
{
	uint32_t cap;
	struct ahci *a;
	char want[160];

	world();
	m.hwinit = HWINIT_LOST;
	m.cap |= CAP_SSS | CAP_SMPS;		/* as the firmware wrote them */
	m.pi = 0x5;				/* ports 0 and 2 of CAP.NP's 6 */
	cap = m.cap;
	model_disk(0, 2048, 0);
	model_disk(2, 2048, 0);
	REQUIRE(boot(1) == PB_OK);
	CHECK_EQ_INT(m.hr_writes, 1);
	CHECK_EQ_INT(m.cap, cap);
	CHECK_EQ_INT(m.pi, 0x5);
	CHECK(res_named("block:sata0") != NULL);
	CHECK(res_named("block:sata2") != NULL);
	CHECK(!strstr(log_text, "did not stick"));
	CHECK_MSG(m.bad == 0, "model: %s", m.why);
	shutdown(SELF);
	CHECK(clean_end());

	/* Started again on the same HBA: the firmware's three ports. */
	log_text[0] = '\0';
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((a = ahci_of(SELF, 0)) != NULL);
	CHECK_EQ_INT(a->nports, 3);
	CHECK_EQ_INT(a->pi, 0x5);
	CHECK(a->cap & CAP_SSS);
	CHECK(!strstr(log_text, "PI is 0"));
	CHECK_CONTAINS(log_text, "2 ports (PI 0x00000005)");
	CHECK(res_named("block:sata2") != NULL);
	shutdown(SELF);
	CHECK(clean_end());

	/* Lost for good: said, and the ports probe as read before it. */
	world();
	m.hwinit = HWINIT_LOCKED;
	m.cap |= CAP_SSS;
	m.pi = 0x5;
	cap = m.cap;
	model_disk(0, 2048, 0);
	REQUIRE(boot(1) == PB_OK);
	CHECK_EQ_INT(m.cap_writes, 1);
	CHECK_EQ_INT(m.pi_writes, 1);
	snprintf(want, sizeof(want), "CAP 0x%08x PI 0x00000000 after the "
	    "HBA reset, not the firmware's CAP 0x%08x PI 0x00000005: "
	    "written back, did not stick", cap & ~CAP_SSS, cap);
	CHECK_CONTAINS(log_text, want);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(ahci_bios_handoff)
{
	world();
	model_disk(0, 2048, 0);
	m.vs = 0x00010300;
	m.cap2 = 1;				/* BOH */
	m.bohc = 1;				/* BIOS owned */
	m.bios_until = fake_ns + 10 * MS;
	REQUIRE(start_as(SELF, PB_START_NORMAL, 1) == PB_OK);
	pump();
	CHECK(m.bohc & 2);			/* OOS */
	CHECK_EQ_INT(m.hr_writes, 0);		/* waits for the BIOS */
	wait_ms(40);
	CHECK_EQ_INT(m.hr_writes, 1);
	CHECK(res_named("block:sata0") != NULL);
	CHECK(!strstr(log_text, "taken anyway"));
	shutdown(SELF);

	/* A BIOS that never lets go, busy: 25 ms, 2 s more, taken. */
	world();
	model_disk(0, 2048, 0);
	m.vs = 0x00010300;
	m.cap2 = 1;
	m.bohc = 1;
	m.bios_until = ~0ull;
	m.bios_busy = 1;
	REQUIRE(start_as(SELF, PB_START_NORMAL, 1) == PB_OK);
	wait_ms(1000);
	CHECK_EQ_INT(m.hr_writes, 0);
	wait_ms(1100);
	CHECK_EQ_INT(m.hr_writes, 1);
	CHECK_CONTAINS(log_text, "the BIOS keeps the HBA");
	wait_ms(10);
	CHECK(res_named("block:sata0") != NULL);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(ahci_hba_reset_that_hangs_is_bounded)
{
	world();
	model_disk(0, 2048, 0);
	m.hr_stuck = 1;
	REQUIRE(start_as(SELF, PB_START_NORMAL, 1) == PB_OK);
	wait_ms(1100);
	CHECK_CONTAINS(log_text, "GHC.HR did not clear");
	CHECK_EQ_INT(nres(), 0);
	CHECK_EQ_INT(timers_armed(), 0);	/* nothing left ticking */
	shutdown(SELF);
	CHECK(clean_end());
}

/* ---- reads and writes ---------------------------------------------------------- */

/* Write a pattern through nseg segments, read it back through others. */
static void
write_then_read(struct fres *f, uint64_t lba, uint32_t count, unsigned wseg,
    unsigned rseg, int bus_mode, int high, int scattered)
{
	struct tio w, r;

	tio_make(&w, BLOCK_WRITE, lba, count, 512, wseg, bus_mode, high,
	    scattered);
	for (size_t i = 0; i < w.len; i++)
		w.buf[i] = (uint8_t)(i * 29 + lba + count);
	REQUIRE(submit(f, &w) == PB_OK);
	pump();
	wait_ms(2);			/* polling: the timer finds it */
	CHECK_EQ_INT(w.done, 1);
	CHECK_EQ_INT(w.r.status, PB_OK);
	CHECK(same_as_disk(&w, 0));
	tio_make(&r, BLOCK_READ, lba, count, 512, rseg, bus_mode, high,
	    scattered);
	REQUIRE(submit(f, &r) == PB_OK);
	pump();
	wait_ms(2);
	CHECK_EQ_INT(r.done, 1);
	CHECK_EQ_INT(r.r.status, PB_OK);
	CHECK(memcmp(r.buf, w.buf, w.len) == 0);
	tio_free(&w);
	tio_free(&r);
}

TEST(ahci_read_write_scatter_gather)
{
	struct fres *f;
	struct tio t;

	world();
	m.cap &= ~(1u << 30);			/* no NCQ: DMA EXT */
	model_disk(0, 16384, 1);
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:sata0")) != NULL);
	write_then_read(f, 0, 1, 1, 1, BUS_ZERO, 0, 0);
	write_then_read(f, 100, 24, 3, 5, BUS_GIVEN, 1, 0);
	write_then_read(f, 16384 - 64, 64, AHCI_MAX_SEGS, 7, BUS_ZERO, 1, 1);
	write_then_read(f, 4000, 8192, 2, AHCI_MAX_SEGS, BUS_ZERO, 0, 0);	/* 4 MiB */
	write_then_read(f, 4000, 8192, 3, 1, BUS_GIVEN, 1, 0);
	CHECK_EQ_INT(m.p[0].d.ncq_cmds, 0);
	/* 4 MiB in pages scattered on the bus: 1024 PRDs, refused. */
	tio_make(&t, BLOCK_READ, 0, 8192, 512, 1, BUS_ZERO, 0, 1);
	CHECK_EQ_INT(submit(f, &t), PB_EINVAL);
	tio_free(&t);
	CHECK_MSG(m.bad == 0, "model: %s", m.why);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(ahci_read_matches_disk_byte_for_byte)
{
	struct fres *f;
	struct tio t;

	world();
	model_disk(0, 16384, 1);
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:sata0")) != NULL);
	tio_make(&t, BLOCK_READ, 777, 300, 512, 13, BUS_ZERO, 1, 1);
	REQUIRE(submit(f, &t) == PB_OK);
	pump();
	CHECK_EQ_INT(t.done, 1);
	CHECK_EQ_INT(t.r.status, PB_OK);
	CHECK(same_as_disk(&t, 0));
	CHECK_EQ_INT(m.p[0].d.ncq_cmds, 1);
	tio_free(&t);
	CHECK_MSG(m.bad == 0, "model: %s", m.why);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(ahci_ncq_many_tags_out_of_order)
{
	enum { N = 80 };
	static struct tio t[N];
	struct fres *f;
	unsigned ok = 0;

	world();
	model_disk(0, 16384, 1);
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:sata0")) != NULL);
	m.reverse = 1;
	m.per_run = 5;			/* the device holds them a while */
	for (unsigned i = 0; i < N; i++) {
		tio_make(&t[i], BLOCK_READ, i * 97, 1 + i % 16, 512,
		    1 + i % 4, BUS_ZERO, i & 1, i % 3 == 0);
		REQUIRE(submit(f, &t[i]) == PB_OK);
	}
	CHECK_EQ_INT(m.p[0].d.max_ncq, 32);	/* every tag in flight */
	pump();
	for (unsigned i = 0; i < N; i++) {
		ok += t[i].done == 1 && t[i].r.status == PB_OK &&
		    same_as_disk(&t[i], 0);
		tio_free(&t[i]);
	}
	CHECK_EQ_INT(ok, N);
	CHECK_EQ_INT(m.p[0].d.ncq_cmds, N);
	CHECK_MSG(m.bad == 0, "model: %s", m.why);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(ahci_flush_and_fua)
{
	struct fres *f;
	struct tio fl, w;

	world();
	model_disk(0, 4096, 1);
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:sata0")) != NULL);
	tio_make(&w, BLOCK_WRITE, 8, 8, 512, 1, BUS_ZERO, 0, 0);
	w.r.flags = BLOCK_REQ_FUA;
	tio_make(&fl, BLOCK_FLUSH, 0, 0, 512, 0, BUS_ZERO, 0, 0);
	REQUIRE(submit(f, &w) == PB_OK);
	REQUIRE(submit(f, &fl) == PB_OK);	/* waits for the write */
	pump();
	CHECK_EQ_INT(w.done, 1);
	CHECK_EQ_INT(fl.done, 1);
	CHECK_EQ_INT(fl.r.status, PB_OK);
	CHECK_EQ_INT(m.p[0].d.flushes, 1);
	CHECK_EQ_INT(m.p[0].d.fua_writes, 1);
	tio_free(&w);
	CHECK_MSG(m.bad == 0, "model: %s", m.why);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(ahci_submit_checks)
{
	struct fres *f;
	struct tio t;
	uint8_t *odd;

	world();
	m.cap &= ~(1u << 30);
	model_disk(0, 4096, 0);
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:sata0")) != NULL);
#define REFUSED(err, ...) do { \
	tio_make(&t, __VA_ARGS__); \
	CHECK_EQ_INT(submit(f, &t), err); \
	tio_free(&t); } while (0)
	REFUSED(PB_EINVAL, BLOCK_READ, 4096, 1, 512, 1, BUS_ZERO, 0, 0);
	REFUSED(PB_EINVAL, BLOCK_READ, 4090, 7, 512, 1, BUS_ZERO, 0, 0);
	REFUSED(PB_EINVAL, BLOCK_READ, ~0ull, 2, 512, 1, BUS_ZERO, 0, 0);
	REFUSED(PB_EINVAL, BLOCK_READ, 0, 0, 512, 0, BUS_ZERO, 0, 0);
	REFUSED(PB_EINVAL, BLOCK_READ, 0, 4, 512, 0, BUS_ZERO, 0, 0);
	REFUSED(PB_EINVAL, BLOCK_READ, 0, 8193, 512, 2, BUS_ZERO, 0, 0);
	tio_make(&t, BLOCK_WRITE, 0, 8, 512, 1, BUS_ZERO, 0, 0);
	t.r.flags = BLOCK_REQ_FUA;		/* no NCQ here: no FUA */
	CHECK_EQ_INT(submit(f, &t), PB_EINVAL);
	t.r.flags = 0;
	t.seg[0].len -= 512;			/* segments short of count */
	CHECK_EQ_INT(submit(f, &t), PB_EINVAL);
	t.seg[0].len = 8 * 512 - 2;		/* not whole blocks */
	CHECK_EQ_INT(submit(f, &t), PB_EINVAL);
	t.seg[0].len = 8 * 512;
	t.r.op = 9;
	CHECK_EQ_INT(submit(f, &t), PB_ENOTSUP);
	t.r.op = BLOCK_READ;
	t.r.size = 40;
	CHECK_EQ_INT(submit(f, &t), PB_EINVAL);
	t.r.size = sizeof(t.r);
	t.r.nseg = AHCI_MAX_SEGS + 1;
	CHECK_EQ_INT(submit(f, &t), PB_EINVAL);
	t.r.nseg = 1;
	odd = t.buf + 1;			/* not word-aligned */
	t.seg[0].va = odd;
	CHECK_EQ_INT(submit(f, &t), PB_EINVAL);
	t.seg[0].va = t.buf;
	CHECK_EQ_INT(t.done, 0);
	tio_free(&t);
	/* memory that is not DMA-able at all */
	{
		static uint8_t stack_buf[512] __attribute__((aligned(8)));
		struct tio u;

		tio_make(&u, BLOCK_READ, 0, 1, 512, 1, BUS_ZERO, 0, 0);
		u.seg[0].va = stack_buf;
		CHECK_EQ_INT(submit(f, &u), PB_EINVAL);
		tio_free(&u);
	}
	CHECK_EQ_INT(m.p[0].d.cmds, 1);		/* IDENTIFY only */
	shutdown(SELF);
	CHECK(clean_end());
#undef REFUSED
}

TEST(ahci_dma_below_4g_without_s64a)
{
	struct fres *f;
	struct block_info bi;
	struct tio t;

	world();
	m.cap &= ~(1u << 31);			/* no S64A */
	model_disk(0, 4096, 1);
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:sata0")) != NULL);
	REQUIRE(info_of(f, &bi) == PB_OK);
	CHECK_EQ_INT(bi.dma_limit, 0xffffffffull);
	write_then_read(f, 10, 16, 2, 3, BUS_ZERO, 0, 1);
	tio_make(&t, BLOCK_READ, 0, 8, 512, 1, BUS_ZERO, 1, 0);	/* high */
	CHECK_EQ_INT(submit(f, &t), PB_EINVAL);
	tio_free(&t);
	CHECK_MSG(m.bad == 0, "model: %s", m.why);
	shutdown(SELF);
	CHECK(clean_end());
}

/* ---- errors ---------------------------------------------------------------------- */

TEST(ahci_error_then_success_after_port_reset)
{
	struct fres *f;
	struct tio t;
	unsigned resets;

	world();
	m.cap &= ~(1u << 30);
	model_disk(0, 4096, 0);
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:sata0")) != NULL);
	resets = m.p[0].d.resets;
	m.p[0].d.fail_next = 1;
	tio_make(&t, BLOCK_READ, 64, 16, 512, 2, BUS_ZERO, 0, 0);
	REQUIRE(submit(f, &t) == PB_OK);
	pump();
	wait_ms(5);			/* COMRESET is held 1 ms */
	CHECK_EQ_INT(t.done, 1);
	CHECK_EQ_INT(t.r.status, PB_OK);
	CHECK(same_as_disk(&t, 0));
	CHECK_EQ_INT(m.p[0].d.resets, resets + 1);
	CHECK_CONTAINS(log_text, "port 0: error");
	tio_free(&t);
	CHECK_MSG(m.bad == 0, "model: %s", m.why);
	shutdown(SELF);
	CHECK(clean_end());
}

/* A bad sector among many NCQ reads: only its request fails, PB_EIO,
 * after AHCI_TRIES; the others complete with the right data. */
static void
bad_sector(int qemu_style)
{
	enum { N = 24 };
	static struct tio t[N];
	struct fres *f;
	unsigned ok = 0;

	world();
	model_disk(0, 16384, 1);
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:sata0")) != NULL);
	m.qemu_ncq_err = qemu_style;
	m.per_run = 3;
	m.p[0].d.bad_from = 1000;
	m.p[0].d.bad_to = 1001;
	for (unsigned i = 0; i < N; i++) {
		tio_make(&t[i], BLOCK_READ, i == 7 ? 996 : i * 100 + 2000,
		    8, 512, 1, BUS_ZERO, 0, 0);
		REQUIRE(submit(f, &t[i]) == PB_OK);
	}
	pump();
	wait_ms(20);
	for (unsigned i = 0; i < N; i++) {
		CHECK_EQ_INT(t[i].done, 1);
		if (i == 7)
			CHECK_EQ_INT(t[i].r.status, PB_EIO);
		else
			ok += t[i].r.status == PB_OK && same_as_disk(&t[i], 0);
		tio_free(&t[i]);
	}
	CHECK_EQ_INT(ok, N - 1);
	CHECK_CONTAINS(log_text, "read of LBA 996 (8 blocks) failed 3 times");
	CHECK_MSG(m.bad == 0, "model: %s", m.why);
	/* The port serves on. */
	write_then_read(f, 50, 4, 1, 1, BUS_ZERO, 0, 0);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(ahci_bad_sector_fails_only_its_request)
{
	bad_sector(0);
}

TEST(ahci_bad_sector_qemu_style_ncq_error)
{
	bad_sector(1);
}

TEST(ahci_device_that_stops_answering_times_out)
{
	struct fres *f;
	struct tio t, u;

	world();
	model_disk(0, 4096, 1);
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:sata0")) != NULL);
	m.p[0].d.silent = 1;
	tio_make(&t, BLOCK_READ, 0, 8, 512, 1, BUS_ZERO, 0, 0);
	REQUIRE(submit(f, &t) == PB_OK);
	wait_ms(9000);
	CHECK_EQ_INT(t.done, 0);		/* T_IO is 10 s */
	wait_ms(25000);
	CHECK_EQ_INT(t.done, 1);
	CHECK_EQ_INT(t.r.status, PB_EIO);
	CHECK_CONTAINS(log_text, "timed out");
	/* It answers again: the port still works. */
	m.p[0].d.silent = 0;
	tio_make(&u, BLOCK_READ, 8, 8, 512, 1, BUS_ZERO, 0, 0);
	REQUIRE(submit(f, &u) == PB_OK);
	pump();
	CHECK_EQ_INT(u.done, 1);
	CHECK_EQ_INT(u.r.status, PB_OK);
	tio_free(&t);
	tio_free(&u);
	shutdown(SELF);
	CHECK(clean_end());
}

/* ---- probes that decline --------------------------------------------------------- */

static void
declines(const char *why)
{
	REQUIRE(boot(1) == PB_OK);
	wait_ms(20000);			/* every bound passes */
	CHECK_EQ_INT(nres(), 0);
	CHECK_CONTAINS(log_text, why);
	CHECK_MSG(m.bad == 0, "model: %s", m.why);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(ahci_silent_device_declined)
{
	world();
	model_disk(0, 4096, 0);
	m.p[0].d.silent = 1;
	declines("IDENTIFY keeps failing");
}

TEST(ahci_bsy_stuck_declined)
{
	world();
	model_disk(0, 4096, 0);
	m.p[0].d.bsy_stuck = 1;
	declines("BSY/DRQ never cleared (PxTFD 0x00000080");
}

TEST(ahci_no_link_declined)
{
	world();
	model_disk(0, 4096, 0);
	m.p[0].d.no_link = 1;
	declines("a device, but no link after COMRESET");
}

TEST(ahci_zero_sectors_declined)
{
	world();
	model_disk(0, 4096, 0);
	memset(&m.p[0].d.id[100], 0, 8);
	declines("absurd capacity");
}

TEST(ahci_beyond_lba48_declined)
{
	world();
	model_disk(0, 4096, 0);
	m.p[0].d.id[103] = 2;			/* 2^49 sectors */
	declines("absurd capacity");
}

TEST(ahci_bad_checksum_declined)
{
	world();
	model_disk(0, 4096, 0);
	m.p[0].d.id[255] = 0x12a5;		/* signature, wrong sum */
	declines("checksum");
}

TEST(ahci_odd_sector_size_declined)
{
	world();
	model_disk(0, 4096, 0);
	m.p[0].d.id[106] = 0x4000 | 0x1000;
	m.p[0].d.id[117] = 260;			/* 520 bytes */
	declines("absurd sector size");
}

TEST(ahci_ncq_claim_without_sncq_not_used)
{
	struct fres *f;
	struct tio t;

	world();
	m.cap &= ~(1u << 30);			/* the HBA has no NCQ */
	model_disk(0, 4096, 1);			/* the disk claims it */
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:sata0")) != NULL);
	CHECK_CONTAINS(log_text, "claims NCQ, but the HBA has no CAP.SNCQ");
	tio_make(&t, BLOCK_READ, 0, 8, 512, 1, BUS_ZERO, 0, 0);
	REQUIRE(submit(f, &t) == PB_OK);
	pump();
	CHECK_EQ_INT(t.r.status, PB_OK);
	CHECK_EQ_INT(m.p[0].d.ncq_cmds, 0);
	tio_free(&t);
	shutdown(SELF);

	world();
	model_disk(0, 4096, 1);
	m.p[0].d.id[75] = 0;			/* a queue of one */
	REQUIRE(boot(1) == PB_OK);
	CHECK_CONTAINS(log_text, "queue depth of 1");
	REQUIRE((f = res_named("block:sata0")) != NULL);
	tio_make(&t, BLOCK_READ, 0, 8, 512, 1, BUS_ZERO, 0, 0);
	REQUIRE(submit(f, &t) == PB_OK);
	pump();
	CHECK_EQ_INT(t.r.status, PB_OK);
	CHECK_EQ_INT(m.p[0].d.ncq_cmds, 0);
	tio_free(&t);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(ahci_slot_never_issued_logged_once)
{
	struct fres *f;
	struct tio t[3];

	world();
	model_disk(0, 4096, 1);
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:sata0")) != NULL);
	m.p[0].stray = 1u << 20;		/* a slot we never set */
	for (unsigned i = 0; i < 3; i++) {
		tio_make(&t[i], BLOCK_READ, i * 8, 8, 512, 1, BUS_ZERO, 0, 0);
		REQUIRE(submit(f, &t[i]) == PB_OK);
		pump();
		CHECK_EQ_INT(t[i].done, 1);
		CHECK_EQ_INT(t[i].r.status, PB_OK);
		tio_free(&t[i]);
	}
	CHECK_CONTAINS(log_text, "slots 0x00100000 busy that we never issued");
	CHECK_EQ_INT(count_of(log_text, "never issued"), 1);
	m.p[0].stray = 0;
	shutdown(SELF);
	CHECK(clean_end());
}

/* ---- ATAPI, hot plug, polling, stop ------------------------------------------ */

/* An empty optical drive (common on desktops) answers NOT READY: after
 * the probe's retries it is left alone with one info line, not error
 * lines, and the other ports are served. */
TEST(ahci_atapi_without_medium_is_quiet)
{
	world();
	model_atapi(2, 1000);
	m.p[2].d.no_medium = 1;
	model_disk(0, 2048, 0);
	REQUIRE(boot(1) == PB_OK);
	CHECK(res_named("block:sata2") == NULL);
	CHECK(res_named("block:sata0") != NULL);
	CHECK_CONTAINS(log_text, "port 2: ATAPI drive with no medium");
	CHECK(!strstr(log_text, "port 2: error"));
	CHECK(!strstr(log_text, "declined"));
	CHECK_MSG(m.bad == 0, "model: %s", m.why);
	shutdown(SELF);
}

/* Ports with nothing to serve (no link, an ATAPI drive with no medium)
 * give their command list, FIS area and tables back once the engines are
 * off; a device that comes later takes them again (issue 16, memdiet). */
TEST(ahci_empty_ports_hold_no_memory)
{
	struct ahci *a;

	world();
	model_disk(0, 2048, 1);
	model_atapi(2, 1000);
	m.p[2].d.no_medium = 1;
	REQUIRE(boot(1) == PB_OK);
	wait_ms(150);			/* no device on the others: 100 ms */
	a = ahci_of(SELF, 0);
	REQUIRE(res_named("block:sata0") != NULL);
	CHECK(a->port[0].mem != NULL && a->port[0].tables != NULL);
	for (unsigned i = 1; i < a->nports; i++) {
		CHECK_EQ_INT(a->port[i].state, PS_EMPTY);
		CHECK_MSG(!a->port[i].mem && !a->port[i].tables,
		    "port %u holds its memory", i);
		CHECK_EQ_INT(m.p[i].cmd & ((1u << 4) | (1u << 14)), 0);
	}
	CHECK_EQ_INT(fdma_allocs, 2);	/* port 0's two */
	model_disk(3, 2048, 1);
	m.p[3].d.present = 0;
	m.p[3].ssts = 0;
	model_plug(3, 1);		/* a disk comes: memory again */
	pump();
	wait_ms(100);
	CHECK(res_named("block:sata3") != NULL);
	CHECK(a->port[3].mem != NULL && a->port[3].tables != NULL);
	CHECK_EQ_INT(fdma_allocs, 4);
	CHECK_MSG(m.bad == 0, "model: %s", m.why);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(ahci_atapi_listed_read_only)
{
	struct fres *f;
	struct block_info bi;
	struct tio t, w, fl;

	world();
	model_atapi(2, 1000);
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:sata2")) != NULL);
	CHECK_STR(prop(f, "path"), "pci:00:1f.2/sata:2");
	CHECK_STR(prop(f, "size"), "2048000");
	CHECK_STR(prop(f, "bs"), "2048");
	CHECK_STR(prop(f, "model"), "QEMU_DVD-ROM");
	CHECK_STR(prop(f, "ro"), "1");
	CHECK_STR(prop(f, "rm"), "1");
	CHECK(m.p[2].cmd & (1u << 24));		/* PxCMD.ATAPI */
	REQUIRE(info_of(f, &bi) == PB_OK);
	CHECK(bi.flags & BLOCK_RO);
	tio_make(&t, BLOCK_READ, 10, 3, 2048, 2, BUS_ZERO, 0, 0);
	REQUIRE(submit(f, &t) == PB_OK);
	pump();
	CHECK_EQ_INT(t.r.status, PB_OK);
	CHECK(same_as_disk(&t, 2));
	tio_make(&w, BLOCK_WRITE, 10, 1, 2048, 1, BUS_ZERO, 0, 0);
	CHECK_EQ_INT(submit(f, &w), PB_EROFS);
	tio_make(&fl, BLOCK_FLUSH, 0, 0, 2048, 0, BUS_ZERO, 0, 0);
	REQUIRE(submit(f, &fl) == PB_OK);
	pump();
	CHECK_EQ_INT(fl.done, 1);
	CHECK_EQ_INT(fl.r.status, PB_OK);
	tio_free(&t);
	tio_free(&w);
	CHECK_MSG(m.bad == 0, "model: %s", m.why);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(ahci_hot_plug_and_unplug)
{
	struct fres *f;
	struct tio t[4];

	world();
	model_disk(0, 4096, 1);
	REQUIRE(boot(1) == PB_OK);
	CHECK(res_named("block:sata3") == NULL);
	model_disk(3, 2048, 1);
	m.p[3].d.present = 0;
	m.p[3].ssts = 0;
	model_plug(3, 1);			/* a disk comes */
	pump();
	wait_ms(100);
	REQUIRE((f = res_named("block:sata3")) != NULL);
	CHECK_STR(prop(f, "size"), "1048576");
	m.p[3].d.silent = 1;			/* requests stay in flight */
	for (unsigned i = 0; i < 4; i++) {
		tio_make(&t[i], BLOCK_READ, i * 8, 8, 512, 1, BUS_ZERO, 0, 0);
		REQUIRE(submit(f, &t[i]) == PB_OK);
	}
	pump();
	model_plug(3, 0);			/* and goes */
	pump();
	wait_ms(100);
	for (unsigned i = 0; i < 4; i++) {
		CHECK_EQ_INT(t[i].done, 1);
		CHECK_EQ_INT(t[i].r.status, PB_ECANCELED);
		tio_free(&t[i]);
	}
	CHECK(res_named("block:sata3") == NULL);
	CHECK(res_named("block:sata0") != NULL);
	CHECK_CONTAINS(log_text, "port 3: disk gone: block:sata3 withdrawn");
	CHECK_MSG(m.bad == 0, "model: %s", m.why);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(ahci_flapping_port_declined)
{
	world();
	model_disk(1, 2048, 0);
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(res_named("block:sata1") != NULL);
	for (unsigned i = 0; i < 12; i++) {
		model_plug(1, i % 2);
		pump();
		wait_ms(60);
	}
	wait_ms(100);
	CHECK(res_named("block:sata1") == NULL);
	CHECK_EQ_INT(count_of(log_text, "the link changed"), 1);
	CHECK_EQ_INT(m.p[1].ie, 0);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(ahci_polls_without_msi)
{
	struct fres *f;
	struct tio t;

	world();
	model_disk(0, 4096, 1);
	REQUIRE(boot(0) == PB_OK);		/* no irq provider */
	CHECK_CONTAINS(log_text, "polling every 1 ms until an irq provider");
	CHECK(!m.msi_on);
	REQUIRE((f = res_named("block:sata0")) != NULL);
	tio_make(&t, BLOCK_READ, 0, 64, 512, 4, BUS_ZERO, 0, 0);
	REQUIRE(submit(f, &t) == PB_OK);
	pump();
	CHECK_EQ_INT(t.done, 0);		/* the timer finds it */
	wait_ms(2);
	CHECK_EQ_INT(t.done, 1);
	CHECK_EQ_INT(t.r.status, PB_OK);
	CHECK(same_as_disk(&t, 0));
	tio_free(&t);
	/* The provider comes: MSI from then on. */
	ahci_event(SELF, PB_EV_CONNECTED, &irq_conn, REQ_IRQ);
	CHECK(m.msi_on);
	shutdown(SELF);
	CHECK(clean_end());

	/* A function without MSI, and MSI turned off in boot.cfg. */
	for (unsigned k = 0; k < 2; k++) {
		world();
		model_disk(0, 4096, 1);
		if (k == 0)
			func.cap_msi = 0;
		else
			strcpy(cfg_props, "ahci-msi=no");
		REQUIRE(boot(1) == PB_OK);
		CHECK_CONTAINS(log_text, k == 0 ? "(no MSI-X or MSI capability; INTx "
		    "would need ACPI _PRT routing)" : "(boot.cfg ahci-msi=no");
		CHECK(!m.msi_on);
		CHECK_EQ_INT(vectors_used(), 0);
		REQUIRE((f = res_named("block:sata0")) != NULL);
		write_then_read(f, 30, 8, 2, 1, BUS_GIVEN, 0, 0);
		shutdown(SELF);
		CHECK(clean_end());
	}
}

/* MSI-X before MSI (an HBA may offer MSI-X alone): table entry 0 gets
 * our vector's message and is unmasked, and the disk's completions
 * arrive through it. */
TEST(ahci_interrupts_by_msix)
{
	struct ahci *a;
	struct fres *f;
	struct tio t;
	unsigned irqs;
	char want[64];

	world();
	func.cap_msi = 0;
	func.cap_msix = 0x90;
	func.msix_entries = 1;
	model_disk(0, 4096, 1);
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((a = ahci_of(SELF, 0)) != NULL);
	CHECK_EQ_INT(a->irq_kind, PCI_IRQ_MSIX);
	REQUIRE(a->vector >= 0);
	CHECK(m.msix_on && !m.msix_fmask && !m.msi_on);
	CHECK_EQ_INT(m.msix[0].ctrl & 1, 0);	/* unmasked */
	CHECK_EQ_INT(m.msix[0].addr_lo, 0xfee00000u);
	CHECK_EQ_INT(m.msix[0].data, a->vector);
	CHECK(fvec[a->vector].used && fvec[a->vector].arg == a);
	snprintf(want, sizeof(want), "interrupts by MSI-X on vector %d",
	    a->vector);
	CHECK_CONTAINS(log_text, want);
	/* A read finishes by the interrupt, no time passing (polling needs
	 * the timer: ahci_polls_without_msi). */
	REQUIRE((f = res_named("block:sata0")) != NULL);
	irqs = m.irqs;
	tio_make(&t, BLOCK_READ, 0, 64, 512, 4, BUS_ZERO, 0, 0);
	REQUIRE(submit(f, &t) == PB_OK);
	pump();
	CHECK_EQ_INT(t.done, 1);
	CHECK(m.irqs > irqs);
	CHECK(same_as_disk(&t, 0));
	tio_free(&t);
	shutdown(SELF);
	CHECK(!m.msix_on);
	CHECK_EQ_INT(vectors_used(), 0);
	CHECK(clean_end());

	/* Both capabilities: MSI-X; boot.cfg ahci-msix=no, or an MSI-X
	 * entry the pci provider cannot program: MSI; ahci-msix=no and
	 * no MSI: polled. */
	for (unsigned k = 0; k < 4; k++) {
		world();
		func.cap_msix = 0x90;
		func.msix_entries = k == 2 ? 0 : 1;
		if (k == 1 || k == 3)
			strcpy(cfg_props, "ahci-msix=no");
		if (k == 3)
			func.cap_msi = 0;
		model_disk(0, 4096, 1);
		REQUIRE(boot(1) == PB_OK);
		REQUIRE((a = ahci_of(SELF, 0)) != NULL);
		CHECK_EQ_INT(a->irq_kind, k == 0 ? PCI_IRQ_MSIX :
		    k == 3 ? 0 : PCI_IRQ_MSI);
		CHECK_EQ_INT(m.msix_on, k == 0);
		CHECK_EQ_INT(m.msi_on, k == 1 || k == 2);
		CHECK_EQ_INT(vectors_used(), k == 3 ? 0 : 1);
		if (k == 3)
			CHECK_CONTAINS(log_text, "(no MSI capability, boot.cfg "
			    "ahci-msix=no; INTx");
		REQUIRE((f = res_named("block:sata0")) != NULL);
		write_then_read(f, 30, 8, 2, 1, BUS_GIVEN, 0, 0);
		CHECK_MSG(m.bad == 0, "model: %s", m.why);
		shutdown(SELF);
		CHECK(clean_end());
	}
}

TEST(ahci_stop_leaves_the_device_quiet)
{
	struct fres *f;
	struct tio t;

	world();
	model_disk(0, 4096, 1);
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:sata0")) != NULL);
	m.p[0].d.silent = 1;
	tio_make(&t, BLOCK_READ, 0, 8, 512, 1, BUS_ZERO, 0, 0);
	REQUIRE(submit(f, &t) == PB_OK);
	pump();
	ahci_stop(SELF);
	pump();
	CHECK_EQ_INT(t.done, 1);
	CHECK_EQ_INT(t.r.status, PB_ECANCELED);
	CHECK_EQ_INT(m.p[0].cmd & ((1u << 0) | (1u << 4) | (1u << 14) |
	    (1u << 15)), 0);			/* ST FRE FR CR */
	CHECK_EQ_INT(m.p[0].ie, 0);
	CHECK_EQ_INT(m.ghc & 2, 0);
	CHECK(!m.msi_on);
	CHECK_EQ_INT(pci_cmd & PCI_CMD_MASTER, 0);
	CHECK_EQ_INT(nres(), 0);
	CHECK_EQ_INT(vectors_used(), 0);	/* the vector given back */
	tio_free(&t);
	CHECK(clean_end());
}

/* ---- swaps ------------------------------------------------------------------------ */

/* Quiesce until drained (the hub calls again while PB_EAGAIN). */
static int
quiesce_drained(struct pb_module *self, unsigned *again)
{
	int err;

	*again = 0;
	while ((err = ahci_quiesce(self)) == PB_EAGAIN && *again < 1000) {
		(*again)++;
		pump();
		wait_ms(1);
	}
	return err;
}

/* Export self's state into a fresh buffer. */
static void *
export_from(struct pb_module *self, size_t *len, uint32_t *ver)
{
	void *buf;

	if (ahci_export(self, NULL, 0, len, ver) != PB_OK)
		return NULL;
	buf = malloc(*len);
	if (ahci_export(self, buf, *len, len, ver) != PB_OK) {
		free(buf);
		return NULL;
	}
	return buf;
}

TEST(ahci_swap_hands_requests_over_without_reset)
{
	enum { N = 40 };
	static struct tio t[N];
	struct fres *a0, *b0, *b2;
	unsigned again, hr, resets0, resets2, writes, calls, ok = 0;
	uint32_t ver;
	size_t len;
	void *st;

	world();
	model_disk(0, 16384, 1);
	model_atapi(2, 500);
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((a0 = res_named("block:sata0")) != NULL);
	m.per_run = 4;
	for (unsigned i = 0; i < N / 2; i++) {
		tio_make(&t[i], BLOCK_READ, i * 50, 8 + i, 512, 2, BUS_ZERO,
		    0, 0);
		REQUIRE(submit(a0, &t[i]) == PB_OK);
	}
	CHECK(m.p[0].ncq_held != 0);		/* in flight */

	/* B in standby: publishes by path, writes nothing. */
	writes = m.reg_writes;
	REQUIRE(start_as(SELF2, PB_START_STANDBY, 1) == PB_OK);
	CHECK_EQ_INT(m.reg_writes, writes);
	REQUIRE((b0 = res_named("block:sata0-2")) != NULL);
	REQUIRE((b2 = res_named("block:sata2-2")) != NULL);
	CHECK_STR(prop(b0, "path"), "pci:00:1f.2/sata:0");
	CHECK_STR(prop(b2, "path"), "pci:00:1f.2/sata:2");

	/* A drains: in flight first, new ones wait. */
	CHECK_EQ_INT(ahci_quiesce(SELF), PB_EAGAIN);
	for (unsigned i = N / 2; i < N; i++) {
		tio_make(&t[i], BLOCK_READ, i * 50, 8, 512, 1, BUS_ZERO, 0, 0);
		REQUIRE(submit(a0, &t[i]) == PB_OK);
	}
	CHECK_EQ_INT(quiesce_drained(SELF, &again), PB_OK);
	CHECK(again > 0);
	CHECK_EQ_INT(m.p[0].ncq_held, 0);
	CHECK_EQ_INT(m.p[0].cmd & ((1u << 0) | (1u << 15) | (1u << 4) |
	    (1u << 14)), 0);			/* lists and FIS receive off */
	REQUIRE((st = export_from(SELF, &len, &ver)) != NULL);
	CHECK_EQ_INT(ver, BLOCK_STATE_VERSION);
	CHECK_EQ_INT(((struct block_state *)st)->ndisks, 2);
	CHECK_EQ_INT(((struct block_state *)st)->nreq, N / 2);
	REQUIRE(ahci_release(SELF) == PB_OK);

	/* B takes over: no HBA reset, no COMRESET, a few writes. */
	hr = m.hr_writes;
	resets0 = m.p[0].d.resets;
	resets2 = m.p[2].d.resets;
	writes = m.reg_writes;
	calls = heap_calls;
	REQUIRE(ahci_import(SELF2, st, len, ver) == PB_OK);
	REQUIRE(ahci_activate(SELF2) == PB_OK);
	/* The room for the handed-over requests was made at the standby
	 * start: the blackout allocates nothing. */
	CHECK_EQ_INT(heap_calls, calls);
	CHECK_EQ_INT(m.hr_writes, hr);
	CHECK_EQ_INT(m.p[0].d.resets, resets0);
	CHECK_EQ_INT(m.p[2].d.resets, resets2);
	CHECK_MSG(m.reg_writes - writes < 30, "%u register writes",
	    m.reg_writes - writes);
	/* Said and set after the blackout, by work. */
	CHECK(!strstr(log_text, "took over"));
	CHECK_STR(prop(b0, "size"), "(none)");
	free(st);
	pump();
	CHECK_STR(prop(b0, "size"), "8388608");
	CHECK_STR(prop(b2, "ro"), "1");
	CHECK_CONTAINS(log_text, "took over 2 disks and 20 requests without "
	    "a reset");
	wait_ms(5);
	for (unsigned i = 0; i < N; i++)
		ok += t[i].done == 1 && t[i].r.status == PB_OK &&
		    same_as_disk(&t[i], 0);
	CHECK_EQ_INT(ok, N);

	/* A goes (after the watch window): it touches nothing. */
	writes = m.reg_writes;
	ahci_stop(SELF);
	CHECK_EQ_INT(m.reg_writes, writes);
	CHECK(res_named("block:sata0") == NULL);
	for (unsigned i = 0; i < N; i++)
		CHECK_EQ_INT(t[i].done, 1);	/* nothing twice */

	/* B serves. */
	write_then_read(b0, 300, 16, 2, 3, BUS_ZERO, 1, 0);
	for (unsigned i = 0; i < N; i++)
		tio_free(&t[i]);
	CHECK_MSG(m.bad == 0, "model: %s", m.why);
	shutdown(SELF2);
	CHECK(clean_end());
}

/* The swap hands the vector over: A's release leaves the function's
 * MSI (or MSI-X entry) and its vector as they are, the state names the
 * vector and which message, and B takes it at activate: nothing
 * programmed, no vector allocated, no timer asked for inside the
 * blackout; the device's interrupts reach B. */
TEST(ahci_swap_hands_the_msi_vector_over)
{
	struct ahci *a, *b;
	struct fres *b0;
	unsigned enables, timers, again, irqs;
	uint32_t ver;
	size_t len;
	void *st;
	int v;

	for (int kind = PCI_IRQ_MSI; kind <= PCI_IRQ_MSIX; kind++) {
		world();
		if (kind == PCI_IRQ_MSIX) {
			func.cap_msi = 0;
			func.cap_msix = 0x90;
			func.msix_entries = 1;
		}
		model_disk(0, 16384, 1);
		REQUIRE(boot(1) == PB_OK);
		REQUIRE((a = ahci_of(SELF, 0)) != NULL);
		REQUIRE(a->irq_kind == kind);
		REQUIRE((v = m_vector()) >= 0);
		CHECK_EQ_INT(a->vector, v);
		REQUIRE(start_as(SELF2, PB_START_STANDBY, 1) == PB_OK);
		REQUIRE((b = ahci_of(SELF2, 0)) != NULL);
		REQUIRE((b0 = res_named("block:sata0-2")) != NULL);
		CHECK_EQ_INT(quiesce_drained(SELF, &again), PB_OK);
		REQUIRE((st = export_from(SELF, &len, &ver)) != NULL);
		REQUIRE(ahci_release(SELF) == PB_OK);
		CHECK_EQ_INT(m_vector(), v);		/* left for B */
		CHECK(fvec[v].used && fvec[v].arg == a);
		enables = msi_enables;
		timers = timer_calls;
		REQUIRE(ahci_import(SELF2, st, len, ver) == PB_OK);
		CHECK_EQ_INT(b->adopt_vector, v);
		CHECK_EQ_INT(b->adopt_kind, kind);
		REQUIRE(ahci_activate(SELF2) == PB_OK);
		CHECK_EQ_INT(msi_enables, enables);
		CHECK_EQ_INT(timer_calls, timers);
		CHECK_EQ_INT(b->vector, v);
		CHECK_EQ_INT(b->irq_kind, kind);
		CHECK(fvec[v].arg == b);
		CHECK_EQ_INT(vectors_used(), 1);
		free(st);
		pump();
		CHECK(timers_armed() > 0);	/* armed after the blackout */
		CHECK_CONTAINS(log_text, kind == PCI_IRQ_MSI ?
		    "interrupts by MSI on vector" :
		    "interrupts by MSI-X on vector");
		/* A goes: the vector stays B's; B's disk works by
		 * interrupt. */
		ahci_stop(SELF);
		CHECK(fvec[v].used && fvec[v].arg == b);
		CHECK_EQ_INT(m_vector(), v);
		irqs = m.irqs;
		write_then_read(b0, 100, 8, 1, 1, BUS_ZERO, 0, 0);
		CHECK(m.irqs > irqs);
		CHECK_MSG(m.bad == 0, "model: %s", m.why);
		shutdown(SELF2);
		CHECK(clean_end());
	}
}

TEST(ahci_failed_swap_resumes_and_loses_nothing)
{
	enum { N = 12 };
	static struct tio t[N];
	struct fres *a0;
	unsigned again, ok = 0;
	uint32_t ver;
	size_t len;
	void *st;

	world();
	model_disk(0, 16384, 1);
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((a0 = res_named("block:sata0")) != NULL);
	m.per_run = 2;
	for (unsigned i = 0; i < N; i++) {
		tio_make(&t[i], BLOCK_WRITE, i * 20, 4, 512, 1, BUS_ZERO, 0, 0);
		memset(t[i].buf, 0x40 + i, t[i].len);
		REQUIRE(submit(a0, &t[i]) == PB_OK);
		if (i == 3) {
			REQUIRE(start_as(SELF2, PB_START_STANDBY, 1) == PB_OK);
			CHECK_EQ_INT(ahci_quiesce(SELF), PB_EAGAIN);
		}
	}
	CHECK_EQ_INT(quiesce_drained(SELF, &again), PB_OK);
	REQUIRE((st = export_from(SELF, &len, &ver)) != NULL);
	REQUIRE(ahci_release(SELF) == PB_OK);
	/* B refuses the state (another version): the swap fails. */
	CHECK_EQ_INT(ahci_import(SELF2, st, len, ver + 1), PB_ESTATE);
	ahci_stop(SELF2);
	REQUIRE(ahci_resume(SELF) == PB_OK);
	free(st);
	pump();
	wait_ms(5);
	for (unsigned i = 0; i < N; i++) {
		ok += t[i].done == 1 && t[i].r.status == PB_OK &&
		    same_as_disk(&t[i], 0);
		tio_free(&t[i]);
	}
	CHECK_EQ_INT(ok, N);
	CHECK(m.msi_on);
	CHECK(m.p[0].cmd & 1);
	CHECK_MSG(m.bad == 0, "model: %s", m.why);
	shutdown(SELF);
	CHECK(clean_end());
}

/* The hub after a module's fault: none of its code runs again (its
 * timers, work and interrupt handler are gone with it), and the pci
 * provider turns its function's bus mastering off. */
static void
never_called_again(struct pb_module *self)
{
	struct ahci *x = ahci_of(self, 0);

	fake_faulted(self, x);
	pci_cmd &= ~(uint32_t)PCI_CMD_MASTER;
}

/* A swaps to B, B serves, and B faults in its watch window: the hub
 * gives the disk back to A (B is never called again) and A resumes.  B's
 * list still runs, from B's command list; A must take the port back, or
 * its commands go where the HBA never looks (and, on the machine, B's
 * freed memory is what the HBA reads and writes).  With B's commands in
 * flight at the fault, A resets the device first. */
static void
resume_after_the_new_side_ran(int b_in_flight)
{
	enum { N = 8 };
	static struct tio t[N];
	struct fres *a0, *b0;
	unsigned again, resets;
	uint32_t ver;
	size_t len;
	void *st;

	world();
	model_disk(0, 16384, 1);
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((a0 = res_named("block:sata0")) != NULL);
	REQUIRE(start_as(SELF2, PB_START_STANDBY, 1) == PB_OK);
	REQUIRE((b0 = res_named("block:sata0-2")) != NULL);
	CHECK_EQ_INT(quiesce_drained(SELF, &again), PB_OK);
	REQUIRE((st = export_from(SELF, &len, &ver)) != NULL);
	REQUIRE(ahci_release(SELF) == PB_OK);
	REQUIRE(ahci_import(SELF2, st, len, ver) == PB_OK);
	REQUIRE(ahci_activate(SELF2) == PB_OK);
	free(st);
	pump();
	write_then_read(b0, 100, 8, 1, 1, BUS_ZERO, 0, 0);
	CHECK(m.p[0].cmd & 1);			/* B's list runs */
	if (b_in_flight) {
		m.p[0].d.silent = 1;		/* the disk holds them */
		for (unsigned i = 0; i < N; i++) {
			tio_make(&t[i], BLOCK_READ, i * 8, 8, 512, 1, BUS_ZERO,
			    0, 0);
			REQUIRE(submit(b0, &t[i]) == PB_OK);
		}
		pump();
		CHECK(m.p[0].ci != 0 || m.p[0].sact != 0);
	}
	/* B faulted: nothing of B runs again.  A resumes. */
	never_called_again(SELF2);
	resets = m.p[0].d.resets;
	m.p[0].d.silent = 0;
	list_ran_at_master_on = 0;
	REQUIRE(ahci_resume(SELF) == PB_OK);
	/* B's list stopped before bus mastering came on again. */
	CHECK(!list_ran_at_master_on);
	CHECK(pci_cmd & PCI_CMD_MASTER);
	pump();
	for (unsigned k = 0; k < 20; k++) {
		wait_ms(10);
		pump();
	}
	CHECK_EQ_INT(m.p[0].d.resets, resets + (b_in_flight ? 1 : 0));
	write_then_read(a0, 300, 16, 2, 3, BUS_ZERO, 0, 0);
	CHECK_MSG(m.bad == 0, "model: %s", m.why);
	for (unsigned i = 0; b_in_flight && i < N; i++)
		tio_free(&t[i]);
	shutdown(SELF);
	shutdown(SELF2);
	CHECK(clean_end());
}

TEST(ahci_resume_after_the_new_side_ran_takes_the_port_back)
{
	resume_after_the_new_side_ran(0);
}

TEST(ahci_resume_after_the_new_side_faulted_with_commands_out_resets)
{
	resume_after_the_new_side_ran(1);
}

/* From a provider that hands over no IDENTIFY results (the firmware's
 * efi-block): B resets the HBA, probes, then runs the requests. */
TEST(ahci_takeover_without_ahci_state_resets_and_probes)
{
	struct {
		struct block_state st;
		struct block_state_disk d;
		struct block_req *r[2];
	} s;
	struct tio t[2];
	struct fres *b0;
	unsigned hr;

	world();
	model_disk(0, 4096, 1);
	REQUIRE(boot(1) == PB_OK);
	shutdown(SELF);			/* the firmware's state, roughly */
	m.p[0].cmd |= 1u << 4;		/* FIS receive left on */
	REQUIRE(start_as(SELF2, PB_START_STANDBY, 1) == PB_OK);
	REQUIRE((b0 = res_named("block:sata0")) != NULL);
	for (unsigned i = 0; i < 2; i++)
		tio_make(&t[i], BLOCK_READ, 40 + i, 1, 512, 1, BUS_ZERO, 0, 0);
	memset(&s, 0, sizeof(s));
	s.st = (struct block_state){ 1, 2 };
	strcpy(s.d.path, "pci:00:1f.2/sata:0");
	s.d.nreq = 2;
	s.r[0] = &t[0].r;
	s.r[1] = &t[1].r;
	hr = m.hr_writes;
	REQUIRE(ahci_import(SELF2, &s, sizeof(s), BLOCK_STATE_VERSION) ==
	    PB_OK);
	REQUIRE(ahci_activate(SELF2) == PB_OK);
	pump();
	wait_ms(20);
	CHECK_EQ_INT(m.hr_writes, hr + 1);
	CHECK_STR(prop(b0, "size"), "2097152");
	for (unsigned i = 0; i < 2; i++) {
		CHECK_EQ_INT(t[i].done, 1);
		CHECK_EQ_INT(t[i].r.status, PB_OK);
		CHECK(same_as_disk(&t[i], 0));
		tio_free(&t[i]);
	}
	CHECK_MSG(m.bad == 0, "model: %s", m.why);
	shutdown(SELF2);
	CHECK(clean_end());
}

TEST(ahci_import_refuses_a_disk_it_does_not_have)
{
	struct {
		struct block_state st;
		struct block_state_disk d;
	} s;

	world();
	model_disk(0, 4096, 1);
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(start_as(SELF2, PB_START_STANDBY, 1) == PB_OK);
	memset(&s, 0, sizeof(s));
	s.st = (struct block_state){ 1, 0 };
	strcpy(s.d.path, "pci:00:1f.2/sata:4");
	CHECK_EQ_INT(ahci_import(SELF2, &s, sizeof(s), BLOCK_STATE_VERSION),
	    PB_ESTATE);
	s.st.ndisks = 1000;
	CHECK_EQ_INT(ahci_import(SELF2, &s, sizeof(s), BLOCK_STATE_VERSION),
	    PB_ESTATE);
	ahci_stop(SELF2);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(ahci_port_multiplier_declined)
{
	world();
	model_disk(0, 4096, 0);
	m.p[0].d.sig = 0x96690101u;
	declines("signature 0x96690101 is no disk");
	CHECK_EQ_INT(count_of(log_text, "declined"), 1);
}

/* Quiesce while a port recovers from an error: PB_EAGAIN until the
 * recovery ends (the request it put back waits in the queue), then a
 * failed swap's resume runs it. */
TEST(ahci_quiesce_waits_for_a_recovery)
{
	struct fres *a0;
	struct tio t;
	unsigned again;

	world();
	m.cap &= ~(1u << 30);
	model_disk(0, 4096, 0);
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((a0 = res_named("block:sata0")) != NULL);
	m.p[0].d.fail_next = 1;
	tio_make(&t, BLOCK_READ, 64, 16, 512, 2, BUS_ZERO, 0, 0);
	REQUIRE(submit(a0, &t) == PB_OK);
	pump();				/* the error: COMRESET is held 1 ms */
	CHECK_EQ_INT(ahci_of(SELF, 0)->port[0].state, PS_COMRESET);
	CHECK_EQ_INT(ahci_quiesce(SELF), PB_EAGAIN);
	CHECK_EQ_INT(quiesce_drained(SELF, &again), PB_OK);
	CHECK_EQ_INT(ahci_of(SELF, 0)->port[0].state, PS_READY);
	CHECK_EQ_INT(t.done, 0);		/* queued, not dispatched */
	REQUIRE(ahci_resume(SELF) == PB_OK);
	pump();
	CHECK_EQ_INT(t.done, 1);
	CHECK_EQ_INT(t.r.status, PB_OK);
	CHECK(same_as_disk(&t, 0));
	tio_free(&t);
	CHECK_MSG(m.bad == 0, "model: %s", m.why);
	shutdown(SELF);
	CHECK(clean_end());
}

/* A swap while a new disk is being probed: the old driver drops the
 * probe, the new one probes it again and publishes it. */
TEST(ahci_swap_drops_a_probe_the_next_driver_redoes)
{
	struct fres *b3;
	unsigned again;
	uint32_t ver;
	size_t len;
	void *st;

	world();
	model_disk(0, 4096, 1);
	REQUIRE(boot(1) == PB_OK);
	model_disk(3, 2048, 1);
	m.p[3].d.present = 0;
	m.p[3].ssts = 0;
	wait_ms(1100);			/* port 3 is empty */
	m.p[3].d.bsy_stuck = 1;		/* its probe waits for BSY */
	model_plug(3, 1);
	pump();
	wait_ms(100);
	CHECK(ahci_of(SELF, 0)->port[3].state > PS_SETTLE);
	CHECK(ahci_of(SELF, 0)->port[3].state < PS_READY);
	REQUIRE(start_as(SELF2, PB_START_STANDBY, 1) == PB_OK);
	CHECK_EQ_INT(quiesce_drained(SELF, &again), PB_OK);
	/* B published it in standby (A had not): as sata3, by path. */
	REQUIRE((b3 = res_named("block:sata3")) != NULL);
	CHECK(b3->owner == SELF2);
	CHECK_STR(prop(b3, "size"), "(none)");
	m.p[3].d.bsy_stuck = 0;
	REQUIRE((st = export_from(SELF, &len, &ver)) != NULL);
	REQUIRE(ahci_release(SELF) == PB_OK);
	REQUIRE(ahci_import(SELF2, st, len, ver) == PB_OK);
	REQUIRE(ahci_activate(SELF2) == PB_OK);
	free(st);
	ahci_stop(SELF);
	wait_ms(30);
	CHECK_STR(prop(b3, "size"), "1048576");
	CHECK_STR(prop(b3, "path"), "pci:00:1f.2/sata:3");
	write_then_read(res_named("block:sata0-2"), 8, 8, 1, 1, BUS_ZERO, 0, 0);
	CHECK_MSG(m.bad == 0, "model: %s", m.why);
	shutdown(SELF2);
	CHECK(clean_end());
}

/* The takeover of a parked firmware disk (hub/park.c): the hub gives the
 * running driver the disk's queued requests through import_state. */
TEST(ahci_running_import_takes_a_parked_disks_requests)
{
	struct {
		struct block_state st;
		struct block_state_disk d;
		struct block_req *r[3];
	} s;
	struct tio t[3];
	unsigned heap_running;		/* the port structures */

	world();
	model_disk(0, 4096, 1);
	REQUIRE(boot(1) == PB_OK);
	heap_running = heap_out;
	for (unsigned i = 0; i < 3; i++)
		tio_make(&t[i], i == 2 ? BLOCK_FLUSH : BLOCK_READ, 100 + i * 8,
		    i == 2 ? 0 : 8, 512, i == 2 ? 0 : 2, BUS_GIVEN, 0, 0);
	memset(&s, 0, sizeof(s));
	s.st = (struct block_state){ 1, 3 };
	strcpy(s.d.path, "pci:00:1f.2/sata:0");
	s.d.nreq = 3;
	for (unsigned i = 0; i < 3; i++)
		s.r[i] = &t[i].r;

	/* Refused, nothing taken: a request beyond the disk, a path that
	 * is not ours, another version. */
	t[1].r.lba = 4095;
	CHECK_EQ_INT(ahci_import(SELF, &s, sizeof(s), BLOCK_STATE_VERSION),
	    PB_ESTATE);
	t[1].r.lba = 108;
	strcpy(s.d.path, "pci:00:1f.2/sata:1");
	CHECK_EQ_INT(ahci_import(SELF, &s, sizeof(s), BLOCK_STATE_VERSION),
	    PB_ESTATE);
	strcpy(s.d.path, "pci:00:1f.2/sata:0");
	CHECK_EQ_INT(ahci_import(SELF, &s, sizeof(s), 7), PB_ESTATE);
	pump();
	for (unsigned i = 0; i < 3; i++)
		CHECK_EQ_INT(t[i].done, 0);
	/* and the room for imported requests, kept for the next import */
	CHECK_EQ_INT(heap_out, heap_running + 1);

	/* Taken: each runs and completes once. */
	CHECK_EQ_INT(ahci_import(SELF, &s, sizeof(s), BLOCK_STATE_VERSION),
	    PB_OK);
	pump();
	for (unsigned i = 0; i < 3; i++) {
		CHECK_EQ_INT(t[i].done, 1);
		CHECK_EQ_INT(t[i].r.status, PB_OK);
		if (i < 2)
			CHECK(same_as_disk(&t[i], 0));
		tio_free(&t[i]);
	}
	CHECK_EQ_INT(m.p[0].d.flushes, 1);
	CHECK_CONTAINS(log_text, "took 3 handed-over requests");
	CHECK_MSG(m.bad == 0, "model: %s", m.why);
	shutdown(SELF);
	CHECK(clean_end());
}

/* The hub gives an exporter back requests it handed over (the other
 * disks' at a takeover): they go first again and complete once. */
TEST(ahci_requests_given_back_run_once)
{
	struct fres *a0;
	struct tio t[3];
	unsigned again;
	uint32_t ver;
	size_t len;
	void *st;

	world();
	model_disk(0, 4096, 1);
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((a0 = res_named("block:sata0")) != NULL);
	CHECK_EQ_INT(quiesce_drained(SELF, &again), PB_OK);
	for (unsigned i = 0; i < 2; i++) {
		tio_make(&t[i], BLOCK_READ, i * 16, 8, 512, 1, BUS_ZERO, 0, 0);
		REQUIRE(submit(a0, &t[i]) == PB_OK);	/* queued */
	}
	REQUIRE((st = export_from(SELF, &len, &ver)) != NULL);
	CHECK_EQ_INT(ahci_of(SELF, 0)->port[0].nqueued, 0);	/* handed */
	CHECK_EQ_INT(ahci_import(SELF, st, len, ver), PB_OK);	/* back */
	free(st);
	tio_make(&t[2], BLOCK_READ, 64, 8, 512, 1, BUS_ZERO, 0, 0);
	REQUIRE(submit(a0, &t[2]) == PB_OK);
	REQUIRE(ahci_resume(SELF) == PB_OK);
	pump();
	for (unsigned i = 0; i < 3; i++) {
		CHECK_EQ_INT(t[i].done, 1);
		CHECK_EQ_INT(t[i].r.status, PB_OK);
		CHECK(same_as_disk(&t[i], 0));
		tio_free(&t[i]);
	}
	shutdown(SELF);
	CHECK(clean_end());
}

/* ---- a block client gone (PB_EV_CLIENT_GONE, gone.c) ---------------------- */

static char other_storage;
#define OTHER ((struct pb_module *)&other_storage)

/* The hub tells ahci that `client`'s connection to f goes: the
 * provider's own ops and ctx, the client named. */
static struct pb_conn
client_gone(struct fres *f, struct pb_module *client)
{
	struct pb_conn view = { f->ops, f->ctx, client, f->name };

	ahci_event(SELF, PB_EV_CLIENT_GONE, &view, 0);
	return view;
}

/*
 * Without NCQ the device runs one command at a time, held here: OTHER's
 * read runs, CLIENT's three wait behind it with OTHER's second between
 * them.  CLIENT goes: its queued requests leave without a byte written
 * into them, the hub is not asked to keep its memory (none of them is
 * in a slot), and OTHER's run, once each, right.
 */
TEST(ahci_clientgone_queued_requests_dropped_unwritten)
{
	struct fres *f;
	struct tio o0, o1, c[3], before[3];
	struct pb_conn view;

	world();
	model_disk(0, 4096, 0);
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:sata0")) != NULL);
	m.p[0].d.silent = 1;
	tio_make(&o0, BLOCK_READ, 0, 8, 512, 1, BUS_ZERO, 0, 0);
	o0.r.done.owner = OTHER;
	REQUIRE(submit(f, &o0) == PB_OK);
	pump();
	for (int i = 0; i < 3; i++) {
		tio_make(&c[i], BLOCK_READ, 8 + 8 * (uint64_t)i, 8, 512, 1,
		    BUS_ZERO, 0, 0);
		REQUIRE(submit(f, &c[i]) == PB_OK);
		if (i == 1) {
			tio_make(&o1, BLOCK_READ, 64, 8, 512, 1, BUS_ZERO, 0,
			    0);
			o1.r.done.owner = OTHER;
			REQUIRE(submit(f, &o1) == PB_OK);
		}
	}
	view = client_gone(f, CLIENT);
	CHECK(view.ops != NULL);
	memcpy(before, c, sizeof(c));
	m.p[0].d.silent = 0;
	wait_ms(100);
	pump();
	for (int i = 0; i < 3; i++) {
		CHECK_EQ_INT(c[i].done, 0);
		CHECK(memcmp(&c[i].r, &before[i].r, sizeof(c[i].r)) == 0);
		CHECK(c[i].buf[0] == 0xee);
	}
	CHECK_EQ_INT(o0.done, 1);
	CHECK_EQ_INT(o1.done, 1);
	CHECK_EQ_INT(o0.r.status, PB_OK);
	CHECK_EQ_INT(o1.r.status, PB_OK);
	CHECK(same_as_disk(&o0, 0) && same_as_disk(&o1, 0));
	CHECK_CONTAINS(log_text, "port 0: a client went: 3 of its queued "
	    "requests dropped");
	for (int i = 0; i < 3; i++)
		tio_free(&c[i]);
	tio_free(&o0);
	tio_free(&o1);
	shutdown(SELF);
	CHECK(clean_end());
}

/* The gone client's read is in a slot: the HBA moves its data until the
 * device ends it, so the hub is told to keep the client's memory
 * (conn->ops NULL); its queued one is dropped; OTHER's runs after. */
TEST(ahci_clientgone_command_in_a_slot_keeps_its_memory)
{
	struct fres *f;
	struct tio c0, c1, o0;
	struct pb_conn view;

	world();
	model_disk(0, 4096, 0);
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:sata0")) != NULL);
	m.p[0].d.silent = 1;
	tio_make(&c0, BLOCK_READ, 0, 8, 512, 1, BUS_ZERO, 0, 0);
	tio_make(&c1, BLOCK_READ, 8, 8, 512, 1, BUS_ZERO, 0, 0);
	tio_make(&o0, BLOCK_READ, 16, 8, 512, 1, BUS_ZERO, 0, 0);
	o0.r.done.owner = OTHER;
	REQUIRE(submit(f, &c0) == PB_OK);
	pump();
	REQUIRE(submit(f, &c1) == PB_OK);
	REQUIRE(submit(f, &o0) == PB_OK);
	view = client_gone(f, CLIENT);
	CHECK(view.ops == NULL);
	CHECK_CONTAINS(log_text, "port 0: a client went while the disk runs "
	    "its command: its memory stays out of use");
	m.p[0].d.silent = 0;
	wait_ms(100);
	pump();
	CHECK_EQ_INT(c1.done, 0);
	CHECK_EQ_INT(o0.done, 1);
	CHECK_EQ_INT(o0.r.status, PB_OK);
	CHECK(same_as_disk(&o0, 0));
	tio_free(&c0);
	tio_free(&c1);
	tio_free(&o0);
	shutdown(SELF);
	CHECK(clean_end());
}

/* Another client's going, an unnamed one (an older hub), or a ctx that
 * is none of ahci's ports drops nothing. */
TEST(ahci_clientgone_other_or_unnamed_drops_nothing)
{
	struct fres *f;
	struct tio t[2];
	struct pb_conn view;

	world();
	model_disk(0, 4096, 0);
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:sata0")) != NULL);
	m.p[0].d.silent = 1;
	for (int i = 0; i < 2; i++) {
		tio_make(&t[i], BLOCK_READ, 8 * (uint64_t)i, 8, 512, 1,
		    BUS_ZERO, 0, 0);
		REQUIRE(submit(f, &t[i]) == PB_OK);
	}
	pump();
	CHECK(client_gone(f, OTHER).ops != NULL);
	CHECK(client_gone(f, NULL).ops != NULL);
	view = (struct pb_conn){ f->ops, &view, CLIENT, f->name };
	ahci_event(SELF, PB_EV_CLIENT_GONE, &view, 0);
	CHECK(view.ops != NULL);
	m.p[0].d.silent = 0;
	wait_ms(100);
	pump();
	for (int i = 0; i < 2; i++) {
		CHECK_EQ_INT(t[i].done, 1);
		CHECK(same_as_disk(&t[i], 0));
		tio_free(&t[i]);
	}
	shutdown(SELF);
	CHECK(clean_end());
}
