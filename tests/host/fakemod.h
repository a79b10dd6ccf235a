/*
 * fakemod.h - fake modules for the host tests of the hub's core: the swap
 * engine, resources and connections, the ledger, work and interrupts.
 *
 * A fake module is a slot of the hub's own `modules[]` filled by hand: a
 * descriptor (name, rank, provides, requires), the shared host entry points
 * (fm_ops) and state MOD_LOADED, so mod_load is skipped.  Its test-side
 * state is a `struct fm`, found from the module with fm_of().
 *
 * Providers serve `tcon`, a text console (struct tcon_ops): each published
 * resource is one instance with a line counter and a buffer of unflushed
 * text.  While quiesced an instance accepts nothing (PB_EBUSY).  The state
 * blob carries every instance; fm_last_export/fm_last_import keep copies so
 * tests can check it travelled byte for byte.
 *
 * Every entry point appends "NAME.step" to fm_trace (space separated), and
 * each can be told to fail (fail_at, returning fail_err) or to fault
 * (fault_at, through fake_fault) at a chosen step.  Clients record their
 * events in the trace too: "C.rebound(tcon:b0)".
 *
 * fm_add_loadable() also gives the module a minimal PE image (one data
 * section holding a copy of fm_ops, no relocations to apply), so that the
 * hub can unload it and load it again: restarts and A -> B -> A swaps.
 *
 * Each test calls fm_setup() first and fm_teardown() last.  fm_setup()
 * clears modules[], resources[], conns[], the work queue, the timers and
 * vectors of earlier tests, the swap statistics and the log capture, and
 * gives the page allocator a fresh 4 MiB arena.  work.c has no reset
 * function: queued items and timers are dropped by owner, the hub's own
 * timers cancelled by id, and the queue drained (see forget_everything).
 * services.c's subscriptions cannot be reset at all: do not subscribe.
 */
#ifndef PB_TESTS_FAKEMOD_H
#define PB_TESTS_FAKEMOD_H

#include "fake_arch.h"
#include "../../hub/swap.h"

/* The interface fake providers serve. */
struct tcon_ops {
	int (*write)(void *ctx, const char *s);	/* PB_EBUSY while quiesced */
	int (*flush)(void *ctx);		/* drop the unflushed text */
	unsigned (*lines)(void *ctx);		/* newlines written so far */
};

/* Steps where a fake can be told to fail or fault. */
enum fm_step {
	FM_NONE,
	FM_START,		/* start(NORMAL) */
	FM_STANDBY,		/* start(STANDBY) */
	FM_QUIESCE,
	FM_EXPORT_SIZE,		/* export_state(NULL, ...): the size query */
	FM_EXPORT,		/* export_state(buf, ...) */
	FM_RELEASE,
	FM_IMPORT,
	FM_ACTIVATE,
	FM_RESUME,
	FM_EVENT,		/* event(), as a client */
	FM_WRITE,		/* tcon write() through a connection */
	FM_GONE,		/* event(PB_EV_CLIENT_GONE), as a provider */
};

#define FM_RES_MAX 4
#define FM_TEXT_MAX 200
#define FM_STATE_VERSION 1
#define FM_BLOB_MAX 16384

struct fm;

/* One published tcon resource. */
struct fm_inst {
	struct fm *fm;
	int k;
	unsigned lines;
	char text[FM_TEXT_MAX];		/* unflushed, NUL-terminated */
	unsigned writes;
};

struct fm {
	struct pb_module *m;
	const struct pb_hub *hub;	/* as start() received it */
	/* what start() publishes: iface, name and props of each resource */
	struct {
		char iface[PB_IFACE_MAX];
		char name[32];
		char props[64];
	} pub[FM_RES_MAX];
	int npub;
	const struct tcon_ops *iops;	/* the ops it publishes */
	struct pb_resource *res[FM_RES_MAX];
	struct fm_inst inst[FM_RES_MAX];
	size_t heap_pages;		/* start() takes this much heap */
	void *heap;
	int want_irq;			/* start() allocates and registers a vector */
	int irq_vector;
	unsigned nirq;			/* interrupts its handler saw */
	size_t pad;			/* extra bytes in the state blob */
	size_t export_lie;		/* the second export claims this many
					 * bytes more than it wrote */
	int withdraw_at_activate;	/* activate withdraws resource 0 */
	uint32_t export_version;	/* version export reports */
	uint32_t import_version;	/* the only version import accepts */
	/* inject */
	int fail_at, fail_err;		/* enum fm_step, error returned */
	int fault_at;			/* enum fm_step */
	uint64_t tick_ns;		/* every entry point moves fake_now */
	unsigned again;			/* quiesce answers PB_EAGAIN first,
					 * this many times (~0u: always) */
	/* flags and counters */
	int quiesced, released, active;
	unsigned nstart, nstop, nresume, nevents;
	int last_mode;
	/* as a client */
	struct pb_conn *conn[PB_MAX_REQUIRES];	/* by requirement, CONNECTED */
	unsigned nconnected, nrebound, ndisconnected, nresource;
	/* as a provider */
	unsigned ngone;			/* PB_EV_CLIENT_GONE events */
};

extern struct fm fms[MAX_MODULES];
extern const struct tcon_ops fm_tcon_ops[4];	/* identical, distinct */
extern const struct pb_module_ops fm_ops;
extern const struct pb_module_ops fm_ops_noexport;	/* no export_state */
/* Called at every step of every fake, after the trace (NULL: none). */
extern void (*fm_step_hook)(struct fm *f, int step);
/* Called at every event of every fake, after the trace (NULL: none). */
extern void (*fm_event_hook)(struct fm *f, int event, struct pb_conn *c,
    int req);
extern char fm_trace[4096];
extern unsigned char fm_last_export[FM_BLOB_MAX];
extern size_t fm_last_export_len;
extern unsigned char fm_last_import[FM_BLOB_MAX];
extern size_t fm_last_import_len;
extern uint32_t fm_last_import_version;

void fm_setup(void);
void fm_teardown(void);

/* A module named `name` of rank `rank`, MOD_LOADED, with fm_ops. */
struct fm *fm_add(const char *name, int rank);
struct fm *fm_add_running(const char *name);
/* The same, MOD_KNOWN, with an image the hub loads (and reloads). */
struct fm *fm_add_loadable(const char *name, int rank);
struct fm *fm_of(const struct pb_module *m);

void fm_provide(struct fm *f, const char *iface, uint16_t major,
    uint16_t minor);
void fm_provide_ext(struct fm *f, const char *iface, uint16_t major,
    uint16_t minor, const char *base, uint16_t bmajor, uint16_t bminor);
void fm_require(struct fm *f, const char *iface, uint16_t major,
    uint16_t minor, int card, int when);
/* start() will publish "iface:name" (the iface must be provided). */
void fm_publish(struct fm *f, const char *iface, const char *name,
    const char *props);
/* fm_provide(iface 1.0) and fm_publish(iface, name). */
void fm_serve(struct fm *f, const char *iface, const char *name);

/* Start as lifecycle's start_one does: AT_START requirements, start(NORMAL),
 * LATER requirements; then run the work queue (offers).  */
int fm_start(struct fm *f);
/* Run queued work until the queue is empty; returns how many ran. */
int fm_run_work(void);
/* Move the clock by ns, run due timers and the work they queue. */
void fm_advance(uint64_t ns);

/*
 * The recovery tests' world: `bus` serves tcon:bus0 to `drv` (loadable,
 * rank 5), which serves tdrv:drv0 to `app`.  fm_chain_start starts the
 * three and says whether app is connected to drv's resource (the log goes
 * to stderr when a start fails).
 */
void fm_chain_add(struct fm **bus, struct fm **drv, struct fm **app);
int fm_chain_start(struct fm *bus, struct fm *drv, struct fm *app);
/* A work item that faults as module m (arg); fm_fault runs one in f. */
void fm_fault_work(void *m);
void fm_fault(struct fm *f);
/* How many times needle occurs in hay. */
unsigned fm_count(const char *hay, const char *needle);

/* The client's connection: for requirement req, the n-th one. */
struct conn *fm_conn(const struct fm *client, int req, unsigned n);
/* The connection to the resource a bind rule loaded it for. */
struct conn *fm_bind_conn(const struct fm *f);
/* The resource that connection leads to, NULL when there is none. */
struct pb_resource *fm_conn_res(const struct fm *client, int req, unsigned n);
/* How many connections client holds (all requirements), or to r. */
unsigned fm_nconns(const struct fm *client);
/* A tcon call through a client's connection (PB_ENOENT when it is
 * gone, rather than a crash of the test). */
int fm_write(struct conn *c, const char *s);
unsigned fm_lines(struct conn *c);
/* The instance a connection leads to (its ctx). */
struct fm_inst *fm_inst_of(struct conn *c);
/* Resources owned by f (used slots). */
unsigned fm_nres(const struct fm *f);

/*
 * Run fn in a child process, so that a crash of the hub (a NULL pointer,
 * a sanitizer report) fails one test instead of ending the whole run.  fn
 * returns NULL when all went well, or what went wrong (see FM_ICHECK).
 * Returns NULL, fn's complaint, or "crashed ..." when the child died.
 */
const char *fm_isolated(const char *(*fn)(void));
#define FM_STR2(x) #x
#define FM_STR(x) FM_STR2(x)
#define FM_ICHECK(cond) \
	do { \
		if (!(cond)) \
			return __FILE__ ":" FM_STR(__LINE__) ": " #cond; \
	} while (0)

void fm_trace_clear(void);
/* Everything the hub logged since fm_setup(). */
const char *fm_log(void);
int fm_log_has(const char *needle);

#endif
