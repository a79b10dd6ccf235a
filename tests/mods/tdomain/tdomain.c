/*
 * tdomain - test module: tries, in start(), one thing its protection
 * domain forbids, picked by boot.cfg `tdomain=WHAT`, and logs the address
 * first so a test can match the fault the hub charges to it:
 *
 *   code	write one byte of its own code (read+execute)
 *   data	run a `ret` placed in its own .data (no-execute)
 *   heap	run a `ret` placed in a page from alloc_pages (no-execute)
 *   hub	write one byte of the hub's memory (its own module record,
 *		which `self` points at): read-only to modules with
 *		isolation on, so the write faults; with isolate=no it
 *		succeeds, writing back the byte it read
 *   peer	call tdomainp's `add` (five arguments) and then its `crash`
 *		through a connection: the provider faults, and with
 *		isolation on the fault is charged to it, not to tdomain,
 *		whose call returns PB_EFAULT; a second call before the
 *		provider's recovery returns PB_EFAULT without reaching it
 *   deputy	ask hub_info and alloc_pages to write their answers into
 *		the hub's memory (its module record): refused, -11 and
 *		NULL, as it could not write there itself; then the ops of
 *		the hub's own resources, the same: log:hub's read and the
 *		ramdisk's read (-11); and log:hub's take and watch(NULL),
 *		which would take the shell's lines or its place as the
 *		log's reader (-4: only the reader's own)
 *   stack	write 16 KiB of the stack upward from its own frame, as a
 *		runaway copy into a local buffer would: with isolation
 *		on, the hub's frames are not there (x86_64/stacks.c) and
 *		the writes meet the guard page over the modules' stack
 *   log	become the reader of log:hub (its `watch` writes the
 *		hub's memory, in the hub's code), then do what `hub`
 *		does: the op ran as a service, in the hub's domain, and
 *		tdomain's rights came back with its return, so the write
 *		faults
 *
 * Loaded with takeover=no, start() runs in the firmware phase, under the
 * firmware's page tables.
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/log.h"
#include "../../../abi/modsrc.h"
#include "../../../abi/rt/rt.h"
#include "../tdomainp/tdomainp.h"

static const struct pb_hub *hub;
static struct pb_module *self;
static const int domain_ops;

typedef void (*fn_t)(void);

/* A `ret` in .data: writable, so never executable. */
static uint8_t data_code[16] = { 0xc3 };

static struct pb_work log_work;

static void
log_line_added(void *arg)
{
	(void)arg;
}

/* The hub's own resources' ops, asked what a module may not have. */
static void
deputy_ops(void *hubs)
{
	struct pb_conn *log = hub->connect(self, LOG_IFACE, LOG_MAJOR, 0, NULL);
	struct pb_conn *rd = hub->connect(self, MODSRC_IFACE, 1, 0,
	    MODSRC_IFACE ":ramdisk");
	struct log_line line;

	if (log) {
		pb_logf(hub, self, PB_LOG_INFO, "log:hub read into the hub's "
		    "memory: %d", PB_CALL(log, log_ops, read, 0, hubs));
		pb_logf(hub, self, PB_LOG_INFO, "log:hub take of the reader's "
		    "line: %d", PB_CALL(log, log_ops, take, &line));
		pb_logf(hub, self, PB_LOG_INFO, "log:hub watch(NULL) of the "
		    "reader's watch: %d", PB_CALL(log, log_ops, watch, NULL));
	}
	if (rd)
		pb_logf(hub, self, PB_LOG_INFO, "ramdisk read into the hub's "
		    "memory: %d", PB_CALL(rd, modsrc_ops, read, "tdomain.mod",
		    hubs, (size_t *)hubs + 1));
}

static void
poke(volatile uint8_t *p, const char *what)
{
	pb_logf(hub, self, PB_LOG_INFO, "writing %s at 0x%llx", what,
	    (unsigned long long)(uintptr_t)p);
	*p = *p;
	pb_logf(hub, self, PB_LOG_INFO, "wrote %s", what);
}

static void
run(void *code, const char *what)
{
	pb_logf(hub, self, PB_LOG_INFO, "running %s at 0x%llx", what,
	    (unsigned long long)(uintptr_t)code);
	((fn_t)code)();
	pb_logf(hub, self, PB_LOG_INFO, "ran %s", what);
}

static int
tdomain_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	char what[16];
	uint8_t *page;

	(void)mode;
	self = m;
	hub = h;
	if (!pb_setting(hub, "tdomain", what, sizeof(what)))
		rt_strlcpy(what, "code", sizeof(what));
	if (!strcmp(what, "code")) {
		poke((volatile uint8_t *)(uintptr_t)tdomain_start, "my code");
	} else if (!strcmp(what, "data")) {
		run(data_code, "my data");
	} else if (!strcmp(what, "heap")) {
		if (!(page = hub->alloc_pages(self, 1, PB_MEM_ZERO, NULL)))
			return PB_ENOMEM;
		page[0] = 0xc3;
		run(page, "my heap");
	} else if (!strcmp(what, "hub")) {
		poke((volatile uint8_t *)self, "the hub's memory");
	} else if (!strcmp(what, "log")) {
		struct pb_conn *c = hub->connect(self, LOG_IFACE, LOG_MAJOR, 0,
		    NULL);

		if (!c)
			return PB_ENODEV;
		hub->work_init(self, &log_work, log_line_added, NULL);
		pb_logf(hub, self, PB_LOG_INFO, "watching the log: %d",
		    PB_CALL(c, log_ops, watch, &log_work));
		poke((volatile uint8_t *)self, "the hub's memory");
	} else if (!strcmp(what, "deputy")) {
		void *hubs = self;

		pb_logf(hub, self, PB_LOG_INFO, "hub_info into the hub's "
		    "memory at 0x%llx: %d", (unsigned long long)(uintptr_t)hubs,
		    hub->hub_info(hubs));
		pb_logf(hub, self, PB_LOG_INFO, "alloc_pages with its phys "
		    "there: %s", hub->alloc_pages(self, 1, 0, hubs) ? "a page" :
		    "NULL");
		deputy_ops(hubs);
	} else if (!strcmp(what, "stack")) {
		volatile uint64_t *p = __builtin_frame_address(0);

		pb_logf(hub, self, PB_LOG_INFO, "writing the stack from 0x%llx",
		    (unsigned long long)(uintptr_t)p);
		for (unsigned i = 0; i < 2048; i++)
			p[i] = 0x4141414141414141ull;
		pb_logf(hub, self, PB_LOG_INFO, "wrote the stack");
	} else if (!strcmp(what, "peer")) {
		struct pb_conn *c = hub->connect(self, "tdomainp", 1, 0, NULL);

		if (!c)
			return PB_ENODEV;
		pb_logf(hub, self, PB_LOG_INFO, "provider adds 1..5: %d",
		    PB_CALL(c, tdomainp_ops, add, 1, 2, 3, 4, 5));
		pb_logf(hub, self, PB_LOG_INFO, "provider call returned %d",
		    PB_CALL(c, tdomainp_ops, crash));
		/* Its recovery comes when this call ends: until then the
		 * gate does not call it (its code may be what faulted). */
		pb_logf(hub, self, PB_LOG_INFO, "provider called again before "
		    "its recovery: %d", PB_CALL(c, tdomainp_ops, crash));
		pb_logf(hub, self, PB_LOG_INFO, "still running");
	}
	return hub->publish(self, "tdomain", "d0", "", &domain_ops, NULL) ?
	    PB_OK : PB_ENOMEM;
}

static const struct pb_module_ops ops = { .start = tdomain_start };

PB_MODULE(.name = "tdomain", .version = "1.0",
    .desc = "test: does what its protection domain forbids",
    .ops = &ops,
    .nprovides = 1, .provides = { PB_PROVIDE("tdomain", 1, 0) });
