/*
 * fs.h - interface `fs` 1.0: one mounted file system volume, reached by
 * asynchronous requests on paths and handles.
 *
 * A file system provider (fat) publishes one `fs` resource per mounted
 * volume, named `fs:LABEL` (the volume label, when it has one that is a
 * valid and unused name) or `fs:DISK` (the block resource's name without
 * `block:`), with properties:
 *   label=ESP uuid=1234-ABCD type=fat32 ro=0 disk=block:ahci0.p1
 *   path=pci:00:1f.2/sata:0/part:1
 * `disk` and `path` are the block resource's name and identity: what a
 * mount table matches to put the volume at /esp.  Paths are relative to
 * the volume's root, with '/' separators, in UTF-8; a leading '/' is
 * allowed, "." and ".." are taken lexically, "" and "/" are the root.
 * Names compare case-insensitively for ASCII letters and exactly
 * otherwise.
 *
 * Requests are owned by the client, like struct block_req: the client
 * fills a struct fs_req (op, path or handle, offset, buffer, length, and
 * `done`, a work item it set up with hub->work_init for itself) and calls
 * submit.
 *   - submit answers PB_OK: the provider owns the request, its path and
 *     its buffer until completion; or an error: refused, nothing happens,
 *     `done` is never posted;
 *   - the provider completes it exactly once: it sets `status` and the
 *     op's outputs, then posts `done` with hub->work_post.  Completion is
 *     always the client's work, never a call from inside submit.
 * A provider runs a volume's requests as if one at a time, in the order
 * they were submitted, and completes them in that order: a client may
 * queue a write and then a read of what it wrote, and keep several reads
 * of a file in flight (a provider may overlap their transfers on the
 * device).  Nothing is allocated per request: `scratch` is the
 * provider's.
 *
 * Handles: FS_OPEN answers a handle (a non-zero number, valid for this
 * resource) that FS_CLOSE ends.  A handle survives a swap of the block
 * provider under the volume (nothing to do) and a swap of the fs provider
 * itself (the handles are in the exported state, struct fs_state), so a
 * client keeps using its numbers after PB_EV_REBOUND.
 *
 * The ops, with what they read (in) and write (out) besides `status`:
 *   FS_OPEN	in: path, flags FS_O_*; out: handle, result = the size.
 *		FS_O_CREATE makes a missing file (FS_O_EXCL: fails with
 *		PB_EEXIST if it exists); FS_O_TRUNC empties it; FS_O_APPEND
 *		makes every write go to the end; FS_O_DIR opens a directory
 *		(required for FS_READDIR, refused with PB_ENOTDIR on a file).
 *		A directory opened without FS_O_DIR gives PB_EISDIR.
 *	FS_CLOSE	in: handle.
 *	FS_READ	in: handle, offset (or FS_CURSOR), buf, len; out: result =
 *		bytes read, fewer than len only at the end of the file.
 *	FS_WRITE	in: handle, offset (or FS_CURSOR), buf, len; out: result
 *		= bytes written.  Writing past the end fills the gap with
 *		zeros.  A full volume gives PB_ENOSPC, with result the bytes
 *		that were written before it filled (the file system stays
 *		consistent).
 *	FS_READDIR	in: handle (FS_O_DIR), buf, len; out: result = the
 *		number of struct fs_dirent written to buf (as many whole
 *		ones as fit in len), 0 at the end.  "." and ".." are not
 *		listed.  Reads from the handle's cursor and advances it;
 *		offset FS_REWIND (0) starts over, FS_CURSOR continues.
 *	FS_STAT	in: path (or NULL and handle), buf, len >= sizeof(struct
 *		fs_stat); out: buf.
 *	FS_MKDIR	in: path.
 *	FS_RMDIR	in: path of an empty directory.
 *	FS_UNLINK	in: path of a file.  PB_EBUSY while a handle is open on
 *		it (the on-disk format cannot keep an unnamed file).
 *	FS_RENAME	in: path (from), path2 (to: a new name, in any
 *		directory).  PB_EEXIST if `to` exists, unless it names the
 *		same entry (a change of case).  Open handles follow.
 *	FS_TRUNCATE	in: handle (open for writing), offset = the new size.
 *	FS_SYNC	everything written so far reaches the medium (and the
 *		device's write cache); in: handle or 0 (the whole volume,
 *		which is what a provider may do either way).
 *	FS_STATFS	in: buf, len >= sizeof(struct fs_statfs); out: buf.
 * Errors: PB_ENOENT, PB_ENOTDIR, PB_EISDIR, PB_EEXIST, PB_ENOTEMPTY,
 * PB_ENOSPC, PB_EROFS (read-only mount or medium, or a read-only file
 * opened for writing), PB_EBUSY, PB_EINVAL (a bad name, handle or
 * argument), PB_EIO, PB_EMEDIA (the medium changed), PB_ECORRUPT (the
 * on-disk structures are inconsistent; logged once by the provider),
 * PB_ENOMEM.
 *
 * Write-back: a provider may keep written data in its cache; FS_SYNC, a
 * quiesce (swap, shutdown) and the provider's timer write it out.  A
 * clean shutdown quiesces the provider before stopping it.
 */
#ifndef PB_ABI_FS_H
#define PB_ABI_FS_H

#include <stddef.h>
#include <stdint.h>

#include "pb.h"

#define FS_IFACE "fs"
#define FS_MAJOR 1
#define FS_MINOR 0

#define FS_PATH_MAX 1024	/* bytes of a path, with the NUL */
#define FS_NAME_MAX 768		/* bytes of one name, with the NUL */

enum fs_op {
	FS_OPEN = 1,
	FS_CLOSE = 2,
	FS_READ = 3,
	FS_WRITE = 4,
	FS_READDIR = 5,
	FS_STAT = 6,
	FS_MKDIR = 7,
	FS_RMDIR = 8,
	FS_UNLINK = 9,
	FS_RENAME = 10,
	FS_TRUNCATE = 11,
	FS_SYNC = 12,
	FS_STATFS = 13,
};

/* FS_OPEN flags (fs_req.flags). */
#define FS_O_READ	0x01u
#define FS_O_WRITE	0x02u
#define FS_O_CREATE	0x04u
#define FS_O_EXCL	0x08u
#define FS_O_TRUNC	0x10u
#define FS_O_APPEND	0x20u
#define FS_O_DIR	0x40u

/* fs_req.offset for FS_READ, FS_WRITE and FS_READDIR: at the handle's
 * cursor, which every read, write and readdir moves past what it did. */
#define FS_CURSOR	(~(uint64_t)0)
#define FS_REWIND	0

#define FS_SCRATCH 64		/* bytes of provider scratch per request */

struct fs_req {
	uint32_t size;		/* sizeof(struct fs_req) as built */
	uint16_t op;		/* enum fs_op */
	uint16_t flags;		/* FS_O_* for FS_OPEN */
	uint32_t handle;	/* in, or out for FS_OPEN */
	uint32_t reserved;
	const char *path;	/* NUL-terminated, < FS_PATH_MAX bytes */
	const char *path2;	/* FS_RENAME: the new path */
	uint64_t offset;	/* bytes, or FS_CURSOR; FS_TRUNCATE: size */
	void *buf;		/* the client's, until completion */
	uint64_t len;		/* bytes of buf */
	uint64_t result;	/* out: see each op */
	int32_t status;		/* out: PB_OK or an error */
	uint32_t reserved2;
	struct pb_work done;	/* the client's completion work */
	void *client_data;	/* free for the client */
	/* The provider's, from submit to completion.  8-byte aligned. */
	uint64_t scratch[FS_SCRATCH / 8];
};
_Static_assert(offsetof(struct fs_req, done) == 72, "fs_req layout");
_Static_assert(sizeof(struct fs_req) == 184, "fs_req layout");

/* A date and time as the volume keeps it (FAT: local time, 2 s steps). */
struct fs_time {
	uint16_t year;		/* 1980.. ; 0: not recorded */
	uint8_t month, day;	/* 1-12, 1-31 */
	uint8_t hour, minute, second;
	uint8_t reserved;
};
_Static_assert(sizeof(struct fs_time) == 8, "fs_time layout");

enum fs_type { FS_TYPE_FILE = 1, FS_TYPE_DIR = 2 };

/* Attributes (FAT's own bits, the same values). */
#define FS_ATTR_RO	0x01u
#define FS_ATTR_HIDDEN	0x02u
#define FS_ATTR_SYSTEM	0x04u
#define FS_ATTR_ARCHIVE	0x20u

struct fs_stat {
	uint64_t size;		/* bytes (0 for a directory) */
	uint64_t id;		/* unique while it exists (FAT: first cluster) */
	uint32_t type;		/* enum fs_type */
	uint32_t attr;		/* FS_ATTR_* */
	struct fs_time mtime;	/* last written */
	struct fs_time ctime;	/* created */
	struct fs_time atime;	/* last accessed (FAT: the date only) */
};
_Static_assert(sizeof(struct fs_stat) == 48, "fs_stat layout");

struct fs_dirent {
	uint64_t size;
	uint32_t type;		/* enum fs_type */
	uint32_t attr;		/* FS_ATTR_* */
	struct fs_time mtime;
	uint32_t name_len;	/* bytes, without the NUL */
	uint32_t reserved;
	char name[FS_NAME_MAX];	/* UTF-8, NUL-terminated */
};
_Static_assert(sizeof(struct fs_dirent) == 32 + FS_NAME_MAX,
    "fs_dirent layout");

#define FS_STATFS_RO	0x1u	/* mounted read-only */
#define FS_STATFS_DIRTY	0x2u	/* not unmounted cleanly last time */

struct fs_statfs {
	uint32_t block_size;	/* bytes of an allocation unit (cluster) */
	uint32_t flags;		/* FS_STATFS_* */
	uint64_t blocks;	/* allocation units for files */
	uint64_t free;		/* of them, free */
	uint32_t name_max;	/* characters of a name */
	uint32_t reserved;
	char type[8];		/* "fat12", "fat16", "fat32" */
	char label[16];		/* the volume label, UTF-8 */
};
_Static_assert(sizeof(struct fs_statfs) == 56, "fs_statfs layout");

struct fs_ops {
	/* Take a request (see the life of a request above). */
	int (*submit)(void *ctx, struct fs_req *req);
};

/*
 * The state an fs provider exports and imports on a swap
 * (FS_STATE_VERSION): the volumes, the open handles, and the requests not
 * yet started, oldest first (the clients' memory: the blob carries their
 * addresses; the new provider completes each exactly once).  The old
 * provider has run what it took before the quiesce and written
 * everything back (and marked its volumes clean) before it exports.  A
 * provider restarted after a fault is given what it exported from the
 * faulted instance instead (hub/replay.c): that one wrote nothing back,
 * and says which volumes it marked dirty itself (FS_STATE_VOL_DIRTY),
 * which the new one keeps read-write: the mark is its own (the requests
 * run again whole), not a sign of another system's unclean unmount.
 * It also hands over what its clients were told was written and it had
 * not yet written to the disk (a write-back cache's dirty blocks): each
 * volume's runs, which the new provider takes before it reads anything
 * of the volume and writes back as its own.  A faulted provider leaves
 * out a volume's runs when it cannot vouch for them (the memory holding
 * them changed behind it) and says so in the log: better the disk as of
 * the last sync than blocks a stray write went through.
 *   struct fs_state;
 *   nvols struct fs_state_vol;
 *   nhandles struct fs_state_handle;
 *   nreqs struct fs_req * (8-byte aligned), each volume's in turn;
 *   nmreqs struct modsrc_req * (abi/modsrc.h), if the provider also
 *   serves module-source, each volume's in turn;
 *   each volume's nruns runs in turn, each a struct fs_state_run and
 *   then its `bytes` of data.
 */
#define FS_STATE_VERSION 0x0f5a0003u
#define FS_RES_MAX 48

struct fs_state {
	uint32_t nvols;
	uint32_t nhandles;
	uint32_t nreqs;
	uint32_t nmreqs;
};

struct fs_state_vol {
	char res[FS_RES_MAX];	/* the fs resource's name */
	char disk[FS_RES_MAX];	/* the block resource's name */
	char path[64];		/* the block resource's path= */
	uint32_t serial;	/* volume serial number */
	uint16_t nreqs;		/* its fs requests in the list, in order */
	uint16_t nmreqs;	/* its module-source requests */
	uint32_t flags;		/* FS_STATE_VOL_* */
	uint32_t nruns;		/* its runs of blocks not yet written */
};
_Static_assert(sizeof(struct fs_state_vol) == 176, "fs_state_vol layout");
#define FS_STATE_VOL_DIRTY 1	/* its dirty flag is the provider's own */

struct fs_state_handle {
	uint32_t vol;		/* index into the volumes */
	uint32_t handle;	/* the number the client holds */
	uint32_t flags;		/* FS_O_* it was opened with */
	uint32_t first;		/* first cluster (identity check) */
	uint64_t size;
	uint64_t cursor;	/* the handle's offset */
	char path[FS_PATH_MAX];	/* from the volume's root */
};

/* Blocks written by clients, not yet on the disk; its data follows. */
struct fs_state_run {
	uint64_t offset;	/* bytes from the volume's start */
	uint32_t bytes;		/* of data: whole sectors, a multiple of 8 */
	uint16_t order;		/* write-back order: lower goes first */
	uint16_t reserved;	/* 0 */
};
_Static_assert(sizeof(struct fs_state_run) == 16, "fs_state_run layout");

#endif
