/*
 * grant.c - pages a provider may write because a client handed them to it
 * (domain.c explains grants): the ring of handed pointers and the #PF
 * handler's check.
 */
#include "arch.h"
#include "cpu.h"
#include "domain.h"
#include "../hub.h"

#define GRANT_SPAN 4096u	/* a noted pointer's reach outside the ledger */

int arch_set_key(uint64_t base, uint64_t size, unsigned key);
int arch_get_key(uint64_t va);

/* The ring of pointers handed to providers (guard.S, conngate.S). */
struct grant_note {
	const struct pb_module *provider;
	uint64_t arg[3];
};
_Static_assert(sizeof(struct grant_note) == 1 << GRANT_NOTE_SHIFT,
    "conngate.S");
extern struct grant_note grant_notes[GRANT_NOTES];
extern uint32_t grant_next;
extern uint8_t domain_on;

static unsigned grants;
static uint16_t told[16];	/* told[writer key]: page keys logged */

/* A note the hub makes (a request the block shadow or the park passes
 * on, a swap's state blob): one pointer for provider. */
void
arch_grant_note(const struct pb_module *provider, const void *p)
{
	struct grant_note *n;

	if (!domain_on || !provider)
		return;
	n = &grant_notes[grant_next++ % GRANT_NOTES];
	*n = (struct grant_note){ provider, { (uint64_t)(uintptr_t)p } };
}

/* A swap's state blob goes to m (import_state): the requests it lists
 * are m's to complete now, so each word that points into the ledger is
 * noted for m, at most half the ring's worth. */
void
arch_grant_blob(const struct pb_module *m, const void *buf, size_t len)
{
	const uint64_t *w = buf;
	unsigned noted = 0;
	uint64_t end;

	if (!domain_on || !buf || ((uintptr_t)buf & 7))
		return;
	for (size_t i = 0; i < len / 8 && noted < GRANT_NOTES / 2; i++)
		if (w[i] && mem_kind_at(w[i], &end) >= 0) {
			arch_grant_note(m, (const void *)(uintptr_t)w[i]);
			noted++;
		}
}

/* Does the object at p reach addr: the rest of the ledger record p lies
 * in (a heap block, pages, a DMA buffer, the image), or GRANT_SPAN when
 * no record holds p (the stack)? */
static int
grant_reaches(uint64_t p, uint64_t addr)
{
	uint64_t end;

	if (!p || addr < p)
		return 0;
	if (mem_kind_at(p, &end) < 0)
		end = p + GRANT_SPAN;
	return addr < end;
}

/* Was a pointer to an object that holds addr noted for provider? */
static int
grant_noted(const struct pb_module *provider, uint64_t addr)
{
	for (unsigned i = 0; i < GRANT_NOTES; i++) {
		const struct grant_note *n = &grant_notes[i];

		if (n->provider != provider)
			continue;
		for (unsigned j = 0; j < 3; j++)
			if (grant_reaches(n->arg[j], addr))
				return 1;
	}
	return 0;
}

/* Is addr in the heap, pages or DMA of a module with `key` that writer
 * serves?  Requests and their buffers live there; image data never. */
static int
grant_served(const struct pb_module *writer, uint64_t addr, int key)
{
	uint64_t end;
	int kind = mem_kind_at(addr, &end);

	if (kind != MEM_KIND_PAGES && kind != MEM_KIND_HEAP &&
	    kind != MEM_KIND_DMA)
		return 0;
	for (unsigned i = 0; i < nmodules; i++)
		if (modules[i].key == key && modules[i].state != MOD_UNLOADED &&
		    modules[i].state != MOD_REPLACED &&
		    mod_serves(writer, &modules[i], 3))
			return 1;
	return 0;
}

/*
 * From the #PF handler, before anything is charged: a protection-key
 * write of module `writer` (the innermost guard's owner) on another
 * module's page that a client handed it, or on a served module's heap,
 * pages or DMA (grant_served); or a module's own page written by its
 * code running in another's domain: the clock hook, which the hub calls
 * from now_ns as a guarded call of the clock's module but in the
 * caller's domain (guardhook.S), and the code of a module reached from
 * another's call.  The page gets key 15 and the write runs again (1);
 * anything else is a fault (0).
 */
int
domain_grant(uint64_t addr, uint64_t rip, uint64_t err,
    struct pb_module *writer)
{
	struct pb_module *code;
	int key;

	if (!domain_on || !writer || (err & 0x22) != 0x22)
		return 0;		/* not a protection-key write */
	key = arch_get_key(addr);
	if (key < KEY_FIRST || key > KEY_LAST)
		return 0;
	code = hub_module_at(rip);
	/* A module's own code writing its own page faults only outside its
	 * domain (a hook, or another's call): its page is shared. */
	if (!(code && code->key == key) && (key == writer->key ||
	    (!grant_noted(writer, addr) && !grant_served(writer, addr, key))))
		return 0;
	arch_set_key(addr & ~4095ull, 4096, KEY_SHARED);
	grants++;
	/* One line per writer's key and page's key, into the ring only
	 * (`log` shows it): a grant is routine, comes at a provider's first
	 * write into a request, and a shown line would land in the middle
	 * of the command's output that made it. */
	if (!(told[writer->key & 15] & (1u << key))) {
		told[writer->key & 15] |= (uint16_t)(1u << key);
		log_quiet(LOG_LOAD, "domains: page 0x%llx (key %d) shared: "
		    "written by %s%s (%u pages)",
		    (unsigned long long)(addr & ~4095ull), key,
		    code && code->key == key ? code->name : writer->name,
		    code && code->key == key ? "'s code in another's domain" :
		    ", a provider of its owner", grants);
	}
	return 1;
}
