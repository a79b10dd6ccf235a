/*
 * test_isocost.c - work_post as a module's service, in the module's
 * protection domain (hub/work.c, x86_64/domain.c): the items go into the
 * ring on the guard page (struct hub_shared) and the hub queues them
 * before it reads the queue, in the order they were posted.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fakemod.h"

static char ran[256];

static void
note(void *arg)
{
	size_t n = strlen(ran);

	snprintf(ran + n, sizeof(ran) - n, "%s", (const char *)arg);
}

/* Posted through the services table (a module's call), the item waits in
 * the ring, not on the queue; the hub's own posts keep first-in,
 * first-out order with it. */
TEST(isocost_module_posts_keep_fifo_order_with_the_hubs)
{
	struct pb_work a, b, c;
	struct fm *m;

	fm_setup();
	m = fm_add_running("m");
	ran[0] = '\0';
	work_init(m->m, &a, note, "a");
	work_init(m->m, &b, note, "b");
	work_init(m->m, &c, note, "c");
	hub_services.work_post(m->m, &a);
	CHECK(!a.queued);			/* in the ring */
	CHECK(work_queued(&a));			/* counted all the same */
	work_post(&b);				/* the hub's: after a */
	hub_services.work_post(m->m, &c);
	hub_services.work_post(m->m, &a);	/* queued already */
	CHECK_EQ_INT(fm_run_work(), 3);
	CHECK_STR(ran, "abc");
	fm_teardown();
}

/* More posts than the ring holds: the rest are queued directly, after
 * the ring's, so every one runs once, in order. */
TEST(isocost_posts_beyond_the_ring_run_in_order)
{
	static struct pb_work w[POSTS_RING + 20];
	static char names[POSTS_RING + 20][4];
	char want[256] = "";
	struct fm *m;

	fm_setup();
	m = fm_add_running("m");
	ran[0] = '\0';
	for (unsigned i = 0; i < POSTS_RING + 20; i++) {
		snprintf(names[i], sizeof(names[i]), "%c", 'A' + i % 58);
		strcat(want, names[i]);
		work_init(m->m, &w[i], note, names[i]);
		hub_services.work_post(m->m, &w[i]);
	}
	CHECK_EQ_INT(fm_run_work(), POSTS_RING + 20);
	CHECK_STR(ran, want);
	fm_teardown();
}

/* Cancelled while still in the ring: it does not run. */
TEST(isocost_cancel_takes_an_item_still_in_the_ring)
{
	struct pb_work a, b;
	struct fm *m;

	fm_setup();
	m = fm_add_running("m");
	ran[0] = '\0';
	work_init(m->m, &a, note, "a");
	work_init(m->m, &b, note, "b");
	hub_services.work_post(m->m, &a);
	hub_services.work_post(m->m, &b);
	work_cancel(&a);
	CHECK_EQ_INT(fm_run_work(), 1);
	CHECK_STR(ran, "b");
	fm_teardown();
}

/* Every module may write the ring: an entry that is no module's item (a
 * stray write) is dropped with a line, and the items around it run. */
TEST(isocost_a_stray_ring_entry_is_dropped)
{
	static struct pb_work fake;		/* owner: none */
	struct pb_work a, b;
	struct fm *m;

	fm_setup();
	m = fm_add_running("m");
	ran[0] = '\0';
	work_init(m->m, &a, note, "a");
	work_init(m->m, &b, note, "b");
	memset(&fake, 0, sizeof(fake));
	fake.fn = note;
	fake.arg = "x";
	hub_services.work_post(m->m, &a);
	hub_shared.posts[hub_shared.posts_in++ % POSTS_RING] = &fake;
	hub_services.work_post(m->m, &b);
	CHECK_EQ_INT(fm_run_work(), 2);
	CHECK_STR(ran, "ab");
	CHECK(fm_log_has("is no module's: dropped"));
	fm_teardown();
}

/* An item of a module that is dropped while its post waits in the ring
 * never runs. */
TEST(isocost_a_dropped_modules_ring_posts_never_run)
{
	struct pb_work a, b;
	struct fm *m, *o;

	fm_setup();
	m = fm_add_running("m");
	o = fm_add_running("o");
	ran[0] = '\0';
	work_init(m->m, &a, note, "a");
	work_init(o->m, &b, note, "b");
	hub_services.work_post(m->m, &a);
	hub_services.work_post(o->m, &b);
	work_drop_module(m->m);
	CHECK_EQ_INT(fm_run_work(), 1);
	CHECK_STR(ran, "b");
	fm_teardown();
}

/* Turns of the event loop until the queue is empty: one per batch. */
static int
loop_turns(void)
{
	int turns = 0;

	while (work_run_one())
		turns++;
	return turns;
}

/* Work items that post others while they run (test_isocost's batches). */
static struct pb_module *poster;
static struct pb_work later[2];

static void
note_and_post(void *arg)
{
	note(arg);
	hub_services.work_post(poster, &later[0]);
	hub_services.work_post(later[1].owner, &later[1]);
}

/* An item's own posts, with the queue empty, run right after it, in the
 * same guarded call (one domain switch each way): the loop ran once. */
TEST(isocost_own_posts_run_in_the_same_call)
{
	struct pb_work a;
	struct fm *m;

	fm_setup();
	m = fm_add_running("m");
	ran[0] = '\0';
	poster = m->m;
	work_init(m->m, &a, note_and_post, "a");
	work_init(m->m, &later[0], note, "b");
	work_init(m->m, &later[1], note, "c");
	hub_services.work_post(m->m, &a);
	CHECK_EQ_INT(loop_turns(), 1);
	CHECK_STR(ran, "abc");
	fm_teardown();
}

/* Another module's item queued before them, or posted between them,
 * keeps its place: first in, first out across modules. */
TEST(isocost_own_posts_wait_their_turn_behind_others)
{
	struct pb_work a, d;
	struct fm *m, *o;

	fm_setup();
	m = fm_add_running("m");
	o = fm_add_running("o");
	ran[0] = '\0';
	poster = m->m;
	work_init(m->m, &a, note_and_post, "a");
	work_init(o->m, &d, note, "d");
	work_init(m->m, &later[0], note, "b");
	work_init(o->m, &later[1], note, "c");
	hub_services.work_post(m->m, &a);
	hub_services.work_post(o->m, &d);
	CHECK_EQ_INT(loop_turns(), 4);
	CHECK_STR(ran, "adbc");
	ran[0] = '\0';
	hub_services.work_post(m->m, &a);	/* b, then o's c, run with it */
	CHECK_EQ_INT(loop_turns(), 1);
	CHECK_STR(ran, "abc");
	fm_teardown();
}

/* A module's items queued one after another run as one batch; another
 * module's item ends it, and one cancelled by an earlier item of the
 * batch does not run. */
static struct pb_work batch[4];

static void
note_and_cancel(void *arg)
{
	note(arg);
	work_cancel(&batch[2]);
}

TEST(isocost_queued_items_of_a_module_run_as_one_batch)
{
	struct pb_work d;
	struct fm *m, *o;

	fm_setup();
	m = fm_add_running("m");
	o = fm_add_running("o");
	ran[0] = '\0';
	work_init(m->m, &batch[0], note, "a");
	work_init(m->m, &batch[1], note_and_cancel, "b");
	work_init(m->m, &batch[2], note, "c");
	work_init(m->m, &batch[3], note, "e");
	work_init(o->m, &d, note, "d");
	for (unsigned i = 0; i < 3; i++)
		work_post(&batch[i]);
	work_post(&d);
	work_post(&batch[3]);
	CHECK_EQ_INT(loop_turns(), 3);		/* a b (c cancelled), d, e */
	CHECK_STR(ran, "abde");
	fm_teardown();
}

/* A batch takes no further item once it has run 1 ms: the rest run in
 * calls of their own, each with its own watchdog count, in order. */
static void
slow(void *arg)
{
	note(arg);
	fake_now += 2000000ull;
}

TEST(isocost_a_slow_batch_gives_the_rest_back_in_order)
{
	struct fm *m;

	fm_setup();
	m = fm_add_running("m");
	ran[0] = '\0';
	work_init(m->m, &batch[0], slow, "a");
	work_init(m->m, &batch[1], slow, "b");
	work_init(m->m, &batch[2], note, "c");
	for (unsigned i = 0; i < 3; i++)
		work_post(&batch[i]);
	CHECK_EQ_INT(loop_turns(), 3);
	CHECK_STR(ran, "abc");
	for (unsigned i = 0; i < 3; i++)
		CHECK(!batch[i].queued);
	fm_teardown();
}
