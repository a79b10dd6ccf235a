/*
 * paging.c - the hub's own page tables, from ExitBootServices on.
 *
 * Physical memory is identity-mapped, so every address the portable code
 * holds is both physical and virtual.  The boot map (RAM write-back and
 * no-execute, device space uncached, loader and runtime code executable,
 * page 0 absent) is built by the stub right after the exit from the final
 * memory map (efi/pagetables.c); arch_paging_init gives the hub's own
 * image its sections' protections (text RX, rdata R, data RW) and loads
 * it.  Module images get per-section protections (W^X) through
 * arch_map_image, and MMIO above the boot map is added by arch_map_mmio.
 *
 * Before that, in the firmware phase, arch_paging_early edits the
 * firmware's own tables where CR3 points: the module pool becomes RW+NX
 * (the stub allocates it as loader code, read-write-execute), the hub's
 * image and every module image get their sections' protections, so W^X
 * holds from a module's first instruction on firmware with no memory
 * attribute protocol as well (OVMF 2022.11 has none).
 *
 * 4-level paging: SDM 3A §4.5 "4-Level Paging", Tables 4-14 to 4-20; AMD
 * APM Vol. 2 §5.3.  If the firmware left 5-level paging on (CR4.LA57,
 * which cannot change in long mode), one PML5 entry leads to our PML4.
 */
#include "arch.h"
#include "cpu.h"
#include "pte.h"
#include "../hub.h"
#include "../../abi/rt/rt.h"

#define MSR_PAT 0x277u
#define PAT_WC 0x01ull
#define CR4_PGE (1ull << 7)
#define CR4_LA57 (1ull << 12)

static struct ptable *pml4;
static const struct boot_region *regions;	/* the boot map's */
static unsigned nregions;
static int paging_on;
static int paging_fw;		/* editing the firmware's tables */
static uint64_t nx;		/* PTE_NX, or 0 without EFER.NXE */
static int wc_ok;		/* the PAT has a write-combining entry */
static uint64_t phys_limit;	/* 1 << MAXPHYADDR */
static unsigned ntables;
static int wp;			/* domains by CR0.WP: arch_paging_wp */

/* Table pages come from the core's allocator 16 at a time, so the hub's
 * ledger holds a few records rather than one per table. */
static uint8_t *pool;
static unsigned pool_left;

static uint64_t
page_up(uint64_t v)
{
	return (v + PAGE - 1) & ~(PAGE - 1);
}

static struct ptable *
table_new(void)
{
	/* pool and pool_left change only once mem_alloc has returned: it
	 * may come back here (arch_mem_domain splitting a page). */
	if (!pool_left) {
		unsigned n = 16;
		uint8_t *p = mem_alloc(NULL, n, PB_MEM_ZERO, MEM_KIND_PAGES);

		if (!p) {
			n = 1;
			p = mem_alloc(NULL, 1, PB_MEM_ZERO, MEM_KIND_PAGES);
		}
		if (!p)
			return NULL;
		if (pool_left) {	/* a nested call took a fresh chunk */
			mem_free(NULL, p);
		} else {
			pool = p;
			pool_left = n;
		}
	}
	pool_left--;
	ntables++;
	pool += PAGE;
	return (struct ptable *)(pool - PAGE);
}

static struct ptable *
table_at(pte_t e)
{
	return (struct ptable *)(uintptr_t)(e & PTE_ADDR);
}

/* The next-level table under *e, made if absent and `create`. */
static struct ptable *
table_under(pte_t *e, int create)
{
	struct ptable *t;

	if (*e & PTE_P)
		return table_at(*e);
	if (!create || !(t = table_new()))
		return NULL;
	*e = (uint64_t)(uintptr_t)t | TABLE_FLAGS;
	return t;
}

/* The firmware's tables may map 1 GiB pages (ours never do): split one
 * into 512 2 MiB leaves with its attributes.  Bit 12 of such a leaf is
 * its PAT bit, which stays clear in the smaller leaves as in all of ours. */
static int
split_huge(pte_t *pdpte)
{
	struct ptable *pd = table_new();
	uint64_t base = *pdpte & PTE_ADDR & ~((1ull << 30) - 1);
	uint64_t flags = *pdpte & LEAF_FLAGS;

	if (!pd)
		return PB_ENOMEM;
	for (unsigned i = 0; i < ENTRIES; i++)
		pd->e[i] = (base + i * BIG) | flags | PTE_PS;
	*pdpte = (uint64_t)(uintptr_t)pd | TABLE_FLAGS;
	write_cr3(read_cr3());
	return PB_OK;
}

/* The PDE mapping va, making the PML4 and PDPT levels as needed. */
static pte_t *
pde_for(uint64_t va, int create)
{
	struct ptable *pdpt, *pd;
	pte_t *pdpte;

	pdpt = table_under(&pml4->e[(va >> 39) & 511], create);
	if (!pdpt)
		return NULL;
	pdpte = &pdpt->e[(va >> 30) & 511];
	if ((*pdpte & (PTE_P | PTE_PS)) == (PTE_P | PTE_PS) &&
	    (!create || split_huge(pdpte)))
		return NULL;
	pd = table_under(pdpte, create);
	if (!pd)
		return NULL;
	return &pd->e[(va >> 21) & 511];
}

/* Turn a 2 MiB leaf into a table of 512 4 KiB leaves with the same
 * translation and attributes, so nothing changes until a leaf does. */
static int
split_big(pte_t *pde)
{
	struct ptable *pt = table_new();
	uint64_t base = *pde & PTE_ADDR & ~(BIG - 1);
	uint64_t flags = *pde & LEAF_FLAGS;

	if (!pt)
		return PB_ENOMEM;
	for (unsigned i = 0; i < ENTRIES; i++)
		pt->e[i] = (base + i * PAGE) | flags;
	*pde = (uint64_t)(uintptr_t)pt | TABLE_FLAGS;
	invlpg(base);
	return PB_OK;
}

/* The 4 KiB PTE mapping va, splitting a 2 MiB page if one maps it. */
static pte_t *
pte_for(uint64_t va, int create)
{
	pte_t *pde = pde_for(va, create);
	struct ptable *pt;

	if (!pde)
		return NULL;
	if ((*pde & (PTE_P | PTE_PS)) == (PTE_P | PTE_PS) &&
	    (!create || split_big(pde)))
		return NULL;
	pt = table_under(pde, create);
	return pt ? &pt->e[(va >> 12) & 511] : NULL;
}

static uint64_t
class_flags(int cls)
{
	return pte_class_flags(cls, nx);
}

static int
class_at(uint64_t pa, uint64_t *end)
{
	return boot_class_at(regions, nregions, pa, end);
}

/* --- per-page protections ----------------------------------------------- */

/*
 * A leaf as written: with domains by CR0.WP (domain.c), a page meant to
 * be writable (W or PTE_IW) keeps W only if a module's key is on it, so
 * the hub's pages are read-only while a module runs (CR0.WP set) and
 * writable to the hub (CR0.WP clear).
 */
static pte_t
leaf(pte_t v)
{
	if (!wp || !(v & PTE_P) || !(v & (PTE_W | PTE_IW)))
		return v;
	v |= PTE_IW;
	return v & PTE_KEY ? v | PTE_W : v & ~PTE_W;
}

/* Give every 4 KiB page its own PTE before changing any, so a failure to
 * find table memory leaves the protections as they were. */
static int
ensure_small(uint64_t base, uint64_t size)
{
	for (uint64_t va = base; va < base + size; va += PAGE)
		if (!pte_for(va, 1))
			return PB_ENOMEM;
	return PB_OK;
}

/* Forget stale translations of [base, base + size): page by page when
 * few, by reloading CR3 when many (SDM 3A §4.10.4.1). */
static void
flush_range(uint64_t base, uint64_t size)
{
	if (size / PAGE > 64) {
		write_cr3(read_cr3());
		return;
	}
	for (uint64_t va = base; va < base + size; va += PAGE)
		invlpg(va);
}

/* Set leaf flags (everything but the address) on identity-mapped pages.
 * Returns whether some page changed away from write-back. */
static int
set_pages(uint64_t base, uint64_t size, uint64_t flags)
{
	int uncached = 0;

	for (uint64_t va = base; va < base + size; va += PAGE) {
		pte_t *pte = pte_for(va, 0);

		if (!pte)
			continue;	/* ensure_small ran: cannot happen */
		if ((*pte & PTE_P) && !(*pte & CACHE_MASK) &&
		    (flags & CACHE_MASK))
			uncached = 1;
		*pte = leaf(va | flags);
	}
	flush_range(base, size);
	return uncached;
}

static uint64_t
prot_flags(int prot)
{
	uint64_t f = PTE_P | CACHE_WB;

	if (prot & PE_PROT_W)
		f |= PTE_W;
	if (!(prot & PE_PROT_X))
		f |= nx;
	return f;
}

/* The protection of the image page at rva: its section's, or read-only
 * for headers and the gaps between sections. */
static int
page_prot(const struct pe_image *img, uint64_t rva)
{
	for (uint32_t i = 0; i < img->nsections; i++) {
		const struct pe_section *s = &img->sections[i];

		if (rva >= s->rva && rva < s->rva + page_up(s->vsize))
			return s->prot;
	}
	return PE_PROT_R;
}

/*
 * Each page gets its final protection in one write, so an image that is
 * already running (re-protected after the switch to our tables) never
 * sees its code non-executable for a moment.
 */
static int
protect_image(uint64_t base, const struct pe_image *img)
{
	uint64_t size = page_up(img->image_size);
	int err;

	if ((base & (PAGE - 1)) || !size || base + size < base)
		return PB_EINVAL;
	for (uint32_t i = 0; i < img->nsections; i++) {
		const struct pe_section *s = &img->sections[i];

		if ((s->prot & PE_PROT_W) && (s->prot & PE_PROT_X))
			return PB_EINVAL;	/* W^X */
		if ((s->rva & (PAGE - 1)) || (uint64_t)s->rva + s->vsize > size)
			return PB_EINVAL;
	}
	if ((err = ensure_small(base, size)))
		return err;
	/* The protection key stays: it says whose the pages are.  A
	 * module's header page is the pool's again (module.c): untouched. */
	for (uint64_t off = page_up(img->headers_size); off < size;
	    off += PAGE) {
		pte_t *pte = pte_for(base + off, 0);

		*pte = leaf((*pte & PTE_KEY) | (base + off) |
		    prot_flags(page_prot(img, off)));
	}
	flush_range(base, size);
	return PB_OK;
}

/* --- what the firmware phase asked for ---------------------------------- */

/*
 * Before arch_paging_init the firmware's tables stay, so images and MMIO
 * mapped then are only remembered, and arch_paging_init applies them to the
 * new tables: a module loaded or a framebuffer mapped in the firmware phase
 * keeps working across the switch.
 */
struct early_image {
	uint64_t base;			/* 0: unused */
	uint32_t size, nsections, headers_size;
	struct pe_section sections[PE_MAX_SECTIONS];
};

struct early_mmio {
	uint64_t start, end;		/* end 0: unused */
	int cache;
};

#define EARLY_MMIO 64
static struct early_image early_images[MAX_MODULES];
static struct early_mmio early_mmios[EARLY_MMIO];

static int
early_image_add(uint64_t base, const struct pe_image *img)
{
	struct early_image *e = NULL;

	/* The same image mapped again replaces its record. */
	for (unsigned i = 0; i < MAX_MODULES && !e; i++)
		if (early_images[i].base == base)
			e = &early_images[i];
	for (unsigned i = 0; i < MAX_MODULES && !e; i++)
		if (!early_images[i].base)
			e = &early_images[i];
	if (!e)
		return PB_ENOMEM;
	e->base = base;
	e->size = img->image_size;
	e->headers_size = img->headers_size;
	e->nsections = img->nsections;
	memcpy(e->sections, img->sections, sizeof(e->sections));
	return PB_OK;
}

/* The image holding base (its start, or past its header). */
static void
early_image_remove(uint64_t base)
{
	for (unsigned i = 0; i < MAX_MODULES; i++)
		if (early_images[i].base &&
		    base - early_images[i].base < early_images[i].size)
			early_images[i].base = 0;
}

static int
early_mmio_add(uint64_t start, uint64_t end, int cache)
{
	for (unsigned i = 0; i < EARLY_MMIO; i++) {
		struct early_mmio *e = &early_mmios[i];

		if (e->end)
			continue;
		*e = (struct early_mmio){ start, end, cache };
		return PB_OK;
	}
	return PB_ENOMEM;
}

static void
early_mmio_remove(uint64_t start)
{
	for (unsigned i = 0; i < EARLY_MMIO; i++)
		if (early_mmios[i].start == start)
			early_mmios[i].end = 0;
}

static int map_mmio_now(uint64_t start, uint64_t end, int cache);
static int map_range(uint64_t pa, uint64_t end, uint64_t flags, int *uncached);

/* Called with our tables built but not loaded. */
static int
apply_early(void)
{
	struct pe_image img;
	int err;

	for (unsigned i = 0; i < MAX_MODULES; i++) {
		const struct early_image *e = &early_images[i];

		if (!e->base)
			continue;
		memset(&img, 0, sizeof(img));
		img.image_size = e->size;
		img.headers_size = e->headers_size;
		img.nsections = e->nsections;
		memcpy(img.sections, e->sections, sizeof(img.sections));
		if ((err = protect_image(e->base, &img)))
			return err;
	}
	for (unsigned i = 0; i < EARLY_MMIO; i++) {
		const struct early_mmio *e = &early_mmios[i];

		if (e->end && e->end <= phys_limit &&
		    (err = map_mmio_now(e->start, e->end, e->cache)))
			return err;
	}
	return PB_OK;
}

/*
 * The firmware's page-table pages may be read-only to it (EDK2 protects
 * them when its memory protections are on, and lifts CR0.WP itself to
 * change them): ours edits run the same way, with interrupts held.
 */
static uint64_t fw_cr0, fw_irq;

static void
fw_open(void)
{
	fw_irq = cpu_irq_save();
	fw_cr0 = read_cr0();
	write_cr0(fw_cr0 & ~CR0_WP);
}

static void
fw_close(void)
{
	write_cr0(fw_cr0);
	cpu_irq_restore(fw_irq);
}

int
arch_map_image(uint64_t base, const struct pe_image *img)
{
	int err;

	if (paging_on)
		return protect_image(base, img);
	/* Remembered for our own tables, and applied to the firmware's
	 * now, before the module's first instruction runs. */
	if ((err = early_image_add(base, img)) || !paging_fw)
		return err;
	fw_open();
	err = protect_image(base, img);
	fw_close();
	if (err)
		early_image_remove(base);
	return err;
}

void
arch_unmap_image(uint64_t base, uint32_t size)
{
	if (!paging_on)
		early_image_remove(base);
	if ((!paging_on && !paging_fw) || (base & (PAGE - 1)) || !size)
		return;
	if (!paging_on)
		fw_open();
	/* ensure_small cannot fail: the image was mapped small. */
	if (!ensure_small(base, page_up(size)))
		set_pages(base, page_up(size), class_flags(CL_RAM));
	if (!paging_on)
		fw_close();
}

/* --- the hub's own image ------------------------------------------------ */

/* The hub's image per section, as the stub loaded it (handoff.h). */
static int
map_hub(const struct handoff *h)
{
	struct pe_image img;
	int err;

	memset(&img, 0, sizeof(img));
	img.image_size = (uint32_t)h->hub_size;
	img.nsections = h->hub_nsections;
	for (uint32_t i = 0; i < img.nsections && i < PE_MAX_SECTIONS; i++) {
		img.sections[i].rva = h->hub_sections[i].rva;
		img.sections[i].vsize = h->hub_sections[i].size;
		img.sections[i].prot = (int)h->hub_sections[i].prot;
	}
	err = img.nsections && img.nsections <= PE_MAX_SECTIONS ?
	    protect_image(h->hub_base, &img) : PB_EINVAL;
	if (err == PB_EINVAL) {
		log_event(LOG_ERROR, "paging: hub sections unknown or not "
		    "W^X; its image stays read-write-execute");
		return PB_OK;
	}
	return err;
}

/* The page at va not present from now on, a guard page (stacks.c too). */
int
arch_page_absent(uint64_t va)
{
	if (ensure_small(va, PAGE))
		return PB_ENOMEM;
	set_pages(va, PAGE, 0);
	return PB_OK;
}

/*
 * The lowest page of the hub's stack, which module code runs on too
 * (calls and interrupt handlers; the lower half of it, once split,
 * stacks.c), is made not present: a module that
 * recurses without end faults there, on the page-fault IST stack, and is
 * charged for it instead of overwriting what lies below.
 */
static void
guard_stack_bottom(const struct handoff *h)
{
	uint64_t va = h->stack_base;

	if (!h->stack_size || (va & (PAGE - 1)) || h->stack_size < 4 * PAGE ||
	    arch_page_absent(va)) {
		log_event(LOG_ERROR, "paging: no guard page under the stack");
		return;
	}
	hub_stack_guard = va;
	log_event(LOG_BOOT, "paging: stack 0x%llx-0x%llx, guard page at "
	    "its bottom", (unsigned long long)va,
	    (unsigned long long)(va + h->stack_size));
}

/* --- switching on ------------------------------------------------------- */

static void
wbinvd(void)
{
	__asm__ volatile("wbinvd" : : : "memory");
}

/* What the stub read of the CPU (efi/pagetables.c).  Without NX, bit 63
 * is reserved and must stay clear (SDM 3A §4.1.4). */
static void
cpu_from(const struct handoff *h)
{
	nx = h->cpu_nx;
	phys_limit = h->cpu_phys_limit;
	wc_ok = (int)h->cpu_pat;
}

/*
 * Make PAT entry 1 (PWT alone) write-combining (SDM 3A §11.12.2 "IA32_PAT
 * MSR").  Only MMIO mapped write-combining uses entry 1, and until now it
 * read as write-through: wbinvd and the CR3 reload after the write flush
 * lines and TLB entries of the old type (§11.12.4 "Programming the PAT").
 */
static void
pat_setup(void)
{
	uint64_t pat;

	if (!wc_ok)
		return;
	pat = rdmsr(MSR_PAT);
	pat = (pat & ~(0xffull << 8)) | (PAT_WC << 8);
	wrmsr(MSR_PAT, pat);
	wbinvd();
	write_cr3(read_cr3());
}

static int
load_tables(void)
{
	uint64_t cr3 = (uint64_t)(uintptr_t)pml4;
	uint64_t cr4 = read_cr4();

	if (cr4 & CR4_LA57) {
		struct ptable *pml5 = table_new();

		if (!pml5)
			return PB_ENOMEM;
		pml5->e[0] = cr3 | TABLE_FLAGS;
		cr3 = (uint64_t)(uintptr_t)pml5;
	}
	if (nx)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	write_cr3(cr3);
	/* Global entries survive a CR3 load; we have none, so turning PGE
	 * off flushes the firmware's (SDM 3A §4.10.4.1). */
	if (cr4 & CR4_PGE)
		write_cr4(cr4 & ~CR4_PGE);
	/* Make read-only pages read-only for ring 0 too (SDM 3A §4.6.1). */
	write_cr0(read_cr0() | CR0_WP);
	return PB_OK;
}

/* The stub's boot map (efi/pagetables.c), with the hub's image and what
 * the firmware phase mapped protected, becomes the CPU's. */
int
arch_paging_init(const struct handoff *h)
{
	int err;

	if (paging_on)
		return PB_OK;
	cpu_from(h);
	if (h->pt_pages > h->pt_used)	/* the boot map's spare pages */
		mem_add_range(h->pt_base + h->pt_used * PAGE,
		    (h->pt_pages - h->pt_used) * PAGE);
	if (!(pml4 = (struct ptable *)(uintptr_t)h->boot_pml4)) {
		log_event(LOG_ERROR, "paging: the stub built no boot map (%u "
		    "table pages set aside)", h->pt_pages);
		return PB_ENOMEM;
	}
	regions = h->boot_region_table;
	nregions = h->boot_regions;
	if (h->boot_regions_dropped)
		log_event(LOG_ERROR, "paging: memory map too long; %u regions "
		    "left out", h->boot_regions_dropped);
	if ((err = map_hub(h)) || (err = apply_early()) ||
	    (err = load_tables())) {
		log_event(LOG_ERROR, "paging: out of memory for page tables");
		return err;
	}
	paging_on = 1;
	pat_setup();
	guard_stack_bottom(h);
	domain_init(h);
	log_event(LOG_BOOT, "paging: identity map to 0x%llx, %u regions, "
	    "%u+%u tables; nx %s, write-combining %s",
	    (unsigned long long)h->boot_map_top, h->boot_regions, h->pt_used,
	    ntables, nx ? "on" : "unsupported",
	    wc_ok ? "via PAT" : "unsupported (UC)");
	return PB_OK;
}

/*
 * The firmware phase: W^X in the firmware's own tables (see the top of
 * this file).  Without NX there is nothing to enforce; with 5-level
 * paging, our identity map lies under the PML5's first entry.
 */
int
arch_paging_early(const struct handoff *h)
{
	int uncached = 0, err;

	domain_early(h);
	cpu_from(h);
	if (!nx) {
		log_event(LOG_ERROR, "paging: no NX; module data stays "
		    "executable");
		return PB_ENOTSUP;
	}
	pml4 = table_at(read_cr3());
	if (read_cr4() & CR4_LA57)
		pml4 = table_at(pml4->e[0]);
	if (!(rdmsr(MSR_EFER) & EFER_NXE))
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	fw_open();
	err = map_range(h->pool_base, h->pool_base + h->pool_size,
	    class_flags(CL_RAM), &uncached);
	if (!err)
		err = map_hub(h);
	fw_close();
	if (err) {
		log_event(LOG_ERROR, "paging: out of memory for the firmware's "
		    "tables; modules run without W^X until the takeover");
		return err;
	}
	paging_fw = 1;
	log_event(LOG_BOOT, "paging: W^X in the firmware's tables: pool "
	    "0x%llx-0x%llx RW+NX, images per section",
	    (unsigned long long)h->pool_base,
	    (unsigned long long)(h->pool_base + h->pool_size));
	return PB_OK;
}

/* --- MMIO --------------------------------------------------------------- */

static uint64_t
cache_flags(int cache)
{
	switch (cache) {
	case PB_CACHE_WB:
		return CACHE_WB;
	case PB_CACHE_WC:
		return wc_ok ? CACHE_WC : CACHE_UC;
	default:
		return CACHE_UC;
	}
}

/* A whole 2 MiB chunk not already split into 4 KiB pages: one big page. */
static int
map_big(uint64_t pa, uint64_t flags, int *uncached)
{
	pte_t *pde = pde_for(pa, 1);

	if (!pde)
		return PB_ENOMEM;
	if ((*pde & PTE_P) && !(*pde & PTE_PS))
		return PB_EAGAIN;	/* a table: go page by page */
	if ((*pde & PTE_P) && !(*pde & CACHE_MASK) && (flags & CACHE_MASK))
		*uncached = 1;
	*pde = leaf(pa | PTE_PS | flags);
	invlpg(pa);
	return PB_OK;
}

/* Map [pa, end) with flags, in big pages where whole chunks allow. */
static int
map_range(uint64_t pa, uint64_t end, uint64_t flags, int *uncached)
{
	int err;

	while (pa < end) {
		if (!(pa & (BIG - 1)) && end - pa >= BIG) {
			err = map_big(pa, flags, uncached);
			if (err == PB_OK) {
				pa += BIG;
				continue;
			}
			if (err != PB_EAGAIN)
				return err;
		}
		if ((err = ensure_small(pa, PAGE)))
			return err;
		*uncached |= set_pages(pa, PAGE, flags);
		pa += PAGE;
	}
	return PB_OK;
}

/*
 * Device pages get the cache type asked for, read-write, no-execute.  RAM
 * of the boot map is left as it is: it is mapped already, and remapping
 * it would let a module make an image's read-only or code pages writable.
 */
static int
map_mmio_now(uint64_t start, uint64_t end, int cache)
{
	uint64_t flags = PTE_P | PTE_W | nx | cache_flags(cache), run_end;
	int uncached = 0, err = PB_OK;

	for (uint64_t pa = start; pa < end && !err; pa = run_end) {
		int cls = class_at(pa, &run_end);

		if (run_end > end)
			run_end = end;
		if (cls != CL_RAM && cls != CL_EXEC)
			err = map_range(pa, run_end, flags, &uncached);
	}
	/* Lines cached through a write-back mapping must not outlive it. */
	if (uncached)
		wbinvd();
	return err;
}

/* RAM is identity mapped and devices see physical addresses: no IOMMU
 * is set up, so the bus address is the physical one. */
uint64_t
arch_bus_addr(uint64_t pa)
{
	return pa;
}

void *
arch_map_mmio(uint64_t phys, size_t len, int cache)
{
	uint64_t start = phys & ~(PAGE - 1), end = page_up(phys + len);

	if (!len || end <= start)
		return NULL;
	if (!paging_on) {
		/* The firmware's tables map its whole address space with
		 * its cache types; ours take over at arch_paging_init. */
		return early_mmio_add(start, end, cache) ? NULL :
		    (void *)(uintptr_t)phys;
	}
	if (end > phys_limit || map_mmio_now(start, end, cache))
		return NULL;
	return (void *)(uintptr_t)phys;
}

/* Unmap the page at pa, or the whole big page there if it lies outside
 * the boot map and inside [pa, end); returns how far that reached. */
static uint64_t
unmap_page(uint64_t pa, uint64_t end)
{
	pte_t *pde = pde_for(pa, 0), *pte;

	if (!pde || !(*pde & PTE_P))
		return pa + PAGE;
	if ((*pde & PTE_PS) && !(pa & (BIG - 1)) && end - pa >= BIG) {
		*pde = 0;
		invlpg(pa);
		return pa + BIG;
	}
	if ((pte = pte_for(pa, 1))) {
		*pte = 0;
		invlpg(pa);
	}
	return pa + PAGE;
}

/* Pages outside the boot map go; device pages of the boot map return to
 * uncached; RAM was never touched. */
void
arch_unmap_mmio(void *va, size_t len)
{
	uint64_t start = (uint64_t)(uintptr_t)va & ~(PAGE - 1);
	uint64_t end = page_up((uint64_t)(uintptr_t)va + len), run_end;
	int uncached = 0;

	if (end <= start)
		return;
	if (!paging_on) {
		early_mmio_remove(start);
		return;
	}
	for (uint64_t pa = start; pa < end; pa = run_end) {
		int cls = class_at(pa, &run_end);
		uint64_t p = pa;

		if (run_end > end)
			run_end = end;
		if (cls == CL_UC)
			map_range(pa, run_end, class_flags(CL_UC), &uncached);
		else if (cls == CL_NONE)
			while (p < run_end)
				p = unmap_page(p, run_end);
	}
}

/*
 * Give [base, base + size) protection key `key` (domain.c), changing
 * nothing else but, with domains by CR0.WP, the write bit the key implies
 * (leaf): a whole 2 MiB page at once, else page by page.  Only with our
 * tables loaded; pages not mapped keep no key.
 */
int
arch_set_key(uint64_t base, uint64_t size, unsigned key)
{
	uint64_t k = (uint64_t)key << 59, va = base & ~(PAGE - 1);
	uint64_t start = va, end = page_up(base + size);
	int err = PB_OK;

	if (!paging_on)
		return PB_EINVAL;
	while (va < end) {
		pte_t *pde = pde_for(va, 0), *pte;

		if (!pde || !(*pde & PTE_P)) {
			va = (va | (BIG - 1)) + 1;
			continue;
		}
		if ((*pde & PTE_PS) && !(va & (BIG - 1)) && end - va >= BIG) {
			*pde = leaf((*pde & ~PTE_KEY) | k);
			va += BIG;
			continue;
		}
		if (!(pte = pte_for(va, 1))) {
			err = PB_ENOMEM;
			break;
		}
		*pte = leaf((*pte & ~PTE_KEY) | k);
		va += PAGE;
	}
	/* Once, after the walk: the walk's own table reads then hit the
	 * TLB (an emulator's invlpg may flush it all). */
	flush_range(start, (va < end ? va : end) - start);
	return err;
}

/* Every leaf through leaf() (domain.c, wp_init): from now on the hub's
 * pages are writable only with CR0.WP clear.  Tables are always present
 * down to where the walk stops; 1 GiB and 2 MiB leaves are leaves too. */
static void
wp_table(struct ptable *t, int level)
{
	for (unsigned i = 0; i < ENTRIES; i++) {
		pte_t *e = &t->e[i];

		if (!(*e & PTE_P))
			continue;
		if (level == 1 || (level < 4 && (*e & PTE_PS)))
			*e = leaf(*e);
		else
			wp_table(table_at(*e), level - 1);
	}
}

void
arch_paging_wp(void)
{
	wp = 1;
	wp_table(pml4, 4);
	write_cr3(read_cr3());
}

/* The protection key of the page holding va (domain.c); -1: not mapped. */
int
arch_get_key(uint64_t va)
{
	pte_t *pde, *pte;

	if (!paging_on || !(pde = pde_for(va, 0)) || !(*pde & PTE_P))
		return -1;
	if (*pde & PTE_PS)
		return (int)((*pde & PTE_KEY) >> 59);
	pte = pte_for(va, 0);
	return pte && (*pte & PTE_P) ? (int)((*pte & PTE_KEY) >> 59) : -1;
}

/* The protection key of the page holding va if it is present and meant
 * to be writable (W, or PTE_IW where the hub's pages lost W: leaf);
 * -1: not (domain.c). */
int
arch_write_key(uint64_t va)
{
	pte_t *pde, *pte;

	if (!paging_on || !(pde = pde_for(va, 0)) || !(*pde & PTE_P) ||
	    !(*pde & (PTE_W | PTE_IW)))
		return -1;
	if (*pde & PTE_PS)
		return (int)((*pde & PTE_KEY) >> 59);
	pte = pte_for(va, 0);
	return pte && (*pte & PTE_P) && (*pte & (PTE_W | PTE_IW)) ?
	    (int)((*pte & PTE_KEY) >> 59) : -1;
}

/* --- queries ------------------------------------------------------------ */

/*
 * Is va mapped and executable in the tables CR3 points at (ours or the
 * firmware's)?  Only if no level sets XD (SDM 3A §4.6 "Access Rights").
 */
int
arch_addr_executable(uint64_t va)
{
	uint64_t e = read_cr3() & PTE_ADDR;
	int levels = read_cr4() & CR4_LA57 ? 5 : 4;
	int nxe = (rdmsr(MSR_EFER) & EFER_NXE) != 0, x = 1;

	for (int lvl = levels; lvl >= 1; lvl--) {
		const struct ptable *t = (const void *)(uintptr_t)(e & PTE_ADDR);

		e = t->e[(va >> (12 + 9 * (lvl - 1))) & 511];
		if (!(e & PTE_P))
			return 0;
		if (nxe && (e & PTE_NX))
			x = 0;
		if (lvl == 1 || ((lvl == 2 || lvl == 3) && (e & PTE_PS)))
			break;
	}
	return x;
}
