/*
 * test_mem.c - the page allocator and the memory ledger (hub/mem.c).
 *
 * Most ranges here are addresses the test never touches: mem_alloc writes
 * to memory only with PB_MEM_ZERO, so the allocator's bookkeeping can be
 * tested anywhere in the address space, above 4 GiB included.  Only
 * mem_alloc_zero_flag uses real memory.  Owners are plain structs: the
 * ledger only compares their addresses.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fake_arch.h"

#define PG 4096ull
#define GIB4 (1ull << 32)

static struct pb_module owner_a, owner_b, owner_c;

static void
fresh(void)
{
	mem_reset();
}

/* Allocate, as an address. */
static uint64_t
take(struct pb_module *o, size_t n, uint32_t flags)
{
	return (uint64_t)(uintptr_t)mem_alloc(o, n, flags, MEM_KIND_PAGES);
}

static int
give(struct pb_module *o, uint64_t p)
{
	return mem_free(o, (void *)(uintptr_t)p);
}

TEST(mem_ranges_rounded_and_page_zero_skipped)
{
	fresh();
	CHECK_EQ_INT(mem_free_pages(), 0);
	CHECK_EQ_INT(take(&owner_a, 1, 0), 0);		/* nothing to give */
	mem_add_range(0x300001, 0x3000);		/* 0x301000-0x303000 */
	CHECK_EQ_INT(mem_free_pages(), 2);
	mem_add_range(0x500000, 0xfff);			/* less than a page */
	CHECK_EQ_INT(mem_free_pages(), 2);
	mem_add_range(0, 0x3000);			/* page 0 stays out */
	CHECK_EQ_INT(mem_free_pages(), 4);
	CHECK_EQ_INT(take(&owner_a, 1, 0), 0x1000);
	CHECK_EQ_INT(take(&owner_a, 2, 0), 0x301000);
	CHECK_EQ_INT(take(&owner_a, 0, 0), 0);		/* zero pages: none */
	CHECK_EQ_INT(mem_free_pages(), 1);
	fresh();
}

TEST(mem_alloc_zero_flag)
{
	size_t size = 16 * PG;
	unsigned char *arena = aligned_alloc(PG, size);
	unsigned char *p, *q;

	REQUIRE(arena != NULL);
	fresh();
	memset(arena, 0xaa, size);
	mem_add_range((uint64_t)(uintptr_t)arena, size);
	p = mem_alloc(&owner_a, 2, 0, MEM_KIND_PAGES);
	q = mem_alloc(&owner_a, 3, PB_MEM_ZERO, MEM_KIND_HEAP);
	CHECK(p == arena);
	CHECK(q == arena + 2 * PG);
	CHECK(p[0] == 0xaa && p[2 * PG - 1] == 0xaa);	/* untouched */
	for (size_t i = 0; q && i < 3 * PG; i++)
		if (q[i] != 0) {
			CHECK_MSG(0, "byte %zu not zeroed", i);
			break;
		}
	CHECK(arena[5 * PG] == 0xaa);			/* not beyond */
	CHECK_EQ_INT(mem_owned(&owner_a, MEM_KIND_PAGES), 2);
	CHECK_EQ_INT(mem_owned(&owner_a, MEM_KIND_HEAP), 3);
	CHECK_EQ_INT(mem_free(&owner_a, p), PB_OK);
	CHECK_EQ_INT(mem_free(&owner_a, q), PB_OK);
	CHECK_EQ_INT(mem_free_pages(), 16);
	fresh();
	free(arena);
}

TEST(mem_first_fit)
{
	uint64_t r1 = 0x100000, r2 = 0x200000;

	fresh();
	mem_add_range(r2, 16 * PG);		/* added out of order */
	mem_add_range(r1, 4 * PG);
	CHECK_EQ_INT(take(&owner_a, 2, 0), r1);
	CHECK_EQ_INT(take(&owner_a, 4, 0), r2);	/* r1 has 2 left */
	CHECK_EQ_INT(take(&owner_a, 2, 0), r1 + 2 * PG);
	CHECK_EQ_INT(take(&owner_a, 1, 0), r2 + 4 * PG);
	CHECK_EQ_INT(take(&owner_a, 12, 0), 0);	/* 11 left */
	CHECK_EQ_INT(take(&owner_a, 11, 0), r2 + 5 * PG);
	CHECK_EQ_INT(mem_free_pages(), 0);
	/* Freed holes are found first, lowest first. */
	CHECK_EQ_INT(give(&owner_a, r2 + 4 * PG), PB_OK);
	CHECK_EQ_INT(give(&owner_a, r1), PB_OK);
	CHECK_EQ_INT(take(&owner_a, 1, 0), r1);
	CHECK_EQ_INT(take(&owner_a, 1, 0), r1 + PG);
	CHECK_EQ_INT(take(&owner_a, 1, 0), r2 + 4 * PG);
	fresh();
}

TEST(mem_dma32_limit)
{
	uint64_t low = GIB4 - 8 * PG;

	fresh();
	/* 8 pages below 4 GiB, 8 above, in one run. */
	mem_add_range(low, 16 * PG);
	CHECK_EQ_INT(take(&owner_a, 9, PB_MEM_DMA32), 0);	/* would cross */
	CHECK_EQ_INT(mem_free_pages(), 16);
	CHECK_EQ_INT(take(&owner_a, 8, PB_MEM_DMA32), low);	/* ends at 4 GiB */
	CHECK_EQ_INT(take(&owner_a, 1, PB_MEM_DMA32), 0);
	CHECK_EQ_INT(take(&owner_a, 1, 0), GIB4);
	CHECK_EQ_INT(give(&owner_a, low), PB_OK);
	CHECK_EQ_INT(take(&owner_a, 9, 0), 0);			/* not contiguous */
	CHECK_EQ_INT(take(&owner_a, 4, PB_MEM_DMA32), low);
	fresh();

	/* A run below 4 GiB too small, one above large enough. */
	mem_add_range(0x100000, 2 * PG);
	mem_add_range(2 * GIB4, 64 * PG);
	CHECK_EQ_INT(take(&owner_a, 4, PB_MEM_DMA32), 0);
	CHECK_EQ_INT(take(&owner_a, 4, 0), 2 * GIB4);
	CHECK_EQ_INT(take(&owner_a, 2, PB_MEM_DMA32), 0x100000);
	fresh();
}

/* Freed pages merge back into one run whatever the order: the whole range
 * can then be taken again in one piece. */
TEST(mem_coalesces_in_any_order)
{
	static const unsigned sizes[4] = { 2, 3, 4, 7 };
	uint64_t base = 0x40000000, p[4];
	unsigned perm[4];

	for (unsigned n = 0; n < 24; n++) {
		unsigned left[4] = { 0, 1, 2, 3 }, k = n, m = 4;

		/* the n-th permutation of 0..3 */
		for (unsigned i = 0; i < 4; i++) {
			unsigned j = k % m;
			k /= m;
			perm[i] = left[j];
			memmove(&left[j], &left[j + 1], (m - j - 1) * sizeof(left[0]));
			m--;
		}
		fresh();
		mem_add_range(base, 16 * PG);
		for (unsigned i = 0; i < 4; i++)
			p[i] = take(&owner_a, sizes[i], 0);
		CHECK_MSG(mem_free_pages() == 0, "order %u", n);
		for (unsigned i = 0; i < 4; i++)
			CHECK_MSG(give(&owner_a, p[perm[i]]) == PB_OK,
			    "order %u step %u", n, i);
		CHECK_MSG(mem_free_pages() == 16, "order %u: %llu free", n,
		    (unsigned long long)mem_free_pages());
		CHECK_MSG(take(&owner_a, 16, 0) == base,
		    "order %u %u%u%u%u: not one run", n, perm[0], perm[1],
		    perm[2], perm[3]);
	}
	fresh();
}

TEST(mem_adjacent_ranges_merge)
{
	uint64_t base = 0x40000000;

	fresh();
	mem_add_range(base + 4 * PG, 4 * PG);
	mem_add_range(base, 4 * PG);
	mem_add_range(base + 8 * PG, 4 * PG);
	CHECK_EQ_INT(mem_free_pages(), 12);
	CHECK_EQ_INT(take(&owner_a, 12, 0), base);
	fresh();
}

TEST(mem_free_refuses_foreign_pages)
{
	uint64_t p, q;

	fresh();
	mem_add_range(0x100000, 16 * PG);
	p = take(&owner_a, 4, 0);
	q = take(&owner_b, 2, 0);
	CHECK_EQ_INT(give(&owner_b, p), PB_EINVAL);	/* a's */
	CHECK_EQ_INT(give(NULL, p), PB_EINVAL);		/* not even the hub */
	CHECK_EQ_INT(give(&owner_a, p + PG), PB_EINVAL);	/* inside */
	CHECK_EQ_INT(give(&owner_a, 0x900000), PB_EINVAL);	/* nobody's */
	CHECK_EQ_INT(mem_owned(&owner_a, -1), 4);
	CHECK_EQ_INT(mem_free_pages(), 10);
	CHECK_EQ_INT(give(&owner_a, p), PB_OK);
	CHECK_EQ_INT(give(&owner_a, p), PB_EINVAL);	/* twice */
	CHECK_EQ_INT(mem_free_pages(), 14);
	CHECK_EQ_INT(mem_owned(&owner_b, -1), 2);
	CHECK_EQ_INT(give(&owner_b, q), PB_OK);
	/* An MMIO record is not pages to free. */
	CHECK_EQ_INT(mem_note_mmio(&owner_a, 0xfe000000, PG), PB_OK);
	CHECK_EQ_INT(give(&owner_a, 0xfe000000), PB_EINVAL);
	CHECK_EQ_INT(mem_owned(&owner_a, MEM_KIND_MMIO), 1);
	CHECK_EQ_INT(mem_forget_mmio(&owner_a, 0xfe000000), PG);
	fresh();
}

struct unmap_rec {
	uint64_t va;
	size_t len;
};
static struct unmap_rec unmapped[8];
static unsigned nunmapped;

static void
record_unmap(void *va, size_t len)
{
	if (nunmapped < 8)
		unmapped[nunmapped] = (struct unmap_rec){ (uintptr_t)va, len };
	nunmapped++;
}

TEST(mem_reclaim_returns_pages_and_mmio)
{
	uint64_t before;

	fresh();
	mem_add_range(0x100000, 64 * PG);
	CHECK(mem_alloc(&owner_b, 5, 0, MEM_KIND_PAGES) != NULL);
	before = mem_free_pages();
	CHECK(mem_alloc(&owner_a, 3, 0, MEM_KIND_PAGES) != NULL);
	CHECK(mem_alloc(&owner_a, 1, 0, MEM_KIND_HEAP) != NULL);
	CHECK(mem_alloc(&owner_a, 2, 0, MEM_KIND_IMAGE) != NULL);
	CHECK(mem_alloc(NULL, 1, 0, MEM_KIND_HEAP) != NULL);
	CHECK_EQ_INT(mem_note_mmio(&owner_a, 0xfe000000, 5000), PB_OK);
	CHECK_EQ_INT(mem_note_mmio(&owner_a, 0xfed00000, PG), PB_OK);
	CHECK_EQ_INT(mem_free_pages(), before - 7);	/* MMIO takes none */

	CHECK_EQ_INT(mem_owned(&owner_a, -1), 6);
	CHECK_EQ_INT(mem_owned(&owner_a, MEM_KIND_PAGES), 3);
	CHECK_EQ_INT(mem_owned(&owner_a, MEM_KIND_HEAP), 1);
	CHECK_EQ_INT(mem_owned(&owner_a, MEM_KIND_IMAGE), 2);
	CHECK_EQ_INT(mem_owned(&owner_a, MEM_KIND_MMIO), 3);	/* 2 + 1 */
	CHECK_EQ_INT(mem_owned(NULL, -1), 1);
	CHECK_EQ_INT(mem_owned(&owner_c, -1), 0);

	nunmapped = 0;
	CHECK_EQ_INT(mem_reclaim(&owner_a, record_unmap), 5);
	CHECK_EQ_INT(nunmapped, 2);
	CHECK_EQ_INT(unmapped[0].va, 0xfe000000);
	CHECK_EQ_INT(unmapped[0].len, 2 * PG);
	CHECK_EQ_INT(unmapped[1].va, 0xfed00000);
	CHECK_EQ_INT(unmapped[1].len, PG);
	CHECK_EQ_INT(mem_free_pages(), before - 1);	/* the hub's page */
	for (int k = -1; k <= MEM_KIND_MMIO; k++)
		CHECK_MSG(mem_owned(&owner_a, k) == 0, "kind %d", k);
	CHECK_EQ_INT(mem_owned(&owner_b, -1), 5);	/* b untouched */
	CHECK_EQ_INT(mem_reclaim(&owner_a, record_unmap), 0);
	CHECK_EQ_INT(nunmapped, 2);
	/* Without an unmap callback the records go all the same. */
	CHECK_EQ_INT(mem_note_mmio(&owner_a, 0xfe000000, PG), PB_OK);
	CHECK_EQ_INT(mem_reclaim(&owner_a, NULL), 1);
	CHECK_EQ_INT(mem_owned(&owner_a, MEM_KIND_MMIO), 0);
	fresh();
}

TEST(mem_forget_mmio)
{
	fresh();
	CHECK_EQ_INT(mem_note_mmio(&owner_a, 0xfe000000, 0x2001), PB_OK);
	CHECK_EQ_INT(mem_forget_mmio(&owner_b, 0xfe000000), 0);
	CHECK_EQ_INT(mem_forget_mmio(&owner_a, 0xfe001000), 0);
	CHECK_EQ_INT(mem_forget_mmio(&owner_a, 0xfe000000), 3 * PG);
	CHECK_EQ_INT(mem_forget_mmio(&owner_a, 0xfe000000), 0);
	CHECK_EQ_INT(mem_owned(&owner_a, MEM_KIND_MMIO), 0);
	fresh();
}

/* Two modules map one device page (a driver its BAR, pci the MSI-X table
 * inside it): whoever lets go first leaves the shared pages mapped. */
TEST(mem_shared_mmio_stays_mapped)
{
	fresh();
	/* a: a 4-page BAR; b: 256 bytes at its offset 0x2000 */
	CHECK_EQ_INT(mem_note_mmio(&owner_a, 0xfe000000, 4 * PG), PB_OK);
	CHECK_EQ_INT(mem_note_mmio(&owner_b, 0xfe002000, 0x100), PB_OK);
	CHECK_EQ_INT(mem_note_mmio(&owner_c, 0xfe000000, PG), PB_OK);
	/* c's record at the same base: a's and b's stay */
	CHECK_EQ_INT(mem_forget_mmio(&owner_c, 0xfe000000), PG);
	CHECK_EQ_INT(mem_owned(&owner_a, MEM_KIND_MMIO), 4);
	nunmapped = 0;
	mem_unmap_unshared(0xfe000000, PG, record_unmap);
	CHECK_EQ_INT(nunmapped, 0);		/* a still maps it */
	/* a goes: all but b's page is unmapped, in two runs */
	CHECK_EQ_INT(mem_reclaim(&owner_a, record_unmap), 1);
	REQUIRE(nunmapped == 2);
	CHECK_EQ_INT(unmapped[0].va, 0xfe000000);
	CHECK_EQ_INT(unmapped[0].len, 2 * PG);
	CHECK_EQ_INT(unmapped[1].va, 0xfe003000);
	CHECK_EQ_INT(unmapped[1].len, PG);
	/* b goes: its page now */
	nunmapped = 0;
	CHECK_EQ_INT(mem_forget_mmio(&owner_b, 0xfe002000), PG);
	mem_unmap_unshared(0xfe002000, PG, record_unmap);
	REQUIRE(nunmapped == 1);
	CHECK_EQ_INT(unmapped[0].va, 0xfe002000);
	CHECK_EQ_INT(unmapped[0].len, PG);
	fresh();
}

/* Every slot of the ledger holds a live record of owner_c; then the ledger
 * is reset, as it is between tests. */
static void
stale_ledger(void)
{
	fresh();
	mem_add_range(0x40000000, MAX_ALLOCS * PG);
	for (unsigned i = 0; i < MAX_ALLOCS; i++)
		mem_alloc(&owner_c, 1, 0, MEM_KIND_PAGES);
	fresh();
}

/* An allocation that fails leaves no record behind. */
TEST(mem_failed_alloc_keeps_no_record)
{
	uint64_t free_before;

	stale_ledger();
	mem_add_range(0x100000, PG);
	CHECK(take(&owner_a, 1, 0) != 0);
	CHECK_EQ_INT(take(&owner_a, 2, 0), 0);		/* out of memory */
	CHECK_EQ_INT(mem_owned(&owner_c, -1), 0);
	CHECK_EQ_INT(mem_owned(&owner_a, -1), 1);
	free_before = mem_free_pages();
	mem_reclaim(&owner_c, NULL);
	CHECK_EQ_INT(mem_free_pages(), free_before);	/* nothing to give */
	fresh();
}

/* Failing allocations (a module asking for too much, again and again) do
 * not use up the ledger: once memory is there, allocations work. */
TEST(mem_failed_allocs_do_not_use_up_the_ledger)
{
	stale_ledger();
	mem_add_range(0x100000, PG);
	CHECK(take(&owner_a, 1, 0) != 0);
	for (unsigned i = 0; i < 2 * MAX_ALLOCS; i++)
		take(&owner_a, 2, PB_MEM_DMA32);
	mem_add_range(0x200000, PG);
	CHECK(take(&owner_a, 1, 0) == 0x200000);
	fresh();
}

TEST(mem_ledger_full)
{
	unsigned n = 0;

	fresh();
	mem_add_range(0x40000000, (MAX_ALLOCS + 8) * PG);
	for (unsigned i = 0; i < MAX_ALLOCS + 8; i++)
		n += take(&owner_a, 1, 0) != 0;
	CHECK_EQ_INT(n, MAX_ALLOCS);
	CHECK_EQ_INT(mem_free_pages(), 8);
	CHECK_EQ_INT(mem_reclaim(&owner_a, NULL), MAX_ALLOCS);
	CHECK_EQ_INT(mem_free_pages(), MAX_ALLOCS + 8);
	CHECK_EQ_INT(take(&owner_a, MAX_ALLOCS + 8, 0), 0x40000000);
	fresh();
}
