/*
 * ecam.c - configuration access through ECAM, the Enhanced Configuration
 * Access Mechanism (PCIe 5.0 §7.2.2): 4 KiB per function at
 * base + (bus << 20 | dev << 15 | fn << 12), with base the address of bus
 * 0 as MCFG gives it (PCI Firmware 3.2 §4.1.2), even when the segment
 * starts at a later bus.  Only the buses the segment decodes are mapped,
 * uncached: these are device registers.
 *
 * Each access is a single load or store of the register's own width.
 */
#include "pcibus.h"

static volatile uint8_t *
ecam_addr(void *ctx, unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	struct segment *s = ctx;

	return (volatile uint8_t *)s->ecam +
	    ((uintptr_t)(bus - s->bus_start) << 20 | dev << 15 | fn << 12 |
	    off);
}

static uint32_t
ecam_read(void *ctx, unsigned bus, unsigned dev, unsigned fn, unsigned off,
    unsigned width)
{
	volatile uint8_t *p = ecam_addr(ctx, bus, dev, fn, off);

	switch (width) {
	case 1:
		return *p;
	case 2:
		return *(volatile uint16_t *)p;
	default:
		return *(volatile uint32_t *)p;
	}
}

static void
ecam_write(void *ctx, unsigned bus, unsigned dev, unsigned fn, unsigned off,
    unsigned width, uint32_t v)
{
	volatile uint8_t *p = ecam_addr(ctx, bus, dev, fn, off);

	switch (width) {
	case 1:
		*p = (uint8_t)v;
		break;
	case 2:
		*(volatile uint16_t *)p = (uint16_t)v;
		break;
	default:
		*(volatile uint32_t *)p = v;
		break;
	}
}

const struct cfg_ops ecam_ops = { ecam_read, ecam_write };

int
ecam_open(struct segment *s, const struct acpi_ecam *e)
{
	uint64_t first = e->base + ((uint64_t)e->bus_start << 20);
	size_t len = (size_t)(e->bus_end - e->bus_start + 1) << 20;

	if (e->bus_end < e->bus_start || !e->base || (e->base & 0xfffff)) {
		pci_log(PB_LOG_WARN, "MCFG segment %u: base 0x%llx buses "
		    "%u-%u make no sense: skipped", e->segment,
		    (unsigned long long)e->base, e->bus_start, e->bus_end);
		return PB_EINVAL;
	}
	*s = (struct segment){ .number = e->segment,
	    .bus_start = e->bus_start, .bus_end = e->bus_end,
	    .cfg_size = PCI_ECAM_SIZE, .how = "ECAM", .ops = &ecam_ops };
	s->ecam = pci.hub->map_mmio(pci.self, first, len, PB_CACHE_UC);
	if (!s->ecam) {
		pci_log(PB_LOG_ERR, "segment %u: cannot map ECAM at 0x%llx "
		    "(%zu MiB)", e->segment, (unsigned long long)first,
		    len >> 20);
		return PB_ENOMEM;
	}
	s->ctx = s;
	return PB_OK;
}

void
ecam_close(struct segment *s)
{
	if (s->ecam)
		pci.hub->unmap_mmio(pci.self, s->ecam);
	s->ecam = NULL;
}
