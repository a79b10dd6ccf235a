/*
 * fake_arch.h - host-test doubles for the hub's arch side (fake_arch.c).
 */
#ifndef PB_TESTS_FAKE_ARCH_H
#define PB_TESTS_FAKE_ARCH_H

#include "../../hub/hub.h"
#include "../../abi/rt/rt.h"

extern uint64_t fake_now;	/* what arch_now_ns() returns */
extern int fake_if;
extern int fake_map_image_err;	/* arch_map_image answers it */
extern unsigned fake_unmaps;	/* arch_unmap_image calls */
extern uint64_t fake_bus_offset;	/* arch_bus_addr adds it */		/* interrupts open, as arch_irq_* leave it */
/* Fault inside a guarded call, as module m. */
void fake_fault(struct pb_module *m) __attribute__((noreturn));
/* The exception path: a fault of `vector` at rip, charged as fault.c
 * charges it; returns (-1, fake_hub_died counted) only when no guarded
 * call is in progress, where the real hub would stop. */
int fake_fault_at(int vector, uint64_t rip, uint64_t addr);
struct pb_module *fake_guard_owner(void);
extern uint64_t fake_hub_lo, fake_hub_hi;	/* arch_hub_code's range */
extern int fake_hub_died;
/* arch_ram_known: everything while fake_known_all, else [lo, hi). */
extern int fake_known_all;
/* arch_may_write's answer: may the caller write there itself? */
extern int fake_may_write;
extern uint64_t fake_known_lo, fake_known_hi;

/* What mem.c told arch_mem_domain, in order. */
#define FAKE_DOMAIN_CALLS 64
struct fake_domain_call {
	uint64_t base, npages;
	int modules;
	struct pb_module *owner;
};
extern struct fake_domain_call fake_domain_calls[FAKE_DOMAIN_CALLS];
extern unsigned fake_ndomain_calls;
/* The domain arch_domain_enter last took (NULL: the hub's), and the one
 * arch_module_store's write was made in. */
extern const struct pb_module *fake_domain, *fake_store_domain;
/* hub/reset.c's writes, in order; arch_reset_write answers the err. */
extern char fake_resets[256];
extern int fake_reset_write_err;

#endif
