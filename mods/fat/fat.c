/*
 * fat - FAT12, FAT16 and FAT32 file systems: provides `fs` 1.0 (one
 * resource per mounted volume) and `module-source` 1.1 (a volume's
 * patchbay/mods), on `block` resources.
 *
 * Binding: the rules below load it for a partition whose type says FAT
 * (gpt's fat=1) or an EFI System Partition (esp=1); once running it also
 * subscribes to `block` and takes every later such partition, and probes
 * whole disks for a boot sector with a valid BPB (a USB stick formatted
 * without a partition table).
 *
 * Settings (boot.cfg): fs-cache=KiB, each volume's cache (512 by
 * default); fs-flush=MS, how often written data goes out (5000 by
 * default, 0 never but on sync and unmount).
 *
 * Swaps:
 *   start(NORMAL)	mount what is there, subscribe to block
 *   start(STANDBY)	publish a counterpart of every fs (and module-source)
 *			resource a FAT provider has now, mount nothing
 *   quiesce		run what was queued before, write everything back,
 *			mark the volumes clean; PB_EAGAIN until done
 *   export/import	struct fs_state (state.c): volumes, handles, requests
 *   release		take nothing more
 *   activate		connect the volumes' disks, mount, take the handles
 *			back, run the handed-over requests
 *   resume		serve again (the next change marks a volume dirty)
 * stop() cannot wait for a disk: a clean shutdown quiesces first (what
 * stop finds unwritten is logged, and the dirty flag stays on the disk
 * for the next mount to see).
 */
#include "fat.h"

struct fat_mod fm;

#define FAT_REQ_RTC 0

static void
flush_tick(void *arg)
{
	for (unsigned i = 0; i < FAT_MAX_VOLS; i++) {
		struct fat_vol *v = fm.vols[i];

		if (!v || !v->mounted || v->ro || v->failed || v->quiescing ||
		    v->job_sync.queued)
			continue;
		if (v->c.ndirty || v->direct_wrote || v->m.fsinfo_dirty)
			job_queue(v, &v->job_sync, JOB_SYNC, NULL);
	}
}

static void
read_settings(void)
{
	char val[16];
	uint64_t kib = FAT_CACHE_DEFAULT_KIB;

	fm.flush_ms = FAT_FLUSH_DEFAULT_MS;
	if (pb_setting(fm.hub, "fs-cache", val, sizeof(val)))
		kib = rt_strtou(val, NULL, 10);
	if (kib < FAT_CACHE_MIN_KIB || kib > FAT_CACHE_MAX_KIB) {
		LOGF(PB_LOG_WARN, "fs-cache=%s: between %u and %u KiB", val,
		    FAT_CACHE_MIN_KIB, FAT_CACHE_MAX_KIB);
		kib = kib < FAT_CACHE_MIN_KIB ? FAT_CACHE_MIN_KIB :
		    FAT_CACHE_MAX_KIB;
	}
	fm.cache_bytes = (size_t)kib * 1024;
	if (pb_setting(fm.hub, "fs-flush", val, sizeof(val)))
		fm.flush_ms = (uint32_t)rt_strtou(val, NULL, 10);
}

static void
start_timer(void)
{
	if (fm.flush_ms && !fm.flush_timer && fm.hub->timer_every)
		fm.flush_timer = fm.hub->timer_every(fm.self,
		    (uint64_t)fm.flush_ms * 1000000, flush_tick, NULL);
	if (fm.flush_timer < 0)
		fm.flush_timer = 0;
}

/* Serve: the volumes there are and those to come. */
static int
take_disks(void)
{
	fm.active = 1;
	if (fm.bind) {
		vol_consider(fm.bind->res, fm.bind);
		fm.bind = NULL;
	}
	vol_scan();
	fm.hub->subscribe(fm.self, BLOCK_IFACE);
	start_timer();
	return PB_OK;
}

/* Is fs resource `name` one of ours already? */
static int
mirrored(const char *name)
{
	for (unsigned k = 0; k < FAT_MAX_VOLS; k++)
		if (fm.vols[k] && strcmp(fm.vols[k]->res_name, name + 3) == 0)
			return 1;
	return 0;
}

/* Standby: a counterpart for each FAT resource there is now, with the
 * same name and properties (path= is what the hub pairs them by; an
 * update of fat itself may publish the same names). */
static void
mirror_resources(void)
{
	struct pb_res_info info;
	char val[FS_RES_MAX];
	struct fat_vol *v;

	for (unsigned i = 0; res_at(i, &info) == PB_OK; i++) {
		if (strcmp(info.iface, FS_IFACE) == 0 &&
		    strncmp(info.name, "fs:", 3) == 0 && !mirrored(info.name) &&
		    rt_prop_get(info.props, "type", val, sizeof(val)) &&
		    strncmp(val, "fat", 3) == 0 &&
		    rt_prop_get(info.props, "disk", val, sizeof(val)) &&
		    (v = vol_new(NULL, val, 0))) {
			rt_strlcpy(v->res_name, info.name + 3,
			    sizeof(v->res_name));
			v->res = fm.hub->publish(fm.self, FS_IFACE, v->res_name,
			    info.props, &fat_fs_ops, v);
		}
		if (strcmp(info.iface, MODSRC_IFACE) == 0 &&
		    rt_prop_get(info.props, "fs", val, sizeof(val)))
			for (unsigned k = 0; k < FAT_MAX_VOLS; k++)
				if ((v = fm.vols[k]) && !v->mres &&
				    strcmp(val + 3, v->res_name) == 0)
					v->mres = fm.hub->publish(fm.self,
					    MODSRC_IFACE, v->res_name,
					    info.props, &fat_modsrc_ops, v);
	}
}

static int
fat_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	struct pb_conn *bind = fm.bind, *rtc = fm.rtc;

	rt_use_hub(h);
	memset(&fm, 0, sizeof(fm));
	fm.hub = h;
	fm.self = m;
	fm.bind = bind;
	fm.rtc = rtc;
	if (h->size < offsetof(struct pb_hub, mod_info_sized)) {
		LOGF(PB_LOG_ERR, "needs ABI 1.2 services (work items, DMA "
		    "addresses)");
		return PB_ENOTSUP;
	}
	read_settings();
	if (mode == PB_START_STANDBY) {
		fm.standby = 1;
		mirror_resources();
		return PB_OK;
	}
	return take_disks();
}

static void
fat_stop(struct pb_module *m)
{
	if (fm.flush_timer)
		fm.hub->timer_cancel(fm.self, fm.flush_timer);
	fm.flush_timer = 0;
	fm.active = 0;
	for (unsigned i = 0; i < FAT_MAX_VOLS; i++) {
		struct fat_vol *v = fm.vols[i];

		if (!v)
			continue;
		if (v->c.ndirty && v->runs_exported == v->c.ndirty)
			LOGF(PB_LOG_INFO, "fs:%s: stopped without a quiesce: "
			    "its %u blocks not written are in the state it "
			    "exported", v->res_name, v->c.ndirty);
		else if (v->dirty_on_disk || v->c.ndirty)
			LOGF(PB_LOG_WARN, "fs:%s: stopped without a quiesce: %u "
			    "blocks not written, the volume stays marked "
			    "dirty", v->res_name, v->c.ndirty);
		if (v->inflight)
			continue;	/* the device still holds its buffers */
		vol_free(v);
	}
	if (fm.imp)
		fm.hub->free(fm.self, fm.imp);
	fm.imp = NULL;
}

/* Drain to the barrier, write back, mark clean: PB_EAGAIN until then. */
static int
fat_quiesce(struct pb_module *m)
{
	int busy = 0;

	for (unsigned i = 0; i < FAT_MAX_VOLS; i++) {
		struct fat_vol *v = fm.vols[i];

		if (!v || v->failed)
			continue;
		if (!v->quiescing) {
			v->quiescing = 1;
			v->quiesced = 0;
			v->barrier_passed = 0;
			v->barrier = &v->job_unmount;
			job_queue(v, &v->job_unmount, JOB_UNMOUNT, NULL);
		}
		if (!v->quiesced || v->inflight || v->op.job)
			busy = 1;
	}
	if (fm.flush_timer)
		fm.hub->timer_cancel(fm.self, fm.flush_timer);
	fm.flush_timer = 0;
	return busy ? PB_EAGAIN : PB_OK;
}

static int
fat_export(struct pb_module *m, void *buf, size_t cap, size_t *len,
    uint32_t *version)
{
	return state_export(buf, cap, len, version);
}

static int
fat_import(struct pb_module *m, const void *buf, size_t len,
    uint32_t version)
{
	return state_import(buf, len, version);
}

static int
fat_release(struct pb_module *m)
{
	fm.active = 0;
	fm.released = 1;
	return PB_OK;
}

/* Is the disk the hub bound us to the partition `bpath` names (its path=,
 * the place on the bus)?  The state's disk name may not be there any
 * more, or be damaged in a state taken after a fault (hub/replay.c). */
static int
bind_is(const char *bpath)
{
	char props[256], path[64];

	return fm.bind && bpath[0] &&
	    res_props(fm.bind->res, props, sizeof(props)) == PB_OK &&
	    rt_prop_get(props, "path", path, sizeof(path)) &&
	    strcmp(path, bpath) == 0;
}

/* Connect the imported volumes' disks and mount them first thing. */
static int
fat_activate(struct pb_module *m)
{
	for (unsigned i = 0; i < FAT_MAX_VOLS; i++) {
		struct fat_vol *v = fm.vols[i];

		if (!v || v->blk)
			continue;
		if (fm.bind && (strcmp(fm.bind->res, v->disk) == 0 ||
		    bind_is(v->bpath))) {
			v->blk = fm.bind;	/* handed over by the swap */
			fm.bind = NULL;
			rt_strlcpy(v->disk, v->blk->res, sizeof(v->disk));
		} else if (!(v->blk = fm.hub->connect(fm.self, BLOCK_IFACE,
		    BLOCK_MAJOR, BLOCK_MINOR, v->disk))) {
			LOGF(PB_LOG_ERR, "fs:%s: cannot connect to %s",
			    v->res_name, v->disk);
			return PB_ENODEV;
		}
		job_push(v, &v->job_mount, JOB_MOUNT, NULL);
	}
	fm.standby = 0;
	return take_disks();
}

/*
 * A volume whose disk we handed over at a swap's rebind, back after the
 * new instance faulted in its watch window (the hub connected us to the
 * disk again before the resume): that instance may have written to it.
 * Nothing of ours is unwritten (the quiesce's unmount synced), so every
 * unit the cache holds is dropped and read again from the disk when
 * needed.  Not connected again: the disk went meanwhile.
 */
static void
take_back(struct fat_vol *v)
{
	v->disk_handed = 0;
	if (!v->blk) {
		vol_block_event(v, PB_EV_DISCONNECTED);
		return;
	}
	cache_drop_clean(v, 0, v->g.total_sectors);
}

static int
fat_resume(struct pb_module *m)
{
	fm.active = 1;
	fm.released = 0;
	for (unsigned i = 0; i < FAT_MAX_VOLS; i++) {
		struct fat_vol *v = fm.vols[i];

		if (!v)
			continue;
		if (v->disk_handed)
			take_back(v);
		v->quiescing = v->quiesced = v->barrier_passed = 0;
		v->barrier = NULL;
		run_kick(v);
	}
	start_timer();
	return PB_OK;
}

/* The volume whose disk we handed over, now connected to us again. */
static struct fat_vol *
vol_handed(const struct pb_conn *c)
{
	for (unsigned i = 0; i < FAT_MAX_VOLS; i++) {
		struct fat_vol *v = fm.vols[i];

		if (v && v->disk_handed && !v->blk && c->res &&
		    strcmp(v->disk, c->res) == 0)
			return v;
	}
	return NULL;
}

static void
fat_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	struct fat_vol *v;

	if (ev == PB_EV_CLIENT_GONE)
		return;		/* who went is not said: docs/fs.md */
	if (req == FAT_REQ_RTC) {
		fm.rtc = ev == PB_EV_DISCONNECTED ? NULL : c;
		return;
	}
	if (ev == PB_EV_RESOURCE) {
		if (fm.active && c && c->res)
			vol_consider(c->res, NULL);
		return;
	}
	if (req == PB_REQ_BIND && ev == PB_EV_CONNECTED) {
		if (fm.released && (v = vol_handed(c)))
			v->blk = c;	/* the swap rolled back: take_back */
		else if (fm.active)
			vol_consider(c->res, c);
		else
			fm.bind = c;	/* before start: taken there */
		return;
	}
	if (fm.released && ev == PB_EV_DISCONNECTED && (v = vol_by_conn(c))) {
		v->blk = NULL;		/* the next instance's: kept for a */
		v->disk_handed = 1;	/* rollback, until our stop */
		return;
	}
	if ((v = vol_by_conn(c)))
		vol_block_event(v, ev);
	else if (c == fm.bind && ev == PB_EV_DISCONNECTED)
		fm.bind = NULL;
}

static const struct pb_module_ops fat_ops = {
	.start = fat_start,
	.stop = fat_stop,
	.quiesce = fat_quiesce,
	.export_state = fat_export,
	.import_state = fat_import,
	.release = fat_release,
	.activate = fat_activate,
	.resume = fat_resume,
	.event = fat_event,
};

PB_MODULE(.name = "fat", .version = "1.0",
    .desc = "FAT12/16/32 volumes: fs and module-source",
    .rank = 10, .flags = PB_MOD_RESTATE, .ops = &fat_ops,
    .nprovides = 2,
    .provides = { PB_PROVIDE(FS_IFACE, FS_MAJOR, FS_MINOR),
	PB_PROVIDE(MODSRC_IFACE, MODSRC_MAJOR, MODSRC_MINOR) },
    .nrequires = 1,
    .requires = { [FAT_REQ_RTC] = PB_REQUIRE(RTC_IFACE, RTC_MAJOR, RTC_MINOR,
	PB_CARD_OPTIONAL, PB_LATER) },
    .nbinds = 2,
    .binds = { PB_BIND(BLOCK_IFACE, "fat=1"), PB_BIND(BLOCK_IFACE, "esp=1") });
