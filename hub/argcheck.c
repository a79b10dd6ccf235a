/*
 * argcheck.c - what a module hands a hub service is checked before the
 * hub dereferences it.
 *
 * A pointer must lie in memory the hub knows: a module image, a page,
 * heap, image or DMA record of the ledger (anyone's: a client's request
 * buffer may reach a provider's service), or what the arch side vouches
 * for (the hub's own image, the stack module code runs on: locals).
 * NULL, page 0, freed memory, MMIO, firmware memory and wild addresses
 * fail.  A function pointer must lie in the caller's own image.  The cost
 * is one scan of the module table and at most one of the ledger's records
 * (MAX_ALLOCS, a few hundred in use) per pointer, and a bounded strnlen
 * per string; an output the hub writes for the module costs a walk of
 * the page tables too (hub_arg_writable).  A bad argument is logged once
 * per call, naming the module and the service, and answered PB_EFAULT.
 */
#include "hub.h"
#include "../abi/rt/rt.h"

/* Where the known region holding addr ends; 0 when none holds it. */
static uint64_t
known_end(uint64_t addr)
{
	struct pb_module *m = hub_module_at(addr);
	uint64_t end;

	if (addr < 4096)
		return 0;
	if (m)
		return m->base + m->size;
	if (mem_kind_at(addr, &end) >= 0)
		return end;
	return arch_ram_known(addr);
}

int
hub_arg_known(const void *p, size_t len)
{
	uint64_t a = (uint64_t)(uintptr_t)p, end = known_end(a);

	return end && a + len >= a && a + len <= end;
}

/*
 * An output the hub writes in its own domain for self: only memory self's
 * code could write itself (its own, the modules' stack, what it shares),
 * so no module can have a service write the hub's memory, another
 * module's, or its own code for it.
 */
int
hub_arg_writable(const struct pb_module *self, void *p, size_t len)
{
	return hub_arg_known(p, len) &&
	    arch_may_write(self, (uint64_t)(uintptr_t)p, len);
}

int
hub_out_ok(const char *service, void *out, size_t len)
{
	struct pb_module *caller = arch_guard_owner();

	if (hub_arg_writable(caller, out, len))
		return 1;
	hub_arg_bad(caller, service, "output", out);
	return 0;
}

int
hub_arg_str(const char *s, size_t max)
{
	uint64_t a = (uint64_t)(uintptr_t)s, end = known_end(a);
	size_t room;

	if (!end)
		return 0;
	room = end - a < max ? (size_t)(end - a) : max;
	return strnlen(s, room) < room;
}

/* Every loaded module has an image; a caller without one is a test
 * double of the hub's own tests, whose code is the test's. */
int
hub_arg_code(const struct pb_module *self, const void *fn)
{
	return self && (!self->base ||
	    hub_module_at((uint64_t)(uintptr_t)fn) == self);
}

/*
 * A bad argument is answered PB_EFAULT.  One that comes with `self` not
 * the module whose call is running (its own pointer to itself
 * overwritten) is that module's fault, charged like an exception: its
 * state is corrupt, and every later call would fail the same way.
 */
int
hub_arg_bad(const struct pb_module *self, const char *service,
    const char *what, const void *p)
{
	struct pb_module *caller = arch_guard_owner();

	if (caller && self != caller) {
		log_event(LOG_ERROR, "%s: %s: bad %s %p, called as %p: "
		    "charged as a fault", caller->name, service, what, p,
		    (const void *)self);
		hub_note_fault(caller, FAULT_SELF, 0, (uint64_t)(uintptr_t)self);
		return PB_EFAULT;
	}
	log_event(LOG_ERROR, "%s: %s: bad %s %p", self ? self->name : "?",
	    service, what, p);
	return PB_EFAULT;
}
