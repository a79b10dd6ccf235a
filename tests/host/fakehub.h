/*
 * fakehub.h - the parts of a fake hub that the module host tests share:
 * the module's handle, a clock that moves 1 us per look (so every bounded
 * wait ends quickly), the log captured for assertions, a work queue run
 * on demand, device vectors 64-79 whose handlers a test can fire, and
 * one-shot timers.
 * Each test builds its own struct pb_hub from these and the fakes only it
 * needs.  Included once per test binary (after abi/pbmod.h); a part a
 * test does not use costs no warning.
 */
#ifndef PB_TESTS_FAKEHUB_H
#define PB_TESTS_FAKEHUB_H

#include <stdio.h>
#include <string.h>

#define FAKE static __attribute__((unused))

static char self_storage;
#define SELF ((struct pb_module *)&self_storage)

FAKE char log_text[16384];
FAKE uint64_t fake_ns;

FAKE uint64_t
fake_now(void)
{
	return fake_ns += 1000;
}

FAKE void
fake_log(struct pb_module *self, int level, const char *msg)
{
	size_t n = strlen(log_text);

	snprintf(log_text + n, sizeof(log_text) - n, "%s\n", msg);
}

/* ---- work, run when the test says (the event loop's part) ---------- */

#define FAKE_WORK_SLOTS 8

FAKE struct {
	pb_work_fn fn;
	void *arg;
} fwork[FAKE_WORK_SLOTS];
FAKE unsigned fwork_n;

FAKE int
fake_queue_work(struct pb_module *self, pb_work_fn fn, void *arg)
{
	if (fwork_n == FAKE_WORK_SLOTS)
		return PB_ENOMEM;
	fwork[fwork_n].fn = fn;
	fwork[fwork_n++].arg = arg;
	return PB_OK;
}

/* Run the queued work, oldest first, including what it queues. */
FAKE unsigned
run_work(void)
{
	unsigned n = 0;

	while (fwork_n) {
		pb_work_fn fn = fwork[0].fn;
		void *arg = fwork[0].arg;

		memmove(fwork, fwork + 1, --fwork_n * sizeof(fwork[0]));
		fn(arg);
		n++;
	}
	return n;
}

/* ---- device vectors 64-79 ---------------------------------------- */

#define FAKE_VEC_FIRST 64
#define FAKE_VEC_END 80

FAKE struct {
	int used;
	pb_irq_fn fn;
	void *arg;
} fvec[FAKE_VEC_END];

FAKE int
fake_irq_alloc(struct pb_module *self)
{
	for (int v = FAKE_VEC_FIRST; v < FAKE_VEC_END; v++)
		if (!fvec[v].used) {
			fvec[v].used = 1;
			return v;
		}
	return PB_ENOMEM;
}

FAKE int
fake_irq_register(struct pb_module *self, int v, pb_irq_fn fn, void *arg)
{
	if (v < FAKE_VEC_FIRST || v >= FAKE_VEC_END || !fvec[v].used)
		return PB_EINVAL;
	fvec[v].fn = fn;
	fvec[v].arg = arg;
	return PB_OK;
}

FAKE void
fake_irq_unregister(struct pb_module *self, int v)
{
	if (v >= FAKE_VEC_FIRST && v < FAKE_VEC_END)
		memset(&fvec[v], 0, sizeof(fvec[v]));
}

FAKE unsigned
vectors_used(void)
{
	unsigned n = 0;

	for (int v = FAKE_VEC_FIRST; v < FAKE_VEC_END; v++)
		n += fvec[v].used;
	return n;
}

/* ---- one-shot timers, run when due or when the test says ---------- */

#define FAKE_TIMERS 4

FAKE struct {
	int id;			/* 0: free */
	uint64_t when;		/* fake_ns */
	pb_work_fn fn;
	void *arg;
} ftimer[FAKE_TIMERS];
FAKE int ftimer_next = 1;

FAKE int
fake_timer_after(struct pb_module *self, uint64_t ns, pb_work_fn fn,
    void *arg)
{
	for (unsigned i = 0; i < FAKE_TIMERS; i++)
		if (!ftimer[i].id) {
			ftimer[i].id = ftimer_next++;
			ftimer[i].when = fake_ns + ns;
			ftimer[i].fn = fn;
			ftimer[i].arg = arg;
			return ftimer[i].id;
		}
	return PB_ENOMEM;
}

FAKE void
fake_timer_cancel(struct pb_module *self, int id)
{
	for (unsigned i = 0; i < FAKE_TIMERS; i++)
		if (ftimer[i].id == id)
			ftimer[i].id = 0;
}

FAKE unsigned
timers_armed(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < FAKE_TIMERS; i++)
		n += ftimer[i].id != 0;
	return n;
}

/* Run the timers armed now, due or not (each may arm again). */
FAKE void
run_timers(void)
{
	for (unsigned i = 0; i < FAKE_TIMERS; i++)
		if (ftimer[i].id) {
			ftimer[i].id = 0;
			ftimer[i].fn(ftimer[i].arg);
		}
}

/* Let time pass: the timers due by then run. */
FAKE void
time_passes(uint64_t ns)
{
	fake_ns += ns;
	for (unsigned i = 0; i < FAKE_TIMERS; i++)
		if (ftimer[i].id && ftimer[i].when <= fake_ns) {
			ftimer[i].id = 0;
			ftimer[i].fn(ftimer[i].arg);
		}
}

/* Forget everything the last test left. */
FAKE void
fakehub_reset(void)
{
	log_text[0] = '\0';
	fwork_n = 0;
	memset(fvec, 0, sizeof(fvec));
	memset(ftimer, 0, sizeof(ftimer));
}

/* ---- boot.cfg: the hub's config:boot, which pb_setting() reads ---- */

FAKE const char *fake_boot_cfg = "";

FAKE int
fake_res_info(const char *module, unsigned index, struct pb_res_info *out)
{
	if (strcmp(module, "hub") != 0 || index > 0)
		return PB_ENOENT;
	*out = (struct pb_res_info){ .name = "config:boot", .iface = "config",
	    .props = fake_boot_cfg, .owner = "hub" };
	return PB_OK;
}

#endif
