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

/* ==== ABI 1.2 services (appended for mod_ahci; other tests may use them)
 * ---- intrusive work items (struct pb_work), run when the test says ---- */
#ifndef PB_TESTS_FAKEHUB_12_H
#define PB_TESTS_FAKEHUB_12_H

FAKE struct pb_work *fpost_head, *fpost_tail;
FAKE unsigned fpost_runs;		/* items run so far */

FAKE void
fake_work_init(struct pb_module *self, struct pb_work *w, pb_work_fn fn,
    void *arg)
{
	memset(w, 0, sizeof(*w));
	w->fn = fn;
	w->arg = arg;
	w->owner = self;
}

/* Queued once however often posted, as the hub's work_post. */
FAKE void
fake_work_post(struct pb_module *self, struct pb_work *w)
{
	if (w->queued)
		return;
	w->queued = 1;
	w->next = NULL;
	if (fpost_tail)
		fpost_tail->next = w;
	else
		fpost_head = w;
	fpost_tail = w;
}

FAKE void
fake_work_cancel(struct pb_module *self, struct pb_work *w)
{
	struct pb_work **at = &fpost_head, *prev = NULL;

	while (*at && *at != w) {
		prev = *at;
		at = &(*at)->next;
	}
	if (!*at)
		return;
	*at = w->next;
	if (fpost_tail == w)
		fpost_tail = prev;
	w->queued = 0;
}

/* The hub after a module's fault: none of its code runs again.  Its
 * timers and queued work (their argument: the module's instance, ctx)
 * and the work items it posted go; a test silences its device and its
 * vectors as its pci provider and hub would. */
FAKE void
fake_faulted(struct pb_module *self, void *ctx)
{
	for (unsigned i = 0; i < FAKE_TIMERS; i++)
		if (ftimer[i].id && ftimer[i].arg == ctx)
			ftimer[i].id = 0;
	for (struct pb_work *w = fpost_head, *next; w; w = next) {
		next = w->next;
		if (w->owner == self)
			fake_work_cancel(self, w);
	}
	for (unsigned i = 0; i < fwork_n; )
		if (fwork[i].arg == ctx)
			memmove(&fwork[i], &fwork[i + 1],
			    (--fwork_n - i) * sizeof(fwork[0]));
		else
			i++;
}

/* Forget what is posted (a test starting afresh). */
FAKE void
fake_work_reset(void)
{
	fpost_head = fpost_tail = NULL;
}

/* Run the posted items, oldest first, including what they post. */
FAKE unsigned
run_posted(void)
{
	unsigned n = 0;

	while (fpost_head) {
		struct pb_work *w = fpost_head;

		fpost_head = w->next;
		if (!fpost_head)
			fpost_tail = NULL;
		w->queued = 0;
		w->fn(w->arg);
		n++;
		fpost_runs++;
	}
	return n;
}

/* ---- DMA: bus addresses that are not the CPU's ------------------------
 * Every region has a bus address of its own, far from its host pointer,
 * so a driver that hands the device a CPU address is caught: the device
 * model finds no memory there.  Allocations with a limit of ~0 land above
 * 4 GiB (the upper address words get used); a "scattered" region maps
 * each 4 KiB page to every other bus page, so dma_addr's runs end at
 * page ends.  fake_dma_va() is the device side's translation. */

#define FAKE_DMA_REGIONS 256
#define FAKE_DMA_LOW	0x10000000ull		/* below 4 GiB */
#define FAKE_DMA_HIGH	0x2000000000ull		/* 128 GiB */

FAKE struct {
	uint8_t *va;
	uint64_t bus;
	size_t len;
	int allocated;		/* by dma_alloc (freed by dma_free) */
	int scattered;
} fdma[FAKE_DMA_REGIONS];
FAKE uint64_t fdma_low = FAKE_DMA_LOW, fdma_high = FAKE_DMA_HIGH;
FAKE unsigned fdma_allocs;	/* dma_alloc calls not yet freed */

FAKE uint64_t
fdma_bus_space(size_t len, size_t align, int high)
{
	uint64_t *next = high ? &fdma_high : &fdma_low, bus;

	if (align < 4096)
		align = 4096;
	bus = (*next + align - 1) & ~(uint64_t)(align - 1);
	*next = bus + len + 4096;	/* a gap: no run joins the next */
	return bus;
}

/* Register host memory the device may reach (a client's buffer). */
FAKE uint64_t
fake_dma_map(void *va, size_t len, int high, int scattered)
{
	for (unsigned i = 0; i < FAKE_DMA_REGIONS; i++)
		if (!fdma[i].va) {
			fdma[i].va = va;
			fdma[i].len = len;
			fdma[i].scattered = scattered;
			fdma[i].bus = fdma_bus_space(scattered ? 2 * len + 8192 :
			    len, 4096, high);
			return fdma[i].bus;
		}
	return 0;
}

FAKE void
fake_dma_unmap(void *va)
{
	for (unsigned i = 0; i < FAKE_DMA_REGIONS; i++)
		if (fdma[i].va == va && !fdma[i].allocated)
			memset(&fdma[i], 0, sizeof(fdma[i]));
}

FAKE void *
fake_dma_alloc(struct pb_module *self, size_t len, size_t align,
    uint64_t boundary, uint64_t limit, uint64_t *bus)
{
	size_t room = (len + 4095) & ~(size_t)4095;
	void *va = aligned_alloc(4096, room);
	int high = limit > FAKE_DMA_HIGH + (1ull << 32);

	if (!va)
		return NULL;
	memset(va, 0, room);
	for (unsigned i = 0; i < FAKE_DMA_REGIONS; i++)
		if (!fdma[i].va) {
			fdma[i].va = va;
			fdma[i].len = len;
			fdma[i].allocated = 1;
			fdma[i].bus = fdma_bus_space(len, align, high);
			*bus = fdma[i].bus;
			fdma_allocs++;
			return va;
		}
	free(va);
	return NULL;
}

FAKE void
fake_dma_free(struct pb_module *self, void *va)
{
	for (unsigned i = 0; i < FAKE_DMA_REGIONS; i++)
		if (fdma[i].va == va && fdma[i].allocated) {
			free(va);
			memset(&fdma[i], 0, sizeof(fdma[i]));
			fdma_allocs--;
			return;
		}
}

FAKE int
fake_dma_addr(struct pb_module *self, const void *va, size_t len,
    uint64_t *bus, size_t *run)
{
	const uint8_t *p = va;

	for (unsigned i = 0; i < FAKE_DMA_REGIONS; i++) {
		size_t off, left;

		if (!fdma[i].va || p < fdma[i].va ||
		    p >= fdma[i].va + fdma[i].len)
			continue;
		off = (size_t)(p - fdma[i].va);
		left = fdma[i].len - off;
		if (fdma[i].scattered) {
			*bus = fdma[i].bus + (off / 4096) * 8192 + off % 4096;
			left = 4096 - off % 4096 < left ? 4096 - off % 4096 :
			    left;
		} else {
			*bus = fdma[i].bus + off;
		}
		*run = len < left ? len : left;
		return PB_OK;
	}
	return PB_EINVAL;
}

/* The device's view: host memory for [bus, bus+len), or NULL when that
 * is not one piece of registered memory. */
FAKE void *
fake_dma_va(uint64_t bus, size_t len)
{
	for (unsigned i = 0; i < FAKE_DMA_REGIONS; i++) {
		uint64_t off;

		if (!fdma[i].va || bus < fdma[i].bus)
			continue;
		off = bus - fdma[i].bus;
		if (fdma[i].scattered) {
			uint64_t page = off / 8192, in = off % 8192;

			if (in + len > 4096 || page * 4096 + in + len >
			    fdma[i].len)
				continue;
			return fdma[i].va + page * 4096 + in;
		}
		if (off + len <= fdma[i].len)
			return fdma[i].va + off;
	}
	return NULL;
}

/* Forget every region (test memory is the test's to free). */
FAKE void
fake_dma_reset(void)
{
	for (unsigned i = 0; i < FAKE_DMA_REGIONS; i++) {
		if (fdma[i].allocated)
			free(fdma[i].va);
		memset(&fdma[i], 0, sizeof(fdma[i]));
	}
	fdma_allocs = 0;
	fdma_low = FAKE_DMA_LOW;
	fdma_high = FAKE_DMA_HIGH;
	fake_work_reset();
}

#endif
