/*
 * tblk - test module: a client of `block` that reads the start of a disk
 * twice, the second time across the takeover, and checks both reads are
 * the same bytes.
 *
 * boot.cfg: tblk=MIB (the region read, from block 0; without it tblk only
 * holds the disks), tblk-depth=N (requests at a time, 2 by default),
 * tblk-disk=NAME (block:efi0 by default: the first disk it is given).
 *
 *  - The first pass runs as soon as tblk has its disk, in the firmware
 *    phase (the boot's work all runs before the takeover): each 128 KiB
 *    chunk's CRC-32 is kept, and the CRC-32 of the whole region logged.
 *  - The second pass starts when the native world does, at the first
 *    `pci` resource (pci publishes its functions right after
 *    ExitBootServices), while the disk is parked: its first requests wait
 *    in the parked provider's queue and are handed to the native driver
 *    with the disk, or cancelled with it.  Every request remembers the
 *    resource it was submitted to; one that completes on another was
 *    carried over.
 *
 * It logs one line per pass and per event of its disk's connection, and
 * the last line says what the test checks:
 *   tblk: second pass: 8192 KiB, 64 reads, 0 mismatched, 0 failed,
 *   crc32 1234abcd, 2 carried over from block:efi0 to block:sata0
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/block.h"

#define CHUNK (128u << 10)
#define DEPTH_MAX 8

struct io {
	struct block_req req;
	struct block_seg seg;
	uint8_t *buf;
	uint64_t chunk;
	char res[48];			/* the resource it was submitted to */
	int busy;
	int ready;			/* done, waiting for its turn */
};

static const struct pb_hub *hub;
static struct pb_module *self;
static struct {
	struct pb_conn *conn;
	char want[48];
	uint32_t bs;
	uint64_t bytes, nchunks;
	unsigned depth, outstanding;
	struct io io[DEPTH_MAX];
	uint32_t *ref;			/* each chunk's CRC-32, first pass */
	int pass;			/* 0 idle, 1, 2; 3 over */
	uint64_t next, consumed;	/* chunks submitted, summed in order */
	uint32_t crc;
	uint64_t mismatched, failed, carried;
	char carried_from[48], carried_to[48];
	int32_t last_error;
	uint64_t t0;
} t;

static void
say(const char *fmt, ...)
{
	char line[160];
	va_list ap;

	va_start(ap, fmt);
	rt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	hub->log(self, PB_LOG_INFO, line);
}

static void
submit(struct io *io, uint64_t chunk)
{
	uint64_t left = t.bytes - chunk * CHUNK;
	uint32_t len = left < CHUNK ? (uint32_t)left : CHUNK;
	int r;

	io->chunk = chunk;
	io->seg.len = len;
	io->req.op = BLOCK_READ;
	io->req.lba = chunk * (CHUNK / t.bs);
	io->req.count = len / t.bs;
	io->req.nseg = 1;
	io->req.segs = &io->seg;
	io->req.status = 1;
	rt_strlcpy(io->res, t.conn->res, sizeof(io->res));
	io->busy = 1;
	t.outstanding++;
	if ((r = PB_CALL(t.conn, block_ops, submit, &io->req)) != PB_OK) {
		io->busy = 0;
		t.outstanding--;
		t.failed++;
		say("submit at block %llu refused (%d)",
		    (unsigned long long)io->req.lba, r);
	}
}

static void
pass_report(void)
{
	uint64_t ms = (hub->now_ns() - t.t0) / 1000000;

	if (t.pass == 1) {
		say("first pass: %llu KiB, %llu reads, crc32 %08x, %llu ms, "
		    "via %s", (unsigned long long)(t.bytes >> 10),
		    (unsigned long long)t.nchunks, t.crc,
		    (unsigned long long)ms, t.conn->res);
		return;
	}
	say("second pass: %llu KiB, %llu reads, %llu mismatched, %llu failed, "
	    "crc32 %08x, %llu carried over from %s to %s",
	    (unsigned long long)(t.consumed * CHUNK > t.bytes ? t.bytes :
	    t.consumed * CHUNK) >> 10, (unsigned long long)t.consumed,
	    (unsigned long long)t.mismatched, (unsigned long long)t.failed,
	    t.crc, (unsigned long long)t.carried,
	    t.carried ? t.carried_from : "-", t.carried ? t.carried_to : "-");
}

/* Chunks in order: sum them, check them (second pass), read the next. */
static void
consume(void)
{
	for (;;) {
		struct io *io = &t.io[t.consumed % t.depth];

		if (!io->ready || io->chunk != t.consumed)
			return;
		io->ready = 0;
		if (io->req.status != PB_OK) {
			t.failed++;
			t.last_error = io->req.status;
		} else if (t.pass == 2 &&
		    rt_crc32(0, io->buf, io->seg.len) != t.ref[io->chunk]) {
			t.mismatched++;
		} else if (t.pass == 1) {
			t.ref[io->chunk] = rt_crc32(0, io->buf, io->seg.len);
		}
		t.crc = rt_crc32(t.crc, io->buf, io->seg.len);
		t.consumed++;
		if (t.conn && t.next < t.nchunks)
			submit(io, t.next++);
	}
}

static void
begin_pass(int pass)
{
	t.pass = pass;
	t.next = t.consumed = 0;
	t.crc = 0;
	t.t0 = hub->now_ns();
	for (unsigned i = 0; i < t.depth && t.next < t.nchunks; i++)
		submit(&t.io[i], t.next++);
}

static void
done(void *arg)
{
	struct io *io = arg;

	if (!io->busy) {
		say("a read completed twice");
		return;
	}
	io->busy = 0;
	t.outstanding--;
	if (t.conn && strcmp(io->res, t.conn->res) != 0) {
		t.carried++;
		rt_strlcpy(t.carried_from, io->res, sizeof(t.carried_from));
		rt_strlcpy(t.carried_to, t.conn->res, sizeof(t.carried_to));
	}
	io->ready = 1;
	consume();
	if (t.outstanding)
		return;
	if (!t.conn) {
		say("%llu reads completed after the disk went, the last with %d",
		    (unsigned long long)t.failed, (int)t.last_error);
		t.pass = 3;
	} else if (t.consumed == t.nchunks) {
		pass_report();
		t.pass = t.pass == 1 ? 0 : 3;	/* 0: waits for the takeover */
	}
}

/* Set up the reads of the region on the disk just connected. */
static void
first_pass(void *arg)
{
	struct block_info bi = { .size = sizeof(bi) };
	uint64_t phys;
	int r;

	(void)arg;
	if ((r = PB_CALL(t.conn, block_ops, info, &bi)) != PB_OK ||
	    !bi.block_size || CHUNK % bi.block_size ||
	    bi.max_transfer < CHUNK) {
		say("%s cannot be read in 128 KiB requests (%d)", t.conn->res, r);
		return;
	}
	t.bs = bi.block_size;
	if (t.bytes > bi.block_count * bi.block_size)
		t.bytes = bi.block_count * bi.block_size;
	t.bytes -= t.bytes % CHUNK;
	t.nchunks = t.bytes / CHUNK;
	if (!t.nchunks || !(t.ref = hub->alloc(self, t.nchunks * 4)))
		return;
	for (unsigned i = 0; i < t.depth; i++) {
		struct io *io = &t.io[i];

		if (!(io->buf = hub->alloc_pages(self, CHUNK / 4096,
		    PB_MEM_DMA32, &phys)))
			return;
		io->seg = (struct block_seg){ .va = io->buf, .bus = phys };
		io->req = (struct block_req){ .size = sizeof(io->req) };
		hub->work_init(self, &io->req.done, done, io);
	}
	begin_pass(1);
}

static void
tblk_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	switch (ev) {
	case PB_EV_CONNECTED:
		if (t.conn || !t.bytes || strcmp(c->res, t.want) != 0)
			return;
		t.conn = c;
		if (hub->queue_work(self, first_pass, NULL) != PB_OK)
			say("cannot queue work");
		break;
	case PB_EV_REBOUND:
		if (c == t.conn)
			say("rebound: now %s, %u reads waiting", c->res,
			    t.outstanding);
		break;
	case PB_EV_DISCONNECTED:
		if (c != t.conn)
			return;
		say("%s went away, %u reads waiting", c->res, t.outstanding);
		t.conn = NULL;
		break;
	case PB_EV_RESOURCE:
		/* The first pci function: the native world has begun. */
		if (t.pass == 0 && t.conn && t.nchunks && t.consumed) {
			say("second pass from %s, %u at a time", t.conn->res,
			    t.depth);
			begin_pass(2);
		}
		break;
	}
}

static int
tblk_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	char v[48];

	self = m;
	hub = h;
	memset(&t, 0, sizeof(t));
	if (h->size < offsetof(struct pb_hub, work_cancel))
		return PB_ENOTSUP;
	rt_strlcpy(t.want, "block:efi0", sizeof(t.want));
	if (pb_setting(h, "tblk-disk", v, sizeof(v)))
		rt_snprintf(t.want, sizeof(t.want), "block:%s", v);
	t.depth = 2;
	if (pb_setting(h, "tblk-depth", v, sizeof(v)))
		t.depth = (unsigned)rt_strtou(v, NULL, 10);
	if (t.depth < 1 || t.depth > DEPTH_MAX)
		t.depth = 2;
	if (pb_setting(h, "tblk", v, sizeof(v)))
		t.bytes = rt_strtou(v, NULL, 10) << 20;
	return hub->subscribe(self, "pci");
}

static const struct pb_module_ops ops = {
	.start = tblk_start,
	.event = tblk_event,
};

PB_MODULE(.name = "tblk", .version = "1.0",
    .desc = "test: reads a disk twice, across the takeover",
    .flags = PB_MOD_AUTOSTART, .ops = &ops,
    .nrequires = 1,
    .requires = { PB_REQUIRE(BLOCK_IFACE, BLOCK_MAJOR, BLOCK_MINOR,
	PB_CARD_ALL, PB_LATER) });
