/*
 * keyboards.c - every keyboard the shell reads.
 *
 * Keyboards appear and disappear while the system runs (USB, the takeover
 * swapping the firmware's for native ones), so the set follows the hub's
 * connection events; a slot may be empty.  A keyboard 1.1 provider tells
 * the shell when keys wait (notify); the others are polled (poll.c).
 * After a swap (PB_EV_REBOUND) the new provider is asked again.
 */
#include "shell.h"

#define MAX_KEYBOARDS 8

static struct pb_conn *kbds[MAX_KEYBOARDS];
static int notifies[MAX_KEYBOARDS];	/* the provider tells of keys */

/* The minor version of the resource behind c. */
static unsigned
minor_of(const struct pb_conn *c)
{
	struct pb_res_info ri;

	for (unsigned i = 0; shell_hub->res_info(NULL, i, &ri) == PB_OK; i++)
		if (strcmp(ri.name, c->res) == 0)
			return ri.minor;
	return 0;
}

/* A keyboard tells of keys.  Before the first prompt they wait: the
 * first poll tick begins the session and reads them. */
static void
keys_ready(void *arg)
{
	(void)arg;
	if (session_begun())
		keys_read();
}

/* Ask the provider in slot i to tell us of keys, if it can. */
static void
listen_to(unsigned i)
{
	const struct keyboard_ops *ops = kbds[i]->ops;

	notifies[i] = minor_of(kbds[i]) >= 1 && ops->notify &&
	    PB_CALL(kbds[i], keyboard_ops, notify, shell_self, keys_ready,
	    NULL) == PB_OK;
}

void
keyboards_event(int ev, struct pb_conn *c)
{
	unsigned i;

	if (ev == PB_EV_CONNECTED) {
		for (i = 0; i < MAX_KEYBOARDS && kbds[i] && kbds[i] != c; i++)
			;
		if (i < MAX_KEYBOARDS) {
			kbds[i] = c;
			listen_to(i);
		} else if (shell_hub)
			pb_logf(shell_hub, shell_self, PB_LOG_WARN,
			    "more than %u keyboards: %s is not read",
			    MAX_KEYBOARDS, c->res);
	} else if (ev == PB_EV_REBOUND) {
		for (i = 0; i < MAX_KEYBOARDS; i++)
			if (kbds[i] == c)
				listen_to(i);
	} else if (ev == PB_EV_DISCONNECTED) {
		for (i = 0; i < MAX_KEYBOARDS; i++)
			if (kbds[i] == c)
				kbds[i] = NULL;
	}
	poll_kick();
	shell_props_changed();
}

void
keyboards_forget(void)
{
	memset(kbds, 0, sizeof(kbds));
	memset(notifies, 0, sizeof(notifies));
}

/* Is a keyboard connected that does not tell of its keys? */
int
keyboards_polled(void)
{
	for (unsigned i = 0; i < MAX_KEYBOARDS; i++)
		if (kbds[i] && !notifies[i])
			return 1;
	return 0;
}

unsigned
keyboards_count(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MAX_KEYBOARDS; i++)
		n += kbds[i] != NULL;
	return n;
}

unsigned
keyboards_slots(void)
{
	return MAX_KEYBOARDS;
}

/* The next event of the keyboard in `slot`: PB_OK, PB_EAGAIN when none is
 * waiting, PB_ENOENT for an empty slot. */
int
keyboard_read(unsigned slot, struct key_event *ev)
{
	if (slot >= MAX_KEYBOARDS || !kbds[slot])
		return PB_ENOENT;
	return PB_CALL(kbds[slot], keyboard_ops, read, ev);
}
