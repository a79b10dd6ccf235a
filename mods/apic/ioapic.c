/*
 * ioapic.c - one I/O APIC, at the register level (Intel 82093AA I/O
 * Advanced Programmable Interrupt Controller datasheet, §3: registers).
 *
 * Two registers are memory mapped: IOREGSEL (offset 0x00) selects an
 * internal register, IOWIN (0x10) reads or writes it (§3.0).  Internal
 * registers: IOAPICID (0x00), IOAPICVER (0x01: version in bits 7:0,
 * Maximum Redirection Entry in 23:16, §3.2.2), and the redirection table,
 * two 32-bit halves per pin from 0x10 (§3.2.4).  A redirection entry is
 * rewritten masked first, so a half-written one never fires.
 */
#include "apic.h"
#include "../../abi/mmio.h"

#define IOREGSEL	0x00
#define IOWIN		0x10
#define IOAPIC_MMIO_LEN	0x20

uint32_t
ioapic_read(const struct ioapic *io, uint32_t reg)
{
	mmio_write32(io->regs + IOREGSEL, reg);
	return mmio_read32(io->regs + IOWIN);
}

void
ioapic_write(const struct ioapic *io, uint32_t reg, uint32_t v)
{
	mmio_write32(io->regs + IOREGSEL, reg);
	mmio_write32(io->regs + IOWIN, v);
}

/* Map it and read how many pins it has.  A version register of all ones
 * is nothing there (reads of unclaimed memory space). */
int
ioapic_probe(struct apic *a, struct ioapic *io)
{
	uint32_t ver;

	io->regs = a->hub->map_mmio(a->self, io->phys, IOAPIC_MMIO_LEN,
	    PB_CACHE_UC);
	if (!io->regs) {
		pb_logf(a->hub, a->self, PB_LOG_ERR, "I/O APIC %u: cannot map "
		    "0x%x", io->id, io->phys);
		return PB_ENOMEM;
	}
	ver = ioapic_read(io, IOAPIC_VER);
	if (ver == ~0u) {
		pb_logf(a->hub, a->self, PB_LOG_ERR, "I/O APIC %u at 0x%x: "
		    "IOAPICVER reads 0xffffffff, no device: skipped", io->id,
		    io->phys);
		a->hub->unmap_mmio(a->self, (void *)io->regs);
		io->regs = NULL;
		return PB_ENODEV;
	}
	io->version = ver;
	io->nlines = ((ver >> 16) & 0xff) + 1;
	return PB_OK;
}

/* A fixed-delivery, physical-destination entry (§3.2.4). */
uint64_t
ioapic_entry(int vector, unsigned flags, uint32_t dest, int masked)
{
	uint64_t e = (uint64_t)(vector & 0xff);

	if (flags & IRQ_LEVEL)
		e |= RTE_LEVEL;
	if (flags & IRQ_ACTIVE_LOW)
		e |= RTE_ACTIVE_LOW;
	if (masked)
		e |= RTE_MASKED;
	return e | ((uint64_t)(dest & 0xff) << RTE_DEST_SHIFT);
}

void
ioapic_set(const struct ioapic *io, unsigned pin, uint64_t entry)
{
	uint32_t reg = IOAPIC_REDTBL + 2 * pin;

	ioapic_write(io, reg, (uint32_t)entry | (uint32_t)RTE_MASKED);
	ioapic_write(io, reg + 1, (uint32_t)(entry >> 32));
	ioapic_write(io, reg, (uint32_t)entry);
}

uint64_t
ioapic_get(const struct ioapic *io, unsigned pin)
{
	uint32_t reg = IOAPIC_REDTBL + 2 * pin;
	uint64_t lo = ioapic_read(io, reg);

	return lo | ((uint64_t)ioapic_read(io, reg + 1) << 32);
}

/* Whatever the firmware left routed stops: every pin masked. */
void
ioapic_mask_all(const struct ioapic *io)
{
	for (unsigned pin = 0; pin < io->nlines; pin++) {
		uint32_t reg = IOAPIC_REDTBL + 2 * pin;

		ioapic_write(io, reg, ioapic_read(io, reg) |
		    (uint32_t)RTE_MASKED);
	}
}
