/*
 * test_drvmem.c - the heap service (alloc, free) packs a module's small
 * allocations into its own pages, as sub-page DMA is (hub/services.c,
 * hub/dma.c), so a driver with a few small structures holds one page,
 * not one each.
 */
#include <string.h>

#include "check.h"
#include "fakemod.h"

#define PG 4096ull
#define U(p) ((uint64_t)(uintptr_t)(p))

static const struct pb_hub *const h = &hub_services;

static struct fm *
running_mod(const char *name)
{
	struct fm *f = fm_add(name, 0);

	f->m->state = MOD_RUNNING;
	return f;
}

/* Small allocations share a heap page, zeroed, aligned, apart from each
 * other; the page goes back when the last of them is freed. */
TEST(drvmem_small_allocs_share_a_heap_page)
{
	struct fm *m;
	uint8_t *p[6];

	fm_setup();
	m = running_mod("m");
	for (unsigned i = 0; i < 6; i++) {
		REQUIRE((p[i] = h->alloc(m->m, 100 + i * 90)) != NULL);
		CHECK_EQ_INT(U(p[i]) % 16, 0);
		for (unsigned k = 0; k < 100 + i * 90; k++)
			if (p[i][k]) {
				CHECK_MSG(0, "alloc %u byte %u not zero", i, k);
				break;
			}
		memset(p[i], 0xa0 + i, 100 + i * 90);
	}
	CHECK_EQ_INT(mem_owned(m->m, -1), 1);
	for (unsigned i = 0; i < 6; i++)	/* none overwrote another */
		CHECK(p[i][0] == 0xa0 + i && p[i][99 + i * 90] == 0xa0 + i);
	for (unsigned i = 0; i < 5; i++)
		h->free(m->m, p[i]);
	CHECK_EQ_INT(mem_owned(m->m, -1), 1);
	h->free(m->m, p[5]);
	CHECK_EQ_INT(mem_owned(m->m, -1), 0);
	fm_teardown();
}

/* A page or more is a record of its own; small heap and DMA of one
 * module share its pages, never another module's. */
TEST(drvmem_small_pages_are_the_modules_own)
{
	struct fm *a, *b;
	void *pa, *pb, *big, *dma;
	uint64_t bus;

	fm_setup();
	a = running_mod("a");
	b = running_mod("b");
	REQUIRE((pa = h->alloc(a->m, 64)) != NULL);
	REQUIRE((pb = h->alloc(b->m, 64)) != NULL);
	REQUIRE((dma = h->dma_alloc(a->m, 64, 64, 0, ~0ull, &bus)) != NULL);
	CHECK(U(pa) / PG != U(pb) / PG);
	CHECK(U(pa) / PG == U(dma) / PG);
	CHECK(U(pa) != U(dma));
	REQUIRE((big = h->alloc(a->m, 5000)) != NULL);
	CHECK_EQ_INT(U(big) % PG, 0);
	CHECK_EQ_INT(mem_owned(a->m, -1), 3);
	h->free(a->m, big);
	h->free(a->m, pa);
	CHECK_EQ_INT(mem_owned(a->m, -1), 1);	/* the DMA is still there */
	h->dma_free(a->m, dma);
	CHECK_EQ_INT(mem_owned(a->m, -1), 0);
	h->free(b->m, pb);
	CHECK_EQ_INT(mem_owned(b->m, -1), 0);
	fm_teardown();
}

/* Freeing what another module was given, or the middle of an
 * allocation, changes nothing and is reported. */
TEST(drvmem_bad_free_is_refused)
{
	struct fm *a, *b;
	uint8_t *p;

	fm_setup();
	a = running_mod("a");
	b = running_mod("b");
	REQUIRE((p = h->alloc(a->m, 300)) != NULL);
	h->free(b->m, p);
	h->free(a->m, p + 64);
	CHECK_EQ_INT(mem_owned(a->m, -1), 1);
	CHECK(fm_log_has("b: frees heap it does not own"));
	CHECK(fm_log_has("a: frees heap it does not own"));
	h->free(a->m, p);
	CHECK_EQ_INT(mem_owned(a->m, -1), 0);
	fm_teardown();
}
