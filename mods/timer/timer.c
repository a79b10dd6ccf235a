/*
 * timer - the system clock and alarm: provides `timer` 1.0 (timer:system)
 * and gives the hub its clock and alarm (hub->set_clock), so that the
 * hub's event loop sleeps until the next deadline instead of polling.
 *
 *   clock	the HPET's main counter; the ACPI PM timer when there is no
 *		HPET; the TSC instead of either when it is invariant, once
 *		measured against it.  Neither HPET nor PM timer (low-power
 *		platforms hide both): the TSC, its rate from CPUID 0x15/0x16
 *		(tsc.c) or measured against the hub's clock, which runs on
 *		the TSC rate the stub timed with the firmware's Stall().
 *   alarm	the local APIC timer, one-shot, through the irq provider
 *		(irq 1.1 local_timer), at the core crystal's rate when CPUID
 *		0x15 gives it, else measured against the clock; its vector
 *		from the hub.  A sleep longer than ALARM_MAX_NS
 *		(or a quarter of the clock's wrap) is cut into several: the
 *		handler re-arms until the deadline is reached, and keeps a
 *		wrapping clock read even with nothing to wait for.
 *   stop	the hub gets its own clock back, the local timer stops
 *
 * boot.cfg: `hpet=no` leaves the HPET alone (the PM timer is the clock),
 * `pm-timer=no` the PM timer (with both, QEMU shows a low-power
 * platform's TSC-only clock), `tsc-clock=no` keeps the TSC out even when
 * invariant (unless it is the only clock left).
 * Not swappable (the hub's clock has one owner at a time).
 * QEMU: every configuration; `-machine q35,hpet=off` for the PM timer.
 */
#include "timer.h"
#include "../../abi/cpu.h"

#define ALARM_MAX_NS	NS_PER_S
#define NO_DEADLINE	(~0ull)
#define CAL_WINDOW_NS	(20ull * 1000 * 1000)
/* The alarm's rate only decides how early or late a wake-up comes (the
 * clock is another counter): 2 ms of HPET or PM timer resolve it to
 * within 0.05%, and the boot waits 18 ms less for it. */
#define ALARM_CAL_WINDOW_NS	(2ull * 1000 * 1000)
#define CAL_MAX_READS	4000000u
/* Against the TSC, which changes at every read and costs ~10 ns a read,
 * a 20 ms window takes more reads than an HPET or PM timer would: the
 * same bound in time is a larger one in reads. */
#define CAL_MAX_READS_TSC 16000000u
#define CAL_STUCK_READS	100000u
#define PM_MOVE_READS	100000u
#define LAPIC_DIVIDE	1
#define LAPIC_CAL_COUNT	0xffffffffu

struct tmod {
	const struct pb_hub *hub;
	struct pb_module *self;
	struct hpet hpet;
	struct pmtimer pm;
	struct counter ref;		/* HPET, PM timer or the hub's clock */
	struct counter tsc;
	struct counter *clock;		/* &ref or &tsc */
	char clock_from[56];		/* how the TSC's rate was found */
	int vector;			/* the alarm's; 0: none */
	uint64_t alarm_hz;		/* local APIC timer, 0: no alarm */
	uint64_t crystal_hz;		/* from CPUID 0x15; 0: unknown */
	uint64_t deadline;		/* clock ns, NO_DEADLINE */
	uint64_t max_sleep_ns;		/* one alarm at most this far */
	int wraps;			/* the clock must be read periodically */
	uint64_t alarms;		/* alarm interrupts taken */
	int clock_given;
	int nmi_gsi;			/* the watchdog's NMI pin, -1: none */
	unsigned nmi_timer;		/* and its HPET comparator */
};

static struct tmod tm;
static struct pb_conn *acpi_conn;	/* requirement 0 */
static struct pb_conn *irq_conn;	/* requirement 1 */

static uint64_t
clock_ns(struct tmod *t)
{
	return ticks_to_ns(counter_ticks(t->clock), t->clock->hz);
}

/* --- the alarm -------------------------------------------------------- */

/* Program the local timer for the deadline, or the longest sleep when it
 * is further (or there is none but the clock wraps). */
static void
alarm_program(struct tmod *t)
{
	uint64_t now = clock_ns(t), delay, count;

	if (t->deadline == NO_DEADLINE && !t->wraps) {
		PB_CALL(irq_conn, irq_ops, local_timer, t->vector,
		    LAPIC_DIVIDE, 0, 0);
		return;
	}
	delay = t->deadline == NO_DEADLINE ? t->max_sleep_ns :
	    t->deadline > now ? t->deadline - now : 0;
	if (delay > t->max_sleep_ns)
		delay = t->max_sleep_ns;
	count = ns_to_ticks(delay, t->alarm_hz);
	if (count == 0)
		count = 1;		/* zero delays fire too */
	if (count > 0xffffffffu)
		count = 0xffffffffu;	/* the rest after a re-arm */
	PB_CALL(irq_conn, irq_ops, local_timer, t->vector, LAPIC_DIVIDE,
	    (uint32_t)count, 0);
}

/* struct pb_clock arm: interrupts are held. */
static void
alarm_arm(void *ctx, uint64_t ns)
{
	struct tmod *t = ctx;
	uint64_t now = clock_ns(t);

	t->deadline = ns == NO_DEADLINE ? NO_DEADLINE :
	    ns > NO_DEADLINE - 1 - now ? NO_DEADLINE - 1 : now + ns;
	alarm_program(t);
}

/* The local timer's interrupt: the hub wakes from its sleep after this
 * and runs the timers due; here only an early wake is re-armed. */
static void
alarm_irq(void *arg)
{
	struct tmod *t = arg;

	t->alarms++;
	if (t->deadline != NO_DEADLINE && clock_ns(t) >= t->deadline)
		t->deadline = NO_DEADLINE;
	alarm_program(t);
}

static uint64_t
clock_now(void *ctx)
{
	return clock_ns(ctx);
}

static const struct pb_clock clock_with_alarm = {
	.now_ns = clock_now,
	.arm = alarm_arm,
};

static const struct pb_clock clock_only = {
	.now_ns = clock_now,
	.arm = NULL,			/* the hub polls its timers */
};

/* --- choosing and measuring ------------------------------------------- */

static int
take_hpet(struct tmod *t, const struct acpi_platform *p)
{
	int err;

	if (!p->hpet_phys) {
		pb_logf(t->hub, t->self, PB_LOG_INFO, "no HPET in the ACPI "
		    "tables");
		return PB_ENODEV;
	}
	if (pb_setting_off(t->hub, "hpet")) {
		pb_logf(t->hub, t->self, PB_LOG_INFO, "hpet=no: the HPET is "
		    "not used");
		return PB_ENODEV;
	}
	if ((err = hpet_start(&t->hpet, t->hub, t->self, p->hpet_phys)) !=
	    PB_OK)
		return err;
	counter_init(&t->ref, "hpet", t->hpet.caps.hz,
	    t->hpet.caps.wide ? 64 : 32, hpet_read, &t->hpet);
	return PB_OK;
}

static int
take_pmtimer(struct tmod *t, const struct acpi_platform *p)
{
	uint64_t stuck;

	if (!p->have_fadt || !p->pm_tmr_port || p->pm_tmr_port > 0xffff) {
		pb_logf(t->hub, t->self, PB_LOG_INFO, "no ACPI PM timer in "
		    "the FADT (PM_TMR_BLK 0x%x)", p->pm_tmr_port);
		return PB_ENODEV;
	}
	if (pb_setting_off(t->hub, "pm-timer")) {
		pb_logf(t->hub, t->self, PB_LOG_INFO, "pm-timer=no: the PM "
		    "timer is not used");
		return PB_ENODEV;
	}
	t->pm = (struct pmtimer){ .port = (uint16_t)p->pm_tmr_port,
	    .wide = p->pm_tmr_32bit != 0 };
	if (counter_moves(pmtimer_read, &t->pm, PM_MOVE_READS, &stuck) !=
	    PB_OK) {
		pb_logf(t->hub, t->self, PB_LOG_WARN, "PM timer at port 0x%x "
		    "stuck at 0x%llx after %u reads", t->pm.port,
		    (unsigned long long)stuck, PM_MOVE_READS);
		return PB_EIO;
	}
	counter_init(&t->ref, "pm-timer", PMTMR_HZ, t->pm.wide ? 32 : 24,
	    pmtimer_read, &t->pm);
	return PB_OK;
}

/*
 * Interrupts are held for the measurement (bounded by its read budget): a
 * handler cutting in between a reference edge and the counter's read would
 * stretch one side of the ratio.
 */
static int
measure(struct tmod *t, struct calib *c, const char *what,
    uint64_t window_ns)
{
	uint64_t held;
	int err;

	c->window_ns = window_ns;
	c->max_reads = c->ref->read == tsc_read ? CAL_MAX_READS_TSC :
	    CAL_MAX_READS;
	c->stuck_reads = CAL_STUCK_READS;
	held = cpu_irq_save();
	err = calibrate(c);
	cpu_irq_restore(held);
	if (err != PB_OK)
		pb_logf(t->hub, t->self, PB_LOG_WARN, "%s against %s: %s "
		    "(%llu of its ticks in %u reads, %llu ticks measured)",
		    what, c->ref->name, err == PB_EIO ? "it does not count" :
		    "the reference stopped counting",
		    (unsigned long long)c->ref_ticks, c->reads,
		    (unsigned long long)c->ticks);
	return err;
}

/* An invariant TSC is the cheaper clock to read: measure it. */
static void
take_tsc(struct tmod *t)
{
	struct calib c = { .ref = &t->ref, .read = tsc_read };

	if (!tsc_invariant()) {
		pb_logf(t->hub, t->self, PB_LOG_INFO, "TSC not invariant "
		    "(CPUID.80000007H:EDX[8]): clock stays %s", t->ref.name);
		return;
	}
	if (pb_setting_off(t->hub, "tsc-clock")) {
		pb_logf(t->hub, t->self, PB_LOG_INFO, "tsc-clock=no: clock "
		    "stays %s", t->ref.name);
		return;
	}
	if (measure(t, &c, "TSC", CAL_WINDOW_NS) != PB_OK)
		return;
	counter_init(&t->tsc, "tsc", c.hz, 64, tsc_read, NULL);
	t->clock = &t->tsc;
	rt_snprintf(t->clock_from, sizeof(t->clock_from), "measured against "
	    "%s", t->ref.name);
}

/* The hub's clock before set_clock: the TSC at the stub's rate. */
static uint64_t
hub_clock_read(void *ctx)
{
	struct tmod *t = ctx;

	return t->hub->now_ns();
}

/*
 * Neither HPET nor PM timer: the TSC is the clock, invariant or not (a
 * part without an invariant TSC and without either timer has nothing
 * better).  Its rate from CPUID where that may be believed, else
 * measured against the hub's clock, which the stub timed against the
 * firmware's Stall().
 */
static int
take_tsc_alone(struct tmod *t)
{
	struct tsc_rates rates;
	struct calib c = { .ref = &t->ref, .read = tsc_read };
	const char *why;
	int err;

	if (tsc_rates_from_cpuid(&rates, &why) == PB_OK) {
		counter_init(&t->tsc, "tsc", rates.tsc_hz, 64, tsc_read, NULL);
		t->crystal_hz = rates.crystal_hz;
		rt_strlcpy(t->clock_from, rates.how, sizeof(t->clock_from));
	} else {
		pb_logf(t->hub, t->self, PB_LOG_INFO, "TSC rate not from CPUID "
		    "0x15: %s; measuring it against the hub's clock", why);
		counter_init(&t->ref, "the hub's clock", NS_PER_S, 64,
		    hub_clock_read, t);
		if ((err = measure(t, &c, "TSC", CAL_WINDOW_NS)) != PB_OK)
			return err;
		counter_init(&t->tsc, "tsc", c.hz, 64, tsc_read, NULL);
		rt_strlcpy(t->clock_from, "measured against the hub's clock, "
		    "timed by Stall()", sizeof(t->clock_from));
	}
	t->clock = &t->tsc;
	if (!tsc_invariant())
		pb_logf(t->hub, t->self, PB_LOG_WARN, "the TSC is the clock "
		    "but not invariant (CPUID.80000007H:EDX[8]): its rate may "
		    "follow the CPU's");
	return PB_OK;
}

/* The local timer counts down from LAPIC_CAL_COUNT: what it has counted. */
static uint64_t
lapic_elapsed(void *ctx)
{
	uint32_t cur = 0;

	PB_CALL(irq_conn, irq_ops, local_timer_count, &cur);
	return LAPIC_CAL_COUNT - cur;
}

/* The local timer at divide 1 counts the core crystal where CPUID 0x15
 * names one (tsc.c); otherwise it is measured against the clock. */
static int
take_alarm(struct tmod *t)
{
	struct calib c = { .ref = t->clock, .read = lapic_elapsed };
	int v, err;

	if ((v = t->hub->irq_alloc(t->self)) < 0 ||
	    (err = t->hub->irq_register(t->self, v, alarm_irq, t)) != PB_OK) {
		pb_logf(t->hub, t->self, PB_LOG_WARN, "no vector for the "
		    "alarm: the hub polls its timers");
		return PB_ENOMEM;
	}
	t->vector = v;
	if (t->crystal_hz) {
		t->alarm_hz = t->crystal_hz;
		return PB_OK;
	}
	if ((err = PB_CALL(irq_conn, irq_ops, local_timer, v, LAPIC_DIVIDE,
	    LAPIC_CAL_COUNT, 0)) == PB_OK)
		err = measure(t, &c, "local APIC timer",
		    ALARM_CAL_WINDOW_NS);
	PB_CALL(irq_conn, irq_ops, local_timer, v, LAPIC_DIVIDE, 0, 0);
	if (err != PB_OK) {
		t->hub->irq_unregister(t->self, v);
		t->vector = 0;
		return err;
	}
	t->alarm_hz = c.hz;
	return PB_OK;
}

/* --- the module ------------------------------------------------------- */

static uint64_t
t_now_ns(void *ctx)
{
	struct tmod *t = ctx;

	return t->hub->now_ns();
}

static int
t_after(void *ctx, struct pb_module *client, uint64_t ns, pb_work_fn fn,
    void *arg)
{
	struct tmod *t = ctx;

	if (!client)
		return PB_EINVAL;
	return t->hub->timer_after(client, ns, fn, arg);
}

static int
t_every(void *ctx, struct pb_module *client, uint64_t ns, pb_work_fn fn,
    void *arg)
{
	struct tmod *t = ctx;

	if (!client)
		return PB_EINVAL;
	return t->hub->timer_every(client, ns, fn, arg);
}

static void
t_cancel(void *ctx, struct pb_module *client, int id)
{
	struct tmod *t = ctx;

	if (client)
		t->hub->timer_cancel(client, id);
}

static int
t_info(void *ctx, struct timer_info *info)
{
	struct tmod *t = ctx;

	*info = (struct timer_info){ .clock_hz = t->clock->hz,
	    .alarm_hz = t->alarm_hz, .alarm_vector = (uint32_t)t->vector,
	    .alarms = t->alarms };
	rt_strlcpy(info->clock, t->clock->name, sizeof(info->clock));
	rt_strlcpy(info->alarm, t->alarm_hz ? "lapic" : "none",
	    sizeof(info->alarm));
	return PB_OK;
}

static const struct timer_ops timer_ops = {
	.now_ns = t_now_ns,		/* the hub's clock: this one + offset */
	.after = t_after,		/* hub timers, in the client's ledger */
	.every = t_every,
	.cancel = t_cancel,
	.info = t_info,			/* clock and alarm, alarms taken */
};

static int
hub_has_clock(const struct pb_hub *h)
{
	return h->size >= offsetof(struct pb_hub, set_clock) +
	    sizeof(h->set_clock) && h->set_clock && h->timer_every;
}

static void
publish(struct tmod *t)
{
	char props[128];

	rt_snprintf(props, sizeof(props), "clock=%s clock_hz=%llu alarm=%s "
	    "alarm_hz=%llu vector=%d", t->clock->name,
	    (unsigned long long)t->clock->hz, t->alarm_hz ? "lapic" : "none",
	    (unsigned long long)t->alarm_hz, t->vector);
	if (!t->hub->publish(t->self, TIMER_IFACE, "system", props,
	    &timer_ops, t))
		pb_logf(t->hub, t->self, PB_LOG_ERR, "cannot publish "
		    "timer:system");
}

/* The hub's watchdog tick, on an HPET comparator (nmi.c). */
static void
nmi_start(struct tmod *t)
{
	char limit[8];

	t->nmi_gsi = -1;
	if (!t->hpet.regs || !t->hpet.caps.hz ||
	    pb_setting_off(t->hub, "nmi-watchdog") ||
	    (pb_setting(t->hub, "watchdog", limit, sizeof(limit)) &&
	    !strcmp(limit, "0")))
		return;			/* off, or the watchdog is */
	if (hpet_nmi_start(&t->hpet, irq_conn, &t->nmi_timer, &t->nmi_gsi) !=
	    PB_OK) {
		t->nmi_gsi = -1;
		pb_logf(t->hub, t->self, PB_LOG_WARN, "no HPET comparator can "
		    "raise an NMI: no NMI watchdog");
		return;
	}
	pb_logf(t->hub, t->self, PB_LOG_INFO, "watchdog NMI every 100 ms: "
	    "HPET comparator %u on GSI %d", t->nmi_timer, t->nmi_gsi);
}

/* "clock tsc at 2400000000 Hz (measured against hpet), alarm ..." */
static void
log_choice(struct tmod *t)
{
	char from[64] = "";

	if (t->clock_from[0])
		rt_snprintf(from, sizeof(from), " (%s)", t->clock_from);
	pb_logf(t->hub, t->self, PB_LOG_INFO, "clock %s at %llu Hz%s, alarm "
	    "%s at %llu Hz on vector %d%s", t->clock->name,
	    (unsigned long long)t->clock->hz, from,
	    t->alarm_hz ? "local APIC timer" : "none (polled)",
	    (unsigned long long)t->alarm_hz, t->vector,
	    t->crystal_hz && t->alarm_hz ? " (the core crystal)" : "");
}

static int
timer_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	struct tmod *t = &tm;
	const struct acpi_platform *p;
	uint64_t wrap;
	int err;

	rt_use_hub(h);
	*t = (struct tmod){ .hub = h, .self = m, .deadline = NO_DEADLINE };
	if (mode == PB_START_STANDBY)
		return PB_ENOTSUP;	/* one clock owner: no swap */
	if (!hub_has_clock(h) || !acpi_conn || !irq_conn)
		return PB_ENOTSUP;
	if (!(p = PB_CALL(acpi_conn, acpi_ops, platform)))
		return PB_ENODEV;
	if (take_hpet(t, p) == PB_OK || take_pmtimer(t, p) == PB_OK) {
		t->clock = &t->ref;
		take_tsc(t);
	} else if (take_tsc_alone(t) != PB_OK) {
		pb_logf(h, m, PB_LOG_WARN, "neither HPET, PM timer nor a TSC "
		    "rate: the hub keeps its TSC clock");
		return PB_ENODEV;
	}
	wrap = counter_wrap_ns(t->clock);
	t->wraps = wrap != ~0ull;
	t->max_sleep_ns = wrap / 4 < ALARM_MAX_NS ? wrap / 4 : ALARM_MAX_NS;
	take_alarm(t);
	if ((err = h->set_clock(m, t->alarm_hz ? &clock_with_alarm :
	    &clock_only, t)) != PB_OK) {
		pb_logf(h, m, PB_LOG_ERR, "the hub's clock is taken (%d)", err);
		if (t->vector)
			h->irq_unregister(m, t->vector);
		return err;
	}
	t->clock_given = 1;
	publish(t);
	log_choice(t);
	nmi_start(t);
	return PB_OK;
}

static void
timer_stop(struct pb_module *m)
{
	struct tmod *t = &tm;

	if (!t->clock_given)
		return;
	if (t->nmi_gsi >= 0)
		hpet_nmi_stop(&t->hpet, irq_conn, t->nmi_timer);
	t->hub->set_clock(m, NULL, NULL);
	if (t->vector) {
		PB_CALL(irq_conn, irq_ops, local_timer, t->vector,
		    LAPIC_DIVIDE, 0, 0);
		t->hub->irq_unregister(m, t->vector);
	}
	t->clock_given = 0;
}

static void
timer_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	if (req == 0)
		acpi_conn = ev == PB_EV_DISCONNECTED ? NULL : c;
	else if (req == 1)
		irq_conn = ev == PB_EV_DISCONNECTED ? NULL : c;
}

static const struct pb_module_ops timer_mod_ops = {
	.start = timer_start,
	.stop = timer_stop,
	.event = timer_event,
};

PB_MODULE(.name = "timer", .version = "1.0",
    .desc = "HPET, PM timer, TSC clock; local APIC timer alarm",
    .flags = PB_MOD_HARDWARE | PB_MOD_AUTOSTART, .rank = 10,
    .ops = &timer_mod_ops,
    .nprovides = 1,
    .provides = { PB_PROVIDE(TIMER_IFACE, TIMER_MAJOR, TIMER_MINOR) },
    .nrequires = 2,
    .requires = {
	PB_REQUIRE(ACPI_IFACE, ACPI_MAJOR, ACPI_MINOR, PB_CARD_ONE,
	    PB_AT_START),
	PB_REQUIRE(IRQ_IFACE, 1, 1, PB_CARD_ONE, PB_AT_START) });
