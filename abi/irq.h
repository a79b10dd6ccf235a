/*
 * irq.h - interface `irq` 1.0: routing device interrupts to vectors.
 *
 * A driver takes a vector from the hub (hub->irq_alloc, so the ledger
 * knows it), registers its handler there (hub->irq_register), then asks
 * the `irq` provider to route its device's line or message to that vector:
 *   ISA line     route_isa(1, v)        - honours the MADT's overrides
 *   GSI (INTx)   route_gsi(gsi, flags, v)
 *   MSI/MSI-X    msi_message(v, &addr, &data), then the pci provider's
 *                msi_enable with that address and data.
 * The hub's IDT runs the handler, then the provider's end-of-interrupt
 * hook (hub->set_irq_eoi).  A driver unroutes its lines before it stops.
 *
 * 1.1 appends the local APIC timer of this CPU, so that the timer provider
 * can use it as its alarm without touching the local APIC itself: the
 * irq provider owns every local APIC register.
 *
 * 1.2 adds the flag IRQ_NMI to route_gsi: the line is delivered as an NMI
 * (vector 2, edge triggered): the hub's watchdog ticks on it.
 */
#ifndef PB_ABI_IRQ_H
#define PB_ABI_IRQ_H

#include <stdint.h>

#define IRQ_IFACE "irq"
#define IRQ_MAJOR 1
#define IRQ_MINOR 2		/* 1.1: the local APIC timer; 1.2: IRQ_NMI */

/* Flags of route_gsi. */
#define IRQ_EDGE	0x0
#define IRQ_LEVEL	0x1
#define IRQ_ACTIVE_HIGH	0x0
#define IRQ_ACTIVE_LOW	0x2
#define IRQ_NMI		0x4	/* 1.2: as an NMI; vector must be IRQ_NMI_VECTOR */
#define IRQ_NMI_VECTOR	2

struct irq_info {
	char mode[8];		/* "x2apic" or "xapic" */
	uint32_t apic_id;	/* this CPU's */
	uint32_t nioapics;
	uint32_t nlines;	/* GSIs served by all I/O APICs */
	uint32_t spurious;	/* spurious interrupts seen */
};

struct irq_ops {
	int (*route_isa)(void *ctx, unsigned isa_irq, int vector);
	int (*route_gsi)(void *ctx, unsigned gsi, unsigned flags, int vector);
	/* Mask (1) or unmask (0) the line routed to vector. */
	int (*mask)(void *ctx, int vector, int masked);
	/* Mask the line routed to vector and forget the route. */
	int (*unroute)(void *ctx, int vector);
	/* The message a device writes to raise vector on this CPU. */
	int (*msi_message)(void *ctx, int vector, uint64_t *addr,
	    uint32_t *data);
	/* Raise vector on this CPU (a self-IPI): tests and benchmarks. */
	int (*send_self)(void *ctx, int vector);
	int (*info)(void *ctx, struct irq_info *info);

	/* 1.1 */
	/* Count initial_count timer ticks (the bus clock divided by
	 * `divide`: 1, 2, 4 ... 128), then raise vector; once, or every
	 * initial_count ticks when periodic.  initial_count 0 stops it. */
	int (*local_timer)(void *ctx, int vector, unsigned divide,
	    uint32_t initial_count, int periodic);
	/* The ticks left before the local timer fires (0 once it has). */
	int (*local_timer_count)(void *ctx, uint32_t *current);
};

#endif
