/*
 * codeflip.c - fault injection's flipped bit in a module's code
 * (hub/inject.c): the module's code pages are read-only, so the write is
 * made with CR0.WP clear, which lets supervisor writes ignore the R/W bit
 * (SDM 3A §4.6 "Access Rights"), for that one byte, interrupts held.
 */
#include "arch.h"
#include "cpu.h"

/* Flip bit `bit` of the first executable byte of [base, base + size) at
 * or after base + off % size (wrapping); nothing if none is. */
void
arch_code_flip(uint64_t base, uint32_t size, uint32_t off, unsigned bit)
{
	uint64_t held, cr0;

	if (!size)
		return;
	off %= size;
	for (uint32_t n = 0; n < size && !arch_addr_executable(base + off);
	    n += 4096)
		off = (off + 4096) % size;
	if (!arch_addr_executable(base + off))
		return;
	held = arch_irq_hold();
	cr0 = read_cr0();
	write_cr0(cr0 & ~CR0_WP);
	*(volatile uint8_t *)(uintptr_t)(base + off) ^= (uint8_t)(1u << bit);
	write_cr0(cr0);
	arch_irq_release(held);
}
