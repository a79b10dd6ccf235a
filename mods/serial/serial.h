/*
 * serial.h - the serial module's shared state: the ports, and what its
 * files offer one another.
 *
 *   serial.c	the module: descriptor, console and keyboard operations,
 *		start/stop and the swap entry points
 *   port.c	one port: probe and bring-up, receive into keys, resources
 *   uart.c	the 16550 at the register level
 *   irq.c	the receiver, interrupt-driven when there is an `irq`
 *		provider (IER.ERBFI, the ISA line routed through it), and
 *		the choice between that and poll.c
 *   poll.c	the receiver, polled from a hub timer: the fallback
 *   state.c	struct console_state export and import
 *   vt.c, keyq.c	pure logic, tested on the host
 */
#ifndef SERIAL_SERIAL_H
#define SERIAL_SERIAL_H

#include "../../abi/pbmod.h"
#include "../../abi/console.h"
#include "../../abi/keyboard.h"
#include "../../abi/rt/keyq.h"
#include "../../abi/rt/textring.h"
#include "vt.h"

/* The requirements, in descriptor order: the `req` of events. */
enum { REQ_IRQ = 0 };

#define SERIAL_NPORTS	4
#define SERIAL_BAUD	115200
/* Output kept for a swap: the next console draws it.  The screen this
 * console says it has (80x24, serial_size) even if every line were full;
 * the terminal at the other end of the line keeps its own scrollback.
 * (6 KiB, a whole fbcon screen, took .data to three pages: issue 16.) */
#define SERIAL_TEXT	(2u << 10)

/* One COM port.  Only `present` ports are ever touched after probing. */
struct port {
	const char *name;	/* "com1" */
	uint16_t base;		/* I/O base, 0x3f8 */
	uint8_t irq;		/* the ISA line by convention: 4 or 3 */
	uint8_t present;	/* probed and brought up: ours to drive */
	uint8_t dead;		/* THR stopped emptying; writes fail fast */
	uint8_t fifo;		/* bytes THR takes after THRE: 16, or 1 */
	uint8_t idle;		/* receive ticks with nothing, ESC pending */
	uint8_t dead_lsr;	/* LSR when it died */
	uint8_t throttled;	/* key queue full: bytes wait in the FIFO */
	uint32_t deaths;	/* times THR stopped emptying */
	uint32_t overruns;	/* LSR.OE seen */
	uint32_t lost;		/* data found waiting with no interrupt */
	uint32_t waited;	/* looks in a row that found data waiting */
	uint32_t received, received_seen;	/* bytes read; at the look */
	uint32_t deaths_said, overruns_said, dropped_said;  /* last logged */
	uint32_t lost_said;
	struct vt vt;		/* bytes -> keys */
	/* Keys not yet read: COM1's in .data (a standby instance hands
	 * keys to it before any probe), another port's from the heap once
	 * its scratch register answers (port_bringup), kept until the
	 * module is unloaded; NULL before.  (Four queues in .data took it
	 * to two pages: issue 16.) */
	struct keyq *keys;
	struct pb_resource *con, *kbd;
};

struct serial {
	const struct pb_hub *hub;
	struct pb_module *self;
	int active;		/* ours to drive: writes and reads go out */
	int released;		/* the next driver may have set the ports up */
	struct port ports[SERIAL_NPORTS];
	struct port *primary;	/* the first present: what a swap hands over */
	struct rt_textring text;	/* the primary's console output, for export */
};

extern struct serial ser;

/* serial.c */
extern const struct console_ops serial_console_ops;
extern const struct keyboard_ops serial_keyboard_ops;
/* port.c */
void port_init_table(void);
int port_bringup(struct port *p);
int port_publish(struct port *p);
void port_withdraw(struct port *p);
unsigned port_rx(struct port *p, unsigned budget);	/* bytes read */
void port_rx_idle(struct port *p);
void port_drain_all(unsigned budget);
void port_check(struct port *p);
/* irq.c: run the receivers of the present ports, by interrupt when an
 * irq provider routes the lines, else by polling. */
int rx_start(void);
void rx_stop(void);
void rx_irq_event(int ev, struct pb_conn *c);
void rx_forget(void);
void rx_unthrottle(struct port *p);
/* poll.c */
int poll_start(void);
void poll_stop(void);
/* state.c */
int state_export(void *buf, size_t cap, size_t *len, uint32_t *version);
int state_import(const void *buf, size_t len, uint32_t version);

#endif
