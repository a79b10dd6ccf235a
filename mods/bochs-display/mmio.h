/*
 * mmio.h - 8- and 16-bit accesses to the register BAR (BAR2), for the
 * DISPI registers and the VGA ports QEMU maps into it.
 *
 * Host tests (PB_HOSTED) put a model of the device behind these four
 * functions instead, as portio.h does for the I/O ports.
 */
#ifndef BOCHS_MMIO_H
#define BOCHS_MMIO_H

#include <stdint.h>

#ifdef PB_HOSTED
uint8_t mmio_read8(volatile uint8_t *p);
void mmio_write8(volatile uint8_t *p, uint8_t v);
uint16_t mmio_read16(volatile uint8_t *p);
void mmio_write16(volatile uint8_t *p, uint16_t v);
#else
static inline uint8_t
mmio_read8(volatile uint8_t *p)
{
	return *p;
}

static inline void
mmio_write8(volatile uint8_t *p, uint8_t v)
{
	*p = v;
}

static inline uint16_t
mmio_read16(volatile uint8_t *p)
{
	return *(volatile uint16_t *)p;
}

static inline void
mmio_write16(volatile uint8_t *p, uint16_t v)
{
	*(volatile uint16_t *)p = v;
}
#endif

#endif
