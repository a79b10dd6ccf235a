/*
 * mod_efiblock.c - host tests of efi-block against a fake firmware, and of
 * the stub's device-path spelling (efi/devpath.c).
 *
 * The fake firmware holds a few disks in memory (their bytes are a
 * pattern of the disk and the byte's offset) and counts every call; a
 * disk's geometry, its answers and its errors are set per test.  The fake
 * hub records published resources and runs the intrusive work items
 * (struct pb_work) in order when the test says, as the event loop would.
 * Requests are the test's, each with a `done` that counts its runs.
 *
 * What is checked: which disks are published and with which properties
 * (absurd ones skipped with one line each), info, refusals by submit
 * (nothing kept, nothing called, nothing completed), one request served
 * per work item, each completion exactly once with its status, data read
 * and written, errors as PB_EIO/PB_EMEDIA/PB_EROFS, quiesce and park
 * (requests taken, the firmware never called), export of what was not
 * served, take-back by resume, give-back and refusals by import, stop
 * cancelling what is still ours and only that.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../mods/efi-block/disk.c"
#include "../../mods/efi-block/queue.c"
#include "../../mods/efi-block/state.c"
#include "../../mods/efi-block/efi-block.c"
#include "../../efi/devpath.c"

/* --- the fake firmware ----------------------------------------------- */

#define FW_DISKS 6
#define BS 512

static struct fdisk {
	struct firmware_disk info;
	uint8_t *data;			/* (last_block + 1) * block_size */
	int io_error;			/* disk_io answers this when set */
	int flush_error;
	unsigned change_media_after;	/* reads before EMEDIA, 0: never */
} fdisk[FW_DISKS];
static unsigned nfdisk;
static int info_error_at = -1;		/* disk_info fails for this index */
static struct {
	unsigned info, io, reads, writes, flushes;
} fwcalls;

static uint8_t
pattern(unsigned disk, uint64_t off)
{
	return (uint8_t)(off * 7 + (off >> 9) * 13 + disk * 101);
}

static struct fdisk *
fw_add(const char *path, uint32_t bs, uint64_t blocks)
{
	struct fdisk *f = &fdisk[nfdisk];
	unsigned idx = nfdisk++;

	memset(f, 0, sizeof(*f));
	f->info = (struct firmware_disk){
		.size = sizeof(f->info), .block_size = bs,
		.last_block = blocks - 1, .media_id = 1, .io_align = 4,
		.media_present = 1,
	};
	rt_strlcpy(f->info.path, path, sizeof(f->info.path));
	rt_strlcpy(f->info.model, "QEMU HARDDISK", sizeof(f->info.model));
	rt_strlcpy(f->info.serial, "QM0000" "1", sizeof(f->info.serial));
	if (bs && blocks && blocks < (1u << 20) && !(bs & (bs - 1))) {
		f->data = malloc(bs * blocks);
		for (uint64_t i = 0; i < bs * blocks; i++)
			f->data[i] = pattern(idx, i);
	}
	return f;
}

static int
fake_disk_info(void *ctx, unsigned index, struct firmware_disk *out)
{
	size_t n;

	fwcalls.info++;
	if ((int)index == info_error_at)
		return PB_EIO;
	if (index >= nfdisk)
		return PB_ENOENT;
	n = out->size < sizeof(fdisk[index].info) ? out->size :
	    sizeof(fdisk[index].info);
	memcpy(out, &fdisk[index].info, n);
	out->size = (uint32_t)n;
	return PB_OK;
}

static int
fake_disk_io(void *ctx, unsigned index, uint32_t media_id, int write,
    uint64_t lba, void *buf, size_t len)
{
	struct fdisk *f = &fdisk[index];
	uint64_t off = lba * f->info.block_size;

	fwcalls.io++;
	write ? fwcalls.writes++ : fwcalls.reads++;
	if (f->io_error)
		return f->io_error;
	if (f->change_media_after && !--f->change_media_after) {
		f->info.media_id++;
		return PB_EMEDIA;
	}
	if (media_id != f->info.media_id)
		return PB_EMEDIA;
	if (len % f->info.block_size || lba > f->info.last_block ||
	    len / f->info.block_size > f->info.last_block - lba + 1)
		return PB_EINVAL;
	if (write)
		memcpy(f->data + off, buf, len);
	else
		memcpy(buf, f->data + off, len);
	return PB_OK;
}

static int
fake_disk_flush(void *ctx, unsigned index)
{
	fwcalls.flushes++;
	return fdisk[index].flush_error;
}

static const struct firmware_ops fake_fw = {
	.disk_info = fake_disk_info,
	.disk_io = fake_disk_io,
	.disk_flush = fake_disk_flush,
};
static struct pb_conn fw_conn = { .ops = &fake_fw, .res = "firmware:uefi" };

/* --- the fake hub ---------------------------------------------------- */

static char self_storage;
#define SELF ((struct pb_module *)&self_storage)
#define RES_MAX 8
#define WORK_MAX 64

static char log_text[8192];
static unsigned log_lines;
static struct fres {
	char name[48];
	char props[256];
	const void *ops;
	void *ctx;
} res[RES_MAX];
static unsigned nres;
static struct pb_work *wq[WORK_MAX];
static unsigned nwq;
static unsigned allocs;

static void
fake_log(struct pb_module *self, int level, const char *msg)
{
	size_t n = strlen(log_text);

	snprintf(log_text + n, sizeof(log_text) - n, "%s\n", msg);
	log_lines++;
}

static struct pb_resource *
fake_publish(struct pb_module *self, const char *iface, const char *name,
    const char *props, const void *ops, void *ctx)
{
	if (nres == RES_MAX)
		return NULL;
	snprintf(res[nres].name, sizeof(res[nres].name), "%s:%s", iface, name);
	snprintf(res[nres].props, sizeof(res[nres].props), "%s", props);
	res[nres].ops = ops;
	res[nres].ctx = ctx;
	return (struct pb_resource *)&res[nres++];
}

static int
fake_set_props(struct pb_module *self, struct pb_resource *r,
    const char *props)
{
	struct fres *f = (struct fres *)r;

	snprintf(f->props, sizeof(f->props), "%s", props);
	return PB_OK;
}

static void *
fake_alloc(struct pb_module *self, size_t bytes)
{
	allocs++;
	return calloc(1, bytes);
}

static void
fake_free(struct pb_module *self, void *p)
{
	if (p)
		allocs--;
	free(p);
}

static void
fake_work_init(struct pb_module *self, struct pb_work *w, pb_work_fn fn,
    void *arg)
{
	*w = (struct pb_work){ .fn = fn, .arg = arg, .owner = self };
}

static void
fake_work_post(struct pb_module *self, struct pb_work *w)
{
	if (w->queued)
		return;
	if (nwq == WORK_MAX) {
		fprintf(stderr, "fake work queue full\n");
		abort();
	}
	w->queued = 1;
	wq[nwq++] = w;
}

static void
fake_work_cancel(struct pb_module *self, struct pb_work *w)
{
	for (unsigned i = 0; i < nwq; i++)
		if (wq[i] == w) {
			memmove(wq + i, wq + i + 1, (--nwq - i) * sizeof(wq[0]));
			w->queued = 0;
			return;
		}
}

/* Run one work item, oldest first: 0 when there was none. */
static int
run_one(void)
{
	struct pb_work *w;

	if (!nwq)
		return 0;
	w = wq[0];
	memmove(wq, wq + 1, --nwq * sizeof(wq[0]));
	w->queued = 0;
	w->fn(w->arg);
	return 1;
}

static unsigned
run_all(void)
{
	unsigned n = 0;

	while (run_one())
		n++;
	return n;
}

static const struct pb_hub hub = {
	.size = sizeof(struct pb_hub),
	.abi_major = PB_ABI_MAJOR, .abi_minor = PB_ABI_MINOR,
	.log = fake_log,
	.alloc = fake_alloc,
	.free = fake_free,
	.publish = fake_publish,
	.set_props = fake_set_props,
	.work_init = fake_work_init,
	.work_post = fake_work_post,
	.work_cancel = fake_work_cancel,
};

/* --- the client's requests ------------------------------------------- */

#define MAXR 16

struct creq {
	struct block_req req;
	struct block_seg seg[2];
	uint8_t *buf;
	unsigned done;			/* runs of its completion */
	int status_seen;
};

static struct creq cr[MAXR];

static void
done_fn(void *arg)
{
	struct creq *c = arg;

	c->done++;
	c->status_seen = c->req.status;
}

/* Request k: op over count blocks at lba into its own buffer, in one
 * segment (or two halves). */
static struct block_req *
mkreq(unsigned k, int op, uint64_t lba, uint32_t count, int halves)
{
	struct creq *c = &cr[k];
	size_t bytes = (size_t)count * BS;

	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->buf = calloc(1, bytes ? bytes : 1);
	c->req = (struct block_req){ .size = sizeof(c->req), .op = op,
	    .lba = lba, .count = count, .segs = c->seg, .client_data = c };
	if (op != BLOCK_FLUSH) {
		c->req.nseg = halves ? 2 : 1;
		c->seg[0] = (struct block_seg){ .va = c->buf,
		    .len = (uint32_t)(halves ? bytes / 2 : bytes) };
		c->seg[1] = (struct block_seg){ .va = c->buf + bytes / 2,
		    .len = (uint32_t)(bytes / 2) };
	}
	c->req.status = 12345;
	fake_work_init(NULL, &c->req.done, done_fn, c);
	return &c->req;
}

static int
submit(unsigned disk, struct block_req *req)
{
	const struct block_ops *ops = res[disk].ops;

	return ops->submit(res[disk].ctx, req);
}

static int
data_ok(unsigned fw_disk, const struct creq *c)
{
	for (size_t i = 0; i < (size_t)c->req.count * BS; i++)
		if (c->buf[i] != pattern(fw_disk, c->req.lba * BS + i))
			return 0;
	return 1;
}

/* --- set up and tear down -------------------------------------------- */

static void
reset(void)
{
	for (unsigned i = 0; i < FW_DISKS; i++)
		free(fdisk[i].data);
	for (unsigned i = 0; i < MAXR; i++)
		free(cr[i].buf);
	memset(fdisk, 0, sizeof(fdisk));
	memset(cr, 0, sizeof(cr));
	memset(&fwcalls, 0, sizeof(fwcalls));
	memset(res, 0, sizeof(res));
	nfdisk = nres = nwq = log_lines = 0;
	info_error_at = -1;
	log_text[0] = '\0';
}

/* Two good SATA disks (8 MiB, 4 MiB), started normally. */
static int
start_two(void)
{
	reset();
	fw_add("pci:00:1f.2/sata:0", BS, 16384);
	fw_add("pci:00:1f.2/sata:1", BS, 8192);
	efiblk_event(SELF, PB_EV_CONNECTED, &fw_conn, 0);
	return efiblk_start(SELF, &hub, PB_START_NORMAL);
}

static void
finish(void)
{
	efiblk_stop(SELF);
	run_all();
	reset();
}

static unsigned
total_done(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MAXR; i++)
		n += cr[i].done;
	return n;
}

/* --- publishing ------------------------------------------------------- */

TEST(efiblock_publishes_whole_disks_skips_absurd_ones)
{
	reset();
	fw_add("pci:00:1f.2/sata:0", BS, 131072);
	fw_add("odd-size", 520, 100);			/* not a power of two */
	fw_add("no-blocks", BS, 0);			/* last_block wraps */
	fw_add("empty-drive", BS, 100)->info.media_present = 0;
	fw_add("pci:00:14.0/usb:3.1/lun:0", 4096, 256)->info.removable = 1;
	fw_add("pci:00:1f.2/sata:0", BS, 100);		/* a path twice */
	efiblk_event(SELF, PB_EV_CONNECTED, &fw_conn, 0);
	REQUIRE(efiblk_start(SELF, &hub, PB_START_NORMAL) == PB_OK);
	CHECK_EQ_INT(nres, 2);
	CHECK_STR(res[0].name, "block:efi0");
	CHECK_STR(res[0].props, "path=pci:00:1f.2/sata:0 size=67108864 bs=512 "
	    "ro=0 rm=0 model=QEMU_HARDDISK serial=QM00001");
	CHECK_STR(res[1].name, "block:efi1");
	CHECK_STR(res[1].props, "path=pci:00:14.0/usb:3.1/lun:0 size=1048576 "
	    "bs=4096 ro=0 rm=1 model=QEMU_HARDDISK serial=QM00001");
	CHECK_CONTAINS(log_text, "firmware disk 1 (odd-size): skipped: its "
	    "block size is not a power of two");
	CHECK_CONTAINS(log_text, "firmware disk 2 (no-blocks): skipped: it "
	    "has 0 blocks");
	CHECK_CONTAINS(log_text, "firmware disk 3 (empty-drive): skipped: no "
	    "medium");
	CHECK_CONTAINS(log_text, "firmware disk 5 (pci:00:1f.2/sata:0): "
	    "skipped: another disk has its path");
	/* One line per skipped disk, one per published disk. */
	CHECK_EQ_INT(log_lines, 4 + 2);
	CHECK_EQ_INT(fwcalls.io, 0);
	finish();
}

TEST(efiblock_declines_without_disks_and_reports_firmware_errors)
{
	reset();
	fw_add("pci:00:1f.2/sata:0", BS, 100);
	info_error_at = 0;
	efiblk_event(SELF, PB_EV_CONNECTED, &fw_conn, 0);
	CHECK_EQ_INT(efiblk_start(SELF, &hub, PB_START_NORMAL), PB_ENODEV);
	CHECK_CONTAINS(log_text, "firmware disk 0: the firmware cannot "
	    "describe it (-5)");
	CHECK_EQ_INT(nres, 0);
	finish();
	/* Without the firmware connection it does not start at all. */
	CHECK_EQ_INT(efiblk_start(SELF, &hub, PB_START_NORMAL), PB_ENOENT);
	finish();
}

TEST(efiblock_refuses_a_hub_without_work_items)
{
	struct pb_hub old = hub;

	reset();
	fw_add("pci:00:1f.2/sata:0", BS, 100);
	old.size = offsetof(struct pb_hub, dma_alloc);
	efiblk_event(SELF, PB_EV_CONNECTED, &fw_conn, 0);
	CHECK_EQ_INT(efiblk_start(SELF, &old, PB_START_NORMAL), PB_ENOTSUP);
	CHECK_CONTAINS(log_text, "needs the hub's work items");
	efiblk_stop(SELF);
	reset();
}

TEST(efiblock_info_is_the_media_and_honours_the_callers_size)
{
	struct block_info bi = { .size = sizeof(bi) };
	struct { uint32_t size, block_size; } small = { 8, 0 };
	const struct block_ops *ops;

	REQUIRE(start_two() == PB_OK);
	ops = res[1].ops;
	fdisk[1].info.write_caching = 1;
	REQUIRE(ops->info(res[1].ctx, &bi) == PB_OK);
	CHECK_EQ_INT(bi.size, sizeof(bi));
	CHECK_EQ_INT(bi.block_size, 512);
	CHECK_EQ_INT(bi.block_count, 8192);
	CHECK_EQ_INT(bi.max_transfer, EFIBLK_MAX_TRANSFER);
	CHECK_EQ_INT(bi.max_segments, EFIBLK_MAX_SEGS);
	CHECK_EQ_INT(bi.align, 4);
	CHECK_EQ_INT(bi.flags, BLOCK_FUA);	/* write_caching read at start */
	CHECK_EQ_INT(bi.media_id, 1);
	CHECK(bi.dma_limit == ~0ull);
	CHECK_EQ_INT(ops->info(res[1].ctx, (struct block_info *)&small), PB_OK);
	CHECK_EQ_INT(small.size, 8);
	CHECK_EQ_INT(small.block_size, 512);
	CHECK_EQ_INT(ops->info(res[1].ctx, NULL), PB_EINVAL);
	finish();
}

/* --- submit ------------------------------------------------------------ */

TEST(efiblock_submit_refuses_bad_requests_and_keeps_nothing)
{
	struct block_req *r;

	REQUIRE(start_two() == PB_OK);
	/* disk 1 has 8192 blocks: 0..8191 */
	CHECK_EQ_INT(submit(1, mkreq(0, BLOCK_READ, 8192, 1, 0)), PB_EINVAL);
	CHECK_EQ_INT(submit(1, mkreq(0, BLOCK_READ, 8191, 2, 0)), PB_EINVAL);
	CHECK_EQ_INT(submit(1, mkreq(0, BLOCK_READ, ~0ull, 2, 0)), PB_EINVAL);
	CHECK_EQ_INT(submit(1, mkreq(0, BLOCK_READ, 0, 0, 0)), PB_EINVAL);
	CHECK_EQ_INT(submit(1, mkreq(0, BLOCK_READ, 0, 4096, 0)), PB_EINVAL);
	r = mkreq(0, BLOCK_READ, 0, 4, 0);
	cr[0].seg[0].len = 3 * BS;		/* segments short of count */
	CHECK_EQ_INT(submit(1, r), PB_EINVAL);
	r = mkreq(0, BLOCK_READ, 0, 4, 1);
	cr[0].seg[0].len = BS + 1;		/* not whole blocks */
	cr[0].seg[1].len = 3 * BS - 1;
	CHECK_EQ_INT(submit(1, r), PB_EINVAL);
	r = mkreq(0, BLOCK_READ, 0, 4, 0);
	cr[0].seg[0].va = NULL;
	CHECK_EQ_INT(submit(1, r), PB_EINVAL);
	r = mkreq(0, BLOCK_READ, 0, 4, 0);
	r->nseg = 0;
	CHECK_EQ_INT(submit(1, r), PB_EINVAL);
	r = mkreq(0, 9, 0, 4, 0);
	CHECK_EQ_INT(submit(1, r), PB_EINVAL);
	r = mkreq(0, BLOCK_READ, 0, 4, 0);
	r->flags = 0x80;
	CHECK_EQ_INT(submit(1, r), PB_EINVAL);
	r = mkreq(0, BLOCK_READ, 0, 4, 0);
	r->size = 40;				/* an older, shorter request */
	CHECK_EQ_INT(submit(1, r), PB_EINVAL);
	CHECK_EQ_INT(submit(1, mkreq(0, BLOCK_FLUSH, 0, 1, 0)), PB_EINVAL);
	CHECK_EQ_INT(submit(1, NULL), PB_EINVAL);
	efb.disk[1].fw.read_only = 1;
	CHECK_EQ_INT(submit(1, mkreq(0, BLOCK_WRITE, 0, 1, 0)), PB_EROFS);
	/* Nothing was kept: no work, no firmware call, no completion. */
	CHECK_EQ_INT(run_all(), 0);
	CHECK_EQ_INT(fwcalls.io + fwcalls.flushes, 0);
	CHECK_EQ_INT(total_done(), 0);
	CHECK(efb.disk[1].head == NULL);
	finish();
}

/* --- serving ------------------------------------------------------------ */

TEST(efiblock_serves_one_request_per_work_item_each_done_once)
{
	REQUIRE(start_two() == PB_OK);
	CHECK_EQ_INT(submit(0, mkreq(0, BLOCK_READ, 0, 256, 0)), PB_OK);
	CHECK_EQ_INT(submit(0, mkreq(1, BLOCK_READ, 256, 256, 1)), PB_OK);
	CHECK_EQ_INT(submit(1, mkreq(2, BLOCK_READ, 8191, 1, 0)), PB_OK);
	/* Submitting ran nothing: the request is served as work. */
	CHECK_EQ_INT(fwcalls.io, 0);
	CHECK_EQ_INT(total_done(), 0);
	CHECK(run_one());			/* the server: request 0 */
	CHECK_EQ_INT(fwcalls.io, 1);
	CHECK_EQ_INT(cr[0].done, 0);		/* done is the client's work */
	run_all();
	/* Request 1 had two segments: one firmware call each. */
	CHECK_EQ_INT(fwcalls.reads, 4);
	for (unsigned k = 0; k < 3; k++) {
		CHECK_MSG(cr[k].done == 1, "request %u done %u times", k,
		    cr[k].done);
		CHECK_EQ_INT(cr[k].status_seen, PB_OK);
	}
	CHECK(data_ok(0, &cr[0]));
	CHECK(data_ok(0, &cr[1]));
	CHECK(data_ok(1, &cr[2]));
	/* Nothing more happens afterwards. */
	CHECK_EQ_INT(run_all(), 0);
	CHECK_EQ_INT(total_done(), 3);
	finish();
}

TEST(efiblock_serves_disks_round_robin)
{
	REQUIRE(start_two() == PB_OK);
	for (unsigned k = 0; k < 3; k++)
		CHECK_EQ_INT(submit(0, mkreq(k, BLOCK_READ, k, 1, 0)), PB_OK);
	CHECK_EQ_INT(submit(1, mkreq(3, BLOCK_READ, 0, 1, 0)), PB_OK);
	run_one();				/* disk 0's first */
	run_one();				/* the completion of it */
	run_one();				/* disk 1's, not disk 0's second */
	CHECK(cr[3].req.status == PB_OK);	/* served, done not run yet */
	CHECK_EQ_INT(cr[3].done, 0);
	CHECK(cr[1].req.status == 12345);
	run_all();
	CHECK_EQ_INT(total_done(), 4);
	finish();
}

TEST(efiblock_writes_reach_the_disk_flush_and_fua)
{
	struct block_req *w;

	REQUIRE(start_two() == PB_OK);
	fdisk[0].info.write_caching = efb.disk[0].fw.write_caching = 1;
	w = mkreq(0, BLOCK_WRITE, 10, 2, 0);
	memset(cr[0].buf, 0xa5, 2 * BS);
	w->flags = BLOCK_REQ_FUA;
	CHECK_EQ_INT(submit(0, w), PB_OK);
	CHECK_EQ_INT(submit(0, mkreq(1, BLOCK_FLUSH, 0, 0, 0)), PB_OK);
	run_all();
	CHECK_EQ_INT(cr[0].done, 1);
	CHECK_EQ_INT(cr[0].status_seen, PB_OK);
	CHECK_EQ_INT(cr[1].done, 1);
	CHECK_EQ_INT(fwcalls.writes, 1);
	CHECK_EQ_INT(fwcalls.flushes, 2);	/* FUA's, then the flush */
	CHECK(fdisk[0].data[10 * BS] == 0xa5 && fdisk[0].data[12 * BS - 1] ==
	    0xa5 && fdisk[0].data[12 * BS] == pattern(0, 12 * BS));
	finish();
}

TEST(efiblock_firmware_errors_become_statuses)
{
	REQUIRE(start_two() == PB_OK);
	fdisk[0].io_error = PB_EINVAL;		/* whatever it says: EIO */
	CHECK_EQ_INT(submit(0, mkreq(0, BLOCK_READ, 0, 1, 0)), PB_OK);
	run_all();
	CHECK_EQ_INT(cr[0].done, 1);
	CHECK_EQ_INT(cr[0].status_seen, PB_EIO);
	CHECK_CONTAINS(log_text, "block:efi0: read of 1 blocks at 0 failed (-5)");
	fdisk[0].io_error = PB_EROFS;
	CHECK_EQ_INT(submit(0, mkreq(1, BLOCK_WRITE, 0, 1, 0)), PB_OK);
	fdisk[1].flush_error = -99;
	CHECK_EQ_INT(submit(1, mkreq(2, BLOCK_FLUSH, 0, 0, 0)), PB_OK);
	run_all();
	CHECK_EQ_INT(cr[1].status_seen, PB_EROFS);
	CHECK_EQ_INT(cr[2].status_seen, PB_EIO);
	/* The log keeps quiet after a few failures of one disk. */
	fdisk[0].io_error = PB_EIO;
	for (unsigned k = 3; k < 3 + 10; k++)
		CHECK_EQ_INT(submit(0, mkreq(k, BLOCK_READ, k, 1, 0)), PB_OK);
	log_lines = 0;
	run_all();
	CHECK_EQ_INT(log_lines, EFIBLK_ERRORS_LOGGED - 2);
	CHECK_CONTAINS(log_text, "further failures are not logged");
	CHECK_EQ_INT(total_done(), 13);
	finish();
}

TEST(efiblock_media_change_fails_the_request_and_takes_the_new_medium)
{
	struct block_info bi = { .size = sizeof(bi) };
	const struct block_ops *ops;

	REQUIRE(start_two() == PB_OK);
	ops = res[0].ops;
	fdisk[0].change_media_after = 1;
	fdisk[0].info.last_block = 1023;	/* the new medium is smaller */
	CHECK_EQ_INT(submit(0, mkreq(0, BLOCK_READ, 0, 1, 0)), PB_OK);
	run_all();
	CHECK_EQ_INT(cr[0].status_seen, PB_EMEDIA);
	REQUIRE(ops->info(res[0].ctx, &bi) == PB_OK);
	CHECK_EQ_INT(bi.media_id, 2);
	CHECK_EQ_INT(bi.block_count, 1024);
	CHECK_CONTAINS(res[0].props, "path=pci:00:1f.2/sata:0 size=524288 ");
	CHECK_CONTAINS(log_text, "block:efi0: medium changed: 1024 blocks");
	/* With the new media id, reads work again. */
	CHECK_EQ_INT(submit(0, mkreq(1, BLOCK_READ, 1023, 1, 0)), PB_OK);
	CHECK_EQ_INT(submit(0, mkreq(2, BLOCK_READ, 1024, 1, 0)), PB_EINVAL);
	run_all();
	CHECK_EQ_INT(cr[1].status_seen, PB_OK);
	finish();
}

/* --- quiesce, park, export, resume, import, stop -------------------------- */

/* The requests a state lists for disk `path`, in order. */
static unsigned
listed(const uint8_t *buf, const char *path, struct block_req **out)
{
	struct block_state st;
	struct block_state_disk sd;
	unsigned n = 0;

	memcpy(&st, buf, sizeof(st));
	for (uint32_t i = 0; i < st.ndisks; i++) {
		memcpy(&sd, buf + sizeof(st) + i * sizeof(sd), sizeof(sd));
		if (strcmp(sd.path, path) != 0)
			continue;
		for (uint32_t k = 0; k < sd.nreq; k++)
			memcpy(&out[n++], buf + sizeof(st) + st.ndisks *
			    sizeof(sd) + (sd.first + k) * sizeof(out[0]),
			    sizeof(out[0]));
	}
	return n;
}

static uint8_t *
export(size_t *len)
{
	uint32_t ver = 0;
	uint8_t *buf;

	if (efiblk_export_state(SELF, NULL, 0, len, &ver) != PB_OK ||
	    ver != BLOCK_STATE_VERSION)
		return NULL;
	buf = malloc(*len);
	if (efiblk_export_state(SELF, buf, *len, len, &ver) != PB_OK) {
		free(buf);
		return NULL;
	}
	return buf;
}

TEST(efiblock_quiesced_takes_requests_and_exports_them_unserved)
{
	struct block_req *l[8];
	uint8_t *st;
	size_t len;

	REQUIRE(start_two() == PB_OK);
	CHECK_EQ_INT(submit(0, mkreq(0, BLOCK_READ, 0, 1, 0)), PB_OK);
	CHECK_EQ_INT(efiblk_quiesce(SELF), PB_OK);
	CHECK_EQ_INT(submit(0, mkreq(1, BLOCK_READ, 1, 1, 0)), PB_OK);
	CHECK_EQ_INT(submit(1, mkreq(2, BLOCK_READ, 2, 1, 0)), PB_OK);
	run_all();				/* the server does nothing */
	CHECK_EQ_INT(fwcalls.io, 0);
	CHECK_EQ_INT(total_done(), 0);
	REQUIRE((st = export(&len)) != NULL);
	CHECK_EQ_INT(len, sizeof(struct block_state) + 2 *
	    sizeof(struct block_state_disk) + 3 * sizeof(void *));
	CHECK_EQ_INT(listed(st, "pci:00:1f.2/sata:0", l), 2);
	CHECK(l[0] == &cr[0].req && l[1] == &cr[1].req);
	CHECK_EQ_INT(listed(st, "pci:00:1f.2/sata:1", l), 1);
	CHECK(l[0] == &cr[2].req);
	/* Handed over: stop completes none of them, it is the importer's
	 * to do, and their scratch is the importer's to use. */
	memset(cr[0].req.scratch, 0xee, sizeof(cr[0].req.scratch));
	efiblk_stop(SELF);
	run_all();
	CHECK_EQ_INT(total_done(), 0);
	CHECK_EQ_INT(allocs, 0);		/* `handed` went with stop */
	free(st);
	reset();
}

TEST(efiblock_parked_takes_requests_but_never_calls_the_firmware)
{
	struct block_req *l[8];
	uint8_t *st;
	size_t len;

	REQUIRE(start_two() == PB_OK);
	CHECK_EQ_INT(efiblk_quiesce(SELF), PB_OK);
	CHECK_EQ_INT(efiblk_release(SELF), PB_OK);
	/* ExitBootServices: the firmware connection goes. */
	efiblk_event(SELF, PB_EV_DISCONNECTED, &fw_conn, 0);
	memset(&fwcalls, 0, sizeof(fwcalls));
	for (unsigned k = 0; k < 4; k++)
		CHECK_EQ_INT(submit(0, mkreq(k, BLOCK_READ, k * 8, 8, 0)), PB_OK);
	run_all();
	CHECK_EQ_INT(fwcalls.info + fwcalls.io + fwcalls.flushes, 0);
	CHECK_EQ_INT(total_done(), 0);
	REQUIRE((st = export(&len)) != NULL);
	CHECK_EQ_INT(listed(st, "pci:00:1f.2/sata:0", l), 4);
	for (unsigned k = 0; k < 4; k++)
		CHECK(l[k] == &cr[k].req);
	free(st);
	finish();
}

TEST(efiblock_resume_takes_back_what_was_handed_first_in_line)
{
	uint8_t *st;
	size_t len;

	REQUIRE(start_two() == PB_OK);
	CHECK_EQ_INT(efiblk_quiesce(SELF), PB_OK);
	CHECK_EQ_INT(submit(0, mkreq(0, BLOCK_READ, 0, 1, 0)), PB_OK);
	CHECK_EQ_INT(submit(1, mkreq(1, BLOCK_READ, 0, 1, 0)), PB_OK);
	REQUIRE((st = export(&len)) != NULL);
	CHECK_EQ_INT(efiblk_release(SELF), PB_OK);
	/* A request after the export is not in it. */
	CHECK_EQ_INT(submit(0, mkreq(2, BLOCK_READ, 0, 1, 0)), PB_OK);
	CHECK_EQ_INT(efiblk_resume(SELF), PB_OK);	/* the swap failed */
	run_one();
	CHECK(cr[0].req.status == PB_OK);	/* handed ones go first */
	CHECK(cr[2].req.status == 12345);
	run_all();
	for (unsigned k = 0; k < 3; k++)
		CHECK_MSG(cr[k].done == 1, "request %u done %u times", k,
		    cr[k].done);
	CHECK_EQ_INT(allocs, 0);
	free(st);
	finish();
}

TEST(efiblock_import_gives_back_and_queues_first)
{
	struct block_req *l[8];
	uint8_t *st, *back;
	size_t len;
	struct block_state s;
	struct block_state_disk sd;

	REQUIRE(start_two() == PB_OK);
	CHECK_EQ_INT(efiblk_quiesce(SELF), PB_OK);
	CHECK_EQ_INT(efiblk_release(SELF), PB_OK);
	CHECK_EQ_INT(submit(0, mkreq(0, BLOCK_READ, 0, 1, 0)), PB_OK);
	CHECK_EQ_INT(submit(1, mkreq(1, BLOCK_READ, 1, 1, 0)), PB_OK);
	CHECK_EQ_INT(submit(1, mkreq(2, BLOCK_READ, 2, 1, 0)), PB_OK);
	REQUIRE((st = export(&len)) != NULL);
	/* Disk 0's request is taken by its native driver; the hub gives
	 * back disk 1's, with nothing listed for disk 0. */
	back = calloc(1, len);
	s = (struct block_state){ .ndisks = 1, .nreq = 2 };
	sd = (struct block_state_disk){ .path = "pci:00:1f.2/sata:1",
	    .first = 0, .nreq = 2 };
	memcpy(back, &s, sizeof(s));
	memcpy(back + sizeof(s), &sd, sizeof(sd));
	memcpy(back + sizeof(s) + sizeof(sd), (void *[]){ &cr[1].req,
	    &cr[2].req }, 2 * sizeof(void *));
	CHECK_EQ_INT(submit(1, mkreq(3, BLOCK_READ, 3, 1, 0)), PB_OK);
	CHECK_EQ_INT(efiblk_import_state(SELF, back, sizeof(s) + sizeof(sd) +
	    2 * sizeof(void *), BLOCK_STATE_VERSION), PB_OK);
	free(st);
	REQUIRE((st = export(&len)) != NULL);	/* the next claim's export */
	CHECK_EQ_INT(listed(st, "pci:00:1f.2/sata:0", l), 0);
	CHECK_EQ_INT(listed(st, "pci:00:1f.2/sata:1", l), 3);
	CHECK(l[0] == &cr[1].req && l[1] == &cr[2].req && l[2] == &cr[3].req);
	/* Give everything back; stop then cancels disk 1's three, each
	 * once, and never the request disk 0's driver took. */
	CHECK_EQ_INT(efiblk_import_state(SELF, st, len, BLOCK_STATE_VERSION),
	    PB_OK);
	efiblk_stop(SELF);
	run_all();
	CHECK_EQ_INT(cr[0].done, 0);
	for (unsigned k = 1; k < 4; k++) {
		CHECK_MSG(cr[k].done == 1, "request %u done %u times", k,
		    cr[k].done);
		CHECK_EQ_INT(cr[k].status_seen, PB_ECANCELED);
	}
	CHECK_CONTAINS(log_text, "stopped: 3 requests cancelled");
	free(st);
	free(back);
	reset();
}

TEST(efiblock_import_checks_everything_before_taking_anything)
{
	uint8_t buf[256];
	struct block_state s = { .ndisks = 2, .nreq = 2 };
	struct block_state_disk d0 = { .path = "pci:00:1f.2/sata:0", .first = 0,
	    .nreq = 1 }, d1 = { .path = "pci:00:1f.2/sata:1", .first = 1,
	    .nreq = 1 };
	size_t len = sizeof(s) + 2 * sizeof(d0) + 2 * sizeof(void *);
	struct block_req *p[2];

	REQUIRE(start_two() == PB_OK);
	efiblk_quiesce(SELF);
	p[0] = mkreq(0, BLOCK_READ, 0, 1, 0);
	p[1] = mkreq(1, BLOCK_READ, 8191, 1, 0);
#define STATE() do { \
		memcpy(buf, &s, sizeof(s)); \
		memcpy(buf + sizeof(s), &d0, sizeof(d0)); \
		memcpy(buf + sizeof(s) + sizeof(d0), &d1, sizeof(d1)); \
		memcpy(buf + sizeof(s) + 2 * sizeof(d0), p, sizeof(p)); \
	} while (0)
	STATE();
	CHECK_EQ_INT(efiblk_import_state(SELF, buf, len, 7), PB_ESTATE);
	CHECK_EQ_INT(efiblk_import_state(SELF, buf, len - 1,
	    BLOCK_STATE_VERSION), PB_ESTATE);
	rt_strlcpy(d1.path, "pci:00:1f.2/sata:5", sizeof(d1.path));
	STATE();
	CHECK_EQ_INT(efiblk_import_state(SELF, buf, len, BLOCK_STATE_VERSION),
	    PB_ENOENT);			/* a disk we do not have */
	rt_strlcpy(d1.path, "pci:00:1f.2/sata:1", sizeof(d1.path));
	p[1] = mkreq(1, BLOCK_READ, 8192, 1, 0);	/* past disk 1's end */
	STATE();
	CHECK_EQ_INT(efiblk_import_state(SELF, buf, len, BLOCK_STATE_VERSION),
	    PB_ESTATE);
	p[1] = p[0];					/* listed twice */
	STATE();
	CHECK_EQ_INT(efiblk_import_state(SELF, buf, len, BLOCK_STATE_VERSION),
	    PB_ESTATE);
	d1.first = 2;					/* past the list */
	STATE();
	CHECK_EQ_INT(efiblk_import_state(SELF, buf, len, BLOCK_STATE_VERSION),
	    PB_ESTATE);
	/* None of it was taken. */
	CHECK(efb.disk[0].head == NULL && efb.disk[1].head == NULL);
	/* A good one is taken and served once activated. */
	d1.first = 1;
	p[1] = mkreq(1, BLOCK_READ, 8191, 1, 0);
	STATE();
	CHECK_EQ_INT(efiblk_import_state(SELF, buf, len, BLOCK_STATE_VERSION),
	    PB_OK);
	run_all();
	CHECK_EQ_INT(total_done(), 0);		/* still quiet */
	CHECK_EQ_INT(efiblk_activate(SELF), PB_OK);
	run_all();
	CHECK_EQ_INT(cr[0].done, 1);
	CHECK_EQ_INT(cr[1].done, 1);
	CHECK(data_ok(1, &cr[1]));
#undef STATE
	finish();
}

TEST(efiblock_standby_serves_only_after_activate)
{
	reset();
	fw_add("pci:00:1f.2/sata:0", BS, 100);
	efiblk_event(SELF, PB_EV_CONNECTED, &fw_conn, 0);
	REQUIRE(efiblk_start(SELF, &hub, PB_START_STANDBY) == PB_OK);
	CHECK_EQ_INT(log_lines, 0);		/* a swap's new side is quiet */
	CHECK_EQ_INT(submit(0, mkreq(0, BLOCK_READ, 0, 1, 0)), PB_OK);
	run_all();
	CHECK_EQ_INT(cr[0].done, 0);
	CHECK_EQ_INT(efiblk_activate(SELF), PB_OK);
	run_all();
	CHECK_EQ_INT(cr[0].done, 1);
	finish();
}

TEST(efiblock_stop_cancels_what_is_queued_once)
{
	REQUIRE(start_two() == PB_OK);
	for (unsigned k = 0; k < 3; k++)
		CHECK_EQ_INT(submit(k % 2, mkreq(k, BLOCK_READ, k, 1, 0)), PB_OK);
	run_one();				/* one is served */
	efiblk_stop(SELF);
	run_all();
	for (unsigned k = 0; k < 3; k++)
		CHECK_MSG(cr[k].done == 1, "request %u done %u times", k,
		    cr[k].done);
	CHECK_EQ_INT(cr[0].status_seen, PB_OK);
	CHECK_EQ_INT(cr[1].status_seen, PB_ECANCELED);
	CHECK_EQ_INT(cr[2].status_seen, PB_ECANCELED);
	CHECK_EQ_INT(nwq, 0);			/* the server is cancelled */
	reset();
}

/* --- the stub's device paths (efi/devpath.c) ----------------------------- */

static size_t
dpnode(uint8_t *p, uint8_t type, uint8_t sub, const uint8_t *data, size_t n)
{
	p[0] = type;
	p[1] = sub;
	p[2] = (uint8_t)(4 + n);
	p[3] = 0;
	if (n)
		memcpy(p + 4, data, n);
	return 4 + n;
}

#define END(p) dpnode(p, 0x7f, 0xff, NULL, 0)

static const char *
ident(const struct devpath_pci *pci, const uint8_t *dp, size_t max)
{
	static char out[64];

	if (!devpath_identity(pci, dp, max, out, sizeof(out)))
		return "(none)";
	return out;
}

TEST(devpath_sata_nvme_usb_and_the_pci_function)
{
	static const struct devpath_pci ahci = { 0, 0, 0x1f, 2 };
	static const struct devpath_pci far = { 1, 0x3a, 0, 7 };
	uint8_t dp[128];
	size_t n;

	n = dpnode(dp, 3, 18, (const uint8_t[]){ 0, 0, 0xff, 0xff, 0, 0 }, 6);
	END(dp + n);
	CHECK_STR(ident(&ahci, dp, sizeof(dp)), "pci:00:1f.2/sata:0");
	n = dpnode(dp, 3, 18, (const uint8_t[]){ 3, 0, 2, 0, 0, 0 }, 6);
	END(dp + n);
	CHECK_STR(ident(&ahci, dp, sizeof(dp)), "pci:00:1f.2/sata:3.2");
	n = dpnode(dp, 3, 23, (const uint8_t[]){ 1, 0, 0, 0, 1, 2, 3, 4, 5, 6,
	    7, 8 }, 12);
	END(dp + n);
	CHECK_STR(ident(&far, dp, sizeof(dp)), "pci:0001:3a:00.7/nvme:1");
	/* Root port index 2, then port index 0 of a hub, then LUN 1. */
	n = dpnode(dp, 3, 5, (const uint8_t[]){ 2, 0 }, 2);
	n += dpnode(dp + n, 3, 5, (const uint8_t[]){ 0, 0 }, 2);
	n += dpnode(dp + n, 3, 17, (const uint8_t[]){ 1 }, 1);
	END(dp + n);
	CHECK_STR(ident(&ahci, dp, sizeof(dp)), "pci:00:1f.2/usb:3.1/lun:1");
	n = dpnode(dp, 3, 5, (const uint8_t[]){ 4, 0 }, 2);
	END(dp + n);
	CHECK_STR(ident(&ahci, dp, sizeof(dp)), "pci:00:1f.2/usb:5/lun:0");
	END(dp);				/* virtio-blk: the function */
	CHECK_STR(ident(&ahci, dp, sizeof(dp)), "pci:00:1f.2");
}

/* The boot partition's identity (the handoff's boot_path): the disk's,
 * then /part:N from the Hard Drive node's PartitionNumber. */
TEST(devpath_partition_adds_its_number)
{
	static const struct devpath_pci ahci = { 0, 0, 0x1f, 2 };
	uint8_t hd[38] = { 2, 0, 0, 0 };	/* PartitionNumber 2 */
	uint8_t dp[128];
	size_t n;

	n = dpnode(dp, 3, 18, (const uint8_t[]){ 0, 0, 0xff, 0xff, 0, 0 }, 6);
	n += dpnode(dp + n, 4, 1, hd, sizeof(hd));
	END(dp + n);
	CHECK_STR(ident(&ahci, dp, sizeof(dp)), "pci:00:1f.2/sata:0/part:2");
	/* A USB stick's first partition. */
	hd[0] = 1;
	n = dpnode(dp, 3, 5, (const uint8_t[]){ 0, 0 }, 2);
	n += dpnode(dp + n, 3, 17, (const uint8_t[]){ 0 }, 1);
	n += dpnode(dp + n, 4, 1, hd, sizeof(hd));
	END(dp + n);
	CHECK_STR(ident(&ahci, dp, sizeof(dp)), "pci:00:1f.2/usb:1/lun:0/part:1");
	/* A partition with no disk before it, or anything after it. */
	n = dpnode(dp, 4, 1, hd, sizeof(hd));
	END(dp + n);
	CHECK_STR(ident(&ahci, dp, sizeof(dp)), "(none)");
	n = dpnode(dp, 3, 18, (const uint8_t[]){ 0, 0, 0xff, 0xff, 0, 0 }, 6);
	n += dpnode(dp + n, 4, 1, hd, sizeof(hd));
	n += dpnode(dp + n, 4, 4, (const uint8_t[]){ 'a', 0 }, 2);
	END(dp + n);
	CHECK_STR(ident(&ahci, dp, sizeof(dp)), "(none)");
}

TEST(devpath_unknown_or_malformed_paths_are_not_spelled)
{
	static const struct devpath_pci pci = { 0, 0, 3, 0 };
	uint8_t dp[128];
	char small[12];
	size_t n;

	/* SCSI (3,2): the caller uses the text instead. */
	n = dpnode(dp, 3, 2, (const uint8_t[]){ 0, 0, 0, 0 }, 4);
	END(dp + n);
	CHECK_STR(ident(&pci, dp, sizeof(dp)), "(none)");
	/* A node that says it is shorter than its header. */
	n = dpnode(dp, 3, 18, (const uint8_t[]){ 0, 0, 0xff, 0xff, 0, 0 }, 6);
	dp[2] = 3;
	CHECK_STR(ident(&pci, dp, sizeof(dp)), "(none)");
	/* A SATA node too short for its fields. */
	n = dpnode(dp, 3, 18, (const uint8_t[]){ 0, 0 }, 2);
	END(dp + n);
	CHECK_STR(ident(&pci, dp, sizeof(dp)), "(none)");
	/* No End within the bytes given. */
	n = dpnode(dp, 3, 18, (const uint8_t[]){ 0, 0, 0xff, 0xff, 0, 0 }, 6);
	CHECK_STR(ident(&pci, dp, n), "(none)");
	/* Two SATA nodes, or SATA then USB. */
	n = dpnode(dp, 3, 18, (const uint8_t[]){ 0, 0, 0xff, 0xff, 0, 0 }, 6);
	n += dpnode(dp + n, 3, 5, (const uint8_t[]){ 0, 0 }, 2);
	END(dp + n);
	CHECK_STR(ident(&pci, dp, sizeof(dp)), "(none)");
	/* A partition node after the disk (the caller gives whole disks). */
	n = dpnode(dp, 3, 18, (const uint8_t[]){ 0, 0, 0xff, 0xff, 0, 0 }, 6);
	n += dpnode(dp + n, 4, 1, (const uint8_t[42]){ 0 }, 38);
	END(dp + n);
	CHECK_STR(ident(&pci, dp, sizeof(dp)), "(none)");
	/* No PCI function, or no room for the answer. */
	END(dp);
	CHECK(!devpath_identity(NULL, dp, sizeof(dp), small, sizeof(small)));
	n = dpnode(dp, 3, 18, (const uint8_t[]){ 0, 0, 0xff, 0xff, 0, 0 }, 6);
	END(dp + n);
	CHECK(!devpath_identity(&pci, dp, sizeof(dp), small, sizeof(small)));
}
