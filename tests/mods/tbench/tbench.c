/*
 * tbench - test module: times a call through a connection against a plain
 * indirect call to a function of the same body, and logs both
 * (tests/bench/run reads the line).  Both loops call through a pointer the
 * compiler cannot see through; the connection loop reloads conn->ops and
 * conn->ctx each time, as every client must.  With isolation on, the
 * connection is gated (hub/x86_64/conngate.S): its ops and ctx lead to
 * the hub's gate, so the plain call goes to tbench's own copy of tnull's
 * nop.  It times a hub service (now_ns) too: with
 * protection domains on, that call enters the hub's domain and leaves it.
 */
#include "../../../abi/pbmod.h"

#define CALLS 200000

struct tnull_ops {
	int (*nop)(void *ctx, int x);
};

static struct pb_conn *con;

static inline uint64_t
rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* Calls through the connection per round: CALLS, or fewer when each
 * call switches protection domains (tbench and tnull have keys of their
 * own), which under QEMU's TCG flushes the TLB twice per call and would
 * keep a round of CALLS past the watchdog. */
static int conn_calls = CALLS;

static uint64_t
time_connection(int *sum)
{
	uint64_t t0 = rdtsc();

	for (int i = 0; i < conn_calls; i++)
		*sum += PB_CALL(con, tnull_ops, nop, i);
	return (rdtsc() - t0) * CALLS / conn_calls;
}

/* tnull's nop, tnull.c */
static int
local_nop(void *ctx, int x)
{
	(void)ctx;
	return x + 1;
}

static uint64_t
time_direct(int *sum)
{
	int (*volatile fn)(void *, int) = local_nop;
	void *ctx = con->ctx;
	uint64_t t0 = rdtsc();

	for (int i = 0; i < CALLS; i++)
		*sum += fn(ctx, i);
	return rdtsc() - t0;
}

static uint64_t
time_service(const struct pb_hub *hub, int *sum)
{
	uint64_t t0 = rdtsc();

	for (int i = 0; i < CALLS / 10; i++)
		*sum += (int)hub->now_ns();
	return (rdtsc() - t0) * 10;
}

static int
tbench_start(struct pb_module *m, const struct pb_hub *hub, int mode)
{
	uint64_t c = ~0ull, d = ~0ull, ns0, ns1;
	int sum = 0;

	if (!con)
		return PB_ENOENT;
	/* A trial of 10 calls: a round takes at most about 50 ms. */
	conn_calls = 10;
	ns0 = hub->now_ns();
	time_connection(&sum);
	ns1 = (hub->now_ns() - ns0) / 10 + 1;	/* ns per call */
	conn_calls = ns1 * CALLS > 50000000 ? (int)(50000000 / ns1) : CALLS;
	if (conn_calls < 10)
		conn_calls = 10;
	pb_logf(hub, m, PB_LOG_INFO, "bench call: %d calls through the "
	    "connection per round (%llu ns each in a trial)", conn_calls,
	    (unsigned long long)ns1);
	/* Best of five rounds each, interleaved; cycles to ns by now_ns. */
	ns0 = hub->now_ns();
	uint64_t t0 = rdtsc();
	for (int round = 0; round < 5; round++) {
		uint64_t x = time_connection(&sum), y = time_direct(&sum);
		c = x < c ? x : c;
		d = y < d ? y : d;
	}
	ns1 = hub->now_ns();
	uint64_t cyc = rdtsc() - t0;
	pb_logf(hub, m, PB_LOG_INFO, "bench call: connection %llu, direct "
	    "%llu cycles per 1000 calls; %llu cycles per us (sum %d)",
	    (unsigned long long)(c * 1000 / CALLS),
	    (unsigned long long)(d * 1000 / CALLS),
	    (unsigned long long)(cyc / ((ns1 - ns0) / 1000 + 1)), sum & 1);
	for (int round = 0; round < 5; round++) {
		uint64_t s = time_service(hub, &sum);
		d = round == 0 || s < d ? s : d;
	}
	pb_logf(hub, m, PB_LOG_INFO, "bench service: now_ns %llu cycles per "
	    "1000 calls (sum %d)", (unsigned long long)(d * 1000 / CALLS),
	    sum & 1);
	return PB_OK;
}

static void
tbench_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	if (req == 0 && ev == PB_EV_CONNECTED)
		con = c;
}

static const struct pb_module_ops ops = {
	.start = tbench_start,
	.event = tbench_event,
};

PB_MODULE(.name = "tbench", .version = "1.0", .desc = "test: call costs",
    .ops = &ops,
    .nrequires = 1,
    .requires = { PB_REQUIRE("tnull", 1, 0, PB_CARD_ONE, PB_AT_START) });
