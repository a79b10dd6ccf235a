/*
 * scrub.c - a module's code that is no longer what was loaded.
 *
 * W^X keeps a module's own stores out of its code, but not a bit that
 * flips in RAM, a device's DMA write (no IOMMU is set up) or the fault
 * injector's code bit (inject.c).  Changed code may run on without a
 * fault and do the wrong thing for good: the fault campaign found fat
 * answering every read with an error (default, seed 777 #16) and usb-kbd
 * typing every key twice (usbonly, seed 4242 #12), each after one
 * flipped bit and neither ever faulting.  So the code of every module is
 * summed when it is loaded, and again in the background, a slice at a
 * time; a running module whose sum changed is charged a fault
 * (FAULT_CODE) and restarted from its image, which is intact in the
 * module's file (recover.c), as for any other fault.
 */
#include "hub.h"
#include "../abi/rt/rt.h"

#define SCRUB_EVERY_NS (200ull * 1000 * 1000)
#define SCRUB_SLICE (64u << 10)	/* bytes of code summed per turn */

static unsigned next_module;

/* The sum of len bytes of code at `at` (rt_sum64: a flipped bit shows). */
static uint64_t
code_sum(uint64_t at, uint32_t len)
{
	return rt_sum64(RT_SUM64_SEED, (const void *)(uintptr_t)at, len);
}

/* After m's image is loaded and mapped: the span of its executable
 * sections, whole pages (what is past a section's end in its last page
 * is zero, and stays so), and their sum.  A writable section inside the
 * span would change under the sum: such an image is not watched. */
void
scrub_note(struct pb_module *m, const struct pe_image *img)
{
	uint32_t lo = ~0u, hi = 0;

	for (unsigned i = 0; i < img->nsections; i++) {
		const struct pe_section *s = &img->sections[i];
		uint32_t end = (s->rva + s->vsize + PE_PAGE - 1) &
		    ~(PE_PAGE - 1);

		if (!(s->prot & PE_PROT_X))
			continue;
		lo = s->rva < lo ? s->rva : lo;
		hi = end > hi ? end : hi;
	}
	for (unsigned i = 0; i < img->nsections; i++) {
		const struct pe_section *s = &img->sections[i];

		if ((s->prot & PE_PROT_W) && s->rva < hi &&
		    s->rva + s->vsize > lo)
			hi = 0;
	}
	m->code_rva = hi > lo ? lo : 0;
	m->code_len = hi > lo ? hi - lo : 0;
	m->code_sum = m->code_len ? code_sum(m->base + lo, m->code_len) : 0;
}

/* Sum the code of the next running modules, SCRUB_SLICE bytes or so;
 * one whose code changed is charged and recovered.  How many changed. */
unsigned
scrub_turn(void)
{
	uint32_t summed = 0;
	unsigned changed = 0;

	for (unsigned n = 0; n < nmodules && summed < SCRUB_SLICE; n++) {
		struct pb_module *m = &modules[next_module++ % nmodules];

		if (m->state != MOD_RUNNING || !m->code_len ||
		    m->fault_pending)
			continue;
		summed += m->code_len;
		if (code_sum(m->base + m->code_rva, m->code_len) ==
		    m->code_sum)
			continue;
		hub_note_fault(m, FAULT_CODE, 0, m->base + m->code_rva);
		changed++;
	}
	if (changed)
		recover_defer();
	return changed;
}

static void scrub_tick(void *unused);

static void
scrub_arm(void)
{
	if (timer_add(NULL, SCRUB_EVERY_NS, scrub_tick, NULL) < 0)
		log_event(LOG_ERROR, "scrub: no timer: module code is no "
		    "longer checked");
}

static void
scrub_tick(void *unused)
{
	(void)unused;
	scrub_turn();
	scrub_arm();
}

/* From the boot's end on (the first turn after the prompt): every running
 * module's code is summed again about once a second (a few hundred KiB
 * in all). */
void
scrub_start(void)
{
	scrub_arm();
}
