/*
 * idt.c - the hub's interrupt descriptor table, in two stages.
 *
 * While boot services run, the firmware's timer and device interrupts must
 * keep working, so the firmware's gates for vectors 32-255 are copied
 * verbatim and only the exceptions (0-31) become ours, with the firmware's
 * own code selector.  After ExitBootServices every gate is rewritten: 0-31
 * to the exception path, 32-255 to the device-interrupt path, all with our
 * GDT's code selector, and double fault, NMI and machine check on IST
 * stacks.
 */
#include "arch.h"
#include "cpu.h"
#include "../../abi/rt/rt.h"

/* A 64-bit IDT gate (SDM 3A §6.14.1 "64-Bit Mode IDT", Figure 6-8;
 * AMD APM Vol. 2 §4.8.4). */
struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;		/* bits 2:0; 0 = no stack switch */
	uint8_t type_attr;	/* P, DPL, 0, type */
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
};
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate");

struct idtr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));
_Static_assert(sizeof(struct idtr) == 10, "IDTR operand");

/* Present, DPL 0, 64-bit interrupt gate: IF is cleared on entry, so our
 * handlers never nest device interrupts (SDM 3A §6.12.1.3). */
#define GATE_INTR 0x8e

static struct idt_gate idt[NVEC] __attribute__((aligned(16)));

void
idt_set_gate(int vec, uint64_t handler, uint16_t sel, int ist)
{
	idt[vec] = (struct idt_gate){
		.offset_lo = (uint16_t)handler,
		.selector = sel,
		.ist = (uint8_t)(ist & 7),
		.type_attr = GATE_INTR,
		.offset_mid = (uint16_t)(handler >> 16),
		.offset_hi = (uint32_t)(handler >> 32),
	};
}

static uint64_t
stub(int vec)
{
	return (uint64_t)(uintptr_t)isr_stubs + (uint64_t)(vec / 32) *
	    ISR_GROUP_SIZE + (uint64_t)(vec % 32) * ISR_STUB_SIZE;
}

static void
idt_load(void)
{
	struct idtr r = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };

	__asm__ volatile("lidt %0" : : "m"(r) : "memory");
}

static void
idt_read_current(struct idtr *r)
{
	__asm__ volatile("sidt %0" : "=m"(*r));
}

void
arch_cpu_init_firmware(void)
{
	uint16_t cs = cpu_read_cs();
	struct idtr fw;
	size_t n;
	uint64_t held;

	held = cpu_irq_save();
	idt_read_current(&fw);
	/* Copy what the firmware has (its limit may cover fewer than 256
	 * gates); gates beyond stay not-present. */
	n = (size_t)fw.limit + 1;
	if (n > sizeof(idt))
		n = sizeof(idt);
	memset(idt, 0, sizeof(idt));
	if (fw.base)
		memcpy(idt, (const void *)(uintptr_t)fw.base, n);
	/* No TSS of ours yet: the exceptions stay on the current stack. */
	for (int v = 0; v < NVEC_EXC; v++)
		idt_set_gate(v, stub(v), cs, 0);
	idt_load();
	cpu_irq_restore(held);
}

static int
ist_for(int vec)
{
	switch (vec) {
	case VEC_DF:
		return IST_DF;
	case VEC_NMI:
		return IST_NMI;
	case VEC_MC:
		return IST_MC;
	case VEC_PF:
		return IST_PF;
	default:
		return 0;
	}
}

void
arch_cpu_init_native(void)
{
	/* Interrupts stay off from here: the firmware's handlers are gone,
	 * and the core enables them (arch_idle) once it can dispatch. */
	__asm__ volatile("cli" : : : "memory");
	gdt_init();
	for (int v = 0; v < NVEC; v++)
		idt_set_gate(v, stub(v), SEL_CODE, ist_for(v));
	idt_load();
}
