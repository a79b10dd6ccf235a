/*
 * irq.c - holding interrupts back, and waiting for one.
 */
#include "arch.h"
#include "cpu.h"

uint64_t
arch_irq_hold(void)
{
	return cpu_irq_save();
}

void
arch_irq_release(uint64_t held)
{
	cpu_irq_restore(held);
}

/*
 * Wait for an interrupt.  Call it with interrupts held after finding no
 * work: STI enables interrupts only after the next instruction (SDM 2B
 * "STI", interrupt shadow), so an interrupt pending at this point wakes
 * HLT instead of slipping in between and leaving us asleep with work
 * queued.  Returns once one interrupt has been handled, with interrupts
 * as they were on entry.
 */
void
arch_idle(void)
{
	uint64_t flags;

	__asm__ volatile("pushfq; popq %0" : "=r"(flags));
	__asm__ volatile("sti; hlt" : : : "memory");
	if (!(flags & RFLAGS_IF))
		__asm__ volatile("cli" : : : "memory");
}

/* Let interrupts that are pending in, then hold them again: STI's shadow
 * covers the NOP, so at least one instruction runs with IF set. */
void
arch_irq_window(void)
{
	uint64_t flags;

	__asm__ volatile("pushfq; popq %0" : "=r"(flags));
	if (!(flags & RFLAGS_IF))
		__asm__ volatile("sti; nop; cli" : : : "memory");
}

/* A moment, while polling (SDM 2B "PAUSE"). */
void
arch_pause(void)
{
	__asm__ volatile("pause" : : : "memory");
}
