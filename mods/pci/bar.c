/*
 * bar.c - sizing the Base Address Registers (PCI 3.0 §6.2.5.1).
 *
 * Each slot is saved, written with all ones, read back (the bits that
 * stay zero give the size) and restored; the upper half of a 64-bit BAR
 * is a slot of its own, sized the same way.  Memory and I/O decode are
 * off meanwhile, so the device never decodes a half-written address, and
 * COMMAND is restored after.  Host bridges are the exception (as in Linux
 * `mmio_always_on`): some stop forwarding memory when their decode goes
 * off.
 *
 * Nothing is printed while decode is off: the console may be that very
 * device.  Work items run with interrupts open, so they are held for the
 * few accesses sizing one function takes: no handler may print, or touch
 * the device, meanwhile.  What sizing read is decoded afterwards; a BAR
 * that reads nonsense is kept out of use and told by bars_report().  The
 * addresses the firmware assigned are kept as they are.
 */
#include "pcibus.h"

/* Hold interrupts (RFLAGS.IF) and give them back as they were.  The host
 * tests watch these instead (PB_HOSTED). */
#ifdef PB_HOSTED
uint64_t sizing_irq_hold(void);
void sizing_irq_release(uint64_t flags);
#else
#define RFLAGS_IF 0x200u

static uint64_t
sizing_irq_hold(void)
{
	uint64_t flags;

	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
	return flags;
}

static void
sizing_irq_release(uint64_t flags)
{
	if (flags & RFLAGS_IF)
		__asm__ volatile("sti" : : : "memory");
}
#endif

#define BAR_IO		0x1u	/* bit 0: I/O space */
#define BAR_MEM_TYPE(v)	((v) >> 1 & 3)	/* 0: 32-bit, 1: < 1 MiB, 2: 64-bit */
#define BAR_MEM_PREF	0x8u
#define BAR_MEM_FLAGS	0xfu
#define BAR_IO_FLAGS	0x3u

struct probe {
	uint32_t orig, mask;
};

/* Is mask (flag bits cleared) ones from some bit up to bit width-1, and
 * zeros below?  Then the size is its lowest set bit. */
static int
size_of(uint64_t mask, unsigned width, uint64_t *size)
{
	uint64_t top = width == 64 ? ~0ull : (1ull << width) - 1;
	uint64_t low = mask & (~mask + 1);

	*size = low;
	return low && mask == (top & ~(low - 1));
}

static int
host_bridge(const struct func *f)
{
	return f->info.class_code == 0x06 && f->info.subclass == 0x00;
}

static int
decode_io(struct func *f, unsigned i, const struct probe *p)
{
	struct pci_bar *b = &f->info.bars[i];
	uint32_t m = p->mask & ~BAR_IO_FLAGS;
	uint64_t size;

	if (!(p->mask & BAR_IO))
		return BAR_TYPE_CHANGED;
	if (!(m & 0xffff0000u))
		m |= 0xffff0000u;	/* a 16-bit decoder: upper half reads 0 */
	if (!size_of(m, 32, &size))
		return BAR_NOT_POW2;
	b->base = p->orig & ~BAR_IO_FLAGS;
	b->size = size;
	b->kind = PCI_BAR_IO;
	return PB_OK;
}

/* A memory BAR; a 64-bit one takes slot i+1 as well. */
static int
decode_mem(struct func *f, unsigned i, const struct probe *p)
{
	struct pci_bar *b = &f->info.bars[i];
	unsigned type = BAR_MEM_TYPE(p->orig);
	uint64_t mask = p[0].mask & ~BAR_MEM_FLAGS, base, size;
	unsigned width = 32;

	if ((p->mask & BAR_MEM_FLAGS) != (p->orig & BAR_MEM_FLAGS))
		return BAR_TYPE_CHANGED;
	if (type == 3)
		return BAR_RESERVED_TYPE;
	base = p->orig & ~BAR_MEM_FLAGS;
	if (type == 2) {
		if (i + 1 >= f->nbars)
			return BAR_64_LAST;
		base |= (uint64_t)p[1].orig << 32;
		/* Upper bits hardwired to zero: it decodes 32 bits only. */
		if (p[1].mask) {
			mask |= (uint64_t)p[1].mask << 32;
			width = 64;
		}
	}
	if (!size_of(mask, width, &size))
		return BAR_NOT_POW2;
	if (base & (size - 1))
		return BAR_MISALIGNED;
	b->base = base;
	b->size = size;
	b->kind = type == 2 ? PCI_BAR_MEM64 : PCI_BAR_MEM32;
	b->prefetchable = !!(p->orig & BAR_MEM_PREF);
	return PB_OK;
}

/* Turn what sizing read into bars[]; nothing here touches the device. */
static void
decode(struct func *f, const struct probe *p)
{
	for (unsigned i = 0; i < f->nbars; i++) {
		int why;

		f->bar_mask[i] = p[i].mask;
		if (p[i].orig == 0xffffffffu)
			why = BAR_ABSENT;
		else if (!p[i].mask)
			continue;		/* not implemented */
		else if (p[i].orig & BAR_IO)
			why = decode_io(f, i, &p[i]);
		else
			why = decode_mem(f, i, &p[i]);
		if (why != PB_OK) {
			f->bar_why[i] = (uint8_t)why;
			f->info.bars[i] = (struct pci_bar){ 0 };
		}
		/* The upper half of a 64-bit BAR is no BAR of its own. */
		if (!(p[i].orig & BAR_IO) && BAR_MEM_TYPE(p[i].orig) == 2 &&
		    why != BAR_ABSENT && why != BAR_64_LAST)
			i++;
	}
}

void
bars_size(struct func *f)
{
	struct probe p[6];
	uint16_t cmd;
	uint64_t held;
	int toggle = !host_bridge(f);

	if (!f->nbars)
		return;
	held = sizing_irq_hold();
	cmd = cfg_read(f, PCI_COMMAND, 2);
	if (toggle && (cmd & (PCI_CMD_IO | PCI_CMD_MEM)))
		cfg_write(f, PCI_COMMAND, 2, cmd & ~(PCI_CMD_IO | PCI_CMD_MEM));
	for (unsigned i = 0; i < f->nbars; i++) {
		unsigned off = PCI_BAR0 + 4 * i;

		p[i].orig = f->bar_orig[i] = cfg_read(f, off, 4);
		cfg_write(f, off, 4, 0xffffffffu);
		p[i].mask = cfg_read(f, off, 4);
		cfg_write(f, off, 4, p[i].orig);
	}
	if (toggle && (cmd & (PCI_CMD_IO | PCI_CMD_MEM)))
		cfg_write(f, PCI_COMMAND, 2, cmd);
	sizing_irq_release(held);
	decode(f, p);
}

static const char *const why_text[] = {
	[BAR_ABSENT] = "reads all ones (function gone?)",
	[BAR_TYPE_CHANGED] = "its type bits change when written",
	[BAR_RESERVED_TYPE] = "reserved memory type 3",
	[BAR_64_LAST] = "64-bit BAR in the last slot",
	[BAR_NOT_POW2] = "size mask is not a power of two",
	[BAR_MISALIGNED] = "base is not aligned to its size",
};

void
bars_report(const struct func *f)
{
	for (unsigned i = 0; i < f->nbars; i++)
		if (f->bar_why[i])
			pci_log(PB_LOG_WARN, "%s: bar%u unusable: %s (size mask "
			    "0x%08x)", f->name, i, why_text[f->bar_why[i]],
			    f->bar_mask[i]);
}
