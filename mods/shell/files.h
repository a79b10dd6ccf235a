/*
 * files.h - the shell's files: the mount table, paths, and the file
 * commands' asynchronous requests.
 *
 *   mounts.c     every `fs` volume (PB_CARD_ALL, as they come and go), at
 *                a mount point: /esp for the volume the system booted from,
 *                the others by label or by disk
 *   path.c       paths against the current directory, tidied lexically
 *   fsjob.c      a running file command: its fs requests, their
 *                completions as the shell's work, the session held until
 *                the last one; the stream that reads a file in pipelined
 *                requests
 *   fsfmt.c      error words, sizes, dates, rates
 *   hexdump.c    hexdump -C lines
 *   sha256.c     SHA-256
 *   cmd_fs.c     ls, cat, hexdump, sha256sum, fsread
 *   cmd_fsedit.c cp, mv, rm, mkdir, rmdir, write, echo > PATH
 *   cmd_mounts.c mounts, df, sync, cd, pwd, and the sync before poweroff
 *
 * Paths: the tree's first level is the mount points; a command's path is
 * absolute (/esp/patchbay/boot.cfg) or relative to `cd`.
 */
#ifndef PB_SHELL_FILES_H
#define PB_SHELL_FILES_H

#include "shell.h"
#include "../../abi/fs.h"
#include "lineedit.h"

/* --- mounts.c ------------------------------------------------------------ */

#define MAX_MOUNTS 16
#define MOUNT_NAME_MAX 32		/* a mount point's name, with the NUL */
#define MOUNT_BOOT "esp"		/* the boot volume's mount point */
#define MOUNT_PROPS 256

struct mount {
	struct pb_conn *conn;		/* NULL: a free slot */
	char name[MOUNT_NAME_MAX];	/* "esp", "DATA", "sata1.p1" */
};

/* mounts_event, mounts_forget: in shell.h. */
/* The i-th mount in mount order (slot order), or NULL past the last. */
struct mount *mount_nth(unsigned i);
/* The mount point named `name` (ASCII case does not matter), or NULL. */
struct mount *mount_find(const char *name);
/* The volume's properties now (they may change), into props. */
void mount_props(const struct mount *m, char *props, size_t cap);
/* The name a new volume gets (pure: mount_name_choose). */
void mount_name_choose(const char *label, const char *disk, const char *res,
    int boot, char *out, size_t cap);
int name_eq(const char *a, const char *b);	/* ASCII case-insensitive */

/* --- path.c -------------------------------------------------------------- */

int path_resolve(const char *cwd, const char *arg, char *out, size_t cap);
int path_split(const char *abs, char *mnt, size_t cap, const char **rest);
const char *path_base(const char *abs);
int path_join(const char *dir, const char *name, char *out, size_t cap);

/* --- fsfmt.c ------------------------------------------------------------- */

const char *fs_strerror(int err);
void size_text(uint64_t bytes, char *out, size_t cap);
void time_text(const struct fs_time *t, char *out, size_t cap);
void rate_text(uint64_t bytes, uint64_t ns, char *out, size_t cap);

/* --- hexdump.c ----------------------------------------------------------- */

#define HEXDUMP_LINE 96			/* one line with its NUL */
typedef void (*hexdump_out_fn)(void *arg, const char *line);

struct hexdump {
	uint64_t off;			/* bytes fed so far */
	uint8_t cur[16];		/* the line being collected */
	unsigned n;			/* its bytes */
	uint8_t prev[16];		/* the line before */
	int have_prev;
	int starred;			/* "*" stands for the lines since */
};

void hexdump_init(struct hexdump *h);
void hexdump_line(uint64_t off, const uint8_t *p, unsigned n, char *out);
void hexdump_feed(struct hexdump *h, const uint8_t *p, size_t len,
    hexdump_out_fn out, void *arg);
void hexdump_end(struct hexdump *h, hexdump_out_fn out, void *arg);

/* --- fsjob.c ------------------------------------------------------------- */

/* The current directory: "/" or a path under a mount point. */
extern char fs_cwd[FS_PATH_MAX];

/* Where a path lands: a mount and the path on its volume. */
struct place {
	char abs[FS_PATH_MAX];		/* absolute, tidied: what errors name */
	struct mount *m;		/* NULL: the root of the tree, "/" */
	unsigned rest;			/* abs + rest: the path on the volume */
};
#define ON_VOLUME(p) ((p)->abs + (p)->rest)

#define JOB_SLOTS 4			/* requests in flight at once */
#define JOB_HANDLES 2			/* files open at once */
#define JOB_MOUNTS 2			/* volumes a job's places are on */
#define JOB_ARGS 64			/* arguments a job keeps */

struct job;
struct jreq;
typedef void (*job_fn)(struct job *j, struct jreq *r);

/* One request of a job, in one of its slots. */
struct jreq {
	struct fs_req fs;		/* the request (its done is ours) */
	struct job *job;
	struct mount *m;		/* the volume it went to */
	job_fn then;			/* runs at its completion */
	const char *shown;		/* the path its errors name */
	int busy;			/* submitted, not completed */
	int lost;			/* its volume went: nobody waits */
	uint8_t *buf;			/* the slot's buffer (streams) */
	uint64_t at;			/* stream: the read's offset */
};

/* A file read from start to end in pipelined requests (fsjob.c). */
struct stream {
	struct mount *m;
	uint32_t handle;
	uint64_t size;			/* when it was opened */
	const char *shown;		/* the path errors name */
	uint64_t next;			/* offset of the next read to issue */
	uint64_t delivered;		/* bytes handed to the consumer */
	uint32_t chunk;			/* bytes per read */
	unsigned kept;			/* buffers the consumer still holds */
	int eof;			/* a read came back short */
	uint64_t opened_ns;		/* when the open completed */
	/* n bytes at r->at in r->buf; returns 1 to keep the buffer until
	 * stream_give_back. */
	int (*consume)(struct job *j, struct jreq *r, uint32_t n);
	void (*done)(struct job *j);	/* every byte was consumed */
};

struct job {
	char cmd[16];			/* the command, for error lines */
	unsigned inflight;		/* requests not completed, not lost */
	unsigned lost;			/* requests on volumes that went */
	int failed;			/* an error line was printed */
	int held;			/* the command returned: job_hold */
	int ending;			/* no new requests: closing down */
	int over;			/* the session is released */
	uint32_t progress, seen;	/* completions; at the last check */
	int timer;			/* the stall check, -1: none */
	struct jreq r[JOB_SLOTS];
	struct {
		struct mount *m;	/* NULL: free */
		uint32_t handle;
		const char *shown;
	} open[JOB_HANDLES];
	struct mount *uses[JOB_MOUNTS];	/* where its places are */
	struct stream s;
	uint8_t *bufs;			/* the stream's buffers */
	char argbuf[LE_LINE_MAX];	/* the arguments kept (job_keep_args) */
	const char *argv[JOB_ARGS];
	int argc;
	/* At the end, when nothing failed: the command's report. */
	void (*report)(struct job *j);
	/* At the end, whatever happened, after the report. */
	void (*finally)(struct job *j);
	/* When the job is freed (its last request is back): its memory. */
	void (*cleanup)(struct job *j);
	struct pb_work step;		/* job_later's work */
	job_fn later;
	void *data;			/* the command's own state, after this */
};

struct job *job_new(const char *cmd, size_t data_size);
void job_drop(struct job *j);
int job_refuse(struct job *j, const char *shown, const char *why);
int job_hold(struct job *j);
int job_keep_args(struct job *j, int argc, char **argv);
int job_place(struct job *j, const char *arg, struct place *p);
void job_places_clear(struct job *j);
struct jreq *job_slot(struct job *j);
void job_submit(struct job *j, struct jreq *r, struct mount *m, int op,
    const char *shown, job_fn then);
void job_path_op(struct job *j, const struct place *p, int op,
    uint16_t flags, void *buf, uint64_t len, job_fn then);
int job_error(struct job *j, const char *shown, int err);
void job_end(struct job *j);
void job_later(struct job *j, job_fn fn);
void jobs_volume_gone(struct mount *m);
void stream_open(struct job *j, const struct place *p, uint32_t chunk,
    unsigned slots, int (*consume)(struct job *, struct jreq *, uint32_t),
    void (*done)(struct job *));
void stream_give_back(struct job *j, struct jreq *r);

#endif
