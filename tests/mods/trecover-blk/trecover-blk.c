/*
 * trecover-blk - test module: a read-only `block` provider of 4 MiB whose
 * every byte is a function of its offset (trb_byte), that completes each
 * request 2 ms after it came, oldest first, and faults with requests in
 * flight: boot.cfg `trecover-blk=N` makes each instance call through NULL
 * (in a work item of its own) right after taking its N-th request.  For
 * tests/scenario/test_recover.py: the hub's shadow (hub/shadow.c) must
 * issue the requests in flight again to the restarted instance, so a
 * `blkread` across the faults reads every byte right, once.
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/block.h"
#include "../../../abi/rt/rt.h"

#define BS		512u
#define BLOCKS		8192u		/* 4 MiB */
#define QMAX		32
#define DELAY_NS	2000000ull

static const struct pb_hub *hub;
static struct pb_module *self;
static struct block_req *queue[QMAX];
static unsigned nqueue, taken, fault_at;
static int armed;

typedef void (*fn_t)(void);
static fn_t volatile null_fn;	/* the compiler must not see NULL */

/* The disk's byte at offset o (the test computes the same). */
static uint8_t
trb_byte(uint64_t o)
{
	return (uint8_t)(o * 131 + (o >> 9) * 7);
}

static void complete_oldest(void *arg);

static void
arm(void)
{
	if (!armed && nqueue &&
	    hub->timer_after(self, DELAY_NS, complete_oldest, NULL) >= 0)
		armed = 1;
}

static void
complete_oldest(void *arg)
{
	struct block_req *r = queue[0];
	uint64_t o = r->lba * BS;

	(void)arg;
	armed = 0;
	for (unsigned i = 0; i < nqueue - 1; i++)
		queue[i] = queue[i + 1];
	nqueue--;
	for (unsigned s = 0; s < r->nseg; s++)
		for (uint32_t k = 0; k < r->segs[s].len; k++)
			((uint8_t *)r->segs[s].va)[k] = trb_byte(o++);
	r->status = PB_OK;
	hub->work_post(self, &r->done);
	arm();
}

static void
crash(void *arg)
{
	(void)arg;
	pb_logf(hub, self, PB_LOG_INFO, "crashing with %u requests in flight",
	    nqueue);
	null_fn();
}

static int
trb_info(void *ctx, struct block_info *info)
{
	struct block_info i = { .size = info->size, .block_size = BS,
	    .block_count = BLOCKS, .max_transfer = 128u << 10,
	    .max_segments = 16, .queue_depth = QMAX, .align = 1,
	    .flags = BLOCK_RO, .dma_limit = ~0ull };

	(void)ctx;
	memcpy(info, &i, info->size < sizeof(i) ? info->size : sizeof(i));
	return PB_OK;
}

static int
trb_submit(void *ctx, struct block_req *r)
{
	uint64_t len = 0;

	(void)ctx;
	for (unsigned s = 0; s < r->nseg; s++)
		len += r->segs[s].len;
	if (r->op != BLOCK_READ || len != (uint64_t)r->count * BS ||
	    r->lba + r->count > BLOCKS)
		return r->op == BLOCK_WRITE ? PB_EROFS : PB_EINVAL;
	if (nqueue == QMAX)
		return PB_EBUSY;
	queue[nqueue++] = r;
	arm();
	if (++taken == fault_at)
		hub->timer_after(self, 0, crash, NULL);
	return PB_OK;
}

static const struct block_ops trb_ops = { trb_info, trb_submit };

static int
trb_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	char n[16];

	(void)mode;
	self = m;
	hub = h;
	fault_at = pb_setting(hub, "trecover-blk", n, sizeof(n)) ?
	    (unsigned)rt_strtou(n, NULL, 10) : 0;
	return hub->publish(self, BLOCK_IFACE, "trb0", "path=trecover/0 "
	    "size=4194304 bs=512 model=TRECOVER serial=0 ro=1 rm=0",
	    &trb_ops, NULL) ? PB_OK : PB_ENOMEM;
}

static const struct pb_module_ops ops = { .start = trb_start };

PB_MODULE(.name = "trecover-blk", .version = "1.0",
    .desc = "test: a block provider that faults with requests in flight",
    .ops = &ops,
    .nprovides = 1, .provides = { PB_PROVIDE(BLOCK_IFACE, BLOCK_MAJOR,
	BLOCK_MINOR) });
