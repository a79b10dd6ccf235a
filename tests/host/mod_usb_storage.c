/*
 * mod_usb_storage.c - the usb-storage module against a model of a USB
 * mass storage stick (botmodel.h: Bulk-Only Transport and SCSI over
 * images in memory) behind the shared fake `usb` interface (fakeusb.h),
 * with a fake hub (fakehub.h's clock, timers, intrusive work and DMA with
 * bus addresses of its own, and here: resources, connections by hand,
 * the inventory).
 *
 * What is checked: the attach (GET MAX LUN, INQUIRY, TEST UNIT READY
 * with UNIT ATTENTION first, READ CAPACITY 10 and 16, MODE SENSE) and the
 * resource's properties and log line; reads and writes of several
 * segments against the image (client bus addresses and dma_addr runs),
 * READ/WRITE(16) past 2^32 blocks, flush; many requests queued (order,
 * exactly once); every misbehaviour of the issue: a CSW with a wrong tag,
 * a wrong signature, a residue larger than asked, a phase error (reset
 * recovery, the request issued again), stalls on the data stage and on
 * the CSW, a short read, GET MAX LUN stalling or answering > 15, several
 * LUNs (a CD among them), a write-protected medium, a LUN becoming ready,
 * without a medium, needing START STOP UNIT, a stick gone mid-transfer,
 * one that stops answering; the port reset after a failed reset recovery
 * (the stick back, the reset failing, refused by the bus, timing out,
 * once until the stick answers again); several sticks; the swap (quiesce with a
 * command on the wire, export, a new instance in standby, import,
 * activate, every request once and in order) and a failed swap resuming;
 * submit's refusals; stop.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../abi/pbmod.h"

#include "../../mods/usb-storage/bot.c"
#include "../../mods/usb-storage/cmd.c"
#include "../../mods/usb-storage/dev.c"
#include "../../mods/usb-storage/gone.c"
#include "../../mods/usb-storage/lun.c"
#include "../../mods/usb-storage/map.c"
#include "../../mods/usb-storage/probe.c"
#include "../../mods/usb-storage/queue.c"
#include "../../mods/usb-storage/sane.c"
#include "../../mods/usb-storage/scsi.c"
#include "../../mods/usb-storage/sense.c"
#include "../../mods/usb-storage/state.c"
#undef PB_MODULE
#define PB_MODULE(...) const struct pb_modinfo usbstor_modinfo = { \
	.magic = PB_MODINFO_MAGIC, __VA_ARGS__ }
#include "../../mods/usb-storage/usbstor.c"
#include "../../abi/rt/setting.c"

#include "fakehub.h"
#include "fakeusb.h"
#include "botmodel.h"

/* ---- the fake hub: resources, connections, the inventory ---------------- */

#define FRES 48
#define FCONN 16

static struct fres {
	int used;
	char name[64];
	char iface[16];
	char owner[24];
	char props[256];
	const void *ops;
	void *ctx;
	unsigned clients;
	unsigned limit;		/* clients it takes, 0: any */
	int usb_1_0;		/* a `usb` 1.0 bus's: no 1.1 clients */
} fres[FRES];

static struct fconn {
	int used;
	struct pb_conn pub;
	struct fres *r;
} fconn[FCONN];

static unsigned heap_out, subscribes, disconnects;

static struct fres *
res_named(const char *name)
{
	for (unsigned i = 0; i < FRES; i++)
		if (fres[i].used && strcmp(fres[i].name, name) == 0)
			return &fres[i];
	return NULL;
}

static struct fres *
res_add(const char *iface, const char *name, const char *owner,
    const char *props, const void *ops, void *ctx)
{
	for (unsigned i = 0; i < FRES; i++)
		if (!fres[i].used) {
			struct fres *f = &fres[i];

			memset(f, 0, sizeof(*f));
			f->used = 1;
			snprintf(f->iface, sizeof(f->iface), "%s", iface);
			snprintf(f->name, sizeof(f->name), "%s", name);
			snprintf(f->owner, sizeof(f->owner), "%s", owner);
			snprintf(f->props, sizeof(f->props), "%s", props);
			f->ops = ops;
			f->ctx = ctx;
			return f;
		}
	return NULL;
}

static struct pb_resource *
fake_publish(struct pb_module *self, const char *iface, const char *name,
    const char *props, const void *ops, void *ctx)
{
	char full[64];
	struct fres *f;

	snprintf(full, sizeof(full), "%s:%s", iface, name);
	/* Two instances of one module (a swap) may publish the same names. */
	f = res_add(iface, full, USBSTOR_NAME, props, ops, ctx);
	return (struct pb_resource *)f;
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
	struct fres *f = (struct fres *)r;

	if (!f->used)
		return PB_EINVAL;
	memset(f, 0, sizeof(*f));
	return PB_OK;
}

static int
fake_res_info_sized(const char *module, unsigned index,
    struct pb_res_info *out)
{
	for (unsigned i = 0; i < FRES; i++) {
		struct fres *f = &fres[i];

		if (!f->used || (module && strcmp(module, f->owner) != 0) ||
		    index-- > 0)
			continue;
		*out = (struct pb_res_info){ .struct_size = sizeof(*out),
		    .name = f->name, .iface = f->iface, .props = f->props,
		    .owner = f->owner, .clients = f->clients };
		return PB_OK;
	}
	return PB_ENOENT;
}

static int
fake_res_info_all(const char *module, unsigned index, struct pb_res_info *out)
{
	if (module && strcmp(module, "hub") == 0)
		return fake_res_info(module, index, out);	/* config:boot */
	return fake_res_info_sized(module, index, out);
}

static struct pb_conn *
conn_to(struct fres *r)
{
	if (!r || (r->limit && r->clients >= r->limit))
		return NULL;
	for (unsigned i = 0; i < FCONN; i++)
		if (!fconn[i].used) {
			fconn[i] = (struct fconn){ 1, { r->ops, r->ctx, NULL,
			    r->name }, r };
			r->clients++;
			return &fconn[i].pub;
		}
	return NULL;
}

static struct pb_conn *
fake_connect(struct pb_module *self, const char *iface, uint16_t major,
    uint16_t minor, const char *resname)
{
	struct fres *r = resname ? res_named(resname) : NULL;

	if (!r || strcmp(r->iface, iface) != 0 || (r->usb_1_0 && minor > 0))
		return NULL;
	return conn_to(r);
}

static void
conn_close(struct pb_conn *c)
{
	struct fconn *f = (struct fconn *)((char *)c -
	    offsetof(struct fconn, pub));

	if (f->used && f->r)
		f->r->clients--;
	f->used = 0;
}

static void
fake_disconnect(struct pb_module *self, struct pb_conn *c)
{
	disconnects++;
	conn_close(c);
}

static int
fake_subscribe(struct pb_module *self, const char *iface)
{
	subscribes++;
	return strcmp(iface, USB_IFACE) == 0 ? PB_OK : PB_EINVAL;
}

static void *
fake_alloc(struct pb_module *self, size_t n)
{
	heap_out++;
	return malloc(n);
}

static void
fake_free(struct pb_module *self, void *p)
{
	heap_out--;
	free(p);
}

static struct pb_hub hub = {
	.size = sizeof(struct pb_hub),
	.abi_major = PB_ABI_MAJOR,
	.abi_minor = PB_ABI_MINOR,
	.log = fake_log,
	.alloc = fake_alloc,
	.free = fake_free,
	.publish = fake_publish,
	.set_props = fake_set_props,
	.withdraw = fake_withdraw,
	.connect = fake_connect,
	.disconnect = fake_disconnect,
	.subscribe = fake_subscribe,
	.now_ns = fake_now,
	.timer_after = fake_timer_after,
	.timer_cancel = fake_timer_cancel,
	.res_info = fake_res_info_all,
	.dma_alloc = fake_dma_alloc,
	.dma_free = fake_dma_free,
	.dma_addr = fake_dma_addr,
	.work_init = fake_work_init,
	.work_post = fake_work_post,
	.work_cancel = fake_work_cancel,
	.res_info_sized = fake_res_info_sized,
};

/* ---- the rig: sticks, the module, client requests --------------------- */

#define STICKS 3
#define DEV0 "pci:00:04.0/usb:1"
#define DEV1 "pci:00:04.0/usb:2"
#define DEV2 "pci:00:04.0/usb:3.2"

static struct botmodel stick[STICKS];
static const char *const stick_dev[STICKS] = { DEV0, DEV1, DEV2 };

/* Stick k's `usb` resource, as the bus publishes it. */
static struct fres *
stick_publish(unsigned k)
{
	char name[32], props[256];

	snprintf(name, sizeof(name), "usb:1-%u-0", k + 1);
	snprintf(props, sizeof(props), "vid=46f4 pid=0001 class=08 "
	    "subclass=06 protocol=50 if=0 speed=high path=%s/if:0 dev=%s "
	    "serial=1-0000:00:04.0-%u", stick_dev[k], stick_dev[k], k + 1);
	return res_add(USB_IFACE, name, "usb", props, &fakeusb_ops,
	    &stick[k].usb);
}

static void
reset_all(void)
{
	fakehub_reset();
	fake_dma_reset();
	for (unsigned k = 0; k < STICKS; k++)
		bm_free(&stick[k]);
	memset(fres, 0, sizeof(fres));
	memset(fconn, 0, sizeof(fconn));
	memset(&us, 0, sizeof(us));
	heap_out = subscribes = disconnects = 0;
	fake_boot_cfg = "";
	hub = (struct pb_hub){ .size = sizeof(struct pb_hub),
	    .abi_major = PB_ABI_MAJOR, .abi_minor = PB_ABI_MINOR,
	    .log = fake_log, .alloc = fake_alloc, .free = fake_free,
	    .publish = fake_publish, .set_props = fake_set_props,
	    .withdraw = fake_withdraw, .connect = fake_connect,
	    .disconnect = fake_disconnect, .subscribe = fake_subscribe,
	    .now_ns = fake_now, .timer_after = fake_timer_after,
	    .timer_cancel = fake_timer_cancel, .res_info = fake_res_info_all,
	    .dma_alloc = fake_dma_alloc, .dma_free = fake_dma_free,
	    .dma_addr = fake_dma_addr, .work_init = fake_work_init,
	    .work_post = fake_work_post, .work_cancel = fake_work_cancel,
	    .res_info_sized = fake_res_info_sized };
}

/* The bind rule's connection to stick k, told before start. */
static struct pb_conn *
bind_stick(unsigned k, struct fres *r)
{
	struct pb_conn *c = conn_to(r);

	ops.event(SELF, PB_EV_CONNECTED, c, PB_REQ_BIND);
	return c;
}

/* Let the event loop run: posted work, and timers due after ns. */
static void
settle(void)
{
	run_posted();
}

/* Stick 0 (as the test set its model up) bound, the module started and
 * the attach run: 0 when it did not start. */
static int
rig_attach(void)
{
	bind_stick(0, stick_publish(0));
	if (ops.start(SELF, &hub, PB_START_NORMAL) != PB_OK)
		return 0;
	settle();
	return 1;
}

/* The same with one LUN of blocks x 512 on stick 0. */
static int
rig_one(uint64_t blocks)
{
	reset_all();
	bm_init(&stick[0], blocks, 512);
	return rig_attach();
}

static void
rig_end(void)
{
	if (us.hub)
		ops.stop(SELF);
	settle();
	fake_dma_reset();
	for (unsigned k = 0; k < STICKS; k++)
		bm_free(&stick[k]);
}

static const struct block_ops *
bops(struct fres *f)
{
	return f->ops;
}

static int
info_of(const char *name, struct block_info *bi)
{
	struct fres *f = res_named(name);

	*bi = (struct block_info){ .size = sizeof(*bi) };
	return f ? bops(f)->info(f->ctx, bi) : PB_ENOENT;
}

/* A client's request with its buffer in up to 8 segments. */
struct creq {
	struct block_req r;
	struct block_seg seg[8];
	uint8_t *buf;
	size_t len;
	unsigned runs;
	int id;
};

static int done_ids[512];
static unsigned ndone;

static void
creq_done(void *arg)
{
	struct creq *c = arg;

	c->runs++;
	if (ndone < 512)
		done_ids[ndone++] = c->id;
}

/*
 * A read or write of count blocks of bs at lba, its buffer split in nseg
 * segments.  bus: the client gives bus addresses (its buffer mapped
 * whole); else the driver asks dma_addr (the buffer's pages scattered).
 */
static void
creq_init(struct creq *c, int id, int op, uint64_t lba, uint32_t count,
    uint32_t bs, unsigned nseg, int bus)
{
	size_t len = (size_t)count * bs, off = 0;
	uint64_t base;

	memset(c, 0, sizeof(*c));
	c->id = id;
	c->len = len;
	c->buf = len ? aligned_alloc(4096, (len + 4095) & ~(size_t)4095) : NULL;
	if (len)
		memset(c->buf, 0xee, len);
	base = len ? fake_dma_map(c->buf, len, 1, !bus) : 0;
	c->r = (struct block_req){ .size = sizeof(c->r), .op = (uint16_t)op,
	    .lba = lba, .count = count, .segs = c->seg };
	fake_work_init(NULL, &c->r.done, creq_done, c);
	for (unsigned i = 0; len && i < nseg; i++) {
		size_t n = i + 1 == nseg ? len - off :
		    (count / nseg) * (size_t)bs;

		c->seg[i] = (struct block_seg){ c->buf + off,
		    bus ? base + off : 0, (uint32_t)n, 0 };
		off += n;
	}
	c->r.nseg = len ? (uint16_t)nseg : 0;
}

static void
creq_free(struct creq *c)
{
	if (c->buf) {
		fake_dma_unmap(c->buf);
		free(c->buf);
	}
	c->buf = NULL;
}

static int
submit_to(const char *name, struct creq *c)
{
	struct fres *f = res_named(name);

	return f ? bops(f)->submit(f->ctx, &c->r) : PB_ENOENT;
}

/* Does c's buffer hold blocks lba.. of stick k's LUN l (image or pattern)? */
static int
matches(const struct creq *c, unsigned k, unsigned l)
{
	const struct bm_lun *u = &stick[k].lun[l];

	for (size_t i = 0; i < c->len; i++) {
		uint64_t b = c->r.lba + i / u->bs;
		uint8_t want = u->image ? u->image[b * u->bs + i % u->bs] :
		    bm_pattern(b, (uint32_t)(i % u->bs));

		if (c->buf[i] != want)
			return 0;
	}
	return 1;
}

/* ---- attach ---------------------------------------------------------- */

TEST(usbstor_attach_one_lun)
{
	struct block_info bi;
	struct fres *f;
	static const uint8_t want_ops[] = { SCSI_INQUIRY, SCSI_TEST_UNIT_READY,
	    SCSI_REQUEST_SENSE, SCSI_TEST_UNIT_READY, SCSI_READ_CAPACITY_10,
	    SCSI_MODE_SENSE_6 };

	reset_all();
	bm_init(&stick[0], 131072, 512);
	stick[0].lun[0].ua = 1;		/* the power-on UNIT ATTENTION */
	bind_stick(0, stick_publish(0));
	REQUIRE(ops.start(SELF, &hub, PB_START_NORMAL) == PB_OK);
	CHECK_EQ_INT(subscribes, 1);
	settle();
	f = res_named("block:usb0");
	REQUIRE(f != NULL);
	CHECK_STR(f->props, "path=pci:00:04.0/usb:1/lun:0 size=67108864 bs=512 "
	    "model=QEMU_QEMU_HARDDISK rev=2.5+ serial=1-0000:00:04.0-1 ro=0 "
	    "rm=1");
	CHECK_CONTAINS(log_text, "block:usb0: QEMU QEMU HARDDISK 2.5+, 64 MiB "
	    "(131072 x 512), path=pci:00:04.0/usb:1/lun:0\n");
	CHECK_CONTAINS(log_text, "UNIT ATTENTION, power on, reset, or bus "
	    "device reset occurred (29/00): again");
	CHECK_EQ_INT(stick[0].max_lun_asks, 1);
	CHECK_EQ_INT(stick[0].nops, sizeof(want_ops));
	CHECK(memcmp(stick[0].ops, want_ops, sizeof(want_ops)) == 0);
	CHECK_EQ_INT(stick[0].bad_bus, 0);
	REQUIRE(info_of("block:usb0", &bi) == PB_OK);
	CHECK_EQ_INT(bi.block_size, 512);
	CHECK_EQ_INT(bi.block_count, 131072);
	CHECK_EQ_INT(bi.max_transfer, 1 << 20);
	CHECK_EQ_INT(bi.max_segments, 64);
	CHECK_EQ_INT(bi.queue_depth, 1);
	CHECK_EQ_INT(bi.flags, BLOCK_REMOVABLE | BLOCK_FLUSHES);
	CHECK(bi.dma_limit == ~0ull);
	CHECK(res_named("block:usb0.l1") == NULL);
	rig_end();
}

TEST(usbstor_attach_capacity16_and_read16)
{
	uint64_t blocks = (1ull << 32) + 4096;
	struct block_info bi;
	struct creq c;

	REQUIRE(rig_one(blocks));
	CHECK_EQ_INT(stick[0].cap10, 1);
	CHECK_EQ_INT(stick[0].cap16, 1);
	REQUIRE(info_of("block:usb0", &bi) == PB_OK);
	CHECK(bi.block_count == blocks);
	CHECK_CONTAINS(log_text, "2.0 TiB (4294971392 x 512)");
	/* Past 2^32 blocks: READ(16). */
	creq_init(&c, 1, BLOCK_READ, (1ull << 32) + 5, 8, 512, 2, 1);
	REQUIRE(submit_to("block:usb0", &c) == PB_OK);
	settle();
	CHECK_EQ_INT(c.runs, 1);
	CHECK_EQ_INT(c.r.status, PB_OK);
	CHECK_EQ_INT(stick[0].read16, 1);
	CHECK(matches(&c, 0, 0));
	creq_free(&c);
	rig_end();
}

/* ---- reads, writes, flushes, the queue ---------------------------------- */

TEST(usbstor_write_read_flush_segments)
{
	struct creq w, r, f;
	const uint8_t *img;

	REQUIRE(rig_one(4096));
	img = stick[0].lun[0].image;
	/* A write of 24 blocks in 3 segments with the client's bus
	 * addresses, then a read of them in 4 segments through dma_addr
	 * (pages scattered on the bus). */
	creq_init(&w, 1, BLOCK_WRITE, 100, 24, 512, 3, 1);
	for (size_t i = 0; i < w.len; i++)
		w.buf[i] = (uint8_t)(i * 5 + 1);
	REQUIRE(submit_to("block:usb0", &w) == PB_OK);
	creq_init(&r, 2, BLOCK_READ, 100, 24, 512, 4, 0);
	REQUIRE(submit_to("block:usb0", &r) == PB_OK);
	creq_init(&f, 3, BLOCK_FLUSH, 0, 0, 512, 0, 1);
	REQUIRE(submit_to("block:usb0", &f) == PB_OK);
	CHECK_EQ_INT(w.runs + r.runs + f.runs, 0);	/* completions are work */
	settle();
	CHECK_EQ_INT(w.runs, 1);
	CHECK_EQ_INT(r.runs, 1);
	CHECK_EQ_INT(f.runs, 1);
	CHECK_EQ_INT(w.r.status, PB_OK);
	CHECK_EQ_INT(r.r.status, PB_OK);
	CHECK_EQ_INT(f.r.status, PB_OK);
	CHECK(memcmp(img + 100 * 512, w.buf, w.len) == 0);
	CHECK(memcmp(r.buf, w.buf, w.len) == 0);
	CHECK(img[99 * 512 + 511] == bm_pattern(99, 511));
	CHECK(img[124 * 512] == bm_pattern(124, 0));
	CHECK_EQ_INT(stick[0].syncs, 1);
	CHECK_EQ_INT(stick[0].writes, 1);
	CHECK_EQ_INT(stick[0].bad_bus, 0);
	CHECK_EQ_INT(ndone >= 3, 1);
	CHECK_EQ_INT(done_ids[ndone - 3], 1);
	CHECK_EQ_INT(done_ids[ndone - 2], 2);
	CHECK_EQ_INT(done_ids[ndone - 1], 3);
	creq_free(&w);
	creq_free(&r);
	creq_free(&f);
	rig_end();
}

TEST(usbstor_many_requests_in_order_once)
{
	enum { N = 40 };
	static struct creq c[N];
	unsigned first;

	REQUIRE(rig_one(8192));
	first = ndone;
	for (unsigned i = 0; i < N; i++) {
		creq_init(&c[i], (int)i, BLOCK_READ, (i * 37) % 8000, 8 + i % 4,
		    512, 1 + i % 3, i & 1);
		REQUIRE(submit_to("block:usb0", &c[i]) == PB_OK);
	}
	settle();
	CHECK_EQ_INT(ndone - first, N);
	for (unsigned i = 0; i < N; i++) {
		CHECK_MSG(c[i].runs == 1, "request %u ran %u times", i, c[i].runs);
		CHECK_EQ_INT(c[i].r.status, PB_OK);
		CHECK_MSG(matches(&c[i], 0, 0), "request %u data", i);
		CHECK_EQ_INT(done_ids[first + i], (int)i);
		creq_free(&c[i]);
	}
	CHECK_EQ_INT(stick[0].reads, N);
	CHECK_EQ_INT(stick[0].bad_bus, 0);
	rig_end();
}

TEST(usbstor_flush_without_write_cache)
{
	struct creq f;

	reset_all();
	bm_init(&stick[0], 1024, 512);
	stick[0].lun[0].wce = 0;
	REQUIRE(rig_attach());
	creq_init(&f, 1, BLOCK_FLUSH, 0, 0, 512, 0, 1);
	REQUIRE(submit_to("block:usb0", &f) == PB_OK);
	settle();
	CHECK_EQ_INT(f.runs, 1);
	CHECK_EQ_INT(f.r.status, PB_OK);
	CHECK_EQ_INT(stick[0].syncs, 0);	/* nothing to flush */
	rig_end();

	/* A cache, but SYNCHRONIZE CACHE refused: done, and no more asked. */
	reset_all();
	bm_init(&stick[0], 1024, 512);
	stick[0].lun[0].sync_illegal = 1;
	REQUIRE(rig_attach());
	creq_init(&f, 1, BLOCK_FLUSH, 0, 0, 512, 0, 1);
	REQUIRE(submit_to("block:usb0", &f) == PB_OK);
	settle();
	CHECK_EQ_INT(f.r.status, PB_OK);
	CHECK_CONTAINS(log_text, "SYNCHRONIZE CACHE is not supported");
	f.runs = 0;
	REQUIRE(submit_to("block:usb0", &f) == PB_OK);
	settle();
	CHECK_EQ_INT(f.runs, 1);
	CHECK_EQ_INT(stick[0].syncs, 1);
	rig_end();
}

TEST(usbstor_submit_refusals)
{
	struct creq c;
	struct block_seg big[65];
	unsigned before;

	REQUIRE(rig_one(1024));
	before = stick[0].cbws;
	creq_init(&c, 1, BLOCK_READ, 1020, 8, 512, 1, 1);	/* past the end */
	CHECK_EQ_INT(submit_to("block:usb0", &c), PB_EINVAL);
	c.r.lba = 0;
	c.r.count = 7;				/* segments are 8 blocks */
	CHECK_EQ_INT(submit_to("block:usb0", &c), PB_EINVAL);
	c.r.count = 8;
	c.seg[0].len = 8 * 512 - 1;		/* not whole blocks */
	CHECK_EQ_INT(submit_to("block:usb0", &c), PB_EINVAL);
	c.seg[0].len = 8 * 512;
	c.r.flags = BLOCK_REQ_FUA;		/* no FUA without DPOFUA */
	CHECK_EQ_INT(submit_to("block:usb0", &c), PB_EINVAL);
	c.r.flags = 0;
	c.r.op = 9;
	CHECK_EQ_INT(submit_to("block:usb0", &c), PB_EINVAL);
	c.r.op = BLOCK_READ;
	c.r.size = 40;
	CHECK_EQ_INT(submit_to("block:usb0", &c), PB_EINVAL);
	c.r.size = sizeof(c.r);
	c.r.nseg = 65;				/* more than max_segments */
	for (unsigned i = 0; i < 65; i++)
		big[i] = (struct block_seg){ c.buf, 0, 512, 0 };
	c.r.segs = big;
	c.r.count = 65;
	CHECK_EQ_INT(submit_to("block:usb0", &c), PB_EINVAL);
	creq_free(&c);
	creq_init(&c, 2, BLOCK_READ, 0, 4096, 512, 2, 1);	/* 2 MiB */
	CHECK_EQ_INT(submit_to("block:usb0", &c), PB_EINVAL);
	creq_free(&c);
	settle();
	CHECK_EQ_INT(c.runs, 0);
	CHECK_EQ_INT(stick[0].cbws, before);
	rig_end();
}

/* ---- transport trouble --------------------------------------------------- */

/* A read of 16 blocks at lba through the whole rig: its status. */
static int
read_once(uint64_t lba, struct creq *c)
{
	creq_init(c, 7, BLOCK_READ, lba, 16, 512, 2, 1);
	if (submit_to("block:usb0", c) != PB_OK)
		return -1000;
	settle();
	return c->runs == 1 ? c->r.status : -2000;
}

/* A read at lba that ends right, the stick having seen (in all) so
 * many halts cleared, resets and reads. */
static void
read_recovers(uint64_t lba, unsigned halts, unsigned resets, unsigned reads)
{
	struct creq c;

	CHECK_EQ_INT(read_once(lba, &c), PB_OK);
	CHECK(matches(&c, 0, 0));
	CHECK_EQ_INT(stick[0].clear_halts, halts);
	CHECK_EQ_INT(stick[0].resets, resets);
	CHECK_EQ_INT(stick[0].reads, reads);
	creq_free(&c);
}

/* One misbehaviour of the CSW, once: reset recovery (clearing bulk-IN
 * and bulk-OUT), the read issued again and right. */
static void
csw_trouble(int *knob, const char *line)
{
	struct creq c;

	REQUIRE(rig_one(2048));
	*knob = 1;
	read_recovers(64, 2, 1, 2);
	CHECK_CONTAINS(log_text, line);
	CHECK_CONTAINS(log_text, ": reset recovery");
	/* The stick serves on. */
	CHECK_EQ_INT(read_once(300, &c), PB_OK);
	CHECK(matches(&c, 0, 0));
	creq_free(&c);
	rig_end();
}

TEST(usbstor_csw_wrong_tag)
{
	csw_trouble(&stick[0].bad_tag, "the CSW has another command's tag");
}

TEST(usbstor_csw_wrong_signature)
{
	csw_trouble(&stick[0].bad_sig, "the CSW has a wrong signature");
}

TEST(usbstor_csw_residue_too_large)
{
	csw_trouble(&stick[0].big_residue, "the CSW's residue is larger than "
	    "the length");
}

TEST(usbstor_csw_phase_error)
{
	csw_trouble(&stick[0].phase_error, "phase error: reset recovery");
}

TEST(usbstor_csw_bad_every_time_fails_eio)
{
	struct creq c;

	REQUIRE(rig_one(2048));
	stick[0].bad_tag = USBSTOR_TRIES;
	CHECK_EQ_INT(read_once(0, &c), PB_EIO);
	CHECK_EQ_INT(stick[0].resets, USBSTOR_TRIES);
	creq_free(&c);
	CHECK_EQ_INT(read_once(0, &c), PB_OK);	/* the next one works */
	CHECK(matches(&c, 0, 0));
	creq_free(&c);
	rig_end();
}

TEST(usbstor_stall_on_data_stage)
{
	/* The data stage stalls and the CSW says failed (ABORTED COMMAND):
	 * bulk-IN cleared, the CSW read anyway, sense asked, issued again. */
	REQUIRE(rig_one(2048));
	stick[0].stall_data = 1;
	read_recovers(10, 1, 0, 2);
	CHECK_CONTAINS(log_text, "ABORTED COMMAND");
	rig_end();
}

TEST(usbstor_stall_on_csw)
{
	/* Once: bulk-IN cleared, the CSW read again, no reset. */
	REQUIRE(rig_one(2048));
	stick[0].stall_csw = 1;
	read_recovers(10, 1, 0, 1);
	/* Twice in a row: reset recovery, the read issued again. */
	stick[0].stall_csw = 2;
	read_recovers(20, 1 + 1 + 2, 1, 3);
	rig_end();
}

TEST(usbstor_short_read_is_an_error)
{
	struct creq c;

	REQUIRE(rig_one(2048));
	stick[0].short_data = 1;
	CHECK_EQ_INT(read_once(10, &c), PB_EIO);
	CHECK_CONTAINS(log_text, "block:usb0: read of 16 blocks at 10: 4096 of "
	    "8192 bytes moved, residue 4096");
	creq_free(&c);
	CHECK_EQ_INT(read_once(10, &c), PB_OK);
	creq_free(&c);
	rig_end();
}

TEST(usbstor_get_max_lun_stall_and_absurd)
{
	REQUIRE(rig_one(1024));
	rig_end();

	reset_all();
	bm_init(&stick[0], 1024, 512);
	stick[0].max_lun_stall = 1;
	REQUIRE(rig_attach());
	CHECK(res_named("block:usb0") != NULL);
	CHECK(!strstr(log_text, "GET MAX LUN"));	/* a STALL is normal */
	CHECK_EQ_INT(stick[0].inquiries, 1);
	rig_end();

	reset_all();
	bm_init(&stick[0], 1024, 512);
	stick[0].max_lun_value = 20;
	REQUIRE(rig_attach());
	CHECK(res_named("block:usb0") != NULL);
	CHECK(res_named("block:usb0.l1") == NULL);
	CHECK_CONTAINS(log_text, "usb0: GET MAX LUN answered 20, more than "
	    "15: LUN 0 only");
	CHECK_EQ_INT(stick[0].inquiries, 1);
	rig_end();
}

/* ---- LUNs and media ------------------------------------------------------- */

TEST(usbstor_several_luns_and_a_cd)
{
	struct block_info bi;
	struct creq a, b, w;
	struct fres *f;

	reset_all();
	bm_init(&stick[0], 2048, 512);
	stick[0].max_lun = 2;
	bm_lun_disk(&stick[0], 1, 300, 2048);
	stick[0].lun[1].type = SCSI_TYPE_CDROM;
	memcpy(stick[0].lun[1].product, "QEMU CD-ROM", 12);
	/* LUN 2: no unit there (INQUIRY qualifier 3). */
	REQUIRE(rig_attach());
	CHECK_EQ_INT(stick[0].inquiries, 3);
	CHECK_EQ_INT(us.dev[0]->nlun_cap, 3);	/* GET MAX LUN's, not 16 */
	REQUIRE(res_named("block:usb0") != NULL);
	f = res_named("block:usb0.l1");
	REQUIRE(f != NULL);
	CHECK(res_named("block:usb0.l2") == NULL);
	CHECK_CONTAINS(f->props, "path=pci:00:04.0/usb:1/lun:1 size=614400 "
	    "bs=2048 model=QEMU_QEMU_CD-ROM");
	CHECK_CONTAINS(f->props, " ro=1 rm=1");
	CHECK_CONTAINS(log_text, "block:usb0.l1: QEMU QEMU CD-ROM 2.5+, 600 KiB "
	    "(300 x 2048), path=pci:00:04.0/usb:1/lun:1, CD/DVD, read-only");
	REQUIRE(info_of("block:usb0.l1", &bi) == PB_OK);
	CHECK_EQ_INT(bi.flags, BLOCK_RO | BLOCK_REMOVABLE);
	CHECK_EQ_INT(bi.block_size, 2048);
	/* Reads of both, one after the other on the one BOT engine. */
	creq_init(&a, 1, BLOCK_READ, 40, 16, 512, 2, 1);
	creq_init(&b, 2, BLOCK_READ, 7, 4, 2048, 2, 0);
	REQUIRE(submit_to("block:usb0", &a) == PB_OK);
	REQUIRE(submit_to("block:usb0.l1", &b) == PB_OK);
	creq_init(&w, 3, BLOCK_WRITE, 7, 4, 2048, 1, 1);
	CHECK_EQ_INT(submit_to("block:usb0.l1", &w), PB_EROFS);
	settle();
	CHECK_EQ_INT(a.r.status, PB_OK);
	CHECK_EQ_INT(b.r.status, PB_OK);
	CHECK(matches(&a, 0, 0));
	CHECK(matches(&b, 0, 1));
	CHECK_EQ_INT(w.runs, 0);
	creq_free(&a);
	creq_free(&b);
	creq_free(&w);
	rig_end();
}

TEST(usbstor_write_protected_medium)
{
	struct creq w, r;
	struct block_info bi;

	reset_all();
	bm_init(&stick[0], 1024, 512);
	stick[0].lun[0].wp = 1;
	REQUIRE(rig_attach());
	REQUIRE(res_named("block:usb0") != NULL);
	CHECK_CONTAINS(res_named("block:usb0")->props, " ro=1 rm=1");
	REQUIRE(info_of("block:usb0", &bi) == PB_OK);
	CHECK(bi.flags & BLOCK_RO);
	CHECK(!(bi.flags & BLOCK_FLUSHES));
	creq_init(&w, 1, BLOCK_WRITE, 0, 8, 512, 1, 1);
	CHECK_EQ_INT(submit_to("block:usb0", &w), PB_EROFS);
	CHECK_EQ_INT(read_once(0, &r), PB_OK);
	creq_free(&r);
	rig_end();

	/* The switch flipped after the attach: DATA PROTECT fails the
	 * write PB_EROFS and the disk is read-only from then on. */
	REQUIRE(rig_one(1024));
	stick[0].lun[0].wp = 1;
	REQUIRE(submit_to("block:usb0", &w) == PB_OK);
	settle();
	CHECK_EQ_INT(w.runs, 1);
	CHECK_EQ_INT(w.r.status, PB_EROFS);
	CHECK_CONTAINS(log_text, "DATA PROTECT, write protected (27/00)");
	CHECK_CONTAINS(log_text, "block:usb0: the medium is write-protected: "
	    "read-only from now on");
	CHECK_CONTAINS(res_named("block:usb0")->props, " ro=1 rm=1");
	w.runs = 0;
	CHECK_EQ_INT(submit_to("block:usb0", &w), PB_EROFS);
	creq_free(&w);
	rig_end();
}

TEST(usbstor_unit_becoming_ready_no_medium_needs_start)
{
	reset_all();
	bm_init(&stick[0], 1024, 512);
	stick[0].lun[0].becoming_ready = 3;
	REQUIRE(rig_attach());
	CHECK(res_named("block:usb0") == NULL);
	CHECK_EQ_INT(ops.quiesce(SELF), PB_EAGAIN);	/* attaching */
	us.quiesced = 0;
	for (int i = 0; i < 3; i++) {
		time_passes(T_READY_POLL);
		settle();
	}
	CHECK(res_named("block:usb0") != NULL);
	CHECK_EQ_INT(stick[0].turs, 4);
	CHECK_CONTAINS(log_text, "usb0: LUN 0: NOT READY, becoming ready "
	    "(04/01): waiting for it");
	rig_end();

	/* Never ready: given up at the deadline, not published. */
	reset_all();
	bm_init(&stick[0], 1024, 512);
	stick[0].lun[0].becoming_ready = 1000000;
	REQUIRE(rig_attach());
	for (int i = 0; i < 200 && us.dev[0]->state == DEV_ATTACHING; i++) {
		time_passes(T_READY_POLL);
		settle();
	}
	CHECK_EQ_INT(us.dev[0]->state, DEV_FAILED);
	CHECK(res_named("block:usb0") == NULL);
	CHECK_CONTAINS(log_text, "usb0: LUN 0: not ready after 10 s: not "
	    "served");
	CHECK_CONTAINS(log_text, "no LUN to serve");
	rig_end();

	reset_all();
	bm_init(&stick[0], 1024, 512);
	stick[0].lun[0].no_medium = 1;
	REQUIRE(rig_attach());
	CHECK(res_named("block:usb0") == NULL);
	CHECK_CONTAINS(log_text, "usb0: LUN 0: NOT READY, medium not present "
	    "(3a/00): not served");
	rig_end();

	reset_all();
	bm_init(&stick[0], 1024, 512);
	stick[0].lun[0].needs_start = 1;
	REQUIRE(rig_attach());
	CHECK(res_named("block:usb0") != NULL);
	CHECK_EQ_INT(stick[0].starts, 1);
	CHECK_CONTAINS(log_text, "initializing command required (04/02): "
	    "START STOP UNIT");
	rig_end();
}

/* ---- a stick that goes, one that stops answering -------------------------- */

TEST(usbstor_stick_gone_mid_transfer)
{
	struct creq c[3];
	struct pb_conn *bound;

	REQUIRE(rig_one(2048));
	bound = us.dev[0]->conn;
	stick[0].silent = 1;		/* no answer to anything */
	for (int i = 0; i < 3; i++) {
		creq_init(&c[i], i, BLOCK_READ, (uint64_t)i * 16, 16, 512, 1, 1);
		REQUIRE(submit_to("block:usb0", &c[i]) == PB_OK);
	}
	settle();
	REQUIRE(stick[0].usb.nheld == 1);
	CHECK_EQ_INT(c[0].runs + c[1].runs + c[2].runs, 0);
	/* The bus removes the stick: the held request comes back
	 * cancelled, then the connection goes. */
	fakeusb_cancel(&stick[0].usb, 0xff);
	settle();
	CHECK(res_named("block:usb0") == NULL);
	ops.event(SELF, PB_EV_DISCONNECTED, bound, PB_REQ_BIND);
	conn_close(bound);
	settle();
	for (int i = 0; i < 3; i++) {
		CHECK_EQ_INT(c[i].runs, 1);
		CHECK_EQ_INT(c[i].r.status, PB_ECANCELED);
		creq_free(&c[i]);
	}
	CHECK(res_named("block:usb0") == NULL);
	CHECK_CONTAINS(log_text, "usb0: the stick went (its requests were "
	    "cancelled): 3 requests cancelled, its disks withdrawn");
	CHECK_EQ_INT(us.dev[0]->state, DEV_FREE);
	CHECK_EQ_INT(fdma_allocs, 0);
	CHECK_EQ_INT(timers_armed(), 0);
	rig_end();

	/* The other order: disconnected first, the request back later. */
	REQUIRE(rig_one(2048));
	bound = us.dev[0]->conn;
	stick[0].silent = 1;
	for (int i = 0; i < 2; i++) {
		creq_init(&c[i], i, BLOCK_READ, 0, 16, 512, 1, 1);
		REQUIRE(submit_to("block:usb0", &c[i]) == PB_OK);
	}
	settle();
	ops.event(SELF, PB_EV_DISCONNECTED, bound, PB_REQ_BIND);
	conn_close(bound);
	settle();
	CHECK_EQ_INT(c[1].runs, 1);		/* queued: at once */
	CHECK_EQ_INT(c[0].runs, 0);		/* on the wire: when back */
	CHECK(res_named("block:usb0") == NULL);
	CHECK_EQ_INT(us.dev[0]->state, DEV_GONE);
	fakeusb_cancel(&stick[0].usb, 0xff);
	settle();
	CHECK_EQ_INT(c[0].runs, 1);
	CHECK_EQ_INT(c[0].r.status, PB_ECANCELED);
	CHECK_EQ_INT(c[1].r.status, PB_ECANCELED);
	CHECK_EQ_INT(us.dev[0]->state, DEV_FREE);
	CHECK_CONTAINS(log_text, "usb0: the stick went (disconnected): 2 "
	    "requests cancelled");
	creq_free(&c[0]);
	creq_free(&c[1]);
	rig_end();
}

TEST(usbstor_stick_stops_answering)
{
	struct creq c[3], late;
	unsigned damage = usbstor_damage_seen;

	REQUIRE(rig_one(2048));
	stick[0].silent = 1;
	for (int i = 0; i < 3; i++) {
		creq_init(&c[i], i, BLOCK_READ, 0, 16, 512, 1, 1);
		REQUIRE(submit_to("block:usb0", &c[i]) == PB_OK);
	}
	settle();
	/* Nothing before the command's deadline. */
	time_passes(T_CMD - 100 * MS);
	settle();
	CHECK_EQ_INT(c[0].runs, 0);
	CHECK_EQ_INT(stick[0].usb.cancels, 0);
	/* The deadline: cancelled, then the reset, which is ignored too. */
	time_passes(200 * MS);
	settle();
	CHECK_EQ_INT(stick[0].usb.cancels, 1);
	CHECK_CONTAINS(log_text, "usb0: the CBW of command 0x28 (tag ");
	CHECK_CONTAINS(log_text, "got no answer in time: cancelled");
	CHECK_CONTAINS(log_text, "usb0: the CBW timed out (-6): reset "
	    "recovery");
	CHECK_EQ_INT(c[0].runs, 0);
	time_passes(T_CTRL + MS);
	settle();
	CHECK_EQ_INT(stick[0].usb.cancels, 2);
	CHECK_CONTAINS(log_text, "usb0: reset recovery failed (the class "
	    "reset, -6): the stick has stopped answering");
	/* It had answered this instance: the driver suspects itself and
	 * has itself restarted (ud2 on the machine; here a count, and the
	 * stick is then called dead as a new instance would find it). */
	CHECK_EQ_INT(usbstor_damage_seen, damage + 1);
	CHECK_CONTAINS(log_text, "reset recovery failed on a stick that "
	    "answered before: the driver is damaged");
	CHECK_EQ_INT(c[0].runs, 1);
	CHECK_EQ_INT(c[0].r.status, PB_EIO);
	for (int i = 1; i < 3; i++) {
		CHECK_EQ_INT(c[i].runs, 1);
		CHECK_EQ_INT(c[i].r.status, PB_ENODEV);
	}
	creq_init(&late, 9, BLOCK_READ, 0, 16, 512, 1, 1);
	CHECK_EQ_INT(submit_to("block:usb0", &late), PB_ENODEV);
	CHECK(res_named("block:usb0") != NULL);		/* still listed */
	CHECK_EQ_INT(timers_armed(), 0);
	for (int i = 0; i < 3; i++)
		creq_free(&c[i]);
	creq_free(&late);
	rig_end();
}

/* A stick that has not answered this instance once (a new instance
 * after the restart above, probing a stick that is really dead) is called
 * dead without the driver suspecting itself: one restart, not a loop. */
TEST(usbstor_stick_never_answering_is_dead_without_a_restart)
{
	unsigned damage = usbstor_damage_seen;

	reset_all();
	bm_init(&stick[0], 2048, 512);
	stick[0].silent = 1;
	REQUIRE(rig_attach());
	for (int i = 0; i < 8; i++) {
		time_passes(T_CMD);
		settle();
	}
	CHECK_CONTAINS(log_text, "the stick has stopped answering");
	CHECK_EQ_INT(usbstor_damage_seen, damage);
	CHECK(res_named("block:usb0") == NULL);		/* never published */
	rig_end();
}

TEST(usbstor_reset_refused_is_dead)
{
	struct creq c;

	REQUIRE(rig_one(2048));
	stick[0].bad_tag = 1;
	stick[0].reset_fails = 1;
	CHECK_EQ_INT(read_once(0, &c), PB_EIO);
	CHECK_EQ_INT(us.dev[0]->state, DEV_DEAD);
	CHECK_CONTAINS(log_text, "reset recovery failed (the class reset, -64)");
	creq_free(&c);
	rig_end();
}

/* ---- a port reset after a failed reset recovery (USB_OP_RESET_DEVICE) - */

static int direct_result;
static unsigned direct_runs;

static void
direct_tur_done(struct usbstor_dev *d)
{
	direct_result = d->result;
	direct_runs++;
}

/* TEST UNIT READY to stick 0's LUN 0 straight through cmd.c (no queue
 * that would issue it again): direct_result once it is over. */
static void
direct_tur(void)
{
	uint8_t cdb[CBW_CB_MAX];
	unsigned n = scsi_cdb_simple(cdb, SCSI_TEST_UNIT_READY, 0);

	direct_runs = 0;
	direct_result = 1000;
	cmd_internal(us.dev[0], 0, cdb, n, 0);
	cmd_run(us.dev[0], direct_tur_done);
	settle();
}

/* Bulk-Only Mass Storage Resets submitted to stick 0 (§3.1). */
static unsigned
class_resets_sent(void)
{
	const struct fakeusb *u = &stick[0].usb;
	unsigned n = 0;

	for (unsigned i = 0; i < u->ntrace; i++)
		n += u->trace[i].op == USB_OP_XFER && u->trace[i].ep == 0 &&
		    u->trace[i].setup.bRequest == BOT_REQ_RESET;
	return n;
}

/* A wedged stick's command and class reset reach their deadlines: the
 * CBW's (T_CMD), then the class reset's (T_CTRL). */
static void
recovery_times_out(void)
{
	time_passes(T_CMD + MS);
	settle();
	time_passes(T_CTRL + MS);
	settle();
}

/* Stick 0 attached and serving, on a `usb` 1.1 bus that takes the port
 * reset and completes it with status; from now on the stick answers
 * nothing, not even the class reset, until `resets` port resets. */
static int
rig_wedged(int resets, int status)
{
	if (!rig_one(2048))
		return 0;
	stick[0].usb.reset_device = 1;
	stick[0].usb.reset_status = status;
	stick[0].wedged = resets;
	return 1;
}

TEST(usbstor_port_reset_brings_back_a_stick_deaf_to_the_class_reset)
{
	unsigned damage = usbstor_damage_seen;
	struct creq c;

	REQUIRE(rig_wedged(1, PB_OK));
	direct_tur();
	CHECK_EQ_INT(direct_runs, 0);
	recovery_times_out();
	/* The port reset: the command fails PB_EIO, as after a reset
	 * recovery. */
	CHECK_EQ_INT(direct_runs, 1);
	CHECK_EQ_INT(direct_result, PB_EIO);
	CHECK_EQ_INT(fakeusb_traced(&stick[0].usb, USB_OP_RESET_DEVICE), 1);
	CHECK_EQ_INT(stick[0].usb.reset_devices, 1);
	CHECK_EQ_INT(stick[0].port_resets, 1);
	CHECK_EQ_INT(stick[0].usb.info.resets, 1);
	CHECK_EQ_INT(class_resets_sent(), 1);	/* unanswered */
	CHECK_EQ_INT(stick[0].resets, 0);
	CHECK_EQ_INT(us.dev[0]->state, DEV_READY);
	CHECK_EQ_INT(usbstor_damage_seen, damage);
	CHECK_CONTAINS(log_text, "usb0: reset recovery failed (the class "
	    "reset, -6): port reset");
	CHECK_CONTAINS(log_text, "usb0: the port reset brought the stick back "
	    "(resets 1)");
	CHECK(!strstr(log_text, "stopped answering"));
	CHECK_EQ_INT(timers_armed(), 0);
	/* The next command works. */
	CHECK_EQ_INT(read_once(64, &c), PB_OK);
	CHECK(matches(&c, 0, 0));
	creq_free(&c);
	/* It answered again: the next wedge may cost a port reset too. */
	stick[0].wedged = 1;
	direct_tur();
	recovery_times_out();
	CHECK_EQ_INT(direct_result, PB_EIO);
	CHECK_EQ_INT(stick[0].usb.reset_devices, 2);
	CHECK_EQ_INT(stick[0].usb.info.resets, 2);
	CHECK_EQ_INT(us.dev[0]->state, DEV_READY);
	CHECK_EQ_INT(usbstor_damage_seen, damage);
	CHECK_EQ_INT(read_once(0, &c), PB_OK);
	creq_free(&c);
	rig_end();
}

/* A block request through it all: issued again after the port reset. */
TEST(usbstor_port_reset_request_issued_again)
{
	struct creq c;

	REQUIRE(rig_wedged(1, PB_OK));
	creq_init(&c, 7, BLOCK_READ, 32, 16, 512, 2, 1);
	REQUIRE(submit_to("block:usb0", &c) == PB_OK);
	settle();
	recovery_times_out();
	CHECK_EQ_INT(c.runs, 1);
	CHECK_EQ_INT(c.r.status, PB_OK);
	CHECK(matches(&c, 0, 0));
	CHECK_EQ_INT(stick[0].usb.reset_devices, 1);
	CHECK_EQ_INT(stick[0].reads, 1);	/* the wedged CBW: held */
	CHECK_EQ_INT(us.dev[0]->state, DEV_READY);
	creq_free(&c);
	rig_end();
}

/* The bus took the port reset but the stick did not come back (an error
 * other than PB_ECANCELED/PB_ENODEV): today's path.  The stick answered
 * this instance, so the driver suspects itself (a restart) and the stick
 * is dead; one that never answered is dead without a restart. */
/* The bus ran the port reset and the stick did not come back: dead, and
 * the driver does not have itself restarted although the stick had
 * answered (the bus removes it: no new instance would find it). */
TEST(usbstor_port_reset_failing_is_dead_without_a_restart)
{
	unsigned damage = usbstor_damage_seen;
	struct creq c, late;

	REQUIRE(rig_wedged(1, PB_EIO));
	CHECK_EQ_INT(read_once(0, &c), -2000);	/* still out */
	recovery_times_out();
	CHECK_EQ_INT(c.runs, 1);
	CHECK_EQ_INT(c.r.status, PB_EIO);
	CHECK_EQ_INT(stick[0].usb.reset_devices, 1);
	CHECK_EQ_INT(stick[0].usb.info.resets, 0);
	CHECK_EQ_INT(stick[0].port_resets, 0);
	CHECK_EQ_INT(us.dev[0]->state, DEV_DEAD);
	CHECK_EQ_INT(usbstor_damage_seen, damage);
	CHECK_CONTAINS(log_text, "usb0: port reset: the stick did not come "
	    "back (-5)");
	CHECK_CONTAINS(log_text, "usb0: reset recovery failed (the class "
	    "reset, -6): the stick has stopped answering; the bus removes "
	    "it");
	creq_init(&late, 9, BLOCK_READ, 0, 16, 512, 1, 1);
	CHECK_EQ_INT(submit_to("block:usb0", &late), PB_ENODEV);
	CHECK_EQ_INT(timers_armed(), 0);
	creq_free(&c);
	creq_free(&late);
	rig_end();

	/* Wedged from the start: never answered, dead, no restart. */
	damage = usbstor_damage_seen;
	reset_all();
	bm_init(&stick[0], 2048, 512);
	stick[0].wedged = 1000;
	stick[0].usb.reset_device = 1;
	stick[0].usb.reset_status = PB_EIO;
	REQUIRE(rig_attach());
	for (int i = 0; i < 8; i++) {
		time_passes(T_CMD);
		settle();
	}
	CHECK_EQ_INT(stick[0].usb.reset_devices, 1);
	CHECK_EQ_INT(us.dev[0]->state, DEV_DEAD);
	CHECK_EQ_INT(usbstor_damage_seen, damage);
	CHECK(res_named("block:usb0") == NULL);
	CHECK_CONTAINS(log_text, "the stick has stopped answering");
	rig_end();
}

/* A port reset ending PB_ENODEV: the bus removes a stick it could not
 * bring back, so the stick went (not dead, no restart). */
TEST(usbstor_port_reset_enodev_is_the_stick_gone)
{
	unsigned damage = usbstor_damage_seen;
	struct creq c;

	REQUIRE(rig_wedged(1, PB_ENODEV));
	CHECK_EQ_INT(read_once(0, &c), -2000);
	recovery_times_out();
	CHECK_EQ_INT(c.runs, 1);
	CHECK_EQ_INT(c.r.status, PB_ECANCELED);
	CHECK_EQ_INT(stick[0].usb.reset_devices, 1);
	CHECK_EQ_INT(us.dev[0]->state, DEV_GONE);
	CHECK_EQ_INT(usbstor_damage_seen, damage);
	CHECK(res_named("block:usb0") == NULL);
	CHECK(!strstr(log_text, "stopped answering"));
	creq_free(&c);
	rig_end();
}

/* A bus that refuses the port reset at submit: a 1.0 bus (op 6 unknown:
 * PB_EINVAL), a stick behind a hub or an older controller (PB_ENOTSUP),
 * one running (PB_EBUSY, a refusal here, not "the bus holds it").  Today's
 * behaviour, at once: dead, the driver restarted (the stick answered). */
TEST(usbstor_port_reset_refused_keeps_todays_behaviour)
{
	static const struct {
		int device, refuse;
		const char *line;
	} bus[] = {
		{ 0, PB_OK, "usb0: port reset: the bus does not offer it "
		    "(usb 1.0) (-2)" },
		{ 1, PB_ENOTSUP, "usb0: port reset: not offered for this stick "
		    "(behind a hub, or an older controller) (-7)" },
		{ 1, PB_EBUSY, "usb0: port reset: refused: the bus is busy "
		    "with the stick (-4)" },
	};

	for (unsigned i = 0; i < sizeof(bus) / sizeof(bus[0]); i++) {
		unsigned damage = usbstor_damage_seen;
		struct creq c;

		REQUIRE(rig_wedged(1, PB_OK));
		stick[0].usb.reset_device = bus[i].device;
		stick[0].usb.reset_refuse = bus[i].refuse;
		CHECK_EQ_INT(read_once(0, &c), -2000);
		recovery_times_out();
		CHECK_EQ_INT(c.runs, 1);
		CHECK_EQ_INT(c.r.status, PB_EIO);
		CHECK_EQ_INT(fakeusb_traced(&stick[0].usb,
		    USB_OP_RESET_DEVICE), 1);
		CHECK_EQ_INT(stick[0].usb.reset_devices, 0);
		CHECK_EQ_INT(stick[0].port_resets, 0);
		CHECK_EQ_INT(us.dev[0]->state, DEV_DEAD);
		CHECK_EQ_INT(usbstor_damage_seen, damage + 1);
		CHECK_CONTAINS(log_text, bus[i].line);
		CHECK_CONTAINS(log_text, "usb0: reset recovery failed (the "
		    "class reset, -6): the stick has stopped answering");
		CHECK_EQ_INT(timers_armed(), 0);	/* nothing waited for */
		creq_free(&c);
		rig_end();
	}
}

/* A stick still wedged after the port reset costs one reset, not a
 * loop: the command issued again fails the recovery once more, and with
 * no answer since the port reset, the stick is dead. */
TEST(usbstor_port_reset_once_until_the_stick_answers)
{
	unsigned damage = usbstor_damage_seen;
	struct creq c;

	REQUIRE(rig_wedged(2, PB_OK));
	CHECK_EQ_INT(read_once(0, &c), -2000);
	recovery_times_out();		/* the port reset: issued again */
	CHECK_EQ_INT(stick[0].usb.reset_devices, 1);
	CHECK_EQ_INT(c.runs, 0);
	recovery_times_out();		/* no second port reset: dead */
	CHECK_EQ_INT(c.runs, 1);
	CHECK_EQ_INT(c.r.status, PB_EIO);
	CHECK_EQ_INT(fakeusb_traced(&stick[0].usb, USB_OP_RESET_DEVICE), 1);
	CHECK_EQ_INT(stick[0].usb.reset_devices, 1);
	CHECK_EQ_INT(stick[0].port_resets, 1);
	CHECK_EQ_INT(us.dev[0]->state, DEV_DEAD);
	CHECK_EQ_INT(usbstor_damage_seen, damage + 1);
	CHECK_CONTAINS(log_text, "usb0: reset recovery failed (the class "
	    "reset, -6): the stick has stopped answering");
	for (int i = 0; i < 4; i++) {
		time_passes(T_CMD);
		settle();
	}
	CHECK_EQ_INT(stick[0].usb.reset_devices, 1);
	CHECK_EQ_INT(timers_armed(), 0);
	creq_free(&c);
	rig_end();
}

/* The port reset has its own deadline (T_PORT_RESET), as every stage:
 * at it the request is cancelled and, back, the reset failed.  While it
 * runs a swap waits (quiesce: PB_EAGAIN).  A cancelled reset the bus
 * keeps is handled as any stage's: the stick is not used any more. */
TEST(usbstor_port_reset_deadline_is_a_failed_reset)
{
	unsigned damage = usbstor_damage_seen;
	struct usb_req *r;
	struct creq c;

	REQUIRE(rig_wedged(1, PB_OK));
	stick[0].usb.reset_hold = 1;
	CHECK_EQ_INT(read_once(0, &c), -2000);
	recovery_times_out();
	REQUIRE(stick[0].usb.reset_devices == 1);
	REQUIRE((r = fakeusb_held(&stick[0].usb, 0)) != NULL);
	CHECK_EQ_INT(r->op, USB_OP_RESET_DEVICE);
	CHECK_EQ_INT(us.dev[0]->bot.state, BS_PORT_RESET);
	CHECK_EQ_INT(ops.quiesce(SELF), PB_EAGAIN);
	us.quiesced = 0;
	time_passes(T_PORT_RESET - MS);
	settle();
	CHECK_EQ_INT(c.runs, 0);
	CHECK_EQ_INT(stick[0].usb.cancels, 2);
	time_passes(2 * MS);
	settle();
	CHECK_EQ_INT(stick[0].usb.cancels, 3);
	CHECK_CONTAINS(log_text, "usb0: the port reset of command 0x28 (tag ");
	CHECK_CONTAINS(log_text, "usb0: port reset: no answer in time (-6)");
	CHECK_EQ_INT(c.runs, 1);
	CHECK_EQ_INT(c.r.status, PB_EIO);
	CHECK_EQ_INT(us.dev[0]->state, DEV_DEAD);
	CHECK_EQ_INT(usbstor_damage_seen, damage + 1);
	CHECK_EQ_INT(timers_armed(), 0);
	creq_free(&c);
	rig_end();

	/* The bus keeps the cancelled reset: after T_CANCEL, the stick is
	 * not used any more; when the request comes back at last, it is
	 * taken and nothing else happens. */
	damage = usbstor_damage_seen;
	REQUIRE(rig_wedged(1, PB_OK));
	stick[0].usb.reset_hold = 1;
	CHECK_EQ_INT(read_once(0, &c), -2000);
	recovery_times_out();
	stick[0].usb.cancel_keeps = 1;
	time_passes(T_PORT_RESET + MS);
	settle();
	CHECK_EQ_INT(c.runs, 0);
	time_passes(T_CANCEL + MS);
	settle();
	CHECK_CONTAINS(log_text, "usb0: the bus did not give back a cancelled "
	    "request");
	CHECK_EQ_INT(c.runs, 1);
	CHECK_EQ_INT(c.r.status, PB_EIO);
	CHECK_EQ_INT(us.dev[0]->state, DEV_DEAD);
	CHECK_EQ_INT(usbstor_damage_seen, damage);
	REQUIRE((r = fakeusb_held(&stick[0].usb, 0)) != NULL);
	fakeusb_reset_done(&stick[0].usb, r, PB_ECANCELED);
	settle();
	CHECK_EQ_INT(us.dev[0]->bot.in_flight, 0);
	CHECK_EQ_INT(us.dev[0]->state, DEV_DEAD);
	CHECK_EQ_INT(timers_armed(), 0);
	creq_free(&c);
	rig_end();
}

/* ---- several sticks ------------------------------------------------------ */

/* A resource appeared: the hub tells its subscribers by name. */
static void
tell_resource(const char *name)
{
	struct pb_conn note = { .res = name };

	ops.event(SELF, PB_EV_RESOURCE, &note, PB_REQ_NONE);
}

static struct usbstor_dev *
dev_named(const char *res)
{
	for (unsigned i = 0; i < USBSTOR_DEVS; i++)
		if (us.dev[i] && us.dev[i]->state != DEV_FREE &&
		    strcmp(us.dev[i]->res, res) == 0)
			return us.dev[i];
	return NULL;
}

/*
 * The controller under the bus restarted without the requests it held
 * (USB_HCI_FRESH: an xhci swap rolled back after the new driver faulted
 * in its watch window): the bus unplugs the stick and plugs it in again
 * under the same `usb` resource name, and the command we had out will
 * never come back.  The gone record waits for it (its memory is the
 * bus's until then), but it is not the stick any more: the stick plugged
 * in again is connected and served.
 */
TEST(usbstor_stick_plugged_again_while_its_request_is_lost)
{
	struct creq c, d;
	struct pb_conn *bound;
	struct usb_req *lost;
	struct fres *r;

	REQUIRE(rig_one(2048));
	bound = us.dev[0]->conn;
	stick[0].silent = 1;
	creq_init(&c, 1, BLOCK_READ, 0, 16, 512, 1, 1);
	REQUIRE(submit_to("block:usb0", &c) == PB_OK);
	settle();
	REQUIRE(stick[0].usb.nheld == 1);
	ops.event(SELF, PB_EV_DISCONNECTED, bound, PB_REQ_BIND);
	conn_close(bound);
	settle();
	CHECK(res_named("block:usb0") == NULL);
	CHECK_EQ_INT(us.dev[0]->state, DEV_GONE);
	/* The controller forgot the command: nothing completes it. */
	REQUIRE((lost = stick[0].usb.held[0]) != NULL);
	stick[0].usb.nheld = 0;
	stick[0].silent = 0;
	r = res_named("usb:1-1-0");
	REQUIRE(r != NULL);
	memset(r, 0, sizeof(*r));
	r = stick_publish(0);
	tell_resource(r->name);
	settle();
	CHECK_EQ_INT(r->clients, 1);
	REQUIRE(res_named("block:usb0") != NULL || res_named("block:usb1"));
	creq_init(&d, 2, BLOCK_READ, 40, 8, 512, 1, 1);
	REQUIRE(submit_to(res_named("block:usb0") ? "block:usb0" :
	    "block:usb1", &d) == PB_OK);
	settle();
	CHECK_EQ_INT(d.runs, 1);
	CHECK(d.r.status == PB_OK && matches(&d, 0, 0));
	/* The lost command: failed once its deadline and the cancel's have
	 * passed, the new stick serving on. */
	for (int i = 0; i < 4; i++) {
		time_passes(T_CMD);
		settle();
	}
	CHECK_EQ_INT(c.runs, 1);
	CHECK_EQ_INT(c.r.status, PB_EIO);
	CHECK_EQ_INT(r->clients, 1);
	/* Only for the test's end: the record kept for it goes when it
	 * comes back after all. */
	lost->status = PB_ECANCELED;
	fake_work_post(NULL, &lost->done);
	settle();
	creq_free(&d);
	rig_end();
	creq_free(&c);
}

TEST(usbstor_several_sticks)
{
	struct creq a, b, c;
	struct fres *kbd, *r1;
	struct usbstor_dev *d1;
	struct pb_conn *c1;

	reset_all();
	bm_init(&stick[0], 2048, 512);
	bm_init(&stick[1], 4096, 512);
	bm_init(&stick[2], 1024, 4096);
	bind_stick(0, stick_publish(0));
	stick_publish(2);	/* there before we start: found by the scan */
	/* A keyboard is not ours. */
	kbd = res_add(USB_IFACE, "usb:1-4-0", "usb", "vid=0627 pid=0001 "
	    "class=03 subclass=01 protocol=01 dev=pci:00:04.0/usb:4",
	    &fakeusb_ops, &stick[1].usb);
	REQUIRE(ops.start(SELF, &hub, PB_START_NORMAL) == PB_OK);
	settle();
	CHECK(res_named("block:usb0") != NULL);
	REQUIRE(res_named("block:usb1") != NULL);
	CHECK_CONTAINS(res_named("block:usb1")->props, "path=" DEV2 "/lun:0 "
	    "size=4194304 bs=4096");
	CHECK_EQ_INT(kbd->clients, 0);
	/* A stick plugged in later: told as a resource, connected by hand. */
	r1 = stick_publish(1);
	tell_resource(r1->name);
	settle();
	REQUIRE(res_named("block:usb2") != NULL);
	CHECK_CONTAINS(res_named("block:usb2")->props, "path=" DEV1 "/lun:0 ");
	CHECK_EQ_INT(r1->clients, 1);
	/* All three at once. */
	creq_init(&a, 1, BLOCK_READ, 5, 16, 512, 2, 1);
	creq_init(&b, 2, BLOCK_READ, 1000, 32, 512, 3, 0);
	creq_init(&c, 3, BLOCK_READ, 3, 4, 4096, 2, 1);
	REQUIRE(submit_to("block:usb0", &a) == PB_OK);
	REQUIRE(submit_to("block:usb2", &b) == PB_OK);
	REQUIRE(submit_to("block:usb1", &c) == PB_OK);
	settle();
	CHECK(a.r.status == PB_OK && matches(&a, 0, 0));
	CHECK(b.r.status == PB_OK && matches(&b, 1, 0));
	CHECK(c.r.status == PB_OK && matches(&c, 2, 0));
	/* Stick 1 pulled: its disk goes, the others serve on. */
	d1 = dev_named(r1->name);
	REQUIRE(d1 != NULL);
	c1 = d1->conn;
	ops.event(SELF, PB_EV_DISCONNECTED, c1, PB_REQ_NONE);
	conn_close(c1);
	settle();
	CHECK(res_named("block:usb2") == NULL);
	CHECK_CONTAINS(log_text, "usb2: the stick went (disconnected): 0 "
	    "requests cancelled, its disks withdrawn");
	creq_free(&a);
	CHECK_EQ_INT(read_once(9, &a), PB_OK);
	CHECK(matches(&a, 0, 0));
	/* Plugged in again: the lowest free number. */
	memset(&r1->used, 0, sizeof(*r1));
	r1 = stick_publish(1);
	tell_resource(r1->name);
	settle();
	CHECK(res_named("block:usb2") != NULL);
	creq_free(&a);
	creq_free(&b);
	creq_free(&c);
	rig_end();
}

/* A `usb` 1.0 bus (no port reset) serves usb-storage still: a stick
 * plugged in later is connected by hand asking for `usb` 1.0, and when
 * it stops answering, the port reset refused, it is dead as before. */
TEST(usbstor_a_usb_1_0_bus_still_connects)
{
	struct fres *r1;
	struct creq c;

	REQUIRE(rig_one(2048));
	bm_init(&stick[1], 4096, 512);
	r1 = stick_publish(1);
	r1->usb_1_0 = 1;
	tell_resource(r1->name);
	settle();
	CHECK_EQ_INT(r1->clients, 1);
	REQUIRE(res_named("block:usb1") != NULL);
	stick[1].wedged = 1;
	creq_init(&c, 1, BLOCK_READ, 0, 16, 512, 1, 1);
	REQUIRE(submit_to("block:usb1", &c) == PB_OK);
	settle();
	recovery_times_out();
	CHECK_EQ_INT(c.runs, 1);
	CHECK_EQ_INT(c.r.status, PB_EIO);
	CHECK_EQ_INT(fakeusb_traced(&stick[1].usb, USB_OP_RESET_DEVICE), 1);
	CHECK_EQ_INT(stick[1].usb.refused, 1);
	CHECK_EQ_INT(dev_named(r1->name)->state, DEV_DEAD);
	CHECK_EQ_INT(us.dev[0]->state, DEV_READY);
	creq_free(&c);
	rig_end();
}

TEST(usbstor_off_by_boot_cfg)
{
	reset_all();
	bm_init(&stick[0], 2048, 512);
	fake_boot_cfg = "usb-storage=no";
	bind_stick(0, stick_publish(0));
	CHECK_EQ_INT(ops.start(SELF, &hub, PB_START_NORMAL), PB_ENODEV);
	CHECK_CONTAINS(log_text, "off (boot.cfg usb-storage=no)");
	CHECK_EQ_INT(stick[0].usb.ntrace, 0);
	rig_end();
}

TEST(usbstor_stop_cancels_what_is_queued)
{
	struct creq c[3];

	REQUIRE(rig_one(2048));
	stick[0].silent = 1;
	for (int i = 0; i < 3; i++) {
		creq_init(&c[i], i, BLOCK_READ, 0, 16, 512, 1, 1);
		REQUIRE(submit_to("block:usb0", &c[i]) == PB_OK);
	}
	settle();
	ops.stop(SELF);
	settle();
	for (int i = 0; i < 3; i++) {
		CHECK_EQ_INT(c[i].runs, 1);
		CHECK_EQ_INT(c[i].r.status, PB_ECANCELED);
		creq_free(&c[i]);
	}
	CHECK_EQ_INT(stick[0].usb.cancels, 1);
	CHECK_EQ_INT(stick[0].usb.nheld, 0);
	CHECK_CONTAINS(log_text, "stopped: 3 requests cancelled");
	CHECK(res_named("block:usb0") == NULL);
	CHECK_EQ_INT(heap_out, 0);
	CHECK_EQ_INT(fdma_allocs, 0);
	CHECK_EQ_INT(timers_armed(), 0);
	rig_end();
}

/* ---- the swap -------------------------------------------------------------- */

static struct usbstor old_us;	/* the old instance, switched out */

/* What the old instance, never stopped, still holds. */
static void
old_us_free(void)
{
	fake_free(NULL, old_us.held);
	for (unsigned i = 0; i < USBSTOR_DEVS; i++)
		if (old_us.dev[i]) {
			if (old_us.dev[i]->lun)
				fake_free(NULL, old_us.dev[i]->lun);
			fake_free(NULL, old_us.dev[i]);
		}
}

/* Two sticks (0 bound, 1 by hand) whose usb resources take one client,
 * N reads queued on them, the first on the wire when quiesce comes. */
enum { SWAP_N = 9 };
static struct creq swap_req[SWAP_N];

static void
swap_rig(void)
{
	struct fres *r0, *r1;

	reset_all();
	bm_init(&stick[0], 4096, 512);
	bm_init(&stick[1], 4096, 512);
	r0 = stick_publish(0);
	r1 = stick_publish(1);
	r0->limit = r1->limit = 1;
	bind_stick(0, r0);
	if (ops.start(SELF, &hub, PB_START_NORMAL) != PB_OK)
		return;
	settle();
	/* Each stick's first CBW stays on the wire. */
	stick[0].silent = stick[1].silent = 1;
	for (int i = 0; i < SWAP_N; i++) {
		creq_init(&swap_req[i], i, BLOCK_READ, (uint64_t)i * 40, 16,
		    512, 2, i & 1);
		submit_to(i % 3 == 2 ? "block:usb1" : "block:usb0",
		    &swap_req[i]);
	}
	settle();
}

/* The held CBW answered after all: its command runs to the end. */
static void
swap_unhold(void)
{
	for (unsigned k = 0; k < 2; k++) {
		struct usb_req *h = fakeusb_held(&stick[k].usb, BM_EP_OUT);

		stick[k].silent = 0;
		if (h) {
			h->status = PB_OK;
			bm_device(&stick[k].usb, h);
			fakeusb_complete(&stick[k].usb, h);
		}
	}
	settle();
}

static int
swap_all_done(void)
{
	int ok = 1;

	for (int i = 0; i < SWAP_N; i++) {
		ok &= CHECK_MSG(swap_req[i].runs == 1, "request %d ran %u times",
		    i, swap_req[i].runs);
		ok &= CHECK_EQ_INT(swap_req[i].r.status, PB_OK);
		ok &= CHECK_MSG(matches(&swap_req[i], i % 3 == 2 ? 1 : 0, 0),
		    "request %d data", i);
		creq_free(&swap_req[i]);
	}
	return ok;
}

/* Quiesce (draining the command on the wire), export, release. */
static uint8_t *
swap_out(size_t *len)
{
	uint32_t ver = 0;
	uint8_t *buf;

	if (!CHECK_EQ_INT(ops.quiesce(SELF), PB_EAGAIN))
		return NULL;
	swap_unhold();
	if (!CHECK_EQ_INT(swap_req[0].runs + swap_req[2].runs, 2) ||
	    !CHECK_EQ_INT(ops.quiesce(SELF), PB_OK) ||
	    !CHECK_EQ_INT(ops.export_state(SELF, NULL, 0, len, &ver), PB_OK))
		return NULL;
	buf = calloc(1, *len);
	if (!CHECK_EQ_INT(ops.export_state(SELF, buf, *len, len, &ver),
	    PB_OK) || !CHECK(ver == BLOCK_STATE_VERSION) ||
	    !CHECK_EQ_INT(ops.release(SELF), PB_OK)) {
		free(buf);
		return NULL;
	}
	return buf;
}

TEST(usbstor_swap_hands_requests_over)
{
	struct fres *old0, *old1, *retired, *r1;
	unsigned inq0, inq1, nt0, nt1;
	struct pb_conn *handed;
	struct block_state st;
	size_t len;
	uint8_t *buf;

	swap_rig();
	REQUIRE(res_named("block:usb1") != NULL);
	buf = swap_out(&len);
	REQUIRE(buf != NULL);
	memcpy(&st, buf, sizeof(st));
	CHECK_EQ_INT(st.ndisks, 2);
	CHECK_EQ_INT(st.nreq, SWAP_N - 2);	/* one ran on each stick */
	r1 = res_named("usb:1-2-0");
	CHECK_EQ_INT(r1->clients, 0);		/* let go at release */
	old0 = res_named("block:usb0");
	old1 = res_named("block:usb1");
	/* Switch to a new instance: the hub hands it the bound stick. */
	memcpy(&old_us, &us, sizeof(us));
	memset(&us, 0, sizeof(us));
	inq0 = stick[0].inquiries;
	inq1 = stick[1].inquiries;
	nt0 = stick[0].usb.ntrace;
	nt1 = stick[1].usb.ntrace;
	handed = &fconn[FCONN - 1].pub;
	fconn[FCONN - 1] = (struct fconn){ 1, { &fakeusb_ops, &stick[0].usb,
	    NULL, "usb:1-1-0" }, res_named("usb:1-1-0") };
	ops.event(SELF, PB_EV_CONNECTED, handed, PB_REQ_BIND);
	/* An instance retired by an earlier swap, in its watch window. */
	retired = res_add(BLOCK_IFACE, "block:usb0", USBSTOR_NAME, old0->props,
	    old0->ops, NULL);
	REQUIRE(ops.start(SELF, &hub, PB_START_STANDBY) == PB_OK);
	/* Counterparts, same names and properties, nothing sent. */
	for (unsigned i = 0; i < 2; i++) {
		struct fres *o = i ? old1 : old0, *n = NULL;
		unsigned same = 0;

		for (unsigned k = 0; k < FRES; k++)
			if (fres[k].used && &fres[k] != o && &fres[k] != retired &&
			    strcmp(fres[k].name, o->name) == 0) {
				n = &fres[k];
				same++;
			}
		REQUIRE(n != NULL);
		CHECK_EQ_INT(same, 1);
		CHECK_STR(n->props, o->props);
	}
	fake_withdraw(NULL, (struct pb_resource *)retired);
	CHECK_EQ_INT(stick[0].usb.ntrace, nt0);
	CHECK_EQ_INT(r1->clients, 0);
	REQUIRE(ops.import_state(SELF, buf, len, BLOCK_STATE_VERSION) == PB_OK);
	REQUIRE(ops.activate(SELF) == PB_OK);
	CHECK_EQ_INT(r1->clients, 1);		/* connected by hand now */
	/* The rebind: the clients' connections lead to the new disks. */
	fake_withdraw(NULL, (struct pb_resource *)old0);
	fake_withdraw(NULL, (struct pb_resource *)old1);
	settle();
	CHECK(swap_all_done());
	CHECK_EQ_INT(stick[0].inquiries, inq0);	/* taken without a probe */
	CHECK_EQ_INT(stick[1].inquiries, inq1);
	CHECK(stick[1].usb.ntrace > nt1);
	CHECK_CONTAINS(log_text, "took over 2 sticks and 7 requests\n");
	CHECK_EQ_INT(stick[0].bad_bus + stick[1].bad_bus, 0);
	old_us_free();
	free(buf);
	rig_end();
}

TEST(usbstor_swap_without_the_tail_probes)
{
	struct fres *old0, *old1;
	struct block_info bi;
	struct pb_conn *handed;
	struct block_state st;
	size_t len, base;
	uint8_t *buf;

	swap_rig();
	buf = swap_out(&len);
	REQUIRE(buf != NULL);
	memcpy(&st, buf, sizeof(st));
	base = sizeof(st) + st.ndisks * sizeof(struct block_state_disk) +
	    st.nreq * sizeof(void *);
	old0 = res_named("block:usb0");
	old1 = res_named("block:usb1");
	memcpy(&old_us, &us, sizeof(us));
	memset(&us, 0, sizeof(us));
	handed = &fconn[FCONN - 1].pub;
	fconn[FCONN - 1] = (struct fconn){ 1, { &fakeusb_ops, &stick[0].usb,
	    NULL, "usb:1-1-0" }, res_named("usb:1-1-0") };
	ops.event(SELF, PB_EV_CONNECTED, handed, PB_REQ_BIND);
	REQUIRE(ops.start(SELF, &hub, PB_START_STANDBY) == PB_OK);
	/* Only abi/block.h's part, as another block provider would give. */
	REQUIRE(ops.import_state(SELF, buf, base, BLOCK_STATE_VERSION) == PB_OK);
	REQUIRE(ops.activate(SELF) == PB_OK);
	fake_withdraw(NULL, (struct pb_resource *)old0);
	fake_withdraw(NULL, (struct pb_resource *)old1);
	CHECK_EQ_INT(info_of("block:usb0", &bi), PB_EAGAIN);
	settle();
	CHECK(swap_all_done());
	CHECK_EQ_INT(info_of("block:usb0", &bi), PB_OK);
	CHECK_EQ_INT(bi.block_count, 4096);
	CHECK_CONTAINS(log_text, "probing the sticks handed over without "
	    "their LUNs");
	old_us_free();
	free(buf);
	rig_end();
}

/* A stick's LUN records: one for a stick of one LUN, as many as GET MAX
 * LUN says otherwise; a standby instance makes room for every LUN the
 * running one publishes before it publishes any (issue 16, memdiet). */
TEST(usbstor_lun_records_as_many_as_the_stick_has)
{
	struct fres *old0, *old1;
	struct pb_conn *handed;
	struct creq a;
	uint32_t ver = 0;
	size_t len;
	uint8_t *buf;

	REQUIRE(rig_one(2048));
	CHECK_EQ_INT(us.dev[0]->nlun_cap, 1);
	rig_end();

	reset_all();
	bm_init(&stick[0], 2048, 512);
	stick[0].max_lun = 1;
	bm_lun_disk(&stick[0], 1, 300, 512);
	REQUIRE(rig_attach());
	CHECK_EQ_INT(us.dev[0]->nlun_cap, 2);
	REQUIRE((old0 = res_named("block:usb0")) != NULL);
	REQUIRE((old1 = res_named("block:usb0.l1")) != NULL);
	REQUIRE(ops.quiesce(SELF) == PB_OK);
	REQUIRE(ops.export_state(SELF, NULL, 0, &len, &ver) == PB_OK);
	buf = calloc(1, len);
	REQUIRE(ops.export_state(SELF, buf, len, &len, &ver) == PB_OK);
	REQUIRE(ops.release(SELF) == PB_OK);
	memcpy(&old_us, &us, sizeof(us));
	memset(&us, 0, sizeof(us));
	handed = &fconn[FCONN - 1].pub;
	fconn[FCONN - 1] = (struct fconn){ 1, { &fakeusb_ops, &stick[0].usb,
	    NULL, "usb:1-1-0" }, res_named("usb:1-1-0") };
	ops.event(SELF, PB_EV_CONNECTED, handed, PB_REQ_BIND);
	REQUIRE(ops.start(SELF, &hub, PB_START_STANDBY) == PB_OK);
	REQUIRE(us.dev[0] != NULL);
	CHECK_EQ_INT(us.dev[0]->nlun_cap, 2);
	CHECK(us.dev[0]->lun[0].res != NULL && us.dev[0]->lun[1].res != NULL);
	REQUIRE(ops.import_state(SELF, buf, len, BLOCK_STATE_VERSION) == PB_OK);
	REQUIRE(ops.activate(SELF) == PB_OK);
	fake_withdraw(NULL, (struct pb_resource *)old0);
	fake_withdraw(NULL, (struct pb_resource *)old1);
	settle();
	creq_init(&a, 1, BLOCK_READ, 7, 4, 512, 2, 0);
	REQUIRE(submit_to("block:usb0.l1", &a) == PB_OK);
	settle();
	CHECK_EQ_INT(a.r.status, PB_OK);
	CHECK(matches(&a, 0, 1));
	creq_free(&a);
	old_us_free();
	free(buf);
	rig_end();
}

TEST(usbstor_failed_swap_resumes)
{
	struct fres *r1;
	size_t len;
	uint8_t *buf;

	swap_rig();
	buf = swap_out(&len);
	REQUIRE(buf != NULL);
	r1 = res_named("usb:1-2-0");
	CHECK_EQ_INT(r1->clients, 0);
	settle();
	CHECK_EQ_INT(swap_req[1].runs, 0);	/* handed: not ours to run */
	REQUIRE(ops.resume(SELF) == PB_OK);
	CHECK_EQ_INT(r1->clients, 1);		/* connected again */
	settle();
	CHECK(swap_all_done());
	free(buf);
	rig_end();
}

/*
 * The swap went through (the hub handed the bound stick to the new
 * instance: PB_EV_DISCONNECTED at the rebind), and the new instance
 * faulted in its watch window: the hub connects us to the stick again
 * (PB_EV_CONNECTED, still released) and resumes us, our disks' clients
 * rebound to them.  The stick and its disks are ours again: the requests
 * we handed over are taken back and served, and so are new ones.
 */
TEST(usbstor_resume_after_the_new_side_took_the_stick)
{
	struct fres *r0, *r1;
	struct pb_conn *bound, *again;
	unsigned resets;
	struct creq c;
	size_t len;
	uint8_t *buf;

	swap_rig();
	bound = us.dev[0]->conn;
	buf = swap_out(&len);
	REQUIRE(buf != NULL);
	r0 = res_named("usb:1-1-0");
	r1 = res_named("usb:1-2-0");
	ops.event(SELF, PB_EV_DISCONNECTED, bound, PB_REQ_BIND);
	conn_close(bound);		/* the new instance's now */
	settle();
	CHECK_EQ_INT(swap_req[1].runs, 0);	/* handed: not ours to run */
	/* The new instance's last command had its data moved, its CSW not
	 * read yet, when it faulted. */
	stick[0].phase = BM_CSW;
	resets = stick[0].resets;
	/* It faulted: its connections are closed, ours come back. */
	REQUIRE((again = conn_to(r0)) != NULL);
	ops.event(SELF, PB_EV_CONNECTED, again, PB_REQ_BIND);
	REQUIRE(ops.resume(SELF) == PB_OK);
	CHECK_EQ_INT(r0->clients, 1);
	CHECK_EQ_INT(r1->clients, 1);
	settle();
	CHECK(swap_all_done());
	CHECK_EQ_INT(read_once(77, &c), PB_OK);
	CHECK(matches(&c, 0, 0));
	creq_free(&c);
	/* The reset recovery came first: no command of ours met the other
	 * one's CSW (or was stalled for it) */
	CHECK_EQ_INT(stick[0].resets, resets + 1);
	CHECK(strstr(log_text, ": reset recovery") == NULL);
	CHECK_EQ_INT(stick[0].bad_bus + stick[1].bad_bus, 0);
	free(buf);
	rig_end();
}

TEST(usbstor_import_refuses_what_is_not_ours)
{
	struct block_state st = { 1, 1 };
	struct block_state_disk sd = { .first = 0, .nreq = 1 };
	struct creq c;
	uint8_t buf[sizeof(st) + sizeof(sd) + 8];
	struct block_req *p;
	int heap;

	REQUIRE(rig_one(1024));
	heap = heap_out;	/* the stick's LUNs */
	creq_init(&c, 1, BLOCK_READ, 0, 8, 512, 1, 1);
	p = &c.r;
	rt_strlcpy(sd.path, "pci:00:1f.2/sata:0", sizeof(sd.path));
	memcpy(buf, &st, sizeof(st));
	memcpy(buf + sizeof(st), &sd, sizeof(sd));
	memcpy(buf + sizeof(st) + sizeof(sd), &p, 8);
	CHECK_EQ_INT(ops.import_state(SELF, buf, sizeof(buf),
	    BLOCK_STATE_VERSION), PB_ESTATE);
	CHECK_EQ_INT(ops.import_state(SELF, buf, sizeof(buf), 0x1234),
	    PB_ESTATE);
	/* Ours while running: taken as if submitted. */
	rt_strlcpy(sd.path, DEV0 "/lun:0", sizeof(sd.path));
	memcpy(buf + sizeof(st), &sd, sizeof(sd));
	CHECK_EQ_INT(ops.import_state(SELF, buf, sizeof(buf),
	    BLOCK_STATE_VERSION), PB_OK);
	settle();
	CHECK_EQ_INT(c.runs, 1);
	CHECK(c.r.status == PB_OK && matches(&c, 0, 0));
	CHECK_EQ_INT(heap_out, heap);	/* import kept nothing */
	creq_free(&c);
	rig_end();
}

TEST(usbstor_big_requests_run_as_several_commands)
{
	struct creq w, r;
	uint8_t *raw;

	/* A bus that takes 16 KiB and 5 segments per request: a 1 MiB write
	 * in 64 segments and its read back, pages scattered, go as 64
	 * commands each; the efi-block-sized requests of the takeover fit. */
	reset_all();
	bm_init(&stick[0], 8192, 512);
	stick[0].usb.info.max_transfer = 16 << 10;
	stick[0].usb.info.max_segments = 5;
	REQUIRE(rig_attach());
	creq_init(&w, 1, BLOCK_WRITE, 1000, 2048, 512, 8, 0);
	for (size_t i = 0; i < w.len; i++)
		w.buf[i] = (uint8_t)(i * 13 + i / 4096);
	REQUIRE(submit_to("block:usb0", &w) == PB_OK);
	creq_init(&r, 2, BLOCK_READ, 1000, 2048, 512, 8, 0);
	REQUIRE(submit_to("block:usb0", &r) == PB_OK);
	settle();
	CHECK_EQ_INT(w.r.status, PB_OK);
	CHECK_EQ_INT(r.r.status, PB_OK);
	CHECK(memcmp(stick[0].lun[0].image + 1000 * 512, w.buf, w.len) == 0);
	CHECK(memcmp(r.buf, w.buf, r.len) == 0);
	CHECK_EQ_INT(stick[0].writes, 64);
	CHECK_EQ_INT(stick[0].reads, 64);
	CHECK_EQ_INT(stick[0].bad_bus, 0);
	for (unsigned i = 0; i < stick[0].usb.ntrace; i++)
		CHECK(stick[0].usb.trace[i].length <= 16 << 10);
	creq_free(&r);
	/* Blocks across page ends (a buffer 100 bytes into a page): each
	 * command's segments are cut back to whole blocks. */
	creq_init(&r, 3, BLOCK_READ, 1000, 128, 512, 1, 0);
	creq_free(&r);			/* its own buffer: one of ours instead */
	raw = aligned_alloc(4096, 72 << 10);
	fake_dma_map(raw, 72 << 10, 1, 1);
	r.seg[0] = (struct block_seg){ raw + 100, 0, 64 << 10, 0 };
	REQUIRE(submit_to("block:usb0", &r) == PB_OK);
	settle();
	CHECK_EQ_INT(r.r.status, PB_OK);
	CHECK(memcmp(raw + 100, w.buf, 64 << 10) == 0);
	CHECK_EQ_INT(stick[0].bad_bus, 0);
	fake_dma_unmap(raw);
	free(raw);
	creq_free(&w);
	rig_end();
}

TEST(usbstor_undrivable_interface_declined_once)
{
	struct fres *r;

	REQUIRE(rig_one(1024));
	/* Our class triple, but no bulk-OUT endpoint. */
	bm_init(&stick[1], 1024, 512);
	stick[1].usb.desc_len = 0;
	fakeusb_add_interface(&stick[1].usb, 1);
	fakeusb_add_endpoint(&stick[1].usb, BM_EP_IN, USB_EP_BULK, 512, 0);
	r = stick_publish(1);
	tell_resource(r->name);
	tell_resource(r->name);
	settle();
	CHECK_CONTAINS(log_text, "usb:1-2-0: not driven: its interface lacks "
	    "a bulk-IN or bulk-OUT endpoint");
	CHECK(strstr(strstr(log_text, "not driven") + 1, "not driven") == NULL);
	CHECK_EQ_INT(r->clients, 0);
	CHECK_EQ_INT(stick[1].usb.ntrace, 0);
	rig_end();
}

/* A CBW on the wire, its completion not posted (its work item went
 * astray: run with a damaged argument, or not at all). */
static struct usb_req *
cbw_answered_astray(void)
{
	struct fakeusb *u = &stick[0].usb;
	struct usb_req *h = fakeusb_held(u, BM_EP_OUT);

	if (!h)
		return NULL;
	stick[0].silent = 0;
	h->status = PB_OK;
	bm_device(u, h);
	for (unsigned i = 0; i < u->nheld; i++)
		if (u->held[i] == h) {
			memmove(&u->held[i], &u->held[i + 1],
			    (u->nheld - i - 1) * sizeof(u->held[0]));
			u->nheld--;
		}
	return h;
}

/* It ended well, without a cancel. */
static void
read_done_uncancelled(struct creq *c)
{
	CHECK_EQ_INT(c->runs, 1);
	CHECK_EQ_INT(c->r.status, PB_OK);
	CHECK(matches(c, 0, 0));
	CHECK_EQ_INT(stick[0].usb.cancels, 0);
	creq_free(c);
	rig_end();
}

/* A read of 16 blocks at 0 on a stick that holds its CBW. */
static int
read_held_at_cbw(struct creq *c)
{
	if (!rig_one(2048))
		return 0;
	stick[0].silent = 1;
	creq_init(c, 0, BLOCK_READ, 0, 16, 512, 1, 1);
	if (submit_to("block:usb0", c) != PB_OK)
		return 0;
	settle();
	return 1;
}

/* A regbit injection: the completion work runs with a bit of its
 * argument flipped.  No stick is that: every stick is looked at and the
 * completed request found; the command goes on. */
TEST(usbstor_usbgone_completion_with_a_damaged_argument)
{
	struct creq c;

	REQUIRE(read_held_at_cbw(&c));
	REQUIRE(cbw_answered_astray() != NULL);
	bot_req_done((char *)us.dev[0] + 8);
	settle();
	CHECK_CONTAINS(log_text, "a usb completion ran with ");
	read_done_uncancelled(&c);
}

/* The completion never ran: at the deadline the request is seen to be
 * back (its status written) and taken, not cancelled (a cancel would
 * never come back and leave the stick for dead). */
TEST(usbstor_usbgone_completion_lost_taken_at_the_deadline)
{
	struct creq c;

	REQUIRE(read_held_at_cbw(&c));
	REQUIRE(cbw_answered_astray() != NULL);
	time_passes(T_CMD + MS);
	settle();
	CHECK_CONTAINS(log_text, "usb0: the CBW of command 0x28 (tag ");
	CHECK_CONTAINS(log_text, "was answered but its completion never ran: "
	    "taken now");
	read_done_uncancelled(&c);
}

/* The stick's timer runs with a damaged argument: the timers due are
 * found by looking at every stick, and the deadline is kept. */
TEST(usbstor_usbgone_timer_with_a_damaged_argument)
{
	struct creq c;
	struct usbstor_dev *d;

	REQUIRE(read_held_at_cbw(&c));
	d = us.dev[0];
	REQUIRE(d->timer_kind == TK_BOT);
	fake_timer_cancel(SELF, d->timer_id);	/* the hub's, consumed */
	time_passes(T_CMD + MS);
	dev_timer_fired((char *)d + 0x40);
	settle();
	CHECK_CONTAINS(log_text, "a timer ran with ");
	CHECK_CONTAINS(log_text, "got no answer in time: cancelled");
	CHECK_EQ_INT(stick[0].usb.cancels, 1);
	creq_free(&c);
	rig_end();
}

/* A work item to run the queue with a damaged argument: every stick's
 * queue is looked at. */
TEST(usbstor_usbgone_dispatch_with_a_damaged_argument)
{
	struct creq c;

	REQUIRE(rig_one(2048));
	creq_init(&c, 0, BLOCK_READ, 0, 16, 512, 1, 1);
	io_queue(us.dev[0], &c.r, 0);		/* queued, not kicked */
	io_dispatch((char *)us.dev[0] + 1);
	settle();
	CHECK_CONTAINS(log_text, "the dispatch ran with ");
	read_done_uncancelled(&c);
}

/* The CBW is checked as built: the stray-write injection leaves the
 * builder storing its second argument at its first and returning (its
 * first bytes made `mov %rdx,(%rcx); ret`): that CBW is not the
 * command's. */
TEST(usbstor_usbgone_cbw_checked_as_built)
{
	struct bot_cmd c = { .cdb = { 0x28, 0, 0, 0, 0, 9, 0, 0, 1, 0 },
	    .cdb_len = 10, .in = 1, .length = 512 };
	uint8_t cbw[sizeof(struct bot_cbw)];
	uint64_t tag = 77;

	bot_cbw_build(cbw, 77, c.length, c.in, 0, c.cdb, c.cdb_len);
	CHECK(cbw_as_meant(cbw, 77, &c));
	CHECK(!cbw_as_meant(cbw, 78, &c));
	c.length = 1024;
	CHECK(!cbw_as_meant(cbw, 77, &c));
	c.length = 512;
	memcpy(cbw, &tag, sizeof(tag));		/* the damaged builder */
	CHECK(!cbw_as_meant(cbw, 77, &c));
}

/* Stopped with a request the bus keeps for now (its cancel comes back
 * later): the request stays as the bus and the controller know it, for
 * them to drop at PB_EV_CLIENT_GONE, which comes after the stop, and its
 * DMA buffer stays for the hub to take back after that. */
TEST(usbstor_usbgone_stop_leaves_the_bus_its_request)
{
	struct creq c;
	struct usb_req *h, before;
	struct usbstor_dev *kept;

	REQUIRE(read_held_at_cbw(&c));
	kept = us.dev[0];
	stick[0].usb.cancel_keeps = 1;
	h = fakeusb_held(&stick[0].usb, BM_EP_OUT);
	REQUIRE(h != NULL);
	memset(h->hci_scratch, 0x5a, sizeof(h->hci_scratch));
	before = *h;
	ops.stop(SELF);
	CHECK(memcmp(h, &before, sizeof(before)) == 0);
	CHECK_EQ_INT(c.runs, 0);
	settle();
	CHECK_EQ_INT(c.runs, 1);
	CHECK_EQ_INT(c.r.status, PB_ECANCELED);
	CHECK_EQ_INT(fdma_allocs, 1);
	stick[0].usb.nheld = 0;		/* the bus drops it (CLIENT_GONE) */
	fake_free(SELF, kept);		/* and the hub takes its slot back */
	creq_free(&c);
	rig_end();
}

/* The completion posted twice: xhci, restarted after a fault as it
 * posted, posts again what the faulted instance may already have
 * (mods/xhci/state.c, take).  The second post finds the next stage not
 * answered and leaves it; the read ends once, right, without a reset. */
TEST(usbstor_usbgone_completion_posted_twice_ends_its_stage_once)
{
	struct fakeusb *u = &stick[0].usb;
	struct usb_req *h;
	struct creq c;

	REQUIRE(read_held_at_cbw(&c));
	REQUIRE(cbw_answered_astray() != NULL);
	stick[0].silent = 1;		/* the data stage is held */
	bot_req_done(us.dev[0]);	/* the first post */
	settle();
	REQUIRE((h = fakeusb_held(u, BM_EP_IN)) != NULL);
	bot_req_done(us.dev[0]);	/* the second */
	settle();
	CHECK(fakeusb_held(u, BM_EP_IN) == h);
	CHECK_EQ_INT(c.runs, 0);
	stick[0].silent = 0;
	h->status = PB_OK;
	bm_device(u, h);
	fakeusb_complete(u, h);
	settle();
	CHECK_EQ_INT(stick[0].resets, 0);
	read_done_uncancelled(&c);
}

/* The bus takes a request but answers PB_EBUSY ("still ours"; a retcode
 * injection into xhci's submit): the stage waits for the request as if
 * taken, rather than filling it afresh and sending it again (linked
 * twice at the controller); the read is right. */
TEST(usbstor_usbgone_busy_answer_waits_for_the_request)
{
	struct creq c;

	REQUIRE(rig_one(2048));
	stick[0].usb.lie_busy = 1;
	CHECK_EQ_INT(read_once(0, &c), PB_OK);
	CHECK(matches(&c, 0, 0));
	CHECK_CONTAINS(log_text, "usb0: the CBW: the bus still holds the "
	    "request: waiting for it");
	CHECK_EQ_INT(stick[0].resets, 0);
	creq_free(&c);
	rig_end();
}

/* ---- a block client gone (PB_EV_CLIENT_GONE, gone.c) ---------------------- */

/* Two clients' modules, as the owners of their requests' done items. */
static char client_a, client_b;

static void
creq_of(struct creq *c, int id, void *client)
{
	creq_init(c, id, BLOCK_READ, (uint64_t)id * 16, 16, 512, 1, 1);
	c->r.done.owner = client;
}

/* The hub tells usb-storage that `client`'s connection to block:usb0
 * goes: the provider's ops and ctx, the client named. */
static struct pb_conn
client_gone(void *client)
{
	struct fres *f = res_named("block:usb0");
	struct pb_conn view = { f->ops, f->ctx, client, f->name };

	ops.event(SELF, PB_EV_CLIENT_GONE, &view, 0);
	return view;
}

/* The held CBW of stick 0 answered: the command runs on. */
static void
stick0_unhold(void)
{
	struct usb_req *h = fakeusb_held(&stick[0].usb, BM_EP_OUT);

	stick[0].silent = 0;
	if (h) {
		h->status = PB_OK;
		bm_device(&stick[0].usb, h);
		fakeusb_complete(&stick[0].usb, h);
	}
	settle();
}

/*
 * Client b's read is on the wire, a's three are queued behind it with
 * b's second between them: a goes.  a's requests leave without a word
 * (not a byte of them written, nothing posted), the connection is not
 * kept (none of a's is on the wire), and b's run, in order, once.
 */
TEST(usbstor_clientgone_queued_requests_dropped_unwritten)
{
	struct creq b0, a[3], b1, before[3];
	struct pb_conn view;

	REQUIRE(rig_one(2048));
	ndone = 0;
	stick[0].silent = 1;
	creq_of(&b0, 0, &client_b);
	REQUIRE(submit_to("block:usb0", &b0) == PB_OK);
	settle();
	for (int i = 0; i < 3; i++) {
		creq_of(&a[i], 1 + i, &client_a);
		REQUIRE(submit_to("block:usb0", &a[i]) == PB_OK);
		if (i == 1) {
			creq_of(&b1, 9, &client_b);
			REQUIRE(submit_to("block:usb0", &b1) == PB_OK);
		}
	}
	view = client_gone(&client_a);
	CHECK(view.ops != NULL);
	memcpy(before, a, sizeof(a));
	stick0_unhold();
	for (int i = 0; i < 3; i++) {
		CHECK_EQ_INT(a[i].runs, 0);
		CHECK(memcmp(&a[i].r, &before[i].r, sizeof(a[i].r)) == 0);
	}
	CHECK_EQ_INT(b0.runs, 1);
	CHECK_EQ_INT(b1.runs, 1);
	CHECK_EQ_INT(b0.r.status, PB_OK);
	CHECK_EQ_INT(b1.r.status, PB_OK);
	CHECK(matches(&b0, 0, 0) && matches(&b1, 0, 0));
	CHECK_EQ_INT(ndone, 2);
	CHECK_CONTAINS(log_text, "block:usb0: a client went: 3 of its "
	    "requests dropped");
	creq_free(&b0);
	creq_free(&b1);
	for (int i = 0; i < 3; i++)
		creq_free(&a[i]);
	rig_end();
}

/* The gone client's own read is on the wire: it cannot be stopped before
 * the event returns, so the hub is told to keep the client's memory
 * (conn->ops NULL); its queued one is dropped, and the other client's
 * runs after the command ends. */
TEST(usbstor_clientgone_request_on_the_wire_keeps_its_memory)
{
	struct creq a0, a1, b0;
	struct pb_conn view;

	REQUIRE(rig_one(2048));
	ndone = 0;
	stick[0].silent = 1;
	creq_of(&a0, 0, &client_a);
	creq_of(&a1, 1, &client_a);
	creq_of(&b0, 2, &client_b);
	REQUIRE(submit_to("block:usb0", &a0) == PB_OK);
	settle();
	REQUIRE(submit_to("block:usb0", &a1) == PB_OK);
	REQUIRE(submit_to("block:usb0", &b0) == PB_OK);
	view = client_gone(&client_a);
	CHECK(view.ops == NULL);
	CHECK_CONTAINS(log_text, "a client went while its request is on the "
	    "wire: its memory stays out of use");
	stick0_unhold();
	CHECK_EQ_INT(a1.runs, 0);
	CHECK_EQ_INT(b0.runs, 1);
	CHECK_EQ_INT(b0.r.status, PB_OK);
	CHECK(matches(&b0, 0, 0));
	creq_free(&a0);
	creq_free(&a1);
	creq_free(&b0);
	rig_end();
}

/* Another client's going, or a connection the hub hands without naming
 * its client (an older hub), drops nothing. */
TEST(usbstor_clientgone_other_or_unnamed_client_drops_nothing)
{
	struct creq b0, b1;

	REQUIRE(rig_one(2048));
	ndone = 0;
	stick[0].silent = 1;
	creq_of(&b0, 0, &client_b);
	creq_of(&b1, 1, &client_b);
	REQUIRE(submit_to("block:usb0", &b0) == PB_OK);
	REQUIRE(submit_to("block:usb0", &b1) == PB_OK);
	settle();
	CHECK(client_gone(&client_a).ops != NULL);
	CHECK(client_gone(NULL).ops != NULL);
	stick0_unhold();
	CHECK_EQ_INT(b0.runs, 1);
	CHECK_EQ_INT(b1.runs, 1);
	CHECK(matches(&b0, 0, 0) && matches(&b1, 0, 0));
	creq_free(&b0);
	creq_free(&b1);
	rig_end();
}
