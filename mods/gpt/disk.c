/*
 * disk.c - the disks gpt reads: they come (PB_EV_CONNECTED), change
 * provider under it (PB_EV_REBOUND: the connection follows by itself),
 * or go (PB_EV_DISCONNECTED: their partitions are withdrawn and their
 * requests cancelled).  A disk is looked at as gpt's work: asked its
 * size, and scanned when that (or its medium) changed since the last
 * scan.  A scan's reads are block requests on the disk, posted one at a
 * time into a DMA buffer, in pieces the disk's limits allow.
 */
#include "gpt.h"

struct gdisk gpt_disks[GPT_DISKS];

struct gdisk *
disk_by_res(const char *res)
{
	for (unsigned i = 0; i < GPT_DISKS; i++)
		if (gpt_disks[i].used && gpt_disks[i].conn &&
		    strcmp(gpt_disks[i].res, res) == 0)
			return &gpt_disks[i];
	return NULL;
}

static struct gdisk *
disk_by_conn(const struct pb_conn *c)
{
	for (unsigned i = 0; c && i < GPT_DISKS; i++)
		if (gpt_disks[i].used && gpt_disks[i].conn == c)
			return &gpt_disks[i];
	return NULL;
}

/* The inventory's i-th resource: 1, or 0 past the last. */
int
res_at(unsigned i, struct pb_res_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->struct_size = sizeof(*ri);
	return gpt_hub->res_info_sized(NULL, i, ri) == PB_OK;
}

/* The properties of resource `res`: 1, or 0 when it is not there. */
int
disk_props(const char *res, char *props, size_t cap)
{
	struct pb_res_info ri;

	for (unsigned i = 0; res_at(i, &ri); i++)
		if (ri.name && strcmp(ri.name, res) == 0) {
			rt_strlcpy(props, ri.props ? ri.props : "", cap);
			return 1;
		}
	return 0;
}

static void
scan_log(void *arg, int level, const char *msg)
{
	struct gdisk *d = arg;

	gpt_log(level, "%s: %s", d->res, msg);
}

void
disk_look_soon(struct gdisk *d)
{
	if (d->conn)
		gpt_hub->work_post(gpt_self, &d->look);
}

/* The inner requests, once per disk: as many as the disk runs at once. */
int
disk_pool(struct gdisk *d)
{
	unsigned n = d->info.queue_depth;

	if (d->pool)
		return PB_OK;
	if (n == 0 || n > GPT_POOL)
		n = GPT_POOL;
	d->pool = gpt_hub->alloc(gpt_self, n * sizeof(*d->pool));
	if (!d->pool)
		return PB_ENOMEM;
	memset(d->pool, 0, n * sizeof(*d->pool));
	for (unsigned i = 0; i < n; i++) {
		struct ginner *in = &d->pool[i];

		in->disk = d;
		gpt_hub->work_init(gpt_self, &in->req.done, io_inner_done, in);
		in->next_free = d->free;
		d->free = in;
	}
	d->npool = n;
	return PB_OK;
}

/* ---- a scan's reads -------------------------------------------------- */

static int
scan_buf(struct gdisk *d, size_t need)
{
	uint64_t limit = d->info.dma_limit ? d->info.dma_limit : ~0ull;

	if (need <= d->buf_len)
		return PB_OK;
	if (d->buf)
		gpt_hub->dma_free(gpt_self, d->buf);
	d->buf = gpt_hub->dma_alloc(gpt_self, need, 4096, 0, limit,
	    &d->buf_bus);
	d->buf_len = d->buf ? need : 0;
	return d->buf ? PB_OK : PB_ENOMEM;
}

/* The next piece of the read: within max_transfer, not crossing the
 * disk's segment boundary, whole blocks. */
static uint32_t
piece(const struct gdisk *d)
{
	uint32_t bs = d->info.block_size, len = d->io_len - d->io_done;
	uint64_t b = d->info.seg_boundary;

	if (d->info.max_transfer && len > d->info.max_transfer)
		len = d->info.max_transfer;
	if (b) {
		uint64_t to = b - (d->buf_bus + d->io_done) % b;

		if (len > to)
			len = (uint32_t)to;
	}
	len -= len % bs;
	return len ? len : bs;
}

static int
scan_io_submit(struct gdisk *d)
{
	struct block_req *r = &d->io.req;
	uint32_t len = piece(d), bs = d->info.block_size;
	int err;

	d->seg = (struct block_seg){ .va = d->buf + d->io_done,
	    .bus = d->buf_bus + d->io_done, .len = len };
	r->size = sizeof(*r);
	r->op = BLOCK_READ;
	r->flags = 0;
	r->lba = d->io_lba + d->io_done / bs;
	r->count = len / bs;
	r->nseg = 1;
	r->segs = &d->seg;
	r->status = 0;
	d->io_busy = 1;
	if ((err = PB_CALL(d->conn, block_ops, submit, r)) != PB_OK)
		d->io_busy = 0;
	return err;
}

static void
scan_report(const struct gdisk *d, const struct scan *s)
{
	char nums[96] = "";
	size_t n = 0;

	if (s->kind == SCAN_NONE) {
		gpt_log(PB_LOG_INFO, "%s: left alone: %s", d->res, s->why);
		return;
	}
	for (unsigned i = 0; i < s->nparts && n + 12 < sizeof(nums); i++)
		n += (size_t)rt_snprintf(nums + n, sizeof(nums) - n, " p%u",
		    s->parts[i].num);
	gpt_log(PB_LOG_INFO, "%s: %s%s, %u partition%s%s%s%s", d->res,
	    s->kind == SCAN_GPT ? "GPT" : "MBR",
	    s->kind == SCAN_GPT && s->backup ? " (the backup)" : "",
	    s->nparts, s->nparts == 1 ? "" : "s", s->nparts ? ":" : "", nums,
	    s->nrefused ? "; some entries refused" : "");
}

static void
scan_done(struct gdisk *d)
{
	scan_report(d, d->scan);
	publish_scan(d, d->scan);
	gpt_hub->free(gpt_self, d->scan);
	d->scan = NULL;
	gpt_hub->dma_free(gpt_self, d->buf);
	d->buf = NULL;
	d->buf_len = 0;
	d->scanned = 1;
	if (d->look_again) {
		d->look_again = 0;
		disk_look_soon(d);
	}
}

/* Issue the scan's next read, or its next piece, until one is on the
 * disk, the scan ends, or gpt is quiesced: a swap is under way, and what
 * the scan would publish now would have no counterpart in the next gpt
 * (gpt_resume or, in the next gpt, activate goes on). */
static void
scan_io_next(struct gdisk *d)
{
	uint64_t lba;
	uint32_t count;
	int err;

	for (;;) {
		if (gpt_quiesced)
			return;
		if (d->io_len == 0) {
			if (!scan_next(d->scan, &lba, &count)) {
				scan_done(d);
				return;
			}
			if ((err = scan_buf(d, (size_t)count *
			    d->info.block_size)) != PB_OK) {
				scan_feed(d->scan, NULL, err);
				continue;
			}
			d->io_lba = lba;
			d->io_len = count * d->info.block_size;
			d->io_done = 0;
		}
		if ((err = scan_io_submit(d)) == PB_OK)
			return;
		d->io_len = 0;
		scan_feed(d->scan, NULL, err);
	}
}

void
disk_scan_resume(struct gdisk *d)
{
	if (d->scan && !d->io_busy && d->conn)
		scan_io_next(d);
}

static void
scan_io_done(void *arg)
{
	struct gdisk *d = arg;
	int status = d->io.req.status;

	d->io_busy = 0;
	if (!d->conn) {
		disk_free_if_idle(d);
		return;
	}
	if (status < 0) {
		d->io_len = 0;
		if (status == PB_EMEDIA)
			d->look_again = 1;
		scan_feed(d->scan, NULL, status);
	} else {
		d->io_done += d->io.req.count * d->info.block_size;
		if (d->io_done >= d->io_len) {
			d->io_len = 0;
			scan_feed(d->scan, d->buf, PB_OK);
		}
	}
	scan_io_next(d);
}

/* ---- looking at a disk ----------------------------------------------- */

static int
same_medium(const struct block_info *a, const struct block_info *b)
{
	return a->block_size == b->block_size &&
	    a->block_count == b->block_count && a->media_id == b->media_id;
}

/* gpt's work: scan the disk if it changed since the last scan. */
static void
disk_look(void *arg)
{
	struct gdisk *d = arg;
	struct block_info info;
	int err;

	if (!d->conn)
		return;
	if (gpt_quiesced) {
		d->look_held = 1;
		return;
	}
	if (d->scan) {
		d->look_again = 1;
		return;
	}
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if ((err = PB_CALL(d->conn, block_ops, info, &info)) != PB_OK) {
		gpt_log(PB_LOG_WARN, "%s: cannot tell its size (error %d); "
		    "not read", d->res, err);
		return;
	}
	if (d->scanned && same_medium(&info, &d->info))
		return;
	d->info = info;
	if (disk_pool(d) != PB_OK ||
	    !(d->scan = gpt_hub->alloc(gpt_self, sizeof(*d->scan)))) {
		gpt_log(PB_LOG_ERR, "%s: no memory to read it", d->res);
		return;
	}
	scan_init(d->scan, info.block_size, info.block_count, scan_log, d);
	scan_io_next(d);
}

/* ---- connections ----------------------------------------------------- */

/* Once a gone disk has nothing on it any more, its slot is free. */
void
disk_free_if_idle(struct gdisk *d)
{
	if (!d->used || d->conn || d->busy || d->io_busy)
		return;
	gpt_hub->work_cancel(gpt_self, &d->look);
	if (d->pool)
		gpt_hub->free(gpt_self, d->pool);
	if (d->scan)
		gpt_hub->free(gpt_self, d->scan);
	if (d->buf)
		gpt_hub->dma_free(gpt_self, d->buf);
	memset(d, 0, sizeof(*d));
}

void
disk_gone(struct pb_conn *c)
{
	struct gdisk *d = disk_by_conn(c);
	unsigned n = 0;

	if (!d)
		return;
	for (unsigned i = 0; i < GPT_PARTS; i++)
		if (gpt_parts[i].disk == d) {
			part_remove(&gpt_parts[i]);
			n++;
		}
	d->conn = NULL;
	gpt_log(PB_LOG_INFO, "%s: gone; %u partition%s withdrawn", d->res, n,
	    n == 1 ? "" : "s");
	disk_free_if_idle(d);
}

/* The value of `key` in props replaced by val (the key must be there). */
static void
prop_replace(char *props, size_t cap, const char *key, const char *val)
{
	char out[GPT_PROPS];
	size_t n = strlen(key), at;
	const char *p, *end;

	for (p = props; *p; p++)
		if ((p == props || p[-1] == ' ') && strncmp(p, key, n) == 0 &&
		    p[n] == '=')
			break;
	if (!*p)
		return;
	at = (size_t)(p - props) + n + 1;
	for (end = props + at; *end && *end != ' '; end++)
		;
	rt_snprintf(out, sizeof(out), "%.*s%s%s", (int)at, props, val, end);
	rt_strlcpy(props, out, cap);
}

/* A second connection to one disk: its partitions would be published
 * twice, under two names, with one path. */
static void
disk_drop_twin(const struct gdisk *d)
{
	for (unsigned i = 0; i < GPT_DISKS; i++) {
		struct gdisk *e = &gpt_disks[i];

		if (e == d || !e->used || !e->conn || strcmp(e->res, d->res))
			continue;
		for (unsigned k = 0; k < GPT_PARTS; k++)
			if (gpt_parts[k].disk == e)
				part_remove(&gpt_parts[k]);
		gpt_hub->disconnect(gpt_self, e->conn);
		e->conn = NULL;
		disk_free_if_idle(e);
	}
}

/* d is reached through c now, under c's name: the same disk by its path,
 * so the partitions stay; their properties name the new resource. */
static void
disk_moved(struct gdisk *d, struct pb_conn *c)
{
	char props[GPT_PROPS], path[BLOCK_PATH_MAX + 16];

	rt_strlcpy(d->res, c->res, sizeof(d->res));
	disk_drop_twin(d);
	if (disk_props(c->res, props, sizeof(props)))
		rt_prop_get(props, "path", d->path, sizeof(d->path));
	for (unsigned i = 0; i < GPT_PARTS; i++) {
		struct gpart *gp = &gpt_parts[i];

		if (gp->disk != d)
			continue;
		rt_snprintf(path, sizeof(path), "%s/part:%u", d->path, gp->num);
		rt_strlcpy(gp->path, path, sizeof(gp->path));
		prop_replace(gp->props, sizeof(gp->props), "disk", d->res);
		prop_replace(gp->props, sizeof(gp->props), "path", path);
		gpt_hub->set_props(gpt_self, gp->res, gp->props);
	}
	disk_look_soon(d);	/* the new provider may see another medium */
}

/* Another provider serves the disk now (a swap, or the takeover's
 * handover of a parked firmware disk).  If that resource reached gpt on
 * its own first, the partitions found through it go: those found before
 * have the clients. */
void
disk_rebound(struct pb_conn *c)
{
	struct gdisk *d = disk_by_conn(c);

	if (d)
		disk_moved(d, c);
}

static struct gdisk *
disk_by_path(const char *path)
{
	for (unsigned i = 0; i < GPT_DISKS; i++)
		if (gpt_disks[i].used && gpt_disks[i].conn &&
		    strcmp(gpt_disks[i].path, path) == 0)
			return &gpt_disks[i];
	return NULL;
}

void
disk_connected(struct pb_conn *c, int by_hand)
{
	char props[GPT_PROPS], path[BLOCK_PATH_MAX];
	struct gdisk *d;

	if (!disk_props(c->res, props, sizeof(props)))
		props[0] = '\0';
	if (rt_prop_get(props, "disk", NULL, 0))
		return;		/* a partition: never read as a disk */
	if ((d = disk_by_res(c->res))) {
		/* Held by hand since a standby start: take the hub's. */
		if (d->conn != c && d->by_hand && !by_hand) {
			gpt_hub->disconnect(gpt_self, d->conn);
			d->conn = c;
			d->by_hand = 0;
		}
		return;
	}
	if (!by_hand && rt_prop_get(props, "path", path, sizeof(path)) &&
	    (d = disk_by_path(path))) {
		/* The same disk by its identity, from another provider: the
		 * takeover did not hand it over (a parked firmware disk).
		 * Its partitions and their clients move to this one. */
		gpt_log(PB_LOG_INFO, "%s: takes over from %s (the same "
		    "path=%s): its partitions follow", c->res, d->res, path);
		gpt_hub->disconnect(gpt_self, d->conn);
		d->conn = c;
		d->by_hand = 0;
		disk_moved(d, c);
		return;
	}
	for (d = gpt_disks; d < gpt_disks + GPT_DISKS && d->used; d++)
		;
	if (d == gpt_disks + GPT_DISKS) {
		gpt_log(PB_LOG_WARN, "%s: more than %u disks; not read", c->res,
		    GPT_DISKS);
		return;
	}
	memset(d, 0, sizeof(*d));
	d->used = 1;
	d->conn = c;
	d->by_hand = by_hand;
	rt_strlcpy(d->res, c->res, sizeof(d->res));
	if (!rt_prop_get(props, "path", d->path, sizeof(d->path)))
		rt_strlcpy(d->path, res_short(c->res), sizeof(d->path));
	d->io.disk = d;
	gpt_hub->work_init(gpt_self, &d->io.req.done, scan_io_done, d);
	gpt_hub->work_init(gpt_self, &d->look, disk_look, d);
	if (!by_hand)
		disk_look_soon(d);
}

/* gpt stops: the hub takes back its memory and connections, and drops
 * its queued work, walking the queue after this; the look items in our
 * own data are taken off it first, or zeroing them would cut the queue. */
void
disk_forget_all(void)
{
	for (unsigned i = 0; i < GPT_DISKS; i++)
		if (gpt_disks[i].used)
			gpt_hub->work_cancel(gpt_self, &gpt_disks[i].look);
	memset(gpt_disks, 0, sizeof(gpt_disks));
}
