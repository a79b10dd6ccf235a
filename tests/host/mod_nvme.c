/*
 * mod_nvme.c - the nvme module against a register- and queue-level model
 * of an NVMe controller with namespaces on RAM disks (nvmemodel.h), a
 * fake hub (fakehub.h: clock, timers, intrusive work, DMA with bus
 * addresses of its own), a fake `pci` function (class 01.08.02, BAR0,
 * MSI-X and MSI) and a fake `irq` provider.
 *
 * What is checked: the bring-up in the spec's order (a controller found
 * enabled, or still enabling, disabled first; CC's fields; the admin
 * commands), CAP.TO bounding a RDY that never comes, namespaces
 * published with their properties (512-byte and 4 KiB blocks, metadata
 * formats declined), reads and writes byte for byte through segments of
 * every shape (one page, an unaligned first segment, many small
 * segments that force a command each, pages scattered on the bus, more
 * than MDTS), the model checking every PRP rule; flush with and without
 * a volatile write cache, FUA, error statuses, a command that never
 * completes (reset, issued again; PB_EIO after NVME_TRIES), CFS, the
 * checks of submit, a small queue that fills, stop's shutdown
 * notification, polling and MSI, the swap (requests in flight handed to
 * a second instance and completed exactly once, and a failed swap that
 * resumes), a client going, the function going.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../abi/pbmod.h"

#define NVME_INSTANCES 2	/* the two sides of a swap */
#include "../../mods/nvme/admin.c"
#include "../../mods/nvme/ctrl.c"
#include "../../mods/nvme/gone.c"
#include "../../mods/nvme/identify.c"
#include "../../mods/nvme/io.c"
#include "../../mods/nvme/irq.c"
#include "../../mods/nvme/state.c"
#undef PB_MODULE
#define PB_MODULE(...) const struct pb_modinfo nvme_modinfo = { \
	.magic = PB_MODINFO_MAGIC, __VA_ARGS__ }
#include "../../mods/nvme/nvme.c"
#include "../../abi/rt/setting.c"
#include "../../abi/rt/blockstate.c"

#include "fakehub.h"
#include "nvmemodel.h"

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

static unsigned heap_calls;

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
	.timer_after = fake_timer_after,
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

/* ---- the fake pci function and irq provider ------------------------------ */

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

/* The admin SQ the controller ran on when bus mastering last came on
 * (0: it was disabled then). */
static uint64_t master_on_asq;

static int
fpci_enable(void *ctx, uint16_t bits, int on)
{
	if (on && (bits & PCI_CMD_MASTER) && !(pci_cmd & PCI_CMD_MASTER))
		master_on_asq = (m.cc & 1) ? (uint64_t)m.asq_hi << 32 |
		    m.asq_lo : 0;
	pci_cmd = on ? pci_cmd | bits : pci_cmd & ~(uint32_t)bits;
	return PB_OK;
}

static void *
fpci_map_bar(void *ctx, struct pb_module *client, unsigned bar, int cache)
{
	return bar == 0 && cache == PB_CACHE_UC ? bar0 : NULL;
}

static int
fpci_msi_enable(void *ctx, int kind, unsigned entry, uint64_t addr,
    uint32_t data)
{
	if (entry || addr != 0xfee00000u)
		return PB_EINVAL;
	if (kind == PCI_IRQ_MSIX && func.cap_msix)
		m.msix_on = 1;
	else if (kind == PCI_IRQ_MSI && func.cap_msi)
		m.msi_on = 1;
	else
		return PB_ENOTSUP;
	m.vector = (int)data;
	msi_enables++;
	return PB_OK;
}

static int
fpci_msi_disable(void *ctx)
{
	m.msix_on = m.msi_on = 0;
	return PB_OK;
}

static const struct pci_ops fpci_ops = {
	.info = fpci_info, .cfg_read = fpci_cfg_read, .enable = fpci_enable,
	.map_bar = fpci_map_bar, .msi_enable = fpci_msi_enable,
	.msi_disable = fpci_msi_disable,
};
static struct pb_conn pci_conn = { .ops = &fpci_ops, .res = "pci:00:04.0" };

static int
firq_msi_message(void *ctx, int vector, uint64_t *addr, uint32_t *data)
{
	*addr = 0xfee00000u;
	*data = (uint32_t)vector;
	return PB_OK;
}

static const struct irq_ops firq_ops = { .msi_message = firq_msi_message };
static struct pb_conn irq_conn = { .ops = &firq_ops, .res = "irq:apic" };

/* ---- running the machine ------------------------------------------------- */

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

/* Let ms milliseconds pass, `step` ms at a time. */
static void
wait_step(unsigned ms, unsigned step)
{
	for (unsigned i = 0; i < ms; i += step) {
		time_passes((uint64_t)step * 1000000);
		pump();
	}
}

static void
wait_ms(unsigned ms)
{
	wait_step(ms, 1);
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

/* A fresh world: the model as QEMU's controller with one namespace. */
static void
world(void)
{
	for (unsigned i = 0; i < NVME_INSTANCES; i++)
		memset(&instances[i], 0, sizeof(instances[i]));
	fakehub_reset();
	fake_dma_reset();
	model_reset();
	model_ns(1, 65536, 512);
	memset(fres, 0, sizeof(fres));
	cfg_props[0] = '\0';
	fake_boot_cfg = cfg_props;
	heap_out = 0;
	msi_enables = 0;
	memset(&func, 0, sizeof(func));
	func.class_code = 0x01, func.subclass = 0x08, func.prog_if = 0x02;
	func.vendor = 0x1b36, func.device = 0x0010;
	func.cap_msix = 0x40;
	func.msix_entries = 65;
	func.bars[0] = (struct pci_bar){ 0xfebd0000, M_BAR_SIZE,
	    PCI_BAR_MEM64, 0, 0, 0 };
	pci_cmd = PCI_CMD_MEM;
	hub.size = sizeof(struct pb_hub);
}

static int
start_as(struct pb_module *self, int mode, int with_irq)
{
	nvme_event(self, PB_EV_CONNECTED, &pci_conn, PB_REQ_BIND);
	if (with_irq)
		nvme_event(self, PB_EV_CONNECTED, &irq_conn, REQ_IRQ);
	return nvme_start(self, &hub, mode);
}

/* Start and let the bring-up run its course. */
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
	nvme_stop(self);
	pump();
}

static int
clean_end(void)
{
	return fdma_allocs == 0 && heap_out == 0 && timers_armed() == 0;
}

#define MODEL_OK() CHECK_MSG(m.bad == 0, "model: %s", m.why)

/* ---- requests ------------------------------------------------------------ */

struct tio {
	struct block_req r;
	struct block_seg seg[NVME_MAX_SEGS];
	unsigned done;
	uint8_t *mem;			/* the allocation */
	uint8_t *buf;			/* the data: mem + skew */
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
 * A request of `count` blocks of `bs` over a fresh buffer starting
 * `skew` bytes into a page, split into nseg segments (the last takes
 * the rest), each piece's bus address given or left to dma_addr; high:
 * above 4 GiB on the bus; scattered: every page apart on the bus.
 */
static void
tio_make(struct tio *t, int op, uint64_t lba, uint32_t count, uint32_t bs,
    unsigned nseg, int bus_mode, int high, int scattered, size_t skew)
{
	size_t len = (size_t)count * bs, per = nseg ? len / nseg / bs * bs : 0;
	size_t room = (skew + len + 4095) & ~(size_t)4095;

	memset(t, 0, sizeof(*t));
	t->len = len;
	if (len) {
		t->mem = aligned_alloc(4096, room);
		memset(t->mem, 0xee, room);
		t->buf = t->mem + skew;
		fake_dma_map(t->mem, room, high, scattered);
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
	if (t->mem) {
		fake_dma_unmap(t->mem);
		free(t->mem);
	}
	t->mem = t->buf = NULL;
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

static int
same_as_disk(const struct tio *t, uint32_t nsid)
{
	const struct mns *ns = &m.ns[nsid];

	return memcmp(t->buf, ns->data + t->r.lba * ns->bs, t->len) == 0;
}

/* Write a pattern through one shape of segments, read it back through
 * another; the commands each took (0: not checked). */
static void
write_then_read(struct fres *f, uint32_t nsid, uint64_t lba, uint32_t count,
    unsigned wseg, unsigned rseg, int bus_mode, int high, int scattered,
    size_t skew, unsigned want_cmds)
{
	uint32_t bs = m.ns[nsid].bs;
	struct tio w, r;
	unsigned cmds;

	tio_make(&w, BLOCK_WRITE, lba, count, bs, wseg, bus_mode, high,
	    scattered, skew);
	for (size_t i = 0; i < w.len; i++)
		w.buf[i] = (uint8_t)(i * 29 + lba + count);
	cmds = m.io_cmds;
	REQUIRE(submit(f, &w) == PB_OK);
	pump();
	wait_ms(2);			/* polling: the timer finds it */
	CHECK_EQ_INT(w.done, 1);
	CHECK_EQ_INT(w.r.status, PB_OK);
	CHECK(same_as_disk(&w, nsid));
	if (want_cmds)
		CHECK_EQ_INT(m.io_cmds - cmds, want_cmds);
	tio_make(&r, BLOCK_READ, lba, count, bs, rseg, bus_mode, high,
	    scattered, skew);
	REQUIRE(submit(f, &r) == PB_OK);
	pump();
	wait_ms(2);
	CHECK_EQ_INT(r.done, 1);
	CHECK_EQ_INT(r.r.status, PB_OK);
	CHECK(memcmp(r.buf, w.buf, w.len) == 0);
	tio_free(&w);
	tio_free(&r);
}

/* A register write of the bring-up trace: its index from `from`, or -1. */
static int
trace_find(unsigned from, uint32_t off)
{
	for (unsigned i = from; i < m.ntrace; i++)
		if (m.trace_off[i] == off)
			return (int)i;
	return -1;
}

/* ---- bring-up ------------------------------------------------------------ */

TEST(nvme_off_by_boot_cfg)
{
	world();
	strcpy(cfg_props, "nvme=no");
	CHECK_EQ_INT(start_as(SELF, PB_START_NORMAL, 1), PB_ENODEV);
	CHECK_CONTAINS(log_text, "off (boot.cfg nvme=no)");
	CHECK_EQ_INT(m.reg_writes, 0);
	CHECK(clean_end());
}

TEST(nvme_bringup_in_order)
{
	static const uint8_t order[] = { 0x06, 0x09, 0x05, 0x01, 0x06, 0x06 };
	struct fres *f;
	int i;

	world();
	REQUIRE(boot(1) == PB_OK);
	/* §7.6.1: AQA, ASQ and ACQ (low dword, then high), then CC. */
	CHECK_EQ_INT(m.ntrace, 6);
	CHECK_EQ_INT(m.trace_off[0], NVME_AQA);
	CHECK_EQ_INT(m.trace_val[0], (15u << 16) | 15u);
	CHECK_EQ_INT(m.trace_off[1], NVME_ASQ);
	CHECK_EQ_INT(m.trace_off[2], NVME_ASQ + 4);
	CHECK_EQ_INT(m.trace_off[3], NVME_ACQ);
	CHECK_EQ_INT(m.trace_off[4], NVME_ACQ + 4);
	CHECK_EQ_INT(m.trace_off[5], NVME_CC);
	CHECK_EQ_INT(m.trace_val[5], 0x00460001u);
	CHECK_EQ_INT(m.enables, 1);
	CHECK_EQ_INT(m.disables, 0);
	CHECK(pci_cmd & PCI_CMD_MASTER);
	CHECK(m.msix_on);
	/* Identify Controller, Number of Queues, Create CQ, Create SQ,
	 * the namespace list, Identify Namespace 1. */
	CHECK_EQ_INT(m.nadmin_ops, sizeof(order));
	for (i = 0; i < (int)sizeof(order) && i < (int)m.nadmin_ops; i++)
		CHECK_MSG(m.admin_ops[i] == order[i], "admin command %d: "
		    "opcode 0x%02x, not 0x%02x", i, m.admin_ops[i], order[i]);
	CHECK(m.q[1].cq_live && m.q[1].sq_live);
	CHECK(m.q[1].ien && m.q[1].iv == 0);
	CHECK_EQ_INT(m.q[1].sq_size, NVME_IO_Q);
	REQUIRE((f = res_named("block:nvme0n1")) != NULL);
	CHECK_CONTAINS(log_text, "nvme0: pci:00:04.0: NVMe 1.4, "
	    "'QEMU_NVMe_Ctrl' serial NVME0001, firmware 7.2.0, 1 namespace, "
	    "MSI-X on vector");
	CHECK_CONTAINS(log_text, "nvme0n1: 65536 blocks of 512 bytes");
	CHECK(m.irqs > 0);			/* admin completions by MSI-X */
	MODEL_OK();
	shutdown(SELF);
	CHECK(clean_end());
}

/* The firmware left it enabled and ready: CC.EN=0, RDY=0, then ours. */
TEST(nvme_bringup_disables_a_controller_found_enabled)
{
	world();
	m.aqa = AQA(2, 2);
	m.asq_lo = 0x1000, m.acq_lo = 0x2000;
	m_cc_write(CC_ENABLE);
	fake_ns += 10 * MS;
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(m.ntrace >= 7);
	CHECK_EQ_INT(m.trace_off[0], NVME_CC);
	CHECK_EQ_INT(m.trace_val[0] & CC_EN, 0);
	CHECK(trace_find(1, NVME_AQA) > 0);
	CHECK_EQ_INT(m.disables, 1);
	CHECK_EQ_INT(m.enables, 2);
	CHECK(res_named("block:nvme0n1") != NULL);
	MODEL_OK();
	shutdown(SELF);
	CHECK(clean_end());

	/* Still enabling (RDY not yet 1): it is let finish, then disabled
	 * (the model fails a CC.EN cleared before RDY). */
	world();
	m.rdy_delay = 20 * MS;
	m.aqa = AQA(2, 2);
	m.asq_lo = 0x1000, m.acq_lo = 0x2000;
	m_cc_write(CC_ENABLE);
	REQUIRE(start_as(SELF, PB_START_NORMAL, 1) == PB_OK);
	pump();
	CHECK_EQ_INT(m.disables, 0);
	wait_ms(100);
	CHECK_EQ_INT(m.disables, 1);
	CHECK(res_named("block:nvme0n1") != NULL);
	MODEL_OK();
	shutdown(SELF);
	CHECK(clean_end());
}

/* CAP.TO 2 (1 s): RDY never comes; declined after 1 s, naming CSTS. */
TEST(nvme_rdy_never_comes_declines_naming_csts)
{
	world();
	m.rdy_never = 1;
	m.cap_lo = (m.cap_lo & 0x00ffffffu) | 2u << 24;
	REQUIRE(start_as(SELF, PB_START_NORMAL, 1) == PB_OK);
	wait_step(900, 10);
	CHECK(!strstr(log_text, "declined"));
	wait_step(200, 10);
	CHECK_CONTAINS(log_text, "CSTS.RDY not 1 within 1000 ms of CC.EN=1 "
	    "(CSTS 0x00000000): declined");
	CHECK_EQ_INT(nres(), 0);
	CHECK_EQ_INT(timers_armed(), 0);
	CHECK_EQ_INT(m.cc & CC_EN, 0);		/* left disabled */
	CHECK_EQ_INT(pci_cmd & PCI_CMD_MASTER, 0);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(nvme_declines_mpsmin_above_4k_and_no_nvm_set)
{
	world();
	m.cap_hi |= 1u << 16;			/* MPSMIN 8 KiB */
	CHECK_EQ_INT(start_as(SELF, PB_START_NORMAL, 1), PB_ENOTSUP);
	CHECK_CONTAINS(log_text, "CAP.MPSMIN excludes 4 KiB");
	CHECK(clean_end());
	world();
	m.cap_hi &= ~(1u << 5);
	CHECK_EQ_INT(start_as(SELF, PB_START_NORMAL, 1), PB_ENOTSUP);
	CHECK_CONTAINS(log_text, "NVM command set");
	CHECK(clean_end());
}

TEST(nvme_namespaces_published_with_properties)
{
	struct block_info bi;
	struct fres *f1, *f3;

	world();
	m.nn = 3;
	model_ns(3, 2048, 4096);		/* 2 is inactive */
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f1 = res_named("block:nvme0n1")) != NULL);
	REQUIRE((f3 = res_named("block:nvme0n3")) != NULL);
	CHECK_EQ_INT(nres(), 2);
	CHECK_STR(prop(f1, "path"), "pci:00:04.0/nvme:1");
	CHECK_STR(prop(f1, "size"), "33554432");
	CHECK_STR(prop(f1, "bs"), "512");
	CHECK_STR(prop(f1, "model"), "QEMU_NVMe_Ctrl");
	CHECK_STR(prop(f1, "serial"), "NVME0001");
	CHECK_STR(prop(f1, "ro"), "0");
	CHECK_STR(prop(f1, "rm"), "0");
	CHECK_STR(prop(f3, "path"), "pci:00:04.0/nvme:3");
	CHECK_STR(prop(f3, "size"), "8388608");
	CHECK_STR(prop(f3, "bs"), "4096");
	REQUIRE(info_of(f1, &bi) == PB_OK);
	CHECK_EQ_INT(bi.block_size, 512);
	CHECK_EQ_INT(bi.block_count, 65536);
	CHECK_EQ_INT(bi.queue_depth, NVME_SLOTS);
	CHECK_EQ_INT(bi.max_segments, NVME_MAX_SEGS);
	CHECK_EQ_INT(bi.max_transfer, NVME_MAX_XFER);
	CHECK_EQ_INT(bi.align, 4);
	CHECK_EQ_INT(bi.seg_boundary, 0);
	CHECK_EQ_INT(bi.dma_limit, ~0ull);
	CHECK(bi.flags & BLOCK_FUA);
	CHECK(!(bi.flags & BLOCK_FLUSHES));	/* no volatile write cache */
	CHECK_CONTAINS(log_text, "2 namespaces");
	CHECK_CONTAINS(log_text, "nvme0n3: 2048 blocks of 4096 bytes");
	MODEL_OK();
	shutdown(SELF);
	CHECK(clean_end());
}

/* A controller before 1.1, or one that refuses CNS 02h: NSIDs 1..NN. */
TEST(nvme_namespace_scan_without_the_list)
{
	world();
	m.no_ns_list = 1;
	m.nn = 2;
	model_ns(2, 1024, 512);
	REQUIRE(boot(1) == PB_OK);
	CHECK(res_named("block:nvme0n1") != NULL);
	CHECK(res_named("block:nvme0n2") != NULL);
	MODEL_OK();
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(nvme_metadata_format_declined)
{
	world();
	m.ns[1].ms = 8;
	REQUIRE(boot(1) == PB_OK);
	CHECK_EQ_INT(nres(), 0);
	CHECK_CONTAINS(log_text, "namespace 1: its format carries metadata");
	CHECK_EQ_INT(count_of(log_text, "declined"), 1);
	shutdown(SELF);
	CHECK(clean_end());
}

/* ---- reads and writes ---------------------------------------------------- */

TEST(nvme_reads_writes_segments_of_every_shape)
{
	struct fres *f;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:nvme0n1")) != NULL);
	/* one page: PRP1 alone */
	write_then_read(f, 1, 0, 8, 1, 1, BUS_ZERO, 0, 0, 0, 1);
	/* two pages: PRP2 a data page */
	write_then_read(f, 1, 16, 16, 1, 1, BUS_ZERO, 0, 0, 0, 1);
	/* an unaligned first segment over three pages: a PRP list */
	write_then_read(f, 1, 100, 24, 1, 1, BUS_GIVEN, 1, 0, 512, 1);
	/* 16 segments of 512 bytes over two pages: each starts and ends
	 * inside a page but for the join at the page end: 15 commands */
	write_then_read(f, 1, 300, 16, 16, 16, BUS_ZERO, 0, 0, 0, 15);
	/* the same shape 4 bytes in: no join at all, 16 commands */
	write_then_read(f, 1, 340, 16, 16, 16, BUS_ZERO, 0, 0, 4, 16);
	/* two segments whose join is at a page end: one command */
	write_then_read(f, 1, 400, 16, 2, 2, BUS_ZERO, 0, 0, 0, 1);
	/* pages scattered on the bus, dma_addr's runs, odd start */
	write_then_read(f, 1, 1000, 64, 3, 7, BUS_ZERO, 1, 1, 1024, 0);
	/* 4 MiB: over MDTS (512 KiB), 8 commands and more */
	write_then_read(f, 1, 4000, 8192, 2, NVME_MAX_SEGS, BUS_ZERO, 0, 0,
	    0, 0);
	CHECK(m.io_cmds >= 16 + 8);
	MODEL_OK();
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(nvme_over_mdts_split_into_commands)
{
	struct fres *f;
	struct tio t;
	unsigned cmds;

	world();
	m.mdts = 1;				/* 8 KiB a command */
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:nvme0n1")) != NULL);
	tio_make(&t, BLOCK_READ, 77, 128, 512, 1, BUS_ZERO, 0, 0, 0);
	cmds = m.io_cmds;
	REQUIRE(submit(f, &t) == PB_OK);
	pump();
	CHECK_EQ_INT(t.done, 1);
	CHECK_EQ_INT(t.r.status, PB_OK);
	CHECK(same_as_disk(&t, 1));
	CHECK_EQ_INT(m.io_cmds - cmds, 8);	/* 64 KiB / 8 KiB */
	tio_free(&t);
	write_then_read(f, 1, 500, 40, 3, 1, BUS_ZERO, 1, 1, 4, 0);
	MODEL_OK();
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(nvme_4k_sector_namespace)
{
	struct fres *f;
	struct tio t;

	world();
	model_ns(1, 4096, 4096);
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:nvme0n1")) != NULL);
	CHECK_STR(prop(f, "bs"), "4096");
	write_then_read(f, 1, 0, 1, 1, 1, BUS_ZERO, 0, 0, 0, 1);
	write_then_read(f, 1, 10, 9, 3, 1, BUS_ZERO, 1, 1, 4, 0);
	write_then_read(f, 1, 4096 - 300, 300, 5, 3, BUS_GIVEN, 0, 0, 0, 0);
	/* 512-byte pieces of a 4 KiB-block disk: refused */
	tio_make(&t, BLOCK_READ, 0, 1, 4096, 1, BUS_ZERO, 0, 0, 0);
	t.seg[0].len = 512;
	CHECK_EQ_INT(submit(f, &t), PB_EINVAL);
	tio_free(&t);
	MODEL_OK();
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(nvme_flush_with_and_without_vwc)
{
	struct block_info bi;
	struct fres *f;
	struct tio fl;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:nvme0n1")) != NULL);
	tio_make(&fl, BLOCK_FLUSH, 0, 0, 512, 0, BUS_ZERO, 0, 0, 0);
	REQUIRE(submit(f, &fl) == PB_OK);
	pump();
	CHECK_EQ_INT(fl.done, 1);
	CHECK_EQ_INT(fl.r.status, PB_OK);
	CHECK_EQ_INT(m.flushes, 0);		/* nothing to flush */
	shutdown(SELF);
	CHECK(clean_end());

	world();
	m.vwc = 1;
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:nvme0n1")) != NULL);
	REQUIRE(info_of(f, &bi) == PB_OK);
	CHECK(bi.flags & BLOCK_FLUSHES);
	CHECK_CONTAINS(log_text, "volatile write cache");
	tio_make(&fl, BLOCK_FLUSH, 0, 0, 512, 0, BUS_ZERO, 0, 0, 0);
	REQUIRE(submit(f, &fl) == PB_OK);
	pump();
	CHECK_EQ_INT(fl.done, 1);
	CHECK_EQ_INT(fl.r.status, PB_OK);
	CHECK_EQ_INT(m.flushes, 1);
	MODEL_OK();
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(nvme_fua_bit)
{
	struct fres *f;
	struct tio w;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:nvme0n1")) != NULL);
	tio_make(&w, BLOCK_WRITE, 8, 8, 512, 1, BUS_ZERO, 0, 0, 0);
	w.r.flags = BLOCK_REQ_FUA;
	REQUIRE(submit(f, &w) == PB_OK);
	pump();
	CHECK_EQ_INT(w.done, 1);
	CHECK_EQ_INT(m.fua_writes, 1);
	CHECK_EQ_INT(m.writes, 1);
	w.r.op = BLOCK_READ;			/* FUA on a read: refused */
	CHECK_EQ_INT(submit(f, &w), PB_EINVAL);
	tio_free(&w);
	write_then_read(f, 1, 30, 8, 1, 1, BUS_ZERO, 0, 0, 0, 1);
	CHECK_EQ_INT(m.fua_writes, 1);		/* not without the flag */
	MODEL_OK();
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(nvme_submit_checks)
{
	struct fres *f;
	struct tio t;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:nvme0n1")) != NULL);
#define REFUSED(err, ...) do { \
	tio_make(&t, __VA_ARGS__); \
	CHECK_EQ_INT(submit(f, &t), err); \
	tio_free(&t); } while (0)
	REFUSED(PB_EINVAL, BLOCK_READ, 65536, 1, 512, 1, BUS_ZERO, 0, 0, 0);
	REFUSED(PB_EINVAL, BLOCK_READ, 65530, 7, 512, 1, BUS_ZERO, 0, 0, 0);
	REFUSED(PB_EINVAL, BLOCK_READ, ~0ull, 2, 512, 1, BUS_ZERO, 0, 0, 0);
	REFUSED(PB_EINVAL, BLOCK_READ, 0, 0, 512, 0, BUS_ZERO, 0, 0, 0);
	REFUSED(PB_EINVAL, BLOCK_READ, 0, 4, 512, 0, BUS_ZERO, 0, 0, 0);
	REFUSED(PB_EINVAL, BLOCK_READ, 0, 8193, 512, 2, BUS_ZERO, 0, 0, 0);
	REFUSED(PB_EINVAL, BLOCK_READ, 0, 8, 512, 1, BUS_ZERO, 0, 0, 2);
	tio_make(&t, BLOCK_WRITE, 0, 8, 512, 1, BUS_ZERO, 0, 0, 0);
	t.seg[0].len -= 512;			/* segments short of count */
	CHECK_EQ_INT(submit(f, &t), PB_EINVAL);
	t.seg[0].len = 8 * 512 - 4;		/* not whole blocks */
	CHECK_EQ_INT(submit(f, &t), PB_EINVAL);
	t.seg[0].len = 8 * 512;
	t.r.op = 9;
	CHECK_EQ_INT(submit(f, &t), PB_ENOTSUP);
	t.r.op = BLOCK_READ;
	t.r.size = 40;
	CHECK_EQ_INT(submit(f, &t), PB_EINVAL);
	t.r.size = sizeof(t.r);
	t.r.nseg = NVME_MAX_SEGS + 1;
	CHECK_EQ_INT(submit(f, &t), PB_EINVAL);
	t.r.nseg = 1;
	CHECK_EQ_INT(t.done, 0);
	tio_free(&t);
	{
		static uint8_t stack_buf[512] __attribute__((aligned(8)));
		struct tio u;

		tio_make(&u, BLOCK_READ, 0, 1, 512, 1, BUS_ZERO, 0, 0, 0);
		u.seg[0].va = stack_buf;	/* not DMA-able */
		CHECK_EQ_INT(submit(f, &u), PB_EINVAL);
		tio_free(&u);
	}
	CHECK_EQ_INT(m.io_cmds, 0);
	shutdown(SELF);
	CHECK(clean_end());
#undef REFUSED
}

/* MQES 3: four entries, three commands at once; the rest wait. */
TEST(nvme_queue_full_waits_for_slots)
{
	enum { N = 20 };
	static struct tio t[N];
	struct block_info bi;
	struct fres *f;
	unsigned ok = 0;

	world();
	m.cap_lo = (m.cap_lo & ~0xffffu) | 3;
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:nvme0n1")) != NULL);
	REQUIRE(info_of(f, &bi) == PB_OK);
	CHECK_EQ_INT(bi.queue_depth, 3);
	m.per_run = 1;
	for (unsigned i = 0; i < N; i++) {
		tio_make(&t[i], i & 1 ? BLOCK_WRITE : BLOCK_READ, i * 40,
		    1 + i % 9, 512, 1 + i % 3, BUS_ZERO, i & 1, i % 4 == 0, 0);
		if (i & 1)
			memset(t[i].buf, 0x30 + (int)i, t[i].len);
		REQUIRE(submit(f, &t[i]) == PB_OK);
	}
	CHECK_EQ_INT(m.inflight, 3);
	pump();
	for (unsigned i = 0; i < N; i++) {
		ok += t[i].done == 1 && t[i].r.status == PB_OK &&
		    same_as_disk(&t[i], 1);
		tio_free(&t[i]);
	}
	CHECK_EQ_INT(ok, N);
	CHECK_EQ_INT(m.max_inflight, 3);
	MODEL_OK();
	shutdown(SELF);
	CHECK(clean_end());
}

/* Many at once on QEMU's queue: every slot busy, never more. */
TEST(nvme_many_requests_in_flight)
{
	enum { N = 80 };
	static struct tio t[N];
	struct fres *f;
	unsigned ok = 0;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:nvme0n1")) != NULL);
	m.per_run = 5;
	for (unsigned i = 0; i < N; i++) {
		tio_make(&t[i], BLOCK_READ, i * 97, 1 + i % 16, 512, 1 + i % 4,
		    BUS_ZERO, i & 1, i % 3 == 0, (i % 5) * 4);
		REQUIRE(submit(f, &t[i]) == PB_OK);
	}
	CHECK_EQ_INT(m.max_inflight, NVME_SLOTS);
	pump();
	for (unsigned i = 0; i < N; i++) {
		ok += t[i].done == 1 && t[i].r.status == PB_OK &&
		    same_as_disk(&t[i], 1);
		tio_free(&t[i]);
	}
	CHECK_EQ_INT(ok, N);
	MODEL_OK();
	shutdown(SELF);
	CHECK(clean_end());
}

/* ---- errors -------------------------------------------------------------- */

TEST(nvme_error_status_is_eio)
{
	struct fres *f;
	struct tio t;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:nvme0n1")) != NULL);
	m.fail_next = 1;
	m.fail_status = 0x281;			/* unrecovered read error */
	tio_make(&t, BLOCK_READ, 64, 16, 512, 2, BUS_ZERO, 0, 0, 0);
	REQUIRE(submit(f, &t) == PB_OK);
	pump();
	CHECK_EQ_INT(t.done, 1);
	CHECK_EQ_INT(t.r.status, PB_EIO);
	CHECK_CONTAINS(log_text, "nvme0n1: read of LBA 64 (16 blocks) failed: "
	    "status 0x281 (SCT 2 SC 0x81");
	CHECK_EQ_INT(count_of(log_text, "failed: status"), 1);
	tio_free(&t);
	/* invalid field: PB_EINVAL */
	m.fail_next = 1;
	m.fail_status = 0x002;
	tio_make(&t, BLOCK_WRITE, 64, 16, 512, 1, BUS_ZERO, 0, 0, 0);
	REQUIRE(submit(f, &t) == PB_OK);
	pump();
	CHECK_EQ_INT(t.done, 1);
	CHECK_EQ_INT(t.r.status, PB_EINVAL);
	tio_free(&t);
	/* a media error in a range: only the request that touches it */
	m.ns[1].bad_from = 1000, m.ns[1].bad_to = 1001;
	tio_make(&t, BLOCK_READ, 990, 20, 512, 1, BUS_ZERO, 0, 0, 0);
	REQUIRE(submit(f, &t) == PB_OK);
	pump();
	CHECK_EQ_INT(t.r.status, PB_EIO);
	tio_free(&t);
	write_then_read(f, 1, 2000, 8, 1, 1, BUS_ZERO, 0, 0, 0, 1);
	CHECK_EQ_INT(m.disables, 0);		/* no reset for a status */
	MODEL_OK();
	shutdown(SELF);
	CHECK(clean_end());
}

/* A piece of a split request fails: the request fails once, after all
 * its pieces ended. */
TEST(nvme_split_request_fails_once)
{
	struct fres *f;
	struct tio t;

	world();
	m.mdts = 1;
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:nvme0n1")) != NULL);
	m.ns[1].bad_from = 40, m.ns[1].bad_to = 41;
	m.per_run = 2;
	tio_make(&t, BLOCK_READ, 0, 128, 512, 1, BUS_ZERO, 0, 0, 0);
	REQUIRE(submit(f, &t) == PB_OK);
	pump();
	CHECK_EQ_INT(t.done, 1);
	CHECK_EQ_INT(t.r.status, PB_EIO);
	CHECK_EQ_INT(nvme_of(SELF, 0)->inflight, 0);
	tio_free(&t);
	MODEL_OK();
	shutdown(SELF);
	CHECK(clean_end());
}

/* A command that never completes: at T_IO the controller is reset (no
 * Identify again), the request issued again, and it completes. */
TEST(nvme_command_timeout_resets_and_reissues)
{
	struct fres *f;
	struct tio t, u;
	unsigned ids;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:nvme0n1")) != NULL);
	ids = m.identifies;
	m.drop_next = 1;
	tio_make(&t, BLOCK_READ, 500, 8, 512, 1, BUS_ZERO, 0, 0, 0);
	tio_make(&u, BLOCK_READ, 600, 8, 512, 1, BUS_ZERO, 0, 0, 0);
	REQUIRE(submit(f, &t) == PB_OK);
	REQUIRE(submit(f, &u) == PB_OK);
	pump();
	CHECK_EQ_INT(t.done, 0);
	CHECK_EQ_INT(u.done, 1);		/* the other one is not held */
	wait_step(29000, 10);
	CHECK_EQ_INT(t.done, 0);
	CHECK_EQ_INT(m.disables, 0);
	wait_step(1100, 10);
	CHECK_CONTAINS(log_text, "nvme0: command CID 0 (opcode 0x02, LBA 500) "
	    "timed out after 30000 ms: resetting the controller (CSTS "
	    "0x00000001)");
	CHECK_EQ_INT(m.disables, 1);
	CHECK_EQ_INT(m.identifies, ids);	/* namespaces kept */
	CHECK_EQ_INT(t.done, 1);
	CHECK_EQ_INT(t.r.status, PB_OK);
	CHECK(same_as_disk(&t, 1));
	CHECK_EQ_INT(u.done, 1);
	tio_free(&t);
	tio_free(&u);
	write_then_read(f, 1, 40, 8, 1, 1, BUS_ZERO, 0, 0, 0, 1);
	MODEL_OK();
	shutdown(SELF);
	CHECK(clean_end());
}

/* It never completes however often issued: PB_EIO after NVME_TRIES
 * resets; the controller serves on. */
TEST(nvme_timeout_gives_up_after_tries)
{
	struct fres *f;
	struct tio t;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:nvme0n1")) != NULL);
	m.drop_next = NVME_TRIES;
	tio_make(&t, BLOCK_WRITE, 7, 8, 512, 1, BUS_ZERO, 0, 0, 0);
	REQUIRE(submit(f, &t) == PB_OK);
	wait_step(NVME_TRIES * 31000, 100);
	CHECK_EQ_INT(t.done, 1);
	CHECK_EQ_INT(t.r.status, PB_EIO);
	CHECK_EQ_INT(m.disables, NVME_TRIES);
	CHECK_CONTAINS(log_text, "write of LBA 7 (8 blocks) failed through 3 "
	    "resets: PB_EIO");
	tio_free(&t);
	wait_ms(50);
	write_then_read(f, 1, 40, 8, 1, 1, BUS_ZERO, 0, 0, 0, 1);
	MODEL_OK();
	shutdown(SELF);
	CHECK(clean_end());
}

/* CSTS.CFS with commands out: seen within T_WATCH, reset, re-issued. */
TEST(nvme_cfs_resets_and_reissues)
{
	struct fres *f;
	struct tio t;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:nvme0n1")) != NULL);
	m.cfs = 1;
	tio_make(&t, BLOCK_READ, 64, 32, 512, 2, BUS_ZERO, 0, 1, 0);
	REQUIRE(submit(f, &t) == PB_OK);
	pump();
	CHECK_EQ_INT(t.done, 0);
	wait_step(1100, 10);
	CHECK_CONTAINS(log_text, "CSTS.CFS: controller fatal status: resetting "
	    "the controller (CSTS 0x00000003)");
	CHECK_EQ_INT(m.disables, 1);
	CHECK_EQ_INT(t.done, 1);
	CHECK_EQ_INT(t.r.status, PB_OK);
	CHECK(same_as_disk(&t, 1));
	tio_free(&t);
	MODEL_OK();
	shutdown(SELF);
	CHECK(clean_end());
}

/* CFS that survives every reset: the controller is declined after
 * NVME_RESETS, its requests failed, its namespaces withdrawn. */
TEST(nvme_cfs_that_stays_declines)
{
	struct fres *f;
	struct tio t;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:nvme0n1")) != NULL);
	m.cfs = m.cfs_sticky = 1;
	tio_make(&t, BLOCK_READ, 64, 8, 512, 1, BUS_ZERO, 0, 0, 0);
	REQUIRE(submit(f, &t) == PB_OK);
	wait_step(30000, 10);
	CHECK_EQ_INT(t.done, 1);
	CHECK_EQ_INT(t.r.status, PB_EIO);
	CHECK_CONTAINS(log_text, "declined");
	CHECK(res_named("block:nvme0n1") == NULL);
	CHECK_EQ_INT(timers_armed(), 0);
	tio_free(&t);
	shutdown(SELF);
	CHECK(clean_end());
}

/* ---- stop, interrupts ---------------------------------------------------- */

TEST(nvme_stop_sends_shutdown_notification)
{
	unsigned from;
	int shn, off;

	world();
	m.vwc = 1;
	REQUIRE(boot(1) == PB_OK);
	from = m.ntrace;
	nvme_stop(SELF);
	CHECK_EQ_INT(m.shutdowns, 1);
	CHECK_EQ_INT(m.shst, 0);		/* reset by the disable after */
	REQUIRE((shn = trace_find(from, NVME_CC)) >= 0);
	CHECK_EQ_INT(m.trace_val[shn] & CC_SHN_MASK, CC_SHN_NORMAL);
	CHECK(m.trace_val[shn] & CC_EN);
	REQUIRE((off = trace_find((unsigned)shn + 1, NVME_CC)) >= 0);
	CHECK_EQ_INT(m.trace_val[off] & CC_EN, 0);
	CHECK_EQ_INT(m.cc & CC_EN, 0);
	CHECK(!m.msix_on);
	CHECK_EQ_INT(pci_cmd & PCI_CMD_MASTER, 0);
	CHECK(!strstr(log_text, "SHST"));
	CHECK_EQ_INT(nres(), 0);
	CHECK_EQ_INT(vectors_used(), 0);
	MODEL_OK();
	CHECK(clean_end());

	/* A shutdown that never completes: bounded, said, disabled. */
	world();
	m.shn_never = 1;
	REQUIRE(boot(1) == PB_OK);
	nvme_stop(SELF);
	CHECK_CONTAINS(log_text, "CSTS.SHST not 10b within 2000 ms of the "
	    "shutdown notification");
	CHECK_EQ_INT(m.cc & CC_EN, 0);
	CHECK(clean_end());
}

/* Requests still queued at stop end PB_ECANCELED, once. */
TEST(nvme_stop_cancels_what_is_left)
{
	struct fres *f;
	struct tio t;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:nvme0n1")) != NULL);
	m.drop_next = 1;
	tio_make(&t, BLOCK_READ, 64, 8, 512, 1, BUS_ZERO, 0, 0, 0);
	REQUIRE(submit(f, &t) == PB_OK);
	pump();
	shutdown(SELF);
	CHECK_EQ_INT(t.done, 1);
	CHECK_EQ_INT(t.r.status, PB_ECANCELED);
	tio_free(&t);
	CHECK(clean_end());
}

TEST(nvme_polls_without_msix)
{
	struct fres *f;

	world();
	REQUIRE(boot(0) == PB_OK);		/* no irq provider */
	REQUIRE((f = res_named("block:nvme0n1")) != NULL);
	CHECK_CONTAINS(log_text, "polling (no irq provider)");
	CHECK(!m.msix_on && !m.msi_on);
	write_then_read(f, 1, 10, 24, 2, 3, BUS_ZERO, 0, 1, 0, 0);
	CHECK_EQ_INT(m.irqs, 0);
	/* idle: no timer while nothing is out */
	wait_ms(5);
	CHECK_EQ_INT(timers_armed(), 0);
	/* the irq provider comes: MSI-X from then on */
	nvme_event(SELF, PB_EV_CONNECTED, &irq_conn, REQ_IRQ);
	CHECK(m.msix_on);
	write_then_read(f, 1, 100, 8, 1, 1, BUS_ZERO, 0, 0, 0, 1);
	CHECK(m.irqs > 0);
	MODEL_OK();
	shutdown(SELF);
	CHECK(clean_end());

	/* MSI only */
	world();
	func.cap_msix = 0;
	func.cap_msi = 0x50;
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:nvme0n1")) != NULL);
	CHECK_CONTAINS(log_text, "MSI on vector");
	CHECK(m.msi_on);
	write_then_read(f, 1, 10, 8, 1, 1, BUS_ZERO, 0, 0, 0, 1);
	MODEL_OK();
	shutdown(SELF);
	CHECK(clean_end());
}

/* ---- swaps --------------------------------------------------------------- */

static int
quiesce_drained(struct pb_module *self, unsigned *again)
{
	int err;

	*again = 0;
	while ((err = nvme_quiesce(self)) == PB_EAGAIN && *again < 1000) {
		(*again)++;
		pump();
		wait_ms(1);
	}
	return err;
}

static void *
export_from(struct pb_module *self, size_t *len, uint32_t *ver)
{
	void *buf;

	if (nvme_export(self, NULL, 0, len, ver) != PB_OK)
		return NULL;
	buf = malloc(*len);
	if (nvme_export(self, buf, *len, len, ver) != PB_OK) {
		free(buf);
		return NULL;
	}
	return buf;
}

TEST(nvme_swap_hands_requests_over_exactly_once)
{
	enum { N = 40 };
	static struct tio t[N];
	struct fres *a1, *b1;
	unsigned again, ids, writes, ok = 0;
	uint32_t ver;
	size_t len;
	void *st;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((a1 = res_named("block:nvme0n1")) != NULL);
	m.per_run = 4;
	for (unsigned i = 0; i < N / 2; i++) {
		tio_make(&t[i], BLOCK_READ, i * 50, 8 + i, 512, 1, BUS_ZERO,
		    0, 0, 0);
		REQUIRE(submit(a1, &t[i]) == PB_OK);
	}
	CHECK_EQ_INT(m.inflight, N / 2);

	/* B in standby: publishes by path what A publishes, writes nothing */
	writes = m.reg_writes;
	REQUIRE(start_as(SELF2, PB_START_STANDBY, 1) == PB_OK);
	CHECK_EQ_INT(m.reg_writes, writes);
	REQUIRE((b1 = res_named("block:nvme1n1")) != NULL);
	CHECK_STR(prop(b1, "path"), "pci:00:04.0/nvme:1");
	CHECK_STR(prop(b1, "size"), "(none)");

	/* A drains: those on the device finish, new ones wait */
	CHECK_EQ_INT(nvme_quiesce(SELF), PB_EAGAIN);
	for (unsigned i = N / 2; i < N; i++) {
		tio_make(&t[i], BLOCK_READ, i * 50, 8, 512, 1, BUS_ZERO, 0, 0,
		    0);
		REQUIRE(submit(a1, &t[i]) == PB_OK);
	}
	CHECK_EQ_INT(quiesce_drained(SELF, &again), PB_OK);
	CHECK(again > 0);
	CHECK_EQ_INT(m.inflight, 0);
	REQUIRE((st = export_from(SELF, &len, &ver)) != NULL);
	CHECK_EQ_INT(ver, BLOCK_STATE_VERSION);
	CHECK_EQ_INT(((struct block_state *)st)->ndisks, 1);
	CHECK_EQ_INT(((struct block_state *)st)->nreq, N / 2);
	REQUIRE(nvme_release(SELF) == PB_OK);

	/* B takes the controller: reset with its queues, no Identify */
	ids = m.identifies;
	REQUIRE(nvme_import(SELF2, st, len, ver) == PB_OK);
	REQUIRE(nvme_activate(SELF2) == PB_OK);
	free(st);
	pump();
	wait_ms(20);
	CHECK_EQ_INT(m.disables, 1);
	CHECK_EQ_INT(m.identifies, ids);
	CHECK_STR(prop(b1, "size"), "33554432");
	CHECK_CONTAINS(log_text, "nvme1: took over 1 namespace and 20 requests "
	    "with their Identify data; MSI-X on vector");
	for (unsigned i = 0; i < N; i++)
		ok += t[i].done == 1 && t[i].r.status == PB_OK &&
		    same_as_disk(&t[i], 1);
	CHECK_EQ_INT(ok, N);

	/* A goes (after the watch window): it touches nothing */
	writes = m.reg_writes;
	nvme_stop(SELF);
	CHECK_EQ_INT(m.reg_writes, writes);
	CHECK(res_named("block:nvme0n1") == NULL);
	for (unsigned i = 0; i < N; i++)
		CHECK_EQ_INT(t[i].done, 1);	/* nothing twice */
	CHECK(m.msix_on);
	CHECK_EQ_INT(vectors_used(), 1);

	/* B serves, by interrupt */
	m.per_run = 0;
	write_then_read(b1, 1, 300, 16, 2, 3, BUS_ZERO, 1, 0, 0, 0);
	for (unsigned i = 0; i < N; i++)
		tio_free(&t[i]);
	MODEL_OK();
	shutdown(SELF2);
	CHECK(clean_end());
}

TEST(nvme_failed_swap_resumes_and_loses_nothing)
{
	enum { N = 12 };
	static struct tio t[N];
	struct fres *a1;
	unsigned again, ok = 0;
	uint32_t ver;
	size_t len;
	void *st;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((a1 = res_named("block:nvme0n1")) != NULL);
	m.per_run = 2;
	for (unsigned i = 0; i < N; i++) {
		tio_make(&t[i], BLOCK_WRITE, i * 20, 4, 512, 1, BUS_ZERO, 0, 0,
		    0);
		memset(t[i].buf, 0x40 + (int)i, t[i].len);
		REQUIRE(submit(a1, &t[i]) == PB_OK);
		if (i == 3) {
			REQUIRE(start_as(SELF2, PB_START_STANDBY, 1) == PB_OK);
			CHECK_EQ_INT(nvme_quiesce(SELF), PB_EAGAIN);
		}
	}
	CHECK_EQ_INT(quiesce_drained(SELF, &again), PB_OK);
	REQUIRE((st = export_from(SELF, &len, &ver)) != NULL);
	REQUIRE(nvme_release(SELF) == PB_OK);
	/* B refuses the state (another version): the swap fails */
	CHECK_EQ_INT(nvme_import(SELF2, st, len, ver + 1), PB_ESTATE);
	nvme_stop(SELF2);
	REQUIRE(nvme_resume(SELF) == PB_OK);
	free(st);
	pump();
	for (unsigned i = 0; i < N; i++) {
		ok += t[i].done == 1 && t[i].r.status == PB_OK &&
		    same_as_disk(&t[i], 1);
		tio_free(&t[i]);
	}
	CHECK_EQ_INT(ok, N);
	CHECK(m.msix_on);
	CHECK_EQ_INT(m.disables, 0);
	MODEL_OK();
	shutdown(SELF);
	CHECK(clean_end());
}

/* B activated (the controller reset with B's queues), then the swap
 * fails after: A resumes and brings the controller up with its own. */
TEST(nvme_resume_after_the_new_side_touched_the_controller)
{
	struct fres *a1;
	struct tio t;
	unsigned again;
	uint32_t ver;
	size_t len;
	void *st;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((a1 = res_named("block:nvme0n1")) != NULL);
	REQUIRE(start_as(SELF2, PB_START_STANDBY, 1) == PB_OK);
	CHECK_EQ_INT(quiesce_drained(SELF, &again), PB_OK);
	tio_make(&t, BLOCK_READ, 5, 8, 512, 1, BUS_ZERO, 0, 0, 0);
	REQUIRE(submit(a1, &t) == PB_OK);	/* queued */
	REQUIRE((st = export_from(SELF, &len, &ver)) != NULL);
	REQUIRE(nvme_release(SELF) == PB_OK);
	REQUIRE(nvme_import(SELF2, st, len, ver) == PB_OK);
	REQUIRE(nvme_activate(SELF2) == PB_OK);
	nvme_stop(SELF2);			/* the rebind failed */
	REQUIRE(nvme_resume(SELF) == PB_OK);
	free(st);
	pump();
	wait_ms(30);
	CHECK_CONTAINS(log_text, "the controller changed while handed over");
	CHECK_EQ_INT(t.done, 1);
	CHECK_EQ_INT(t.r.status, PB_OK);
	CHECK(same_as_disk(&t, 1));
	tio_free(&t);
	MODEL_OK();
	shutdown(SELF);
	CHECK(clean_end());
}

/* The hub after a module's fault: none of its code runs again (its
 * timers, work and interrupt handler go with it), and its device is
 * silenced (the pci provider: bus mastering, MSI and MSI-X off). */
static void
never_called_again(struct pb_module *self)
{
	struct nvme *x = nvme_of(self, 0);

	fake_faulted(self, x);
	/* Its handler goes; the vector stays allocated (A's, adopted) */
	for (int v = FAKE_VEC_FIRST; v < FAKE_VEC_END; v++)
		if (fvec[v].used && fvec[v].arg == x)
			fvec[v].fn = NULL, fvec[v].arg = NULL;
	fpci_enable(NULL, PCI_CMD_MASTER, 0);
	fpci_msi_disable(NULL);
}

/* A swaps to B, B serves, and B faults in its watch window: the hub
 * gives the namespace back to A (B is never called again) and A resumes.
 * The controller runs, enabled and ready, on B's admin and I/O queues in
 * B's memory (freed with B on the machine); A must bring it up again
 * with its own queues, or its doorbells index B's rings.  With B's
 * commands on the device at the fault, the reset drops them. */
static void
resume_after_the_new_side_ran(int b_in_flight)
{
	enum { N = 6 };
	static struct tio t[N], w, r;
	struct fres *a1, *b1;
	unsigned again, cmds;
	uint32_t ver;
	size_t len;
	void *st;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((a1 = res_named("block:nvme0n1")) != NULL);
	write_then_read(a1, 1, 40, 8, 1, 1, BUS_ZERO, 0, 0, 0, 0);
	REQUIRE(start_as(SELF2, PB_START_STANDBY, 1) == PB_OK);
	REQUIRE((b1 = res_named("block:nvme1n1")) != NULL);
	CHECK_EQ_INT(quiesce_drained(SELF, &again), PB_OK);
	REQUIRE((st = export_from(SELF, &len, &ver)) != NULL);
	REQUIRE(nvme_release(SELF) == PB_OK);
	REQUIRE(nvme_import(SELF2, st, len, ver) == PB_OK);
	REQUIRE(nvme_activate(SELF2) == PB_OK);
	free(st);
	nvme_event(SELF, PB_EV_DISCONNECTED, &pci_conn, PB_REQ_BIND);
	pump();
	wait_ms(20);
	for (unsigned k = 0; k < 3; k++)	/* B's rings move on */
		write_then_read(b1, 1, 100 + k * 16, 8, 1, 1, BUS_ZERO, 0, 0,
		    0, 0);
	if (b_in_flight) {
		m.drop_next = N;		/* the device holds them */
		for (unsigned i = 0; i < N; i++) {
			tio_make(&t[i], BLOCK_READ, i * 8, 8, 512, 1, BUS_ZERO,
			    0, 0, 0);
			REQUIRE(submit(b1, &t[i]) == PB_OK);
		}
		pump();
		CHECK(m.inflight > 0);
	}
	/* B faulted: nothing of B runs again.  A gets the function back and
	 * resumes. */
	never_called_again(SELF2);
	nvme_event(SELF, PB_EV_CONNECTED, &pci_conn, PB_REQ_BIND);
	master_on_asq = 1;
	REQUIRE(nvme_resume(SELF) == PB_OK);
	pump();
	wait_ms(30);
	/* nothing of B's reached memory: bus mastering came on with the
	 * controller disabled, B's queues gone */
	CHECK_EQ_INT(master_on_asq, 0);
	/* A serves: a write, then a read of it, each one command */
	cmds = m.io_cmds;
	tio_make(&w, BLOCK_WRITE, 300, 16, 512, 1, BUS_ZERO, 0, 0, 0);
	memset(w.buf, 0x5a, w.len);
	REQUIRE(submit(a1, &w) == PB_OK);
	pump();
	wait_ms(2);
	CHECK_EQ_INT(w.done, 1);
	CHECK_EQ_INT(w.r.status, PB_OK);
	CHECK(same_as_disk(&w, 1));
	tio_make(&r, BLOCK_READ, 300, 16, 512, 1, BUS_ZERO, 0, 0, 0);
	REQUIRE(submit(a1, &r) == PB_OK);
	pump();
	wait_ms(2);
	CHECK_EQ_INT(r.done, 1);
	CHECK(r.done == 1 && memcmp(r.buf, w.buf, w.len) == 0);
	CHECK_EQ_INT(m.io_cmds - cmds, 2);
	CHECK_EQ_INT(m.inflight, 0);		/* B's went with the reset */
	CHECK(pci_cmd & PCI_CMD_MASTER);
	CHECK(m.msix_on);			/* programmed again */
	MODEL_OK();
	shutdown(SELF);
	never_called_again(SELF2);
	nvme_stop(SELF2);	/* only to free it: the controller is off */
	tio_free(&w);
	tio_free(&r);
	for (unsigned i = 0; b_in_flight && i < N; i++)
		tio_free(&t[i]);
	CHECK(clean_end());
}

TEST(nvme_resume_after_the_new_side_ran_takes_the_controller_back)
{
	resume_after_the_new_side_ran(0);
}

TEST(nvme_resume_after_the_new_side_faulted_with_commands_out_resets)
{
	resume_after_the_new_side_ran(1);
}

TEST(nvme_import_refuses_a_disk_it_does_not_have)
{
	struct {
		struct block_state st;
		struct block_state_disk d;
	} s;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(start_as(SELF2, PB_START_STANDBY, 1) == PB_OK);
	memset(&s, 0, sizeof(s));
	s.st = (struct block_state){ 1, 0 };
	strcpy(s.d.path, "pci:00:04.0/nvme:2");
	CHECK_EQ_INT(nvme_import(SELF2, &s, sizeof(s), BLOCK_STATE_VERSION),
	    PB_ESTATE);
	s.st.ndisks = 1000;
	CHECK_EQ_INT(nvme_import(SELF2, &s, sizeof(s), BLOCK_STATE_VERSION),
	    PB_ESTATE);
	nvme_stop(SELF2);
	shutdown(SELF);
	CHECK(clean_end());
}

/* From a provider that hands over no Identify data (efi-block's state):
 * B identifies afresh, then runs the requests. */
TEST(nvme_takeover_without_nvme_state_identifies)
{
	struct {
		struct block_state st;
		struct block_state_disk d;
		struct block_req *r[2];
	} s;
	struct tio t[2];
	struct fres *b1;
	unsigned ids;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(start_as(SELF2, PB_START_STANDBY, 1) == PB_OK);
	REQUIRE((b1 = res_named("block:nvme1n1")) != NULL);
	nvme_stop(SELF);			/* the old side, roughly */
	for (unsigned i = 0; i < 2; i++)
		tio_make(&t[i], BLOCK_READ, 40 + i, 1, 512, 1, BUS_ZERO, 0, 0,
		    0);
	memset(&s, 0, sizeof(s));
	s.st = (struct block_state){ 1, 2 };
	strcpy(s.d.path, "pci:00:04.0/nvme:1");
	s.d.nreq = 2;
	s.r[0] = &t[0].r;
	s.r[1] = &t[1].r;
	ids = m.identifies;
	REQUIRE(nvme_import(SELF2, &s, sizeof(s), BLOCK_STATE_VERSION) ==
	    PB_OK);
	REQUIRE(nvme_activate(SELF2) == PB_OK);
	pump();
	wait_ms(20);
	CHECK(m.identifies > ids);
	CHECK_STR(prop(b1, "size"), "33554432");
	for (unsigned i = 0; i < 2; i++) {
		CHECK_EQ_INT(t[i].done, 1);
		CHECK_EQ_INT(t[i].r.status, PB_OK);
		CHECK(same_as_disk(&t[i], 1));
		tio_free(&t[i]);
	}
	MODEL_OK();
	shutdown(SELF2);
	CHECK(clean_end());
}

/* The hub gives an exporter back requests it handed over (docs/abi.md):
 * they go first again and complete once, before one submitted after. */
TEST(nvme_requests_given_back_run_once)
{
	struct fres *a1;
	struct tio t[3];
	unsigned again;
	uint32_t ver;
	size_t len;
	void *st;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((a1 = res_named("block:nvme0n1")) != NULL);
	CHECK_EQ_INT(quiesce_drained(SELF, &again), PB_OK);
	for (unsigned i = 0; i < 2; i++) {
		tio_make(&t[i], BLOCK_READ, i * 16, 8, 512, 1, BUS_ZERO, 0, 0,
		    0);
		REQUIRE(submit(a1, &t[i]) == PB_OK);	/* queued */
	}
	REQUIRE((st = export_from(SELF, &len, &ver)) != NULL);
	CHECK_EQ_INT(nvme_of(SELF, 0)->nqueued, 0);	/* handed over */
	CHECK_EQ_INT(nvme_import(SELF, st, len, ver), PB_OK);	/* back */
	free(st);
	tio_make(&t[2], BLOCK_READ, 64, 8, 512, 1, BUS_ZERO, 0, 0, 0);
	REQUIRE(submit(a1, &t[2]) == PB_OK);
	REQUIRE(nvme_resume(SELF) == PB_OK);
	pump();
	for (unsigned i = 0; i < 3; i++) {
		CHECK_EQ_INT(t[i].done, 1);
		CHECK_EQ_INT(t[i].r.status, PB_OK);
		CHECK(same_as_disk(&t[i], 1));
		tio_free(&t[i]);
	}
	CHECK_CONTAINS(log_text, "took 2 handed-over requests");
	MODEL_OK();
	shutdown(SELF);
	CHECK(clean_end());
}

/* ---- a block client gone (PB_EV_CLIENT_GONE, gone.c) --------------------- */

static char other_storage;
#define OTHER ((struct pb_module *)&other_storage)

static struct pb_conn
client_gone(struct fres *f, struct pb_module *client)
{
	struct pb_conn view = { f->ops, f->ctx, client, f->name };

	nvme_event(SELF, PB_EV_CLIENT_GONE, &view, 0);
	return view;
}

/* CLIENT's queued requests leave unwritten; its one on the device keeps
 * its memory out of use (conn->ops NULL); OTHER's run once each. */
TEST(nvme_client_gone)
{
	struct fres *f;
	struct tio c0, c[3], o0, before[3];
	struct pb_conn view;

	world();
	m.cap_lo = (m.cap_lo & ~0xffffu) | 1;	/* one command at a time */
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:nvme0n1")) != NULL);
	m.drop_next = 0;
	m.per_run = 1;
	tio_make(&o0, BLOCK_READ, 0, 8, 512, 1, BUS_ZERO, 0, 0, 0);
	o0.r.done.owner = OTHER;
	REQUIRE(submit(f, &o0) == PB_OK);	/* on the device */
	for (int i = 0; i < 3; i++) {
		tio_make(&c[i], BLOCK_READ, 8 + 8 * (uint64_t)i, 8, 512, 1,
		    BUS_ZERO, 0, 0, 0);
		REQUIRE(submit(f, &c[i]) == PB_OK);
	}
	view = client_gone(f, CLIENT);
	CHECK(view.ops != NULL);
	memcpy(before, c, sizeof(c));
	pump();
	for (int i = 0; i < 3; i++) {
		CHECK_EQ_INT(c[i].done, 0);
		CHECK(memcmp(&c[i].r, &before[i].r, sizeof(c[i].r)) == 0);
		CHECK(c[i].buf[0] == 0xee);
	}
	CHECK_EQ_INT(o0.done, 1);
	CHECK(same_as_disk(&o0, 1));
	CHECK_CONTAINS(log_text, "nvme0n1: a client went: 3 of its queued "
	    "requests dropped");
	/* CLIENT's command on the device */
	m.drop_next = 1;
	tio_make(&c0, BLOCK_READ, 64, 8, 512, 1, BUS_ZERO, 0, 0, 0);
	REQUIRE(submit(f, &c0) == PB_OK);
	pump();
	view = client_gone(f, CLIENT);
	CHECK(view.ops == NULL);
	CHECK_CONTAINS(log_text, "its memory stays out of use");
	CHECK(client_gone(f, OTHER).ops != NULL);
	for (int i = 0; i < 3; i++)
		tio_free(&c[i]);
	tio_free(&o0);
	shutdown(SELF);
	CHECK_EQ_INT(c0.done, 1);		/* cancelled at stop */
	tio_free(&c0);
	CHECK(clean_end());
}

/* The PCI function goes: requests cancelled, namespaces withdrawn,
 * nothing touches the registers after. */
TEST(nvme_pci_gone)
{
	struct fres *f;
	struct tio t;
	unsigned writes;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("block:nvme0n1")) != NULL);
	m.drop_next = 1;
	tio_make(&t, BLOCK_READ, 64, 8, 512, 1, BUS_ZERO, 0, 0, 0);
	REQUIRE(submit(f, &t) == PB_OK);
	pump();
	writes = m.reg_writes;
	nvme_event(SELF, PB_EV_DISCONNECTED, &pci_conn, PB_REQ_BIND);
	pump();
	CHECK_EQ_INT(t.done, 1);
	CHECK_EQ_INT(t.r.status, PB_ECANCELED);
	CHECK_EQ_INT(nres(), 0);
	CHECK_CONTAINS(log_text, "pci:00:04.0 went away");
	nvme_stop(SELF);
	CHECK_EQ_INT(m.reg_writes, writes);
	tio_free(&t);
	CHECK(clean_end());
}
