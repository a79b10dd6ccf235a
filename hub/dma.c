/*
 * dma.c - memory a device reads and writes (ABI 1.2: dma_alloc, dma_free,
 * dma_addr).
 *
 * A page or more comes straight from the page allocator, aligned, within
 * a boundary and below a limit (mem_alloc_at), as a MEM_KIND_DMA record
 * of the module.  Less than a page is carved from the module's own DMA
 * pages in 64-byte units: one bitmap per page says which units are used,
 * another where each allocation starts, so dma_free needs no length.
 * Those pages are ordinary DMA records, so the ledger counts them and
 * unloading returns them; dma_forget drops the bitmaps with them.
 * A module's small heap allocations (alloc, services.c) are units of the
 * same pages: most are a few hundred bytes, and a page each was most of
 * a driver's data.  (Without an IOMMU a device reaches every page anyway;
 * the pages are the module's alone either way.)
 *
 * Bus addresses come from arch_bus_addr: the identity on x86-64 today,
 * one place for an IOMMU or bounce buffers later.  Limits and boundaries
 * are checked on physical addresses, which are the bus addresses until
 * then.  Everything is zeroed when handed out.
 */
#include "hub.h"
#include "../abi/rt/rt.h"

#define PAGE 4096u
#define UNIT 64u			/* the sub-page grain */
#define UNITS (PAGE / UNIT)		/* 64: one bit each in a uint64_t */
#define DMA_PAGES 96			/* pages split into units, system-wide */

struct dma_page {
	struct pb_module *owner;	/* NULL: slot unused */
	uint64_t base;
	uint64_t used;			/* bit u: unit u is taken */
	uint64_t starts;		/* bit u: an allocation starts at u */
};

static struct dma_page pages[DMA_PAGES];

static int
pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* Bits first..first+n-1. */
static uint64_t
unit_mask(unsigned first, unsigned n)
{
	return (n == UNITS ? ~0ull : ((1ull << n) - 1)) << first;
}

/* A free place for n units in p, aligned and within boundary; -1: none. */
static int
fit_units(const struct dma_page *p, unsigned n, uint64_t align,
    uint64_t boundary, size_t len)
{
	for (unsigned u = 0; u + n <= UNITS; u++) {
		uint64_t at = p->base + u * UNIT;

		if ((at & (align - 1)) || (p->used & unit_mask(u, n)) ||
		    (boundary && (at ^ (at + len - 1)) >= boundary))
			continue;
		return (int)u;
	}
	return -1;
}

static void *
take_units(struct dma_page *p, unsigned u, unsigned n)
{
	void *va = (void *)(uintptr_t)(p->base + u * UNIT);

	p->used |= unit_mask(u, n);
	p->starts |= 1ull << u;
	memset(va, 0, n * UNIT);
	return va;
}

/* Less than a page: units of one of owner's DMA pages below last. */
static void *
alloc_units(struct pb_module *owner, size_t len, uint64_t align,
    uint64_t boundary, uint64_t last)
{
	unsigned n = (unsigned)((len + UNIT - 1) / UNIT);
	struct dma_page *fresh = NULL;
	int u;

	if (align < UNIT)
		align = UNIT;
	for (unsigned i = 0; i < DMA_PAGES; i++) {
		struct dma_page *p = &pages[i];

		if (!p->owner && !fresh)
			fresh = p;
		if (p->owner != owner || p->base + PAGE - 1 > last ||
		    (u = fit_units(p, n, align, boundary, len)) < 0)
			continue;
		return take_units(p, (unsigned)u, n);
	}
	if (!fresh) {		/* no bookkeeping left: a whole page */
		return mem_alloc_at(owner, 1, PAGE, 0, last, PB_MEM_ZERO,
		    MEM_KIND_DMA);
	}
	fresh->base = (uint64_t)(uintptr_t)mem_alloc_at(owner, 1, PAGE, 0,
	    last, 0, MEM_KIND_DMA);
	if (!fresh->base)
		return NULL;
	fresh->owner = owner;
	fresh->used = fresh->starts = 0;
	return take_units(fresh, 0, n);	/* unit 0 fits: len <= boundary */
}

void *
dma_alloc(struct pb_module *self, size_t len, size_t align,
    uint64_t boundary, uint64_t limit, uint64_t *bus)
{
	void *va;

	if (!align)
		align = 1;
	if (!len || !pow2(align) || (boundary && (!pow2(boundary) ||
	    len > boundary)))
		return NULL;
	if (len < PAGE && align <= PAGE)
		va = alloc_units(self, len, align, boundary, limit);
	else
		va = mem_alloc_at(self, (len + PAGE - 1) / PAGE,
		    align < PAGE ? PAGE : align, boundary, limit, PB_MEM_ZERO,
		    MEM_KIND_DMA);
	if (va && bus)
		*bus = arch_bus_addr((uint64_t)(uintptr_t)va);
	return va;
}

/* The sub-page allocation of owner's starting at va, or -1. */
static int
units_at(const struct pb_module *owner, uint64_t va, struct dma_page **pp)
{
	for (unsigned i = 0; i < DMA_PAGES; i++) {
		struct dma_page *p = &pages[i];
		unsigned u = (unsigned)((va - p->base) / UNIT);

		if (!p->owner || va < p->base || va - p->base >= PAGE)
			continue;
		*pp = p;
		return p->owner == owner && !((va - p->base) % UNIT) &&
		    ((p->starts >> u) & 1) ? (int)u : -1;
	}
	*pp = NULL;
	return -1;
}

/* Less than a page of heap for self: units, zeroed, 16-byte aligned. */
void *
heap_alloc_small(struct pb_module *self, size_t len)
{
	return alloc_units(self, len, 16, 0, ~0ull);
}

/* Free self's sub-page allocation at va: PB_OK; PB_ENOENT when va is in
 * no page split into units (it may be a whole record); PB_EINVAL when
 * it is, but self was not given va. */
int
units_free(struct pb_module *self, void *va)
{
	uint64_t at = (uint64_t)(uintptr_t)va;
	struct dma_page *p;
	int u = units_at(self, at, &p);

	if (u < 0)
		return p ? PB_EINVAL : PB_ENOENT;
	p->starts &= ~(1ull << u);
	/* The units up to the next start or the first free one. */
	for (unsigned k = (unsigned)u; k < UNITS && ((p->used >> k) & 1); k++) {
		if (k > (unsigned)u && ((p->starts >> k) & 1))
			break;
		p->used &= ~(1ull << k);
	}
	if (!p->used) {
		mem_free_kind(self, (void *)(uintptr_t)p->base, MEM_KIND_DMA);
		p->owner = NULL;
	}
	return PB_OK;
}

void
dma_free(struct pb_module *self, void *va)
{
	int r = units_free(self, va);

	if (r == PB_ENOENT)
		r = mem_free_kind(self, va, MEM_KIND_DMA);
	if (r != PB_OK)
		log_event(LOG_ERROR, "%s: dma_free of %p, which it was not "
		    "given", self ? self->name : "hub", va);
}

int
dma_addr(struct pb_module *self, const void *va, size_t len, uint64_t *bus,
    size_t *run)
{
	uint64_t at = (uint64_t)(uintptr_t)va, end;

	(void)self;
	if (!len || !bus || !run || mem_kind_at(at, &end) < 0)
		return PB_EINVAL;
	/* Identity mapped: contiguous for the CPU is contiguous on the bus
	 * to the end of the record. */
	*run = end - at < len ? (size_t)(end - at) : len;
	*bus = arch_bus_addr(at);
	return PB_OK;
}

/* from's pages are to's now (NULL: they went back to the allocator,
 * and their bitmaps go with them). */
void
dma_give(struct pb_module *from, struct pb_module *to)
{
	for (unsigned i = 0; i < DMA_PAGES; i++)
		if (pages[i].owner == from)
			pages[i].owner = to;
}

void
dma_forget(struct pb_module *owner)
{
	dma_give(owner, NULL);
}
