/*
 * portio.h - x86 port I/O (in/out), for the hub and for modules that
 * drive legacy devices (16550 UARTs, the i8042, the CMOS clock, the ACPI
 * PM timer, the Bochs DISPI index and data ports).
 *
 * Host tests of a module's logic (PB_HOSTED) put a model of the device
 * behind these functions instead.
 */
#ifndef PB_ABI_PORTIO_H
#define PB_ABI_PORTIO_H

#include <stdint.h>

#ifdef PB_HOSTED
void outb(uint16_t port, uint8_t v);
uint8_t inb(uint16_t port);
void outw(uint16_t port, uint16_t v);
uint16_t inw(uint16_t port);
uint32_t inl(uint16_t port);
void outl(uint16_t port, uint32_t v);
#else
static inline void
outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t
inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* 16-bit ports: the Bochs DISPI index and data. */
static inline void
outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint16_t
inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* 32-bit ports: the ACPI PM timer, PCI configuration mechanism #1's
 * address port. */
static inline uint32_t
inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void
outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
#endif

#endif
