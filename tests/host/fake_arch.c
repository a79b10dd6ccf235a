/*
 * fake_arch.c - the hub's arch side for host tests: a clock the tests can
 * move, guarded calls that simply call, no page tables, and an interrupt
 * flag (fake_if) that holding and releasing move as RFLAGS.IF would.
 *
 * A test makes a module "fault" by calling fake_fault() inside a guarded
 * call: like the real exception path, it records the fault against the
 * module and unwinds to the innermost guard, which returns PB_EFAULT.
 * fake_fault_at() is the exception path itself: the culprit is chosen
 * from the instruction pointer and the innermost guard's owner, as
 * fault.c does, and with no guard the "hub" dies (fake_hub_died).
 */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "fake_arch.h"

uint64_t fake_now;
struct hub_shared hub_shared;	/* guard.S's on the hardware */
static jmp_buf *guards[16];
static struct pb_module *owners[16];
static int nguards;
/* The hub's code for arch_hub_code: fake_hub_lo..fake_hub_hi. */
uint64_t fake_hub_lo, fake_hub_hi;
int fake_hub_died;
/* Host tests pass the hub literals and statics of the test binary: all
 * of it is "known" unless a test narrows it to [fake_known_lo, hi). */
int fake_known_all = 1;
uint64_t fake_known_lo, fake_known_hi;

uint64_t
arch_ram_known(uint64_t addr)
{
	if (fake_known_all)
		return addr ? ~0ull : 0;
	return addr >= fake_known_lo && addr < fake_known_hi ?
	    fake_known_hi : 0;
}

/* No page protections here: the bytes are written as they are. */
uint64_t
arch_code_poke(uint64_t base, uint32_t size, uint32_t off,
    const uint8_t *bytes, unsigned n, int flip)
{
	uint8_t *p;

	if (size < n)
		return 0;
	p = (uint8_t *)(uintptr_t)(base + off % (size - n + 1));
	for (unsigned i = 0; i < n; i++)
		p[i] = flip ? p[i] ^ bytes[i] : bytes[i];
	return (uint64_t)(uintptr_t)p;
}

/* The store is the module's on the hardware; here it is a plain one. */
void
arch_module_store(uint64_t base, uint32_t size, uint64_t addr, uint64_t val)
{
	(void)base;
	(void)size;
	fake_store_domain = fake_domain;
	*(volatile uint64_t *)(uintptr_t)addr = val;
}

int
arch_hub_code(uint64_t addr)
{
	return addr >= fake_hub_lo && addr < fake_hub_hi;
}

uint64_t arch_now_ns(void) { return fake_now; }
uint64_t arch_cycles(void) { return fake_now; }
/* A test sets fake_map_image_err to make mapping an image fail; every
 * unmap is counted. */
int fake_map_image_err;
unsigned fake_unmaps;
int arch_map_image(uint64_t base, const struct pe_image *img)
{
	return fake_map_image_err;
}
void arch_unmap_image(uint64_t base, uint32_t size) { fake_unmaps++; }
void *arch_map_mmio(uint64_t phys, size_t len, int cache)
{
	return (void *)(uintptr_t)phys;
}
void arch_unmap_mmio(void *va, size_t len) { }
/* A bus that is not the CPU's view when a test says so (an IOMMU). */
uint64_t fake_bus_offset;
uint64_t arch_bus_addr(uint64_t pa) { return pa + fake_bus_offset; }
int fake_if;
uint64_t
arch_irq_hold(void)
{
	uint64_t was = fake_if ? ARCH_IRQ_OPEN : 0;

	fake_if = 0;
	return was;
}
void arch_irq_release(uint64_t held) { if (held & ARCH_IRQ_OPEN) fake_if = 1; }
/* Waiting takes time: an interrupt or the alarm comes 1 ms later. */
void arch_idle(void) { fake_now += 1000000; }
void arch_pause(void) { fake_now += 1000000; }
void arch_irq_window(void) { }

long
arch_call_guarded(long (*fn)(void *), void *arg, struct pb_module *owner,
    uint32_t domain)
{
	jmp_buf env;
	long r;

	(void)domain;
	if (nguards == 16)
		abort();
	if (setjmp(env)) {
		nguards--;
		return PB_EFAULT;
	}
	owners[nguards] = owner;
	guards[nguards++] = &env;
	r = fn(arg);
	nguards--;
	return r;
}

/* The innermost guarded call's module, as the exception path sees it. */
struct pb_module *
fake_guard_owner(void)
{
	return nguards ? owners[nguards - 1] : NULL;
}

int
fake_fault_at(int vector, uint64_t rip, uint64_t addr)
{
	struct pb_module *m = hub_fault_culprit(rip, fake_guard_owner());

	if (!m) {
		fake_hub_died++;
		return -1;
	}
	hub_note_fault(m, vector, rip, addr);
	longjmp(*guards[nguards - 1], 1);
}

void
fake_fault(struct pb_module *m)
{
	hub_note_fault(m, 14, 0, 0);
	longjmp(*guards[nguards - 1], 1);
}

int
hub_read_path(const char *path, const void **data, size_t *len, char *err,
    size_t cap)
{
	rt_snprintf(err, cap, "no firmware in host tests");
	return PB_ENOENT;
}

/* The guard the next guarded call takes (the NMI watchdog's view). */
unsigned arch_guard_depth(void) { return (unsigned)nguards; }
struct pb_module *arch_guard_owner(void) { return fake_guard_owner(); }
/* The records a `slot` injection writes into: no guard slots here. */
uint64_t fake_slot[16], fake_depth_word;

uint64_t
arch_guard_slot(void)
{
	return (uint64_t)(uintptr_t)fake_slot;
}

uint64_t
arch_guard_depth_word(void)
{
	return (uint64_t)(uintptr_t)&fake_depth_word;
}

/* No domains on the host: a module may write what the hub may, unless a
 * test says it may not (fake_may_write). */
int fake_may_write = 1;
int
arch_may_write(const struct pb_module *m, uint64_t addr, size_t len)
{
	(void)m, (void)addr, (void)len;
	return fake_may_write;
}

/* One stack on the host: the argument block is where it is. */
long
arch_call_module(long (*fn)(void *), void *arg, size_t size,
    struct pb_module *owner, uint32_t domain)
{
	(void)size;
	return arch_call_guarded(fn, arg, owner, domain);
}
void *
arch_module_room(void *local, size_t size, struct arch_room *room)
{
	(void)size;
	*room = (struct arch_room){ 0 };
	return local;
}
void arch_module_room_end(const struct arch_room *room) { (void)room; }
void *
arch_module_arg(void *arg, size_t size, struct arch_room *room)
{
	return arch_module_room(arg, size, room);
}
void
arch_module_arg_end(void *arg, const void *copy, size_t size,
    const struct arch_room *room)
{
	(void)arg, (void)copy, (void)size, (void)room;
}

long
arch_call_hook(long (*fn)(void *), void *arg, struct pb_module *owner)
{
	return arch_call_guarded(fn, arg, owner, 0);
}
/* No protection domains on the host: every module runs in the hub's. */
uint32_t arch_domain_of(const struct pb_module *m) { (void)m; return 0; }
void arch_guard_retarget(struct pb_module *m) { owners[nguards - 1] = m; }
const struct pb_module *fake_domain, *fake_store_domain;
void arch_domain_enter(const struct pb_module *m) { fake_domain = m; }
const struct pb_hub *
arch_domain_services(const struct pb_hub *real) { return real; }
struct fake_domain_call fake_domain_calls[FAKE_DOMAIN_CALLS];
unsigned fake_ndomain_calls;

void
arch_mem_domain(uint64_t base, uint64_t npages, int modules,
    struct pb_module *owner)
{
	if (fake_ndomain_calls < FAKE_DOMAIN_CALLS)
		fake_domain_calls[fake_ndomain_calls++] =
		    (struct fake_domain_call){ base, npages, modules, owner };
}
void arch_grant_note(const struct pb_module *p, const void *o) { (void)p; (void)o; }
void arch_grant_blob(const struct pb_module *m, const void *b, size_t n) { (void)m; (void)b; (void)n; }
void arch_conn_gate(struct conn *c) { (void)c; }
void arch_conn_ungate(const struct conn *c, struct pb_conn *v) { (void)c; (void)v; }

/* hub/reset.c's writes, in order, as "reg:io:0xcf9=0x0f" and "8042". */
char fake_resets[256];
int fake_reset_write_err;

int
arch_reset_write(const struct reset_reg *r)
{
	static const char *const space[] = { "mem", "io", "pci" };
	size_t n = strlen(fake_resets);

	snprintf(fake_resets + n, sizeof(fake_resets) - n, "%sreg:%s:0x%llx="
	    "0x%02x", n ? " " : "", space[r->space],
	    (unsigned long long)r->addr, r->value);
	return fake_reset_write_err;
}

void
arch_reset_8042(void)
{
	size_t n = strlen(fake_resets);

	snprintf(fake_resets + n, sizeof(fake_resets) - n, "%s8042",
	    n ? " " : "");
}

void
arch_reset_triple(void)
{
	size_t n = strlen(fake_resets);

	snprintf(fake_resets + n, sizeof(fake_resets) - n, "%striple",
	    n ? " " : "");
}
