/*
 * reset.c - the writes of hub/reset.c's fallbacks: the FADT's reset
 * register in system I/O or in PCI configuration space of bus 0 (ACPI
 * 6.5 §5.2.3.2: device in bits 32-47 of the address, function in 16-31,
 * offset in 0-15), the 8042's pulse of the CPU's reset line (command
 * 0xFE, once its input buffer is empty), and a triple fault: with an
 * empty IDT an exception cannot be delivered, the CPU shuts down, and the
 * chipset resets it on the shutdown cycle (SDM 3A §6.15, "Double Fault
 * Exception": a fault while delivering #DF).
 */
#include "arch.h"
#include "../hub.h"

#define PCI_CONF_ADDR	0xcf8
#define PCI_CONF_DATA	0xcfc
#define I8042_STATUS	0x64
#define I8042_IBF	0x02	/* input buffer full: not ready for a command */
#define I8042_PULSE	0xfe

int
arch_reset_write(const struct reset_reg *r)
{
	uint32_t dev = (uint32_t)(r->addr >> 32) & 0x1f;
	uint32_t fn = (uint32_t)(r->addr >> 16) & 7;
	uint32_t off = (uint32_t)r->addr & 0xff;

	switch (r->space) {
	case RESET_IO:
		outb((uint16_t)r->addr, r->value);
		return PB_OK;
	case RESET_PCI:	/* configuration mechanism #1, PCI 3.0 §3.2.2.3.2 */
		outl(PCI_CONF_ADDR, 0x80000000u | dev << 11 | fn << 8 |
		    (off & 0xfc));
		outb((uint16_t)(PCI_CONF_DATA + (off & 3)), r->value);
		return PB_OK;
	}
	return PB_ENOTSUP;	/* memory: not mapped once modules are gone */
}

void
arch_reset_8042(void)
{
	for (unsigned i = 0; i < 100000 && (inb(I8042_STATUS) & I8042_IBF);
	    i++)
		arch_pause();
	outb(I8042_STATUS, I8042_PULSE);
	for (unsigned i = 0; i < 1000000; i++)
		arch_pause();
}

void
arch_reset_triple(void)
{
	static const struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) no_idt = { 0, 0 };

	__asm__ volatile("cli; lidt %0; int3" : : "m"(no_idt) : "memory");
	for (;;)
		__asm__ volatile("hlt");
}
