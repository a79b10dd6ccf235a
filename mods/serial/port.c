/*
 * port.c - one COM port: the table of the four a PC may have, the probe
 * and bring-up, the receive path from RBR to the key queue, and the
 * `console` and `keyboard` resources it is published as.
 *
 * Rules: nothing here touches a port before port_bringup() proves it is
 * there; a missing port is skipped with one log line; a key typed while
 * the port is being set up is kept, never lost.
 */
#include "serial.h"
#include "uart.h"

#define TEMT_WAIT_NS	20000000ull	/* 20 ms: a full FIFO even at 9600 */
#define DRAIN_MAX	64		/* bytes read before reprogramming */
#define ESC_IDLE_TICKS	3		/* idle receive ticks end an ESC */

struct serial ser;

/* The PC's COM ports by convention (the BIOS data area's order). */
static const struct {
	const char *name;
	uint16_t base;
	uint8_t irq;
} com[SERIAL_NPORTS] = {
	{ "com1", 0x3f8, 4 }, { "com2", 0x2f8, 3 },
	{ "com3", 0x3e8, 4 }, { "com4", 0x2e8, 3 },
};

/* COM1's key queue (struct port.keys). */
static struct keyq com1_keys;

void
port_init_table(void)
{
	for (unsigned i = 0; i < SERIAL_NPORTS; i++) {
		struct port *p = &ser.ports[i];
		struct keyq *keys = i ? p->keys : &com1_keys;	/* kept */

		*p = (struct port){ .name = com[i].name, .base = com[i].base,
		    .irq = com[i].irq, .keys = keys };
		vt_init(&p->vt);
		if (keys) {
			memset(keys, 0, sizeof(*keys));
			keyq_init(keys);
		}
	}
}

/* One byte from the line: decoded, and its keys queued. */
static void
port_byte(struct port *p, uint8_t c)
{
	struct key_event ev[VT_MAX_OUT];
	unsigned n = vt_feed(&p->vt, c, ev);

	for (unsigned i = 0; i < n; i++)
		keyq_put(p->keys, &ev[i]);
	keyq_tell(p->keys, ser.hub);
}

unsigned
port_rx(struct port *p, unsigned budget)
{
	unsigned n = 0;
	int c;

	/* Flow control: with the key queue nearly full, bytes stay in the
	 * UART (and the sender waits) rather than being read and lost. */
	p->throttled = 0;
	while (n < budget) {
		if (KEYQ_SIZE - keyq_len(p->keys) < VT_MAX_OUT) {
			p->throttled = 1;
			break;
		}
		if ((c = uart_getc(p)) == UART_NONE)
			break;
		n++;
		if (c != UART_BAD)
			port_byte(p, (uint8_t)c);
	}
	if (n) {
		p->idle = 0;
		p->received += n;
		keyq_tell(p->keys, ser.hub);
	}
	return n;
}

/* Nothing arrived for a while: a lone ESC is the Escape key. */
void
port_rx_idle(struct port *p)
{
	struct key_event ev[VT_MAX_OUT];
	unsigned n;

	if (!vt_pending(&p->vt) || ++p->idle < ESC_IDLE_TICKS)
		return;
	p->idle = 0;
	n = vt_timeout(&p->vt, ev);
	for (unsigned i = 0; i < n; i++)
		keyq_put(p->keys, &ev[i]);
}

void
port_drain_all(unsigned budget)
{
	for (unsigned i = 0; i < SERIAL_NPORTS; i++)
		if (ser.ports[i].present)
			port_rx(&ser.ports[i], budget);
}

/* Counts that grow are logged at 1, 2, 4, 8...: seen, never a flood. */
static int
worth_saying(uint32_t now, uint32_t *said)
{
	if (now == *said || (now & (now - 1)))
		return 0;
	*said = now;
	return 1;
}

/* Once a tick: deaths, losses and recoveries are told (not every time:
 * a line that keeps stalling must not flood the log). */
void
port_check(struct port *p)
{
	if (p->dead && worth_saying(p->deaths, &p->deaths_said))
		pb_logf(ser.hub, ser.self, PB_LOG_ERR, "%s: LSR.THRE not set "
		    "within 50 ms (LSR=0x%02x): port marked dead (%u times)",
		    p->name, p->dead_lsr, (unsigned)p->deaths);
	if (p->dead && uart_thr_empty(p)) {
		p->dead = 0;
		if (p->deaths == p->deaths_said)	/* its death was told */
			pb_logf(ser.hub, ser.self, PB_LOG_INFO, "%s: LSR.THRE "
			    "set again: port back", p->name);
	}
	if (worth_saying(p->keys->dropped, &p->dropped_said))
		pb_logf(ser.hub, ser.self, PB_LOG_WARN, "%s: key queue full, "
		    "%u keys dropped", p->name, (unsigned)p->keys->dropped);
	if (worth_saying(p->lost, &p->lost_said))
		pb_logf(ser.hub, ser.self, PB_LOG_WARN, "%s: data waited with "
		    "no interrupt: taken by the 100 ms look (%u times)",
		    p->name, (unsigned)p->lost);
	if (worth_saying(p->overruns, &p->overruns_said))
		pb_logf(ser.hub, ser.self, PB_LOG_WARN, "%s: LSR.OE: receiver "
		    "overrun %u times", p->name, (unsigned)p->overruns);
}

/*
 * Probe and bring up one port (PC16550D): the scratch register answers,
 * what the line delivered so far is kept, what is being sent leaves
 * (LSR.TEMT), the line is set to 115200 8N1 with FIFOs, and a byte sent in
 * loopback comes back.  Only then is the port `present`.
 */
int
port_bringup(struct port *p)
{
	uint8_t stray[UART_FIFO_DEPTH], lsr;
	unsigned nstray, had;
	int r;

	p->present = 0;
	if (!uart_scratch_ok(p->base))
		return PB_ENODEV;		/* an empty slot: skipped */
	if (!p->keys && (p->keys = ser.hub->alloc(ser.self,
	    sizeof(*p->keys)))) {
		memset(p->keys, 0, sizeof(*p->keys));
		keyq_init(p->keys);
	}
	if (!p->keys) {
		pb_logf(ser.hub, ser.self, PB_LOG_ERR, "%s: no memory for its "
		    "key queue: skipped", p->name);
		return PB_ENOMEM;
	}
	had = keyq_len(p->keys);
	port_rx(p, DRAIN_MAX);
	if (uart_wait_lsr(p, LSR_TEMT, TEMT_WAIT_NS, &lsr) != PB_OK)
		pb_logf(ser.hub, ser.self, PB_LOG_WARN, "%s: LSR.TEMT not set "
		    "within 20 ms (LSR=0x%02x); reprogramming anyway", p->name,
		    lsr);
	port_rx(p, DRAIN_MAX);
	uart_setup(p, SERIAL_BAUD);
	r = uart_loopback(p, stray, &nstray, sizeof(stray));
	for (unsigned i = 0; i < nstray; i++)
		port_byte(p, stray[i]);
	if (r != PB_OK) {
		pb_logf(ser.hub, ser.self, PB_LOG_INFO, "%s at 0x%x: scratch "
		    "register answers but loopback %s: skipped", p->name,
		    p->base, r == PB_ETIMEDOUT ? "timed out (LSR.DR)" :
		    "failed (RBR/MSR)");
		keyq_trim(p->keys, had);	/* what it read was noise */
		return PB_ENODEV;
	}
	p->present = 1;
	p->dead = 0;
	pb_logf(ser.hub, ser.self, PB_LOG_INFO, "%s at 0x%x: 16550%s, %u 8N1",
	    p->name, p->base, p->fifo > 1 ? "A with FIFOs" : " without FIFO",
	    SERIAL_BAUD);
	return PB_OK;
}

/* Publish the port as console:NAME and keyboard:NAME, or update them. */
int
port_publish(struct port *p)
{
	char props[80];

	rt_snprintf(props, sizeof(props), "port=0x%x baud=%u irq=%u", p->base,
	    SERIAL_BAUD, p->irq);
	if (p->present) {
		size_t n = strlen(props);
		rt_snprintf(props + n, sizeof(props) - n, " fifo=%u", p->fifo);
	}
	if (p->con)
		ser.hub->set_props(ser.self, p->con, props);
	else
		p->con = ser.hub->publish(ser.self, CONSOLE_IFACE, p->name,
		    props, &serial_console_ops, p);
	if (p->kbd)
		ser.hub->set_props(ser.self, p->kbd, props);
	else
		p->kbd = ser.hub->publish(ser.self, KEYBOARD_IFACE, p->name,
		    props, &serial_keyboard_ops, p);
	return p->con && p->kbd ? PB_OK : PB_ENOMEM;
}

void
port_withdraw(struct port *p)
{
	pb_logf(ser.hub, ser.self, PB_LOG_INFO, "%s is absent: its resources "
	    "are withdrawn", p->name);
	ser.hub->withdraw(ser.self, p->con);
	ser.hub->withdraw(ser.self, p->kbd);
	p->con = p->kbd = NULL;
}
