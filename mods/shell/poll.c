/*
 * poll.c - reading the keyboards: when one tells of keys (keyboard 1.1's
 * notify, keyboards.c), and every 10 ms while one cannot (the firmware's
 * ConIn, a 1.0 provider).  The first tick also begins the session, once
 * the boot is done.
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

static void
keys_again(void *arg)
{
	(void)arg;
	keys_read();
}

/*
 * Feed waiting keys to the session; stop after a command line ran, since
 * the command may have changed the set of keyboards, or after a budget.
 * What is left is read by a work item of its own: a keyboard that
 * notifies tells again only once a read has found it empty.
 */
void
keys_read(void)
{
	struct key_event ev;
	int n;

	for (unsigned i = 0; i < keyboards_slots(); i++) {
		for (n = 0; n < KEYS_PER_TICK; n++) {
			if (keyboard_read(i, &ev) != PB_OK)
				break;
			if (ev.pressed && session_key(&ev))
				goto more;
		}
		if (n == KEYS_PER_TICK)
			goto more;
	}
	return;
more:
	if (shell_hub->queue_work(shell_self, keys_again, NULL) != PB_OK)
		pb_logf(shell_hub, shell_self, PB_LOG_ERR, "work queue full: "
		    "keys wait for the next one");
}

static void
tick(void *arg)
{
	(void)arg;
	timer = -1;
	/* Timers run once the boot is done: the first prompt comes after
	 * the boot's log, not in the middle of it. */
	session_begin();
	keys_read();
	if (running && keyboards_polled())
		arm();
}

/* The set of keyboards changed: poll again if one needs it. */
void
poll_kick(void)
{
	if (running && timer < 0 && keyboards_polled())
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
