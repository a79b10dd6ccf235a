/*
 * pb.h - the module ABI: what a module is, and what the hub offers it.
 *
 * A module is a PE32+ DLL with base relocations and no import table.  It
 * describes itself in a `.modinfo` section holding one `struct pb_modinfo`
 * (see PB_MODULE below); the hub reads that descriptor straight from the file
 * before running any of the module's code.  Every pointer inside the
 * descriptor is an absolute address relative to the image's preferred base,
 * so the hub turns it into an RVA by subtracting OptionalHeader.ImageBase and
 * checks it lies inside the image before using it.
 *
 * Rules a module lives by:
 *  - it includes only abi/ and its own folder;
 *  - it gets memory, MMIO, interrupt vectors and DMA buffers only through
 *    `struct pb_hub`, so the hub's ledger knows everything it holds;
 *  - it calls other modules only through connections (`struct pb_conn`),
 *    reading conn->ops and conn->ctx again on every call, so the hub can
 *    rebind a connection to another provider between two work items.
 *
 * Versions: the ABI is PB_ABI_MAJOR.PB_ABI_MINOR.  A hub accepts a module
 * whose abi_major equals its own and whose abi_minor is not newer.  Interfaces
 * are versioned the same way: a provider of `x M.m` serves a client asking for
 * `x M.n` when n <= m.  Minor versions only append operations.
 */
#ifndef PB_ABI_PB_H
#define PB_ABI_PB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define PB_ABI_MAJOR 1
#define PB_ABI_MINOR 4

#define PB_MODINFO_MAGIC 0x494d4250u	/* "PBMI" little-endian */

#define PB_NAME_MAX 24		/* module names, with the NUL */
#define PB_IFACE_MAX 16		/* interface names, with the NUL */
#define PB_VERSION_MAX 16
#define PB_DESC_MAX 64
#define PB_MATCH_MAX 96		/* a bind rule's property pattern */
#define PB_MAX_PROVIDES 6
#define PB_MAX_REQUIRES 10
#define PB_MAX_BINDS 4

/* Errors: negative return values.  0 means success. */
enum pb_err {
	PB_OK = 0,
	PB_RESUMED_LOST = 1,	/* resume only: see struct pb_modops */
	PB_ENOMEM = -1,		/* out of memory */
	PB_EINVAL = -2,		/* bad argument */
	PB_ENOENT = -3,		/* no such thing */
	PB_EBUSY = -4,		/* in use */
	PB_EIO = -5,		/* the device failed */
	PB_ETIMEDOUT = -6,	/* a bounded wait ran out */
	PB_ENOTSUP = -7,	/* not supported by this provider */
	PB_ESTATE = -8,		/* state blob of an unknown version */
	PB_EAGAIN = -9,		/* nothing now, try later */
	PB_ENODEV = -10,	/* the hardware is absent: decline cleanly */
	PB_EFAULT = -11,	/* the module faulted */
	/* ABI 1.2 */
	PB_ENOSPC = -12,	/* no space left (a full volume) */
	PB_EROFS = -13,		/* read-only medium or mount */
	PB_EMEDIA = -14,	/* the medium changed under the request */
	PB_ECANCELED = -15,	/* the request was cancelled (device gone) */
	PB_ENOTDIR = -16,	/* a path component is not a directory */
	PB_EISDIR = -17,	/* a directory where a file was wanted */
	PB_EEXIST = -18,	/* it exists already */
	PB_ENOTEMPTY = -19,	/* a directory that is not empty */
	PB_ECORRUPT = -20,	/* on-disk structures are inconsistent */
};

/* How many providers a requirement wants. */
enum pb_card {
	PB_CARD_ONE = 0,	/* exactly one: the best-ranked provider */
	PB_CARD_OPTIONAL = 1,	/* zero or one; never blocks a start */
	PB_CARD_ALL = 2,	/* every instance, now and later */
};

/* When a requirement must be met. */
enum pb_when {
	PB_AT_START = 0,	/* before start() is called */
	PB_LATER = 1,		/* accepted whenever it appears */
};

/* One interface a module provides.  `extends` names a base interface that a
 * provider of this one also serves (empty when none). */
struct pb_provide {
	char iface[PB_IFACE_MAX];
	uint16_t major, minor;
	char extends[PB_IFACE_MAX];
	uint16_t ext_major, ext_minor;
};
_Static_assert(sizeof(struct pb_provide) == 40, "pb_provide layout");

/* One requirement: interface, minimal version, cardinality, timing. */
struct pb_require {
	char iface[PB_IFACE_MAX];
	uint16_t major, minor;
	uint8_t card;		/* enum pb_card */
	uint8_t when;		/* enum pb_when */
	uint16_t reserved;
};
_Static_assert(sizeof(struct pb_require) == 24, "pb_require layout");

/* A bind rule: when a resource of `iface` appears whose properties match
 * `match` (space-separated key=value pairs, a value may end in `*`), the hub
 * loads this module for it (supply-driven loading). */
struct pb_bind {
	char iface[PB_IFACE_MAX];
	char match[PB_MATCH_MAX];
};
_Static_assert(sizeof(struct pb_bind) == 112, "pb_bind layout");

struct pb_module;	/* the hub's record of a loaded module (opaque) */
struct pb_resource;	/* a published resource (opaque) */
struct pb_conn;
struct pb_hub;

/* Why start() is called. */
enum pb_start_mode {
	PB_START_NORMAL = 0,	/* take the hardware and serve */
	PB_START_STANDBY = 1,	/* set up, publish, but touch no hardware */
};

/* Connection events, delivered to the client's event() entry. */
enum pb_event {
	PB_EV_CONNECTED = 1,	/* a new connection for requirement `req` */
	PB_EV_DISCONNECTED = 2,	/* the resource is gone; conn dies after this */
	PB_EV_REBOUND = 3,	/* conn now leads to another provider */
	PB_EV_RESOURCE = 4,	/* a resource appeared (subscriptions) */
	/* ABI 1.2, delivered to a provider: the client behind `conn` is
	 * going (unloaded, faulted, disconnected).  Called before the
	 * client's memory and vectors are taken back, so a bus provider
	 * can silence the client's device first (pci: bus mastering and
	 * MSI/MSI-X off).  `req` is the client's requirement index.
	 * A provider that could not (the device still masters the bus, read
	 * back) sets conn->ops to NULL: the hub then keeps the client's
	 * RAM and vectors out of use for good.  conn->client_data names
	 * the going client (hub 1.4 on): the `owner` of its requests'
	 * `done` items, so a provider can drop those requests without
	 * writing into them (usb-storage, ahci: mods/NAME/gone.c). */
	PB_EV_CLIENT_GONE = 5,
	/* ABI 1.4, delivered to a provider just before PB_EV_CLIENT_GONE
	 * for the same connection when the client goes because it faulted
	 * and no other driver waits to take the device back as it is (a
	 * swap's rollback): the device's state need not survive, so a bus
	 * provider may reset it (pci: function-level reset, the function
	 * withdrawn until it is back).  A provider may ignore it. */
	PB_EV_CLIENT_FAULTED = 6,
};

/* The `req` of a connection the hub made because a bind rule matched:
 * the resource the module was loaded for. */
#define PB_REQ_BIND (-2)
/* The `req` of a connection the module asked for itself (connect()). */
#define PB_REQ_NONE (-1)

/*
 * Concurrency (holds for every interface): a module's interrupt handlers,
 * work items and entry points run one at a time, in order; no two of them
 * overlap, except that an interrupt handler may cut into the module's own
 * work (it only acknowledges and posts work).  A provider serving several
 * clients keeps their shared state consistent itself.  Nothing in the ABI
 * relies on there being one CPU: when a second one comes, the hub adds a
 * spinlock type here and keeps this rule per module.
 *
 * The module's entry points.  Only start is mandatory; a module without
 * quiesce/export_state/import_state cannot be swapped out under clients.
 * Swap protocol (P old, P' new), each step run between two work items:
 *   P'.start(STANDBY); P.quiesce(); P.export_state(); P.release();
 *   P'.import_state(); P'.activate(); rebind; P.stop().
 * If a step fails: P'.stop(); P.resume() and P keeps serving.  A P' that
 * had activated is asked to release first (P'.release(); P'.stop()):
 * what it imported is P's again, and it completes none of it.
 *
 * ABI 1.2: quiesce may answer PB_EAGAIN: "I have stopped taking new work
 * but requests are still in flight".  The hub then keeps running the
 * event loop (P's interrupts and work still run, so completions arrive)
 * and calls quiesce again until it answers PB_OK or the deadline
 * (boot.cfg `swap-drain=MS`, default 1000) passes, which fails the swap
 * (P resumes).  P's interrupts are held while quiesce runs (one that
 * comes then is delivered if it answers PB_EAGAIN) and from its PB_OK on,
 * not while it drains.
 */
struct pb_module_ops {
	int (*start)(struct pb_module *self, const struct pb_hub *hub, int mode);
	void (*stop)(struct pb_module *self);
	int (*quiesce)(struct pb_module *self);
	/* Write the state into buf (cap bytes); buf NULL asks for the size
	 * (the hub asks before quiesce).  A buf too small: an error, with
	 * *len the size needed. */
	int (*export_state)(struct pb_module *self, void *buf, size_t cap,
	    size_t *len, uint32_t *version);
	int (*import_state)(struct pb_module *self, const void *buf, size_t len,
	    uint32_t version);
	int (*release)(struct pb_module *self);		/* let go of hardware */
	int (*activate)(struct pb_module *self);	/* take it (after import) */
	int (*resume)(struct pb_module *self);		/* undo quiesce+release */
	/* resume may answer PB_RESUMED_LOST: serving again, but what its
	 * clients had set up is gone (a picture the other driver's mode
	 * change wiped): the hub tells them PB_EV_REBOUND, so they set it
	 * up again, as after any rebind. */
	void (*event)(struct pb_module *self, int event, struct pb_conn *conn,
	    int req);
};

/* The descriptor, in the `.modinfo` section. */
struct pb_modinfo {
	uint32_t magic;			/* PB_MODINFO_MAGIC */
	uint16_t abi_major, abi_minor;
	char name[PB_NAME_MAX];
	char version[PB_VERSION_MAX];
	char desc[PB_DESC_MAX];
	int32_t rank;			/* higher supersedes lower */
	uint32_t flags;			/* PB_MOD_* */
	uint8_t nprovides, nrequires, nbinds, reserved;
	uint32_t reserved2;
	struct pb_provide provides[PB_MAX_PROVIDES];
	struct pb_require requires[PB_MAX_REQUIRES];
	struct pb_bind binds[PB_MAX_BINDS];
	const struct pb_module_ops *ops;
};
_Static_assert(offsetof(struct pb_modinfo, provides) == 128, "modinfo");
_Static_assert(sizeof(struct pb_modinfo) == 128 + 6 * 40 + 10 * 24 + 4 * 112 + 8,
    "pb_modinfo layout");

#define PB_MOD_BOOT	0x1u	/* boot-only: gc may unload it once unused */
#define PB_MOD_HARDWARE	0x2u	/* drives hardware: started after takeover */
#define PB_MOD_FIRMWARE	0x4u	/* uses firmware boot services */
/* Started at boot although nothing requires it: bus enumerators and
 * platform services (pci, timer), whose resources bind rules and the hub
 * itself use. */
#define PB_MOD_AUTOSTART 0x8u
/* What it exports describes its clients' work only (open files, their
 * queued requests), nothing of its own memory or device: after a fault
 * the hub gives it to the restarted instance (hub/replay.c). */
#define PB_MOD_RESTATE	0x10u

/* Memory flags for alloc_pages. */
#define PB_MEM_ZERO	0x1u	/* zero-filled */
#define PB_MEM_DMA32	0x2u	/* physical address below 4 GiB */

/* Cache types for map_mmio. */
enum pb_cache { PB_CACHE_UC = 0, PB_CACHE_WC = 1, PB_CACHE_WB = 2 };

/* Log levels. */
enum pb_level { PB_LOG_ERR = 0, PB_LOG_WARN = 1, PB_LOG_INFO = 2, PB_LOG_DEBUG = 3 };

/*
 * A connection: the client's handle on a resource.  The hub owns it; the
 * client reads ops and ctx afresh on every call (use PB_CALL), never keeping
 * either across calls.  `res` names the resource for the client's own use.
 */
struct pb_conn {
	const void *ops;	/* the provider's operations for this interface */
	void *ctx;		/* the provider's instance */
	void *client_data;	/* free for the client */
	const char *res;	/* resource name, e.g. "console:serial0" */
};

/* Call operation `op` of interface struct `type` through connection `c`. */
#define PB_CALL(c, type, op, ...) \
	(((const struct type *)(c)->ops)->op((c)->ctx, ##__VA_ARGS__))

/* What a resource looks like through the hub's inventory services.
 * ABI 1.2 (res_info_sized): `struct_size` first, set by the caller to the
 * size of the struct it has; the hub fills no more than that. */
struct pb_res_info {
	uint32_t struct_size;
	const char *name;	/* "display:gop0" */
	const char *iface;
	uint16_t major, minor;
	const char *props;	/* "w=1024 h=768 fmt=bgrx" */
	const char *owner;	/* module name */
	uint32_t clients;
	const char *client;	/* the first client's module name, or NULL */
	/* ABI 1.3 (res_info_sized only) */
	uint32_t standby;	/* published by a standby instance: no clients */
	int32_t owner_mod;	/* the owner's mod_info index, -1: the hub */
};

/* One module, as the inventory services tell it.  ABI 1.2
 * (mod_info_sized): `struct_size` first, as in pb_res_info. */
struct pb_mod_info {
	uint32_t struct_size;
	const char *name;
	const char *version;
	const char *state;	/* "known", "running", "standby", ... */
	const struct pb_modinfo *desc;
	uint64_t base, size;	/* image */
	uint64_t pages;		/* pages held (image, heap, DMA) */
	uint32_t nres, nconn, nirq;
	/* ABI 1.3 (mod_info_sized only): of `pages`, the image's; and the
	 * MMIO mapped, in pages. */
	uint64_t image_pages, mmio_pages;
};

/* ABI 1.3: the hub itself (hub_info). */
struct pb_hub_info {
	uint32_t struct_size;
	const char *target;	/* boot.cfg's target interface ("os") */
	const char *target_provider;	/* the module serving it, or NULL */
	int32_t target_mod;	/* its mod_info index, or -1 */
	uint64_t pages, mmio_pages;	/* held by the hub itself */
	uint64_t free_pages;
	uint32_t free_vectors;
};

/* ABI 1.3: one connection (conn_info), by index; resource NULL while
 * the client waits for a provider. */
struct pb_conn_info {
	uint32_t struct_size;
	const char *client;	/* module name, "hub" for the hub's own */
	const char *res;	/* "console:com1", or NULL */
	const char *iface;	/* the resource's interface */
	const char *owner;	/* the resource's module, "hub" for the hub */
	int32_t client_mod, owner_mod;	/* mod_info indexes, -1: the hub */
};

/* ABI 1.3: one interrupt vector (irq_info). */
struct pb_irq_info {
	uint32_t struct_size;
	uint64_t count;		/* interrupts taken */
	const char *owner;	/* module name, or NULL when free or the hub's */
	int32_t owner_mod;	/* its mod_info index, or -1 */
};

typedef void (*pb_work_fn)(void *arg);

/*
 * ABI 1.2: a work item the module owns, in its own memory.  work_init
 * sets it up once for its owner (the module whose work it is); work_post
 * queues it to run fn(arg) once on the event loop, from anywhere (an
 * interrupt handler, another module's work: a block provider posts its
 * client's completion this way).  Posting never allocates and does not
 * fail short of the hub's 1024 queued items: an item already queued stays
 * queued once.  work_cancel takes it off the queue; after it returns fn
 * does not run for any earlier post (cancel an item before freeing its
 * memory).  The fields after `arg` are the hub's; the queue itself is
 * kept in the hub's memory, and an item whose owner was written over is
 * its holder's fault (docs/abi.md).
 */
struct pb_work {
	pb_work_fn fn;
	void *arg;
	struct pb_work *next;
	struct pb_module *owner;
	uint32_t gen;
	uint32_t queued;
};
_Static_assert(sizeof(struct pb_work) == 40, "pb_work layout");
typedef void (*pb_irq_fn)(void *arg);
typedef void (*pb_line_fn)(void *arg, const char *line);

/* A clock and alarm a timer provider gives the hub (set_clock). */
struct pb_clock {
	uint64_t (*now_ns)(void *ctx);		/* monotonic */
	/* Interrupt once, ns from now (replacing the previous request);
	 * ns == ~0 cancels.  Called with interrupts held. */
	void (*arm)(void *ctx, uint64_t ns);
};

/* An interrupt controller's end-of-interrupt hook (set_irq_eoi). */
typedef void (*pb_eoi_fn)(void *ctx, int vector);

/*
 * The hub's services.  Every call names the calling module (`self`), so the
 * ledger records what it takes.  `size` is the size of this table as the hub
 * built it: services are only appended, and a module checks size before
 * calling one newer than ABI 1.0.
 */
struct pb_hub {
	uint32_t size;
	uint16_t abi_major, abi_minor;

	void (*log)(struct pb_module *self, int level, const char *msg);

	/* Memory: pages come zeroed when asked, and are mapped RW+NX. */
	void *(*alloc_pages)(struct pb_module *self, size_t npages,
	    uint32_t flags, uint64_t *phys);
	void (*free_pages)(struct pb_module *self, void *va, size_t npages);
	void *(*alloc)(struct pb_module *self, size_t bytes);
	void (*free)(struct pb_module *self, void *p);
	void *(*map_mmio)(struct pb_module *self, uint64_t phys, size_t len,
	    int cache);
	void (*unmap_mmio)(struct pb_module *self, void *va);

	/* Resources this module provides.  `props` is copied. */
	struct pb_resource *(*publish)(struct pb_module *self,
	    const char *iface, const char *name, const char *props,
	    const void *ops, void *ctx);
	int (*set_props)(struct pb_module *self, struct pb_resource *r,
	    const char *props);
	int (*withdraw)(struct pb_module *self, struct pb_resource *r);

	/* Connections this module makes beyond its declared requirements. */
	struct pb_conn *(*connect)(struct pb_module *self, const char *iface,
	    uint16_t major, uint16_t minor, const char *resname);
	void (*disconnect)(struct pb_module *self, struct pb_conn *c);
	/* Tell me (event PB_EV_RESOURCE) when a resource of iface appears. */
	int (*subscribe)(struct pb_module *self, const char *iface);

	/* Deferred work: runs to completion on the event loop. */
	int (*queue_work)(struct pb_module *self, pb_work_fn fn, void *arg);

	/* Interrupts: a handler acknowledges and queues work. */
	int (*irq_alloc)(struct pb_module *self);	/* a free vector */
	/* A vector of self's, or (a swap handing self a device: both bound
	 * to it) one of the old driver's, which the device's MSI names. */
	int (*irq_register)(struct pb_module *self, int vector, pb_irq_fn fn,
	    void *arg);
	/* vector | PB_IRQ_ON_LOOP: the handler may run on the
	 * event loop, as self's work, after the interrupt's end, so that it
	 * and the work it posts itself run in one call (one protection-domain
	 * switch, hub/work.c).  For a message-signalled (edge) source only:
	 * the device is not quieted before the end of interrupt.  A hub that
	 * does not know it answers PB_EINVAL: register without it. */
	void (*irq_unregister)(struct pb_module *self, int vector);

	/* Time: nanoseconds since boot; one-shot timers run as work. */
	uint64_t (*now_ns)(void);
	int (*timer_after)(struct pb_module *self, uint64_t ns, pb_work_fn fn,
	    void *arg);
	/* After timer_cancel returns, fn does not run for this timer, even
	 * if its expiry was already due and queued (ABI 1.2 guarantees it;
	 * a 1.1 hub did not). */
	void (*timer_cancel)(struct pb_module *self, int id);

	/* Inventory and control, for the shell and tools. */
	int (*mod_info)(unsigned index, struct pb_mod_info *out);
	int (*res_info)(const char *module, unsigned index,
	    struct pb_res_info *out);
	int (*control)(struct pb_module *self, const char *cmd,
	    pb_line_fn out, void *arg);

	/* ABI 1.1 (check size first). */
	/* fn(arg) runs as work every ns until timer_cancel. */
	int (*timer_every)(struct pb_module *self, uint64_t ns, pb_work_fn fn,
	    void *arg);
	/* Become the hub's clock and alarm (a timer provider); clk NULL
	 * gives them back.  The hub keeps now_ns monotonic across the
	 * change. */
	int (*set_clock)(struct pb_module *self, const struct pb_clock *clk,
	    void *ctx);
	/* Become the end-of-interrupt hook run after every device vector's
	 * handler (an interrupt controller); fn NULL gives it back. */
	int (*set_irq_eoi)(struct pb_module *self, pb_eoi_fn fn, void *ctx);
	/* Accept at most max clients on resource r (pci: one driver). */
	int (*res_limit)(struct pb_module *self, struct pb_resource *r,
	    unsigned max);

	/* ABI 1.2 (check size first). */
	/* DMA memory: `len` bytes (less than a page is fine) aligned to
	 * `align` (a power of two, at most 4096 for sub-page requests),
	 * not crossing a multiple of `boundary` (a power of two, 0: none),
	 * wholly at or below bus address `limit` (~0: anywhere), zeroed.
	 * Returns the CPU address; *bus is what the device is given.  A
	 * driver never assumes the two are equal. */
	void *(*dma_alloc)(struct pb_module *self, size_t len, size_t align,
	    uint64_t boundary, uint64_t limit, uint64_t *bus);
	void (*dma_free)(struct pb_module *self, void *va);
	/* The bus address of `va` in memory the caller may hand a device
	 * (its own pages, or a buffer a client gave it for a request), and
	 * how many bytes from there are contiguous on the bus (*run, at most
	 * len).  PB_EINVAL for memory that is not RAM. */
	int (*dma_addr)(struct pb_module *self, const void *va, size_t len,
	    uint64_t *bus, size_t *run);
	/* Intrusive work (struct pb_work above). */
	void (*work_init)(struct pb_module *self, struct pb_work *w,
	    pb_work_fn fn, void *arg);
	void (*work_post)(struct pb_module *self, struct pb_work *w);
	void (*work_cancel)(struct pb_module *self, struct pb_work *w);
	/* Inventory with sized structs: the hub fills at most the caller's
	 * struct_size bytes and sets struct_size to what it filled.
	 * mod_info and res_info above fill the layout the caller was built
	 * with: the 1.1 one (no struct_size) for a module whose descriptor
	 * says ABI 1.0 or 1.1, the whole 1.2 struct otherwise. */
	int (*mod_info_sized)(unsigned index, struct pb_mod_info *out);
	int (*res_info_sized)(const char *module, unsigned index,
	    struct pb_res_info *out);
	/* Hand the hub a module file read from a file system, by the path
	 * it has there (`/esp/patchbay/mods/ahci.mod`, < 64 bytes): the hub
	 * keeps a copy, and `load PATH` and `update MODULE PATH` (control)
	 * find it by that path after the firmware is gone.  PB_EBUSY when
	 * every slot holds an image a module still uses. */
	int (*mod_image)(struct pb_module *self, const char *path,
	    const void *data, size_t len);

	/* ABI 1.3 (check size first): the rest of the inventory, for the
	 * listings the shell prints (abi/rt/inventory.c).  Sized structs as
	 * in mod_info_sized; PB_ENOENT past the last index (conn_info) or
	 * vector (irq_info, 0..255).  mod_info and res_info fill no more
	 * than their ABI 1.2 layout for modules built for 1.2 or later:
	 * the fields added since come through the _sized calls. */
	int (*hub_info)(struct pb_hub_info *out);
	int (*conn_info)(unsigned index, struct pb_conn_info *out);
	int (*irq_info)(unsigned vector, struct pb_irq_info *out);

	/* ABI 1.4 (check size first): the hub's formatter, rt_vsnprintf's
	 * formats (abi/rt/rt.h), so that a module need not carry a copy
	 * (abi/rt/thin/fmt.c).  Writes only buf; runs in the caller's
	 * domain. */
	int (*vformat)(char *buf, size_t size, const char *fmt, va_list ap);
};

#define PB_IRQ_ON_LOOP 0x10000

/*
 * PB_MODULE(name, ...) defines the module's descriptor in `.modinfo`.
 * Use designated initialisers for the rest, e.g.
 *   PB_MODULE(.name = "serial", .version = "1.0", .ops = &serial_ops,
 *       .nprovides = 1, .provides = { PB_PROVIDE("console", 1, 0) });
 */
#define PB_MODULE(...) \
	__attribute__((used, section(".modinfo"))) \
	const struct pb_modinfo pb_modinfo = { \
		.magic = PB_MODINFO_MAGIC, \
		.abi_major = PB_ABI_MAJOR, .abi_minor = PB_ABI_MINOR, \
		__VA_ARGS__ }

#define PB_PROVIDE(i, ma, mi) { .iface = i, .major = ma, .minor = mi }
#define PB_PROVIDE_EXT(i, ma, mi, b, bma, bmi) \
	{ .iface = i, .major = ma, .minor = mi, .extends = b, \
	  .ext_major = bma, .ext_minor = bmi }
#define PB_REQUIRE(i, ma, mi, c, w) \
	{ .iface = i, .major = ma, .minor = mi, .card = c, .when = w }
#define PB_BIND(i, m) { .iface = i, .match = m }

#endif
