/*
 * domain.c - protection domains: while a module runs, the hub's memory
 * and other modules' memory are read-only to it.
 *
 * Mechanism: supervisor protection keys (PKS; SDM 3A §4.6.2 "Protection
 * Keys", CPUID.(EAX=7,ECX=0):ECX[31], CR4.PKS bit 24, IA32_PKRS MSR
 * 0x6e1).  Every page carries a key in PTE bits 62:59; IA32_PKRS holds,
 * for each of the 16 keys, access-disable (bit 2k) and write-disable
 * (bit 2k+1) for supervisor data accesses.  A switch is one WRMSR, with
 * one set of page tables for everything; per-module tables would cost a
 * CR3 load (and, without PCID, a TLB flush) per switch and a copy of
 * every mapping change in every table.  Keys do not cover instruction
 * fetches (W^X does) and a module running in ring 0 could change IA32_PKRS
 * itself: like Nooks, domains stop mistakes, not malice.
 *
 * Without PKS (many PCs), or with isolate=wp, the fallback is the pages'
 * write bit and CR0.WP (wp_init below): the hub's memory is read-only to
 * modules all the same, but every module may write every module's.  And
 * what runs in the hub's domain runs with CR0.WP clear, read-only pages
 * and code writable to it: the hub, and the hooks below it calls there.
 *
 * Keys (hub.h, keys.c picks the modules'):
 *   0      the hub: its image (.data, .bss: module table, ledger,
 *          connections, work queue, log, page tables), free memory, and
 *          everything not listed below
 *   1..14  one per module (shared when there are more modules, keys.c):
 *          its image, pages, heap, DMA buffers and MMIO mappings
 *   15     what every module writes: the stack they run on (the lower
 *          half of the hub's: the hub's own frames are on the upper
 *          half, key 0, stacks.c) and the IST stacks the CPU pushes
 *          onto when an interrupt cuts into them;
 *          the guard pages, whose slots and their count connection
 *          gates fill in the client's domain (each sealed and kept
 *          twice, so a stray write there is found and outlived:
 *          guardseal.c); the hub's
 *          heap buffers it hands modules to fill (export_state,
 *          images); MMIO pages two modules map; the
 *          block and fs shadow's notes of requests in flight (shadow.c);
 *          and the pages granted to providers (below)
 * Domains (IA32_PKRS values): the hub's is 0, every key writable; a
 * module's makes every key but its own and 15 read-only.  The hub switches
 * to a module's domain at every guarded call (guard.S) and back on return
 * or unwind; its services switch back to the hub's on entry (svcgate.S),
 * and interrupts and exceptions run in it (isr.S, domain.h).
 *
 * Grants: a provider writes what its client hands it for a request (a
 * block_req's status and scratch, a usb_req's, an info struct).  Each
 * gated call notes its provider and the client's pointer arguments (RDX,
 * R8, R9) in a ring on the guard page (conngate.S); the hub notes each
 * block request its shadow or park passes on, and the requests a swap's
 * state blob lists for the module importing it (grant.c).  When a
 * provider's write faults on a module's key after a pointer noted for it,
 * within the ledger record the pointer lies in (a heap block, pages, a DMA
 * buffer, the image; 4 KiB off the ledger), or anywhere in the heap,
 * pages and DMA buffers of a module it serves (directly or through its
 * clients: the buffers a request points to), the page is granted: it
 * gets key 15 and the write runs again (domain_grant, from the #PF
 * handler, grant.c).  A client's image data is never granted unless
 * handed.  A page granted stays shared until it is freed: taking it back
 * at each completion would cost a fault per request (tens of microseconds
 * under TCG), and a client's requests are few pages it reuses.  A write
 * anywhere else in another module's memory is a fault charged to the
 * writer.
 *
 * Not isolated: modules sharing a key, or a granted page, from each
 * other; the modules' half of the stack and the guard page from
 * modules; code the hub runs reached from a module through other
 * pointers than the services table and the gates below (firmware-rt's
 * ops, the stub's code), which takes the hub's domain on its first write
 * and keeps it until the module's call ends (DOMAIN_HUB_RETRY); the block
 * and fs shadow's submit and completion, which run in the client's
 * domain and write only its notes (shadow.c; it calls the provider as a
 * guarded call of its own); now_ns,
 * work_post, dma_addr and work_init, which run in the caller's domain and
 * write nothing of the hub's but struct hub_shared on the guard page (the
 * sealed watch over the clock hook now_ns runs, the ring of posted
 * items: hub.h; what the hub believes of it: shared.c); the clock and
 * end-of-interrupt hooks, which the hub calls
 * guarded but in its own domain (guardhook.S; the clock's pages written
 * in the caller's domain of now_ns are shared on their first write);
 * everything before the takeover (the firmware's tables carry no keys,
 * and firmware code runs on modules' calls).  Ring 0 code can rewrite
 * IA32_PKRS and the note ring: domains stop mistakes, not malice.
 *
 * Cost: IA32_PKRS is written only when its value changes, but a call from
 * one module into another with a key of its own changes it twice.  Under
 * QEMU's TCG every write flushes the whole TLB: measured, such a call
 * takes 5-10 us against about 75 ns with one key for all modules
 * (isolate=hub) and 15-45 ns for a plain indirect call.  On hardware a
 * WRMSR to IA32_PKRS does not flush the TLB.  So switches are cut where
 * the work allows: the services above run in the caller's domain, a
 * module's work items run back to back under one guarded call (work.c),
 * an interrupt handler registered PB_IRQ_ON_LOOP runs in one such call
 * with the work it posts (ahci), and fbcon draws a row per display call.
 *
 * Connections between modules are gated (conngate.S): a client's call
 * into its provider runs as a guarded call of the provider's, in the
 * provider's domain, so a fault there is the provider's, not the
 * client's.  A connection is gated when a module is the client, another
 * module the provider, and the first slot of the ops table is code of the
 * provider's (a resource whose "ops" is data, such as a framebuffer's
 * description, stays as it is), and not when the hub wraps it itself (a
 * block connection through hub/shadow.c, which calls the provider
 * guarded).  The provider hears of a client that goes through a copy of
 * the connection as it was (arch_conn_ungate), so it finds its own ops
 * and instance there.  A connection to a resource of the hub's own whose
 * ops are the hub's code (log:hub, the ramdisk) is gated too, into the
 * hub's domain as a service is (svcgate.S), and back out on return.
 *
 * `isolate=no` in boot.cfg turns both off; a CPU without PKS keeps the
 * gates and takes the CR0.WP domains (wp_init; one log line says which).
 * `isolate=hub` keeps the hub's memory from modules but gives every module
 * key 1, as before per-module keys: a call from one module to another then
 * writes IA32_PKRS not at all (the cheaper level, for comparison).
 */
#include "arch.h"
#include "cpu.h"
#include "domain.h"
#include "watch.h"
#include "../hub.h"
#include "../cfg.h"
#include "../../abi/rt/rt.h"

#define CR4_PKS (1ull << 24)
#define WD(key) (2u << (2 * (key)))
/* Module key k's domain: write-disable on every key but k and 15. */
#define PKRS_OF(k) (0xaaaaaaaau & ~WD(k) & ~WD(KEY_SHARED))

int arch_set_key(uint64_t base, uint64_t size, unsigned key);
int arch_get_key(uint64_t va);
int arch_write_key(uint64_t va);
void arch_paging_wp(void);
extern const uint8_t domain_svc_stubs[], conn_gate_stubs[], hub_gate_stubs[],
    hub_text_end[];

uint8_t domain_on;			/* read by the assembly paths */
uint8_t domain_wp;			/* domains by CR0.WP: wp_init */
uint32_t domain_wp_value = PKRS_OF(KEY_SHARED);	/* DOMAIN_READ's for
						 * a module's (CR0.WP set) */
/* IA32_PKRS per key (conngate.S reads it by the provider's key); a
 * module without a key yet may write only key 15. */
uint32_t domain_key_pkrs[KEYS] = {
	PKRS_OF(KEY_SHARED), PKRS_OF(1), PKRS_OF(2), PKRS_OF(3), PKRS_OF(4),
	PKRS_OF(5), PKRS_OF(6), PKRS_OF(7), PKRS_OF(8), PKRS_OF(9),
	PKRS_OF(10), PKRS_OF(11), PKRS_OF(12), PKRS_OF(13), PKRS_OF(14),
	PKRS_OF(15),
};
static int gates_on, isolate_no, tables_ready;
static int force_wp;		/* isolate=wp: CR0.WP even with PKS */
static int one_key;		/* isolate=hub: modules share key 1 */
static const void *gate_ops[CONN_GATE_SLOTS];
static const void *hub_gate_ops[CONN_GATE_SLOTS];	/* svcgate.S */
uint64_t domain_hub_lo, domain_hub_hi;	/* the hub's code (domain.h) */
static struct pb_hub services_dom, services_dom_11;

#define NSVC ((sizeof(struct pb_hub) - offsetof(struct pb_hub, log)) / 8)
_Static_assert(offsetof(struct pb_hub, log) == 8, "stub offsets (svcgate.S)");
_Static_assert(NSVC <= DOMAIN_NSVC, "a stub for every service (domain.h)");
_Static_assert(offsetof(struct conn, res) == CONN_RES, "conngate.S");
_Static_assert(offsetof(struct pb_resource, ops) == RES_OPS, "conngate.S");
_Static_assert(offsetof(struct pb_resource, ctx) == RES_CTX, "conngate.S");
_Static_assert(offsetof(struct pb_resource, owner) == RES_OWNER,
    "conngate.S");
_Static_assert(offsetof(struct pb_module, key) == MOD_KEY, "conngate.S");
_Static_assert(offsetof(struct pb_module, fault_pending) ==
    MOD_FAULT_PENDING, "conngate.S");
_Static_assert(sizeof(struct hub_shared) == HUB_SHARED_SIZE,
    "guard.S reserves it");

/* The domain the CPU is in, and a switch to d, as domain.h's DOMAIN_READ
 * and PKRS_SET do it. */
static uint32_t
domain_read(void)
{
	if (domain_wp)
		return read_cr0() & CR0_WP ? domain_wp_value : 0;
	return (uint32_t)rdmsr(MSR_PKRS);
}

static void
domain_write(uint32_t d)
{
	uint64_t cr0;

	if (!domain_wp) {
		wrmsr(MSR_PKRS, d);
		return;
	}
	cr0 = read_cr0() & ~CR0_WP;
	write_cr0(d ? cr0 | CR0_WP : cr0);
}

/* The key m's pages carry (keys.c picks it; isolate=hub: one for all). */
static unsigned
module_key(const struct pb_module *m)
{
	return one_key ? KEY_FIRST : hub_key_of((struct pb_module *)m);
}

uint32_t
arch_domain_of(const struct pb_module *m)
{
	if (!domain_on || !m)
		return 0;
	return domain_key_pkrs[module_key(m)];
}

/*
 * Could m's own code write [addr, addr + len), in its domain?  Every page
 * present, writable, and of a key m's domain leaves writable: its own or
 * the shared one (argcheck.c, for the services that write through a
 * module's pointer in the hub's domain).  A page m could have been
 * granted on its first write is not: a service's output is the caller's
 * own.  Domains off, or no module: yes, as for the module itself then.
 */
int
arch_may_write(const struct pb_module *m, uint64_t addr, size_t len)
{
	unsigned own;
	uint32_t pkrs;
	int key;

	if (!domain_on || !m)
		return 1;
	/* The keys' rule, also where CR0.WP alone cannot tell modules apart
	 * (domain_wp): a module's outputs are its own. */
	own = module_key(m);
	pkrs = PKRS_OF(own ? own : KEY_SHARED);
	if (addr + len < addr)
		return 0;
	for (uint64_t va = addr & ~4095ull; va < addr + len; va += 4096)
		if ((key = arch_write_key(va)) < 0 || (pkrs & WD(key)))
			return 0;
	return 1;
}

/* The innermost guarded call goes on with m's code (work.c: a batch that
 * runs the next module's posted item): the slot names m first, so a fault
 * from then on is m's, then m's domain is taken, with one IA32_PKRS write
 * from the running module's (the hub's is not passed through).  Runs in
 * the running module's domain: the slot is on the guard page. */
void
arch_guard_retarget(struct pb_module *m)
{
	guard_set_owner(m);
	arch_domain_enter(m);
}

void
arch_domain_enter(const struct pb_module *m)
{
	uint32_t d = arch_domain_of(m);

	if (domain_on && domain_read() != d)
		domain_write(d);
}

/* A module's record: its key; the hub's buffers for modules and MMIO
 * pages two modules map (mem.c says owner NULL): key 15. */
void
arch_mem_domain(uint64_t base, uint64_t npages, int modules,
    struct pb_module *owner)
{
	unsigned key = !modules ? KEY_HUB : !owner ? KEY_SHARED :
	    module_key(owner);

	if (domain_on)
		arch_set_key(base, npages * 4096, key);
}

/* Services that write nothing of the hub's but struct hub_shared (and
 * what the caller hands them, in its own domain), called on every I/O:
 * they run in the caller's domain, saving two IA32_PKRS writes (two TLB
 * flushes under TCG) each.  Their error paths log, which takes the hub's
 * domain (DOMAIN_HUB_RETRY). */
static int
svc_in_callers_domain(const struct pb_hub *t, const void *slot)
{
	return slot == (const void *)&t->now_ns ||
	    slot == (const void *)&t->work_post ||
	    slot == (const void *)&t->dma_addr ||
	    slot == (const void *)&t->work_init ||
	    slot == (const void *)&t->vformat;
}

/*
 * A copy of `real` whose services enter the hub's domain: a slot that
 * holds the same service as hub_services gets its stub (which calls
 * hub_services' slot); one that differs (the 1.1 table's inventory, which
 * writes only the caller's struct) stays as it is, and so do the services
 * above.
 */
static void
wrap_services(struct pb_hub *dst, const struct pb_hub *real)
{
	const void *const *base = (const void *const *)&hub_services.log;
	const void *const *src = (const void *const *)&real->log;
	const void **out = (const void **)&dst->log;

	*dst = *real;
	for (size_t i = 0; i < NSVC; i++)
		if (src[i] && src[i] == base[i] &&
		    !svc_in_callers_domain(dst, &out[i]))
			out[i] = domain_svc_stubs + i * DOMAIN_SVC_STUB;
}

/* Modules get the wrapped table from the start, the firmware phase too
 * (its stubs go straight to the service until domains are on), so one
 * started before the takeover enters the hub's domain like the rest. */
const struct pb_hub *
arch_domain_services(const struct pb_hub *real)
{
	if (!tables_ready)
		return real;
	return real == &hub_services_11 ? &services_dom_11 : &services_dom;
}

/* Called whenever c is pointed at a resource (res.c, conn_rebind). */
void
arch_conn_gate(struct conn *c)
{
	const struct pb_resource *r = c->res;
	uint64_t first;

	/* A connection the hub wraps itself (a block connection through
	 * hub/shadow.c) is left alone: the hub calls the provider guarded. */
	if (!gates_on || !c->client || !r || r->owner == c->client ||
	    !r->ops || c->pub.ops != r->ops)
		return;
	memcpy(&first, r->ops, sizeof(first));
	if (!r->owner) {
		/* The hub's own resource: its ops run as services do
		 * (svcgate.S), if they are the hub's code. */
		if (first < domain_hub_lo || first >= domain_hub_hi)
			return;
		c->pub.ops = hub_gate_ops;
		c->pub.ctx = c;
		return;
	}
	if (hub_module_at(first) != r->owner || !arch_addr_executable(first))
		return;
	c->pub.ops = gate_ops;
	c->pub.ctx = c;
}

/* The provider's own view of c, for telling it that c's client goes. */
void
arch_conn_ungate(const struct conn *c, struct pb_conn *view)
{
	if (c->res && (view->ops == (const void *)gate_ops ||
	    view->ops == (const void *)hub_gate_ops)) {
		view->ops = c->res->ops;
		view->ctx = c->res->ctx;
	}
}

static void
gates_init(void)
{
	for (unsigned i = 0; i < CONN_GATE_SLOTS; i++) {
		gate_ops[i] = conn_gate_stubs + i * CONN_GATE_STUB;
		hub_gate_ops[i] = hub_gate_stubs + i * CONN_GATE_STUB;
	}
	gates_on = 1;
	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (conns[i].used)
			arch_conn_gate(&conns[i]);
}

static int
pks_present(void)
{
	uint32_t r[4];

	cpuid(0, 0, r);
	if (r[0] < 7)
		return 0;
	cpuid(7, 0, r);
	return (r[2] >> 31) & 1;
}

/*
 * Domains without supervisor protection keys (many PCs: PKS is recent,
 * Intel's Sapphire Rapids servers were the first).  Every page the hub
 * owns (key 0) loses its write bit, kept aside as intended (paging.c,
 * PTE_IW); modules' pages (keys 1 to 15) keep theirs.  The hub's domain
 * runs with CR0.WP clear, so ring 0 writes them all as before; a module's
 * runs with it set, so a write to the hub's memory faults (SDM 3A §4.6.1
 * "Determination of Access Rights").  One domain for all modules: they
 * are not kept from each other's memory, as with isolate=hub.  Every
 * module's domain is the same value, so a call from one to another
 * switches nothing.
 */
static void
wp_init(void)
{
	write_cr0(read_cr0() & ~CR0_WP);
	domain_wp = 1;
	arch_paging_wp();
	for (unsigned k = 0; k < KEYS; k++)
		domain_key_pkrs[k] = domain_wp_value;
}

/* Before any module runs (arch_paging_early): isolate=no, or the
 * services tables modules will be given. */
void
domain_early(const struct handoff *h)
{
	char v[8];

	if (cfg_get(h->cmdline, "isolate", v, sizeof(v))) {
		isolate_no = !strcmp(v, "no");
		one_key = !strcmp(v, "hub");
		force_wp = !strcmp(v, "wp");
		if (!isolate_no && !one_key && !force_wp && strcmp(v, "yes"))
			log_event(LOG_ERROR, "boot.cfg: isolate=%s is not yes, "
			    "no, hub or wp: isolation stays on", v);
	}
	if (isolate_no)
		return;
	wrap_services(&services_dom, &hub_services);
	wrap_services(&services_dom_11, &hub_services_11);
	tables_ready = 1;
}

/* Called once our page tables are loaded, before any module runs again. */
void
domain_init(const struct handoff *h)
{
	size_t book_len;
	void *book;

	if (isolate_no) {
		log_event(LOG_BOOT, "domains: off (isolate=no): modules may "
		    "write all memory; connections ungated");
		return;
	}
	domain_hub_lo = h->hub_base;
	domain_hub_hi = (uint64_t)(uintptr_t)hub_text_end;
	gates_init();
	if (pks_present() && !force_wp) {
		for (unsigned k = 0; one_key && k < KEYS; k++)
			domain_key_pkrs[k] = PKRS_OF(KEY_FIRST);
		wrmsr(MSR_PKRS, 0);
		write_cr4(read_cr4() | CR4_PKS);
	} else {
		wp_init();
	}
	guard_domains_on();
	domain_on = 1;
	mem_domains_apply();
	if (stacks_split(h))	/* module code on the stack's lower half */
		arch_set_key(h->stack_base, h->stack_size, KEY_SHARED);
	arch_set_key((uint64_t)(uintptr_t)ist_stacks, sizeof(ist_stacks),
	    KEY_SHARED);
	arch_set_key((uint64_t)(uintptr_t)guard_stack, GUARD_PAGES * 4096,
	    KEY_SHARED);
	book = shadow_book(&book_len);
	arch_set_key((uint64_t)(uintptr_t)book, book_len, KEY_SHARED);
	if (domain_wp)
		log_event(LOG_BOOT, "domains: on (page protection, CR0.WP; %s): "
		    "the hub's memory is read-only to modules, not each "
		    "module's to the others", force_wp ? "isolate=wp" :
		    "no supervisor protection keys");
	else
		log_event(LOG_BOOT, "domains: on (supervisor protection keys): "
		    "the hub's memory is read-only to modules, %s", one_key ?
		    "which share one key (isolate=hub)" : "each module's to "
		    "the others");
}
