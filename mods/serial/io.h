/*
 * io.h - x86 port I/O, the only way to reach a PC's 16550s.
 */
#ifndef SERIAL_IO_H
#define SERIAL_IO_H

#include <stdint.h>

#ifdef PB_HOSTED
/* The host tests put a model of the 16550 behind these. */
void outb(uint16_t port, uint8_t v);
uint8_t inb(uint16_t port);
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
#endif

#endif
