/*
 * vol.c - which block resources become volumes, and their `fs`
 * resources.
 *
 * fat mounts a partition whose type says FAT (properties fat=1 or esp=1,
 * from gpt) and probes a whole disk (no disk= property: an unpartitioned
 * USB stick) for a valid BPB, keeping it only if it has one.  A bind rule
 * loads the module for the first such resource; later ones come from the
 * subscription to `block`.
 *
 * A volume's resource is fs:LABEL when the label makes a unique name, else
 * fs:DISK (the block resource's name after "block:").
 */
#include "fat.h"

/* The i-th resource of the hub's inventory; PB_ENOENT past the last.
 * Names, interfaces and properties are never NULL. */
int
res_at(unsigned i, struct pb_res_info *info)
{
	memset(info, 0, sizeof(*info));
	info->struct_size = sizeof(*info);
	if (fm.hub->res_info(NULL, i, info) != PB_OK)
		return PB_ENOENT;
	if (!info->name)
		info->name = "";
	if (!info->iface)
		info->iface = "";
	if (!info->props)
		info->props = "";
	return PB_OK;
}

/* The properties of resource `name`. */
int
res_props(const char *name, char *buf, size_t cap)
{
	struct pb_res_info info;

	for (unsigned i = 0; res_at(i, &info) == PB_OK; i++)
		if (strcmp(info.name, name) == 0) {
			rt_strlcpy(buf, info.props, cap);
			return PB_OK;
		}
	return PB_ENOENT;
}

static int
res_exists(const char *name)
{
	char props[8];

	return res_props(name, props, sizeof(props)) == PB_OK;
}

struct fat_vol *
vol_by_conn(struct pb_conn *c)
{
	for (unsigned i = 0; i < FAT_MAX_VOLS; i++)
		if (fm.vols[i] && fm.vols[i]->blk == c)
			return fm.vols[i];
	return NULL;
}

/* The volume on block resource `disk`, or on the device of identity
 * `path` (a disk whose provider was swapped: the new resource is the same
 * disk under another name). */
static struct fat_vol *
vol_by_disk(const char *disk, const char *path)
{
	for (unsigned i = 0; i < FAT_MAX_VOLS; i++) {
		struct fat_vol *v = fm.vols[i];

		if (v && (strcmp(v->disk, disk) == 0 ||
		    (path[0] && strcmp(v->bpath, path) == 0)))
			return v;
	}
	return NULL;
}

/* A volume for block resource `disk` (c: its connection, or NULL until
 * activate connects it).  The mount is queued when c is given. */
struct fat_vol *
vol_new(struct pb_conn *c, const char *disk, int probe)
{
	const struct pb_hub *hub = fm.hub;
	struct fat_vol *v;
	char props[256];
	unsigned slot;

	for (slot = 0; slot < FAT_MAX_VOLS && fm.vols[slot]; slot++)
		;
	if (slot == FAT_MAX_VOLS) {
		LOGF(PB_LOG_WARN, "%s: %u volumes mounted already", disk,
		    FAT_MAX_VOLS);
		return NULL;
	}
	if (!(v = hub->alloc(fm.self, sizeof(*v))))
		return NULL;
	memset(v, 0, sizeof(*v));
	v->scratch = hub->alloc_pages(fm.self, FAT_SCRATCH / 4096,
	    PB_MEM_DMA32, NULL);
	if (!v->scratch) {
		vol_free(v);
		return NULL;
	}
	v->used = 1;
	v->blk = c;
	v->probe = probe;
	v->free_recount = ~0u;
	rt_strlcpy(v->disk, disk, sizeof(v->disk));
	if (res_props(disk, props, sizeof(props)) == PB_OK)
		rt_prop_get(props, "path", v->bpath, sizeof(v->bpath));
	hub->work_init(fm.self, &v->run_work, run_volume, v);
	fm.vols[slot] = v;
	if (c)
		job_queue(v, &v->job_mount, JOB_MOUNT, NULL);
	return v;
}

void
vol_withdraw(struct fat_vol *v)
{
	if (v->mres)
		fm.hub->withdraw(fm.self, v->mres);
	if (v->res)
		fm.hub->withdraw(fm.self, v->res);
	v->mres = v->res = NULL;
}

void
vol_free(struct fat_vol *v)
{
	const struct pb_hub *hub = fm.hub;

	vol_withdraw(v);
	if (v->blk)
		hub->disconnect(fm.self, v->blk);
	if (v->run_work.fn)
		hub->work_cancel(fm.self, &v->run_work);
	for (unsigned i = 0; i < FAT_NIO; i++)
		if (v->io[i].vol)
			hub->work_cancel(fm.self, &v->io[i].req.done);
	cache_fini(v);
	handed_free(v);
	if (v->scratch)
		hub->free_pages(fm.self, v->scratch, FAT_SCRATCH / 4096);
	if (v->zeros)
		hub->free_pages(fm.self, v->zeros, FAT_SCRATCH / 4096);
	for (unsigned i = 0; i < FAT_MAX_VOLS; i++)
		if (fm.vols[i] == v)
			fm.vols[i] = NULL;
	hub->free(fm.self, v);
}

/* A failed volume goes once nothing refers to it any more. */
void
vol_idle(struct fat_vol *v)
{
	if (v->failed && !v->inflight && !v->op.job && !v->head)
		vol_free(v);
}

/* The characters of a volume's name: [A-Za-z0-9._-]. */
static int
name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_';
}

/* Could fat have named a volume so (from its label or its disk)? */
int
vol_name_ok(const char *name)
{
	if (!name[0])
		return 0;
	for (; *name; name++)
		if (!name_char(*name))
			return 0;
	return 1;
}

/* Keep the name characters of a label, '_' for the rest. */
static void
name_from_label(const char *label, char *out, size_t cap)
{
	size_t i;

	for (i = 0; label[i] && i + 1 < cap; i++)
		out[i] = name_char(label[i]) ? label[i] : '_';
	out[i] = '\0';
}

static int
name_taken(const struct fat_vol *self, const char *name)
{
	char full[FS_RES_MAX + 4];

	for (unsigned i = 0; i < FAT_MAX_VOLS; i++)
		if (fm.vols[i] && fm.vols[i] != self &&
		    strcmp(fm.vols[i]->res_name, name) == 0)
			return 1;
	rt_snprintf(full, sizeof(full), "fs:%s", name);
	return res_exists(full);
}

static void
pick_name(struct fat_vol *v)
{
	char name[FS_RES_MAX];
	const char *disk = v->disk;

	if (v->res_name[0])
		return;			/* imported: the old provider's */
	name_from_label(v->label, name, 32);
	if (name[0] && !name_taken(v, name)) {
		rt_strlcpy(v->res_name, name, sizeof(v->res_name));
		return;
	}
	if (strncmp(disk, "block:", 6) == 0)
		disk += 6;
	rt_strlcpy(v->res_name, disk, sizeof(v->res_name));
}

static void
vol_props(struct fat_vol *v, char *buf, size_t cap)
{
	char label[16];

	name_from_label(v->label, label, sizeof(label));
	rt_snprintf(buf, cap, "label=%s uuid=%04X-%04X type=%s ro=%d disk=%s "
	    "path=%s", label, v->g.serial >> 16, v->g.serial & 0xffff,
	    fat_type_name(v->g.type), v->ro, v->disk,
	    v->bpath[0] ? v->bpath : "-");
}

/* The mount job's last step: the resources. */
int
vol_mounted(struct fat_vol *v)
{
	char props[256];

	pick_name(v);
	vol_props(v, props, sizeof(props));
	if (v->res) {			/* standby's, from a swap */
		fm.hub->set_props(fm.self, v->res, props);
	} else if (!(v->res = fm.hub->publish(fm.self, FS_IFACE, v->res_name,
	    props, &fat_fs_ops, v))) {
		LOGF(PB_LOG_ERR, "%s: cannot publish fs:%s", v->disk,
		    v->res_name);
		return PB_ENOMEM;
	}
	v->mounted = 1;
	modsrc_publish(v);
	LOGF(PB_LOG_INFO, "fs:%s: %s on %s, %u MiB, %u clusters of %u bytes, "
	    "%u free%s%s", v->res_name, fat_type_name(v->g.type), v->disk,
	    (unsigned)((uint64_t)v->g.total_sectors * v->g.bps >> 20),
	    v->g.clusters, v->g.cluster_bytes, v->m.free,
	    v->ro ? ", read-only" : "", v->label[0] ? "" : ", no label");
	return PB_OK;
}

/* Is block resource `name` one to mount or probe?  1 mount, 2 probe. */
static int
wanted(const char *name, const char *props)
{
	char val[8];

	if ((rt_prop_get(props, "fat", val, sizeof(val)) &&
	    strcmp(val, "1") == 0) || (rt_prop_get(props, "esp", val,
	    sizeof(val)) && strcmp(val, "1") == 0))
		return 1;
	if (!rt_prop_get(props, "disk", val, sizeof(val)))
		return 2;		/* a whole disk: maybe a superfloppy */
	return 0;
}

/* A block resource appeared (or was there at start): mount it if it is
 * one of ours.  c is the connection when the hub made one (a bind). */
void
vol_consider(const char *name, struct pb_conn *c)
{
	char props[256] = "", path[64] = "";
	int want;

	if (!fm.active)
		return;
	res_props(name, props, sizeof(props));
	rt_prop_get(props, "path", path, sizeof(path));
	if (vol_by_disk(name, path))
		return;
	if (!(want = wanted(name, props)) && !c)
		return;
	if (!c && !(c = fm.hub->connect(fm.self, BLOCK_IFACE, BLOCK_MAJOR,
	    BLOCK_MINOR, name))) {
		/* Listed but not to be had: a swapped-out provider's, kept
		 * for its watch window. */
		LOGF(PB_LOG_DEBUG, "%s: cannot connect", name);
		return;
	}
	if (!vol_new(c, name, want == 2))
		fm.hub->disconnect(fm.self, c);
}

/* Every block resource there is now. */
void
vol_scan(void)
{
	struct pb_res_info info;

	for (unsigned i = 0; res_at(i, &info) == PB_OK; i++)
		if (strcmp(info.iface, BLOCK_IFACE) == 0)
			vol_consider(info.name, NULL);
}

/* The block connection under v changed. */
void
vol_block_event(struct fat_vol *v, int ev)
{
	struct block_info info;

	if (!fm.active) {		/* swapped out: the disk is the new one's */
		if (ev == PB_EV_DISCONNECTED)
			v->blk = NULL;
		return;
	}
	if (ev == PB_EV_REBOUND) {
		memset(&info, 0, sizeof(info));
		info.size = sizeof(info);
		if (PB_CALL(v->blk, block_ops, info, &info) == PB_OK &&
		    info.block_size == v->info.block_size &&
		    info.block_count * info.block_size >=
		    (uint64_t)v->g.total_sectors * v->g.bps) {
			v->info = info;	/* new limits, same disk */
			rt_strlcpy(v->disk, v->blk->res, sizeof(v->disk));
			if (v->res) {
				char props[256];

				vol_props(v, props, sizeof(props));
				fm.hub->set_props(fm.self, v->res, props);
			}
			LOGF(PB_LOG_INFO, "fs:%s: now on %s", v->res_name,
			    v->disk);
			return;
		}
		LOGF(PB_LOG_ERR, "fs:%s: the disk under it changed; unmounted",
		    v->res_name);
	} else if (ev == PB_EV_DISCONNECTED) {
		v->blk = NULL;		/* the hub closes it */
		if (v->c.ndirty)
			LOGF(PB_LOG_ERR, "fs:%s: %s went with %u blocks not "
			    "written", v->res_name, v->disk, v->c.ndirty);
		else
			LOGF(PB_LOG_INFO, "fs:%s: %s went; unmounted",
			    v->res_name, v->disk);
	} else {
		return;
	}
	v->failed = PB_EIO;
	job_fail_all(v, PB_EIO);
	vol_withdraw(v);
	run_kick(v);
}
