/*
 * keyboards.c - every keyboard the shell reads.
 *
 * Keyboards appear and disappear while the system runs (USB, the takeover
 * swapping the firmware's for native ones), so the set follows the hub's
 * connection events; a slot may be empty.
 */
#include "shell.h"

#define MAX_KEYBOARDS 8

static struct pb_conn *kbds[MAX_KEYBOARDS];

void
keyboards_event(int ev, struct pb_conn *c)
{
	unsigned i;

	if (ev == PB_EV_CONNECTED) {
		for (i = 0; i < MAX_KEYBOARDS && kbds[i] && kbds[i] != c; i++)
			;
		if (i < MAX_KEYBOARDS)
			kbds[i] = c;
		else if (shell_hub)
			pb_logf(shell_hub, shell_self, PB_LOG_WARN,
			    "more than %u keyboards: %s is not read",
			    MAX_KEYBOARDS, c->res);
	} else if (ev == PB_EV_DISCONNECTED) {
		for (i = 0; i < MAX_KEYBOARDS; i++)
			if (kbds[i] == c)
				kbds[i] = NULL;
	}
	shell_props_changed();
}

void
keyboards_forget(void)
{
	memset(kbds, 0, sizeof(kbds));
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
