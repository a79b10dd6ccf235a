/*
 * mem.c - the page allocator over the firmware memory map, and the memory
 * half of the ledger.
 *
 * Free memory is a sorted array of page runs; every allocation is a record
 * naming its owner (NULL for the hub), so unloading a module can return all
 * of its pages and `mem` can say who holds what.  MMIO mappings are recorded
 * here too, as records that take no free pages.  Addresses are physical and
 * identity-mapped: the portable code never needs a separate virtual space.
 */
#include "hub.h"
#include "../abi/rt/rt.h"

#define MAX_RUNS 512
#define PAGE 4096ull

struct run {
	uint64_t base;
	uint64_t npages;
};

struct alloc {
	uint64_t base;
	uint64_t npages;	/* for MMIO: bytes / PAGE, rounded up */
	struct pb_module *owner;
	int kind;		/* MEM_KIND_*, or -1 for an unused slot */
};

static struct run runs[MAX_RUNS];
static unsigned nruns;
static struct alloc allocs[MAX_ALLOCS];
static unsigned nallocs;	/* high-water mark of used slots */

/* Insert a run at its sorted place, merging with its neighbours. */
static void
runs_insert(uint64_t base, uint64_t npages)
{
	unsigned i = 0;

	while (i < nruns && runs[i].base < base)
		i++;
	if (i > 0 && runs[i - 1].base + runs[i - 1].npages * PAGE == base) {
		runs[i - 1].npages += npages;
		if (i < nruns && base + npages * PAGE == runs[i].base) {
			runs[i - 1].npages += runs[i].npages;
			memmove(&runs[i], &runs[i + 1],
			    (nruns - i - 1) * sizeof(runs[0]));
			nruns--;
		}
		return;
	}
	if (i < nruns && base + npages * PAGE == runs[i].base) {
		runs[i].base = base;
		runs[i].npages += npages;
		return;
	}
	if (nruns == MAX_RUNS) {
		log_event(LOG_ERROR, "mem: too many free runs; %llu pages lost",
		    (unsigned long long)npages);
		return;
	}
	memmove(&runs[i + 1], &runs[i], (nruns - i) * sizeof(runs[0]));
	runs[i] = (struct run){ base, npages };
	nruns++;
}

void
mem_add_range(uint64_t base, uint64_t size)
{
	uint64_t start = (base + PAGE - 1) & ~(PAGE - 1);
	uint64_t end = (base + size) & ~(PAGE - 1);

	/* Page 0 stays unused so that NULL is never a valid allocation. */
	if (start == 0)
		start = PAGE;
	if (end > start)
		runs_insert(start, (end - start) / PAGE);
}

/* The lowest address in run r for npages aligned to align, not crossing
 * a multiple of boundary (0: none), ending at or below last; 0: none.
 * align and boundary are powers of two, at least a page. */
static uint64_t
run_fit(const struct run *r, uint64_t npages, uint64_t align,
    uint64_t boundary, uint64_t last)
{
	uint64_t len = npages * PAGE;
	uint64_t at = (r->base + align - 1) & ~(align - 1);

	/* First and last byte in one block: they differ below it only. */
	if (boundary && (at ^ (at + len - 1)) >= boundary)
		at = (at + boundary - 1) & ~(boundary - 1);
	if (at + len < at || at + len > r->base + r->npages * PAGE ||
	    at + len - 1 > last)
		return 0;
	return at;
}

/* Take npages from the first run that fits (the lowest addresses). */
static uint64_t
runs_take(uint64_t npages, uint64_t align, uint64_t boundary, uint64_t last)
{
	for (unsigned i = 0; i < nruns; i++) {
		struct run r = runs[i];
		uint64_t at = run_fit(&r, npages, align, boundary, last);
		uint64_t end = at + npages * PAGE;

		if (!at)
			continue;
		/* From the run's start: it shrinks in place.  (Moving the
		 * array costs a byte step per byte under emulation, tens of
		 * microseconds inside a swap's blackout.) */
		if (at == r.base && end < r.base + r.npages * PAGE) {
			runs[i].base = end;
			runs[i].npages -= npages;
			return at;
		}
		memmove(&runs[i], &runs[i + 1], (nruns - i - 1) * sizeof(r));
		nruns--;
		if (at > r.base)
			runs_insert(r.base, (at - r.base) / PAGE);
		if (end < r.base + r.npages * PAGE)
			runs_insert(end, (r.base + r.npages * PAGE - end) / PAGE);
		return at;
	}
	return 0;
}

static struct alloc *
alloc_slot(void)
{
	for (unsigned i = 0; i < nallocs; i++)
		if (allocs[i].kind < 0)
			return &allocs[i];
	if (nallocs < MAX_ALLOCS)
		return &allocs[nallocs++];
	return NULL;
}

static struct alloc *
alloc_find(uint64_t base)
{
	for (unsigned i = 0; i < nallocs; i++)
		if (allocs[i].kind >= 0 && allocs[i].base == base)
			return &allocs[i];
	return NULL;
}

static int mmio_of_another(const struct pb_module *owner, uint64_t base,
    size_t len);

/* Records modules may write while they run: a module's own (its key), and
 * the hub's heap buffers it hands modules to fill (export_state, images;
 * the shared key). */
static int
mem_modules_write(const struct alloc *a)
{
	return a->owner || a->kind == MEM_KIND_HEAP;
}

/* npages for owner: aligned to align, within no multiple of boundary,
 * at or below last (see run_fit); zeroed on request. */
void *
mem_alloc_at(struct pb_module *owner, size_t npages, uint64_t align,
    uint64_t boundary, uint64_t last, uint32_t flags, int kind)
{
	struct alloc *a;
	uint64_t base;

	if (npages == 0 || !(a = alloc_slot()))
		return NULL;
	base = runs_take(npages, align, boundary, last);
	if (!base) {
		a->kind = -1;		/* the slot stays free */
		return NULL;
	}
	*a = (struct alloc){ base, npages, owner, kind };
	/* Free pages are the hub's already (alloc_release). */
	if (mem_modules_write(a))
		arch_mem_domain(base, npages, 1, owner);
	if (flags & PB_MEM_ZERO)
		memset((void *)(uintptr_t)base, 0, npages * PAGE);
	return (void *)(uintptr_t)base;
}

void *
mem_alloc(struct pb_module *owner, size_t npages, uint32_t flags, int kind)
{
	return mem_alloc_at(owner, npages, PAGE, 0, flags & PB_MEM_DMA32 ?
	    0xffffffffull : ~0ull, flags, kind);
}

/* The page, heap, image or DMA record holding addr (not MMIO), or NULL. */
static const struct alloc *
alloc_holding(uint64_t addr)
{
	for (unsigned i = 0; i < nallocs; i++) {
		const struct alloc *a = &allocs[i];

		if (a->kind >= 0 && a->kind != MEM_KIND_MMIO &&
		    addr >= a->base && addr - a->base < a->npages * PAGE)
			return a;
	}
	return NULL;
}

/* The kind of the record holding addr (not MMIO), and where it ends;
 * -1 when no page, heap, image or DMA record holds it. */
int
mem_kind_at(uint64_t addr, uint64_t *end)
{
	const struct alloc *a = alloc_holding(addr);

	if (!a)
		return -1;
	*end = a->base + a->npages * PAGE;
	return a->kind;
}

/* The module whose image or ledger record (not MMIO) holds addr; NULL:
 * the hub's memory, or nobody's. */
struct pb_module *
mem_holder(uint64_t addr)
{
	struct pb_module *m = hub_module_at(addr);
	const struct alloc *a;

	if (m)
		return m;
	a = alloc_holding(addr);
	return a ? a->owner : NULL;
}

static void
alloc_release(struct alloc *a)
{
	if (a->kind != MEM_KIND_MMIO) {
		runs_insert(a->base, a->npages);
		arch_mem_domain(a->base, a->npages, 0, NULL);
	}
	a->kind = -1;
}

/* Tell the arch side, for every live record, whether modules may write
 * it (protection domains switched on after records were made). */
void
mem_domains_apply(void)
{
	for (unsigned i = 0; i < nallocs; i++) {
		const struct alloc *a = &allocs[i];

		if (a->kind >= 0 && mem_modules_write(a))
			arch_mem_domain(a->base & ~(PAGE - 1),
			    a->npages + !!(a->base & (PAGE - 1)), 1,
			    a->kind == MEM_KIND_MMIO && mmio_of_another(a->owner,
			    a->base, a->npages * PAGE) ? NULL : a->owner);
	}
}

/* Free owner's record at p, of `kind` (-1: any but MMIO). */
int
mem_free_kind(struct pb_module *owner, void *p, int kind)
{
	struct alloc *a = alloc_find((uint64_t)(uintptr_t)p);

	if (!a || a->owner != owner || a->kind == MEM_KIND_MMIO ||
	    (kind >= 0 && a->kind != kind))
		return PB_EINVAL;
	alloc_release(a);
	return PB_OK;
}

int
mem_free(struct pb_module *owner, void *p)
{
	return mem_free_kind(owner, p, -1);
}

/* Does another module's MMIO record reach into [base, base + len)? */
static int
mmio_of_another(const struct pb_module *owner, uint64_t base, size_t len)
{
	for (unsigned i = 0; i < nallocs; i++) {
		const struct alloc *a = &allocs[i];

		if (a->kind == MEM_KIND_MMIO && a->owner != owner &&
		    a->base < base + len && a->base + a->npages * PAGE > base)
			return 1;
	}
	return 0;
}

int
mem_note_mmio(struct pb_module *owner, uint64_t base, size_t len)
{
	struct alloc *a = alloc_slot();
	/* A page two modules map (a swap's old and new driver, pci and a
	 * driver's MSI-X table) is writable by every module. */
	struct pb_module *keyed = mmio_of_another(owner, base, len) ? NULL :
	    owner;

	if (!a)
		return PB_ENOMEM;
	*a = (struct alloc){ base, (len + PAGE - 1) / PAGE, owner,
	    MEM_KIND_MMIO };
	arch_mem_domain(base & ~(PAGE - 1), ((base & (PAGE - 1)) + len +
	    PAGE - 1) / PAGE, 1, keyed);
	return PB_OK;
}

/* Forget owner's MMIO record at base (another module may map the same
 * address); returns its length in bytes (page rounded). */
size_t
mem_forget_mmio(struct pb_module *owner, uint64_t base)
{
	for (unsigned i = 0; i < nallocs; i++) {
		struct alloc *a = &allocs[i];

		if (a->kind == MEM_KIND_MMIO && a->base == base &&
		    a->owner == owner) {
			a->kind = -1;
			return a->npages * PAGE;
		}
	}
	return 0;
}

/* No module: every MMIO record is another's than its. */
static const struct pb_module no_module;

/*
 * Unmap the pages of [base, base + len) that no live MMIO record covers
 * any more.  Two modules may map one device page (a driver its BAR, pci
 * the MSI-X table inside it): one letting go must not pull the page from
 * under the other.  Call after the record is forgotten.
 */
void
mem_unmap_unshared(uint64_t base, size_t len,
    void (*unmap)(void *va, size_t len))
{
	uint64_t pa = base & ~(PAGE - 1);
	uint64_t end = (base + len + PAGE - 1) & ~(PAGE - 1);

	while (pa < end) {
		uint64_t run = pa;

		while (run < end && !mmio_of_another(&no_module, run, PAGE))
			run += PAGE;
		if (run > pa)
			unmap((void *)(uintptr_t)pa, run - pa);
		while (run < end && mmio_of_another(&no_module, run, PAGE))
			run += PAGE;
		pa = run;
	}
}

uint64_t
mem_free_pages(void)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < nruns; i++)
		n += runs[i].npages;
	return n;
}

/* Pages `owner` holds, of one kind or (kind < 0) of every kind but MMIO. */
uint64_t
mem_owned(const struct pb_module *owner, int kind)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < nallocs; i++) {
		const struct alloc *a = &allocs[i];

		if (a->kind < 0 || a->owner != owner)
			continue;
		if (kind < 0 ? a->kind != MEM_KIND_MMIO : a->kind == kind)
			n += a->npages;
	}
	return n;
}

/* Return everything `owner` holds: pages to the free runs, MMIO to the
 * arch side through `unmap`.  Returns how many records were reclaimed. */
unsigned
mem_reclaim(struct pb_module *owner, void (*unmap)(void *va, size_t len))
{
	unsigned n = 0;
	int kind;

	for (unsigned i = 0; i < nallocs; i++) {
		struct alloc *a = &allocs[i];

		if (a->kind < 0 || a->owner != owner)
			continue;
		kind = a->kind;
		alloc_release(a);	/* first: the record no longer covers */
		if (kind == MEM_KIND_MMIO && unmap)
			mem_unmap_unshared(a->base, a->npages * PAGE, unmap);
		n++;
	}
	return n;
}

/* Hand from's RAM (not its MMIO) to `to`: a device that may still
 * write into it must never see it reused (recover.c). */
void
mem_give(struct pb_module *from, struct pb_module *to)
{
	for (unsigned i = 0; i < nallocs; i++)
		if (allocs[i].kind >= 0 && allocs[i].kind != MEM_KIND_MMIO &&
		    allocs[i].owner == from)
			allocs[i].owner = to;
}

void
mem_reset(void)
{
	nruns = 0;
	nallocs = 0;
}
