/*
 * poll.c - the receivers, polled: the fallback while there is no `irq`
 * provider (irq.c decides).  A hub timer reads every present port every
 * 10 ms, at most POLL_BUDGET bytes each, and re-arms itself.  At 115200
 * baud 10 ms is 115 bytes, so a paste longer than the 16-byte FIFO can
 * overrun (LSR.OE, counted); typing cannot.
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
poll_start(void)
{
	return timer ? PB_OK : arm();
}

void
poll_stop(void)
{
	if (timer)
		ser.hub->timer_cancel(ser.self, timer);
	timer = 0;
}
