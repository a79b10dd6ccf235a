/*
 * poll.c - the receivers, polled.  There is no `irq` provider yet, so a
 * hub timer reads every present port every 10 ms, at most POLL_BUDGET
 * bytes each, and re-arms itself.  At 115200 baud 10 ms is 115 bytes, so a
 * paste longer than the 16-byte FIFO can overrun (LSR.OE, counted);
 * typing cannot.
 *
 * This file is the whole of the polling: an irq.c offering the same
 * rx_start/rx_stop (IER.ERBFI on, a handler that queues port_rx work) can
 * take its place once issue 5's `irq` provider exists.
 */
#include "serial.h"

#define POLL_NS		10000000ull	/* 10 ms */
#define POLL_BUDGET	64		/* bytes per port per tick */

static int timer;		/* the armed timer's id; 0 when none */
static int arm_failed;		/* logged once */

static void tick(void *arg);

static int
arm(void)
{
	int id = ser.hub->timer_after(ser.self, POLL_NS, tick, NULL);

	if (id < 0) {
		if (!arm_failed++)
			pb_logf(ser.hub, ser.self, PB_LOG_ERR, "no timer for "
			    "the receive poll (%d): input stops", id);
		return id;
	}
	timer = id;
	return PB_OK;
}

static void
tick(void *arg)
{
	(void)arg;
	timer = 0;
	for (unsigned i = 0; i < SERIAL_NPORTS; i++) {
		struct port *p = &ser.ports[i];

		if (!p->present)
			continue;
		if (!port_rx(p, POLL_BUDGET))
			port_rx_idle(p);
		port_check(p);
	}
	arm();
}

int
rx_start(void)
{
	return timer ? PB_OK : arm();
}

void
rx_stop(void)
{
	if (timer)
		ser.hub->timer_cancel(ser.self, timer);
	timer = 0;
}
