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

/*
 * Ordering.  Every access below is one instruction in an asm statement
 * with a "memory" clobber: the compiler neither drops nor moves memory
 * accesses across it (a plain `volatile` store orders only against other
 * volatile accesses; clang dropped a descriptor store that was rewritten
 * after the doorbell).  The CPU's side, SDM Vol. 3A §8.2.2 "Memory
 * Ordering in P6 and More Recent Processor Families" and §11.3 (memory
 * types): on write-back memory stores stay in program order and loads in
 * program order, but a load may pass an older store to another address;
 * uncached (UC) accesses, how MMIO is mapped, are all in program order;
 * write-combining memory and non-temporal stores are weakly ordered.  So
 * a driver writes
 *	descriptors in DMA memory;  mmio_wmb();  doorbell write
 *	status read from a register;  mmio_rmb();  read the DMA memory
 *	a store, then a load that must see the device's answer: mmio_mb()
 * mmio_wmb is SFENCE (writes cannot pass it, §8.2.2: needed for WC and
 * non-temporal stores; for WB stores before a UC doorbell the CPU's order
 * alone would do, the fence costs little and states the intent),
 * mmio_rmb is LFENCE (reads cannot pass it: WC reads are speculative),
 * mmio_mb is MFENCE (neither can: the one reordering WB memory allows).
 * Each fence is a compiler barrier too.
 */
#ifdef PB_HOSTED
uint8_t mmio_read8(const volatile void *reg);
void mmio_write8(volatile void *reg, uint8_t v);
uint16_t mmio_read16(const volatile void *reg);
void mmio_write16(volatile void *reg, uint16_t v);
uint32_t mmio_read32(const volatile void *reg);
void mmio_write32(volatile void *reg, uint32_t v);
uint64_t mmio_read64(const volatile void *reg);
void mmio_write64(volatile void *reg, uint64_t v);
/* A test that runs code calling these defines them (its model may note
 * where the barriers fall). */
void mmio_rmb(void);
void mmio_wmb(void);
void mmio_mb(void);
#else
/* One MOV of the register's own width ("b", "w", "l", "q"): the "m"
 * operand names the register, so the instruction is the access the
 * hardware sees. */
#define PB_MMIO_READ(suffix, v, reg) \
	__asm__ volatile("mov" suffix " %1, %0" : "=r"(v) \
	    : "m"(*(const volatile __typeof__(v) *)(reg)) : "memory")
#define PB_MMIO_WRITE(suffix, reg, v) \
	__asm__ volatile("mov" suffix " %1, %0" \
	    : "=m"(*(volatile __typeof__(v) *)(reg)) : "r"(v) : "memory")

/* 8 and 16 bits: the VGA ports and DISPI registers in a display's BAR. */
static inline uint8_t
mmio_read8(const volatile void *reg)
{
	uint8_t v;

	PB_MMIO_READ("b", v, reg);
	return v;
}

static inline void
mmio_write8(volatile void *reg, uint8_t v)
{
	PB_MMIO_WRITE("b", reg, v);
}

static inline uint16_t
mmio_read16(const volatile void *reg)
{
	uint16_t v;

	PB_MMIO_READ("w", v, reg);
	return v;
}

static inline void
mmio_write16(volatile void *reg, uint16_t v)
{
	PB_MMIO_WRITE("w", reg, v);
}

static inline uint32_t
mmio_read32(const volatile void *reg)
{
	uint32_t v;

	PB_MMIO_READ("l", v, reg);
	return v;
}

static inline void
mmio_write32(volatile void *reg, uint32_t v)
{
	PB_MMIO_WRITE("l", reg, v);
}

static inline uint64_t
mmio_read64(const volatile void *reg)
{
	uint64_t v;

	PB_MMIO_READ("q", v, reg);
	return v;
}

static inline void
mmio_write64(volatile void *reg, uint64_t v)
{
	PB_MMIO_WRITE("q", reg, v);
}

static inline void
mmio_rmb(void)
{
	__asm__ volatile("lfence" ::: "memory");
}

static inline void
mmio_wmb(void)
{
	__asm__ volatile("sfence" ::: "memory");
}

static inline void
mmio_mb(void)
{
	__asm__ volatile("mfence" ::: "memory");
}
#endif

#endif
