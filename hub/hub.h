/*
 * hub.h - the hub's internal interfaces, between its portable logic
 * (the files in hub/) and its x86-64 parts (hub/x86_64/).
 *
 * The portable side never touches hardware: it asks the arch side through
 * the `arch_*` functions below, which the host tests implement with fakes.
 */
#ifndef PB_HUB_HUB_H
#define PB_HUB_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "../abi/pb.h"
#include "handoff.h"
#include "log.h"
#include "pe.h"

#define HUB_VERSION "0.1"
#define MAX_MODULES 64
#define MAX_RESOURCES 128
#define MAX_CONNS 256
#define MAX_ALLOCS 1024
#define RES_NAME_MAX 64		/* "iface:name" with the NUL */
#define RES_PROPS_MAX 256

enum mod_state {
	MOD_KNOWN,	/* descriptor read, not loaded */
	MOD_REFUSED,	/* the loader or the descriptor check refused it */
	MOD_LOADED,	/* mapped and relocated, not started */
	MOD_STANDBY,	/* started in standby for a swap */
	MOD_RUNNING,
	MOD_QUIESCED,	/* being swapped out */
	MOD_FAILED,	/* start failed or it faulted */
	MOD_UNLOADED,
	MOD_REPLACED,	/* unloaded for good: a newer instance took over */
};

struct pb_module {
	char name[PB_NAME_MAX];
	int state;
	const char *why;		/* reason for REFUSED/FAILED */
	char path[64];			/* where it came from */
	const uint8_t *file;		/* the image file, kept for restarts */
	size_t file_size;
	struct pb_modinfo desc;		/* as read from the file */
	uint32_t ops_rva;
	const struct pb_module_ops *ops;	/* in the loaded image */
	uint64_t base;			/* where the image runs */
	uint32_t size;			/* its end: relocations given back */
	uint32_t head;			/* header bytes given back at load */
	uint64_t load_ns;		/* load + relocate + start time */
	/* The boot chart's (chart.c): when the last load and start began
	 * and how long each took, in hub_now_ns() time; 0: never. */
	uint64_t loaded_at_ns, load_took_ns, started_at_ns, start_took_ns;
	unsigned generation;		/* bumped on unload: stale work dies */
	int boot_loaded;		/* loaded by the boot, not by hand */
	int faults;			/* faults in the window (recover.c) */
	uint64_t fault_first_ns;	/* when the window's first came */
	uint64_t recovered_ns;		/* the last recovery's duration */
	int unsilenced;			/* a provider failed to silence its
					 * device: its RAM stays out of use */
	int fault_pending;		/* set by the fault handler */
	uint64_t fault_rip, fault_addr;
	int fault_vector;
	int fault_where;		/* FAULT_IN_*: where rip was */
	struct pb_module *swapped_from;	/* watch window: the old provider */
	uint64_t watch_until_ns;
	int watch_timer;		/* the window's timer id, 0: none */
	unsigned busy;			/* calls into it under way */
	int deferred;			/* waits for the takeover to start */
	struct pb_resource *bind_res;	/* to connect before start (bind) */
	uint8_t key;			/* protection key, 0: none yet (keys.c) */
	/* Its code as loaded (scrub.c): the span of its executable
	 * sections and their sum; code_len 0: not watched. */
	uint32_t code_rva, code_len;
	uint64_t code_sum;
	uint64_t recovery_at_ns;	/* when its last recovery began, 0:
					 * never (park.c) */
	/* The boot chart's too: when it was last connected to the device
	 * it drives (lifecycle.c), and when its last swap in as the new
	 * provider began and how long the clients were blacked out
	 * (swap.c); 0: never. */
	uint64_t bound_at_ns, swap_at_ns, swap_took_ns;
};

struct pb_resource {
	int used;
	int standby;			/* published by a standby module */
	int offered;			/* clients and bind rules served */
	char name[RES_NAME_MAX];
	struct pb_provide iface;	/* interface, version and base */
	char props[RES_PROPS_MAX];
	const void *ops;
	void *ctx;
	struct pb_module *owner;	/* NULL: the hub itself */
	unsigned max_clients;		/* 0: any number */
};

struct conn {
	struct pb_conn pub;		/* first: the client sees this */
	int used;
	struct pb_module *client;
	struct pb_resource *res;
	int req;			/* requirement index, -1 if by hand */
	int handover;			/* a swap hands r to the new client:
					 * no client-gone for either side */
	int held;			/* its provider restarts: res NULL
					 * until recover_replay (recover.c) */
};

/* --- the arch side (hub/x86_64, or fakes in tests) ---------------------- */
uint64_t arch_now_ns(void);
uint64_t arch_cycles(void);
/* Map a module's image: sections by their PE protections (W^X). */
int arch_map_image(uint64_t base, const struct pe_image *img);
void arch_unmap_image(uint64_t base, uint32_t size);
void *arch_map_mmio(uint64_t phys, size_t len, int cache);
void arch_unmap_mmio(void *va, size_t len);
/* The address a device uses for RAM at physical address pa (identity
 * until an IOMMU or bounce buffers come). */
uint64_t arch_bus_addr(uint64_t pa);
uint64_t arch_irq_hold(void);		/* hold interrupts back */
#define ARCH_IRQ_OPEN 0x200		/* arch_irq_release(it) opens them */
void arch_irq_release(uint64_t held);
void arch_idle(void);			/* wait for an interrupt */
void arch_irq_window(void);		/* let pending interrupts in */
void arch_pause(void);			/* a moment, polling */
/* Run fn(arg) as owner's code, in protection domain `domain`
 * (arch_domain_of); if it faults inside (wherever the instruction pointer
 * is), return PB_EFAULT instead. */
long arch_call_guarded(long (*fn)(void *arg), void *arg,
    struct pb_module *owner, uint32_t domain);
/* The same, for a call the hub's own code makes: module code runs on a
 * stack of its own (x86_64/stacks.c), so fn gets a copy of the `size`
 * bytes at arg there, copied back as the call returns or faults; size 0:
 * arg as it is.  PB_EBUSY: no room left. */
long arch_call_module(long (*fn)(void *arg), void *arg, size_t size,
    struct pb_module *owner, uint32_t domain);
/* Room module code may write, for an argument block the hub hands it:
 * `local` itself, or `size` bytes on the modules' stack when the hub runs
 * on its own, until arch_module_room_end; NULL: no room is left.
 * arch_module_arg and _end copy the block there and back. */
struct arch_room {
	uint64_t mod_sp;
};
void *arch_module_room(void *local, size_t size, struct arch_room *room);
void arch_module_room_end(const struct arch_room *room);
void *arch_module_arg(void *arg, size_t size, struct arch_room *room);
void arch_module_arg_end(void *arg, const void *copy, size_t size,
    const struct arch_room *room);
/* Protection domains (x86_64/domain.c): the domain m's code runs in;
 * the services table m is given; whether modules may write pages from
 * now on (mem.c says so for every record it makes or frees). */
uint32_t arch_domain_of(const struct pb_module *m);
/* The innermost guarded call goes on running m's code, in m's domain. */
void arch_guard_retarget(struct pb_module *m);
/* Back into m's domain, inside m's own call, from the hub's, which a
 * write of the hub's code there took (x86_64/domain.h, the hub retry). */
void arch_domain_enter(const struct pb_module *m);
const struct pb_hub *arch_domain_services(const struct pb_hub *real);
void arch_mem_domain(uint64_t base, uint64_t npages, int modules,
    struct pb_module *owner);
/* Note that `provider` was handed the object at p (its pages may be
 * granted to it on its first write, x86_64/grant.c). */
void arch_grant_note(const struct pb_module *provider, const void *p);
void arch_grant_blob(const struct pb_module *m, const void *buf,
    size_t len);		/* each pointer in a state blob m imports */
/* Connections between modules run as guarded calls (domain.c). */
struct conn;
void arch_conn_gate(struct conn *c);
void arch_conn_ungate(const struct conn *c, struct pb_conn *view);
/* What the services modules call in their own protection domain
 * (x86_64/domain.c) write: now_ns and work_post (work.c).  It lives where
 * every module may write: on the guard page (guard.S), like the guard
 * slots the same calls fill.  Hub code writing the hub's memory there
 * would take the hub's domain for the rest of the module's call
 * (domain.h, DOMAIN_HUB_RETRY), so a module's every later call into
 * another would switch domains.  A stray write may land on any of it:
 * shared.c says what the hub believes of it. */
#define POSTS_RING 64
struct hub_shared {
	/* The clock hook a module's now_ns runs: its deadline (CPU time, 0:
	 * none), its guard's index + 1 (0: no such hook runs), and a seal
	 * over both (shared.c). */
	volatile uint64_t hook_due;
	volatile uint32_t hook_depth;
	/* Items modules posted, not yet in the queue (work_post_shared). */
	uint32_t posts_in, posts_out;
	uint32_t unused;
	volatile uint64_t hook_seal;
	struct pb_work *posts[POSTS_RING];
};
extern struct hub_shared hub_shared;
/* Does addr lie in the hub's own image? */
int arch_hub_code(uint64_t addr);
/* Where the hub's own image or stack region holding addr ends (0: in
 * neither): memory a module may hand a service besides the ledger's. */
uint64_t arch_ram_known(uint64_t addr);
/* Could m's own code write [addr, addr + len) (x86_64/domain.c)? */
int arch_may_write(const struct pb_module *m, uint64_t addr, size_t len);
/* Write n bytes (or XOR them, flip) into the code of the image at
 * [base, base + size), at the first executable place from off % size on;
 * where, or 0 if none (inject.c; x86_64/codeflip.c). */
uint64_t arch_code_poke(uint64_t base, uint32_t size, uint32_t off,
    const uint8_t *bytes, unsigned n, int flip);
/* An 8-byte store made by code in the module's image, so that it is the
 * module's write: its domain's rights, its fault (fault injection). */
void arch_module_store(uint64_t base, uint32_t size, uint64_t addr,
    uint64_t val);

/* --- checks of what modules hand services (argcheck.c) ------------------- */
int hub_arg_known(const void *p, size_t len);
int hub_arg_writable(const struct pb_module *self, void *p, size_t len);
int hub_arg_str(const char *s, size_t max);
int hub_arg_code(const struct pb_module *self, const void *fn);
int hub_arg_bad(const struct pb_module *self, const char *service,
    const char *what, const void *p);
/* An output the hub's code writes for the module whose call runs (an
 * inventory service, an op of the hub's own resources): logged, naming
 * `service`, when that module could not write it itself. */
int hub_out_ok(const char *service, void *out, size_t len);

/* --- the boot ramdisk, the hub's module-source (ramdisk.c) -------------- */
#define RAMDISK_NAME "ramdisk"
void ramdisk_publish(const struct handoff *h);
int ramdisk_file(const char *name, const void **data, size_t *len);

/* --- the page allocator and memory ledger (mem.c) ---------------------- */
enum { MEM_KIND_PAGES, MEM_KIND_HEAP, MEM_KIND_IMAGE, MEM_KIND_MMIO,
    MEM_KIND_DMA };
void mem_add_range(uint64_t base, uint64_t size);
void *mem_alloc(struct pb_module *owner, size_t npages, uint32_t flags,
    int kind);
void *mem_alloc_at(struct pb_module *owner, size_t npages, uint64_t align,
    uint64_t boundary, uint64_t last, uint32_t flags, int kind);
int mem_kind_at(uint64_t addr, uint64_t *end);
struct pb_module *mem_holder(uint64_t addr);
int mem_free(struct pb_module *owner, void *p);
int mem_free_kind(struct pb_module *owner, void *p, int kind);
int mem_note_mmio(struct pb_module *owner, uint64_t base, size_t len);
void mem_domains_apply(void);	/* arch_mem_domain for every record */
/* --- protection keys per module (keys.c) ------------------------------- */
#define KEY_HUB 0			/* the hub's memory */
#define KEY_FIRST 1			/* keys 1..KEY_LAST: modules' */
#define KEY_LAST 14
#define KEY_SHARED 15			/* every module's: stack, grants */
#define KEYS 16
struct key_use {
	unsigned holders;		/* live modules that have the key */
	int related;			/* one is a client/provider of m's */
};
unsigned keys_pick(const struct key_use use[KEYS]);
unsigned hub_key_of(struct pb_module *m);
size_t mem_forget_mmio(struct pb_module *owner, uint64_t base);
void mem_unmap_unshared(uint64_t base, size_t len,
    void (*unmap)(void *va, size_t len));
uint64_t mem_free_pages(void);
uint64_t mem_owned(const struct pb_module *owner, int kind);
unsigned mem_reclaim(struct pb_module *owner,
    void (*unmap)(void *va, size_t len));
void mem_reset(void);

/* --- DMA memory (dma.c): the services of abi/pb.h ------------------------ */
void *dma_alloc(struct pb_module *self, size_t len, size_t align,
    uint64_t boundary, uint64_t limit, uint64_t *bus);
void dma_free(struct pb_module *self, void *va);
int dma_addr(struct pb_module *self, const void *va, size_t len,
    uint64_t *bus, size_t *run);
void dma_forget(struct pb_module *owner);
void *heap_alloc_small(struct pb_module *self, size_t len);
int units_free(struct pb_module *self, void *va);

/* --- modules (module.c) -------------------------------------------------- */
extern struct pb_module modules[MAX_MODULES];
extern unsigned nmodules;
struct pb_module *mod_register(const char *path, const void *file,
    size_t size);
struct pb_module *mod_register_instance(const char *path, const void *file,
    size_t size, const char *name, char *err, size_t cap);
struct pb_module *mod_find(const char *name);
int mod_load(struct pb_module *m);
int mod_start(struct pb_module *m, int mode);
void mod_stop(struct pb_module *m);
int mod_activate(struct pb_module *m);
int mod_unload(struct pb_module *m);
int mod_holds_nothing(struct pb_module *m, char *why, size_t cap);
const char *mod_state_name(int state);
struct pb_module *hub_module_at(uint64_t addr);
struct pb_module *hub_fault_culprit(uint64_t rip, struct pb_module *owner);
void hub_note_fault(struct pb_module *m, int vector, uint64_t rip,
    uint64_t addr);
long mod_call(struct pb_module *m, long (*fn)(void *), void *arg,
    size_t size);
long mod_call_watched(struct pb_module *m, long (*fn)(void *), void *arg,
    size_t size);
/* A module's swap entries (pb.h), in the order a swap runs them, watched;
 * a missing one answers PB_OK (an export: PB_OK and no state). */
enum { MOD_OP_QUIESCE, MOD_OP_EXPORT, MOD_OP_RELEASE, MOD_OP_IMPORT,
    MOD_OP_ACTIVATE, MOD_OP_RESUME };
#define MOD_STEP(op) (1u << (op))
struct mod_op {
	struct pb_module *m;
	void *buf;		/* export: cap bytes (NULL: the size) */
	size_t cap, len;
	uint32_t ver;
	/* mod_steps: the steps (MOD_STEP bits) to run, cleared as they
	 * pass; the one that answered last; an export that answered PB_OK
	 * with len > cap (turned into PB_EINVAL); `next` runs the steps
	 * from MOD_OP_IMPORT on, inside the same call. */
	unsigned steps, at;
	int overran;
	struct pb_module *next;
	size_t max;		/* mod_export: a longer state is none (0: any) */
};
/* Run `steps` of m in one watched call, in MOD_OP order, up to the first
 * that does not answer PB_OK; mod_op runs one. */
int mod_steps(struct pb_module *m, unsigned steps, struct mod_op *a);
int mod_op(struct pb_module *m, int which, struct mod_op *a);
int mod_quiesce(struct pb_module *m, uint64_t deadline);
int mod_export(struct pb_module *m, struct mod_op *a);
int mod_export_faulted(struct pb_module *m, struct mod_op *a);
void mod_handle_fault(struct pb_module *m);

/* --- resources and connections (res.c) ----------------------------------- */
extern struct pb_resource resources[MAX_RESOURCES];
extern struct conn conns[MAX_CONNS];
/* Counts every change of a resource or connection (published, withdrawn,
 * properties set, opened, closed, rebound): swap.c's check before a
 * blackout stands while it does not move. */
extern unsigned res_changes;
struct pb_resource *res_publish(struct pb_module *owner, const char *iface,
    const char *name, const char *props, const void *ops, void *ctx);
struct pb_resource *res_publish_own(const char *iface, uint16_t major,
    const char *name, const char *props, const void *ops, void *ctx);
int res_withdraw(struct pb_resource *r);
struct pb_resource *res_find(const char *name);
int res_path(const struct pb_resource *r, char *path, size_t cap);
/* Does provider serve c, directly or through c's providers' providers,
 * at most depth levels down? */
int mod_serves(const struct pb_module *provider, const struct pb_module *c,
    unsigned depth);
int res_same_disk(const struct pb_resource *r, const struct pb_module *m,
    const char *path);
struct pb_resource *res_find_disk(const struct pb_module *m,
    const char *path);
struct pb_resource *res_best(const char *iface, uint16_t major,
    uint16_t minor, const struct pb_module *exclude);
struct conn *conn_open(struct pb_module *client, struct pb_resource *r,
    int req);
struct conn *conn_open_any(struct pb_module *client, struct pb_resource *r,
    int req);
void conn_close(struct conn *c);
unsigned conn_count(const struct pb_module *client, int req);
void conn_rebind(struct conn *c, struct pb_resource *to);
void conn_tell(struct conn *c, int event);
void conn_fall_back(struct conn *c, const char *gone);
int conn_tell_gone(struct conn *c);
unsigned res_tell_gone(struct pb_module *m);
int res_hands_over(const struct pb_module *from, const struct pb_module *to);
void res_offer_module(struct pb_module *m);
void res_notify(struct pb_module *m, struct pb_resource *r);
int res_connect_requirements(struct pb_module *m, int at_start);
void res_offer(struct pb_resource *r);
unsigned res_count(const struct pb_module *m, unsigned *nconn);
unsigned res_clients(const struct pb_resource *r);
int res_full(const struct pb_resource *r);
void res_drop_module(struct pb_module *m);
int res_serves(const struct pb_resource *r, const char *iface, uint16_t major,
    uint16_t minor);

/* --- work, timers and interrupts (work.c) -------------------------------- */
int work_queue(struct pb_module *owner, pb_work_fn fn, void *arg);
void work_init(struct pb_module *owner, struct pb_work *w, pb_work_fn fn,
    void *arg);
void work_post(struct pb_work *w);
int work_post_ok(const struct pb_work *w);
void work_post_refused(const struct pb_work *w);
void work_post_shared(struct pb_work *w);	/* a module's, in its domain */
int work_queued(const struct pb_work *w);
void work_cancel(struct pb_work *w);
int work_run_one(void);
void hub_wait_step(uint64_t until);
void work_drop_module(struct pb_module *m);

/* The queue's order (workq.c): an item with the owner and generation it
 * had when posted, in the hub's memory. */
#define WORKQ_SLOTS 1024
struct workq_ent {
	struct pb_work *w;		/* NULL: a hole */
	struct pb_module *owner;
	uint32_t gen;
};
int workq_put(struct pb_work *w, struct pb_module *owner, uint32_t gen,
    int front);
uint32_t workq_start(void);
struct workq_ent *workq_next(uint32_t *at);
void workq_take(struct workq_ent *e);
int workq_holds(const struct pb_work *w);
int workq_empty(void);
int timer_add(struct pb_module *owner, uint64_t ns, pb_work_fn fn,
    void *arg);
int timer_add_every(struct pb_module *owner, uint64_t ns, uint64_t period,
    pb_work_fn fn, void *arg);
uint64_t hub_now_ns(void);
uint64_t hub_now_ns_svc(void);	/* the same, as modules' now_ns service */
struct watch {
	uint64_t since;		/* 0: no module call is watched */
	struct pb_module *owner;
	unsigned depth;		/* the index of its guard */
};
struct watch watch_begin(struct pb_module *m);
void watch_end(struct watch outer);
struct pb_module *hub_watchdog_due(void);
void hub_watchdog_rearm(void);
extern uint64_t hub_watchdog_ns;
/* The NMI's and the firmware timer's view (work.c): is the innermost
 * watched call or module interrupt handler, below guard depth `depth`,
 * overdue at CPU time `now` (arch_now_ns)?  hub_watch_unwound: the arch
 * side popped guard `index`: what ran there is over. */
int hub_watch_overdue(uint64_t now, unsigned depth);
void hub_watch_unwound(unsigned index);
int hub_watch_may_end(const struct pb_module *m,
    const struct pb_module *owner);
/* shared.c: what the hub believes of struct hub_shared (the record of
 * the clock hook a module's now_ns runs: shared.h): its deadline when the
 * record is whole and names a guard below `depth` (its index in *index),
 * else 0; a popped guard ends it; a damaged record said once. */
uint64_t shared_hook_due(uint64_t now, unsigned depth, unsigned *index);
void shared_hook_unwound(unsigned index);
void shared_say_damage(void);
unsigned arch_guard_depth(void);
/* The module whose guarded call is innermost now (NULL: none). */
struct pb_module *arch_guard_owner(void);
/* The address of the innermost guarded call's record, and of the count
 * of those records (fault injection). */
uint64_t arch_guard_slot(void);
uint64_t arch_guard_depth_word(void);
#define FAULT_WATCHDOG 256		/* fault_vector of a hung module */
#define FAULT_SELF 257			/* called a service as another module */
#define FAULT_ANSWER 258		/* a block submit's answer no refusal
					 * (shadow.c); fault_addr: it */
#define FAULT_ITEM 259			/* its work item names a wrong owner
					 * (work.c); fault_addr: the item */
#define FAULT_CODE 260			/* its code changed since its load
					 * (scrub.c); fault_addr: the code */
/* Where a module's fault happened (fault_where): in its own image, in the
 * hub's code during its call (a service it called), or at no code at all
 * (a jump to NULL or a wild address, a return to a bad address). */
enum { FAULT_IN_IMAGE, FAULT_IN_HUB, FAULT_IN_NOCODE };
/* The not-present page under the stack module code runs on (0: none): a
 * page fault there is a stack overflow.  Set by the arch side. */
extern uint64_t hub_stack_guard, hub_stack_top_guard;
int hub_set_clock(struct pb_module *owner, const struct pb_clock *clk,
    void *ctx);
int hub_arm_alarm(uint64_t deadline);
int hub_set_irq_eoi(struct pb_module *owner, pb_eoi_fn fn, void *ctx);
void timer_cancel(struct pb_module *owner, int id);
void timers_run(uint64_t now);
int irq_alloc(struct pb_module *owner);
int irq_register(struct pb_module *owner, int vector, pb_irq_fn fn,
    void *arg);
void irq_unregister(struct pb_module *owner, int vector);
void irq_hold_module(struct pb_module *m, int hold);
void irq_quarantine(struct pb_module *m);
extern struct pb_module hub_quarantine;	/* owns quarantined vectors */
unsigned irq_count(const struct pb_module *m);
unsigned irq_free_count(void);
uint64_t timers_next(void);
uint64_t irq_stats(int vector, struct pb_module **owner);
void hub_irq_dispatch(int vector);
long call_work(void *p);	/* how a work item is called, as its owner's */

/* --- fault injection (inject.c): run an injector in place of a call ------ */
enum { INJECT_ENTRY, INJECT_WORK, INJECT_IRQ };
void inject_hook(struct pb_module *m, int moment, pb_work_fn *fn);
int inject_due(const struct pb_module *m, int moment);	/* reads only */
void inject_entry(struct pb_module *m, long (**fn)(void *));
void inject_conn_arm(struct pb_module *m);	/* injconn.c */
int inject_control(const char *name, const char *spec, pb_line_fn out,
    void *o);

/* --- module files handed over at run time (images.c) ------------------- */
#define IMAGE_SLOTS 16
#define IMAGE_MAX (16u << 20)
int image_add(struct pb_module *self, const char *path, const void *data,
    size_t len);
int image_find(const char *path, const void **data, size_t *len);
void image_forget_all(void);

/* --- the swap engine (swap.c) -------------------------------------------- */
int swap_provider(struct pb_module *old, struct pb_module *new,
    const char *iface, char *err, size_t cap);
void swap_watch_fault(struct pb_module *m);

/* --- recovery from faults (recover.c) ------------------------------------ */
extern uint64_t fault_window_ns;	/* boot.cfg fault-window=MS */
int recover_gives_up(struct pb_module *m, uint64_t now);
void recover_hold(struct pb_module *m);
unsigned recover_replay(struct pb_module *m);
void recover_restart(struct pb_module *m, uint64_t t0);
void recover_give_up(struct pb_module *m);
void recover_swap_back(struct pb_module *m, uint64_t t0);
void recover_defer(void);
/* module code changed under it (scrub.c) */
void scrub_note(struct pb_module *m, const struct pe_image *img);
unsigned scrub_turn(void);
void scrub_repair(struct pb_module *m);
void scrub_start(void);
unsigned irq_poll_module(struct pb_module *m);
long arch_call_hook(long (*fn)(void *), void *arg, struct pb_module *owner);
void mod_handle_faults(void);
extern unsigned hub_in_irq;
void mem_give(struct pb_module *from, struct pb_module *to);
/* block connections' requests in flight (shadow.c) */
int shadow_bind(struct conn *c, struct pb_resource *r);
void shadow_hold(struct conn *c);
void shadow_unwrap(struct pb_conn *pub);
unsigned shadow_replay(struct conn *c);
void shadow_close(struct conn *c);
void shadow_client_gone(struct conn *c);
unsigned shadow_pending(const struct conn *c);
extern unsigned shadow_unnoted, shadow_failed;
int shadow_wraps(const struct pb_conn *pub);
struct block_req;
const struct conn *shadow_noter(const struct block_req *req);
struct block_ops;
void shadow_stand_in(struct conn *c, const struct block_ops *ops, void *ctx);
void shadow_state_taken(const void *state, size_t len, int taken);
unsigned shadow_out_for(const struct pb_module *m);
void shadow_out_tell(const struct pb_module *m);
void shadow_done_lost(const struct pb_work *w);
void work_item_died(const struct pb_module *m);
int shadow_calling(const struct pb_module *m);
void *shadow_book(size_t *len);
/* held connections waiting for their resource, a restart's state
 * (replay.c) */
int replay_wait(struct conn *c, struct pb_module *m, const char *name,
    const char *path);
unsigned replay_published(struct pb_resource *r);
void replay_save(struct pb_module *m);
int replay_start(struct pb_module *m);
void dma_give(struct pb_module *from, struct pb_module *to);

/* --- services to modules, control (services.c, control.c) ---------------- */
extern const struct pb_hub hub_services;		/* ABI 1.2 and later modules */
extern const struct pb_hub hub_services_11;	/* ABI 1.0 and 1.1 ones */
int hub_control(struct pb_module *caller, const char *cmd, pb_line_fn out,
    void *arg);
int hub_resolve_and_start(const char *iface, uint16_t major, uint16_t minor,
    char *err, size_t cap);
int hub_start_module(struct pb_module *m, char *err, size_t cap);
int hub_gc(const char *target, pb_line_fn out, void *arg);
int hub_unload(struct pb_module *m, char *err, size_t cap);
int hub_dependants(const struct pb_module *m, char *out, size_t cap);
void hub_start_deferred(void);
void hub_shutdown(void);	/* before a reset: file systems clean */
/* reset.c: a reset asked through firmware-rt (boot.c), with what comes
 * after the firmware's: the FADT's reset register, the 8042's pulse. */
enum { RESET_MEM, RESET_IO, RESET_PCI, RESET_SPACES };
struct reset_reg {
	unsigned space;		/* RESET_*, the GAS's address space id */
	uint64_t addr;
	uint8_t value;
};
#define RESET_WAIT_NS 100000000ull	/* for a reset to come */
int reset_reg_parse(const char *s, struct reset_reg *r);
struct handoff;
void hub_reset(const struct handoff *h, void *fw_ctx, int kind);
int arch_reset_write(const struct reset_reg *r);	/* PB_ENOTSUP: mem */
void arch_reset_8042(void);
void arch_reset_triple(void);	/* returns only in host tests */
void hub_bind(struct pb_resource *r);
void hub_bind_start(struct pb_module *m, struct pb_resource *r);
void hub_bind_connect(struct pb_module *m);
struct pb_resource *hub_bind_match(const struct pb_module *m);
int hub_binds(const struct pb_module *m, const struct pb_resource *r);
/* module.c: what m's descriptor declares. */
const struct pb_provide *mod_provides(const struct pb_module *m,
    const char *iface);
int mod_requires(const struct pb_module *m, const char *iface);
int hub_update_module(struct pb_module *old, struct pb_module *new,
    char *err, size_t cap);
int hub_update(const char *name, const char *source, char *err, size_t cap);
extern int hub_native;		/* boot services have been exited */
extern char hub_target[PB_IFACE_MAX];	/* what the boot resolves */
/* Read a file by path through the firmware (boot.c), load a module so. */
int hub_read_path(const char *path, const void **data, size_t *len,
    char *err, size_t cap);
int hub_load_path(const char *path, char *err, size_t cap);
void hub_loop_once(void);

/* --- disks parked over the takeover until their native driver (park.c) --- */
/* stay.c: would the takeover leave no keyboard, or a dark screen?
 * screen: 0 no screen, 1 a framebuffer, 2 a GOP without one. */
struct swap;
int takeover_leaves_nothing(int screen, const struct swap *sw, unsigned nsw,
    char *why, size_t cap);

/* chart.c */
int chart_mark(const char *name);
void chart_print(pb_line_fn out, void *arg);

extern uint64_t park_wait_ns;		/* boot.cfg disk-wait=MS */
unsigned park_module(struct pb_module *f);	/* before ExitBootServices */
void park_abort(void);			/* ExitBootServices failed */
void park_start_clock(void);		/* after it: the deadline runs */
void park_claim(struct pb_resource *r);	/* r is offered: its disk? */
void park_check(void);			/* the boot's end, then 100 ms */
void park_expire(void);			/* the deadline: the rest go */
/* r is withdrawn: kept for its clients if a provider under it is being
 * recovered (1), or not (0: they are told as always). */
int park_withdrawn(struct pb_resource *r);
extern uint64_t park_recovery_ns;	/* how long such a disk is kept */

/* --- the firmware keyboard, kept after the exit while the keys typed
 * before it wait and no native keyboard took them (kbdhold.c) --- */
extern uint64_t kbd_hold_wait_ns;	/* boot.cfg kbd-wait=MS */
void kbd_keep_prepare(void);	/* before ExitBootServices, swaps begun */
void kbd_keep_abort(void);		/* ExitBootServices failed */
/* After it and the swaps, before `firmware` goes: 1 if kept. */
int kbd_keep(const struct pb_resource *firmware);
int kbd_kept(const struct pb_module *m);	/* not unloaded at the exit */
void takeover_resume(struct pb_module *m);	/* quiesced: serves again */
/* A firmware-backed module's resource serving iface to clients (stay.c). */
struct pb_resource *firmware_serving(const char *iface);

/* --- the hub's own text on the screen (screen.c) ----------------------- */
struct fb_info;
void screen_init(const struct fb_info *fb);	/* the firmware's framebuffer */
void screen_log(const char *s, size_t len);	/* unless a module draws */
void screen_panic(void);	/* a fatal fault: the log's newest lines */

#endif
