/*
 * cmd_modfile.c - load and update from a file system.
 *
 * After the takeover the hub cannot read a path: files live on volumes
 * that modules serve.  So `load PATH` and `update MODULE PATH` read the
 * module file through `fs` here, hand the bytes to the hub
 * (hub->mod_image, which keeps a copy under the file's absolute path) and
 * then ask the hub to load or update from that path.  `load NAME` of a
 * module the hub does not know (not in the boot ramdisk) looks for
 * /esp/patchbay/mods/NAME.mod: seed 000's ladder, ramdisk -> firmware ->
 * the system's own file system.
 */
#include "files.h"

#define MODFILE_CHUNK (256u << 10)
#define MODFILE_SLOTS 2
#define MODFILE_MAX (16u << 20)		/* the hub's IMAGE_MAX */
#define MODS_DIR "/" MOUNT_BOOT "/patchbay/mods/"

struct modfile {
	struct place p;
	char module[PB_NAME_MAX];	/* update: the running module */
	uint8_t *buf;
	uint64_t size, got;
};

static int
modfile_consume(struct job *j, struct jreq *r, uint32_t n)
{
	struct modfile *mf = j->data;

	if (j->failed)			/* said once; the rest is drained */
		return 0;
	if (!mf->buf) {
		mf->size = j->s.size;
		if (!mf->size || mf->size > MODFILE_MAX) {
			job_error(j, mf->p.abs, PB_EINVAL);
			return 0;
		}
		if (!(mf->buf = shell_hub->alloc(shell_self, mf->size))) {
			job_error(j, mf->p.abs, PB_ENOMEM);
			return 0;
		}
	}
	if (r->at > mf->size || n > mf->size - r->at) {
		job_error(j, mf->p.abs, PB_EBUSY);	/* it grew meanwhile */
		return 0;
	}
	memcpy(mf->buf + r->at, r->buf, n);
	mf->got += n;
	return 0;
}

/* Every byte is here: the hub takes a copy, then loads or updates. */
static void
modfile_report(struct job *j)
{
	struct modfile *mf = j->data;
	char *argv[3] = { mf->module[0] ? "update" : "load" };
	int argc = 0;
	int r;

	if (mf->got != mf->size || !mf->buf) {
		fail("%s %s: read %llu of %llu bytes", argv[0], mf->p.abs,
		    (unsigned long long)mf->got, (unsigned long long)mf->size);
		return;
	}
	r = shell_hub->mod_image(shell_self, mf->p.abs, mf->buf, mf->size);
	if (r != PB_OK) {
		fail("%s %s: the hub cannot keep it (%s)", argv[0], mf->p.abs,
		    r == PB_EBUSY ? "every slot in use" : fs_strerror(r));
		return;
	}
	argv[argc++] = argv[0];
	if (mf->module[0])
		argv[argc++] = mf->module;
	argv[argc++] = mf->p.abs;
	cmd_hub(argc, argv);
}

static void
modfile_done(struct job *j)
{
	j->report = modfile_report;
	job_end(j);
}

static void
modfile_cleanup(struct job *j)
{
	struct modfile *mf = j->data;

	if (mf->buf)
		shell_hub->free(shell_self, mf->buf);
	mf->buf = NULL;
}

/* Read `path` (as typed, against cd) and then load it, or update
 * `module` (NULL: load) from it. */
static int
modfile_start(const char *cmd, const char *module, const char *path)
{
	struct job *j = job_new(cmd, sizeof(struct modfile));
	struct modfile *mf;

	if (!j)
		return PB_ENOMEM;
	mf = j->data;
	if (module)
		rt_strlcpy(mf->module, module, sizeof(mf->module));
	if (job_place(j, path, &mf->p) != PB_OK) {
		job_drop(j);
		return PB_ENOENT;
	}
	if (!mf->p.m || !*ON_VOLUME(&mf->p))
		return job_refuse(j, mf->p.abs, fs_strerror(PB_EISDIR));
	if (strlen(mf->p.abs) >= 64)
		return job_refuse(j, mf->p.abs, "path longer than 63 bytes");
	j->cleanup = modfile_cleanup;
	stream_open(j, &mf->p, MODFILE_CHUNK, MODFILE_SLOTS, modfile_consume,
	    modfile_done);
	return job_hold(j);
}

/* Does the hub know a module of this name (the ramdisk's, or one loaded)? */
static int
hub_knows(const char *name)
{
	struct pb_mod_info mi;

	for (unsigned i = 0;; i++) {
		mi.struct_size = sizeof(mi);
		if (shell_hub->mod_info_sized(i, &mi) != PB_OK)
			return 0;
		if (strcmp(mi.name, name) == 0)
			return 1;
	}
}

/* Is `arg` a path on a mounted volume?  Other paths are the hub's (the
 * firmware's file access, before the takeover). */
static int
on_volume(const char *arg)
{
	char abs[FS_PATH_MAX], mnt[MOUNT_NAME_MAX];
	const char *rest;

	return strchr(arg, '/') &&
	    path_resolve(fs_cwd, arg, abs, sizeof(abs)) == PB_OK &&
	    path_split(abs, mnt, sizeof(mnt), &rest) == PB_OK && mnt[0] &&
	    mount_find(mnt);
}

int
cmd_load(int argc, char **argv)
{
	char path[FS_PATH_MAX];

	if (on_volume(argv[1]))
		return modfile_start(argv[0], NULL, argv[1]);
	if (strchr(argv[1], '/') || hub_knows(argv[1]) ||
	    !mount_find(MOUNT_BOOT))
		return cmd_hub(argc, argv);
	rt_snprintf(path, sizeof(path), MODS_DIR "%s.mod", argv[1]);
	return modfile_start(argv[0], NULL, path);
}

int
cmd_update(int argc, char **argv)
{
	if (on_volume(argv[2]))
		return modfile_start(argv[0], argv[1], argv[2]);
	return cmd_hub(argc, argv);
}
