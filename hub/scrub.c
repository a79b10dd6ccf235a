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

/*
 * m's code as it was loaded, put back before its faulted instance is
 * asked for its state (recover.c): that export runs the code the file
 * holds, not the changed code, which could say anything.  The part of
 * the image m holds is loaded from the file again, relocated for m's
 * base, into a scratch buffer (whole: its relocations reach all of it);
 * the words of code that differ are written back with CR0.WP clear
 * (arch_code_poke).  What the changed code did to m's data before the
 * scrub found it stays: PB_MOD_RESTATE modules check the state they are
 * given (fat vouches for its blocks).
 */
void
scrub_repair(struct pb_module *m)
{
	uint32_t n = 0;
	const uint64_t *was;
	struct pe_image img;
	const char *why = "";
	uint8_t *fresh;

	if (!m->code_len || pe_parse(m->file, m->file_size, &img, &why) ||
	    !(fresh = mem_alloc(NULL, (m->size - m->head + 4095) / 4096, 0,
	    MEM_KIND_HEAP))) {
		log_event(LOG_ERROR, "%s: its code is not put back: %s",
		    m->name, why[0] ? why : "no memory");
		return;
	}
	if (pe_load_range(&img, fresh - m->head, m->base, m->head, m->size,
	    &why))
		goto out;
	was = (const uint64_t *)(uintptr_t)(fresh + m->code_rva - m->head);
	for (uint32_t off = 0; off < m->code_len; off += 8) {
		uint64_t code = m->base + m->code_rva;
		const volatile uint64_t *now = (const volatile uint64_t *)
		    (uintptr_t)(code + off);

		if (*now != was[off / 8] && arch_code_poke(code, m->code_len,
		    off, (const uint8_t *)&was[off / 8], 8, 0))
			n++;
	}
	why = code_sum(m->base + m->code_rva, m->code_len) == m->code_sum ?
	    NULL : "its sum is still not the one it was loaded with";
out:
	mem_free(NULL, fresh);
	if (why)
		log_event(LOG_ERROR, "%s: its code is not put back: %s",
		    m->name, why);
	else
		log_event(LOG_MOD, "%s: its code put back as loaded (%u words "
		    "changed) before its state is taken", m->name, n);
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
