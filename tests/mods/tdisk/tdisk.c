/*
 * tdisk - test module: a `block` client that reads every disk it is given
 * and says what it read, so a scenario test can compare it with the
 * image file on the host.  For each block resource (PB_CARD_ALL, as they
 * appear) it reads the first and the last 64 KiB, each as one request of
 * four segments in separate DMA buffers, and logs
 *   tdisk: block:sata1 bs=512 count=24576 head=<fnv1a64> tail=<fnv1a64>
 * With boot.cfg `tdisk-write=NAME` (block:NAME) it also writes a pattern
 * to blocks 64-95 of that disk, flushes, reads them back and logs
 *   tdisk: block:NAME wrote 32 blocks, read back equal
 * Requests are built as abi/block.h says: the client's own struct
 * block_req, bus addresses from dma_alloc, completion as its work.
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/block.h"

#define MAX_DISKS	6
#define SPAN		(64u << 10)	/* bytes read at each end */
#define NSEG		4
#define WRITE_LBA	64
#define WRITE_BLOCKS	32

static const struct pb_hub *hub;
static struct pb_module *self;

enum step { IDLE, HEAD, TAIL, WRITE, FLUSH, READBACK, DONE };

struct disk {
	struct pb_conn *c;
	struct block_info info;
	struct block_req req;
	struct block_seg seg[NSEG];
	uint8_t *buf[NSEG];
	struct pb_work start;
	enum step step;
	uint64_t head;
	int write;			/* tdisk-write names it */
};

static struct disk disks[MAX_DISKS];

static uint64_t
fnv(uint64_t h, const uint8_t *p, size_t n)
{
	while (n--)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

static uint64_t
fnv_bufs(const struct disk *d, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (unsigned i = 0; i < NSEG; i++)
		h = fnv(h, d->buf[i], len / NSEG);
	return h;
}

static void done(void *arg);

/* One request of `blocks` blocks at lba over the four buffers. */
static int
submit(struct disk *d, uint16_t op, uint64_t lba, uint32_t blocks)
{
	uint32_t per = blocks * d->info.block_size / NSEG;

	d->req = (struct block_req){ .size = sizeof(d->req), .op = op,
	    .lba = lba, .count = blocks, .nseg = op == BLOCK_FLUSH ? 0 : NSEG,
	    .segs = d->seg };
	for (unsigned i = 0; i < NSEG; i++)
		d->seg[i].len = per;
	hub->work_init(self, &d->req.done, done, d);
	return PB_CALL(d->c, block_ops, submit, &d->req);
}

static void
fail(struct disk *d, const char *what, int err)
{
	pb_logf(hub, self, PB_LOG_ERR, "%s: %s failed (%d)", d->c->res, what,
	    err);
	d->step = DONE;
}

static void
pattern(struct disk *d, int check, int *same)
{
	size_t per = WRITE_BLOCKS * d->info.block_size / NSEG;

	for (unsigned i = 0; i < NSEG; i++)
		for (size_t k = 0; k < per; k++) {
			uint8_t v = (uint8_t)(i * 37 + k * 11 + 5);

			if (!check)
				d->buf[i][k] = v;
			else if (d->buf[i][k] != v)
				*same = 0;
		}
}

static void
next(struct disk *d)
{
	uint32_t blocks = SPAN / d->info.block_size;
	int err = PB_OK, same = 1;

	switch (d->step) {
	case IDLE:
		d->step = HEAD;
		err = submit(d, BLOCK_READ, 0, blocks);
		break;
	case HEAD:
		d->head = fnv_bufs(d, SPAN);
		d->step = TAIL;
		err = submit(d, BLOCK_READ, d->info.block_count - blocks, blocks);
		break;
	case TAIL:
		pb_logf(hub, self, PB_LOG_INFO, "%s bs=%u count=%llu "
		    "head=%016llx tail=%016llx", d->c->res, d->info.block_size,
		    (unsigned long long)d->info.block_count,
		    (unsigned long long)d->head,
		    (unsigned long long)fnv_bufs(d, SPAN));
		d->step = DONE;
		if (!d->write)
			break;
		pattern(d, 0, NULL);
		d->step = WRITE;
		err = submit(d, BLOCK_WRITE, WRITE_LBA, WRITE_BLOCKS);
		break;
	case WRITE:
		d->step = FLUSH;
		err = submit(d, BLOCK_FLUSH, 0, 0);
		break;
	case FLUSH:
		for (unsigned i = 0; i < NSEG; i++)
			memset(d->buf[i], 0, SPAN / NSEG);
		d->step = READBACK;
		err = submit(d, BLOCK_READ, WRITE_LBA, WRITE_BLOCKS);
		break;
	case READBACK:
		pattern(d, 1, &same);
		pb_logf(hub, self, PB_LOG_INFO, "%s wrote %u blocks, read back "
		    "%s", d->c->res, WRITE_BLOCKS, same ? "equal" : "DIFFERENT");
		d->step = DONE;
		break;
	default:
		break;
	}
	if (err != PB_OK)
		fail(d, "submit", err);
}

/* A request ended (the client's work, posted by the provider). */
static void
done(void *arg)
{
	struct disk *d = arg;

	if (d->req.status != PB_OK) {
		fail(d, "request", d->req.status);
		return;
	}
	next(d);
}

/* A disk came: its limits, its buffers, the first read. */
static void
begin(void *arg)
{
	struct disk *d = arg;
	char want[32];
	int err;

	d->info = (struct block_info){ .size = sizeof(d->info) };
	if ((err = PB_CALL(d->c, block_ops, info, &d->info)) != PB_OK) {
		fail(d, "info", err);
		return;
	}
	if (d->info.block_count * d->info.block_size < 2 * SPAN) {
		pb_logf(hub, self, PB_LOG_INFO, "%s too small", d->c->res);
		return;
	}
	for (unsigned i = 0; i < NSEG; i++) {
		if (!d->buf[i] && !(d->buf[i] = hub->dma_alloc(self, SPAN / NSEG,
		    4096, 0, d->info.dma_limit, &d->seg[i].bus))) {
			fail(d, "dma_alloc", PB_ENOMEM);
			return;
		}
		d->seg[i].va = d->buf[i];
	}
	d->write = pb_setting(hub, "tdisk-write", want, sizeof(want)) &&
	    strcmp(d->c->res + strlen(BLOCK_IFACE) + 1, want) == 0;
	d->step = IDLE;
	next(d);
}

static void
tdisk_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	if (req != 0 || ev != PB_EV_CONNECTED)
		return;
	for (unsigned i = 0; i < MAX_DISKS; i++)
		if (!disks[i].c) {
			disks[i].c = c;
			hub->work_init(self, &disks[i].start, begin, &disks[i]);
			hub->work_post(self, &disks[i].start);
			return;
		}
}

static int
tdisk_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	self = m;
	hub = h;
	return PB_OK;
}

static const struct pb_module_ops ops = {
	.start = tdisk_start,
	.event = tdisk_event,
};

PB_MODULE(.name = "tdisk", .version = "1.0",
    .desc = "test: reads every block device and logs checksums",
    .ops = &ops,
    .nrequires = 1,
    .requires = { PB_REQUIRE(BLOCK_IFACE, BLOCK_MAJOR, BLOCK_MINOR,
	PB_CARD_ALL, PB_LATER) });
