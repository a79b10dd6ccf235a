/*
 * mmio.h - device registers in memory space, read and written at their
 * own width through volatile pointers (a register must never be read as
 * narrower or wider accesses: HARDWARE.md, xHCI notes).  Map them with
 * hub->map_mmio(self, phys, len, PB_CACHE_UC).
 *
 * Host tests of a module's logic (PB_HOSTED) put a register model behind
 * these functions (an I/O APIC's select/window pair, a counter that
 * moves), as they do for portio.h.
 */
#ifndef PB_ABI_MMIO_H
#define PB_ABI_MMIO_H

#include <stdint.h>

#ifdef PB_HOSTED
uint8_t mmio_read8(const volatile void *reg);
void mmio_write8(volatile void *reg, uint8_t v);
uint16_t mmio_read16(const volatile void *reg);
void mmio_write16(volatile void *reg, uint16_t v);
uint32_t mmio_read32(const volatile void *reg);
void mmio_write32(volatile void *reg, uint32_t v);
uint64_t mmio_read64(const volatile void *reg);
void mmio_write64(volatile void *reg, uint64_t v);
#else
/* 8 and 16 bits: the VGA ports and DISPI registers in a display's BAR. */
static inline uint8_t
mmio_read8(const volatile void *reg)
{
	return *(const volatile uint8_t *)reg;
}

static inline void
mmio_write8(volatile void *reg, uint8_t v)
{
	*(volatile uint8_t *)reg = v;
}

static inline uint16_t
mmio_read16(const volatile void *reg)
{
	return *(const volatile uint16_t *)reg;
}

static inline void
mmio_write16(volatile void *reg, uint16_t v)
{
	*(volatile uint16_t *)reg = v;
}

static inline uint32_t
mmio_read32(const volatile void *reg)
{
	return *(const volatile uint32_t *)reg;
}

static inline void
mmio_write32(volatile void *reg, uint32_t v)
{
	*(volatile uint32_t *)reg = v;
}

static inline uint64_t
mmio_read64(const volatile void *reg)
{
	return *(const volatile uint64_t *)reg;
}

static inline void
mmio_write64(volatile void *reg, uint64_t v)
{
	*(volatile uint64_t *)reg = v;
}
#endif

#endif
