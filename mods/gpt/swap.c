/*
 * swap.c - gpt swapped under its clients (abi/block.h: drain or hand
 * back).  quiesce stops dispatch and scans and answers PB_EAGAIN while
 * gpt's requests are on a disk; export lists the requests still waiting,
 * per partition path, as a struct block_state; the next gpt takes them at
 * import and sends them at activate.  Requests a disk holds are never
 * handed over: quiesce waits for them.
 *
 * The next gpt starts in standby with its counterparts published before
 * any state arrives, so it reads them from the inventory: every `block`
 * disk, connected by hand, and every partition a gpt published, with the
 * same name and properties (first= and last= give its place).  Disks
 * without partitions there are scanned at activate.
 */
#include "gpt.h"

int gpt_quiesced;
int gpt_exported;
static struct block_req *cancelled;	/* imported, to end at activate */

int
gpt_quiesce(struct pb_module *m)
{
	(void)m;
	gpt_quiesced = 1;
	return io_in_flight() ? PB_EAGAIN : PB_OK;
}

static size_t
state_size(unsigned nparts, unsigned nreq, size_t *ptrs)
{
	size_t head = sizeof(struct block_state) +
	    nparts * sizeof(struct block_state_disk);

	*ptrs = (head + 7) & ~(size_t)7;
	return *ptrs + nreq * sizeof(struct block_req *);
}

static unsigned
waiting(const struct gpart *gp, struct block_req **out)
{
	unsigned n = 0;

	for (struct block_req *o = gp->disk->head; o; o = outer_of(o)->next)
		if (outer_of(o)->part == gp) {
			if (out)
				out[n] = o;
			n++;
		}
	return n;
}

int
gpt_export(struct pb_module *m, void *buf, size_t cap, size_t *len,
    uint32_t *version)
{
	struct block_state st = { 0 };
	struct block_state_disk sd;
	struct block_req **reqs;
	size_t ptrs, size;
	uint8_t *at;

	(void)m;
	for (unsigned i = 0; i < GPT_PARTS; i++)
		if (gpt_parts[i].disk) {
			st.ndisks++;
			st.nreq += waiting(&gpt_parts[i], NULL);
		}
	size = state_size(st.ndisks, st.nreq, &ptrs);
	*version = BLOCK_STATE_VERSION;
	*len = size;
	if (!buf)
		return PB_OK;
	if (cap < size)
		return PB_EINVAL;
	memset(buf, 0, size);
	memcpy(buf, &st, sizeof(st));
	at = (uint8_t *)buf + sizeof(st);
	reqs = (struct block_req **)(void *)((uint8_t *)buf + ptrs);
	st.nreq = 0;
	for (unsigned i = 0; i < GPT_PARTS; i++) {
		struct gpart *gp = &gpt_parts[i];

		if (!gp->disk)
			continue;
		memset(&sd, 0, sizeof(sd));
		rt_strlcpy(sd.path, gp->path, sizeof(sd.path));
		sd.first = st.nreq;
		sd.nreq = waiting(gp, reqs + st.nreq);
		st.nreq += sd.nreq;
		memcpy(at, &sd, sizeof(sd));
		at += sizeof(sd);
	}
	gpt_exported = 1;	/* they are the next gpt's to complete */
	return PB_OK;
}

/* Check the whole blob before taking anything from it. */
static int
state_valid(const uint8_t *buf, size_t len, struct block_state *st,
    size_t *ptrs)
{
	struct block_state_disk sd;

	if (len < sizeof(*st))
		return 0;
	memcpy(st, buf, sizeof(*st));
	if (st->ndisks > 4096 || st->nreq > (1u << 20) ||
	    state_size(st->ndisks, st->nreq, ptrs) > len)
		return 0;
	for (uint32_t i = 0; i < st->ndisks; i++) {
		memcpy(&sd, buf + sizeof(*st) + i * sizeof(sd), sizeof(sd));
		if (strnlen(sd.path, sizeof(sd.path)) == sizeof(sd.path) ||
		    sd.first > st->nreq || sd.nreq > st->nreq - sd.first)
			return 0;
	}
	for (uint32_t i = 0; i < st->nreq; i++) {
		struct block_req *o;

		memcpy(&o, buf + *ptrs + i * sizeof(o), sizeof(o));
		if (!o)
			return 0;
	}
	return 1;
}

static struct gpart *
part_by_name(const char *name)
{
	for (unsigned i = 0; i < GPT_PARTS; i++)
		if (gpt_parts[i].disk && strcmp(gpt_parts[i].name, name) == 0)
			return &gpt_parts[i];
	return NULL;
}

static struct gpart *
part_by_path(const char *path)
{
	for (unsigned i = 0; i < GPT_PARTS; i++)
		if (gpt_parts[i].disk && strcmp(gpt_parts[i].path, path) == 0)
			return &gpt_parts[i];
	return NULL;
}

/* A request of another gpt's: ours to send, or to end at activate. */
static void
take(struct gpart *gp, struct block_req *o)
{
	int fits = o->op == BLOCK_FLUSH || (o->count && gp &&
	    o->lba < gp->nblocks && o->count <= gp->nblocks - o->lba);

	outer_of(o)->part = gp;
	if (gp && gp->disk->conn && fits) {
		io_enqueue(gp->disk, o);
		return;
	}
	o->status = gp && gp->disk->conn ? PB_EINVAL : PB_ECANCELED;
	outer_of(o)->next = cancelled;
	cancelled = o;
}

int
gpt_import(struct pb_module *m, const void *buf, size_t len, uint32_t version)
{
	const uint8_t *b = buf;
	struct block_state st;
	struct block_state_disk sd;
	size_t ptrs;

	(void)m;
	if (version != BLOCK_STATE_VERSION)
		return PB_ESTATE;
	if (!b || !state_valid(b, len, &st, &ptrs))
		return PB_EINVAL;
	for (uint32_t i = 0; i < st.ndisks; i++) {
		struct gpart *gp;

		memcpy(&sd, b + sizeof(st) + i * sizeof(sd), sizeof(sd));
		gp = part_by_path(sd.path);
		if (!gp && sd.nreq)
			gpt_log(PB_LOG_WARN, "%s: no such partition here; "
			    "its %u requests are cancelled", sd.path, sd.nreq);
		for (uint32_t k = 0; k < sd.nreq; k++) {
			struct block_req *o;

			memcpy(&o, b + ptrs + (sd.first + k) * sizeof(o),
			    sizeof(o));
			take(gp, o);
		}
	}
	return PB_OK;
}

int
gpt_release(struct pb_module *m)
{
	(void)m;
	return PB_OK;		/* no hardware of its own */
}

/* Dispatch and scans go on, and held looks are taken. */
static void
go_on(void)
{
	gpt_quiesced = 0;
	io_pump_all();
	for (unsigned i = 0; i < GPT_DISKS; i++) {
		struct gdisk *d = &gpt_disks[i];

		if (!d->used || !d->conn)
			continue;
		disk_scan_resume(d);
		if (d->look_held || !d->scanned) {
			d->look_held = 0;
			disk_look_soon(d);
		}
	}
}

int
gpt_activate(struct pb_module *m)
{
	struct block_req *o;

	(void)m;
	while ((o = cancelled)) {
		cancelled = outer_of(o)->next;
		io_complete(o, o->status);
	}
	go_on();
	return PB_OK;
}

int
gpt_resume(struct pb_module *m)
{
	(void)m;
	gpt_exported = 0;
	go_on();
	return PB_OK;
}

/* ---- a standby start: the counterparts, from the inventory ------------ */

static int
is_block(const struct pb_res_info *ri)
{
	return ri->name && ri->iface && ri->props && ri->owner &&
	    strcmp(ri->iface, BLOCK_IFACE) == 0;
}

/* Connect by hand to every disk there is, and learn its limits. */
static void
adopt_disks(void)
{
	struct pb_res_info ri;

	for (unsigned i = 0; res_at(i, &ri); i++) {
		struct pb_conn *c;
		struct gdisk *d;

		if (!is_block(&ri) || rt_prop_get(ri.props, "disk", NULL, 0) ||
		    disk_by_res(ri.name))
			continue;
		c = gpt_hub->connect(gpt_self, BLOCK_IFACE, BLOCK_MAJOR, 0,
		    ri.name);
		if (!c)
			continue;
		disk_connected(c, 1);
		if (!(d = disk_by_res(ri.name))) {
			gpt_hub->disconnect(gpt_self, c);
			continue;
		}
		d->info.size = sizeof(d->info);
		if (PB_CALL(c, block_ops, info, &d->info) != PB_OK ||
		    disk_pool(d) != PB_OK)
			d->info.block_size = 0;	/* a look at activate */
	}
}

/* One partition a gpt published: the same, on the same disk. */
static int
adopt_part(const struct pb_res_info *ri)
{
	char disk[GPT_RES_MAX], path[BLOCK_PATH_MAX + 16], v[24];
	const char *num = NULL;
	uint64_t first, last;
	struct gdisk *d;

	if (!rt_prop_get(ri->props, "disk", disk, sizeof(disk)) ||
	    !rt_prop_get(ri->props, "path", path, sizeof(path)))
		return PB_EINVAL;
	for (const char *p = path; *p; p++)	/* the last /part:N */
		if (strncmp(p, "/part:", 6) == 0)
			num = p + 6;
	if (!num)
		return PB_EINVAL;
	first = rt_prop_get(ri->props, "first", v, sizeof(v)) ?
	    rt_strtou(v, NULL, 10) : 1;
	last = rt_prop_get(ri->props, "last", v, sizeof(v)) ?
	    rt_strtou(v, NULL, 10) : 0;
	if (!(d = disk_by_res(disk)) || first > last || !d->info.block_size)
		return PB_ENOENT;
	if (!part_add(d, res_short(ri->name),
	    (uint32_t)rt_strtou(num, NULL, 10), first, last, ri->props))
		return PB_ENOMEM;
	d->scanned = 1;
	return PB_OK;
}

int
gpt_adopt(void)
{
	struct pb_res_info ri;
	int err;

	adopt_disks();
	for (unsigned i = 0; res_at(i, &ri); i++) {
		if (!is_block(&ri) || strcmp(ri.owner, GPT_NAME) != 0 ||
		    !rt_prop_get(ri.props, "disk", NULL, 0) ||
		    part_by_name(res_short(ri.name)))
			continue;	/* not a gpt's partition, or ours now */
		if ((err = adopt_part(&ri)) != PB_OK) {
			gpt_log(PB_LOG_ERR, "standby: cannot take over %s "
			    "(error %d)", ri.name, err);
			return err;
		}
	}
	return PB_OK;
}

void
swap_forget(void)
{
	cancelled = NULL;
	gpt_quiesced = 0;
	gpt_exported = 0;
}
