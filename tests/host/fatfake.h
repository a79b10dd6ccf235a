/*
 * fatfake.h - what the fat module's host test and fuzzer run it on:
 *  - a fake hub with the ABI 1.2 services fat uses: intrusive work items
 *    run when the test pumps, an inventory (res_info over the fake disks,
 *    config:boot and what the module published), connections, page and
 *    heap allocations (malloc: ASan sees every overrun), periodic timers
 *    run when the test lets time pass;
 *  - fake `block` disks over in-memory images, which take requests and
 *    complete them only when pumped (so fat never sees a completion
 *    inside submit), check every request against the limits they
 *    announce, and count what they did;
 *  - a synchronous fs client: submit one request, pump until its `done`.
 * Included once per binary, after abi/pbmod.h and the module's files.
 */
#ifndef PB_TESTS_FATFAKE_H
#define PB_TESTS_FATFAKE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../abi/block.h"
#include "../../abi/fs.h"
#include "../../abi/modsrc.h"

#define FF static __attribute__((unused))

static char ff_self;
#define FF_SELF ((struct pb_module *)&ff_self)

FF char ff_log[65536];
FF int ff_quiet;		/* the fuzzer: no log kept */
FF uint64_t ff_ns;
FF char ff_cfg[256];		/* config:boot's properties */

FF void
ff_log_fn(struct pb_module *self, int level, const char *msg)
{
	size_t n = strlen(ff_log);

	if (ff_quiet)
		return;
	if (getenv("FAT_TEST_LOG"))
		fprintf(stderr, "log: %s\n", msg);
	snprintf(ff_log + n, sizeof(ff_log) - n, "%s\n", msg);
}

FF uint64_t
ff_now(void)
{
	return ff_ns += 1000;
}

/* ---- intrusive work ------------------------------------------------ */

FF struct pb_work *ff_whead, *ff_wtail;

FF void
ff_work_init(struct pb_module *self, struct pb_work *w, pb_work_fn fn,
    void *arg)
{
	memset(w, 0, sizeof(*w));
	w->fn = fn;
	w->arg = arg;
	w->owner = self;
}

FF void
ff_work_post(struct pb_module *self, struct pb_work *w)
{
	if (w->queued)
		return;
	w->queued = 1;
	w->next = NULL;
	if (ff_wtail)
		ff_wtail->next = w;
	else
		ff_whead = w;
	ff_wtail = w;
}

FF void
ff_work_cancel(struct pb_module *self, struct pb_work *w)
{
	struct pb_work **pp = &ff_whead, *prev = NULL;

	for (; *pp; prev = *pp, pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			if (ff_wtail == w)
				ff_wtail = prev;
			break;
		}
	w->queued = 0;
	w->next = NULL;
}

FF unsigned
ff_run_work(void)
{
	unsigned n = 0;
	struct pb_work *w;

	while ((w = ff_whead)) {
		ff_whead = w->next;
		if (!ff_whead)
			ff_wtail = NULL;
		w->next = NULL;
		w->queued = 0;
		w->fn(w->arg);
		n++;
	}
	return n;
}

/* ---- memory -------------------------------------------------------- */

FF unsigned ff_allocs;		/* live allocations */

FF void *
ff_alloc(struct pb_module *self, size_t bytes)
{
	void *p = calloc(1, bytes ? bytes : 1);

	ff_allocs += p != NULL;
	return p;
}

FF void
ff_free(struct pb_module *self, void *p)
{
	if (p)
		ff_allocs--;
	free(p);
}

FF void *
ff_alloc_pages(struct pb_module *self, size_t n, uint32_t flags,
    uint64_t *phys)
{
	void *p = aligned_alloc(4096, n * 4096);

	if (!p)
		return NULL;
	ff_allocs++;
	memset(p, flags & PB_MEM_ZERO ? 0 : 0xa5, n * 4096);
	if (phys)
		*phys = (uint64_t)(uintptr_t)p;
	return p;
}

FF void
ff_free_pages(struct pb_module *self, void *va, size_t n)
{
	ff_free(self, va);
}

FF int
ff_dma_addr(struct pb_module *self, const void *va, size_t len,
    uint64_t *bus, size_t *run)
{
	*bus = (uint64_t)(uintptr_t)va;
	*run = len;
	return PB_OK;
}

/* ---- disks --------------------------------------------------------- */

#define FF_DISKS 4
#define FF_QUEUE 64

/* A sparse image: the sectors given, zeros elsewhere (the fuzzer's). */
#define FF_SPARSE 4096

struct ff_sparse {
	uint32_t n;
	uint32_t lba[FF_SPARSE];
	uint8_t data[FF_SPARSE][512];
	int32_t index[FF_SPARSE * 2];	/* open addressing, -1 free */
};

struct ff_disk {
	int used;
	struct ff_sparse *sparse;	/* instead of img when set */
	char name[48];		/* "block:disk0" */
	char props[200];
	uint8_t *img;
	uint64_t bytes;
	struct block_info info;
	struct block_req *q[FF_QUEUE];
	unsigned nq, max_queued;
	unsigned reads, writes, flushes;
	uint64_t rbytes, wbytes;
	int fail_writes_after;	/* -1: never; else writes before EIO */
	int reads_first;	/* complete queued reads before writes */
	int backwards;		/* complete the newest request first */
	uint64_t meta_end;	/* writes below: 'M' in seq, above: 'D' */
	char seq[512];		/* writes (M, D) and flushes (F), in order */
	int bad;		/* a request broke the limits */
	char why[120];
};

FF struct ff_disk ff_disks[FF_DISKS];

FF int
ff_disk_info(void *ctx, struct block_info *info)
{
	struct ff_disk *d = ctx;
	uint32_t n = info->size < sizeof(*info) ? info->size : sizeof(*info);

	memcpy(info, &d->info, n);
	info->size = n;
	return PB_OK;
}

FF int
ff_disk_refuse(struct ff_disk *d, const char *why)
{
	d->bad++;
	snprintf(d->why, sizeof(d->why), "%s", why);
	return PB_EINVAL;
}

FF int
ff_disk_submit(void *ctx, struct block_req *r)
{
	struct ff_disk *d = ctx;
	uint64_t total = 0, bs = d->info.block_size;

	if (r->op == BLOCK_FLUSH)
		goto take;
	if (r->op != BLOCK_READ && r->op != BLOCK_WRITE)
		return ff_disk_refuse(d, "unknown op");
	if (r->count == 0 || r->lba + r->count > d->info.block_count)
		return ff_disk_refuse(d, "beyond the disk");
	if ((uint64_t)r->count * bs > d->info.max_transfer)
		return ff_disk_refuse(d, "over max_transfer");
	if (r->nseg == 0 || r->nseg > d->info.max_segments)
		return ff_disk_refuse(d, "segments");
	for (unsigned i = 0; i < r->nseg; i++) {
		if (r->segs[i].len == 0 || r->segs[i].len % bs)
			return ff_disk_refuse(d, "segment length");
		if ((uintptr_t)r->segs[i].va % d->info.align)
			return ff_disk_refuse(d, "segment alignment");
		if (r->segs[i].bus != (uint64_t)(uintptr_t)r->segs[i].va)
			return ff_disk_refuse(d, "bus address");
		total += r->segs[i].len;
	}
	if (total != (uint64_t)r->count * bs)
		return ff_disk_refuse(d, "segments do not add up");
	if (r->op == BLOCK_WRITE && (d->info.flags & BLOCK_RO))
		return PB_EROFS;
take:
	if (d->nq == FF_QUEUE)
		return PB_EBUSY;
	d->q[d->nq++] = r;
	if (d->nq > d->max_queued)
		d->max_queued = d->nq;
	return PB_OK;
}

FF const struct block_ops ff_disk_ops = {
	.info = ff_disk_info,
	.submit = ff_disk_submit,
};

FF int32_t *
ff_sparse_slot(struct ff_sparse *s, uint32_t lba)
{
	uint32_t h = lba * 2654435761u % (FF_SPARSE * 2);

	while (s->index[h] >= 0 && s->lba[s->index[h]] != lba)
		h = (h + 1) % (FF_SPARSE * 2);
	return &s->index[h];
}

/* Sector lba of a sparse image: its data, or NULL (zeros). */
FF uint8_t *
ff_sparse_get(struct ff_sparse *s, uint32_t lba, int make)
{
	int32_t *slot = ff_sparse_slot(s, lba);

	if (*slot >= 0)
		return s->data[*slot];
	if (!make || s->n == FF_SPARSE)
		return NULL;
	*slot = (int32_t)s->n;
	s->lba[s->n] = lba;
	memset(s->data[s->n], 0, 512);
	return s->data[s->n++];
}

FF int
ff_sparse_io(struct ff_disk *d, struct block_req *r)
{
	uint32_t lba = (uint32_t)r->lba;

	for (unsigned i = 0; i < r->nseg; i++)
		for (uint32_t off = 0; off < r->segs[i].len; off += 512, lba++) {
			uint8_t *va = (uint8_t *)r->segs[i].va + off;
			uint8_t *p = ff_sparse_get(d->sparse, lba,
			    r->op == BLOCK_WRITE);

			if (r->op == BLOCK_READ && p)
				memcpy(va, p, 512);
			else if (r->op == BLOCK_READ)
				memset(va, 0, 512);
			else if (p)
				memcpy(p, va, 512);
			else
				return PB_EIO;	/* the map is full */
		}
	return PB_OK;
}

/* Carry out one request, as a device would, and post its completion. */
FF void
ff_disk_do(struct ff_disk *d, struct block_req *r)
{
	uint8_t *p = d->img ? d->img + r->lba * d->info.block_size : NULL;
	size_t n;

	r->status = PB_OK;
	n = strlen(d->seq);
	if (r->op != BLOCK_READ && n + 1 < sizeof(d->seq)) {
		d->seq[n] = r->op == BLOCK_FLUSH ? 'F' : r->lba < d->meta_end ?
		    'M' : 'D';
		d->seq[n + 1] = '\0';
	}
	if (d->sparse && r->op != BLOCK_FLUSH) {
		r->status = ff_sparse_io(d, r);
		d->reads += r->op == BLOCK_READ;
		d->writes += r->op == BLOCK_WRITE;
	} else if (r->op == BLOCK_FLUSH) {
		d->flushes++;
	} else if (r->op == BLOCK_WRITE && d->fail_writes_after == 0) {
		r->status = PB_EIO;
	} else {
		for (unsigned i = 0; i < r->nseg; i++) {
			if (r->op == BLOCK_READ)
				memcpy(r->segs[i].va, p, r->segs[i].len);
			else
				memcpy(p, r->segs[i].va, r->segs[i].len);
			p += r->segs[i].len;
		}
		if (r->op == BLOCK_READ) {
			d->reads++;
			d->rbytes += (uint64_t)r->count * d->info.block_size;
		} else {
			d->writes++;
			d->wbytes += (uint64_t)r->count * d->info.block_size;
			if (d->fail_writes_after > 0)
				d->fail_writes_after--;
		}
	}
	ff_work_post(FF_SELF, &r->done);
}

FF unsigned
ff_disk_complete(struct ff_disk *d)
{
	unsigned n = d->nq;

	/* A device may finish requests in any order: reads_first runs the
	 * reads queued now before the writes queued before them, backwards
	 * the newest first. */
	for (int pass = d->reads_first ? 0 : 1; pass < 2; pass++)
		for (unsigned k = 0; k < n; k++) {
			unsigned i = d->backwards ? n - 1 - k : k;

			if (d->q[i] && (pass == 1 ||
			    d->q[i]->op == BLOCK_READ)) {
				ff_disk_do(d, d->q[i]);
				d->q[i] = NULL;
			}
		}
	memmove(d->q, d->q + n, (d->nq - n) * sizeof(d->q[0]));
	d->nq -= n;
	return n;
}

/* Run everything until the system is idle; 0 if it never got there. */
FF unsigned ff_pump_max = 10000000;

FF int
ff_pump(void)
{
	for (unsigned round = 0; round < ff_pump_max; round++) {
		unsigned n = ff_run_work();

		for (unsigned i = 0; i < FF_DISKS; i++)
			if (ff_disks[i].used)
				n += ff_disk_complete(&ff_disks[i]);
		if (n == 0)
			return 1;
	}
	return 0;
}

/* A disk over img (taken: freed at reset), as a partition when part. */
FF struct ff_disk *
ff_disk_add(const char *name, uint8_t *img, uint64_t bytes, const char *props)
{
	for (unsigned i = 0; i < FF_DISKS; i++) {
		struct ff_disk *d = &ff_disks[i];

		if (d->used)
			continue;
		memset(d, 0, sizeof(*d));
		d->used = 1;
		snprintf(d->name, sizeof(d->name), "block:%s", name);
		snprintf(d->props, sizeof(d->props), "%s", props);
		d->img = img;
		d->bytes = bytes;
		d->fail_writes_after = -1;
		d->info = (struct block_info){ .size = sizeof(d->info),
		    .block_size = 512, .block_count = bytes / 512,
		    .max_transfer = 128 * 1024, .max_segments = 16,
		    .queue_depth = 32, .align = 2, .flags = BLOCK_FLUSHES,
		    .dma_limit = ~0ull, .media_id = 1 };
		return d;
	}
	return NULL;
}

/* ---- resources and connections ------------------------------------ */

#define FF_RES 32
#define FF_CONNS 16

struct ff_res {
	int used;
	char name[48];
	char iface[16];
	char props[256];
	char owner[24];
	const void *ops;
	void *ctx;
};

FF struct ff_res ff_res[FF_RES];
FF struct pb_conn ff_conns[FF_CONNS];
FF int ff_conn_used[FF_CONNS];
FF char ff_subscribed[16];
FF const char *ff_owner = "fat";	/* who publishes now */

FF struct ff_res *
ff_res_find(const char *name)
{
	for (unsigned i = 0; i < FF_RES; i++)
		if (ff_res[i].used && strcmp(ff_res[i].name, name) == 0 &&
		    strcmp(ff_res[i].owner, "fat") == 0)
			return &ff_res[i];
	return NULL;
}

FF struct pb_resource *
ff_publish(struct pb_module *self, const char *iface, const char *name,
    const char *props, const void *ops, void *ctx)
{
	char full[64];

	snprintf(full, sizeof(full), "%s:%s", iface, name);
	/* A name is taken, unless by another instance (an update). */
	for (unsigned i = 0; i < FF_RES; i++)
		if (ff_res[i].used && strcmp(ff_res[i].name, full) == 0 &&
		    strcmp(ff_res[i].owner, ff_owner) == 0)
			return NULL;
	for (unsigned i = 0; i < FF_RES; i++) {
		struct ff_res *r = &ff_res[i];

		if (r->used)
			continue;
		memset(r, 0, sizeof(*r));
		r->used = 1;
		snprintf(r->name, sizeof(r->name), "%s", full);
		snprintf(r->iface, sizeof(r->iface), "%s", iface);
		snprintf(r->props, sizeof(r->props), "%s", props ? props : "");
		snprintf(r->owner, sizeof(r->owner), "%s", ff_owner);
		r->ops = ops;
		r->ctx = ctx;
		return (struct pb_resource *)r;
	}
	return NULL;
}

FF int
ff_set_props(struct pb_module *self, struct pb_resource *pr,
    const char *props)
{
	struct ff_res *r = (struct ff_res *)pr;

	snprintf(r->props, sizeof(r->props), "%s", props);
	return PB_OK;
}

FF int
ff_withdraw(struct pb_module *self, struct pb_resource *pr)
{
	struct ff_res *r = (struct ff_res *)pr;

	if (!r || !r->used)
		return PB_EINVAL;
	r->used = 0;
	return PB_OK;
}

/* The inventory: the hub's config:boot, the disks, then the rest. */
FF int
ff_res_info(const char *module, unsigned index, struct pb_res_info *out)
{
	static char cfg_name[] = "config:boot";

	if (!module || strcmp(module, "hub") == 0) {
		if (index-- == 0) {
			memset(out, 0, sizeof(*out));
			out->struct_size = sizeof(*out);
			out->name = cfg_name;
			out->iface = "config";
			out->props = ff_cfg;
			out->owner = "hub";
			return PB_OK;
		}
	}
	for (unsigned i = 0; i < FF_DISKS; i++) {
		struct ff_disk *d = &ff_disks[i];

		if (!d->used || (module && strcmp(module, "disk") != 0) ||
		    index-- > 0)
			continue;
		memset(out, 0, sizeof(*out));
		out->struct_size = sizeof(*out);
		out->name = d->name;
		out->iface = "block";
		out->props = d->props;
		out->owner = "disk";
		return PB_OK;
	}
	for (unsigned i = 0; i < FF_RES; i++) {
		struct ff_res *r = &ff_res[i];

		if (!r->used || (module && strcmp(module, r->owner) != 0) ||
		    index-- > 0)
			continue;
		memset(out, 0, sizeof(*out));
		out->struct_size = sizeof(*out);
		out->name = r->name;
		out->iface = r->iface;
		out->props = r->props;
		out->owner = r->owner;
		return PB_OK;
	}
	return PB_ENOENT;
}

FF struct pb_conn *
ff_connect(struct pb_module *self, const char *iface, uint16_t major,
    uint16_t minor, const char *resname)
{
	for (unsigned i = 0; i < FF_DISKS; i++) {
		struct ff_disk *d = &ff_disks[i];

		if (!d->used || strcmp(d->name, resname) != 0)
			continue;
		for (unsigned k = 0; k < FF_CONNS; k++)
			if (!ff_conn_used[k]) {
				ff_conn_used[k] = 1;
				ff_conns[k] = (struct pb_conn){ .ops = &ff_disk_ops,
				    .ctx = d, .res = d->name };
				return &ff_conns[k];
			}
	}
	return NULL;
}

FF void
ff_disconnect(struct pb_module *self, struct pb_conn *c)
{
	for (unsigned k = 0; k < FF_CONNS; k++)
		if (&ff_conns[k] == c)
			ff_conn_used[k] = 0;
}

FF unsigned
ff_conns_open(void)
{
	unsigned n = 0;

	for (unsigned k = 0; k < FF_CONNS; k++)
		n += ff_conn_used[k];
	return n;
}

FF int
ff_subscribe(struct pb_module *self, const char *iface)
{
	snprintf(ff_subscribed, sizeof(ff_subscribed), "%s", iface);
	return PB_OK;
}

/* ---- periodic timers ---------------------------------------------- */

#define FF_TIMERS 4

FF struct {
	int id;
	uint64_t every, next;
	pb_work_fn fn;
	void *arg;
} ff_timers[FF_TIMERS];

FF int
ff_timer_every(struct pb_module *self, uint64_t ns, pb_work_fn fn, void *arg)
{
	for (unsigned i = 0; i < FF_TIMERS; i++)
		if (!ff_timers[i].id) {
			ff_timers[i].id = (int)i + 1;
			ff_timers[i].every = ns;
			ff_timers[i].next = ff_ns + ns;
			ff_timers[i].fn = fn;
			ff_timers[i].arg = arg;
			return (int)i + 1;
		}
	return PB_ENOMEM;
}

FF void
ff_timer_cancel(struct pb_module *self, int id)
{
	if (id > 0 && id <= FF_TIMERS)
		ff_timers[id - 1].id = 0;
}

/* Let ns pass: every timer due runs (once per period passed). */
FF void
ff_time_passes(uint64_t ns)
{
	uint64_t end = ff_ns + ns;

	for (unsigned i = 0; i < FF_TIMERS; i++)
		while (ff_timers[i].id && ff_timers[i].next <= end) {
			ff_timers[i].next += ff_timers[i].every;
			ff_timers[i].fn(ff_timers[i].arg);
		}
	ff_ns = end;
}

FF const struct pb_hub ff_hub = {
	.size = sizeof(struct pb_hub),
	.abi_major = PB_ABI_MAJOR,
	.abi_minor = PB_ABI_MINOR,
	.log = ff_log_fn,
	.alloc_pages = ff_alloc_pages,
	.free_pages = ff_free_pages,
	.alloc = ff_alloc,
	.free = ff_free,
	.publish = ff_publish,
	.set_props = ff_set_props,
	.withdraw = ff_withdraw,
	.connect = ff_connect,
	.disconnect = ff_disconnect,
	.subscribe = ff_subscribe,
	.now_ns = ff_now,
	.timer_cancel = ff_timer_cancel,
	.res_info = ff_res_info,
	.timer_every = ff_timer_every,
	.dma_addr = ff_dma_addr,
	.work_init = ff_work_init,
	.work_post = ff_work_post,
	.work_cancel = ff_work_cancel,
};

/* Forget everything (the disks' images are freed). */
FF void
ff_reset(void)
{
	for (unsigned i = 0; i < FF_DISKS; i++) {
		if (ff_disks[i].used) {
			free(ff_disks[i].img);
			free(ff_disks[i].sparse);
		}
		memset(&ff_disks[i], 0, sizeof(ff_disks[i]));
	}
	memset(ff_res, 0, sizeof(ff_res));
	memset(ff_conn_used, 0, sizeof(ff_conn_used));
	memset(ff_timers, 0, sizeof(ff_timers));
	ff_whead = ff_wtail = NULL;
	ff_log[0] = '\0';
	ff_cfg[0] = '\0';
	ff_subscribed[0] = '\0';
	ff_owner = "fat";
}

/* ---- a synchronous fs client ------------------------------------- */

FF void
ff_req_done(void *arg)
{
	struct fs_req *q = arg;

	q->client_data = (void *)((uintptr_t)q->client_data + 1);
}

/* Submit q and pump until it completes: its status, or the refusal;
 * -999 if it never completed, -998 if it completed twice. */
FF int
ff_fs_call(struct pb_conn *c, struct fs_req *q)
{
	int r;

	q->size = sizeof(*q);
	q->client_data = NULL;
	ff_work_init(FF_SELF, &q->done, ff_req_done, q);
	if ((r = PB_CALL(c, fs_ops, submit, q)) != PB_OK)
		return r;
	ff_pump();
	if (q->client_data == NULL)
		return -999;
	if (q->client_data != (void *)1)
		return -998;
	return q->status;
}

FF int
ff_open(struct pb_conn *c, const char *path, unsigned flags, uint32_t *h)
{
	struct fs_req q = { .op = FS_OPEN, .flags = (uint16_t)flags,
	    .path = path };
	int r = ff_fs_call(c, &q);

	*h = q.handle;
	return r;
}

FF int
ff_close(struct pb_conn *c, uint32_t h)
{
	struct fs_req q = { .op = FS_CLOSE, .handle = h };

	return ff_fs_call(c, &q);
}

FF int
ff_read(struct pb_conn *c, uint32_t h, uint64_t off, void *buf, uint64_t len,
    uint64_t *got)
{
	struct fs_req q = { .op = FS_READ, .handle = h, .offset = off,
	    .buf = buf, .len = len };
	int r = ff_fs_call(c, &q);

	*got = q.result;
	return r;
}

FF int
ff_write(struct pb_conn *c, uint32_t h, uint64_t off, const void *buf,
    uint64_t len, uint64_t *put)
{
	struct fs_req q = { .op = FS_WRITE, .handle = h, .offset = off,
	    .buf = (void *)(uintptr_t)buf, .len = len };
	int r = ff_fs_call(c, &q);

	*put = q.result;
	return r;
}

FF int
ff_path_op(struct pb_conn *c, int op, const char *path, const char *path2)
{
	struct fs_req q = { .op = (uint16_t)op, .path = path, .path2 = path2 };

	return ff_fs_call(c, &q);
}

FF int
ff_truncate(struct pb_conn *c, uint32_t h, uint64_t size)
{
	struct fs_req q = { .op = FS_TRUNCATE, .handle = h, .offset = size };

	return ff_fs_call(c, &q);
}

FF int
ff_stat(struct pb_conn *c, const char *path, uint32_t h, struct fs_stat *st)
{
	struct fs_req q = { .op = FS_STAT, .path = path, .handle = h,
	    .buf = st, .len = sizeof(*st) };

	return ff_fs_call(c, &q);
}

FF int
ff_statfs(struct pb_conn *c, struct fs_statfs *st)
{
	struct fs_req q = { .op = FS_STATFS, .buf = st, .len = sizeof(*st) };

	return ff_fs_call(c, &q);
}

FF int
ff_readdir(struct pb_conn *c, uint32_t h, uint64_t off, struct fs_dirent *d,
    unsigned n, unsigned *got)
{
	struct fs_req q = { .op = FS_READDIR, .handle = h, .offset = off,
	    .buf = d, .len = (uint64_t)n * sizeof(*d) };
	int r = ff_fs_call(c, &q);

	*got = (unsigned)q.result;
	return r;
}

/* A connection to fs resource `name`. */
FF int
ff_fs_conn(const char *name, struct pb_conn *c)
{
	struct ff_res *r = ff_res_find(name);

	if (!r)
		return 0;
	*c = (struct pb_conn){ .ops = r->ops, .ctx = r->ctx, .res = r->name };
	return 1;
}

#endif
