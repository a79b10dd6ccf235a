/*
 * inject.c - fault injection: the hub's half is only a mechanism.
 *
 * `inject MODULE MOMENT:TYPE:PARAM[:keep]` (control) arms one injection; the
 * next call of that moment into MODULE (an entry point, a work item or
 * timer, an interrupt handler) runs an injector instead, inside the
 * module's guard, as the module: every fault it causes is charged to the
 * module exactly as the module's own bug would be, and recovered the same
 * way.  What to inject, where, and what came of it (the seeded choice, the
 * campaign, the outcome) is the shell's `faultinject` (mods/shell).
 * `inject` alone says whether the last one fired, and the faults counted
 * since, for that.  Arming clears the module's count of faults, so each
 * injection meets the recovery a first fault gets.  The fault classes
 * are those of the Nooks and Rio studies (Swift et al., SOSP 2003; Chen
 * et al., ASPLOS 1996).
 */
#include "hub.h"
#include "../abi/rt/rt.h"

#define AT_N (INJECT_IRQ + 1)
enum {
	T_STRAY,	/* an 8-byte write to address PARAM */
	T_POINTER,	/* a write through a pointer of the module's (its
			 * work or handler argument; at an entry, into its
			 * image at PARAM) with bit 3 + PARAM % 18 flipped */
	T_NULL,		/* a call through a NULL function pointer */
	T_WILD,		/* a jump to address PARAM */
	T_REGBIT,	/* bit PARAM % 64 of the argument register flipped */
	T_CODEBIT,	/* bit PARAM>>32 % 8 of the module's code byte at
			 * PARAM, flipped for good (a restart heals it) */
	T_LOOP,		/* spins for ever in its code, interrupts open */
	T_LOOP_HELD,	/* the same, interrupts held */
	T_RETCODE,	/* entry: returns PARAM instead of its result */
	T_SVCARG,	/* hands a hub service the pointer PARAM */
	T_SKIP,		/* irq: the handler does not run (no device
			 * acknowledge); else: returns interrupts held */
	T_SLOT,		/* an 8-byte write into the guard slot of the call
			 * itself, at byte PARAM % 128 (a stray write into
			 * the hub's records, which modules may write), or
			 * with PARAM bit 8 into the guard depth; then, with
			 * PARAM bit 7, a call through NULL */
	T_N
};

static struct {
	struct pb_module *m;
	unsigned gen;
	int moment, type;
	uint64_t param;
	int armed, fired;
	pb_work_fn fn;		/* work, irq: the module's own function */
	long (*entry)(void *);	/* entry: the hub's call of the module */
	int faults0;		/* every module's faults when armed */
} inj;

static int
faults_total(void)
{
	int n = 0;

	for (unsigned i = 0; i < nmodules; i++)
		n += modules[i].faults;
	return n;
}

/* The module's call as it would have been, with argument arg. */
static long
call_real(void *arg)
{
	if (inj.entry)
		return inj.entry(arg);
	inj.fn(arg);
	return PB_OK;
}

/* The service abuse of T_SVCARG: PARAM is the bad pointer, its low two
 * bits pick the service. */
static void
abuse_service(uint64_t p)
{
	const struct pb_hub *h = &hub_services;
	void *bad = (void *)(uintptr_t)(p & ~3ull);

	switch (p & 3) {
	case 0:
		h->log(inj.m, PB_LOG_INFO, bad);
		break;
	case 1:
		h->free(inj.m, bad);
		break;
	case 2:
		h->work_post(inj.m, bad);
		break;
	default:
		h->queue_work(inj.m, (pb_work_fn)bad, NULL);
		break;
	}
}

/* The module's own code, where a code bit, a loop or the store's stub is
 * put: its executable sections (scrub.c notes them at load).  Never the
 * start of [base, base + size): the header's page is not loaded, and what
 * lies there is another module's or the hub's. */
static uint64_t
code_at(const struct pb_module *m, uint32_t *len)
{
	if (m->code_len) {
		*len = m->code_len;
		return m->base + m->code_rva;
	}
	*len = (uint32_t)(m->size - m->head);
	return m->base + m->head;
}

/* Runs in place of the module's call, inside its guard, with the call's
 * argument (for an entry point, the copy module code may write:
 * x86_64/stacks.c). */
static long
injector(void *arg)
{
	uint64_t p = inj.param, a = (uint64_t)(uintptr_t)arg;
	/* cli; 1: pause; jmp 1b */
	static const uint8_t spin[] = { 0xfa, 0xf3, 0x90, 0xeb, 0xfc };
	long (*volatile jump)(void *);
	uint32_t len;
	uint64_t code = code_at(inj.m, &len);
	uint8_t bit;
	long r;

	inj.fired = 1;
	/* That write, and inject_hook's, were the hub's code writing the
	 * hub's memory in m's domain, which took the hub's domain for the
	 * rest of the call (x86_64/domain.h): the fault is made, and the
	 * module's own call runs, with the module's rights again. */
	arch_domain_enter(inj.m);
	switch (inj.type) {
	case T_STRAY:
		arch_module_store(code, len, p, 0xdeadbeefcafef00dull);
		break;
	case T_POINTER:
		if (inj.entry)
			a = inj.m->base + inj.m->head + (p % (inj.m->size -
			    inj.m->head) & ~7ull);
		a ^= 8ull << (p % 18);
		arch_module_store(code, len, a, p);
		break;
	case T_NULL:
		p = 0;
		/* fall through */
	case T_WILD:	/* through memory: a constant NULL call is UB */
		jump = (long (*)(void *))(uintptr_t)p;
		return jump(arg);
	case T_REGBIT:
		return call_real((void *)(uintptr_t)(a ^ (1ull << (p % 64))));
	case T_CODEBIT:
		bit = (uint8_t)(1u << (p >> 32) % 8);
		arch_code_poke(code, len, (uint32_t)p, &bit, 1, 1);
		break;
	case T_LOOP:
	case T_LOOP_HELD:
		/* The loop is put in the module's code and run there: the
		 * module is what spins, as far as anyone can tell. */
		jump = (long (*)(void *))(uintptr_t)arch_code_poke(code, len,
		    0, spin + (inj.type == T_LOOP), sizeof(spin) -
		    (inj.type == T_LOOP), 0);
		return jump(arg);
	case T_RETCODE:
		call_real(arg);
		return (long)p;
	case T_SVCARG:
		abuse_service(p);
		arch_domain_enter(inj.m);
		break;
	case T_SKIP:
		if (inj.moment == INJECT_IRQ)
			return PB_OK;
		r = call_real(arg);
		arch_irq_hold();
		return r;
	case T_SLOT:
		arch_module_store(code, len, p & 0x100 ?
		    arch_guard_depth_word() : arch_guard_slot() + (p & 0x78),
		    0xdeadbeefcafef00dull);
		if (p & 0x80) {
			jump = NULL;
			return jump(arg);
		}
		break;
	}
	return call_real(arg);
}

static void
injector_void(void *arg)
{
	injector(arg);
}

static int
due(const struct pb_module *m, int moment)
{
	return inj.armed && inj.m == m && inj.moment == moment &&
	    m->generation == inj.gen;
}

/* Is an injection armed for m's next `moment`?  Writes nothing: work.c
 * asks it in a module's protection domain. */
int
inject_due(const struct pb_module *m, int moment)
{
	return due(m, moment);
}

/* Work and interrupts: *fn is what the hub is about to call as m's; the
 * injector runs in its place, with its argument. */
void
inject_hook(struct pb_module *m, int moment, pb_work_fn *fn)
{
	if (!due(m, moment))
		return;
	inj.armed = 0;
	inj.fn = *fn;
	inj.entry = NULL;
	*fn = injector_void;
}

/* Entry points: every watched call that is not a work item. */
void
inject_entry(struct pb_module *m, long (**fn)(void *))
{
	if (*fn == call_work || !due(m, INJECT_ENTRY))
		return;
	inj.armed = 0;
	inj.entry = *fn;
	*fn = injector;
}

/* The hub's own fault: a write through a non-canonical address, a #GP
 * in the hub's code. */
static void
hub_crash(void *unused)
{
	(void)unused;
	*(volatile uint64_t *)(uintptr_t)0x8000000000000000ull = 0;
}

/*
 * `inject hub crash`: the hub faults on its next turn of the event loop,
 * as hub work, where no module's call is below it to charge: the fatal
 * path (the log and the screen say why the machine stopped), tested on
 * purpose, as Linux's sysrq-c is.  Only a caller of the control service
 * (the shell, boot.cfg's exec= lines) can ask for it.
 */
static int
inject_hub(const char *what, pb_line_fn out, void *o)
{
	static struct pb_work w;

	if (strcmp(what, "crash") != 0)
		return PB_EINVAL;
	work_init(NULL, &w, hub_crash, NULL);
	work_post(&w);
	if (out)
		out(o, "inject: the hub faults on its next turn");
	return PB_OK;
}

/* `inject`: the state; `inject off`; `inject MODULE K:T:P`; `inject hub
 * crash`. */
int
inject_control(const char *name, const char *spec, pb_line_fn out, void *o)
{
	char line[160];
	struct pb_module *m;
	unsigned long long k, t;
	const char *e;
	int keep;

	if (name && strcmp(name, "off") == 0 && !spec) {
		inj.armed = 0;
		inject_conn_arm(NULL);
		return PB_OK;
	}
	if (name && spec && strcmp(name, "hub") == 0)
		return inject_hub(spec, out, o);
	if (name && spec) {
		m = mod_find(name);
		k = rt_strtou(spec, &e, 0);
		t = *e == ':' ? rt_strtou(e + 1, &e, 0) : T_N;
		if (!m || k >= AT_N || t >= T_N ||
		    *e != ':')
			return PB_EINVAL;
		inj.param = rt_strtou(e + 1, &e, 0);
		keep = strcmp(e, ":keep") == 0;
		if (*e && !keep)
			return PB_EINVAL;
		inj.m = m;
		inj.gen = m->generation;
		inj.moment = (int)k;
		inj.type = (int)t;
		inj.armed = 1;
		inj.fired = 0;
		/* Each injection is judged as the module's first fault: the
		 * limit on repeated faults is the recovery policy's business,
		 * tested on its own (`:keep`: the count stays). */
		if (!keep)
			m->faults = 0;
		inj.faults0 = faults_total();
		inject_conn_arm(k == INJECT_ENTRY ? m : NULL);	/* injconn.c */
	}
	m = inj.m;
	rt_snprintf(line, sizeof(line), "inject: %s %s %d:%d:0x%llx faults=%d "
	    "total=%d state=%s", inj.armed ? "armed" : inj.fired ? "fired" :
	    "none", m ? m->name : "-", inj.moment, inj.type,
	    (unsigned long long)inj.param, m ? m->faults : 0,
	    faults_total() - inj.faults0, m ? mod_state_name(m->state) : "-");
	if (out)
		out(o, line);
	return PB_OK;
}
