/*
 * test_recover_shadow.c - requests in flight on a block connection when
 * its provider faults (hub/shadow.c): issued again to the restarted
 * provider, oldest first, or completed with PB_EIO when there is none;
 * never lost.  Requests submitted while the provider restarts wait and go
 * out at the replay.  A provider told PB_EV_CLIENT_GONE sees its own ops
 * and ctx, not the shadow's.
 *
 * The world: `disk` (restartable) serves block:d0, a fake that queues
 * every request until the test completes it; `fs` requires block.
 */
#include <string.h>

#include "check.h"
#include "fakemod.h"
#include "../../abi/block.h"

#define QMAX 8

static struct fm *disk, *fs;
static struct block_req *queue[QMAX];	/* what disk's instance holds */
static unsigned nqueue, nsubmits;

static int
blk_info(void *ctx, struct block_info *info)
{
	(void)ctx;
	info->block_size = 512;
	info->block_count = 100;
	return PB_OK;
}

static int submit_faults;		/* the next submit faults */
static int lie, lies, lie_done;		/* the next `lies` submits
					 * take it, answer `lie` */
static int refuse_with;			/* takes nothing, answers it */

static int
blk_submit(void *ctx, struct block_req *req)
{
	(void)ctx;
	nsubmits++;
	if (submit_faults) {		/* a jump to NULL: charged to the
					 * innermost guarded call's module */
		submit_faults = 0;
		fake_fault_at(14, 0, 0);
	}
	if (refuse_with)
		return refuse_with;
	if (nqueue == QMAX)
		return PB_EINVAL;	/* a refusal block.h allows */
	queue[nqueue++] = req;
	if (lie_done) {			/* completed at once, then the lie */
		nqueue--;
		req->status = PB_OK;
		work_post(&req->done);
	}
	if (lies && lies--)
		return lie;
	return PB_OK;
}

static const struct block_ops fake_block = { blk_info, blk_submit };

/* disk completes its oldest request. */
static void
complete_one(int status)
{
	struct block_req *r = queue[0];

	memmove(queue, queue + 1, --nqueue * sizeof(queue[0]));
	r->status = status;
	work_post(&r->done);
}

/* What fs heard of its requests, in order. */
static struct {
	struct block_req *req;
	int status;
} heard[16];
static unsigned nheard;

static void
req_done(void *arg)
{
	struct block_req *r = arg;

	heard[nheard].req = r;
	heard[nheard++].status = r->status;
}

static struct block_req reqs[4];

/* The world, disk's block:d0 published with props. */
static int
world_props(int card, const char *props)
{
	fm_setup();
	nqueue = nsubmits = nheard = 0;
	lie = lies = lie_done = refuse_with = 0;
	disk = fm_add_loadable("disk", 5);
	fm_provide(disk, BLOCK_IFACE, 1, 0);
	fm_publish(disk, BLOCK_IFACE, "d0", props);
	disk->iops = (const struct tcon_ops *)&fake_block;
	fs = fm_add("fs", 0);
	fm_require(fs, BLOCK_IFACE, 1, 0, card, PB_AT_START);
	if (fm_start(disk) || fm_start(fs))
		return 0;
	for (unsigned i = 0; i < 4; i++) {
		memset(&reqs[i], 0, sizeof(reqs[i]));
		reqs[i].size = sizeof(reqs[i]);
		reqs[i].op = BLOCK_READ;
		reqs[i].lba = i;
		reqs[i].count = 1;
		work_init(fs->m, &reqs[i].done, req_done, &reqs[i]);
	}
	return fm_conn_res(fs, 0, 0) == disk->res[0];
}

static int
world(int card)
{
	return world_props(card, "");
}

static int
submit(unsigned i)
{
	struct conn *c = fm_conn(fs, 0, 0);

	return PB_CALL(&c->pub, block_ops, submit, &reqs[i]);
}

static void
fault_disk(void)
{
	work_queue(disk->m, fm_fault_work, disk->m);
	fm_run_work();
}

/* The restarted instance starts with an empty queue. */
static void
fresh_queue(struct fm *f, int step)
{
	if (f == disk && step == FM_START)
		nqueue = 0;
}

TEST(shadow_requests_issued_again_to_the_restarted_provider)
{
	struct block_info info = { .size = sizeof(info) };
	struct conn *c;

	REQUIRE(world(PB_CARD_ONE));
	c = fm_conn(fs, 0, 0);
	CHECK_EQ_INT(PB_CALL(&c->pub, block_ops, info, &info), PB_OK);
	CHECK_EQ_INT(info.block_count, 100);
	for (unsigned i = 0; i < 3; i++)
		CHECK_EQ_INT(submit(i), PB_OK);
	CHECK_EQ_INT(shadow_pending(c), 3);
	complete_one(PB_OK);			/* reqs[0] done before the fault */
	fm_run_work();
	CHECK_EQ_INT(nheard, 1);
	CHECK(heard[0].req == &reqs[0] && heard[0].status == PB_OK);
	CHECK(reqs[0].done.fn == req_done);	/* given back */
	CHECK_EQ_INT(shadow_pending(c), 2);
	fm_step_hook = fresh_queue;
	fault_disk();
	fm_step_hook = NULL;
	CHECK_EQ_INT(disk->m->state, MOD_RUNNING);
	CHECK_EQ_INT(disk->nstart, 2);
	/* the new instance holds reqs 1 and 2, oldest first */
	CHECK_EQ_INT(nqueue, 2);
	CHECK(queue[0] == &reqs[1] && queue[1] == &reqs[2]);
	CHECK_EQ_INT(fs->nrebound, 1);
	CHECK(fm_log_has("2 requests issued again, 0 failed"));
	complete_one(PB_OK);
	complete_one(PB_OK);
	fm_run_work();
	CHECK_EQ_INT(nheard, 3);
	CHECK(heard[1].req == &reqs[1] && heard[2].req == &reqs[2]);
	CHECK(reqs[1].done.fn == req_done && reqs[1].done.arg == &reqs[1]);
	CHECK_EQ_INT(shadow_pending(c), 0);
	fm_teardown();
}

/* Submitted while the provider restarts (from its start, here): the
 * request waits in the shadow and goes out at the replay. */
static void
submit_during_restart(struct fm *f, int step)
{
	if (f == disk && step == FM_START && disk->nstart == 2) {
		nqueue = 0;
		CHECK_EQ_INT(submit(3), PB_OK);
		CHECK_EQ_INT(nqueue, 0);	/* not sent yet */
	}
}

TEST(shadow_request_submitted_while_held_goes_out_at_the_replay)
{
	REQUIRE(world(PB_CARD_ONE));
	CHECK_EQ_INT(submit(0), PB_OK);
	fm_step_hook = submit_during_restart;
	fault_disk();
	fm_step_hook = NULL;
	CHECK_EQ_INT(nqueue, 2);
	CHECK(queue[0] == &reqs[0] && queue[1] == &reqs[3]);
	complete_one(PB_OK);
	complete_one(PB_OK);
	fm_run_work();
	CHECK_EQ_INT(nheard, 2);
	fm_teardown();
}

/* The restarted provider refuses them (the disk went): each completes
 * with PB_EIO. */
TEST(shadow_requests_refused_after_restart_fail_with_eio)
{
	REQUIRE(world(PB_CARD_ONE));
	CHECK_EQ_INT(submit(0), PB_OK);
	CHECK_EQ_INT(submit(1), PB_OK);
	refuse_with = PB_ENODEV;
	fault_disk();
	fm_run_work();
	CHECK_EQ_INT(nheard, 2);
	CHECK(heard[0].req == &reqs[0] && heard[0].status == PB_EIO);
	CHECK(heard[1].req == &reqs[1] && heard[1].status == PB_EIO);
	CHECK(fm_log_has("0 requests issued again, 2 failed"));
	fm_teardown();
}

/* Left stopped with no provider below: the client, still running, hears
 * PB_EIO for each of its requests, and the disconnection. */
TEST(shadow_requests_fail_with_eio_when_the_provider_stays_stopped)
{
	REQUIRE(world(PB_CARD_OPTIONAL));
	CHECK_EQ_INT(submit(0), PB_OK);
	CHECK_EQ_INT(submit(2), PB_OK);
	disk->m->faults = 2;
	disk->m->fault_first_ns = fake_now;
	fault_disk();
	fm_run_work();
	CHECK_EQ_INT(disk->m->state, MOD_FAILED);
	CHECK_EQ_INT(fs->ndisconnected, 1);
	CHECK_EQ_INT(fs->m->state, MOD_RUNNING);
	CHECK_EQ_INT(nheard, 2);
	CHECK(heard[0].status == PB_EIO && heard[1].status == PB_EIO);
	CHECK(reqs[0].done.fn == req_done);
	fm_teardown();
}

/* The provider hears its client go with its own ops and ctx. */
static const void *gone_ops;
static void *gone_ctx;

static void
note_gone(struct fm *f, int event, struct pb_conn *conn, int req)
{
	(void)req;
	if (f == disk && event == PB_EV_CLIENT_GONE) {
		gone_ops = conn->ops;
		gone_ctx = conn->ctx;
	}
}

TEST(shadow_client_gone_shows_the_providers_own_ops)
{
	struct conn *c;

	REQUIRE(world(PB_CARD_ONE));
	c = fm_conn(fs, 0, 0);
	CHECK(c->pub.ops != (const void *)&fake_block);	/* the shadow */
	gone_ops = gone_ctx = NULL;
	fm_event_hook = note_gone;
	CHECK_EQ_INT(mod_unload(fs->m), PB_OK);
	fm_event_hook = NULL;
	CHECK(gone_ops == (const void *)&fake_block);
	CHECK(gone_ctx == &disk->inst[0]);
	fm_teardown();
}

/* A client of every instance (PB_CARD_ALL, the shell's disks) keeps its
 * one connection: the restarted provider's resource is not offered to it
 * as a second one, and its requests go out again on the first. */
TEST(shadow_every_instance_client_keeps_one_connection)
{
	REQUIRE(world(PB_CARD_ALL));
	CHECK_EQ_INT(submit(1), PB_OK);
	fm_step_hook = fresh_queue;
	fault_disk();
	fm_step_hook = NULL;
	CHECK_EQ_INT(fm_nconns(fs), 1);
	CHECK_EQ_INT(fs->nconnected, 1);
	CHECK_EQ_INT(fs->nrebound, 1);
	CHECK_EQ_INT(fs->ndisconnected, 0);
	CHECK(fm_conn_res(fs, 0, 0) == disk->res[0]);
	CHECK_EQ_INT(nqueue, 1);
	CHECK(queue[0] == &reqs[1]);
	fm_teardown();
}

/* A request the provider completed just before its fault (its done
 * posted, not yet run) is not issued again: it completes once. */
TEST(shadow_request_completed_before_the_fault_is_not_issued_again)
{
	REQUIRE(world(PB_CARD_ONE));
	CHECK_EQ_INT(submit(0), PB_OK);
	CHECK_EQ_INT(submit(1), PB_OK);
	fm_step_hook = fresh_queue;
	work_queue(disk->m, fm_fault_work, disk->m);
	complete_one(PB_OK);			/* posted after the fault's */
	work_run_one();				/* the fault */
	fm_step_hook = NULL;
	fm_run_work();
	CHECK_EQ_INT(nheard, 1);
	CHECK_EQ_INT(nqueue, 1);
	CHECK(queue[0] == &reqs[1]);
	CHECK(heard[0].req == &reqs[0]);
	CHECK(fm_log_has("1 requests issued again"));
	fm_teardown();
}

/* A provider swapped in that faults in its watch window with requests:
 * the swap rolls back and they go to the old provider again. */
/* A newer build of disk (same names, flags) swapped in under fs; it takes
 * reqs[2] and faults at its next work, inside its watch window.  It is
 * returned, or NULL when the swap did not go as planned. */
static struct fm *
swap_in_and_fault(uint32_t flags)
{
	struct fm *disk2;
	char err[128];

	disk->m->desc.flags |= flags;
	disk2 = fm_add_loadable("disk", 6);
	disk2->m->desc.flags |= flags;
	fm_provide(disk2, BLOCK_IFACE, 1, 0);
	fm_publish(disk2, BLOCK_IFACE, "d0", "");
	disk2->iops = (const struct tcon_ops *)&fake_block;
	err[0] = 0;
	if (swap_provider(disk->m, disk2->m, BLOCK_IFACE, err,
	    sizeof(err)) != PB_OK || err[0] ||
	    fm_conn_res(fs, 0, 0) != disk2->res[0] || submit(2) != PB_OK)
		return NULL;
	nqueue = 0;				/* disk2's queue dies with it */
	work_queue(disk2->m, fm_fault_work, disk2->m);
	fm_run_work();
	return disk2;
}

TEST(shadow_requests_go_back_to_the_old_provider_on_rollback)
{
	REQUIRE(world(PB_CARD_ONE));
	REQUIRE(swap_in_and_fault(0) != NULL);
	CHECK(fm_log_has("disk faulted in its watch window: back to disk"));
	CHECK(fm_conn_res(fs, 0, 0) == disk->res[0]);
	CHECK_EQ_INT(nqueue, 1);
	CHECK(queue[0] == &reqs[2]);
	CHECK(fm_log_has("by its swap's rollback, 1 requests issued again"));
	complete_one(PB_OK);
	fm_run_work();
	CHECK_EQ_INT(nheard, 1);
	CHECK(heard[0].req == &reqs[2] && heard[0].status == PB_OK);
	fm_teardown();
}

/* The same, but the provider's state survives a restart
 * (PB_MOD_RESTATE: a file system's unwritten blocks are in it): it is
 * restarted with its state, as at any other fault, and its clients stay
 * on it; the instance it replaced, which holds none of what they did
 * since the swap, waits out the window and goes. */
TEST(shadow_restate_provider_faulting_in_its_window_is_restarted_not_rolled_back)
{
	struct fm *disk2;

	REQUIRE(world(PB_CARD_ONE));
	REQUIRE((disk2 = swap_in_and_fault(PB_MOD_RESTATE)) != NULL);
	CHECK(!fm_log_has("faulted in its watch window"));
	CHECK(fm_log_has("disk: its state of"));
	CHECK(fm_log_has("disk: recovered in"));
	CHECK_EQ_INT(disk2->m->state, MOD_RUNNING);
	CHECK_EQ_INT(disk2->nstart, 2);
	CHECK(fm_conn_res(fs, 0, 0) == disk2->res[0]);
	CHECK_EQ_INT(disk->m->state, MOD_QUIESCED);
	CHECK_EQ_INT(nqueue, 1);
	CHECK(queue[0] == &reqs[2]);
	complete_one(PB_OK);
	fm_run_work();
	CHECK_EQ_INT(nheard, 1);
	CHECK(heard[0].req == &reqs[2] && heard[0].status == PB_OK);
	fm_advance(3000000000ull);			/* the window ends */
	CHECK(disk->m->state != MOD_QUIESCED && disk->m->state != MOD_RUNNING);
	CHECK(fm_conn_res(fs, 0, 0) == disk2->res[0]);
	fm_teardown();
}

/*
 * A lost interrupt: disk's handler did not run for a request it finished
 * (an injected skip, or a device left unacknowledged).  Once the request
 * has waited LOST_NS (500 ms), the hub calls disk's handler, which
 * completes it; a request that is answered in time sees no such call.
 */
static unsigned lost_calls;
extern uint64_t shadow_lost_due;

/* Time passes on the hub's clock (a clock set by an earlier test leaves
 * it offset from the CPU's). */
static void
advance(uint64_t ns)
{
	fake_now += ns;
	timers_run(hub_now_ns());
	fm_run_work();
}

static void
finish_on_irq(void *arg)
{
	(void)arg;
	lost_calls++;
	if (nqueue)
		complete_one(PB_OK);
}

TEST(shadow_lost_interrupt_calls_the_handler)
{
	int v;

	REQUIRE(world(PB_CARD_ONE));
	shadow_lost_due = 0;	/* an earlier test's check was cancelled */
	lost_calls = 0;
	v = irq_alloc(disk->m);
	REQUIRE(irq_register(disk->m, v, finish_on_irq, NULL) == PB_OK);
	REQUIRE(submit(0) == PB_OK);
	complete_one(PB_OK);			/* in time */
	advance(300000000);
	advance(300000000);
	CHECK_EQ_INT(lost_calls, 0);
	CHECK_EQ_INT(nheard, 1);
	REQUIRE(submit(1) == PB_OK);		/* its interrupt is lost */
	advance(300000000);
	CHECK_EQ_INT(lost_calls, 0);
	CHECK_EQ_INT(nheard, 1);
	advance(300000000);
	CHECK_EQ_INT(lost_calls, 1);
	CHECK_EQ_INT(nheard, 2);
	CHECK(heard[1].req == &reqs[1] && heard[1].status == PB_OK);
	CHECK(fm_log_has("hub: a block request of disk out 500 ms"));
	CHECK(fm_log_has("lost interrupt?): disk"));
	advance(2000000000);			/* nothing out: no more calls */
	CHECK_EQ_INT(lost_calls, 1);
	fm_teardown();
}

/* A provider that never answers (its handler finds nothing): after 15 s
 * it is charged as hung and restarted, and the request goes to the new
 * instance, which answers it. */
static void
nothing_on_irq(void *arg)
{
	(void)arg;
	lost_calls++;
}

TEST(shadow_request_never_answered_restarts_its_provider)
{
	int v;

	REQUIRE(world(PB_CARD_ONE));
	shadow_lost_due = 0;
	lost_calls = 0;
	v = irq_alloc(disk->m);
	REQUIRE(irq_register(disk->m, v, nothing_on_irq, NULL) == PB_OK);
	REQUIRE(submit(2) == PB_OK);
	fm_step_hook = fresh_queue;
	for (unsigned i = 0; i < 28; i++)
		advance(500000000);		/* 14 s */
	CHECK_EQ_INT(lost_calls, 1);		/* polled once, not again */
	CHECK_EQ_INT(disk->nstart, 1);
	CHECK_EQ_INT(nheard, 0);
	advance(500000000);
	advance(500000000);
	CHECK(fm_log_has("hub: disk has not answered a block request for "
	    "15 s: charged as hung"));
	CHECK_EQ_INT(disk->nstart, 2);
	CHECK_EQ_INT(disk->m->state, MOD_RUNNING);
	CHECK_EQ_INT(nqueue, 1);		/* issued again */
	CHECK(queue[0] == &reqs[2]);
	complete_one(PB_OK);
	fm_run_work();
	CHECK_EQ_INT(nheard, 1);
	CHECK(heard[0].req == &reqs[2] && heard[0].status == PB_OK);
	fm_step_hook = NULL;
	fm_teardown();
}

/* A partition in between, as gpt is: part serves block:p0 and passes
 * each request on to disk as a request of its own; disk never answers.
 * Both requests wait, part's client's and part's own; the one charged
 * after 15 s is disk, which holds what part waits for, not part. */
static struct fm *part;
static struct block_req part_reqs[4];
static unsigned npart;

static void
part_done(void *arg)
{
	(void)arg;
}

static int
part_submit(void *ctx, struct block_req *req)
{
	struct block_req *mine = &part_reqs[npart++ % 4];
	struct conn *c = fm_conn(part, 0, 0);

	(void)ctx;
	memset(mine, 0, sizeof(*mine));
	mine->size = sizeof(*mine);
	mine->op = req->op;
	mine->lba = req->lba;
	mine->count = req->count;
	work_init(part->m, &mine->done, part_done, mine);
	return PB_CALL(&c->pub, block_ops, submit, mine);
}

static const struct block_ops part_block = { blk_info, part_submit };

TEST(shadow_request_never_answered_below_a_partition_charges_the_disk)
{
	struct conn *c = NULL;

	REQUIRE(world(PB_CARD_ALL));
	npart = 0;
	part = fm_add("part", 0);
	fm_require(part, BLOCK_IFACE, 1, 0, PB_CARD_ONE, PB_AT_START);
	fm_provide(part, BLOCK_IFACE, 1, 0);
	fm_publish(part, BLOCK_IFACE, "p0", "");
	part->iops = (const struct tcon_ops *)&part_block;
	REQUIRE(fm_start(part) == PB_OK);
	fm_run_work();
	REQUIRE(fm_conn_res(part, 0, 0) == disk->res[0]);
	for (unsigned n = 0; n < fm_nconns(fs); n++)
		if (fm_conn_res(fs, 0, n) == part->res[0])
			c = fm_conn(fs, 0, n);
	REQUIRE(c != NULL);
	shadow_lost_due = 0;
	REQUIRE(PB_CALL(&c->pub, block_ops, submit, &reqs[0]) == PB_OK);
	CHECK_EQ_INT(nqueue, 1);		/* part's own, at disk */
	fm_step_hook = fresh_queue;
	for (unsigned i = 0; i < 32; i++)
		advance(500000000);		/* 16 s */
	fm_step_hook = NULL;
	CHECK(fm_log_has("hub: disk has not answered a block request for "
	    "15 s: charged as hung"));
	CHECK(!fm_log_has("hub: part has not answered"));
	CHECK_EQ_INT(disk->nstart, 2);
	CHECK_EQ_INT(part->nstart, 1);
	CHECK_EQ_INT(nqueue, 1);		/* part's, issued again */
	CHECK(queue[0] == &part_reqs[0]);
	/* fs's request is 16 s old now, but what part waits for went to
	 * the new disk just now: part is not charged for it. */
	for (unsigned i = 0; i < 8; i++)
		advance(500000000);
	CHECK(!fm_log_has("hub: part has not answered"));
	CHECK_EQ_INT(part->nstart, 1);
	fm_teardown();
}

/* reqs[3] went to the restarted instance, which completes it: the client
 * hears of it once, with its status; the world goes. */
static void
served_once_by_the_new_instance(void)
{
	REQUIRE(nqueue == 1);			/* issued again */
	CHECK(queue[0] == &reqs[3]);
	complete_one(PB_OK);
	fm_run_work();
	CHECK_EQ_INT(nheard, 1);
	CHECK(heard[0].req == &reqs[3] && heard[0].status == PB_OK);
	fm_step_hook = NULL;
	fm_teardown();
}

/* A provider that faults inside its submit, called from its client's
 * call: the fault is the provider's (the shadow calls it guarded), the
 * client's submit succeeds, and the request goes to the restarted
 * provider. */
static void
submit_in_work(void *arg)
{
	(void)arg;
	CHECK_EQ_INT(submit(3), PB_OK);
}

TEST(shadow_fault_in_submit_is_the_providers)
{
	REQUIRE(world(PB_CARD_ONE));
	fm_step_hook = fresh_queue;
	submit_faults = 1;
	work_queue(fs->m, submit_in_work, NULL);
	fm_run_work();
	CHECK_EQ_INT(disk->m->faults, 1);
	CHECK_EQ_INT(fs->m->faults, 0);
	CHECK_EQ_INT(fs->m->state, MOD_RUNNING);
	CHECK_EQ_INT(disk->nstart, 2);
	CHECK(fm_log_has("disk faulted: vector 14"));
	served_once_by_the_new_instance();
}

/* A provider that took the request but answered PB_EIO, no refusal
 * block.h allows (a wrong return code): charged as a fault, and the
 * client's submit succeeds; the restarted provider gets the request,
 * and the client hears of it once. */
TEST(shadow_wrong_answer_to_submit_is_a_fault)
{
	REQUIRE(world(PB_CARD_ONE));
	fm_step_hook = fresh_queue;
	lie = PB_EIO;
	lies = 1;
	work_queue(fs->m, submit_in_work, NULL);
	fm_run_work();
	CHECK_EQ_INT(disk->m->faults, 1);
	CHECK_EQ_INT(fs->m->faults, 0);
	CHECK_EQ_INT(disk->nstart, 2);
	CHECK(fm_log_has("disk faulted: it answered a block submit -5, which "
	    "is no refusal abi/block.h allows"));
	CHECK(fm_log_has("(answered a block submit -5)"));
	served_once_by_the_new_instance();
}

/* The restarted instance answers the replayed request wrongly too
 * (here 1, no error code at all): charged again, the request kept for
 * the instance after it, which serves it. */
TEST(shadow_wrong_answer_in_the_replay_is_a_fault_too)
{
	REQUIRE(world(PB_CARD_ONE));
	fm_step_hook = fresh_queue;
	lie = 1;
	lies = 2;
	work_queue(fs->m, submit_in_work, NULL);
	fm_run_work();
	fm_run_work();
	CHECK_EQ_INT(disk->m->faults, 2);
	CHECK_EQ_INT(disk->nstart, 3);
	CHECK_EQ_INT(disk->m->state, MOD_RUNNING);
	CHECK_EQ_INT(nheard, 0);		/* no PB_EIO */
	served_once_by_the_new_instance();
}

/* The lying provider completed the request before its recovery: the
 * client hears that completion, and the new instance is not given the
 * request again. */
TEST(shadow_wrong_answer_completed_first_is_heard_once)
{
	REQUIRE(world(PB_CARD_ONE));
	fm_step_hook = fresh_queue;
	lie = PB_EBUSY;
	lies = 1;
	lie_done = 1;
	work_queue(fs->m, submit_in_work, NULL);
	fm_run_work();
	lie_done = 0;
	CHECK_EQ_INT(disk->m->faults, 1);
	CHECK_EQ_INT(disk->nstart, 2);
	CHECK_EQ_INT(nqueue, 0);		/* not issued again */
	CHECK_EQ_INT(nheard, 1);
	CHECK(heard[0].req == &reqs[3] && heard[0].status == PB_OK);
	fm_step_hook = NULL;
	fm_teardown();
}

/* A refusal block.h allows is the client's answer: no fault, nothing
 * kept, the request the client's again. */
TEST(shadow_refusal_is_no_fault)
{
	static const int refusals[] = { PB_EINVAL, PB_ENOTSUP, PB_EROFS,
	    PB_EMEDIA, PB_ENODEV, PB_EAGAIN };

	REQUIRE(world(PB_CARD_ONE));
	for (unsigned i = 0; i < 6; i++) {
		refuse_with = refusals[i];
		CHECK_EQ_INT(submit(0), refusals[i]);
	}
	refuse_with = 0;
	fm_run_work();
	CHECK_EQ_INT(disk->m->faults, 0);
	CHECK_EQ_INT(disk->nstart, 1);
	CHECK_EQ_INT(nqueue, 0);
	CHECK_EQ_INT(nheard, 0);
	CHECK_EQ_INT(shadow_pending(fm_conn(fs, 0, 0)), 0);
	CHECK(reqs[0].done.fn == req_done);	/* the client's again */
	fm_teardown();
}

/* The restarted disk names its device otherwise (a partition driver
 * that finds its disk under the native driver's name after a takeover:
 * block:efi0.p1 before, block:sata0.p1 now), with the same path=: fs's
 * held connection goes to it, its request is issued again there, and fs
 * hears PB_EV_REBOUND instead of losing its disk (seed 2003 default 209:
 * gpt restarted, and /esp went away). */
TEST(shadow_held_block_connection_follows_its_path_to_a_new_name)
{
	struct conn *c;

	REQUIRE(world_props(PB_CARD_ONE, "path=pci:00:1f.2/sata:0/part:1"));
	c = fm_conn(fs, 0, 0);
	CHECK_EQ_INT(submit(0), PB_OK);
	strcpy(disk->pub[0].name, "d1");	/* what the next start publishes */
	fm_step_hook = fresh_queue;
	fault_disk();
	fm_step_hook = NULL;
	CHECK_EQ_INT(disk->m->state, MOD_RUNNING);
	CHECK(fm_conn(fs, 0, 0) == c);		/* the same connection */
	REQUIRE(c->res != NULL);		/* not held any more */
	CHECK(c->res == disk->res[0]);
	CHECK_STR(c->res->name, "block:d1");
	CHECK_EQ_INT(fs->nrebound, 1);
	CHECK_EQ_INT(fs->ndisconnected, 0);
	CHECK_EQ_INT(nqueue, 1);		/* issued again to d1 */
	CHECK(queue[0] == &reqs[0]);
	complete_one(PB_OK);
	fm_run_work();
	CHECK_EQ_INT(nheard, 1);
	CHECK(heard[0].req == &reqs[0] && heard[0].status == PB_OK);
	/* Another path is not the same device: nothing follows it. */
	CHECK(!res_same_disk(c->res, disk->m, "pci:00:1f.2/sata:1/part:1"));
	CHECK(!res_same_disk(c->res, disk->m, ""));
	CHECK(!res_same_disk(c->res, fs->m, "pci:00:1f.2/sata:0/part:1"));
	fm_teardown();
}

/* disk drops the requests of a client that goes, as abi/pb.h asks. */
static void
drop_on_gone(struct fm *f, int event, struct pb_conn *conn, int req)
{
	(void)conn;
	(void)req;
	if (f == disk && event == PB_EV_CLIENT_GONE)
		nqueue = 0;
}

/* A client that goes with requests its provider then drops (told
 * PB_EV_CLIENT_GONE) leaves no note behind: after more such requests than
 * the shadow has notes, a request is still noted, and so still issued
 * again when its provider faults.  Before, each dropped request kept its
 * note for good. */
TEST(shadow_requests_dropped_for_a_gone_client_free_their_notes)
{
	unsigned unnoted;

	REQUIRE(world(PB_CARD_ONE));
	unnoted = shadow_unnoted;
	fm_event_hook = drop_on_gone;
	for (unsigned round = 0; round < 80; round++) {
		struct pb_conn *pc = fs->hub->connect(fs->m, BLOCK_IFACE, 1, 0,
		    "block:d0");

		REQUIRE(pc != NULL);
		CHECK_EQ_INT(PB_CALL(pc, block_ops, submit, &reqs[0]), PB_OK);
		CHECK_EQ_INT(PB_CALL(pc, block_ops, submit, &reqs[1]), PB_OK);
		fs->hub->disconnect(fs->m, pc);
		/* its done is the client's own again */
		CHECK(reqs[0].done.fn == req_done && reqs[0].done.arg == &reqs[0]);
	}
	fm_event_hook = NULL;
	CHECK_EQ_INT(shadow_unnoted, unnoted);
	CHECK_EQ_INT(submit(2), PB_OK);
	CHECK_EQ_INT(shadow_unnoted, unnoted);
	fm_step_hook = fresh_queue;
	fault_disk();
	fm_step_hook = NULL;
	CHECK_EQ_INT(nqueue, 1);		/* noted, so issued again */
	REQUIRE(nqueue == 1);
	CHECK(queue[0] == &reqs[2]);
	complete_one(PB_OK);
	fm_run_work();
	CHECK_EQ_INT(nheard, 1);
	CHECK(heard[0].req == &reqs[2]);
	fm_teardown();
}
