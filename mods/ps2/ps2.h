/*
 * ps2.h - the ps2 module's shared state, and what its files offer one
 * another.
 *
 *   ps2.c	the module: descriptor, the `keyboard` operations, start,
 *		stop and the swap entry points, the interrupt and its work
 *   i8042.c	the controller: registers, bounded waits, bring-up
 *   kbd.c	the keyboard on port 1: reset and set-up (polled, at
 *		start), then commands in flight with their ACKs (LEDs)
 *   scancode.c	scan code set 1 into key events (pure logic)
 *   (abi/rt/keymap_us.c: the US layout, as data, shared with usb-kbd)
 *   queue.c	the byte ring (interrupt -> work) and the key queue
 *		(work -> client)
 *   state.c	struct keyboard_state export and import
 */
#ifndef PS2_PS2_H
#define PS2_PS2_H

#include "../../abi/pbmod.h"
#include "../../abi/keyboard.h"
#include "../../abi/irq.h"
#include "../../abi/acpi.h"
#include "../../abi/rt/keyq.h"
#include "scancode.h"

#define PS2_ISA_IRQ	1	/* the keyboard's line on every PC */
#define PS2_RAW_SIZE	64	/* bytes between interrupt and work */

_Static_assert((PS2_RAW_SIZE & (PS2_RAW_SIZE - 1)) == 0, "ring size");

/* The requirements, in descriptor order: the `req` of events. */
enum { REQ_IRQ = 0, REQ_ACPI = 1 };

/* Bytes the interrupt read from port 0x60, for the work to decode.  The
 * handler only appends and the work only takes: a single-producer ring,
 * safe though the handler cuts into the work (work runs with interrupts
 * open), since tail is written by the handler only and head by the work
 * only (queue.c orders each index after its byte). */
struct rawq {
	uint8_t b[PS2_RAW_SIZE];
	volatile uint32_t head, tail;
	uint32_t dropped;
};

/* The keyboard command in flight once interrupts deliver (kbd.c). */
struct kbd_cmd {
	uint8_t bytes[2];	/* command, argument */
	uint8_t n, next;	/* bytes, next to send */
	uint8_t busy;		/* waiting for an ACK */
	uint8_t resends;	/* 0xFE answers to this byte */
	uint8_t again;		/* LEDs changed meanwhile: send once more */
	int timer;		/* the ACK deadline's timer; 0 none */
	uint32_t failures, failures_said;
};

/* The keyboard's answers to a command byte. */
#define KBD_ACK		0xfa
#define KBD_RESEND	0xfe

struct ps2 {
	const struct pb_hub *hub;
	struct pb_module *self;
	struct pb_conn *irq;		/* requirement REQ_IRQ */
	struct pb_conn *acpi;		/* requirement REQ_ACPI, or NULL */
	struct pb_resource *res;	/* keyboard:ps2 */
	const struct keymap *map;
	int active;		/* ours: interrupts deliver, reads served */
	int present;		/* controller and keyboard brought up */
	int vector;		/* from irq_alloc; -1 none */
	int routed;		/* ISA IRQ 1 routed to vector */
	int full_reset;		/* ps2-reset=yes: self-tests and 0xFF */
	int work_queued;	/* the decode work is queued */
	uint8_t cfg;		/* the configuration byte as last written */
	uint16_t leds;		/* what the LEDs were last set to */
	struct rawq raw;
	struct scan scan;
	struct keyq keys;
	struct kbd_cmd cmd;
	uint32_t raw_said, keys_said;	/* drop counts last logged */
	int backstop;		/* the lost-interrupt look's timer; 0 none */
	uint32_t lost, lost_said;	/* bytes it found waiting */
	uint32_t waited;	/* looks in a row that found one */
};

extern struct ps2 ps2;

/* ps2.c */
void ps2_decode(void);		/* the byte ring into keys */
void ps2_decode_quiet(void);	/* the same, for an export */
/* queue.c */
void rawq_init(struct rawq *q);
int rawq_put(struct rawq *q, uint8_t b);
int rawq_get(struct rawq *q, uint8_t *b);
/* kbd.c: polled, before the interrupt is on */
int kbd_reset(const char **why);
int kbd_setup(uint16_t locks, const char **why);
/* kbd.c: once the interrupt delivers */
void kbd_set_leds(uint16_t locks);
int kbd_answer(uint8_t b);	/* 1: b was the command's ACK or resend */
void kbd_cancel(void);
/* state.c */
int state_export(void *buf, size_t cap, size_t *len, uint32_t *version);
int state_import(const void *buf, size_t len, uint32_t version);

#endif
