/*
 * poll.c - reading the keyboards by polling.
 *
 * No keyboard can notify its clients yet, so a hub timer reads every
 * keyboard each 10 ms, re-armed at each tick.  This file is the only one
 * that knows: when keyboards can notify, a notification handler replaces
 * it and calls session_key() the same way.
 */
#include "shell.h"

#define POLL_NS (10ull * 1000 * 1000)
/* Bounded, so a flood of keys cannot keep the event loop for itself. */
#define KEYS_PER_TICK 64

static int timer = -1;
static int running;

static void tick(void *arg);

static void
arm(void)
{
	timer = shell_hub->timer_after(shell_self, POLL_NS, tick, NULL);
	if (timer < 0)
		pb_logf(shell_hub, shell_self, PB_LOG_ERR,
		    "no timer (%d): keys are not read any more", timer);
}

/* Feed waiting keys to the session; stop after a command line ran, since
 * the command may have changed the set of keyboards. */
static void
read_keys(void)
{
	struct key_event ev;

	for (unsigned i = 0; i < keyboards_slots(); i++)
		for (int n = 0; n < KEYS_PER_TICK; n++) {
			if (keyboard_read(i, &ev) != PB_OK)
				break;
			if (ev.pressed && session_key(&ev))
				return;
		}
}

static void
tick(void *arg)
{
	(void)arg;
	timer = -1;
	/* Timers run once the boot is done: the first prompt comes after
	 * the boot's log, not in the middle of it. */
	session_begin();
	read_keys();
	if (running)
		arm();
}

int
poll_start(void)
{
	running = 1;
	arm();
	return timer < 0 ? timer : PB_OK;
}

void
poll_stop(void)
{
	running = 0;
	if (timer >= 0)
		shell_hub->timer_cancel(shell_self, timer);
	timer = -1;
}
