/*
 * modsrc.h - interface `module-source` 1.1: somewhere module files come
 * from.  The hub publishes the boot ramdisk (the files the stub read);
 * a file system module publishes a volume's patchbay/mods/ directory
 * (fat: `module-source:<the fs resource's name>`).
 *
 * 1.0 gives names and whole files synchronously, which only memory can
 * do.  1.1 appends `size` and an asynchronous read into the client's
 * buffer (struct modsrc_req, owned by the client like struct block_req),
 * which a source on a disk can serve: a client asks the size, allocates,
 * and submits one read of the whole file (or several, by offset).
 * A 1.1 source on a disk answers PB_ENOTSUP to the 1.0 `read`; the boot
 * ramdisk, in memory, is a 1.0 source (its ops end at `read`): a client
 * calls `size` and `submit` only on a resource of minor version >= 1.
 *
 * The life of a request: the client fills name, offset, buf, len and
 * `done` (a work item it set up with hub->work_init for itself) and calls
 * submit; PB_OK means the source owns the request and the buffer until it
 * sets `status` and `result` (bytes read: fewer than len only at the end
 * of the file) and posts `done`, exactly once, as the client's work.  An
 * error from submit means it was refused and `done` is never posted.
 */
#ifndef PB_ABI_MODSRC_H
#define PB_ABI_MODSRC_H

#include <stddef.h>
#include <stdint.h>

#include "pb.h"

#define MODSRC_IFACE "module-source"
#define MODSRC_MAJOR 1
#define MODSRC_MINOR 1

#define MODSRC_NAME_MAX 64	/* bytes of a module file's name, with NUL */
#define MODSRC_SCRATCH 64	/* bytes of source scratch per request */

struct modsrc_req {
	uint32_t size;		/* sizeof(struct modsrc_req) as built */
	uint32_t reserved;
	char name[MODSRC_NAME_MAX];	/* as name() gives it */
	uint64_t offset;	/* first byte to read */
	void *buf;		/* the client's, until completion */
	uint64_t len;		/* bytes of buf */
	uint64_t result;	/* out: bytes read */
	int32_t status;		/* out: PB_OK, PB_ENOENT, PB_EIO, ... */
	uint32_t reserved2;
	struct pb_work done;	/* the client's completion work */
	void *client_data;	/* free for the client */
	uint64_t scratch[MODSRC_SCRATCH / 8];	/* the source's */
};
_Static_assert(offsetof(struct modsrc_req, done) == 112, "modsrc_req layout");

struct modsrc_ops {
	/* The index-th file's name; PB_ENOENT past the last. */
	int (*name)(void *ctx, unsigned index, char *buf, size_t cap);
	/* The whole file, read-only, valid while the source is.  A source
	 * that cannot (on a disk) answers PB_ENOTSUP: use submit. */
	int (*read)(void *ctx, const char *name, const void **data,
	    size_t *len);
	/* 1.1: the file's size in bytes, synchronously. */
	int (*size)(void *ctx, const char *name, uint64_t *size);
	/* 1.1: take a read request (see the life of a request above). */
	int (*submit)(void *ctx, struct modsrc_req *req);
};

#endif
