/*
 * test_campaign_shadow.c - a provider's fault inside its client's
 * synchronous call (hub/shadow.c), for `fs` as for `block`: the client's
 * submit succeeds, the request goes to the restarted provider, and what
 * the restarted provider took over in its state (a PB_MOD_RESTATE
 * provider's queued requests, replay.c) is not issued to it a second
 * time.
 *
 * The world: `vol` (restartable) serves fs:v0, a fake that queues every
 * request until the test completes it; `sh` requires fs.
 */
#include <string.h>

#include "check.h"
#include "fakemod.h"
#include "../../abi/fs.h"

#define QMAX 8

static struct fm *vol, *sh;
static struct fs_req *queue[QMAX];	/* what vol's instance holds */
static unsigned nqueue, nsubmits;
static int submit_faults;		/* the next submit faults */

static int
vol_submit(void *ctx, struct fs_req *req)
{
	(void)ctx;
	nsubmits++;
	if (submit_faults) {		/* before it queued the request */
		submit_faults = 0;
		fake_fault_at(14, 0, 0);
	}
	if (nqueue == QMAX)
		return PB_EBUSY;
	queue[nqueue++] = req;
	return PB_OK;
}

static const struct fs_ops fake_fs = { vol_submit };

static void
complete_one(int status)
{
	struct fs_req *r = queue[0];

	memmove(queue, queue + 1, --nqueue * sizeof(queue[0]));
	r->status = status;
	work_post(&r->done);
}

static struct fs_req *heard[8];
static unsigned nheard;

static void
req_done(void *arg)
{
	heard[nheard++] = arg;
}

static struct fs_req reqs[4];

static int
world(void)
{
	fm_setup();
	nqueue = nsubmits = nheard = 0;
	vol = fm_add_loadable("vol", 5);
	fm_provide(vol, FS_IFACE, 1, 0);
	fm_publish(vol, FS_IFACE, "v0", "");
	vol->iops = (const struct tcon_ops *)&fake_fs;
	sh = fm_add_loadable("sh", 0);
	fm_require(sh, FS_IFACE, 1, 0, PB_CARD_ONE, PB_AT_START);
	if (fm_start(vol) || fm_start(sh))
		return 0;
	for (unsigned i = 0; i < 4; i++) {
		memset(&reqs[i], 0, sizeof(reqs[i]));
		reqs[i].size = sizeof(reqs[i]);
		reqs[i].op = FS_READ;
		reqs[i].handle = 1;
		work_init(sh->m, &reqs[i].done, req_done, &reqs[i]);
	}
	return fm_conn_res(sh, 0, 0) == vol->res[0];
}

static int
submit(unsigned i)
{
	struct conn *c = fm_conn(sh, 0, 0);

	return PB_CALL(&c->pub, fs_ops, submit, &reqs[i]);
}

static void
submit_in_work(void *arg)
{
	CHECK_EQ_INT(submit((unsigned)(uintptr_t)arg), PB_OK);
}

/* The restarted instance starts with what its state listed (here:
 * reqs[0], as fat's export lists its queued requests), marked taken as
 * replay_start does once it was imported. */
static void
restart_with_state(struct fm *f, int step)
{
	static struct fs_req *state[2];

	if (f != vol || step != FM_START || vol->nstart != 2)
		return;
	nqueue = 0;
	state[0] = &reqs[0];
	queue[nqueue++] = &reqs[0];
	shadow_state_taken(state, sizeof(state), 1);
}

static void
fresh_queue(struct fm *f, int step)
{
	if (f == vol && step == FM_START && vol->nstart > 1)
		nqueue = 0;
}

/* The shell's submit into fat faults: the shell hears PB_OK, not
 * PB_EFAULT, the fault is fat's, and the request is issued to the new
 * fat and completes. */
TEST(campaign_fs_fault_in_submit_is_issued_again)
{
	struct conn *c;

	REQUIRE(world());
	c = fm_conn(sh, 0, 0);
	CHECK(shadow_wraps(&c->pub));
	fm_step_hook = fresh_queue;
	submit_faults = 1;
	work_queue(sh->m, submit_in_work, (void *)(uintptr_t)2);
	fm_run_work();
	fm_step_hook = NULL;
	CHECK_EQ_INT(vol->m->faults, 1);
	CHECK_EQ_INT(sh->m->faults, 0);
	CHECK_EQ_INT(vol->nstart, 2);
	REQUIRE(nqueue == 1);
	CHECK(queue[0] == &reqs[2]);
	CHECK_EQ_INT(nsubmits, 2);
	complete_one(PB_OK);
	fm_run_work();
	CHECK_EQ_INT(nheard, 1);
	CHECK(heard[0] == &reqs[2] && reqs[2].status == PB_OK);
	CHECK(reqs[2].done.fn == req_done);	/* given back */
	CHECK_EQ_INT(shadow_pending(c), 0);
	fm_teardown();
}

/* A request the faulted provider had queued travels in its state: the
 * new instance has it, and only the one whose submit faulted before it
 * was queued goes out again.  Each completes once. */
TEST(campaign_fs_request_in_the_state_is_not_issued_twice)
{
	REQUIRE(world());
	CHECK_EQ_INT(submit(0), PB_OK);
	CHECK_EQ_INT(nsubmits, 1);
	fm_step_hook = restart_with_state;
	submit_faults = 1;
	work_queue(sh->m, submit_in_work, (void *)(uintptr_t)1);
	fm_run_work();
	fm_step_hook = NULL;
	CHECK_EQ_INT(vol->nstart, 2);
	REQUIRE(nqueue == 2);
	CHECK(queue[0] == &reqs[0] && queue[1] == &reqs[1]);
	CHECK_EQ_INT(nsubmits, 3);		/* 0, 1 (faulted), 1 again */
	CHECK(fm_log_has("1 requests issued again"));
	complete_one(PB_OK);
	complete_one(PB_OK);
	fm_run_work();
	CHECK_EQ_INT(nheard, 2);
	CHECK(heard[0] == &reqs[0] && heard[1] == &reqs[1]);
	/* Taken once: a later fault issues reqs[3] as any request. */
	CHECK_EQ_INT(submit(3), PB_OK);
	fm_step_hook = fresh_queue;
	submit_faults = 0;
	work_queue(vol->m, fm_fault_work, vol->m);
	fm_run_work();
	fm_step_hook = NULL;
	REQUIRE(nqueue == 1);
	CHECK(queue[0] == &reqs[3]);
	fm_teardown();
}

/* ---- a client that faults with requests still at its provider -------- */

static void
complete_in_work(void *arg)
{
	(void)arg;
	if (nqueue)
		complete_one(PB_OK);
}

/* The provider completes into the client's memory (status, done): the
 * client's recovery waits for that before its memory goes to anyone,
 * its new instance first. */
static int queue_at_restart = -1;

static void
note_queue_at_restart(struct fm *f, int step)
{
	if (f == sh && step == FM_START && sh->nstart == 2)
		queue_at_restart = (int)nqueue;
}

TEST(campaign_client_fault_waits_for_its_requests_out)
{
	REQUIRE(world());
	CHECK_EQ_INT(submit(0), PB_OK);
	fm_step_hook = note_queue_at_restart;
	CHECK_EQ_INT(shadow_out_for(sh->m), 1);
	work_queue(sh->m, fm_fault_work, sh->m);
	work_queue(vol->m, complete_in_work, NULL);	/* runs during the wait */
	fm_run_work();
	fm_step_hook = NULL;
	CHECK_EQ_INT(sh->nstart, 2);
	CHECK_EQ_INT(queue_at_restart, 0);	/* completed before */
	CHECK_EQ_INT(nqueue, 0);
	CHECK(!fm_log_has("requests still at its providers"));
	CHECK(!fm_log_has("kept out of use"));
	CHECK_EQ_INT(shadow_out_for(sh->m), 0);
	fm_teardown();
}

/* The provider completed the request and posted its completion; the
 * client's call that ran it faulted before the shadow's part of it did
 * (an injection at the item's start: campaign usb seed 8086 #235, where
 * fat waited 2 s for a request gpt had answered, and lost 74 pages).
 * The request is back: the client's recovery waits for nothing. */
TEST(campaign_client_fault_in_its_completion_waits_for_nothing)
{
	REQUIRE(world());
	CHECK_EQ_INT(submit(0), PB_OK);
	complete_one(PB_OK);			/* sh's item, queued */
	CHECK_EQ_INT(shadow_out_for(sh->m), 0);
	/* The item faults as it starts, before shadow_done. */
	reqs[0].done.fn = fm_fault_work;
	reqs[0].done.arg = sh->m;
	fm_run_work();
	CHECK(fm_log_has("sh faulted"));
	CHECK_EQ_INT(sh->nstart, 2);
	CHECK_EQ_INT(nheard, 0);		/* the dead instance's */
	CHECK(!fm_log_has("requests still at its providers"));
	CHECK(!fm_log_has("kept out of use"));
	CHECK_EQ_INT(shadow_out_for(sh->m), 0);
	CHECK(reqs[0].done.fn == req_done);	/* the client's own again */
	fm_teardown();
}

/* One never completed: after the wait, the client's memory is kept out
 * of use, and the provider's late completion lands nowhere in use. */
TEST(campaign_client_fault_keeps_memory_of_requests_never_completed)
{
	REQUIRE(world());
	CHECK_EQ_INT(submit(0), PB_OK);
	work_queue(sh->m, fm_fault_work, sh->m);
	fm_run_work();
	CHECK(fm_log_has("sh: 1 requests still at its providers after 2000 "
	    "ms"));
	/* where it waited, for whoever reads the log next */
	CHECK(fm_log_has("sh: waited for: a request of sh at vol, out 2000 "
	    "ms"));
	CHECK(fm_log_has("kept out of use"));
	fm_teardown();
}
