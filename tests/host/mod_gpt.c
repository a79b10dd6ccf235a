/*
 * mod_gpt.c - the gpt module on the host: its scanner on partition tables
 * that sgdisk writes (GPT) or this file writes byte by byte (MBR with
 * extended and logical partitions, and every damaged table of the list in
 * mods/gpt/scan.h), and the module itself against a fake hub and a fake
 * disk (fakeblock.h): partitions published with their properties, reads
 * and writes landing at the right blocks, refused when out of range,
 * completed exactly once, queued when the pool is out, cancelled when the
 * disk goes, read again when its medium changes, and handed over in a
 * swap.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "../../abi/pbmod.h"

#include "../../abi/rt/setting.c"
#include "../../abi/rt/crc32.c"
#include "../../mods/gpt/names.c"
#include "../../mods/gpt/scan.c"
#include "../../mods/gpt/gptparse.c"
#include "../../mods/gpt/mbrparse.c"
#include "../../mods/gpt/props.c"
#include "../../mods/gpt/partio.c"
#include "../../mods/gpt/disk.c"
#include "../../mods/gpt/publish.c"
#include "../../mods/gpt/swap.c"
#undef PB_MODULE
#define PB_MODULE(...) const struct pb_modinfo gpt_modinfo = { \
	.magic = PB_MODINFO_MAGIC, __VA_ARGS__ }
#include "../../mods/gpt/gpt.c"

#include "fakehub.h"
#include "fakeblock.h"

/* ---- the fake hub: memory with a ledger, resources, connections ----- */

#define LEDGER 512
static void *ledger[LEDGER];

static void *
fake_alloc(struct pb_module *self, size_t n)
{
	for (unsigned i = 0; i < LEDGER; i++)
		if (!ledger[i])
			return ledger[i] = calloc(1, n ? n : 1);
	return NULL;
}

static void
fake_free(struct pb_module *self, void *p)
{
	for (unsigned i = 0; p && i < LEDGER; i++)
		if (ledger[i] == p) {
			ledger[i] = NULL;
			free(p);
			return;
		}
}

static unsigned
ledger_live(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < LEDGER; i++)
		n += ledger[i] != NULL;
	return n;
}

/* What the hub takes back when a module is unloaded. */
static void
ledger_free_all(void)
{
	for (unsigned i = 0; i < LEDGER; i++) {
		free(ledger[i]);
		ledger[i] = NULL;
	}
}

#define FRES 64
static struct fres {
	int used;
	char name[64], iface[16], owner[24], props[256];
	const void *ops;
	void *ctx;
} fres[FRES];
static int allow_same_name;	/* a standby counterpart of the same name */
static unsigned withdrawals;

static struct fres *
fres_add(const char *owner, const char *iface, const char *name,
    const char *props, const void *ops, void *ctx)
{
	for (unsigned i = 0; i < FRES; i++)
		if (fres[i].used && strcmp(fres[i].name, name) == 0 &&
		    !allow_same_name)
			return NULL;
	for (unsigned i = 0; i < FRES; i++)
		if (!fres[i].used) {
			struct fres *r = &fres[i];

			r->used = 1;
			snprintf(r->name, sizeof(r->name), "%s", name);
			snprintf(r->iface, sizeof(r->iface), "%s", iface);
			snprintf(r->owner, sizeof(r->owner), "%s", owner);
			snprintf(r->props, sizeof(r->props), "%s", props);
			r->ops = ops;
			r->ctx = ctx;
			return r;
		}
	return NULL;
}

static struct fres *
fres_find(const char *name)
{
	for (unsigned i = 0; i < FRES; i++)
		if (fres[i].used && strcmp(fres[i].name, name) == 0)
			return &fres[i];
	return NULL;
}

static const char *
props_of(const char *name)
{
	struct fres *r = fres_find(name);

	return r ? r->props : NULL;
}

static unsigned
nparts_published(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < FRES; i++)
		n += fres[i].used && strcmp(fres[i].owner, "gpt") == 0;
	return n;
}

static struct pb_resource *
fake_publish(struct pb_module *self, const char *iface, const char *name,
    const char *props, const void *ops, void *ctx)
{
	char full[64];

	snprintf(full, sizeof(full), "%s:%s", iface, name);
	return (struct pb_resource *)fres_add("gpt", iface, full, props, ops,
	    ctx);
}

static int
fake_withdraw(struct pb_module *self, struct pb_resource *r)
{
	struct fres *f = (struct fres *)r;

	if (!f || !f->used)
		return PB_EINVAL;
	f->used = 0;
	withdrawals++;
	return PB_OK;
}

static int
fake_set_props(struct pb_module *self, struct pb_resource *r,
    const char *props)
{
	snprintf(((struct fres *)r)->props, sizeof(fres[0].props), "%s", props);
	return PB_OK;
}

static int
fake_res_info_sized(const char *module, unsigned index,
    struct pb_res_info *out)
{
	for (unsigned i = 0; i < FRES; i++) {
		if (!fres[i].used || index-- > 0)
			continue;
		*out = (struct pb_res_info){ .struct_size = sizeof(*out),
		    .name = fres[i].name, .iface = fres[i].iface,
		    .major = 1, .props = fres[i].props,
		    .owner = fres[i].owner };
		return PB_OK;
	}
	return PB_ENOENT;
}

#define FCONNS 8
static struct pb_conn fconn[FCONNS];
static int fconn_used[FCONNS];

static struct pb_conn *
fake_connect(struct pb_module *self, const char *iface, uint16_t major,
    uint16_t minor, const char *resname)
{
	struct fres *r = resname ? fres_find(resname) : NULL;

	for (unsigned i = 0; r && i < FCONNS; i++)
		if (!fconn_used[i]) {
			fconn_used[i] = 1;
			fconn[i] = (struct pb_conn){ r->ops, r->ctx, NULL,
			    r->name };
			return &fconn[i];
		}
	return NULL;
}

static unsigned disconnects;

static void
fake_disconnect(struct pb_module *self, struct pb_conn *c)
{
	for (unsigned i = 0; i < FCONNS; i++)
		if (c == &fconn[i])
			fconn_used[i] = 0;
	disconnects++;
}

static const struct pb_hub fake_hub = {
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
	.now_ns = fake_now,
	.dma_alloc = fb_dma_alloc,
	.dma_free = fb_dma_free,
	.dma_addr = fb_dma_addr,
	.work_init = fake_work_init,
	.work_post = fake_work_post,
	.work_cancel = fake_work_cancel,
	.res_info_sized = fake_res_info_sized,
};

/* ---- the test's world: one disk (or two) and gpt started ----------- */

static struct fakedisk disk, disk2;
static struct pb_conn disk_conn, disk2_conn;
static uint8_t *img, *img2;

static void
world_end(void)
{
	gpt_stop(SELF);
	ledger_free_all();
	fake_work_reset();
	fakehub_reset();
	memset(fres, 0, sizeof(fres));
	memset(fconn_used, 0, sizeof(fconn_used));
	allow_same_name = 0;
	withdrawals = disconnects = 0;
	free(img);
	free(img2);
	img = img2 = NULL;
}

static int
world_start(void)
{
	world_end();
	return gpt_start(SELF, &fake_hub, PB_START_NORMAL);
}

/* Connect a disk (its resource `res`) and let the scan run. */
static void
attach(struct fakedisk *d, struct pb_conn *c, const char *res,
    const char *props)
{
	fres_add("ahci", "block", res, props, &fakedisk_ops, d);
	*c = (struct pb_conn){ &fakedisk_ops, d, NULL, fres_find(res)->name };
	gpt_event(SELF, PB_EV_CONNECTED, c, REQ_DISK);
	run_posted();
}

#define SATA0_PROPS "path=pci:00:1f.2/sata:0 size=1 bs=512 model=QEMU_HARDDISK"

static void
attach_sata0(uint8_t *image, uint32_t bs, uint64_t nblocks)
{
	img = image;
	fakedisk_init(&disk, image, bs, nblocks);
	attach(&disk, &disk_conn, "block:sata0", SATA0_PROPS);
}

/* A client's request on a partition, completed into done/status. */
struct creq {
	struct block_req r;
	struct block_seg seg;
	int done, status;
};

static void
creq_done(void *arg)
{
	struct creq *c = arg;

	c->done++;
	c->status = c->r.status;
}

static void
creq_init(struct creq *c, int op, uint64_t lba, uint32_t count, void *buf,
    uint32_t bs)
{
	memset(c, 0, sizeof(*c));
	c->r.size = sizeof(c->r);
	c->r.op = (uint16_t)op;
	c->r.lba = lba;
	c->r.count = count;
	c->seg = (struct block_seg){ .va = buf, .bus = (uintptr_t)buf,
	    .len = count * bs };
	c->r.segs = &c->seg;
	c->r.nseg = op == BLOCK_FLUSH ? 0 : 1;
	c->status = 1;
	fake_work_init(SELF, &c->r.done, creq_done, c);
}

static int
part_call_submit(const char *res, struct creq *c)
{
	struct fres *r = fres_find(res);

	if (!r)
		return PB_ENOENT;
	return ((const struct block_ops *)r->ops)->submit(r->ctx, &c->r);
}

static int
part_call_info(const char *res, struct block_info *info)
{
	struct fres *r = fres_find(res);

	if (!r)
		return PB_ENOENT;
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return ((const struct block_ops *)r->ops)->info(r->ctx, info);
}

/* ---- writing partition tables --------------------------------------- */

static uint8_t *
image_new(uint32_t bs, uint64_t nblocks)
{
	return calloc(nblocks, bs);
}

/* A GUID's on-disk bytes from its text (mixed-endian, UEFI Appendix A). */
static void
guid_parse(const char *t, uint8_t g[16])
{
	static const uint8_t order[16] = { 3, 2, 1, 0, 5, 4, 7, 6,
	    8, 9, 10, 11, 12, 13, 14, 15 };
	unsigned k = 0;

	for (unsigned i = 0; t[i] && k < 16; i++) {
		unsigned v;

		if (t[i] == '-')
			continue;
		sscanf(t + i, "%2x", &v);
		g[order[k++]] = (uint8_t)v;
		i++;
	}
}

static void
entry_set(uint8_t *e, const char *type, const char *uuid, uint64_t first,
    uint64_t last, const char *ascii)
{
	struct gpt_entry x;

	memset(&x, 0, sizeof(x));
	guid_parse(type, x.type);
	guid_parse(uuid, x.uuid);
	x.first = first;
	x.last = last;
	for (unsigned i = 0; ascii && ascii[i] && i < GPT_NAME_UNITS; i++)
		x.name[i] = (uint8_t)ascii[i];
	memcpy(e, &x, sizeof(x));
}

static void
header_crc_fix(uint8_t *img_, uint32_t bs, uint64_t lba)
{
	struct gpt_header h;
	uint8_t *blk = img_ + lba * bs;

	memcpy(&h, blk, sizeof(h));
	h.header_crc = 0;
	memcpy(blk, &h, sizeof(h));
	h.header_crc = rt_crc32(0, blk, h.header_size <= bs ?
	    h.header_size : sizeof(h));
	memcpy(blk, &h, sizeof(h));
}

/* Change a field of the header at lba and make its CRC right again. */
#define HDR_SET(im, bs, lba, field, val) do { \
	struct gpt_header h_; \
	memcpy(&h_, (im) + (uint64_t)(lba) * (bs), sizeof(h_)); \
	h_.field = (val); \
	memcpy((im) + (uint64_t)(lba) * (bs), &h_, sizeof(h_)); \
	header_crc_fix((im), (bs), (lba)); \
} while (0)

/*
 * A GPT as UEFI lays it out: protective MBR, primary header at LBA 1
 * with its array from LBA 2, the backup array just before the backup
 * header at the last LBA.  `entries` holds nentries * 128 bytes.
 */
static void
gpt_write(uint8_t *im, uint32_t bs, uint64_t nblocks, const uint8_t *entries,
    uint32_t nentries)
{
	uint32_t array = nentries * 128, ablocks = (array + bs - 1) / bs;
	struct mbr_entry pm = { .type = 0xee, .first = 1,
	    .count = nblocks - 1 > 0xffffffffu ? 0xffffffffu :
	    (uint32_t)(nblocks - 1) };
	struct gpt_header h = { .revision = 0x00010000,
	    .header_size = GPT_HEADER_MIN, .nentries = nentries,
	    .entry_size = 128 };

	memcpy(im + MBR_ENTRY_OFF, &pm, sizeof(pm));
	im[510] = 0x55;
	im[511] = 0xaa;
	memcpy(h.signature, GPT_SIGNATURE, 8);
	h.first_usable = 2 + ablocks;
	h.last_usable = nblocks - 2 - ablocks;
	guid_parse("01234567-89AB-CDEF-0123-456789ABCDEF", h.disk_guid);
	h.entries_crc = rt_crc32(0, entries, array);
	memcpy(im + 2 * bs, entries, array);
	memcpy(im + (nblocks - 1 - ablocks) * bs, entries, array);
	h.my_lba = 1;
	h.alternate_lba = nblocks - 1;
	h.entry_lba = 2;
	memcpy(im + bs, &h, sizeof(h));
	header_crc_fix(im, bs, 1);
	h.my_lba = nblocks - 1;
	h.alternate_lba = 1;
	h.entry_lba = nblocks - 1 - ablocks;
	memcpy(im + (nblocks - 1) * bs, &h, sizeof(h));
	header_crc_fix(im, bs, nblocks - 1);
}

/* The entry array's CRC in both headers, after changing entries. */
static void
gpt_fix_arrays(uint8_t *im, uint32_t bs, uint64_t nblocks)
{
	uint64_t lbas[2] = { 1, nblocks - 1 };

	for (unsigned i = 0; i < 2; i++) {
		struct gpt_header h;

		memcpy(&h, im + lbas[i] * bs, sizeof(h));
		HDR_SET(im, bs, lbas[i], entries_crc, rt_crc32(0,
		    im + h.entry_lba * bs, (size_t)h.nentries * h.entry_size));
	}
}

#define T_ESP GPT_TYPE_ESP
#define T_DATA GPT_TYPE_BASIC_DATA
#define T_LINUX "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
#define U1 "11111111-2222-3333-4444-555555555501"
#define U2 "11111111-2222-3333-4444-555555555502"
#define U3 "11111111-2222-3333-4444-555555555503"
#define U4 "11111111-2222-3333-4444-555555555504"

/* A 4 MiB disk with three partitions, written by this file. */
#define SMALL_BLOCKS 8192
static uint8_t *
gpt_small(uint8_t entries[128 * 128])
{
	uint8_t *im = image_new(512, SMALL_BLOCKS);

	memset(entries, 0, 128 * 128);
	entry_set(entries, T_ESP, U1, 64, 2047, "EFI system");
	entry_set(entries + 128, T_DATA, U2, 2048, 4095, "data");
	entry_set(entries + 4 * 128, T_LINUX, U3, 4096, 8000, "root");
	gpt_write(im, 512, SMALL_BLOCKS, entries, 128);
	return im;
}

/* The disk of gpt_small() as block:sata0, running `depth` requests at
 * once; with `hold`, the scan's reads wait for the test too. */
static void
attach_small(uint8_t ent[128 * 128], unsigned depth, int hold)
{
	img = gpt_small(ent);
	fakedisk_init(&disk, img, 512, SMALL_BLOCKS);
	disk.info.queue_depth = depth;
	disk.hold = hold;
	attach(&disk, &disk_conn, "block:sata0", SATA0_PROPS);
}

static void
mbr_record(uint8_t *sec, unsigned slot, uint8_t boot, uint8_t type,
    uint32_t first, uint32_t count)
{
	struct mbr_entry e = { .boot = boot, .type = type, .first = first,
	    .count = count };

	memcpy(sec + MBR_ENTRY_OFF + 16 * slot, &e, sizeof(e));
	sec[510] = 0x55;
	sec[511] = 0xaa;
}

/*
 * An MBR disk of 40000 blocks: p1 FAT32 (0x0c), p2 extended (0x0f) at
 * 10000 holding three logical partitions, p3 an ESP (0xef); the EBRs at
 * 10000, 12000 and 16000.
 */
#define MBR_BLOCKS 40000
static uint8_t *
mbr_disk(void)
{
	uint8_t *im = image_new(512, MBR_BLOCKS);
	uint32_t sig = 0x1234abcd;

	memcpy(im + MBR_DISK_SIG_OFF, &sig, 4);
	mbr_record(im, 0, 0x80, 0x0c, 2048, 7952);
	mbr_record(im, 1, 0x00, 0x0f, 10000, 20000);
	mbr_record(im, 2, 0x00, 0xef, 30000, 5000);
	mbr_record(im + 10000 * 512, 0, 0, 0x83, 63, 1000);
	mbr_record(im + 10000 * 512, 1, 0, 0x05, 2000, 4000);
	mbr_record(im + 12000 * 512, 0, 0, 0x0c, 63, 2000);
	mbr_record(im + 12000 * 512, 1, 0, 0x05, 6000, 1000);
	mbr_record(im + 16000 * 512, 0, 0, 0x07, 100, 500);
	return im;
}

/* ---- the scanner over an image in memory ----------------------------- */

struct mem_disk {
	const uint8_t *im;
	uint32_t bs;
	uint64_t nblocks;
	unsigned reads;
};

static int
mem_read(void *arg, uint64_t lba, uint32_t count, void *buf)
{
	struct mem_disk *m = arg;

	m->reads++;
	if (lba >= m->nblocks || count > m->nblocks - lba)
		return PB_EIO;
	memcpy(buf, m->im + lba * m->bs, (size_t)count * m->bs);
	return (int)count;
}

static void
scan_log_to_fake(void *arg, int level, const char *msg)
{
	fake_log(SELF, level, msg);
}

/* Scan im (bs, nblocks) into *s; the log in log_text. */
static int
scan_image(struct scan *s, const uint8_t *im, uint32_t bs, uint64_t nblocks)
{
	struct mem_disk m = { im, bs, nblocks, 0 };
	size_t cap = scan_read_max(bs);
	uint8_t *buf = malloc(cap);
	int kind;

	log_text[0] = '\0';
	scan_init(s, bs, nblocks, scan_log_to_fake, NULL);
	kind = scan_disk(s, mem_read, &m, buf, cap);
	free(buf);
	return kind;
}

static struct scan S;

static const struct part *
part_num(const struct scan *s, uint32_t num)
{
	for (unsigned i = 0; i < s->nparts; i++)
		if (s->parts[i].num == num)
			return &s->parts[i];
	return NULL;
}

static int
log_lines(void)
{
	int n = 0;

	for (const char *p = log_text; *p; p++)
		n += *p == '\n';
	return n;
}

/* ---- tests: the scanner ---------------------------------------------- */

/* Run sgdisk (from gdisk, in tools/install-deps) with PATH covering sbin. */
static int
sgdisk(const char *args, const char *file)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "PATH=\"$PATH:/usr/sbin:/sbin\" sgdisk %s "
	    "%s >/dev/null 2>&1", args, file);
	return system(cmd);
}

/* An sgdisk image of nblocks 512-byte blocks, read into memory. */
static uint8_t *
sgdisk_image(const char *args, uint64_t nblocks)
{
	char path[] = "/tmp/pb-gpt-XXXXXX";
	int fd = mkstemp(path);
	uint8_t *im = NULL;
	FILE *f;

	if (fd < 0)
		return NULL;
	if (ftruncate(fd, (off_t)(nblocks * 512)) == 0 &&
	    sgdisk(args, path) == 0 && (f = fdopen(fd, "rb"))) {
		im = image_new(512, nblocks);
		if (fread(im, 512, nblocks, f) != nblocks) {
			free(im);
			im = NULL;
		}
		fclose(f);
		fd = -1;
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
	return im;
}

#define SG_BLOCKS 16384
#define SG_ARGS "-o -n 1:2048:4095 -t 1:ef00 -c '1:EFI system' " \
	"-u 1:" U1 " -n 2:4096:8191 -t 2:0700 -c 2:Data " \
	"-u 2:" U2 " -n 3:8192:16000 -t 3:8300 -c '3:linux root' -u 3:" U3

TEST(gpt_scan_sgdisk_three_partitions)
{
	uint8_t *im = sgdisk_image(SG_ARGS, SG_BLOCKS);
	const struct part *p;
	char props[256], t[37];

	REQUIRE(im);	/* sgdisk missing: run tools/install-deps */
	CHECK_EQ_INT(scan_image(&S, im, 512, SG_BLOCKS), SCAN_GPT);
	CHECK_EQ_INT(S.nparts, 3);
	CHECK_EQ_INT(S.backup, 0);
	CHECK_STR(log_text, "");
	REQUIRE((p = part_num(&S, 1)));
	CHECK_EQ_INT(p->first, 2048);
	CHECK_EQ_INT(p->last, 4095);
	guid_text(p->type, t);
	CHECK_STR(t, T_ESP);
	guid_text(p->uuid, t);
	CHECK_STR(t, U1);
	CHECK_STR(p->name, "EFI_system");
	part_props(props, sizeof(props), "pci:00:1f.2/sata:0", "block:sata0",
	    512, S.kind, 0, p);
	CHECK_STR(props, "path=pci:00:1f.2/sata:0/part:1 disk=block:sata0 "
	    "type=" T_ESP " uuid=" U1 " first=2048 last=4095 size=1048576 "
	    "bs=512 esp=1 name=EFI_system");
	REQUIRE((p = part_num(&S, 2)));
	CHECK_EQ_INT(p->first, 4096);
	CHECK_EQ_INT(p->last, 8191);
	part_props(props, sizeof(props), "x", "block:x", 512, S.kind, 0, p);
	CHECK_CONTAINS(props, "type=" T_DATA);
	CHECK_CONTAINS(props, " fat=1 name=Data");
	REQUIRE((p = part_num(&S, 3)));
	CHECK_EQ_INT(p->last, 16000);
	CHECK_STR(p->name, "linux_root");
	free(im);
}

/* sgdisk's image with its primary header damaged: the backup's table. */
TEST(gpt_scan_sgdisk_primary_header_damaged)
{
	uint8_t *im = sgdisk_image(SG_ARGS, SG_BLOCKS);

	REQUIRE(im);
	im[512 + 0x38] ^= 0xff;		/* DiskGUID: the header CRC fails */
	CHECK_EQ_INT(scan_image(&S, im, 512, SG_BLOCKS), SCAN_GPT);
	CHECK_EQ_INT(S.backup, 1);
	CHECK_EQ_INT(S.nparts, 3);
	CHECK_CONTAINS(log_text, "primary GPT damaged (header CRC");
	CHECK_CONTAINS(log_text, "the backup at LBA 16383 is good: its "
	    "partitions are used");
	CHECK_EQ_INT(log_lines(), 1);
	CHECK(part_num(&S, 1) && part_num(&S, 1)->first == 2048);
	free(im);
}

/* sgdisk's image with the primary entry array damaged: the backup. */
TEST(gpt_scan_sgdisk_primary_array_damaged)
{
	uint8_t *im = sgdisk_image(SG_ARGS, SG_BLOCKS);

	REQUIRE(im);
	im[2 * 512 + 200] ^= 0x01;
	CHECK_EQ_INT(scan_image(&S, im, 512, SG_BLOCKS), SCAN_GPT);
	CHECK_EQ_INT(S.backup, 1);
	CHECK_EQ_INT(S.nparts, 3);
	CHECK_CONTAINS(log_text, "entry array CRC");
	free(im);
}

TEST(gpt_scan_both_headers_damaged_left_alone)
{
	uint8_t *im = sgdisk_image(SG_ARGS, SG_BLOCKS);

	REQUIRE(im);
	im[512 + 0x38] ^= 0xff;
	im[(SG_BLOCKS - 1) * 512 + 0x38] ^= 0xff;
	CHECK_EQ_INT(scan_image(&S, im, 512, SG_BLOCKS), SCAN_NONE);
	CHECK_EQ_INT(S.nparts, 0);
	CHECK_CONTAINS(S.why, "no valid GPT: primary header CRC");
	CHECK_CONTAINS(S.why, "backup header CRC");
	CHECK_STR(log_text, "");	/* the why is the disk's one line */
	free(im);
}

TEST(gpt_scan_written_table)
{
	uint8_t ent[128 * 128];
	uint8_t *im = gpt_small(ent);

	CHECK_EQ_INT(scan_image(&S, im, 512, SMALL_BLOCKS), SCAN_GPT);
	CHECK_EQ_INT(S.nparts, 3);
	CHECK(part_num(&S, 5) && part_num(&S, 5)->first == 4096);
	CHECK(part_num(&S, 3) == NULL);		/* unused entries skipped */
	free(im);
}

/* Each damaged primary header sends the scan to the backup, one line. */
TEST(gpt_scan_bad_headers_fall_back)
{
	static const struct {
		const char *why;
		unsigned field;		/* which field to spoil */
		uint32_t val;
	} bad[] = {
		{ "FirstUsableLBA > LastUsableLBA", 0, 0 },
		{ "4294967295 entries of 128 bytes", 1, 0xffffffffu },
		{ "SizeOfPartitionEntry 100 is not", 2, 100 },
		{ "SizeOfPartitionEntry 0 is not", 2, 0 },
		{ "SizeOfPartitionEntry 384 is not", 2, 384 },
		{ "SizeOfPartitionEntry 8192 is not", 2, 8192 },
		{ "HeaderSize 91 out of range", 3, 91 },
		{ "HeaderSize 513 out of range", 3, 513 },
		{ "MyLBA 7, read at LBA 1", 4, 7 },
		{ "entry array lies past the disk", 5, SMALL_BLOCKS - 2 },
		{ "entry array overlaps the usable blocks", 5, 40 },
		{ "LastUsableLBA lies past the disk", 6, SMALL_BLOCKS },
		{ "no EFI PART signature", 7, 0 },
		{ "0 entries of 128 bytes", 1, 0 },
	};
	uint8_t ent[128 * 128];

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *im = gpt_small(ent);

		switch (bad[i].field) {
		case 0: HDR_SET(im, 512, 1, first_usable, 8159); break;
		case 1: HDR_SET(im, 512, 1, nentries, bad[i].val); break;
		case 2: HDR_SET(im, 512, 1, entry_size, bad[i].val); break;
		case 3: HDR_SET(im, 512, 1, header_size, bad[i].val); break;
		case 4: HDR_SET(im, 512, 1, my_lba, bad[i].val); break;
		case 5: HDR_SET(im, 512, 1, entry_lba, bad[i].val); break;
		case 6: HDR_SET(im, 512, 1, last_usable, bad[i].val); break;
		case 7: memcpy(im + 512, "EFI TRAP", 8);
			header_crc_fix(im, 512, 1); break;
		}
		CHECK_EQ_INT(scan_image(&S, im, 512, SMALL_BLOCKS), SCAN_GPT);
		CHECK_MSG(S.backup == 1 && S.nparts == 3, "case %u: backup %d, "
		    "%u partitions", i, S.backup, S.nparts);
		CHECK_MSG(strstr(log_text, bad[i].why) != NULL,
		    "case %u: log lacks \"%s\": %s", i, bad[i].why, log_text);
		CHECK_MSG(log_lines() == 1, "case %u: %d lines: %s", i,
		    log_lines(), log_text);
		free(im);
	}
}

/* A protective MBR before no GPT at all: left alone, with the reason. */
TEST(gpt_scan_protective_mbr_without_gpt)
{
	uint8_t *im = image_new(512, 100);

	mbr_record(im, 0, 0, 0xee, 1, 99);
	CHECK_EQ_INT(scan_image(&S, im, 512, 100), SCAN_NONE);
	CHECK_CONTAINS(S.why, "no valid GPT: primary has no EFI PART "
	    "signature, backup has no EFI PART signature");
	CHECK_STR(log_text, "");
	free(im);
}

TEST(gpt_scan_entries_refused_others_kept)
{
	uint8_t ent[128 * 128];
	uint8_t *im = gpt_small(ent);

	/* past the disk, before the usable blocks, reversed, overlapping */
	entry_set(ent + 6 * 128, T_DATA, U4, 8100, SMALL_BLOCKS + 5, "far");
	entry_set(ent + 7 * 128, T_DATA, U4, 10, 20, "early");
	entry_set(ent + 8 * 128, T_DATA, U4, 300, 200, "reversed");
	entry_set(ent + 9 * 128, T_DATA, U4, 8001, 8050, "a");
	entry_set(ent + 10 * 128, T_DATA, U4, 8040, 8060, "b");
	entry_set(ent + 11 * 128, T_DATA, U4, 8061, 8061, "one");
	memcpy(im + 2 * 512, ent, sizeof(ent));
	memcpy(im + (SMALL_BLOCKS - 33) * 512, ent, sizeof(ent));
	gpt_fix_arrays(im, 512, SMALL_BLOCKS);
	CHECK_EQ_INT(scan_image(&S, im, 512, SMALL_BLOCKS), SCAN_GPT);
	CHECK_EQ_INT(S.backup, 0);
	CHECK_EQ_INT(S.nparts, 4);	/* 1, 2, 5 and the one-block 12 */
	CHECK(part_num(&S, 12) && part_num(&S, 12)->first == 8061);
	CHECK_EQ_INT(S.nrefused, 5);
	CHECK_CONTAINS(log_text, "partition 7: LBAs 8100-8197 lie outside the "
	    "usable blocks (34-8158); refused");
	CHECK_CONTAINS(log_text, "partition 8: LBAs 10-20 lie outside");
	CHECK_CONTAINS(log_text, "partition 9: ends (LBA 200) before it "
	    "begins");
	CHECK_CONTAINS(log_text, "partitions 10 and 11 overlap; both refused");
	CHECK_EQ_INT(log_lines(), 4);
	free(im);
}

/* PartitionName: UTF-16LE to UTF-8, spaces as _, bad surrogates U+FFFD. */
TEST(gpt_scan_names_utf16)
{
	static const uint16_t name[] = { 'A', ' ', 0x00e9, 0xd83d, 0xde00,
	    0xd800, 'B', 0xdc00, 0x20ac, '\t', 0xd83d };
	uint8_t ent[128 * 128];
	uint8_t *im = gpt_small(ent);
	struct gpt_entry e;

	memcpy(&e, ent, sizeof(e));
	memset(e.name, 0, sizeof(e.name));
	memcpy(e.name, name, sizeof(name));	/* the last unit: unpaired */
	memcpy(ent, &e, sizeof(e));
	memcpy(im + 2 * 512, ent, sizeof(ent));
	memcpy(im + (SMALL_BLOCKS - 33) * 512, ent, sizeof(ent));
	gpt_fix_arrays(im, 512, SMALL_BLOCKS);
	CHECK_EQ_INT(scan_image(&S, im, 512, SMALL_BLOCKS), SCAN_GPT);
	REQUIRE(part_num(&S, 1));
	CHECK_STR(part_num(&S, 1)->name, "A_\xc3\xa9\xf0\x9f\x98\x80"
	    "\xef\xbf\xbd" "B" "\xef\xbf\xbd" "\xe2\x82\xac_\xef\xbf\xbd");
	free(im);
}

TEST(gpt_scan_name_fills_36_units)
{
	char out[PART_NAME_MAX];
	uint8_t units[72];

	for (unsigned i = 0; i < 36; i++) {	/* U+4E2D, 3 bytes each */
		units[2 * i] = 0x2d;
		units[2 * i + 1] = 0x4e;
	}
	CHECK_EQ_INT(utf16le_to_prop(units, 36, out, sizeof(out)), 108);
	CHECK_EQ_INT(strlen(out), 108);
	/* Cut before a character that does not fit whole. */
	CHECK_EQ_INT(utf16le_to_prop(units, 36, out, 8), 6);
}

/* 4096-byte blocks: the header at LBA 1 of 4 KiB, 4 entries a block. */
TEST(gpt_scan_4k_blocks)
{
	uint8_t ent[128 * 128] = { 0 };
	uint8_t *im = image_new(4096, 1024);

	entry_set(ent, T_ESP, U1, 256, 511, "esp");
	entry_set(ent + 128, T_DATA, U2, 512, 1000, NULL);
	gpt_write(im, 4096, 1024, ent, 128);
	CHECK_EQ_INT(scan_image(&S, im, 4096, 1024), SCAN_GPT);
	CHECK_EQ_INT(S.nparts, 2);
	CHECK_EQ_INT(S.hdr.first_usable, 6);
	CHECK(part_num(&S, 2) && part_num(&S, 2)->name[0] == '\0');
	free(im);
}

TEST(gpt_scan_mbr_with_logical_partitions)
{
	uint8_t *im = mbr_disk();
	const struct part *p;
	char props[256];

	CHECK_EQ_INT(scan_image(&S, im, 512, MBR_BLOCKS), SCAN_MBR);
	CHECK_STR(log_text, "");
	CHECK_EQ_INT(S.nparts, 5);
	REQUIRE((p = part_num(&S, 1)));
	CHECK_EQ_INT(p->first, 2048);
	CHECK_EQ_INT(p->last, 9999);
	part_props(props, sizeof(props), "usb:1", "block:usb0", 512, S.kind,
	    S.disk_sig, p);
	CHECK_STR(props, "path=usb:1/part:1 disk=block:usb0 type=mbr:0x0c "
	    "uuid=1234abcd-01 first=2048 last=9999 size=4071424 bs=512 fat=1");
	CHECK(part_num(&S, 2) == NULL);		/* the extended container */
	REQUIRE((p = part_num(&S, 3)));
	part_props(props, sizeof(props), "u", "block:u", 512, S.kind,
	    S.disk_sig, p);
	CHECK_CONTAINS(props, "type=mbr:0xef");
	CHECK_CONTAINS(props, " esp=1");
	REQUIRE((p = part_num(&S, 5)));
	CHECK_EQ_INT(p->first, 10063);
	CHECK_EQ_INT(p->last, 11062);
	CHECK_EQ_INT(p->mbr_type, 0x83);
	REQUIRE((p = part_num(&S, 6)));
	CHECK_EQ_INT(p->first, 12063);
	CHECK_EQ_INT(p->last, 14062);
	REQUIRE((p = part_num(&S, 7)));
	CHECK_EQ_INT(p->first, 16100);
	CHECK_EQ_INT(p->last, 16599);
	free(im);
}

TEST(gpt_scan_mbr_extended_loop_is_bounded)
{
	uint8_t *im = mbr_disk();
	struct mem_disk m = { im, 512, MBR_BLOCKS, 0 };
	uint8_t buf[1024];

	mbr_record(im + 16000 * 512, 1, 0, 0x05, 2000, 1000);	/* back */
	log_text[0] = '\0';
	scan_init(&S, 512, MBR_BLOCKS, scan_log_to_fake, NULL);
	CHECK_EQ_INT(scan_disk(&S, mem_read, &m, buf, sizeof(buf)), SCAN_MBR);
	CHECK_EQ_INT(m.reads, 4);	/* LBA 0, and each EBR once */
	CHECK_EQ_INT(S.nparts, 5);
	CHECK_CONTAINS(log_text, "loop back to the EBR at LBA 12000");
	CHECK_EQ_INT(log_lines(), 1);
	free(im);
}

TEST(gpt_scan_mbr_bad_entries_refused)
{
	uint8_t *im = mbr_disk();

	mbr_record(im, 3, 0, 0x83, 36000, 0);		/* zero length */
	mbr_record(im, 2, 0, 0xef, 39000, 5000);	/* past the disk */
	mbr_record(im + 12000 * 512, 0, 0, 0x0c, 63, 90000);	/* too long */
	CHECK_EQ_INT(scan_image(&S, im, 512, MBR_BLOCKS), SCAN_MBR);
	CHECK_EQ_INT(S.nparts, 3);	/* 1, 5, 7 */
	CHECK(part_num(&S, 7) != NULL);
	CHECK_CONTAINS(log_text, "partition 4: zero length; refused");
	CHECK_CONTAINS(log_text, "partition 3: LBAs 39000-43999 lie outside "
	    "the disk");
	CHECK_CONTAINS(log_text, "partition 6: LBAs 12063-102062 lie outside "
	    "its extended partition");
	CHECK_EQ_INT(log_lines(), 3);
	free(im);
}

TEST(gpt_scan_mbr_chain_leaves_disk)
{
	uint8_t *im = mbr_disk();

	mbr_record(im, 1, 0, 0x0f, 39990, 20000);	/* extended: too far */
	CHECK_EQ_INT(scan_image(&S, im, 512, MBR_BLOCKS), SCAN_MBR);
	CHECK_EQ_INT(S.nparts, 2);
	CHECK_CONTAINS(log_text, "extended partition 2: LBAs 39990+20000 do "
	    "not lie on the disk");
	im = (free(im), mbr_disk());
	mbr_record(im + 12000 * 512, 1, 0, 0x05, 30000, 10);	/* outside */
	CHECK_EQ_INT(scan_image(&S, im, 512, MBR_BLOCKS), SCAN_MBR);
	CHECK_EQ_INT(S.nparts, 4);
	CHECK_CONTAINS(log_text, "links to LBA 40000, outside its extended");
	im = (free(im), mbr_disk());
	im[16000 * 512 + 510] = 0;			/* no signature */
	CHECK_EQ_INT(scan_image(&S, im, 512, MBR_BLOCKS), SCAN_MBR);
	CHECK_EQ_INT(S.nparts, 4);
	CHECK_CONTAINS(log_text, "EBR at LBA 16000 has no 0x55AA signature");
	free(im);
}

TEST(gpt_scan_left_alone)
{
	uint8_t *im = image_new(512, 64);

	CHECK_EQ_INT(scan_image(&S, im, 512, 64), SCAN_NONE);
	CHECK_CONTAINS(S.why, "no 0x55AA signature");
	im[510] = 0x55;
	im[511] = 0xaa;
	CHECK_EQ_INT(scan_image(&S, im, 512, 64), SCAN_NONE);
	CHECK_STR(S.why, "an MBR without partitions");
	im[MBR_ENTRY_OFF] = 0xeb;	/* boot code where records would be */
	im[MBR_ENTRY_OFF + 4] = 0x0c;
	CHECK_EQ_INT(scan_image(&S, im, 512, 64), SCAN_NONE);
	CHECK_CONTAINS(S.why, "not a partition table (record 1 has boot "
	    "indicator 0xeb)");
	CHECK_EQ_INT(scan_image(&S, im, 500, 64), SCAN_NONE);
	CHECK_CONTAINS(S.why, "block size 500");
	CHECK_EQ_INT(scan_image(&S, im, 512, 0), SCAN_NONE);
	CHECK_CONTAINS(S.why, "no medium");
	free(im);
}

TEST(gpt_scan_read_errors)
{
	uint8_t ent[128 * 128];
	uint8_t *im = gpt_small(ent);
	uint64_t lba;
	uint32_t count;

	scan_init(&S, 512, SMALL_BLOCKS, scan_log_to_fake, NULL);
	log_text[0] = '\0';
	CHECK(scan_next(&S, &lba, &count) && lba == 0 && count == 2);
	scan_feed(&S, im, PB_OK);
	CHECK(scan_next(&S, &lba, &count) && lba == 2 && count == 32);
	scan_feed(&S, NULL, PB_EIO);		/* the primary array */
	CHECK(scan_next(&S, &lba, &count) && lba == SMALL_BLOCKS - 1);
	scan_feed(&S, im + lba * 512, PB_OK);
	CHECK(scan_next(&S, &lba, &count) && lba == SMALL_BLOCKS - 33);
	scan_feed(&S, im + lba * 512, PB_OK);
	CHECK_EQ_INT(S.kind, SCAN_GPT);
	CHECK_EQ_INT(S.nparts, 3);
	CHECK_CONTAINS(log_text, "entry array unreadable");
	scan_init(&S, 512, SMALL_BLOCKS, NULL, NULL);
	scan_feed(&S, NULL, PB_EIO);
	CHECK_EQ_INT(S.kind, SCAN_NONE);
	CHECK_CONTAINS(S.why, "cannot read LBA 0");
	free(im);
}

TEST(gpt_scan_crc32_known_value)
{
	CHECK_EQ_INT(rt_crc32(0, "123456789", 9), 0xcbf43926);
	CHECK_EQ_INT(rt_crc32(rt_crc32(0, "1234", 4), "56789", 5),
	    0xcbf43926);
}

TEST(gpt_props_long_name_cut_at_a_character)
{
	struct part p = { .num = 1, .first = 1, .last = 2 };
	char props[120];
	size_t n;

	for (unsigned i = 0; i < 36; i++)
		memcpy(p.name + 3 * i, "\xe4\xb8\xad", 3);
	n = part_props(props, sizeof(props), "pci:00:1f.2/sata:0",
	    "block:sata0", 512, SCAN_MBR, 0, &p);
	CHECK_EQ_INT(n, strlen(props));
	CHECK(n < sizeof(props));
	CHECK_CONTAINS(props, " name=\xe4\xb8\xad");
	CHECK(((uint8_t)props[n - 1] & 0xc0) == 0x80 &&
	    (uint8_t)props[n - 3] == 0xe4);
}

/* ---- tests: the module ------------------------------------------------- */

TEST(gpt_module_publishes_partitions)
{
	uint8_t ent[128 * 128];
	const char *p;

	REQUIRE(world_start() == PB_OK);
	attach_sata0(gpt_small(ent), 512, SMALL_BLOCKS);
	CHECK_EQ_INT(nparts_published(), 3);
	REQUIRE((p = props_of("block:sata0.p1")));
	CHECK_STR(p, "path=pci:00:1f.2/sata:0/part:1 disk=block:sata0 type="
	    T_ESP " uuid=" U1 " first=64 last=2047 size=1015808 bs=512 esp=1 "
	    "name=EFI_system");
	CHECK(props_of("block:sata0.p2") != NULL);
	CHECK(props_of("block:sata0.p5") != NULL);
	CHECK_CONTAINS(log_text, "block:sata0: GPT, 3 partitions: p1 p2 p5\n");
	CHECK_EQ_INT(disk.ntrace, 2);	/* LBA 0-1, then the array */
	CHECK_EQ_INT(disk.trace[1].lba, 2);
	CHECK_EQ_INT(disk.trace[1].count, 32);
	CHECK_EQ_INT(fb_dma_live, 0);	/* the scan's buffer went back */
	world_end();
}

/* The disk's limits shape the scan's reads: 1 KiB at most, and no piece
 * crosses a 4 KiB boundary. */
TEST(gpt_module_scan_reads_within_limits)
{
	uint8_t ent[128 * 128];

	REQUIRE(world_start() == PB_OK);
	img = gpt_small(ent);
	fakedisk_init(&disk, img, 512, SMALL_BLOCKS);
	disk.info.max_transfer = 1024;
	disk.info.seg_boundary = 4096;
	attach(&disk, &disk_conn, "block:sata0", "path=p");
	CHECK_EQ_INT(disk.refused, 0);
	CHECK_EQ_INT(disk.ntrace, 1 + 16);
	CHECK_EQ_INT(nparts_published(), 3);
	world_end();
}

TEST(gpt_module_mbr_disk)
{
	REQUIRE(world_start() == PB_OK);
	img = mbr_disk();
	fakedisk_init(&disk, img, 512, MBR_BLOCKS);
	attach(&disk, &disk_conn, "block:usb0", "path=pci:00:14.0/usb:3/lun:0");
	CHECK_EQ_INT(nparts_published(), 5);
	CHECK_CONTAINS(props_of("block:usb0.p6"), "path=pci:00:14.0/usb:3/lun:0"
	    "/part:6 disk=block:usb0 type=mbr:0x0c uuid=1234abcd-06 "
	    "first=12063 last=14062");
	CHECK_CONTAINS(props_of("block:usb0.p6"), " fat=1");
	CHECK_CONTAINS(log_text, "block:usb0: MBR, 5 partitions: p1 p3 p5 p6 "
	    "p7\n");
	world_end();
}

TEST(gpt_module_leaves_partitions_and_bare_disks_alone)
{
	REQUIRE(world_start() == PB_OK);
	img = image_new(512, 64);
	fakedisk_init(&disk, img, 512, 64);
	attach(&disk, &disk_conn, "block:other.p1",
	    "path=x/part:1 disk=block:x");
	CHECK_EQ_INT(disk.ntrace, 0);		/* a partition: never read */
	attach(&disk, &disk2_conn, "block:blank0", "path=y");
	CHECK_EQ_INT(disk.ntrace, 1);
	CHECK_EQ_INT(nparts_published(), 0);
	CHECK_CONTAINS(log_text, "block:blank0: left alone: no partition "
	    "table (no 0x55AA signature)");
	CHECK_EQ_INT(log_lines(), 1);
	world_end();
}

TEST(gpt_module_disk_info_fails)
{
	REQUIRE(world_start() == PB_OK);
	img = image_new(512, 64);
	fakedisk_init(&disk, img, 512, 64);
	disk.info_err = PB_EIO;
	attach(&disk, &disk_conn, "block:sata0", "path=p");
	CHECK_EQ_INT(disk.ntrace, 0);
	CHECK_CONTAINS(log_text, "block:sata0: cannot tell its size "
	    "(error -5)");
	world_end();
}

TEST(gpt_module_reads_and_writes_at_the_partition)
{
	uint8_t ent[128 * 128], buf[1024], want[1024];
	struct block_info info;
	struct creq c;

	REQUIRE(world_start() == PB_OK);
	attach_sata0(gpt_small(ent), 512, SMALL_BLOCKS);
	for (unsigned i = 0; i < 1024; i++)
		img[(2048 + 10) * 512 + i] = (uint8_t)(i * 7 + 1);
	creq_init(&c, BLOCK_READ, 10, 2, buf, 512);
	CHECK_EQ_INT(part_call_submit("block:sata0.p2", &c), PB_OK);
	CHECK_EQ_INT(c.done, 0);	/* completion is work, never a call */
	run_posted();
	CHECK_EQ_INT(c.done, 1);
	CHECK_EQ_INT(c.status, PB_OK);
	CHECK(memcmp(buf, img + (2048 + 10) * 512, 1024) == 0);
	CHECK_EQ_INT(disk.trace[disk.ntrace - 1].lba, 2058);
	run_posted();
	CHECK_EQ_INT(c.done, 1);	/* exactly once */

	memset(want, 0x5a, sizeof(want));
	creq_init(&c, BLOCK_WRITE, 2046, 2, want, 512);	/* p2's last two */
	CHECK_EQ_INT(part_call_submit("block:sata0.p2", &c), PB_OK);
	run_posted();
	CHECK_EQ_INT(c.status, PB_OK);
	CHECK(memcmp(img + 4094 * 512, want, 1024) == 0);
	CHECK(img[4094 * 512 - 1] != 0x5a);
	CHECK(img[4096 * 512] != 0x5a);		/* p5 untouched */

	creq_init(&c, BLOCK_FLUSH, 0, 0, NULL, 512);
	CHECK_EQ_INT(part_call_submit("block:sata0.p1", &c), PB_OK);
	run_posted();
	CHECK_EQ_INT(c.done, 1);
	CHECK_EQ_INT(disk.trace[disk.ntrace - 1].op, BLOCK_FLUSH);

	CHECK_EQ_INT(part_call_info("block:sata0.p5", &info), PB_OK);
	CHECK_EQ_INT(info.block_count, 8000 - 4096 + 1);
	CHECK_EQ_INT(info.block_size, 512);
	CHECK_EQ_INT(info.max_transfer, 1u << 20);
	CHECK_EQ_INT(info.queue_depth, 32);
	CHECK_EQ_INT(info.size, sizeof(info));
	world_end();
}

TEST(gpt_module_refuses_requests_out_of_range)
{
	uint8_t ent[128 * 128], buf[1024];
	struct creq c;
	unsigned before;

	REQUIRE(world_start() == PB_OK);
	attach_sata0(gpt_small(ent), 512, SMALL_BLOCKS);
	before = disk.ntrace;
	creq_init(&c, BLOCK_READ, 2048, 1, buf, 512);	/* p2 has 2048 */
	CHECK_EQ_INT(part_call_submit("block:sata0.p2", &c), PB_EINVAL);
	creq_init(&c, BLOCK_READ, 2047, 2, buf, 512);
	CHECK_EQ_INT(part_call_submit("block:sata0.p2", &c), PB_EINVAL);
	creq_init(&c, BLOCK_READ, ~0ull, 2, buf, 512);
	CHECK_EQ_INT(part_call_submit("block:sata0.p2", &c), PB_EINVAL);
	creq_init(&c, BLOCK_READ, 1, 0, buf, 512);
	CHECK_EQ_INT(part_call_submit("block:sata0.p2", &c), PB_EINVAL);
	creq_init(&c, 9, 1, 1, buf, 512);
	CHECK_EQ_INT(part_call_submit("block:sata0.p2", &c), PB_EINVAL);
	creq_init(&c, BLOCK_READ, 1, 1, buf, 512);
	c.r.size = 40;
	CHECK_EQ_INT(part_call_submit("block:sata0.p2", &c), PB_EINVAL);
	run_posted();
	CHECK_EQ_INT(c.done, 0);
	CHECK_EQ_INT(disk.ntrace, before);	/* none reached the disk */
	creq_init(&c, BLOCK_READ, 2047, 1, buf, 512);	/* the last block */
	CHECK_EQ_INT(part_call_submit("block:sata0.p2", &c), PB_OK);
	run_posted();
	CHECK_EQ_INT(c.done, 1);
	world_end();
}

/* More requests than inner requests: they wait, in order, none fails. */
TEST(gpt_module_pool_exhaustion_queues)
{
	enum { N = 10 };
	static uint8_t bufs[N][512];
	uint8_t ent[128 * 128];
	struct creq c[N];

	REQUIRE(world_start() == PB_OK);
	attach_small(ent, 4, 0);
	disk.hold = 1;
	disk.ntrace = 0;
	for (unsigned i = 0; i < N; i++) {
		creq_init(&c[i], BLOCK_READ, i, 1, bufs[i], 512);
		CHECK_EQ_INT(part_call_submit("block:sata0.p1", &c[i]), PB_OK);
	}
	CHECK_EQ_INT(disk.nheld, 4);
	for (unsigned round = 0; round < 10 && disk.nheld; round++) {
		fakedisk_finish(&disk, 1, 0);
		run_posted();
		CHECK(disk.nheld <= 4);
	}
	CHECK_EQ_INT(disk.max_held, 4);
	CHECK_EQ_INT(disk.ntrace, N);
	for (unsigned i = 0; i < N; i++) {
		CHECK_MSG(c[i].done == 1 && c[i].status == PB_OK, "request %u: "
		    "done %d status %d", i, c[i].done, c[i].status);
		CHECK_EQ_INT(disk.trace[i].lba, 64 + i);	/* in order */
	}
	world_end();
}

/* The disk refuses: at submit the client hears it from submit, and a
 * request that waited hears it from its completion. */
TEST(gpt_module_disk_refusal)
{
	uint8_t ent[128 * 128], buf[2][512];
	struct creq a, b;

	REQUIRE(world_start() == PB_OK);
	attach_small(ent, 1, 0);
	disk.submit_err = PB_EROFS;
	creq_init(&a, BLOCK_WRITE, 0, 1, buf[0], 512);
	CHECK_EQ_INT(part_call_submit("block:sata0.p1", &a), PB_EROFS);
	disk.submit_err = 0;
	disk.hold = 1;
	creq_init(&a, BLOCK_READ, 0, 1, buf[0], 512);
	CHECK_EQ_INT(part_call_submit("block:sata0.p1", &a), PB_OK);
	creq_init(&b, BLOCK_WRITE, 1, 1, buf[1], 512);
	CHECK_EQ_INT(part_call_submit("block:sata0.p1", &b), PB_OK);
	disk.submit_err = PB_EROFS;
	fakedisk_finish(&disk, 0, 0);
	run_posted();
	CHECK(a.done == 1 && a.status == PB_OK);
	CHECK(b.done == 1 && b.status == PB_EROFS);
	disk.submit_err = 0;
	fakedisk_finish(&disk, 0, 0);
	run_posted();
	CHECK(a.done == 1 && b.done == 1);
	world_end();
}

/* The disk goes with requests waiting and on it: partitions withdrawn,
 * every request completed once with PB_ECANCELED, the disk's late
 * completions ignored, its memory given back. */
TEST(gpt_module_disk_gone)
{
	enum { N = 6 };
	static uint8_t bufs[N][512];
	uint8_t ent[128 * 128];
	struct creq c[N];

	REQUIRE(world_start() == PB_OK);
	attach_small(ent, 2, 0);
	disk.hold = 1;
	for (unsigned i = 0; i < N; i++) {
		creq_init(&c[i], BLOCK_READ, i, 1, bufs[i], 512);
		CHECK_EQ_INT(part_call_submit(i % 2 ? "block:sata0.p1" :
		    "block:sata0.p2", &c[i]), PB_OK);
	}
	CHECK_EQ_INT(disk.nheld, 2);
	gpt_event(SELF, PB_EV_DISCONNECTED, &disk_conn, REQ_DISK);
	CHECK_EQ_INT(nparts_published(), 0);
	CHECK_EQ_INT(withdrawals, 3);
	CHECK_CONTAINS(log_text, "block:sata0: gone; 3 partitions withdrawn");
	run_posted();
	for (unsigned i = 0; i < N; i++)
		CHECK_MSG(c[i].done == 1 && c[i].status == PB_ECANCELED,
		    "request %u: done %d status %d", i, c[i].done, c[i].status);
	CHECK(gpt_disks[0].used);	/* two requests still on the disk */
	fakedisk_finish(&disk, 0, 0);
	run_posted();
	for (unsigned i = 0; i < N; i++)
		CHECK_EQ_INT(c[i].done, 1);
	CHECK(!gpt_disks[0].used);
	CHECK_EQ_INT(ledger_live(), 0);
	world_end();
}

/* The medium changed (a request says PB_EMEDIA): read it again; the
 * partitions that stayed keep their resources, the others change. */
TEST(gpt_module_media_change_rescans)
{
	uint8_t ent[128 * 128], buf[512];
	struct fres *p1;
	struct creq c;

	REQUIRE(world_start() == PB_OK);
	attach_sata0(gpt_small(ent), 512, SMALL_BLOCKS);
	p1 = fres_find("block:sata0.p1");
	entry_set(ent + 128, T_DATA, U2, 2048, 3000, "data");	/* smaller */
	memcpy(img + 2 * 512, ent, sizeof(ent));
	memcpy(img + (SMALL_BLOCKS - 33) * 512, ent, sizeof(ent));
	gpt_fix_arrays(img, 512, SMALL_BLOCKS);
	disk.info.media_id = 2;
	disk.fail_status = PB_EMEDIA;
	disk.fail_first = disk.fail_last = 64;
	creq_init(&c, BLOCK_READ, 0, 1, buf, 512);
	CHECK_EQ_INT(part_call_submit("block:sata0.p1", &c), PB_OK);
	disk.fail_status = 0;
	run_posted();
	CHECK(c.done == 1 && c.status == PB_EMEDIA);
	CHECK_EQ_INT(nparts_published(), 3);
	CHECK(fres_find("block:sata0.p1") == p1);	/* kept */
	CHECK_EQ_INT(withdrawals, 1);			/* p2 changed */
	CHECK_CONTAINS(props_of("block:sata0.p2"), "last=3000");
	world_end();
}

/* Another provider takes the disk over: the partitions stay, their
 * properties name it; the same medium is not read again for nothing. */
TEST(gpt_module_disk_rebound)
{
	uint8_t ent[128 * 128];
	unsigned reads;

	REQUIRE(world_start() == PB_OK);
	attach_sata0(gpt_small(ent), 512, SMALL_BLOCKS);
	reads = disk.ntrace;
	fres_add("ahci2", "block", "block:ahci9", "path=pci:00:1f.2/sata:0",
	    &fakedisk_ops, &disk);
	disk_conn.res = fres_find("block:ahci9")->name;
	gpt_event(SELF, PB_EV_REBOUND, &disk_conn, REQ_DISK);
	run_posted();
	CHECK_EQ_INT(disk.ntrace, reads);
	CHECK_EQ_INT(withdrawals, 0);
	CHECK_CONTAINS(props_of("block:sata0.p1"), "path=pci:00:1f.2/sata:0/"
	    "part:1 disk=block:ahci9 type=");
	world_end();
}

/* A client goes: its requests are let go without a completion. */
TEST(gpt_module_client_gone)
{
	uint8_t ent[128 * 128], buf[2][512];
	struct pb_conn client;
	struct creq a, b;

	REQUIRE(world_start() == PB_OK);
	attach_small(ent, 1, 0);
	disk.hold = 1;
	creq_init(&a, BLOCK_READ, 0, 1, buf[0], 512);
	creq_init(&b, BLOCK_READ, 1, 1, buf[1], 512);
	CHECK_EQ_INT(part_call_submit("block:sata0.p2", &a), PB_OK);
	CHECK_EQ_INT(part_call_submit("block:sata0.p2", &b), PB_OK);
	client = (struct pb_conn){ &gpt_part_ops,
	    fres_find("block:sata0.p2")->ctx, NULL, "block:sata0.p2" };
	gpt_event(SELF, PB_EV_CLIENT_GONE, &client, 0);
	fakedisk_finish(&disk, 0, 0);
	run_posted();
	CHECK_EQ_INT(disk.ntrace, 3);	/* b never went to the disk */
	CHECK(a.done == 0 && b.done == 0);
	world_end();
}

/* A swap: quiesce waits for the disk, export lists what waits per
 * partition path, a standby gpt takes the partitions over from the
 * inventory, imports the requests and sends them at activate. */
TEST(gpt_module_swap_hands_requests_over)
{
	enum { N = 5 };
	static uint8_t bufs[N][512];
	uint8_t ent[128 * 128], blob[1024];
	struct block_state st;
	struct block_state_disk sd[3];
	struct creq c[N];
	size_t len, len2;
	uint32_t ver;

	REQUIRE(world_start() == PB_OK);
	attach_small(ent, 1, 0);
	disk.hold = 1;
	for (unsigned i = 0; i < N; i++) {
		creq_init(&c[i], BLOCK_READ, i, 1, bufs[i], 512);
		CHECK_EQ_INT(part_call_submit(i < 3 ? "block:sata0.p5" :
		    "block:sata0.p1", &c[i]), PB_OK);
	}
	CHECK_EQ_INT(gpt_quiesce(SELF), PB_EAGAIN);
	fakedisk_finish(&disk, 0, 0);
	run_posted();
	CHECK_EQ_INT(c[0].done, 1);
	CHECK_EQ_INT(disk.nheld, 0);	/* quiesced: nothing more sent */
	CHECK_EQ_INT(gpt_quiesce(SELF), PB_OK);
	CHECK_EQ_INT(gpt_export(SELF, NULL, 0, &len, &ver), PB_OK);
	CHECK_EQ_INT(ver, BLOCK_STATE_VERSION);
	REQUIRE(len <= sizeof(blob));
	CHECK_EQ_INT(gpt_export(SELF, blob, sizeof(blob), &len2, &ver), PB_OK);
	CHECK_EQ_INT(len2, len);
	memcpy(&st, blob, sizeof(st));
	CHECK_EQ_INT(st.ndisks, 3);
	CHECK_EQ_INT(st.nreq, 4);
	memcpy(sd, blob + sizeof(st), sizeof(sd));
	CHECK_STR(sd[0].path, "pci:00:1f.2/sata:0/part:1");
	CHECK_EQ_INT(sd[0].nreq, 2);
	CHECK_STR(sd[2].path, "pci:00:1f.2/sata:0/part:5");
	CHECK_EQ_INT(sd[2].first, 2);
	CHECK_EQ_INT(sd[2].nreq, 2);

	/* The next gpt: the old one's memory and resources stay (the hub
	 * keeps them for the watch window); its statics are the new one's. */
	gpt_stop(SELF);
	allow_same_name = 1;
	CHECK_EQ_INT(gpt_start(SELF, &fake_hub, PB_START_STANDBY), PB_OK);
	CHECK_EQ_INT(nparts_published(), 6);	/* three counterparts */
	CHECK_EQ_INT(gpt_parts[0].first, 64);
	CHECK_STR(gpt_parts[2].name, "sata0.p5");
	CHECK_STR(gpt_parts[2].path, "pci:00:1f.2/sata:0/part:5");
	CHECK_EQ_INT(gpt_import(SELF, blob, len, BLOCK_STATE_VERSION), PB_OK);
	CHECK_EQ_INT(disk.nheld, 0);
	CHECK_EQ_INT(gpt_activate(SELF), PB_OK);
	for (unsigned round = 0; round < 8 && disk.nheld; round++) {
		fakedisk_finish(&disk, 0, 0);
		run_posted();
	}
	for (unsigned i = 0; i < N; i++)
		CHECK_MSG(c[i].done == 1 && c[i].status == PB_OK, "request %u: "
		    "done %d status %d", i, c[i].done, c[i].status);
	CHECK_EQ_INT(disk.trace[disk.ntrace - 1].lba, 4096 + 2);
	world_end();
}

TEST(gpt_module_import_refuses_bad_state)
{
	uint8_t blob[256] = { 0 };
	struct block_state st = { .ndisks = 1, .nreq = 1 };
	struct block_state_disk sd = { .first = 0, .nreq = 2 };

	REQUIRE(world_start() == PB_OK);
	CHECK_EQ_INT(gpt_import(SELF, blob, 8, 7), PB_ESTATE);
	CHECK_EQ_INT(gpt_import(SELF, blob, 4, BLOCK_STATE_VERSION), PB_EINVAL);
	memcpy(blob, &st, sizeof(st));
	memset(sd.path, 'x', sizeof(sd.path));
	memcpy(blob + sizeof(st), &sd, sizeof(sd));
	CHECK_EQ_INT(gpt_import(SELF, blob, sizeof(blob), BLOCK_STATE_VERSION),
	    PB_EINVAL);		/* path unterminated, nreq too big */
	sd.path[0] = '\0';
	sd.nreq = 1;
	memcpy(blob + sizeof(st), &sd, sizeof(sd));
	CHECK_EQ_INT(gpt_import(SELF, blob, sizeof(blob), BLOCK_STATE_VERSION),
	    PB_EINVAL);		/* a NULL request */
	CHECK_EQ_INT(gpt_import(SELF, blob, 80, BLOCK_STATE_VERSION),
	    PB_EINVAL);		/* short */
	world_end();
}

TEST(gpt_module_needs_abi_1_2)
{
	struct pb_hub old = fake_hub;

	world_end();
	old.work_post = NULL;
	CHECK_EQ_INT(gpt_start(SELF, &old, PB_START_NORMAL), PB_ENOTSUP);
	CHECK_CONTAINS(log_text, "needs a hub with ABI 1.2 services");
	world_end();
}

TEST(gpt_module_descriptor)
{
	CHECK_STR(gpt_modinfo.name, "gpt");
	CHECK_EQ_INT(gpt_modinfo.nrequires, 1);
	CHECK_STR(gpt_modinfo.requires[0].iface, "block");
	CHECK_EQ_INT(gpt_modinfo.requires[0].card, PB_CARD_ALL);
	CHECK_EQ_INT(gpt_modinfo.requires[0].when, PB_LATER);
	CHECK_STR(gpt_modinfo.provides[0].iface, "block");
	CHECK(gpt_modinfo.flags & PB_MOD_AUTOSTART);
	CHECK(!(gpt_modinfo.flags & PB_MOD_HARDWARE));
}

TEST(gpt_module_two_disks)
{
	uint8_t ent[128 * 128];

	REQUIRE(world_start() == PB_OK);
	attach_sata0(gpt_small(ent), 512, SMALL_BLOCKS);
	img2 = mbr_disk();
	fakedisk_init(&disk2, img2, 512, MBR_BLOCKS);
	attach(&disk2, &disk2_conn, "block:sata1", "path=pci:00:1f.2/sata:1");
	CHECK_EQ_INT(nparts_published(), 3 + 5);
	CHECK_CONTAINS(props_of("block:sata1.p7"), "path=pci:00:1f.2/sata:1/"
	    "part:7 disk=block:sata1 type=mbr:0x07");
	gpt_event(SELF, PB_EV_DISCONNECTED, &disk_conn, REQ_DISK);
	CHECK_EQ_INT(nparts_published(), 5);
	world_end();
}

/* A scan under way when a swap begins publishes nothing until gpt goes
 * on: the next gpt would have no counterpart for it. */
TEST(gpt_module_quiesce_holds_a_scan)
{
	uint8_t ent[128 * 128];

	REQUIRE(world_start() == PB_OK);
	attach_small(ent, 32, 1);
	CHECK_EQ_INT(disk.nheld, 1);			/* LBA 0-1 */
	CHECK_EQ_INT(gpt_quiesce(SELF), PB_EAGAIN);
	fakedisk_finish(&disk, 0, 0);
	run_posted();
	CHECK_EQ_INT(disk.nheld, 0);			/* the array waits */
	CHECK_EQ_INT(gpt_quiesce(SELF), PB_OK);
	CHECK_EQ_INT(nparts_published(), 0);
	CHECK_EQ_INT(gpt_resume(SELF), PB_OK);
	for (unsigned i = 0; i < 4 && disk.nheld; i++) {
		fakedisk_finish(&disk, 0, 0);
		run_posted();
	}
	CHECK_EQ_INT(nparts_published(), 3);
	world_end();
}

/* The native driver's disk reaches gpt on its own while the firmware's
 * is parked (the takeover did not hand it over): the same path, so the
 * partitions and their clients follow it; the parked one is let go. */
TEST(gpt_module_same_disk_from_another_provider)
{
	uint8_t ent[128 * 128];
	struct pb_conn native;
	struct fres *p1;
	unsigned reads;

	REQUIRE(world_start() == PB_OK);
	attach_small(ent, 32, 0);
	p1 = fres_find("block:sata0.p1");
	reads = disk.ntrace;
	fres_add("ahci", "block", "block:ahci9", SATA0_PROPS, &fakedisk_ops,
	    &disk);
	native = (struct pb_conn){ &fakedisk_ops, &disk, NULL,
	    fres_find("block:ahci9")->name };
	gpt_event(SELF, PB_EV_CONNECTED, &native, REQ_DISK);
	run_posted();
	CHECK_CONTAINS(log_text, "block:ahci9: takes over from block:sata0 "
	    "(the same path=pci:00:1f.2/sata:0): its partitions follow");
	CHECK_EQ_INT(disconnects, 1);
	CHECK_EQ_INT(nparts_published(), 3);
	CHECK(fres_find("block:sata0.p1") == p1);
	CHECK_CONTAINS(p1->props, "disk=block:ahci9 ");
	CHECK_EQ_INT(disk.ntrace, reads);	/* the same medium */
	gpt_event(SELF, PB_EV_REBOUND, &disk_conn, REQ_DISK);	/* stale */
	gpt_event(SELF, PB_EV_DISCONNECTED, &disk_conn, REQ_DISK);
	CHECK_EQ_INT(nparts_published(), 3);
	CHECK(gpt_disks[0].used && !gpt_disks[1].used);
	world_end();
}

/* A disk without a path, rebound onto a resource gpt already reads
 * through another connection: the partitions found first stay (they have
 * the clients), the twins go, the second connection is let go. */
TEST(gpt_module_rebound_onto_a_disk_seen_already)
{
	uint8_t ent[128 * 128];
	struct pb_conn native;
	struct fres *p1;

	REQUIRE(world_start() == PB_OK);
	img = gpt_small(ent);
	fakedisk_init(&disk, img, 512, SMALL_BLOCKS);
	attach(&disk, &disk_conn, "block:fw0", "size=1");
	p1 = fres_find("block:fw0.p1");
	fres_add("ahci", "block", "block:ahci9", "size=1", &fakedisk_ops,
	    &disk);
	native = (struct pb_conn){ &fakedisk_ops, &disk, NULL,
	    fres_find("block:ahci9")->name };
	gpt_event(SELF, PB_EV_CONNECTED, &native, REQ_DISK);
	run_posted();
	CHECK(fres_find("block:ahci9.p1") != NULL);
	disk_conn.res = native.res;
	gpt_event(SELF, PB_EV_REBOUND, &disk_conn, REQ_DISK);
	run_posted();
	CHECK(fres_find("block:ahci9.p1") == NULL);
	CHECK(fres_find("block:fw0.p1") == p1);
	CHECK_CONTAINS(p1->props, "path=fw0/part:1 disk=block:ahci9 ");
	CHECK_EQ_INT(nparts_published(), 3);
	CHECK(gpt_disks[0].used && !gpt_disks[1].used);
	CHECK_EQ_INT(disconnects, 1);
	world_end();
}
