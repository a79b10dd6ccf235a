/*
 * tcrash - test module: faults on purpose outside its own code, so the
 * hub must charge the fault to the module whose call is innermost, not
 * to where the instruction pointer lies.  boot.cfg `tcrash=CLASS` picks
 * the fault, `tcrash-in=start` runs it in start() instead of a timer's
 * work item:
 *
 *   null	call through a NULL function pointer
 *   wild	jump to an address where nothing is mapped
 *   ret	return to a bad address
 *   svc	hand alloc_pages a pointer to its own code as `phys`: with
 *		isolate=no the hub faults writing it, inside the service,
 *		during this call; with isolation on it refuses it first
 *   stack	recurse without end onto the stack's guard page
 *   badarg	hand log a wild pointer: refused with an error, no fault
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/rt/rt.h"

static const struct pb_hub *hub;
static struct pb_module *self;
static const int crash_ops;
static char what[16];

typedef void (*fn_t)(void);
/* Volatile: the compiler must not see that it calls NULL. */
static fn_t volatile null_fn;

/* Never zero, but the compiler cannot know: the recursion has no end. */
static volatile unsigned depth_limit = ~0u;

static unsigned __attribute__((noinline))
recurse(unsigned n)
{
	volatile uint8_t frame[512];

	frame[0] = (uint8_t)n;
	if (n == depth_limit)
		return 0;
	return recurse(n + 1) + frame[0];
}

static void
crash(void *arg)
{
	(void)arg;
	pb_logf(hub, self, PB_LOG_INFO, "crashing: %s", what);
	if (!strcmp(what, "null")) {
		null_fn();
	} else if (!strcmp(what, "wild")) {
		((fn_t)(uintptr_t)0x0000414141414000ull)();
	} else if (!strcmp(what, "ret")) {
		__asm__ volatile("pushq %0; ret" : : "r"(0x0000424242424000ull));
	} else if (!strcmp(what, "svc")) {
		hub->alloc_pages(self, 1, 0, (uint64_t *)(uintptr_t)crash);
	} else if (!strcmp(what, "stack")) {
		pb_logf(hub, self, PB_LOG_INFO, "recursed %u",
		    recurse(0));
	} else if (!strcmp(what, "badarg")) {
		hub->log(self, PB_LOG_INFO, (const char *)(uintptr_t)0x10);
		pb_logf(hub, self, PB_LOG_INFO, "still running after badarg");
	}
}

static int
tcrash_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	char in[16];

	self = m;
	hub = h;
	if (!pb_setting(hub, "tcrash", what, sizeof(what)))
		rt_strlcpy(what, "null", sizeof(what));
	if (pb_setting(hub, "tcrash-in", in, sizeof(in)) &&
	    !strcmp(in, "start"))
		crash(NULL);
	if (hub->timer_after(self, 50000000ull, crash, NULL) < 0)
		return PB_ENOMEM;
	return hub->publish(self, "tcrash", "c0", "", &crash_ops, NULL) ?
	    PB_OK : PB_ENOMEM;
}

static const struct pb_module_ops ops = { .start = tcrash_start };

PB_MODULE(.name = "tcrash", .version = "1.0",
    .desc = "test: faults outside its own code",
    .ops = &ops,
    .nprovides = 1, .provides = { PB_PROVIDE("tcrash", 1, 0) });
