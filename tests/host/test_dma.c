/*
 * test_dma.c - DMA memory for drivers (ABI 1.2 dma_alloc, dma_free,
 * dma_addr; hub/dma.c and the page allocator in hub/mem.c).
 *
 * The page allocator gets fm_setup's 4 MiB arena; allocations are checked
 * for what a controller asks of them (xHCI: rings within 64 KiB, AHCI:
 * command lists 1 KiB-aligned, FIS areas 256 B), zeroed memory, the
 * ledger, and bus addresses that come from the arch side's translation,
 * never from assuming the CPU address is the bus address.
 */
#include <string.h>

#include "check.h"
#include "fakemod.h"

#define PG 4096ull
#define U(p) ((uint64_t)(uintptr_t)(p))

static const struct pb_hub *const h = &hub_services;

static int
crosses(uint64_t va, uint64_t len, uint64_t boundary)
{
	return boundary && va / boundary != (va + len - 1) / boundary;
}

TEST(dma_services_present)
{
	CHECK(h->size >= offsetof(struct pb_hub, dma_addr) +
	    sizeof(h->dma_addr));
	CHECK(h->dma_alloc && h->dma_free && h->dma_addr);
}

/* Whole pages: aligned, zeroed, in the ledger as the module's. */
TEST(dma_pages_aligned_and_zeroed)
{
	struct fm *m;
	uint64_t bus = 0;
	uint8_t *p, *q;

	fm_setup();
	m = fm_add_running("m");
	REQUIRE(h->dma_alloc);
	REQUIRE(mem_alloc(NULL, 1, 0, MEM_KIND_HEAP));	/* misalign the rest */
	p = h->dma_alloc(m->m, 2 * PG, 65536, 0, ~0ull, &bus);
	REQUIRE(p != NULL);
	CHECK_EQ_INT(U(p) % 65536, 0);
	CHECK(bus == arch_bus_addr(U(p)));
	for (unsigned i = 0; i < 2 * PG; i++)
		if (p[i]) {
			CHECK_MSG(0, "byte %u not zero", i);
			break;
		}
	CHECK_EQ_INT(mem_owned(m->m, -1), 2);
	memset(p, 0xa5, 2 * PG);
	h->dma_free(m->m, p);
	CHECK_EQ_INT(mem_owned(m->m, -1), 0);
	q = h->dma_alloc(m->m, 2 * PG, 65536, 0, ~0ull, &bus);
	CHECK(q == p && q[0] == 0 && q[2 * PG - 1] == 0);	/* zeroed again */
	fm_teardown();
}

/* A boundary is never crossed, whatever came before; a request longer
 * than its boundary is refused. */
TEST(dma_pages_never_cross_their_boundary)
{
	static const uint64_t lens[] = { 3 * PG, PG, 5 * PG, 2 * PG, 16 * PG,
	    7 * PG, 4 * PG };
	struct fm *m;
	uint64_t bus;

	fm_setup();
	m = fm_add_running("m");
	REQUIRE(h->dma_alloc);
	REQUIRE(mem_alloc(NULL, 3, 0, MEM_KIND_HEAP));
	for (unsigned i = 0; i < 7; i++) {
		void *p = h->dma_alloc(m->m, lens[i], PG, 65536, ~0ull, &bus);

		REQUIRE(p != NULL);
		CHECK_MSG(!crosses(U(p), lens[i], 65536), "%u: %llx+%llx "
		    "crosses 64 KiB", i, (unsigned long long)U(p),
		    (unsigned long long)lens[i]);
	}
	CHECK(h->dma_alloc(m->m, 17 * PG, PG, 65536, ~0ull, &bus) == NULL);
	CHECK(h->dma_alloc(m->m, PG, 3000, 0, ~0ull, &bus) == NULL);
	CHECK(h->dma_alloc(m->m, PG, PG, 12345, ~0ull, &bus) == NULL);
	CHECK(h->dma_alloc(m->m, 0, PG, 0, ~0ull, &bus) == NULL);
	fm_teardown();
}

/* The whole buffer lies at or below the limit; when that memory is gone
 * the request fails although memory above is free. */
TEST(dma_pages_below_their_limit)
{
	struct fm *m;
	uint64_t bus, base, limit;
	void *p;
	int n = 0;

	fm_setup();
	m = fm_add_running("m");
	REQUIRE(h->dma_alloc);
	base = U(mem_alloc(NULL, 1, 0, MEM_KIND_HEAP));
	REQUIRE(base);
	limit = base + 9 * PG - 1;	/* 8 pages after the probe */
	while ((p = h->dma_alloc(m->m, 3 * PG, PG, 0, limit, &bus)) != NULL) {
		CHECK(U(p) + 3 * PG - 1 <= limit);
		n++;
	}
	CHECK_EQ_INT(n, 2);
	CHECK((p = h->dma_alloc(m->m, 2 * PG, PG, 0, limit, &bus)) != NULL);
	CHECK(h->dma_alloc(m->m, PG, PG, 0, limit, &bus) == NULL);
	CHECK(h->dma_alloc(m->m, PG, PG, 0, ~0ull, &bus) != NULL);
	/* Below it, with a sub-page request too. */
	CHECK(h->dma_alloc(m->m, 64, 64, 0, limit, &bus) == NULL);
	fm_teardown();
}

/* Less than a page: 64-byte units carved from the module's DMA pages,
 * aligned as asked, zeroed, never crossing a boundary. */
TEST(dma_subpage_carved_aligned_zeroed)
{
	struct fm *m;
	uint64_t bus;
	uint8_t *a, *b, *c, *d, *e;

	fm_setup();
	m = fm_add_running("m");
	REQUIRE(h->dma_alloc);
	a = h->dma_alloc(m->m, 1024, 1024, 0, ~0ull, &bus);	/* AHCI CLB */
	b = h->dma_alloc(m->m, 256, 256, 0, ~0ull, &bus);	/* FIS */
	c = h->dma_alloc(m->m, 100, 1, 0, ~0ull, &bus);
	d = h->dma_alloc(m->m, 200, 128, 256, ~0ull, &bus);
	REQUIRE(a && b && c && d);
	CHECK_EQ_INT(U(a) % 1024, 0);
	CHECK_EQ_INT(U(b) % 256, 0);
	CHECK_EQ_INT(U(c) % 64, 0);
	CHECK_EQ_INT(U(d) % 128, 0);
	CHECK(!crosses(U(d), 200, 256));
	CHECK(bus == arch_bus_addr(U(d)));
	/* One page holds them all, without overlap. */
	CHECK_EQ_INT(mem_owned(m->m, -1), 1);
	CHECK(U(a) / PG == U(d) / PG);
	CHECK(U(b) >= U(a) + 1024 || U(b) + 256 <= U(a));
	CHECK(U(c) >= U(b) + 256 || U(c) + 100 <= U(b));
	CHECK(U(d) >= U(c) + 128 || U(d) + 200 <= U(c));
	memset(c, 0x5a, 100);
	h->dma_free(m->m, c);
	e = h->dma_alloc(m->m, 64, 64, 0, ~0ull, &bus);
	REQUIRE(e != NULL);
	CHECK(e == c && e[0] == 0 && e[63] == 0);	/* reused, zeroed */
	/* Filling the page takes a second one. */
	for (int i = 0; i < 64 && mem_owned(m->m, -1) == 1; i++)
		REQUIRE(h->dma_alloc(m->m, 64, 64, 0, ~0ull, &bus));
	CHECK_EQ_INT(mem_owned(m->m, -1), 2);
	/* Freeing every unit of a page returns the page. */
	h->dma_free(m->m, a);
	h->dma_free(m->m, b);
	h->dma_free(m->m, d);
	h->dma_free(m->m, e);
	CHECK(mem_owned(m->m, -1) >= 1);
	fm_teardown();
}

/* dma_free checks the caller and the address; nothing is freed twice. */
TEST(dma_free_refuses_what_is_not_the_callers)
{
	struct fm *m, *k;
	uint64_t bus;
	uint8_t *p, *s;

	fm_setup();
	m = fm_add_running("m");
	k = fm_add_running("k");
	REQUIRE(h->dma_alloc);
	p = h->dma_alloc(m->m, PG, PG, 0, ~0ull, &bus);
	s = h->dma_alloc(m->m, 128, 64, 0, ~0ull, &bus);
	REQUIRE(p && s);
	h->dma_free(k->m, p);
	h->dma_free(k->m, s);
	h->dma_free(m->m, s + 64);		/* not where it starts */
	CHECK_EQ_INT(mem_owned(m->m, -1), 2);
	CHECK(fm_log_has("dma_free"));
	h->dma_free(m->m, s);
	h->dma_free(m->m, s);			/* twice */
	h->dma_free(m->m, p);
	CHECK_EQ_INT(mem_owned(m->m, -1), 0);
	fm_teardown();
}

/* Unloading a module takes back its DMA memory, pages and units. */
TEST(dma_reclaimed_on_unload)
{
	struct fm *m;
	uint64_t bus, before;
	char why[96];

	fm_setup();
	m = fm_add_running("m");
	REQUIRE(h->dma_alloc);
	before = mem_free_pages();
	REQUIRE(h->dma_alloc(m->m, 3 * PG, 65536, 65536, ~0ull, &bus));
	REQUIRE(h->dma_alloc(m->m, 64, 64, 0, ~0ull, &bus));
	REQUIRE(h->dma_alloc(m->m, 512, 512, 0, ~0ull, &bus));
	CHECK_EQ_INT(mod_unload(m->m), PB_OK);
	CHECK(mod_holds_nothing(m->m, why, sizeof(why)));
	CHECK_EQ_INT(mem_free_pages(), before);
	/* Its sub-page bookkeeping went too: a new owner starts afresh. */
	m->m->state = MOD_RUNNING;
	REQUIRE(h->dma_alloc(m->m, 64, 64, 0, ~0ull, &bus));
	CHECK_EQ_INT(mem_owned(m->m, -1), 1);
	fm_teardown();
}

/* dma_addr: the bus address of memory in the ledger (the caller's or a
 * client's buffer) and how far it runs; anything else is refused. */
TEST(dma_addr_of_ledger_memory_only)
{
	struct fm *m, *c;
	uint64_t bus = 0, mmio = 0xfebf0000ull;
	size_t run = 0;
	uint8_t *buf, *own;
	int local;

	fm_setup();
	m = fm_add_running("m");
	c = fm_add_running("c");
	REQUIRE(h->dma_addr);
	buf = h->alloc(c->m, 3 * PG);		/* a client's buffer */
	REQUIRE(buf);
	CHECK_EQ_INT(h->dma_addr(m->m, buf + PG + 100, 10000, &bus, &run),
	    PB_OK);
	CHECK(bus == arch_bus_addr(U(buf) + PG + 100));
	CHECK_EQ_INT(run, 2 * PG - 100);	/* to the end of the buffer */
	CHECK_EQ_INT(h->dma_addr(m->m, buf, 512, &bus, &run), PB_OK);
	CHECK_EQ_INT(run, 512);
	own = h->dma_alloc(m->m, 256, 256, 0, ~0ull, &bus);
	REQUIRE(own);
	CHECK_EQ_INT(h->dma_addr(m->m, own + 16, 16, &bus, &run), PB_OK);
	CHECK(bus == arch_bus_addr(U(own) + 16) && run == 16);
	CHECK_EQ_INT(h->dma_addr(m->m, &local, 4, &bus, &run), PB_EINVAL);
	REQUIRE(h->map_mmio(m->m, mmio, PG, PB_CACHE_UC));
	CHECK_EQ_INT(h->dma_addr(m->m, (void *)(uintptr_t)mmio, 4, &bus,
	    &run), PB_EINVAL);
	CHECK_EQ_INT(h->dma_addr(m->m, buf, 0, &bus, &run), PB_EINVAL);
	fm_teardown();
}

/* Bus addresses come from the arch side: with a translation that is not
 * the identity (an IOMMU), every service reports the translated one. */
TEST(dma_bus_addresses_are_translated)
{
	struct fm *m;
	uint64_t bus = 0;
	size_t run;
	uint8_t *p;

	fm_setup();
	m = fm_add_running("m");
	REQUIRE(h->dma_alloc);
	fake_bus_offset = 0x4000000000ull;
	p = h->dma_alloc(m->m, 2 * PG, PG, 0, ~0ull, &bus);
	REQUIRE(p);
	CHECK(bus == U(p) + 0x4000000000ull);
	CHECK_EQ_INT(h->dma_addr(m->m, p + 8, 8, &bus, &run), PB_OK);
	CHECK(bus == U(p) + 8 + 0x4000000000ull);
	fake_bus_offset = 0;
	fm_teardown();
}
