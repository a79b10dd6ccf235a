/*
 * cmd_mounts.c - the volumes as a whole: mounts, df, sync; the current
 * directory: cd, pwd; and the sync that comes before a poweroff or a
 * reboot, so what was written is on the disks when the machine goes.
 */
#include "files.h"

/* One mount's properties, with "-" for what it does not say. */
static void
prop_or_dash(const char *props, const char *key, char *out, size_t cap)
{
	if (!rt_prop_get(props, key, out, cap) || !out[0])
		rt_strlcpy(out, "-", cap);
}

int
cmd_mounts(int argc, char **argv)
{
	char props[MOUNT_PROPS], type[16], label[MOUNT_NAME_MAX], ro[4];
	char path[96], point[MOUNT_NAME_MAX + 1];
	struct mount *m;

	(void)argc, (void)argv;
	say("%-14s %-18s %-6s %-12s %-4s %s", "mount", "resource", "type",
	    "label", "mode", "path");
	for (unsigned i = 0; (m = mount_nth(i)); i++) {
		mount_props(m, props, sizeof(props));
		prop_or_dash(props, "type", type, sizeof(type));
		prop_or_dash(props, "label", label, sizeof(label));
		prop_or_dash(props, "path", path, sizeof(path));
		if (!rt_prop_get(props, "ro", ro, sizeof(ro)))
			ro[0] = '\0';
		rt_snprintf(point, sizeof(point), "/%s", m->name);
		say("%-14s %-18s %-6s %-12s %-4s %s", point, m->conn->res, type,
		    label, strcmp(ro, "1") == 0 ? "ro" : "rw", path);
	}
	return PB_OK;
}

/* --- df and sync: each mount in turn ------------------------------------- */

struct every {
	unsigned next;			/* the mount to do next */
	struct mount *m;		/* the one being done */
	struct place p;			/* its root */
	struct fs_statfs sf;
	int op;				/* FS_STATFS or FS_SYNC */
	void (*then)(void *arg);	/* sync_then: after the last one */
	void *arg;
};

static void every_step(struct job *j, struct jreq *r);

static void
df_line(struct job *j)
{
	struct every *e = j->data;
	uint64_t size = e->sf.blocks * e->sf.block_size;
	uint64_t avail = e->sf.free * e->sf.block_size;
	uint64_t used;
	char s[16], u[16], f[16];

	if (avail > size)	/* more free than there is: clamped, not wrapped */
		avail = size;
	used = size - avail;

	size_text(size, s, sizeof(s));
	size_text(used, u, sizeof(u));
	size_text(avail, f, sizeof(f));
	/* df rounds the use up: 1 byte used is 1%. */
	say("%-14s %8s %8s %8s %4llu%%  %-6.6s %s", e->p.abs, s, u, f,
	    size ? (unsigned long long)((used * 100 + size - 1) / size) : 0,
	    e->sf.type, e->sf.flags & FS_STATFS_RO ? "ro" : "rw");
}

static void
every_done(struct job *j, struct jreq *r)
{
	struct every *e = j->data;

	if (r->fs.status != PB_OK)
		job_error(j, e->p.abs, r->fs.status);
	else if (e->op == FS_STATFS)
		df_line(j);
	every_step(j, NULL);
}

static void
every_step(struct job *j, struct jreq *r)
{
	struct every *e = j->data;

	(void)r;
	job_places_clear(j);
	if (!(e->m = mount_nth(e->next++))) {
		job_end(j);
		return;
	}
	rt_snprintf(e->p.abs, sizeof(e->p.abs), "/%s", e->m->name);
	e->p.m = e->m;
	e->p.rest = (unsigned)strlen(e->p.abs);	/* "": the root */
	j->uses[0] = e->m;
	if (e->op == FS_STATFS)
		job_path_op(j, &e->p, FS_STATFS, 0, &e->sf, sizeof(e->sf),
		    every_done);
	else
		job_path_op(j, &e->p, FS_SYNC, 0, NULL, 0, every_done);
}

/* After the last mount, even if some failed: what sync_then was given. */
static void
every_finish(struct job *j)
{
	struct every *e = j->data;

	if (e->then)
		e->then(e->arg);
}

static struct job *
every_start(const char *cmd, int op)
{
	struct job *j = job_new(cmd, sizeof(struct every));
	struct every *e;

	if (!j)
		return NULL;
	e = j->data;
	e->op = op;
	every_step(j, NULL);
	return j;
}

int
cmd_df(int argc, char **argv)
{
	struct job *j;

	(void)argc;
	say("%-14s %8s %8s %8s %5s  %-6s %s", "mount", "size", "used", "free",
	    "use", "type", "mode");
	if (!(j = every_start(argv[0], FS_STATFS)))
		return PB_ENOMEM;
	return job_hold(j);
}

int
cmd_sync(int argc, char **argv)
{
	struct job *j;

	(void)argc;
	if (!(j = every_start(argv[0], FS_SYNC)))
		return PB_ENOMEM;
	return job_hold(j);
}

/*
 * Sync every volume, then then(arg), even when a sync failed (its error
 * line is out).  PB_OK: the sync runs and holds the session; PB_ENOENT:
 * there is nothing to sync, the caller goes on at once.
 */
int
sync_then(const char *cmd, void (*then)(void *arg), void *arg)
{
	struct job *j;
	struct every *e;

	if (!mount_nth(0) || !(j = job_new(cmd, sizeof(struct every))))
		return PB_ENOENT;
	e = j->data;
	e->op = FS_SYNC;
	e->then = then;
	e->arg = arg;
	j->finally = every_finish;
	every_step(j, NULL);
	return job_hold(j);
}

/* --- cd and pwd ---------------------------------------------------------- */

struct cd {
	struct place p;
	struct fs_stat st;
};

static void
cd_stated(struct job *j, struct jreq *r)
{
	struct cd *c = j->data;

	if (r->fs.status != PB_OK)
		job_error(j, c->p.abs, r->fs.status);
	else if (c->st.type != FS_TYPE_DIR)
		job_error(j, c->p.abs, PB_ENOTDIR);
	else
		rt_strlcpy(fs_cwd, c->p.abs, sizeof(fs_cwd));
	job_end(j);
}

int
cmd_cd(int argc, char **argv)
{
	struct job *j = job_new(argv[0], sizeof(struct cd));
	struct cd *c;

	if (!j)
		return PB_ENOMEM;
	c = j->data;
	if (job_place(j, argc > 1 ? argv[1] : "/", &c->p) != PB_OK) {
		job_drop(j);
		return PB_ENOENT;
	}
	if (!c->p.m || !*ON_VOLUME(&c->p)) {	/* "/" or a mount point */
		rt_strlcpy(fs_cwd, c->p.abs, sizeof(fs_cwd));
		job_drop(j);
		return PB_OK;
	}
	job_path_op(j, &c->p, FS_STAT, 0, &c->st, sizeof(c->st), cd_stated);
	return job_hold(j);
}

int
cmd_pwd(int argc, char **argv)
{
	(void)argc, (void)argv;
	say("%s", fs_cwd);
	return PB_OK;
}
