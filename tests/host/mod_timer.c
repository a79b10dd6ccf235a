/*
 * mod_timer.c - host tests of the timer module against models of its
 * counters on one virtual time line: the HPET (registers in memory, the
 * main counter computed from the time), the ACPI PM timer (behind inl),
 * the TSC (rdtsc) and the local APIC timer (behind a fake irq provider).
 * Every read of a counter moves the time by `step_ns`, as a real read
 * takes time; a model can be told to stick.
 *
 * Checked: HPET capabilities (period in fs, the 100 ns limit, counter
 * width), 24- and 32-bit counters extended across wraps, tick/ns
 * conversions without overflow, calibration results and their bounds (a
 * reference that never moves is an error after a bounded number of
 * reads), the choice HPET -> PM timer -> TSC alone (its rate and the
 * crystal's from CPUID 0x15/0x16, or measured against the hub's clock) ->
 * decline, the invariant TSC, the
 * alarm's programming (long sleeps cut, zero delays fire, re-arming until
 * the deadline, a wrapping clock kept read), the `timer` operations with
 * the client's handle, stop(), and the watchdog's NMI comparator (nmi.c:
 * routed as an NMI, periodic, stopped with the module; off when asked or
 * refused).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../mods/timer/calibrate.c"
#include "../../mods/timer/hpet.c"
#include "../../mods/timer/pmtimer.c"
#include "../../mods/timer/tsc.c"
#include "../../mods/timer/timer.c"
#include "../../mods/timer/nmi.c"
#include "../../abi/rt/setting.c"

/* ---- one time line, and the counters on it ----------------------------- */

static uint64_t vt_ns;			/* virtual time */
static uint64_t step_ns = 1000;		/* what one counter read costs */
static uint64_t tsc_mhz = 2500;
static int invariant_tsc;
static int hpet_stuck, pm_stuck, lapic_stuck, tsc_stuck;
static int hpet_32bit;
static uint64_t hpet_at_enable;		/* counter value when enabled */

#define HPET_PHYS 0xfed00000ull
#define PM_PORT 0x608

static uint64_t hpet_regs[HPET_MMIO_LEN / 8];

static uint64_t
tick(void)
{
	vt_ns += step_ns;
	return vt_ns;
}

static uint64_t
hpet_count(void)
{
	uint64_t now = tick();

	if (hpet_stuck || !(hpet_regs[HPET_GEN_CONF / 8] & CONF_ENABLE))
		return hpet_at_enable;
	return now / 10;			/* 100 MHz */
}

uint64_t
mmio_read64(const volatile void *reg)
{
	if (reg == (volatile uint8_t *)hpet_regs + HPET_MAIN_CNT)
		return hpet_32bit ? hpet_count() & 0xffffffffu : hpet_count();
	return *(const volatile uint64_t *)reg;
}

uint32_t
mmio_read32(const volatile void *reg)
{
	if (reg == (volatile uint8_t *)hpet_regs + HPET_MAIN_CNT)
		return (uint32_t)hpet_count();
	return *(const volatile uint32_t *)reg;
}

void
mmio_write32(volatile void *reg, uint32_t v)
{
	*(volatile uint32_t *)reg = v;
}

void
mmio_write64(volatile void *reg, uint64_t v)
{
	*(volatile uint64_t *)reg = v;
}

static uint32_t pm_high_garbage = 0xab000000u;

uint32_t
inl(uint16_t port)
{
	uint64_t now = tick();

	if (port != PM_PORT) {
		check_fail(__FILE__, __LINE__, "inl 0x%x", port);
		return ~0u;
	}
	if (pm_stuck)
		return 0x123456;
	/* a 24-bit timer's upper byte is not defined: garbage here */
	return (uint32_t)(now * PMTMR_HZ / NS_PER_S) | pm_high_garbage;
}

/* Port writes: the PIT's mode register, the last value written. */
static int pit_mode = -1;
void outb(uint16_t port, uint8_t v) { if (port == 0x43) pit_mode = v; }
uint8_t inb(uint16_t port) { (void)port; return 0xff; }

uint64_t
rdtsc(void)
{
	uint64_t now = tick();

	return tsc_stuck ? 42 : now * tsc_mhz / 1000;
}

/* CPUID: by default a CPU that names no vendor and no leaf 0x15 (as TCG
 * reads); `intel` makes it GenuineIntel with leaves up to 0x16. */
static int intel, hypervisor;
static uint32_t leaf15[4], leaf16_mhz;

void
cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	(void)sub;
	r[0] = r[1] = r[2] = r[3] = 0;
	if (leaf == 0 && intel) {
		r[0] = 0x16;
		memcpy(&r[1], "Genu", 4);
		memcpy(&r[3], "ineI", 4);
		memcpy(&r[2], "ntel", 4);
	}
	if (leaf == 1 && hypervisor)
		r[2] = CPUID1_ECX_HYPERVISOR;
	if (leaf == 0x15 && intel)
		memcpy(r, leaf15, sizeof(leaf15));
	if (leaf == 0x16 && intel)
		r[0] = leaf16_mhz;
	if (leaf == 0x80000000u)
		r[0] = 0x80000008u;
	if (leaf == 0x80000007u && invariant_tsc)
		r[3] = CPUID80000007_EDX_INVTSC;
}

uint64_t rdmsr(uint32_t m) { (void)m; return 0; }
void wrmsr(uint32_t m, uint64_t v) { (void)m, (void)v; }
void cpu_pause(void) { }
uint64_t cpu_irq_save(void) { return 0; }
void cpu_irq_restore(uint64_t f) { (void)f; }

/* ---- the irq provider's local timer ------------------------------------- */

static uint64_t lapic_hz = 1000000000;
static struct {
	int vector;
	unsigned divide;
	uint32_t count;
	int periodic;
	uint64_t since;
	unsigned calls;
} lt;

static int
fake_local_timer(void *ctx, int vector, unsigned divide, uint32_t count,
    int periodic)
{
	(void)ctx;
	lt.vector = vector;
	lt.divide = divide;
	lt.count = count;
	lt.periodic = periodic;
	lt.since = vt_ns;
	lt.calls++;
	return PB_OK;
}

static int
fake_local_timer_count(void *ctx, uint32_t *cur)
{
	uint64_t gone;

	(void)ctx;
	gone = (tick() - lt.since) * lapic_hz / NS_PER_S;
	*cur = lapic_stuck ? lt.count : gone >= lt.count ? 0 :
	    lt.count - (uint32_t)gone;
	return PB_OK;
}

/* The irq provider's routes: the last route_gsi, unroutes counted. */
static struct {
	unsigned gsi, flags, unroutes;
	int vector, err;
} rt;

static int
fake_route_gsi(void *ctx, unsigned gsi, unsigned flags, int vector)
{
	(void)ctx;
	if (rt.err)
		return rt.err;
	rt.gsi = gsi;
	rt.flags = flags;
	rt.vector = vector;
	return PB_OK;
}

static int
fake_unroute(void *ctx, int vector)
{
	(void)ctx;
	rt.unroutes += vector == IRQ_NMI_VECTOR;
	return PB_OK;
}

static const struct irq_ops fake_irq_ops = {
	.route_gsi = fake_route_gsi,
	.unroute = fake_unroute,
	.local_timer = fake_local_timer,
	.local_timer_count = fake_local_timer_count,
};
static struct pb_conn fake_irq_conn = { .ops = &fake_irq_ops };

/* ---- the platform --------------------------------------------------------- */

#include "fakeacpi.h"

/* boot.cfg as the hub publishes it: config:boot's properties. */
static const char *boot_cfg = "target=os";

static int
fake_res_info(const char *module, unsigned index, struct pb_res_info *out)
{
	static const char *const names[] = { "framebuffer:gop0", "config:boot" };

	if (strcmp(module, "hub") != 0 || index >= 2)
		return PB_ENOENT;
	*out = (struct pb_res_info){ .name = names[index], .iface = "x",
	    .props = index == 1 ? boot_cfg : "w=1 h=1", .owner = "hub" };
	return PB_OK;
}

/* ---- a fake hub ----------------------------------------------------------- */

static char logbuf[8192];
static const struct pb_clock *given_clock;
static void *given_ctx;
static unsigned set_clock_calls;
static pb_irq_fn vec_fn[256];
static void *vec_arg[256];
static char pub_props[128];
static struct pb_module *last_client;
static uint64_t last_ns;
static int last_op;	/* 1 after, 2 every, 3 cancel */

static void
fake_log(struct pb_module *m, int level, const char *msg)
{
	(void)m, (void)level;
	strncat(logbuf, msg, sizeof(logbuf) - strlen(logbuf) - 2);
	strcat(logbuf, "\n");
}

static void *
fake_map_mmio(struct pb_module *m, uint64_t phys, size_t len, int cache)
{
	(void)m;
	CHECK_EQ_INT(cache, PB_CACHE_UC);
	return phys == HPET_PHYS && len <= sizeof(hpet_regs) ? hpet_regs : NULL;
}

static int
fake_irq_alloc(struct pb_module *m)
{
	(void)m;
	return 0x40;
}

static int
fake_irq_register(struct pb_module *m, int v, pb_irq_fn fn, void *arg)
{
	(void)m;
	vec_fn[v] = fn;
	vec_arg[v] = arg;
	return PB_OK;
}

static void
fake_irq_unregister(struct pb_module *m, int v)
{
	(void)m;
	vec_fn[v] = NULL;
}

static int
fake_set_clock(struct pb_module *m, const struct pb_clock *c, void *ctx)
{
	(void)m;
	given_clock = c;
	given_ctx = ctx;
	set_clock_calls++;
	return PB_OK;
}

static struct pb_resource *
fake_publish(struct pb_module *m, const char *iface, const char *name,
    const char *props, const void *ops, void *ctx)
{
	(void)m, (void)ops, (void)ctx;
	CHECK_STR(iface, "timer");
	CHECK_STR(name, "system");
	snprintf(pub_props, sizeof(pub_props), "%s", props);
	return (struct pb_resource *)pub_props;
}

/* The hub's own clock before set_clock: the TSC at the rate the stub
 * measured, here exactly right (nanoseconds on the time line); or a
 * fixed value the test chooses. */
static uint64_t hub_now_fixed;

static uint64_t
fake_now(void)
{
	return hub_now_fixed ? hub_now_fixed : tick();
}

static int
fake_after(struct pb_module *m, uint64_t ns, pb_work_fn fn, void *arg)
{
	(void)fn, (void)arg;
	last_client = m;
	last_ns = ns;
	last_op = 1;
	return 5;
}

static int
fake_every(struct pb_module *m, uint64_t ns, pb_work_fn fn, void *arg)
{
	(void)fn, (void)arg;
	last_client = m;
	last_ns = ns;
	last_op = 2;
	return 6;
}

static void
fake_cancel(struct pb_module *m, int id)
{
	last_client = m;
	last_ns = (uint64_t)id;
	last_op = 3;
}

static const struct pb_hub fake_hub = {
	.size = sizeof(struct pb_hub), .abi_major = 1, .abi_minor = 1,
	.log = fake_log, .map_mmio = fake_map_mmio, .publish = fake_publish,
	.irq_alloc = fake_irq_alloc, .irq_register = fake_irq_register,
	.irq_unregister = fake_irq_unregister, .now_ns = fake_now,
	.timer_after = fake_after, .timer_cancel = fake_cancel,
	.timer_every = fake_every, .set_clock = fake_set_clock,
	.res_info = fake_res_info,
};

static struct pb_module *const SELF = (struct pb_module *)&plat;
static struct pb_module *const CLIENT = (struct pb_module *)&logbuf;

/* GCAP_ID of QEMU's HPET: 10 ns, vendor 0x8086, legacy capable, 64-bit,
 * 3 comparators, revision 1. */
#define QEMU_GCAP 0x009896808086a201ull

/* A q35-like machine: HPET and PM timer, no invariant TSC. */
static void
reset(void)
{
	vt_ns = 1000000;
	step_ns = 1000;
	tsc_mhz = 2500;
	lapic_hz = 1000000000;
	invariant_tsc = hpet_stuck = pm_stuck = lapic_stuck = tsc_stuck = 0;
	hpet_32bit = 0;
	hpet_at_enable = 0;
	intel = hypervisor = 0;
	memset(leaf15, 0, sizeof(leaf15));
	leaf16_mhz = 0;
	hub_now_fixed = 0;
	pm_high_garbage = 0xab000000u;
	memset(hpet_regs, 0, sizeof(hpet_regs));
	hpet_regs[HPET_GCAP_ID / 8] = QEMU_GCAP;
	hpet_regs[HPET_GEN_CONF / 8] = CONF_LEG_RT;	/* as a BIOS may leave */
	for (unsigned n = 0; n < 3; n++)
		hpet_regs[HPET_TN_CONF(n) / 8] = TN_INT_ENB | 0x30;
	memset(&plat, 0, sizeof(plat));
	plat.hpet_phys = HPET_PHYS;
	plat.have_fadt = 1;
	plat.pm_tmr_port = PM_PORT;
	memset(&lt, 0, sizeof(lt));
	memset(&rt, 0, sizeof(rt));
	memset(vec_fn, 0, sizeof(vec_fn));
	given_clock = NULL;
	set_clock_calls = 0;
	logbuf[0] = pub_props[0] = '\0';
	boot_cfg = "target=os";
	timer_event(SELF, PB_EV_CONNECTED, &fake_acpi_conn, 0);
	timer_event(SELF, PB_EV_CONNECTED, &fake_irq_conn, 1);
}

static int
start(void)
{
	return timer_start(SELF, &fake_hub, PB_START_NORMAL);
}

static int
near(uint64_t got, uint64_t want, uint64_t ppm)
{
	uint64_t d = got > want ? got - want : want - got;

	return d <= want / 1000000 * ppm + 1;
}

/* ---- tests ---------------------------------------------------------------- */

TEST(timer_hpet_caps)
{
	struct hpet_caps c;

	REQUIRE(hpet_parse_caps(QEMU_GCAP, &c) == PB_OK);
	CHECK_EQ_INT(c.period_fs, 10000000);
	CHECK_EQ_INT(c.hz, 100000000);
	CHECK_EQ_INT(c.vendor, 0x8086);
	CHECK_EQ_INT(c.rev, 1);
	CHECK_EQ_INT(c.ntimers, 3);
	CHECK_EQ_INT(c.wide, 1);
	CHECK_EQ_INT(c.legacy, 1);
	/* a 14.31818 MHz HPET, 32-bit (69841279 fs) */
	REQUIRE(hpet_parse_caps(0x0429b17f00000401ull, &c) == PB_OK);
	CHECK_EQ_INT(c.hz, 14318179);	/* 1e15 / 69841279 fs, truncated */
	CHECK_EQ_INT(c.wide, 0);
	CHECK_EQ_INT(c.ntimers, 5);
	/* the limit: 100 ns is allowed, one fs more is not */
	CHECK_EQ_INT(hpet_parse_caps(0x05f5e10000000001ull, &c), PB_OK);
	CHECK_EQ_INT(c.hz, 10000000);
	CHECK_EQ_INT(hpet_parse_caps(0x05f5e10100000001ull, &c), PB_EIO);
	CHECK_EQ_INT(hpet_parse_caps(0x0000000000002001ull, &c), PB_EIO);
	/* REV_ID 0, or all ones: no HPET */
	CHECK_EQ_INT(hpet_parse_caps(0x0098968080862200ull, &c), PB_ENODEV);
	CHECK_EQ_INT(hpet_parse_caps(~0ull, &c), PB_ENODEV);
}

/* A counter read from a script of raw values. */
static uint64_t script[16];
static unsigned nscript;

static uint64_t
scripted(void *ctx)
{
	(void)ctx;
	return script[nscript++ % 16];
}

TEST(timer_counter_extension_24bit)
{
	static const uint64_t raw[] = { 0xfffff0, 0x000010, 0x7fffff,
	    0xffffff, 0x000000, 0x800000, 0xfffffe, 0x000001 };
	struct counter c;
	uint64_t want = 0;

	memcpy(script, raw, sizeof(raw));
	nscript = 0;
	counter_init(&c, "pm-timer", PMTMR_HZ, 24, scripted, NULL);
	CHECK_EQ_INT(c.mask, 0xffffff);
	for (unsigned i = 1; i < 8; i++) {
		want += (raw[i] - raw[i - 1]) & 0xffffff;
		CHECK_EQ_INT(counter_ticks(&c), want);
	}
	CHECK_EQ_INT(want, 0x1000000 * 2 + 0x11);
	/* 24 bits at 3.58 MHz wrap every 4.69 s */
	CHECK_EQ_INT(counter_wrap_ns(&c), 4686968874ull);
}

TEST(timer_counter_extension_32bit_and_64bit)
{
	static const uint64_t raw[] = { 0xfffffff0, 0x10, 0x80000000,
	    0xffffffff, 0x5 };
	struct counter c;
	uint64_t want = 0;

	memcpy(script, raw, sizeof(raw));
	nscript = 0;
	counter_init(&c, "hpet", 100000000, 32, scripted, NULL);
	for (unsigned i = 1; i < 5; i++) {
		want += (raw[i] - raw[i - 1]) & 0xffffffffu;
		CHECK_EQ_INT(counter_ticks(&c), want);
	}
	CHECK_EQ_INT(counter_wrap_ns(&c), 42949672960ull);
	script[0] = ~0ull - 5;
	script[1] = 10;
	nscript = 0;
	counter_init(&c, "tsc", 1000, 64, scripted, NULL);
	CHECK_EQ_INT(counter_ticks(&c), 16);
	CHECK_EQ_INT(counter_wrap_ns(&c) == ~0ull, 1);
}

TEST(timer_pm_timer_through_inl)
{
	struct pmtimer pm = { .port = PM_PORT, .wide = 0 };
	struct counter c;
	uint64_t t0;

	reset();
	/* the upper byte of a 24-bit timer is dropped */
	CHECK_EQ_INT(pmtimer_read(&pm) >> 24, 0);
	pm.wide = 1;
	CHECK_EQ_INT(pmtimer_read(&pm) >> 24, 0xab);
	pm.wide = 0;
	/* 20 s of reads 0.5 s apart: four wraps, no tick lost */
	vt_ns = 3 * NS_PER_S;
	counter_init(&c, "pm-timer", PMTMR_HZ, 24, pmtimer_read, &pm);
	t0 = vt_ns;
	step_ns = NS_PER_S / 2;
	for (int i = 0; i < 40; i++)
		counter_ticks(&c);
	CHECK_EQ_INT(c.ticks, vt_ns * PMTMR_HZ / NS_PER_S - t0 * PMTMR_HZ /
	    NS_PER_S);
	CHECK(ticks_to_ns(c.ticks, PMTMR_HZ) >= 19 * NS_PER_S);
}

TEST(timer_conversions)
{
	uint64_t ten_years = 10ull * 365 * 86400 * NS_PER_S;

	CHECK_EQ_INT(ticks_to_ns(100000000, 100000000), NS_PER_S);
	CHECK_EQ_INT(ticks_to_ns(PMTMR_HZ, PMTMR_HZ), NS_PER_S);
	CHECK_EQ_INT(ticks_to_ns(1, PMTMR_HZ), 279);
	CHECK_EQ_INT(ns_to_ticks(NS_PER_S, PMTMR_HZ), PMTMR_HZ);
	CHECK_EQ_INT(ns_to_ticks(1000, 1000000000), 1000);
	/* no overflow over years at GHz rates */
	CHECK_EQ_INT(ticks_to_ns(ten_years / NS_PER_S * 3000000000ull,
	    3000000000ull), ten_years);
	CHECK_EQ_INT(ns_to_ticks(ten_years, 3000000000ull),
	    ten_years / NS_PER_S * 3000000000ull);
	CHECK_EQ_INT(ns_to_ticks(ticks_to_ns(123456789, 14318180), 14318180),
	    123456788);
}

TEST(timer_calibration_math)
{
	uint64_t hz = 0;

	CHECK_EQ_INT(calibrate_rate(20000000, 2000000, 100000000, &hz), PB_OK);
	CHECK_EQ_INT(hz, 1000000000);
	CHECK_EQ_INT(calibrate_rate(50000000, 71591, PMTMR_HZ, &hz), PB_OK);
	CHECK(near(hz, 2500000000ull, 20));
	/* large counts do not overflow: 2^40 ticks in 2^30 reference ticks */
	CHECK_EQ_INT(calibrate_rate(1ull << 40, 1ull << 30, 100000000, &hz),
	    PB_OK);
	CHECK_EQ_INT(hz, 1024ull * 100000000);
	CHECK_EQ_INT(calibrate_rate(0, 1000, 100000000, &hz), PB_EIO);
	CHECK_EQ_INT(calibrate_rate(5, 0, 100000000, &hz), PB_EINVAL);
}

TEST(timer_calibration_against_models)
{
	struct hpet h = { .regs = (volatile uint8_t *)hpet_regs };
	struct pmtimer pm = { .port = PM_PORT };
	struct counter ref;
	struct calib c;

	reset();
	hpet_regs[HPET_GEN_CONF / 8] = CONF_ENABLE;
	REQUIRE(hpet_parse_caps(QEMU_GCAP, &h.caps) == PB_OK);
	counter_init(&ref, "hpet", h.caps.hz, 64, hpet_read, &h);
	c = (struct calib){ .ref = &ref, .read = tsc_read,
	    .window_ns = 20000000, .max_reads = 1000000,
	    .stuck_reads = 1000 };
	REQUIRE(calibrate(&c) == PB_OK);
	CHECK_MSG(near(c.hz, 2500000000ull, 200), "tsc %llu Hz",
	    (unsigned long long)c.hz);
	CHECK(c.ref_ticks >= 2000000);
	/* against the PM timer, with slower reads */
	step_ns = 1500;
	counter_init(&ref, "pm-timer", PMTMR_HZ, 24, pmtimer_read, &pm);
	REQUIRE(calibrate(&c) == PB_OK);
	CHECK_MSG(near(c.hz, 2500000000ull, 500), "tsc %llu Hz",
	    (unsigned long long)c.hz);
}

TEST(timer_calibration_bounded)
{
	struct pmtimer pm = { .port = PM_PORT };
	struct counter ref;
	struct calib c;

	reset();
	pm_stuck = 1;
	counter_init(&ref, "pm-timer", PMTMR_HZ, 24, pmtimer_read, &pm);
	c = (struct calib){ .ref = &ref, .read = tsc_read,
	    .window_ns = 20000000, .max_reads = 1000000, .stuck_reads = 500 };
	CHECK_EQ_INT(calibrate(&c), PB_ETIMEDOUT);
	CHECK(c.reads <= 501);
	CHECK_EQ_INT(c.hz, 0);
	/* a moving reference, but a budget too small for the window */
	pm_stuck = 0;
	c.max_reads = 100;
	CHECK_EQ_INT(calibrate(&c), PB_ETIMEDOUT);
	CHECK(c.reads <= 100);
	/* the counter measured does not move */
	c.max_reads = 1000000;
	tsc_stuck = 1;
	CHECK_EQ_INT(calibrate(&c), PB_EIO);
	/* the move check is bounded too */
	uint64_t v = 0;
	pm_stuck = 1;
	CHECK_EQ_INT(counter_moves(pmtimer_read, &pm, 1000, &v), PB_ETIMEDOUT);
	CHECK_EQ_INT(v, 0x123456);
}

TEST(timer_hpet_start)
{
	struct hpet h;

	reset();
	REQUIRE(hpet_start(&h, &fake_hub, SELF, HPET_PHYS) == PB_OK);
	CHECK_EQ_INT(hpet_regs[HPET_GEN_CONF / 8] & 3, CONF_ENABLE);
	for (unsigned n = 0; n < 3; n++)
		CHECK_EQ_INT(hpet_regs[HPET_TN_CONF(n) / 8], 0x30);
	/* a counter that does not count */
	reset();
	hpet_stuck = 1;
	hpet_at_enable = 0x1234;
	CHECK_EQ_INT(hpet_start(&h, &fake_hub, SELF, HPET_PHYS), PB_EIO);
	CHECK_CONTAINS(logbuf, "MAIN_CNT stuck at 0x1234");
	/* a period out of range */
	reset();
	hpet_regs[HPET_GCAP_ID / 8] = 0x05f5e10100000001ull;
	CHECK_EQ_INT(hpet_start(&h, &fake_hub, SELF, HPET_PHYS), PB_EIO);
	CHECK_CONTAINS(logbuf, "GCAP_ID 0x05f5e10100000001");
	/* a 32-bit counter: read at 32 bits, extended */
	reset();
	hpet_32bit = 1;
	hpet_regs[HPET_GCAP_ID / 8] = QEMU_GCAP & ~GCAP_COUNT_SIZE;
	REQUIRE(hpet_start(&h, &fake_hub, SELF, HPET_PHYS) == PB_OK);
	CHECK_EQ_INT(h.caps.wide, 0);
}

TEST(timer_start_hpet)
{
	reset();
	REQUIRE(start() == PB_OK);
	CHECK_STR(tm.clock->name, "hpet");
	CHECK_EQ_INT(tm.clock->hz, 100000000);
	CHECK_MSG(near(tm.alarm_hz, lapic_hz, 500), "lapic %llu Hz",
	    (unsigned long long)tm.alarm_hz);
	CHECK(given_clock == &clock_with_alarm && given_ctx == &tm);
	CHECK(vec_fn[0x40] == alarm_irq);
	CHECK_EQ_INT(lt.count, 0);		/* stopped after measuring */
	CHECK_EQ_INT(tm.wraps, 0);
	CHECK_EQ_INT(tm.max_sleep_ns, NS_PER_S);
	CHECK_CONTAINS(pub_props, "clock=hpet clock_hz=100000000 alarm=lapic");
	CHECK_CONTAINS(logbuf, "TSC not invariant");
	CHECK_CONTAINS(logbuf, "clock hpet at 100000000 Hz, alarm local APIC");
	/* the clock the hub gets counts nanoseconds */
	uint64_t a = given_clock->now_ns(given_ctx);
	vt_ns += 5 * NS_PER_S;
	uint64_t b = given_clock->now_ns(given_ctx);
	CHECK(near(b - a, 5 * NS_PER_S, 10));
	timer_stop(SELF);
}

TEST(timer_start_pm_timer_and_decline)
{
	reset();
	plat.hpet_phys = 0;		/* -machine q35,hpet=off */
	REQUIRE(start() == PB_OK);
	CHECK_CONTAINS(logbuf, "no HPET in the ACPI tables");
	CHECK_STR(tm.clock->name, "pm-timer");
	CHECK_EQ_INT(tm.clock->mask, 0xffffff);
	CHECK_EQ_INT(tm.wraps, 1);
	CHECK_EQ_INT(tm.max_sleep_ns, NS_PER_S);	/* < 4.69 s / 4 */
	timer_stop(SELF);

	/* an HPET whose counter is dead: the PM timer takes over */
	reset();
	hpet_stuck = 1;
	REQUIRE(start() == PB_OK);
	CHECK_CONTAINS(logbuf, "MAIN_CNT stuck");
	CHECK_STR(tm.clock->name, "pm-timer");
	timer_stop(SELF);

	/* a 32-bit PM timer */
	reset();
	plat.hpet_phys = 0;
	plat.pm_tmr_32bit = 1;
	REQUIRE(start() == PB_OK);
	CHECK_EQ_INT(tm.clock->mask, 0xffffffffu);
	timer_stop(SELF);

	/* a PM timer that does not count is no clock: the TSC is */
	reset();
	plat.hpet_phys = 0;
	pm_stuck = 1;
	REQUIRE(start() == PB_OK);
	CHECK_CONTAINS(logbuf, "PM timer at port 0x608 stuck at 0x123456");
	CHECK_STR(tm.clock->name, "tsc");
	timer_stop(SELF);

	/* nothing at all, the hub's clock stuck too: decline, and the hub
	 * keeps its clock */
	reset();
	plat.hpet_phys = 0;
	plat.pm_tmr_port = 0;
	hub_now_fixed = 777;
	CHECK_EQ_INT(start(), PB_ENODEV);
	CHECK_CONTAINS(logbuf, "neither HPET, PM timer nor a TSC rate: the hub "
	    "keeps its TSC clock");
	CHECK_EQ_INT(set_clock_calls, 0);
}

TEST(timer_tsc_rates_from_cpuid_leaves)
{
	static const uint32_t skylake[4] = { 2, 216, 24000000, 0 };
	static const uint32_t no_crystal[4] = { 2, 188, 0, 0 };
	static const uint32_t none[4] = { 0, 0, 0, 0 };
	struct tsc_rates r;

	/* TSC = crystal x EBX / EAX */
	REQUIRE(tsc_rates_decode(skylake, 0, &r) == PB_OK);
	CHECK_EQ_INT(r.tsc_hz, 2592000000ull);
	CHECK_EQ_INT(r.crystal_hz, 24000000);
	CHECK_STR(r.how, "CPUID 0x15");
	/* no crystal: the TSC at 0x16's base, the crystal from the ratio */
	REQUIRE(tsc_rates_decode(no_crystal, 2256, &r) == PB_OK);
	CHECK_EQ_INT(r.tsc_hz, 2256000000ull);
	CHECK_EQ_INT(r.crystal_hz, 24000000);
	CHECK_STR(r.how, "CPUID 0x15 and 0x16");
	CHECK_EQ_INT(tsc_rates_decode(no_crystal, 0, &r), PB_ENOTSUP);
	CHECK_EQ_INT(tsc_rates_decode(no_crystal, 0x10000, &r), PB_ENOTSUP);
	CHECK_EQ_INT(tsc_rates_decode(none, 2256, &r), PB_ENOTSUP);
}

/* A low-power platform: no HPET, no PM timer.  The TSC's rate and the
 * local APIC timer's come from CPUID 0x15; nothing is measured. */
TEST(timer_no_hpet_no_pm_timer_cpuid_0x15)
{
	reset();
	plat.hpet_phys = 0;
	plat.have_fadt = 0;
	plat.pm_tmr_port = 0;
	intel = invariant_tsc = 1;
	leaf15[0] = 2, leaf15[1] = 200, leaf15[2] = 25000000;	/* 2.5 GHz */
	lapic_hz = 25000000;			/* the crystal */
	REQUIRE(start() == PB_OK);
	CHECK_STR(tm.clock->name, "tsc");
	CHECK_EQ_INT(tm.clock->hz, 2500000000ull);
	CHECK_EQ_INT(tm.alarm_hz, 25000000);
	CHECK_EQ_INT(lt.calls, 0);		/* not run to be measured */
	CHECK(given_clock == &clock_with_alarm && given_ctx == &tm);
	CHECK_EQ_INT(tm.wraps, 0);
	CHECK_CONTAINS(pub_props, "clock=tsc clock_hz=2500000000 alarm=lapic "
	    "alarm_hz=25000000");
	CHECK_CONTAINS(logbuf, "clock tsc at 2500000000 Hz (CPUID 0x15), "
	    "alarm local APIC timer at 25000000 Hz on vector 64 (the core "
	    "crystal)");
	/* the clock counts nanoseconds, the alarm crystal ticks */
	uint64_t a = given_clock->now_ns(given_ctx);
	vt_ns += 3 * NS_PER_S;
	CHECK(near(given_clock->now_ns(given_ctx) - a, 3 * NS_PER_S, 10));
	alarm_arm(&tm, 4000000);		/* 4 ms */
	CHECK_MSG(lt.count > 99900 && lt.count <= 100000, "count %u",
	    lt.count);
	timer_stop(SELF);

	/* the crystal not enumerated: from 0x16's base frequency */
	reset();
	plat.hpet_phys = 0;
	plat.pm_tmr_port = 0;
	intel = invariant_tsc = 1;
	leaf15[0] = 2, leaf15[1] = 200;
	leaf16_mhz = 2500;
	REQUIRE(start() == PB_OK);
	CHECK_EQ_INT(tm.clock->hz, 2500000000ull);
	CHECK_EQ_INT(tm.alarm_hz, 25000000);
	CHECK_CONTAINS(logbuf, "(CPUID 0x15 and 0x16)");
	timer_stop(SELF);
}

/* Where CPUID cannot be believed (no leaf 0x15, a hypervisor, another
 * vendor), the TSC is measured against the hub's clock, which the stub
 * timed, and the local APIC timer against the TSC. */
TEST(timer_no_hpet_no_pm_timer_measured)
{
	reset();
	plat.hpet_phys = 0;
	plat.pm_tmr_port = 0;
	invariant_tsc = 1;
	tsc_mhz = 2100;
	lapic_hz = 100000000;
	REQUIRE(start() == PB_OK);
	CHECK_CONTAINS(logbuf, "TSC rate not from CPUID 0x15: not an Intel "
	    "CPU; measuring it against the hub's clock");
	CHECK_STR(tm.clock->name, "tsc");
	CHECK_MSG(near(tm.clock->hz, 2100000000ull, 200), "%llu Hz",
	    (unsigned long long)tm.clock->hz);
	CHECK_MSG(near(tm.alarm_hz, 100000000, 500), "lapic %llu Hz",
	    (unsigned long long)tm.alarm_hz);
	CHECK(given_clock == &clock_with_alarm);
	CHECK_CONTAINS(logbuf, "(measured against the hub's clock, timed by "
	    "Stall())");
	CHECK(!strstr(logbuf, "not invariant"));
	timer_stop(SELF);

	reset();				/* a hypervisor's leaf 0x15 */
	plat.hpet_phys = 0;
	plat.pm_tmr_port = 0;
	intel = hypervisor = 1;
	leaf15[0] = 2, leaf15[1] = 200, leaf15[2] = 25000000;
	REQUIRE(start() == PB_OK);
	CHECK_CONTAINS(logbuf, "under a hypervisor (CPUID.1:ECX[31])");
	CHECK_MSG(near(tm.clock->hz, 2500000000ull, 200), "%llu Hz",
	    (unsigned long long)tm.clock->hz);
	CHECK_MSG(near(tm.alarm_hz, lapic_hz, 500), "lapic %llu Hz",
	    (unsigned long long)tm.alarm_hz);
	/* the TSC is not invariant: it is the clock all the same */
	CHECK_CONTAINS(logbuf, "the TSC is the clock but not invariant");
	timer_stop(SELF);

	reset();				/* Intel, no leaf 0x15 data */
	plat.hpet_phys = 0;
	plat.pm_tmr_port = 0;
	intel = 1;
	REQUIRE(start() == PB_OK);
	CHECK_CONTAINS(logbuf, "CPUID 0x15/0x16 do not give the rates");
	CHECK(near(tm.clock->hz, 2500000000ull, 200));
	timer_stop(SELF);
}

TEST(timer_invariant_tsc_clock)
{
	reset();
	invariant_tsc = 1;
	tsc_mhz = 3100;
	REQUIRE(start() == PB_OK);
	CHECK_STR(tm.clock->name, "tsc");
	CHECK_MSG(near(tm.clock->hz, 3100000000ull, 200), "%llu Hz",
	    (unsigned long long)tm.clock->hz);
	CHECK_CONTAINS(logbuf, "clock tsc at");
	CHECK_CONTAINS(logbuf, "(measured against hpet)");
	timer_stop(SELF);
}

TEST(timer_alarm_programming)
{
	reset();
	REQUIRE(start() == PB_OK);
	/* a short sleep: that many local timer ticks, one-shot */
	alarm_arm(&tm, 5000000);
	CHECK(near(lt.count, 5000000, 2000));
	CHECK_EQ_INT(lt.vector, 0x40);
	CHECK_EQ_INT(lt.periodic, 0);
	/* zero and tiny delays still fire */
	alarm_arm(&tm, 0);
	CHECK_EQ_INT(lt.count, 1);
	/* a long one is cut at 1 s; the handler re-arms until the end */
	alarm_arm(&tm, 5 * NS_PER_S);
	CHECK(near(lt.count, 1000000000, 2000));
	vt_ns += NS_PER_S;
	vec_fn[0x40](vec_arg[0x40]);
	CHECK(near(lt.count, 1000000000, 2000));
	vt_ns += 3 * NS_PER_S + NS_PER_S / 2;
	vec_fn[0x40](vec_arg[0x40]);
	CHECK(near(lt.count, 500000000, 2000));
	vt_ns += NS_PER_S / 2;
	vec_fn[0x40](vec_arg[0x40]);	/* the deadline: nothing more */
	CHECK_EQ_INT(lt.count, 0);
	CHECK_EQ_INT(tm.deadline, NO_DEADLINE);
	CHECK_EQ_INT(tm.alarms, 3);
	/* cancelled: a 64-bit clock needs no wake-up */
	alarm_arm(&tm, 1000);
	alarm_arm(&tm, ~0ull);
	CHECK_EQ_INT(lt.count, 0);
	/* a rate so high that 1 s does not fit 32 bits: capped, re-armed */
	tm.alarm_hz = 8000000000ull;
	alarm_arm(&tm, NS_PER_S);
	CHECK_EQ_INT(lt.count, 0xffffffffu);
	timer_stop(SELF);
	CHECK_EQ_INT(lt.count, 0);
	CHECK(given_clock == NULL);
	CHECK(vec_fn[0x40] == NULL);
}

TEST(timer_alarm_keeps_wrapping_clock_read)
{
	reset();
	plat.hpet_phys = 0;
	REQUIRE(start() == PB_OK);
	/* nothing to wait for, but the 24-bit PM timer must be read */
	alarm_arm(&tm, ~0ull);
	CHECK(near(lt.count, 1000000000, 2000));
	for (int i = 0; i < 10; i++) {
		vt_ns += NS_PER_S;
		vec_fn[0x40](vec_arg[0x40]);
		CHECK(near(lt.count, 1000000000, 2000));
	}
	/* ten seconds went by, across two wraps, and the clock says so */
	uint64_t a = clock_ns(&tm);
	vt_ns += NS_PER_S;
	vec_fn[0x40](vec_arg[0x40]);
	CHECK(near(clock_ns(&tm) - a, NS_PER_S, 100));
	timer_stop(SELF);
}

TEST(timer_no_alarm_when_local_timer_dead)
{
	reset();
	lapic_stuck = 1;
	REQUIRE(start() == PB_OK);
	CHECK_CONTAINS(logbuf, "local APIC timer against hpet: it does not "
	    "count");
	CHECK(given_clock == &clock_only);
	CHECK(vec_fn[0x40] == NULL);
	CHECK_CONTAINS(pub_props, "alarm=none");
	timer_stop(SELF);
}

TEST(timer_ops_use_client_handle)
{
	struct timer_info info;

	reset();
	REQUIRE(start() == PB_OK);
	CHECK_EQ_INT(timer_ops.after(&tm, CLIENT, 1234, NULL, NULL), 5);
	CHECK(last_client == CLIENT && last_ns == 1234 && last_op == 1);
	CHECK_EQ_INT(timer_ops.every(&tm, CLIENT, 99, NULL, NULL), 6);
	CHECK(last_client == CLIENT && last_ns == 99 && last_op == 2);
	timer_ops.cancel(&tm, CLIENT, 6);
	CHECK(last_client == CLIENT && last_ns == 6 && last_op == 3);
	CHECK_EQ_INT(timer_ops.after(&tm, NULL, 1, NULL, NULL), PB_EINVAL);
	hub_now_fixed = 777;
	CHECK_EQ_INT(timer_ops.now_ns(&tm), 777);
	REQUIRE(timer_ops.info(&tm, &info) == PB_OK);
	CHECK_STR(info.clock, "hpet");
	CHECK_STR(info.alarm, "lapic");
	CHECK_EQ_INT(info.clock_hz, 100000000);
	CHECK_EQ_INT(info.alarm_vector, 0x40);
	vec_fn[0x40](vec_arg[0x40]);
	REQUIRE(timer_ops.info(&tm, &info) == PB_OK);
	CHECK_EQ_INT(info.alarms, 1);
	timer_stop(SELF);
}

TEST(timer_needs_abi_and_providers)
{
	struct pb_hub old = fake_hub;

	reset();
	old.size = offsetof(struct pb_hub, timer_every);
	CHECK_EQ_INT(timer_start(SELF, &old, PB_START_NORMAL), PB_ENOTSUP);
	CHECK_EQ_INT(timer_start(SELF, &fake_hub, PB_START_STANDBY),
	    PB_ENOTSUP);
	timer_event(SELF, PB_EV_DISCONNECTED, &fake_irq_conn, 1);
	CHECK_EQ_INT(start(), PB_ENOTSUP);
	CHECK_EQ_INT(set_clock_calls, 0);
}

TEST(timer_boot_switches)
{
	reset();
	boot_cfg = "target=os hpet=no";
	REQUIRE(start() == PB_OK);
	CHECK_CONTAINS(logbuf, "hpet=no: the HPET is not used");
	CHECK_STR(tm.clock->name, "pm-timer");
	CHECK_EQ_INT(hpet_regs[HPET_GEN_CONF / 8], CONF_LEG_RT);  /* untouched */
	timer_stop(SELF);
	reset();				/* both off: the TSC alone */
	boot_cfg = "hpet=no pm-timer=no";
	REQUIRE(start() == PB_OK);
	CHECK_CONTAINS(logbuf, "pm-timer=no: the PM timer is not used");
	CHECK_STR(tm.clock->name, "tsc");
	CHECK_CONTAINS(logbuf, "measured against the hub's clock");
	timer_stop(SELF);
	reset();
	invariant_tsc = 1;
	boot_cfg = "tsc-clock=no";
	REQUIRE(start() == PB_OK);
	CHECK_CONTAINS(logbuf, "tsc-clock=no: clock stays hpet");
	CHECK_STR(tm.clock->name, "hpet");
	timer_stop(SELF);
}

/* Comparator 2 can reach GSI 2 and 20: GSI 2 is taken, as an NMI,
 * periodic every 100 ms, until stop(). */
TEST(timer_nmi_watchdog_comparator)
{
	uint64_t conf;

	reset();
	hpet_regs[HPET_TN_CONF(2) / 8] |= (1ull << 2 | 1ull << 20) << 32;
	pit_mode = -1;
	REQUIRE(start() == PB_OK);
	CHECK_EQ_INT(pit_mode, 0x30);		/* the PIT stopped: GSI 2 is ours */
	CHECK_EQ_INT(rt.gsi, 2);
	CHECK_EQ_INT(rt.flags, IRQ_NMI);
	CHECK_EQ_INT(rt.vector, IRQ_NMI_VECTOR);
	conf = hpet_regs[HPET_TN_CONF(2) / 8];
	CHECK_EQ_INT(conf & (TN_INT_ENB | TN_TYPE_PERIODIC | TN_FSB_EN | 2),
	    TN_INT_ENB | TN_TYPE_PERIODIC);
	CHECK_EQ_INT((conf >> TN_ROUTE_SHIFT) & 0x1f, 2);
	/* The last writes set the period: 100 ms at 100 MHz. */
	CHECK_EQ_INT(hpet_regs[HPET_TN_CMP(2) / 8], 10000000);
	CHECK_CONTAINS(logbuf, "HPET comparator 2 on GSI 2");
	timer_stop(SELF);
	CHECK_EQ_INT(hpet_regs[HPET_TN_CONF(2) / 8] & TN_INT_ENB, 0);
	CHECK_EQ_INT(rt.unroutes, 1);
}

TEST(timer_nmi_watchdog_off_or_refused)
{
	/* No comparator reaches a pin: no NMI, one line. */
	reset();
	REQUIRE(start() == PB_OK);
	CHECK_EQ_INT(rt.vector, 0);
	CHECK_CONTAINS(logbuf, "no HPET comparator can raise an NMI");
	timer_stop(SELF);
	CHECK_EQ_INT(rt.unroutes, 0);
	/* An irq provider older than 1.2 refuses IRQ_NMI. */
	reset();
	hpet_regs[HPET_TN_CONF(2) / 8] |= 1ull << 2 << 32;
	rt.err = PB_EINVAL;
	REQUIRE(start() == PB_OK);
	CHECK_CONTAINS(logbuf, "no HPET comparator can raise an NMI");
	CHECK_EQ_INT(hpet_regs[HPET_TN_CONF(2) / 8] & TN_TYPE_PERIODIC, 0);
	timer_stop(SELF);
	/* nmi-watchdog=no, or the watchdog off altogether (watchdog=0) */
	for (int i = 0; i < 2; i++) {
		reset();
		hpet_regs[HPET_TN_CONF(2) / 8] |= 1ull << 2 << 32;
		boot_cfg = i ? "watchdog=0" : "nmi-watchdog=no";
		REQUIRE(start() == PB_OK);
		CHECK_EQ_INT(rt.vector, 0);
		CHECK(!strstr(logbuf, "NMI"));
		timer_stop(SELF);
	}
}
