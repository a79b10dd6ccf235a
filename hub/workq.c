/*
 * workq.c - the work queue's order, kept in the hub's memory.
 *
 * A work item (struct pb_work) lives in its module's memory, which the
 * module may write at any moment: a stray write of its own, or one an
 * injection makes.  So nothing the hub follows or trusts lives there: no
 * link of the queue, and no record of whose code the item is.  What is
 * queued is an entry here, the item with the owner and generation it had
 * when it was posted (checked then, work.c).  A module that writes over
 * its own queued item changes what its own code does; it cannot break
 * the queue, lose another module's item or make its code run as the
 * hub's (Nooks keeps the same rule: a driver's memory never holds the
 * kernel's lists).
 *
 * The entries are a ring, first in, first out, with room to put items
 * back at the front (a batch's items that did not get their turn).  An
 * entry taken from the middle (a cancel, a dropped module) leaves a hole
 * that is skipped, and squeezed out when the ring is full.
 */
#include "hub.h"

static struct workq_ent ring[WORKQ_SLOTS];
static uint32_t first, end;	/* live entries: [first, end), free-running */

static struct workq_ent *
slot(uint32_t i)
{
	return &ring[i % WORKQ_SLOTS];
}

/* Holes at either end go at once; those inside wait for a squeeze. */
static void
trim(void)
{
	while (first != end && !slot(first)->w)
		first++;
	while (end != first && !slot(end - 1)->w)
		end--;
}

/* Close the holes inside, keeping the order. */
static void
squeeze(void)
{
	uint32_t to = first;

	for (uint32_t i = first; i != end; i++) {
		if (!slot(i)->w)
			continue;
		if (i != to) {
			*slot(to) = *slot(i);
			slot(i)->w = NULL;
		}
		to++;
	}
	end = to;
}

/* Queue w (at the front, or the back); 0 when the ring is full. */
int
workq_put(struct pb_work *w, struct pb_module *owner, uint32_t gen,
    int front)
{
	if (end - first == WORKQ_SLOTS)
		squeeze();
	if (end - first == WORKQ_SLOTS)
		return 0;
	*slot(front ? --first : end++) = (struct workq_ent){ .w = w,
	    .owner = owner, .gen = gen };
	return 1;
}

/* Where a walk of the queue starts (workq_next). */
uint32_t
workq_start(void)
{
	return first;
}

/* The next entry from *at on, *at moved past it; NULL at the end.  The
 * queue may change between calls: a walk goes on from where it was. */
struct workq_ent *
workq_next(uint32_t *at)
{
	if ((int32_t)(*at - first) < 0)
		*at = first;
	for (; (int32_t)(end - *at) > 0; ++*at)
		if (slot(*at)->w)
			return slot((*at)++);
	return NULL;
}

/* Take e off the queue. */
void
workq_take(struct workq_ent *e)
{
	e->w = NULL;
	trim();
}

int
workq_holds(const struct pb_work *w)
{
	for (uint32_t i = first; i != end; i++)
		if (slot(i)->w == w)
			return 1;
	return 0;
}

int
workq_empty(void)
{
	return first == end;
}
