/*
 * codeflip.c - fault injection's writes into a module's code
 * (hub/inject.c): a flipped bit, or an endless loop put where the module's
 * code is so that the module, not the hub, is seen spinning.  The code
 * pages are read-only, so the write is made with CR0.WP clear, which lets
 * supervisor writes ignore the R/W bit (SDM 3A §4.6 "Access Rights"), for
 * those bytes only, interrupts held.  A restart from the pristine image
 * undoes it.
 */
#include "arch.h"
#include "cpu.h"

uint64_t
arch_code_poke(uint64_t base, uint32_t size, uint32_t off,
    const uint8_t *bytes, unsigned n, int flip)
{
	uint64_t held, cr0, at;

	if (size < n)
		return 0;
	off %= size - n + 1;
	for (uint32_t k = 0; k < size && !arch_addr_executable(base + off);
	    k += 4096)
		off = (off + 4096) % (size - n + 1);
	at = base + off;
	if (!arch_addr_executable(at) || !arch_addr_executable(at + n - 1))
		return 0;
	held = arch_irq_hold();
	cr0 = read_cr0();
	write_cr0(cr0 & ~CR0_WP);
	for (unsigned i = 0; i < n; i++) {
		volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)(at + i);

		*p = flip ? *p ^ bytes[i] : bytes[i];
	}
	write_cr0(cr0);
	arch_irq_release(held);
	return at;
}

/*
 * `mov %rdx, (%rcx); ret` poked at the start of the module's code and
 * called with the address and the value (Microsoft x64: RCX, RDX).  A
 * store made by the hub's own injector would run at a hub address, where
 * protection domains let the hub write its memory (domain.h's hub
 * retry); from the module's code it meets the module's rights.  The code
 * it replaced is put back right after, interrupts held meanwhile: the
 * injection is one write, not a module whose first function writes
 * through its argument from then on (ps2's is the status read every
 * keyboard command polls, serial's its receive work).  A store that
 * faults leaves it there, and the module is restarted from its image.
 */
void
arch_module_store(uint64_t base, uint32_t size, uint64_t addr, uint64_t val)
{
	static const uint8_t store[] = { 0x48, 0x89, 0x11, 0xc3 };
	static const uint8_t same[sizeof(store)];
	uint8_t code[sizeof(store)];
	uint64_t at = arch_code_poke(base, size, 0, same, sizeof(same), 1);
	uint64_t held;

	if (!at) {
		*(volatile uint64_t *)(uintptr_t)addr = val;
		return;
	}
	for (unsigned i = 0; i < sizeof(code); i++)
		code[i] = ((const volatile uint8_t *)(uintptr_t)at)[i];
	held = arch_irq_hold();
	arch_code_poke(base, size, 0, store, sizeof(store), 0);
	((void (*)(uint64_t, uint64_t))(uintptr_t)at)(addr, val);
	arch_code_poke(base, size, 0, code, sizeof(code), 0);
	arch_irq_release(held);
}
