/*
 * fakeblock.h - a fake `block` disk over an image in memory, and the ABI
 * DMA memory a block client needs from a fake hub (fb_dma_alloc/free/addr,
 * plain aligned heap memory whose bus address is its virtual one; the
 * stricter fake_dma_* of fakehub.h give other bus addresses).  Work items
 * are fakehub.h's (fake_work_init/post/cancel, run by run_posted).  For
 * module host tests of block clients: gpt, and file systems later.
 *
 * The disk keeps the block.h contract as a real provider does: submit
 * refuses (PB_EINVAL) what a real one would (bad op, LBAs past the end,
 * segments that do not add up, break max_transfer, max_segments or the
 * segment boundary) and completes what it takes exactly once by posting
 * the request's `done`.  By default it does the I/O at submit and posts
 * the completion; with `hold` set requests wait until fakedisk_finish()
 * (so a test sees them in flight).  Knobs: info_err, submit_err, a range
 * of LBAs that fails with fail_status, and a trace of every request.
 */
#ifndef PB_TESTS_FAKEBLOCK_H
#define PB_TESTS_FAKEBLOCK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../abi/block.h"
#include "fakehub.h"	/* its intrusive work items: fake_work_post... */

#ifndef FAKE
#define FAKE static __attribute__((unused))
#endif

/* ---- DMA memory -------------------------------------------------------- */

FAKE unsigned fb_dma_live;

FAKE void *
fb_dma_alloc(struct pb_module *self, size_t len, size_t align,
    uint64_t boundary, uint64_t limit, uint64_t *bus)
{
	void *p;

	(void)self, (void)boundary, (void)limit;
	if (align < 16)
		align = 16;
	len = (len + align - 1) / align * align;
	if (!(p = aligned_alloc(align, len)))
		return NULL;
	memset(p, 0, len);
	*bus = (uint64_t)(uintptr_t)p;
	fb_dma_live++;
	return p;
}

FAKE void
fb_dma_free(struct pb_module *self, void *va)
{
	(void)self;
	if (va)
		fb_dma_live--;
	free(va);
}

FAKE int
fb_dma_addr(struct pb_module *self, const void *va, size_t len, uint64_t *bus,
    size_t *run)
{
	(void)self;
	*bus = (uint64_t)(uintptr_t)va;
	*run = len;
	return PB_OK;
}

/* ---- the disk ---------------------------------------------------------- */

#define FAKEDISK_HELD 128
#define FAKEDISK_TRACE 512

struct fakedisk {
	uint8_t *img;			/* block_count * block_size bytes */
	struct block_info info;		/* what info() answers */
	int info_err;			/* info() fails with this */
	int submit_err;			/* submit() refuses with this */
	int hold;			/* keep requests until finished */
	uint64_t fail_first, fail_last;	/* requests touching these LBAs */
	int fail_status;		/* complete with this (0: none fail) */

	struct block_req *held[FAKEDISK_HELD];
	unsigned nheld;
	unsigned submits, refused, completions, max_held;
	struct {
		uint16_t op;
		uint64_t lba;
		uint32_t count, nseg;
	} trace[FAKEDISK_TRACE];
	unsigned ntrace;
};

/* A disk of nblocks blocks of bs bytes over img, with roomy limits. */
FAKE void
fakedisk_init(struct fakedisk *d, uint8_t *img, uint32_t bs, uint64_t nblocks)
{
	memset(d, 0, sizeof(*d));
	d->img = img;
	d->info = (struct block_info){ .size = sizeof(struct block_info),
	    .block_size = bs, .block_count = nblocks, .max_transfer = 1u << 20,
	    .max_segments = 64, .queue_depth = 32, .align = 1,
	    .dma_limit = ~0ull, .media_id = 1 };
}

FAKE int
fakedisk_info(void *ctx, struct block_info *info)
{
	struct fakedisk *d = ctx;
	uint32_t cap;

	if (d->info_err)
		return d->info_err;
	if (!info || info->size < sizeof(info->size))
		return PB_EINVAL;
	cap = info->size < sizeof(d->info) ? info->size : sizeof(d->info);
	memcpy(info, &d->info, cap);
	info->size = cap;
	return PB_OK;
}

/* What a real provider would refuse at submit. */
FAKE int
fakedisk_check(const struct fakedisk *d, const struct block_req *r)
{
	const struct block_info *in = &d->info;
	uint64_t total = 0;

	if (r->size < sizeof(*r))
		return PB_EINVAL;
	if (r->op == BLOCK_FLUSH)
		return PB_OK;
	if ((r->op != BLOCK_READ && r->op != BLOCK_WRITE) || !r->count ||
	    r->lba >= in->block_count || r->count > in->block_count - r->lba ||
	    !r->nseg || !r->segs || (in->max_segments &&
	    r->nseg > in->max_segments))
		return PB_EINVAL;
	for (unsigned i = 0; i < r->nseg; i++) {
		const struct block_seg *s = &r->segs[i];

		if (!s->va || !s->len || s->len % in->block_size)
			return PB_EINVAL;
		if (in->seg_boundary && s->bus / in->seg_boundary !=
		    (s->bus + s->len - 1) / in->seg_boundary)
			return PB_EINVAL;
		total += s->len;
	}
	if (total != (uint64_t)r->count * in->block_size ||
	    (in->max_transfer && total > in->max_transfer))
		return PB_EINVAL;
	return PB_OK;
}

/* Do r on the image and post its completion. */
FAKE void
fakedisk_do(struct fakedisk *d, struct block_req *r, int status)
{
	uint64_t at = r->lba * d->info.block_size;

	if (!status && d->fail_status && r->op != BLOCK_FLUSH &&
	    r->lba <= d->fail_last && r->lba + r->count > d->fail_first)
		status = d->fail_status;
	for (unsigned i = 0; !status && r->op != BLOCK_FLUSH && i < r->nseg;
	    i++) {
		const struct block_seg *s = &r->segs[i];

		if (r->op == BLOCK_READ)
			memcpy(s->va, d->img + at, s->len);
		else
			memcpy(d->img + at, s->va, s->len);
		at += s->len;
	}
	r->status = status;
	d->completions++;
	fake_work_post(NULL, &r->done);
}

FAKE int
fakedisk_submit(void *ctx, struct block_req *r)
{
	struct fakedisk *d = ctx;
	int err;

	if (d->ntrace < FAKEDISK_TRACE) {
		d->trace[d->ntrace].op = r->op;
		d->trace[d->ntrace].lba = r->lba;
		d->trace[d->ntrace].count = r->count;
		d->trace[d->ntrace].nseg = r->nseg;
		d->ntrace++;
	}
	if ((err = d->submit_err) || (err = fakedisk_check(d, r))) {
		d->refused++;
		return err;
	}
	d->submits++;
	if (!d->hold) {
		fakedisk_do(d, r, 0);
		return PB_OK;
	}
	if (d->nheld == FAKEDISK_HELD)
		return PB_EBUSY;
	d->held[d->nheld++] = r;
	if (d->nheld > d->max_held)
		d->max_held = d->nheld;
	return PB_OK;
}

/* Complete the oldest n held requests (all with n == 0), doing them, or
 * with `status` when it is not 0. */
FAKE unsigned
fakedisk_finish(struct fakedisk *d, unsigned n, int status)
{
	unsigned done = 0;

	if (n == 0 || n > d->nheld)
		n = d->nheld;
	while (done < n) {
		struct block_req *r = d->held[0];

		memmove(d->held, d->held + 1, --d->nheld * sizeof(d->held[0]));
		fakedisk_do(d, r, status);
		done++;
	}
	return done;
}

static const struct block_ops fakedisk_ops __attribute__((unused)) = {
	.info = fakedisk_info,
	.submit = fakedisk_submit,
};

#endif
