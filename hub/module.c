/*
 * module.c - the module table: register a file, load it, start it, stop
 * it, unload it, and handle its faults.
 *
 * Registering reads the descriptor without running any of the module's
 * code.  Loading validates the image completely (pe.c), copies it into
 * pages the module owns, relocates it and maps it W^X.  Every call into a
 * module goes through mod_call(), a guarded call: if the module faults, the
 * call returns PB_EFAULT and the hub, not the module, decides what follows.
 */
#include "hub.h"
#include "../abi/rt/rt.h"

struct pb_module modules[MAX_MODULES];
unsigned nmodules;

static const char *const state_names[] = {
	[MOD_KNOWN] = "known", [MOD_REFUSED] = "refused",
	[MOD_LOADED] = "loaded", [MOD_STANDBY] = "standby",
	[MOD_RUNNING] = "running", [MOD_QUIESCED] = "quiesced",
	[MOD_FAILED] = "failed", [MOD_UNLOADED] = "unloaded",
	[MOD_REPLACED] = "replaced",
};

const char *
mod_state_name(int state)
{
	return state >= 0 && state <= MOD_REPLACED ? state_names[state] : "?";
}

/* How much a record named like others is "the" module: running beats
 * loaded (standby, quiesced), which beats the rest; refused and replaced
 * records are no module. */
static int
liveness(const struct pb_module *m)
{
	switch (m->state) {
	case MOD_REFUSED:
	case MOD_REPLACED:
		return 0;
	case MOD_RUNNING:
		return 3;
	case MOD_LOADED:
	case MOD_STANDBY:
	case MOD_QUIESCED:
		return 2;
	default:
		return 1;
	}
}

/* The module of that name; of two instances (an update under way), the
 * live one, else the first. */
struct pb_module *
mod_find(const char *name)
{
	struct pb_module *best = NULL;

	for (unsigned i = 0; i < nmodules; i++)
		if (liveness(&modules[i]) && strcmp(modules[i].name, name) == 0 &&
		    (!best || liveness(&modules[i]) > liveness(best)))
			best = &modules[i];
	return best;
}

static const char *
basename(const char *path)
{
	const char *b = path;

	for (const char *p = path; *p; p++)
		if (*p == '\\' || *p == '/')
			b = p + 1;
	return b;
}

/* Read file's descriptor into m (not yet counted); why on failure. */
static int
read_descriptor(struct pb_module *m, const char *path, const void *file,
    size_t size, const char **why)
{
	struct pe_image img;

	memset(m, 0, sizeof(*m));
	rt_strlcpy(m->path, path, sizeof(m->path));
	m->file = file;
	m->file_size = size;
	*why = "unreadable";
	if (!file || pe_parse(file, size, &img, why) ||
	    pe_read_modinfo(&img, &m->desc, &m->ops_rva, why))
		return PB_EINVAL;
	rt_strlcpy(m->name, m->desc.name, sizeof(m->name));
	m->state = MOD_KNOWN;
	return PB_OK;
}

/* Read the descriptor of `file`; a refusal is logged and remembered. */
struct pb_module *
mod_register(const char *path, const void *file, size_t size)
{
	struct pb_module *m;
	const char *why;

	if (nmodules == MAX_MODULES) {
		log_event(LOG_REFUSE, "%s: refused: more than %d modules", path,
		    MAX_MODULES);
		return NULL;
	}
	m = &modules[nmodules];
	if (read_descriptor(m, path, file, size, &why) != PB_OK) {
		log_event(LOG_REFUSE, "%s: refused: %s", path, why);
		m->state = MOD_REFUSED;
		m->why = why;
		rt_strlcpy(m->name, basename(path), sizeof(m->name));
		nmodules++;
		return NULL;
	}
	if (mod_find(m->desc.name)) {
		log_event(LOG_REFUSE, "%s: refused: a module named %s exists",
		    path, m->desc.name);
		return NULL;
	}
	nmodules++;
	return m;
}

/*
 * A second record of module `name` from another image (a newer build, for
 * `update`): its descriptor must name the same module.  Nothing is kept
 * when it does not; err says why.
 */
/*
 * The record of an instance that an update replaced and that is gone for
 * good, for the next update to use: `update` N times must not use N
 * records.  It holds nothing (unloaded, ledger empty, no resources or
 * connections), no watch window leads back to it, and another record of
 * its name is the module now.
 */
static struct pb_module *
dead_instance(void)
{
	for (unsigned i = 0; i < nmodules; i++) {
		struct pb_module *m = &modules[i];

		if ((m->state != MOD_REPLACED && m->state != MOD_UNLOADED) ||
		    m->base || mod_find(m->name) == m ||
		    !mod_holds_nothing(m, NULL, 0))
			continue;
		for (unsigned k = 0; k < nmodules && m; k++)
			if (modules[k].swapped_from == m)
				m = NULL;
		if (m)
			return m;
	}
	return NULL;
}

struct pb_module *
mod_register_instance(const char *path, const void *file, size_t size,
    const char *name, char *err, size_t cap)
{
	static struct pb_module fresh;	/* the hub runs one thing at a time */
	struct pb_module *m;
	const char *why;
	unsigned gen;

	if (read_descriptor(&fresh, path, file, size, &why) != PB_OK) {
		rt_snprintf(err, cap, "%s: %s", path, why);
		return NULL;
	}
	if (strcmp(fresh.name, name) != 0) {
		rt_snprintf(err, cap, "%s is module %s, not %s", path, fresh.name,
		    name);
		return NULL;
	}
	if (!(m = dead_instance()) && nmodules == MAX_MODULES) {
		rt_snprintf(err, cap, "more than %d modules", MAX_MODULES);
		return NULL;
	}
	if (!m)
		m = &modules[nmodules++];
	/* A record used before keeps counting generations, so nothing
	 * queued for the instance it held can run for this one. */
	gen = m->generation;
	*m = fresh;
	m->generation = gen + 1;
	log_event(LOG_LOAD, "%s %s: a new instance from %s", m->name,
	    m->desc.version, path);
	return m;
}

/*
 * The part of the image the module holds, [m->head, m->size): the hub
 * relocates from the file (pe.c) and nothing reads a loaded image's
 * header, so neither its header page nor a .reloc section at its end is
 * loaded (issue 16).
 */
static void
image_part(struct pb_module *m, struct pe_image *img)
{
	const struct pe_section *last = &img->sections[img->nsections - 1];

	m->head = (img->headers_size + PE_PAGE - 1) & ~(PE_PAGE - 1);
	m->size = img->image_size;
	if (img->nsections > 1 && strcmp(last->name, ".reloc") == 0 &&
	    img->reloc_rva >= last->rva &&
	    !(last->prot & (PE_PROT_W | PE_PROT_X)))
		m->size = last->rva;
}

/* Pages for the part: above its header's place, so the image does not
 * start at address 0 (NULL: not loaded) or wrap below it. */
static void *
image_alloc(struct pb_module *m)
{
	size_t n = (m->size - m->head) / PE_PAGE;
	void *p = n ? mem_alloc(m, n, 0, MEM_KIND_IMAGE) : NULL;

	if (p && (uint64_t)(uintptr_t)p <= m->head) {
		void *low = p;	/* the lowest free pages: held while trying */

		p = mem_alloc(m, n, 0, MEM_KIND_IMAGE);
		mem_free(m, low);
	}
	if (p && (uint64_t)(uintptr_t)p <= m->head) {
		mem_free(m, p);
		p = NULL;
	}
	return p;
}

int
mod_load(struct pb_module *m)
{
	struct pe_image img;
	const char *why = "";
	uint64_t t0 = hub_now_ns();
	uint32_t kib;
	void *dest;
	int err;

	if (m->state != MOD_KNOWN && m->state != MOD_UNLOADED &&
	    m->state != MOD_FAILED)
		return PB_EBUSY;
	/* Parsed again: the file is the module's, and may have changed. */
	if (pe_parse(m->file, m->file_size, &img, &why))
		goto refuse;
	kib = img.image_size / 1024;	/* the whole image, as the file says */
	image_part(m, &img);
	/* Not zeroed: pe_load_range gives every byte of the part its value. */
	if (!(dest = image_alloc(m))) {
		why = "out of memory for the image";
		goto refuse;
	}
	m->base = (uint64_t)(uintptr_t)dest - m->head;
	err = PB_EINVAL;
	if (!pe_load_range(&img, (void *)(uintptr_t)m->base, m->base,
	    m->head, m->size, &why)) {
		img.nsections -= m->size < img.image_size;
		img.image_size = m->size;
		if ((err = arch_map_image(m->base, &img)))
			why = "cannot map the image";
		else
			scrub_note(m, &img);
	}
	if (err) {
		mem_reclaim(m, NULL);
		/* The range is free again: nothing may be charged to, or
		 * unmapped for, a module that no longer holds it. */
		m->base = 0;
		m->size = 0;
		m->head = 0;
		goto refuse;
	}
	m->ops = (const struct pb_module_ops *)(uintptr_t)(m->base + m->ops_rva);
	m->state = MOD_LOADED;
	m->load_ns = hub_now_ns() - t0;
	m->loaded_at_ns = t0;
	m->load_took_ns = m->load_ns;
	log_event(LOG_LOAD, "%s %s loaded at 0x%llx, %u KiB", m->name,
	    m->desc.version, (unsigned long long)m->base, kib);
	return PB_OK;
refuse:
	log_event(LOG_REFUSE, "%s: refused: %s", m->path, why);
	m->why = why;
	m->state = MOD_FAILED;
	return PB_EINVAL;
}

/* The provide of iface m's descriptor declares (NULL: none); and
 * (mod_requires) does it require iface? */
const struct pb_provide *
mod_provides(const struct pb_module *m, const char *iface)
{
	for (unsigned i = 0; i < m->desc.nprovides; i++)
		if (strcmp(m->desc.provides[i].iface, iface) == 0)
			return &m->desc.provides[i];
	return NULL;
}

int
mod_requires(const struct pb_module *m, const char *iface)
{
	for (unsigned i = 0; i < m->desc.nrequires; i++)
		if (strcmp(m->desc.requires[i].iface, iface) == 0)
			return 1;
	return 0;
}

struct pb_module *
hub_module_at(uint64_t addr)
{
	for (unsigned i = 0; i < nmodules; i++) {
		struct pb_module *m = &modules[i];

		if (m->base && addr >= m->base + m->head &&
		    addr < m->base + m->size &&
		    m->state != MOD_KNOWN && m->state != MOD_UNLOADED)
			return m;
	}
	return NULL;
}

/*
 * Whose fault is it, at rip, inside a guarded call of owner's (NULL: none
 * above the current interrupt's floor)?  Code of a module's image is that
 * module's: a client calls its providers directly through connections,
 * without a guard of their own.  Anywhere else (the hub's code running a
 * service, address 0, a wild or returned-to address) the innermost guarded
 * call's module is charged: nothing else was running on its behalf.  With
 * no guarded call the fault is the hub's own (NULL).  Called from the
 * exception handler: reads only.
 */
struct pb_module *
hub_fault_culprit(uint64_t rip, struct pb_module *owner)
{
	struct pb_module *m = hub_module_at(rip);

	if (!owner)
		return NULL;
	return m ? m : owner;
}

/* Faults noted and not yet handled: a provider's, under a client's call
 * through a gated connection, waits for that call to end. */
static unsigned faults_noted;

/* Called from the exception handler: only record. */
void
hub_note_fault(struct pb_module *m, int vector, uint64_t rip, uint64_t addr)
{
	faults_noted++;
	m->fault_pending = 1;
	m->fault_vector = vector;
	m->fault_rip = rip;
	m->fault_addr = addr;
	m->fault_where = hub_module_at(rip) == m ? FAULT_IN_IMAGE :
	    arch_hub_code(rip) ? FAULT_IN_HUB : FAULT_IN_NOCODE;
}

/* The guard pages under the stack module code runs on and, when module
 * code has a stack of its own (x86_64/stacks.c), over it. */
uint64_t hub_stack_guard, hub_stack_top_guard;

static const char *
fault_what(const struct pb_module *m)
{
	if (m->fault_vector != 14)
		return "";
	if (hub_stack_guard && m->fault_addr - hub_stack_guard < 4096)
		return ": stack overflow";
	if (hub_stack_top_guard && m->fault_addr - hub_stack_top_guard < 4096)
		return ": a write past the top of its stack";
	return "";
}

static const char *
fault_where_text(const struct pb_module *m)
{
	switch (m->fault_where) {
	case FAULT_IN_HUB:
		return " (in the hub, during its call)";
	case FAULT_IN_NOCODE:
		return " (at no code, during its call)";
	default:
		return "";
	}
}

/* A module that faulted and is in no call now, if any.  One whose code
 * is still on the stack below (busy) waits for recover_defer's work:
 * restarting it would free code that calls return into. */
static struct pb_module *
take_faulted(void)
{
	for (unsigned i = 0; i < nmodules; i++)
		if (modules[i].fault_pending && (modules[i].busy ||
		    shadow_calling(&modules[i])))
			recover_defer();
		else if (modules[i].fault_pending) {
			modules[i].fault_pending = 0;
			return &modules[i];
		}
	return NULL;
}

/* Calls into modules now, nested: an interrupt's handler counts too. */
static unsigned calls_in;

/* The faulted module whose state its restart asks for (mod_export_faulted)
 * and the nesting its calls are made at: only those calls reach it, not
 * its interrupt handlers nor anything nested in them. */
static struct exporting {
	const struct pb_module *m;
	unsigned depth;
} exporting;

static long
guarded(struct pb_module *m, long (*fn)(void *), void *arg, size_t size)
{
	long r;

	if (m->fault_pending &&
	    (m != exporting.m || calls_in != exporting.depth))
		return PB_EFAULT;	/* awaits its recovery: not called */
	calls_in++;
	r = arch_call_module(fn, arg, size, m, arch_domain_of(m));
	calls_in--;
	return r;
}

/* A fault inside a call (in its module, or in any module it called) is
 * handled after the guard unwound: the faulting module is stopped and
 * restarted or replaced, and the caller sees PB_EFAULT.  A provider that
 * faulted under the call (conngate.S) is handled when the call ends,
 * whatever the client made of the PB_EFAULT its gate returned. */
static long
after_call(long r)
{
	if (r != PB_EFAULT && !faults_noted)
		return r;
	if (hub_in_irq) {
		/* Not inside an interrupt: a restart waits for timers and
		 * interrupts, which this one holds off. */
		recover_defer();
		return r;
	}
	mod_handle_faults();
	return r;
}

/* Every fault noted and not handled yet whose module is in no call. */
void
mod_handle_faults(void)
{
	struct pb_module *bad;

	faults_noted = 0;
	while ((bad = take_faulted()))
		mod_handle_fault(bad);
}

/* Call into module code, with the interrupt state as it is; arg's `size`
 * bytes are where module code may write them (hub.h, arch_call_module). */
long
mod_call(struct pb_module *m, long (*fn)(void *), void *arg, size_t size)
{
	long r;

	m->busy++;
	r = guarded(m, fn, arg, size);
	m->busy--;
	return after_call(r);
}

struct open_args {
	long (*fn)(void *);
	void *arg;
	int open;
};

static long
call_open(void *p)
{
	struct open_args *a = p;
	uint64_t held;
	long r;

	if (!a->open)
		return a->fn(a->arg);
	held = arch_irq_hold();
	arch_irq_release(ARCH_IRQ_OPEN);
	r = a->fn(a->arg);
	arch_irq_hold();
	arch_irq_release(held);		/* as the caller had them */
	return r;
}

/*
 * A call the watchdog may end (everything but interrupt handlers): the
 * module's start, stop, swap entries, events and work items.  Called
 * from the hub's own code, it runs with interrupts open, so its devices'
 * handlers cut in and the alarm can end a call that never returns.
 * Called from inside a module (or its interrupt handler), it keeps the
 * interrupt state that module chose.  The watch ends before a fault is
 * handled, so a restart gets a count of its own.
 */
long
mod_call_watched(struct pb_module *m, long (*fn)(void *), void *arg,
    size_t size)
{
	struct arch_room room;
	struct open_args a;
	struct watch outer;
	void *in;
	long r;

	inject_entry(m, &fn);
	/* fn's argument where module code may write it, then call_open's */
	if (!(in = arch_module_arg(arg, size, &room)) && size)
		return PB_EBUSY;
	a = (struct open_args){ fn, in, calls_in == 0 };
	outer = watch_begin(m);
	m->busy++;
	r = guarded(m, call_open, &a, sizeof(a));
	m->busy--;
	watch_end(outer);
	arch_module_arg_end(arg, in, size, &room);
	return after_call(r);
}

struct start_args {
	struct pb_module *m;
	int mode;
};

static long
call_start(void *p)
{
	struct start_args *a = p;

	/* A module built for ABI 1.1 gets the inventory in its layout. */
	return a->m->ops->start(a->m, arch_domain_services(
	    a->m->desc.abi_minor < 2 ? &hub_services_11 : &hub_services),
	    a->mode);
}

int
mod_start(struct pb_module *m, int mode)
{
	struct start_args a = { m, mode };
	uint64_t t0 = hub_now_ns();
	long r;

	if (m->state != MOD_LOADED)
		return PB_EBUSY;
	m->state = mode == PB_START_STANDBY ? MOD_STANDBY : MOD_RUNNING;
	r = mod_call_watched(m, call_start, &a, sizeof(a));
	if (r == PB_EFAULT)
		return PB_EFAULT;	/* mod_handle_fault cleaned up */
	if (r != PB_OK) {
		log_event(r == PB_ENODEV ? LOG_START : LOG_ERROR,
		    "%s: start failed (%ld)%s", m->name, r,
		    r == PB_ENODEV ? ": no device, declined" : "");
		mod_stop(m);
		m->state = MOD_FAILED;
		return (int)r;
	}
	m->load_ns += hub_now_ns() - t0;
	m->started_at_ns = t0;
	m->start_took_ns = hub_now_ns() - t0;
	log_event(LOG_START, "%s started%s (load+start %llu us)", m->name,
	    mode == PB_START_STANDBY ? " in standby" : "",
	    (unsigned long long)(m->load_ns / 1000));
	return PB_OK;
}

static long
call_stop(void *p)
{
	struct pb_module *m = p;

	m->ops->stop(m);
	return PB_OK;
}

/*
 * Stop m and take back everything it holds except its image.  Its
 * providers hear that it goes first (a bus provider silences its device);
 * if one of them fails to, m's vectors are quarantined and, at its
 * unload, its RAM: the device may still raise them and write into it.
 */
void
mod_stop(struct pb_module *m)
{
	unsigned failed;

	if (m->ops && m->ops->stop && !m->fault_pending)
		mod_call_watched(m, call_stop, m, 0);
	/* Stopped from here on: a provider that faults while hearing it
	 * goes must not have m stopped a second time, inside this stop. */
	m->state = MOD_LOADED;
	log_forget(m);		/* no line may post its work item again */
	work_drop_module(m);
	failed = res_tell_gone(m);
	res_drop_module(m);
	if (failed) {
		irq_quarantine(m);
		m->unsilenced = 1;	/* mod_unload keeps its RAM */
	}
	irq_unregister(m, -1);
}

/* Nothing may remain against an unloaded module: say what does. */
int
mod_holds_nothing(struct pb_module *m, char *why, size_t cap)
{
	unsigned nconn, nres = res_count(m, &nconn);
	uint64_t pages = mem_owned(m, -1) + mem_owned(m, MEM_KIND_MMIO);
	unsigned nirq = irq_count(m);

	if (!nres && !nconn && !pages && !nirq)
		return 1;
	rt_snprintf(why, cap, "%u resources, %u connections, %llu pages, "
	    "%u vectors", nres, nconn, (unsigned long long)pages, nirq);
	return 0;
}

int
mod_unload(struct pb_module *m)
{
	char why[96];

	if (m->state == MOD_RUNNING || m->state == MOD_STANDBY ||
	    m->state == MOD_QUIESCED)
		mod_stop(m);
	if (m->base)
		arch_unmap_image(m->base + m->head, m->size - m->head);
	if (m->unsilenced) {
		log_event(LOG_ERROR, "%s: its device was not silenced: its %llu "
		    "pages are kept out of use", m->name,
		    (unsigned long long)mem_owned(m, -1));
		mem_give(m, &hub_quarantine);
		dma_give(m, &hub_quarantine);
		m->unsilenced = 0;
	}
	mem_reclaim(m, arch_unmap_mmio);
	dma_forget(m);
	/* No watch window may lead back to m any more. */
	for (unsigned i = 0; i < nmodules; i++)
		if (modules[i].swapped_from == m)
			modules[i].swapped_from = NULL;
	m->base = 0;
	m->ops = NULL;
	m->generation++;
	m->state = MOD_UNLOADED;
	if (!mod_holds_nothing(m, why, sizeof(why))) {
		log_event(LOG_ERROR, "%s: ledger not empty after unload: %s",
		    m->name, why);
		return PB_EBUSY;
	}
	log_event(LOG_UNLOAD, "%s unloaded; ledger empty", m->name);
	return PB_OK;
}

/*
 * A module faulted: stop it without calling it again, its device
 * silenced before its ledger is reclaimed, and then either swap back
 * (inside a swap's watch window) or restart it from the in-memory copy of
 * its image with its clients held and rebound (recover.c), at most twice
 * within the fault window.
 */
void
mod_handle_fault(struct pb_module *m)
{
	uint64_t t0 = hub_now_ns();
	int give_up = recover_gives_up(m, t0);

	if (m->fault_vector == FAULT_WATCHDOG)
		log_event(LOG_FAULT, "%s hung at rip 0x%llx: stopped by the "
		    "watchdog", m->name, (unsigned long long)m->fault_rip);
	else if (m->fault_vector == FAULT_ANSWER)
		log_event(LOG_FAULT, "%s faulted: it answered a block submit "
		    "%lld, which is no refusal abi/block.h allows (it may "
		    "hold the request)", m->name, (long long)m->fault_addr);
	else if (m->fault_vector == FAULT_ITEM)
		log_event(LOG_FAULT, "%s faulted: its work item at 0x%llx "
		    "was written over (it names a wrong owner)", m->name,
		    (unsigned long long)m->fault_addr);
	else if (m->fault_vector == FAULT_CODE)
		log_event(LOG_FAULT, "%s faulted: its code at 0x%llx is not "
		    "what was loaded (a flipped bit, or a device's stray "
		    "write)", m->name, (unsigned long long)m->fault_addr);
	else
		log_event(LOG_FAULT, "%s faulted: vector %d at rip 0x%llx "
		    "addr 0x%llx%s%s", m->name, m->fault_vector,
		    (unsigned long long)m->fault_rip,
		    (unsigned long long)m->fault_addr, fault_where_text(m),
		    fault_what(m));
	m->fault_pending = 1;	/* keeps mod_stop from calling it */
	/* Inside a swap's watch window the clients go back to the provider
	 * it replaced, which resumes as it was before the swap.  Not a
	 * module whose state survives a restart: what its clients did since
	 * (a file system's blocks not yet written) is in its state, not in
	 * the old instance, so it is restarted with that state like any
	 * other fault, and the old instance waits out the window. */
	if (m->swapped_from && hub_now_ns() < m->watch_until_ns &&
	    !(m->desc.flags & PB_MOD_RESTATE)) {
		recover_swap_back(m, t0);
		return;
	}
	if (m->state == MOD_STANDBY) {
		/* Being swapped in: the swap rolls back and the old provider
		 * keeps serving.  A restart here would start m beside it, or
		 * nest a second swap. */
		mod_unload(m);
		m->fault_pending = 0;
		m->state = MOD_FAILED;
		return;
	}
	if (give_up)
		recover_give_up(m);
	else
		recover_restart(m, t0);
}

static int
run_op(struct mod_op *a, int op)
{
	struct pb_module *m = a->m;
	const struct pb_module_ops *o = m->ops;

	switch (op) {
	case MOD_OP_QUIESCE:
		return o->quiesce ? o->quiesce(m) : PB_OK;
	case MOD_OP_EXPORT:
		a->len = 0;
		return o->export_state ? o->export_state(m, a->buf, a->cap,
		    &a->len, &a->ver) : PB_OK;
	case MOD_OP_RELEASE:
		return o->release ? o->release(m) : PB_OK;
	case MOD_OP_IMPORT:
		arch_grant_blob(m, a->buf, a->len);	/* requests in it */
		return o->import_state ? o->import_state(m, a->buf, a->len,
		    a->ver) : PB_OK;
	case MOD_OP_ACTIVATE:
		return o->activate ? o->activate(m) : PB_OK;
	default:
		return o->resume ? o->resume(m) : PB_OK;
	}
}

static long call_next(void *p);

/*
 * Several entry points in one call: each call into a module costs a
 * switch of protection domain each way (a TLB flush under emulation) and
 * a watch, most of a swap's blackout when each step was a call of its
 * own.  The next module's steps can follow in the same call: modules
 * share one domain, so entering its code costs no switch, and a guard of
 * its own makes a fault or hang in them its own (hub_fault_culprit, the
 * watchdog).
 */
static long
call_steps(void *p)
{
	struct mod_op *a = p;
	int r = PB_OK;

	for (int op = MOD_OP_QUIESCE; op <= MOD_OP_RESUME && r == PB_OK;
	    op++) {
		unsigned step = MOD_STEP(op);

		if (!(a->steps & step))
			continue;
		if (op >= MOD_OP_IMPORT && a->next)
			return arch_call_guarded(call_next, a, a->next,
			    arch_domain_of(a->next));
		a->at = step;
		r = run_op(a, op);
		/* A state longer than its buffer is not let through to the
		 * next step (nor to the hub, which would copy past it). */
		if (op == MOD_OP_EXPORT && a->buf && a->len > a->cap &&
		    r == PB_OK) {
			a->overran = 1;
			r = PB_EINVAL;
		}
		if (r == PB_OK)
			a->steps &= ~step;
	}
	return r;
}

/* The next module's steps, inside the first one's call. */
static long
call_next(void *p)
{
	struct mod_op *a = p;

	a->m = a->next;
	a->next = NULL;
	return call_steps(a);
}

int
mod_steps(struct pb_module *m, unsigned steps, struct mod_op *a)
{
	a->m = m;
	a->steps = steps;
	a->at = 0;
	a->overran = 0;
	return (int)mod_call_watched(m, call_steps, a, sizeof(*a));
}

int
mod_op(struct pb_module *m, int which, struct mod_op *a)
{
	return mod_steps(m, MOD_STEP(which), a);
}

/* PB_EAGAIN (ABI 1.2: still draining) asks again, the event loop running
 * meanwhile, until the deadline or until m stops running. */
int
mod_quiesce(struct pb_module *m, uint64_t deadline)
{
	struct mod_op q = { 0 };
	int r;

	while ((r = mod_op(m, MOD_OP_QUIESCE, &q)) == PB_EAGAIN &&
	    hub_now_ns() < deadline && m->state == MOD_RUNNING)
		hub_wait_step(deadline);
	return r;
}

/* The size asked, then the state into hub memory at a->buf (the caller
 * frees it, whatever the answer); a module that claims to have written
 * more than it was given is refused. */
int
mod_export(struct pb_module *m, struct mod_op *a)
{
	int r;

	a->buf = NULL;
	a->cap = 0;
	if ((r = mod_op(m, MOD_OP_EXPORT, a)) != PB_OK || !a->len)
		return r;
	a->cap = a->len;
	if ((a->max && a->len > a->max) || !(a->buf = mem_alloc(NULL,
	    (a->cap + 4095) / 4096, 0, MEM_KIND_HEAP)))
		return PB_ENOMEM;
	if ((r = mod_op(m, MOD_OP_EXPORT, a)) != PB_OK && a->overran)
		r = PB_ESTATE;
	return r;
}

/* mod_export of a module whose fault is pending, for its restart
 * (replay.c): the guarded, watched entry call every other one is, its
 * fault charged and handled as theirs. */
int
mod_export_faulted(struct pb_module *m, struct mod_op *a)
{
	struct exporting outer = exporting;
	int r;

	exporting.m = m;
	exporting.depth = calls_in;
	r = mod_export(m, a);
	exporting = outer;
	return r;
}

/* A module started in standby takes its hardware and runs. */
int
mod_activate(struct pb_module *m)
{
	long r;

	if (m->state != MOD_STANDBY)
		return PB_EINVAL;
	r = mod_op(m, MOD_OP_ACTIVATE, &(struct mod_op){ 0 });
	if (r != PB_OK)
		return (int)r;
	m->state = MOD_RUNNING;
	log_event(LOG_START, "%s active", m->name);
	return PB_OK;
}
