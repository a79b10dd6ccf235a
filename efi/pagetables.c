/*
 * pagetables.c - the hub's boot map: page tables built by the stub's code
 * from the final memory map once boot services are exited, which the hub
 * loads (hub/x86_64/paging.c) and edits from then on.  Building them is a
 * one-time job of the firmware's last moment, so it is the stub's code,
 * not the hub's.  The hub calls it (handoff build_boot_map) when the
 * takeover's swaps are done: under emulation the build takes about 7 ms,
 * which inside ExitBootServices tripled the console's blackout.
 *
 * Physical memory is identity-mapped.  The boot map covers every region
 * of the memory map and everything below 4 GiB, with 2 MiB pages where a
 * whole 2 MiB chunk has one kind of memory and 4 KiB pages where kinds
 * meet:
 *   RAM                      write-back, read-write, no-execute
 *   MMIO, reserved, unlisted below 4 GiB   uncached (PCD|PWT), no-execute
 *   EFI runtime code, loader code          write-back, read-write-execute
 *   page 0                   not present, so NULL dereferences fault
 * The hub then gives its own image and the module images their sections'
 * protections.  The table pages are set aside before the exit (no
 * allocation is possible after it), as many as the map could need; the
 * hub takes back those left over.
 */
#include "stub.h"
#include "../abi/pb.h"
#include "../hub/x86_64/pte.h"
#include "../abi/rt/rt.h"

#define GIB (1ull << 30)

#define MAX_REGIONS 512
static struct boot_region regions[MAX_REGIONS];
static unsigned nregions, ndropped;
static uint64_t nx, phys_limit;	/* the handoff's */
static struct ptable *pml4;
static struct handoff *ho;

static void
cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]),
	    "=d"(r[3]) : "a"(leaf), "c"(0));
}

/* NX needs CPUID 0x80000001 EDX bit 20 before EFER.NXE may be set (SDM
 * 3A §4.1.4); MAXPHYADDR is CPUID 0x80000008 EAX[7:0]; the PAT is CPUID
 * 1 EDX bit 16.  The hub takes the answers from the handoff. */
static void
probe_cpu(struct handoff *h)
{
	uint32_t r[4], max_ext;

	cpuid(0x80000000u, r);
	max_ext = r[0];
	h->cpu_nx = 0;
	h->cpu_phys_limit = 1ull << 36;
	if (max_ext >= 0x80000001u) {
		cpuid(0x80000001u, r);
		if (r[3] & (1u << 20))
			h->cpu_nx = PTE_NX;
	}
	if (max_ext >= 0x80000008u) {
		cpuid(0x80000008u, r);
		if ((r[0] & 0xff) >= 32 && (r[0] & 0xff) <= 52)
			h->cpu_phys_limit = 1ull << (r[0] & 0xff);
	}
	cpuid(1, r);
	h->cpu_pat = (r[3] >> 16) & 1;
}

static struct ptable *
table_new(void)
{
	struct ptable *t;

	if (ho->pt_used >= ho->pt_pages)
		return NULL;
	t = (struct ptable *)(uintptr_t)(ho->pt_base + ho->pt_used++ * PAGE);
	memset(t, 0, sizeof(*t));
	return t;
}

/* The entry mapping va `depth` levels down from the PML4 (3: its PDE, 4:
 * its PTE), making the tables above it. */
static pte_t *
entry_for(uint64_t va, int depth)
{
	struct ptable *t = pml4;

	for (int level = 0;; level++) {
		pte_t *e = &t->e[(va >> (39 - 9 * level)) & (ENTRIES - 1)];

		if (level == depth - 1)
			return e;
		if (!(*e & PTE_P)) {
			struct ptable *n = table_new();

			if (!n)
				return NULL;
			*e = (uint64_t)(uintptr_t)n | TABLE_FLAGS;
		}
		t = (struct ptable *)(uintptr_t)(*e & PTE_ADDR);
	}
}

/* --- the regions --------------------------------------------------------- */

static int
type_class(uint32_t type)
{
	switch (type) {
	case EFI_MT_LOADER_DATA:
	case EFI_MT_BS_CODE:	/* free memory once boot services are gone */
	case EFI_MT_BS_DATA:
	case EFI_MT_RT_DATA:
	case EFI_MT_CONVENTIONAL:
	case EFI_MT_ACPI_RECLAIM:
	case EFI_MT_ACPI_NVS:
	case EFI_MT_PERSISTENT:
		return CL_RAM;
	case EFI_MT_LOADER_CODE:	/* the stub and the hub */
	case EFI_MT_RT_CODE:		/* called for reset and time */
		return CL_EXEC;
	default:	/* reserved, unusable, MMIO, port space, PAL: may be
			 * devices, so never cached */
		return CL_UC;
	}
}

/* Insert keeping regions sorted by base; the firmware's map usually is
 * sorted already, so this is a short walk from the end. */
static void
region_add(uint64_t base, uint64_t end, int cls)
{
	unsigned i = nregions;

	if (end > phys_limit)
		end = phys_limit;
	if (base >= end)
		return;
	if (nregions == MAX_REGIONS) {
		ndropped++;	/* the hub says so: no console now */
		return;
	}
	while (i > 0 && regions[i - 1].base > base) {
		regions[i] = regions[i - 1];
		i--;
	}
	regions[i] = (struct boot_region){ base, end, cls };
	nregions++;
}

/* Add [base, end) as cls, except that the hub's pool inside it is RAM:
 * the stub allocates the pool as loader code so that firmware which maps
 * loader data no-execute runs the modules in it (memattr.c), but the
 * boot map makes it no-execute and the hub gives each module image its
 * sections' protections. */
static void
region_add_carved(uint64_t base, uint64_t end, int cls, uint64_t pool,
    uint64_t pool_end)
{
	if (cls != CL_EXEC || pool_end <= base || pool >= end) {
		region_add(base, end, cls);
		return;
	}
	if (pool > base)
		region_add(base, pool, cls);
	region_add(pool > base ? pool : base, pool_end < end ? pool_end : end,
	    CL_RAM);
	if (pool_end < end)
		region_add(pool_end, end, cls);
}

static void
regions_from_memmap(const struct handoff *h)
{
	nregions = ndropped = 0;
	for (uint64_t off = 0; off + h->desc_size <= h->memmap_size;
	    off += h->desc_size) {
		const struct handoff_memdesc *d = (const void *)
		    ((const uint8_t *)h->memmap + off);
		uint64_t end = d->phys + d->npages * PAGE;

		if (d->npages && end > d->phys)
			region_add_carved(d->phys, end, type_class(d->type),
			    h->pool_base, h->pool_base + h->pool_size);
	}
}

static int
class_at(uint64_t pa, uint64_t *end)
{
	return boot_class_at(regions, nregions, pa, end);
}

static uint64_t
boot_map_top(void)
{
	uint64_t top = GIB4;

	if (nregions && regions[nregions - 1].end > top)
		top = regions[nregions - 1].end;
	return (top + BIG - 1) & ~(BIG - 1);
}

/* --- the tables ---------------------------------------------------------- */

/* Map the 2 MiB chunk at pa, and the whole chunks after it that its class
 * covers too, as big pages; a chunk where classes meet as a table of
 * 4 KiB pages.  *skip_to is where the caller goes on (class_at is asked
 * once per run of one class, not once per page). */
static int
map_chunk(uint64_t pa, uint64_t *skip_to)
{
	uint64_t end, p, run;
	int cls = class_at(pa, &end);
	pte_t *e;

	*skip_to = pa + BIG;
	if (end >= pa + BIG) {
		*skip_to = end & ~(BIG - 1);
		for (p = pa; cls != CL_NONE && p < *skip_to; p += BIG) {
			if (!(e = entry_for(p, 3)))
				return PB_ENOMEM;
			*e = p | PTE_PS | pte_class_flags(cls, nx);
		}
		return PB_OK;
	}
	for (p = pa; p < pa + BIG; p = run) {
		cls = class_at(p, &end);
		run = end < pa + BIG ? (end + PAGE - 1) & ~(PAGE - 1) : pa + BIG;
		if (run <= p)
			run = p + PAGE;
		for (; cls != CL_NONE && p < run; p += PAGE) {
			if (!(e = entry_for(p, 4)))
				return PB_ENOMEM;
			*e = p | pte_class_flags(cls, nx);
		}
	}
	return PB_OK;
}

/* After the exit (or the last failed try): no firmware call from here. */
void
pagetables_build(struct handoff *h)
{
	uint64_t top, pa = 0, next;

	ho = h;
	h->boot_pml4 = 0;
	h->pt_used = 0;
	nx = h->cpu_nx;
	phys_limit = h->cpu_phys_limit;
	regions_from_memmap(h);
	top = boot_map_top();
	if (!(pml4 = table_new()))
		return;
	while (pa < top) {
		if (map_chunk(pa, &next))
			return;	/* out of table pages: the hub says */
		pa = next > pa ? next : pa + BIG;
	}
	h->boot_pml4 = (uint64_t)(uintptr_t)pml4;
	h->boot_map_top = top;
	h->boot_region_table = regions;	/* the stub's image stays */
	h->boot_regions = nregions;
	h->boot_regions_dropped = ndropped;
}

/*
 * Before the exit: set aside what the boot map of a memory map like the
 * current one can take.  Only regions are mapped above 4 GiB, so a sparse
 * map (a 64-bit PCI window far up) needs tables for its regions only: per
 * region a PD per GiB and a PDPT per 512 GiB it spans, each plus the one
 * its ends may share with a neighbour, and a table of 4 KiB pages for
 * each end that is not 2 MiB aligned; the same for the space below 4 GiB;
 * and room for the map to grow by 64 regions until the exit.
 */
void
pagetables_reserve(struct handoff *h)
{
	/* The PML4; below 4 GiB a PDPT and 4 PDs, with the PTs of its gaps'
	 * ends counted with the regions; 64 regions of slack. */
	uint64_t pages = 1 + 1 + 4 + 64 * 6;
	EFI_PHYSICAL_ADDRESS addr;

	probe_cpu(h);
	for (uint64_t off = 0; off + h->desc_size <= h->memmap_size;
	    off += h->desc_size) {
		const struct handoff_memdesc *d = (const void *)
		    ((const uint8_t *)h->memmap + off);
		uint64_t len = d->npages * PAGE;

		if (d->phys < h->cpu_phys_limit)
			pages += (len >> 30) + 2 + (len >> 39) + 2 + 2;
	}
	if (EFI_ERROR(bs->AllocatePages(AllocateAnyPages, EfiLoaderData, pages,
	    &addr))) {
		stub_printf("error: stub: no memory for the boot map's %llu "
		    "page tables\n", (unsigned long long)pages);
		return;
	}
	h->pt_base = addr;
	h->pt_pages = (uint32_t)pages;
}
