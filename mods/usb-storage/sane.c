/*
 * sane.c - damage to the driver itself, noticed by the driver.
 *
 * A fault the hub catches restarts the driver from its pristine image
 * and has its block requests issued again (hub/recover.c); damage that
 * does not fault would wedge it instead, and nothing would recover it.
 * Three kinds are looked for:
 *   - a work item or timer run with an argument that is none of our
 *     sticks (a flipped bit): what it was for is found by looking at
 *     every stick (a completed request, a timer due, a queue to run);
 *   - a completion that never ran (its work went astray): the request's
 *     status is no longer BOT_PENDING, so at its deadline it is taken as
 *     completed (bot.c) instead of cancelled, which would never come back
 *     and leave the stick for dead;
 *   - code that no longer does its job: a CBW that is not the command's,
 *     or USBSTOR_TRIES reset recoveries in a row that the stick answers
 *     and after which the command fails again.  The driver then stops
 *     itself with a fault (ud2), for the hub to restart it from its image
 *     with the requests issued again, rather than failing them PB_EIO for
 *     good.
 */
#include "usbstor.h"

#ifdef PB_HOSTED
unsigned usbstor_damage_seen;	/* the host tests' stand-in for ud2 */
#endif

/* arg as one of our sticks, or NULL (one line: what ran with what). */
struct usbstor_dev *
dev_of(void *arg, const char *what)
{
	for (unsigned i = 0; i < USBSTOR_DEVS; i++)
		if (us.dev[i] && arg == us.dev[i])
			return us.dev[i];
	slog(PB_LOG_ERR, "%s ran with %p, none of our sticks: each stick "
	    "looked at", what, arg);
	return NULL;
}

void
usbstor_damaged(struct usbstor_dev *d, const char *why)
{
	slog(PB_LOG_ERR, "usb%u: %s: the driver is damaged, it stops itself "
	    "to be restarted", d->no, why);
#ifdef PB_HOSTED
	usbstor_damage_seen++;
#else
	__builtin_trap();
#endif
}

/* Every request the bus has completed whose completion did not run. */
void
sweep_completions(void)
{
	for (unsigned i = 0; i < USBSTOR_DEVS; i++) {
		struct usbstor_dev *d = us.dev[i];

		if (d && d->bot.in_flight && d->bot.req.status != BOT_PENDING)
			bot_req_done(d);
	}
}
