/*
 * pte.h - x86-64 4-level page-table entries, shared by the hub's paging.c
 * and the stub's pagetables.c, which builds the boot map the hub loads.
 *
 * SDM 3A §4.5 "4-Level Paging", Tables 4-14 to 4-20; AMD APM Vol. 2 §5.3.
 */
#ifndef PB_HUB_X86_64_PTE_H
#define PB_HUB_X86_64_PTE_H

#include <stdint.h>

typedef uint64_t pte_t;
_Static_assert(sizeof(pte_t) == 8, "page-table entry");

#define PAGE 4096ull
#define BIG (2ull << 20)		/* a 2 MiB page */
#define ENTRIES 512
#define GIB4 (4ull << 30)

struct ptable {
	pte_t e[ENTRIES];
};
_Static_assert(sizeof(struct ptable) == PAGE, "page table");

/* Entry bits, the same at every level unless noted (SDM 3A Tables 4-14 to
 * 4-20).  PS is bit 7 in a PDE; in a 4 KiB PTE bit 7 is PAT instead, which
 * we never set: our cache types come from PWT and PCD alone. */
#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_IW (1ull << 9)	/* ignored by the CPU: writable as intended,
				 * W cleared while domains need it (paging.c) */
#define PTE_KEY (15ull << 59)	/* protection key, with CR4.PKS (§4.6.2) */
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull	/* bits 51:12 */
_Static_assert((PTE_ADDR & (PTE_P | PTE_W | PTE_PS | PTE_NX)) == 0,
    "address bits apart from flag bits");

/* The flags of a leaf that carry over when a 2 MiB page is split. */
#define LEAF_FLAGS (PTE_P | PTE_W | PTE_US | PTE_PWT | PTE_PCD | PTE_G | \
    PTE_IW | PTE_KEY | PTE_NX)
/* Tables above a leaf are permissive: the leaf alone decides. */
#define TABLE_FLAGS (PTE_P | PTE_W)

/* Cache types through the PAT index PAT:PCD:PWT (SDM 3A §11.12.3
 * "Selecting a Memory Type from the PAT").  Index 0 is WB and index 3 UC
 * at reset; we make index 1 (PWT alone) write-combining. */
#define CACHE_WB 0ull
#define CACHE_WC PTE_PWT
#define CACHE_UC (PTE_PCD | PTE_PWT)
#define CACHE_MASK (PTE_PCD | PTE_PWT)

/* What the boot map puts at a physical address. */
enum mem_class { CL_NONE, CL_RAM, CL_UC, CL_EXEC };

/* A leaf's flags for a class; nx is PTE_NX, or 0 without NX. */
static inline uint64_t
pte_class_flags(int cls, uint64_t nx)
{
	switch (cls) {
	case CL_RAM:
		return PTE_P | PTE_W | nx | CACHE_WB;
	case CL_UC:
		return PTE_P | PTE_W | nx | CACHE_UC;
	case CL_EXEC:
		return PTE_P | PTE_W | CACHE_WB;
	default:
		return 0;
	}
}

/* The boot map's regions, sorted by base (efi/pagetables.c builds them,
 * the hub reads them to map and unmap device memory). */
struct boot_region {
	uint64_t base, end;
	int cls;
};

/*
 * The class at pa, and in *end where that answer stops holding (the end
 * of its region, or the start of the next one for a gap).  Gaps below
 * 4 GiB are device space to us; gaps above are not mapped at boot.
 */
static inline int
boot_class_at(const struct boot_region *r, unsigned n, uint64_t pa,
    uint64_t *end)
{
	uint64_t next = ~0ull;

	if (pa < PAGE) {
		*end = PAGE;
		return CL_NONE;
	}
	for (unsigned i = 0; i < n; i++) {
		if (pa >= r[i].base && pa < r[i].end) {
			*end = r[i].end;
			return r[i].cls;
		}
		if (r[i].base > pa) {
			next = r[i].base;
			break;
		}
	}
	if (pa < GIB4) {
		*end = next < GIB4 ? next : GIB4;
		return CL_UC;
	}
	*end = next;
	return CL_NONE;
}

#endif
