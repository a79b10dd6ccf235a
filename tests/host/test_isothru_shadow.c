/*
 * test_isothru_shadow.c - the block shadow's notes on pages of their own
 * that every module may write (hub/shadow.c), so a client's submit and
 * completion run in its own protection domain: the notes are there, a
 * provider's call under way is counted there (not in its module, hub
 * memory), and the hub writes through no note a stray write damaged.
 *
 * The world: `disk` (restartable) serves block:d0 and holds what it is
 * given; `fs` requires block.
 */
#include <string.h>

#include "check.h"
#include "fakemod.h"
#include "../../abi/block.h"

static struct fm *disk, *fs;
/* Each test its own request: a note outlives its test (the fake disk
 * never completes it), and a note is found by the request's address. */
static struct block_req reqs[4], *req;
static int refuse, calling_seen, busy_seen, heard;

static int
blk_info(void *ctx, struct block_info *info)
{
	(void)ctx;
	info->block_size = 512;
	info->block_count = 100;
	return PB_OK;
}

static int
blk_submit(void *ctx, struct block_req *r)
{
	(void)ctx;
	(void)r;
	calling_seen = shadow_calling(disk->m);
	busy_seen = (int)disk->m->busy;
	return refuse ? PB_ENODEV : PB_OK;
}

static const struct block_ops fake_block = { blk_info, blk_submit };

static void
req_done(void *arg)
{
	(void)arg;
	heard++;
}

static void
fault_in_work(void *arg)
{
	fake_fault(arg);
}

static int
world(unsigned which)
{
	fm_setup();
	refuse = calling_seen = busy_seen = heard = 0;
	disk = fm_add_loadable("disk", 5);
	fm_provide(disk, BLOCK_IFACE, 1, 0);
	fm_publish(disk, BLOCK_IFACE, "d0", "");
	disk->iops = (const struct tcon_ops *)&fake_block;
	fs = fm_add("fs", 0);
	fm_require(fs, BLOCK_IFACE, 1, 0, PB_CARD_ONE, PB_AT_START);
	if (fm_start(disk) || fm_start(fs))
		return 0;
	req = &reqs[which];
	memset(req, 0, sizeof(*req));
	req->size = sizeof(*req);
	req->op = BLOCK_READ;
	req->count = 1;
	work_init(fs->m, &req->done, req_done, NULL);	/* the note holds
							 * req's address once */
	return fm_conn_res(fs, 0, 0) == disk->res[0];
}

static int
submit(void)
{
	return PB_CALL(&fm_conn(fs, 0, 0)->pub, block_ops, submit, req);
}

/* The note of req: the word in the book that holds its address. */
static uint64_t *
note_of(const void *r)
{
	size_t len;
	uint64_t *w = shadow_book(&len);

	for (size_t i = 0; i < len / 8; i++)
		if (w[i] == (uint64_t)(uintptr_t)r)
			return &w[i];
	return NULL;
}

TEST(isothru_shadow_notes_live_on_pages_of_their_own)
{
	size_t len;
	void *book;

	REQUIRE(world(0));
	book = shadow_book(&len);
	CHECK_EQ_INT((uintptr_t)book % 4096, 0);
	CHECK(len >= 4096 && len % 4096 == 0);
	CHECK(note_of(req) == NULL);
	CHECK_EQ_INT(submit(), PB_OK);
	CHECK(note_of(req) != NULL);		/* noted in the book */
	fm_teardown();
}

/* The provider's call is counted in the book (the module's own busy,
 * hub memory, stays as it was), and only while it runs. */
TEST(isothru_shadow_counts_the_providers_call_in_the_book)
{
	REQUIRE(world(1));
	CHECK(!shadow_calling(disk->m));
	CHECK_EQ_INT(submit(), PB_OK);
	CHECK_EQ_INT(calling_seen, 1);
	CHECK_EQ_INT(busy_seen, 0);
	CHECK(!shadow_calling(disk->m));
	CHECK(!shadow_calling(NULL));
	fm_teardown();
}

/* A note whose status pointer a stray write changed: when the request
 * must fail (the restarted provider refuses it), the hub writes nothing
 * through it and drops the note with a line; the next request is served. */
TEST(isothru_shadow_writes_through_no_damaged_note)
{
	uint64_t *n;

	REQUIRE(world(2));
	CHECK_EQ_INT(submit(), PB_OK);
	REQUIRE((n = note_of(req)) != NULL);
	n[2] = 8;				/* status: page 0 */
	refuse = 1;
	work_queue(disk->m, fault_in_work, disk->m);
	fm_run_work();
	fm_run_work();
	CHECK_EQ_INT(disk->m->state, MOD_RUNNING);
	CHECK(fm_log_has("note was overwritten"));
	CHECK_EQ_INT(heard, 0);
	CHECK(note_of(req) == NULL);
	refuse = 0;
	CHECK_EQ_INT(submit(), PB_OK);
	CHECK(note_of(req) != NULL);
	fm_teardown();
}

/* A note whose shadow pointer a stray write changed (wild, page 0, into
 * the middle of a shadow): the hub follows it nowhere, not in the lost-
 * completion check that runs on its own, nor when asked about the
 * client's requests; put back, the note is found again. */
TEST(isothru_shadow_follows_no_damaged_shadow_pointer)
{
	uint64_t *n, was;

	REQUIRE(world(3));
	CHECK_EQ_INT(submit(), PB_OK);
	REQUIRE((n = note_of(req)) != NULL);
	was = n[3];				/* s */
	CHECK(shadow_noter(req) != NULL);
	CHECK_EQ_INT(shadow_out_for(fs->m), 1);
	const uint64_t bad[] = { 0x8000000000000000ull, 8, was + 8 };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n[3] = bad[i];
		CHECK(shadow_noter(req) == NULL);
		CHECK_EQ_INT(shadow_out_for(fs->m), 0);
		fm_advance(3000000000ull);	/* the lost-completion check */
		CHECK_EQ_INT(disk->m->state, MOD_RUNNING);
	}
	n[3] = was;
	CHECK(shadow_noter(req) != NULL);
	fm_teardown();
}
