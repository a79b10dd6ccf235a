/*
 * block.h - interface `block` 1.0: a disk, or a part of one, that reads
 * and writes fixed-size blocks by request.
 *
 * Every disk driver (ahci, nvme, efi-block, USB mass storage, later
 * virtio-blk) and every partition (gpt) publishes one `block` resource per
 * disk or partition, named `block:NAME` (ahci0, efi0, ahci0.p1), with
 * properties:
 *   path=pci:00:1f.2/sata:0   identity: what a swap or the takeover pairs
 *   size=67108864 bs=512 model=QEMU_HARDDISK serial=QM00001 ro=0 rm=0
 *   disk=block:ahci0 (partitions) type=... esp=1 (gpt)
 * `path` is the device's place: the PCI function, then the port, target or
 * USB port chain, then the unit; a partition adds `/part:N`.  A firmware
 * provider derives the same path from the handle's device path, so the
 * native driver that publishes the same path takes its clients over.
 *
 * Requests are asynchronous and owned by the client (Linux blk-mq's
 * cmd_size, Fuchsia's block_op_size): the client allocates a struct
 * block_req, which holds a fixed scratch area the provider uses for its
 * own bookkeeping, so nothing is allocated per I/O and a request built for
 * one provider still fits its replacement after a swap.
 *
 * The life of a request:
 *   - the client fills op, lba, count, segs/nseg and `done` (a work item it
 *     set up with hub->work_init for itself), and calls submit;
 *   - submit answers PB_OK: the provider owns the request and its buffers
 *     until it completes; or it refuses the request, and nothing happens,
 *     with PB_EINVAL (not a request this disk takes), PB_ENOTSUP (an op it
 *     lacks), PB_EROFS, PB_EMEDIA, PB_ENODEV (the disk went) or PB_EAGAIN
 *     (nothing can take it now: a partition's disk held).  Any other
 *     answer is the provider's fault: the hub charges it as one, keeps
 *     the request, and gives it to the provider's next instance unless
 *     this one completes it first (hub/shadow.c);
 *   - the provider completes it exactly once: it sets `status` (PB_OK,
 *     PB_EIO, PB_EMEDIA, PB_ECANCELED, PB_EROFS, PB_EINVAL) and posts
 *     `done` with hub->work_post.  Completion is always the client's work,
 *     never a call from the provider's interrupt path.
 *
 * Swaps (drain or hand back): quiesce stops dispatching and answers
 * PB_EAGAIN while requests are on the device; export_state lists the
 * requests not completed, in order, in a struct block_state; the new
 * provider re-issues them at activate and queues new ones until its
 * hardware is ready.  Reads, writes and flushes are safe to issue again.
 */
#ifndef PB_ABI_BLOCK_H
#define PB_ABI_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "pb.h"

#define BLOCK_IFACE "block"
#define BLOCK_MAJOR 1
#define BLOCK_MINOR 0

enum block_op {
	BLOCK_READ = 1,
	BLOCK_WRITE = 2,
	BLOCK_FLUSH = 3,	/* the device's write cache to the medium */
};

#define BLOCK_REQ_FUA	0x1u	/* this write reaches the medium first */

/* One piece of the request's buffer.  `bus` is the address a device is
 * given (hub->dma_addr or the allocation told it); providers that copy
 * (efi-block, partitions) use `va`. */
struct block_seg {
	void *va;
	uint64_t bus;
	uint32_t len;		/* bytes, a multiple of the block size */
	uint32_t reserved;
};
_Static_assert(sizeof(struct block_seg) == 24, "block_seg layout");

#define BLOCK_SCRATCH 128	/* bytes of provider scratch per request */

struct block_req {
	uint32_t size;		/* sizeof(struct block_req) as built */
	uint16_t op;		/* enum block_op */
	uint16_t flags;		/* BLOCK_REQ_* */
	uint64_t lba;		/* first block */
	uint32_t count;		/* blocks (0 for a flush) */
	uint16_t nseg;		/* segments in segs */
	uint16_t reserved;
	const struct block_seg *segs;	/* the client's, until completion */
	int32_t status;		/* set by the provider before `done` */
	uint32_t reserved2;
	struct pb_work done;	/* the client's completion work */
	void *client_data;	/* free for the client */
	/* The provider's, from submit to completion.  8-byte aligned. */
	uint64_t scratch[BLOCK_SCRATCH / 8];
};
_Static_assert(offsetof(struct block_req, done) == 40, "block_req layout");

#define BLOCK_RO	0x1u	/* read-only medium or device */
#define BLOCK_REMOVABLE	0x2u	/* removable medium */
#define BLOCK_FUA	0x4u	/* BLOCK_REQ_FUA is honoured */
#define BLOCK_FLUSHES	0x8u	/* BLOCK_FLUSH reaches a write cache */

/* What a client must respect (Linux queue_limits, EFI_BLOCK_IO_MEDIA). */
struct block_info {
	uint32_t size;		/* set by the caller: the bytes it has */
	uint32_t block_size;	/* bytes, a power of two >= 512 */
	uint64_t block_count;
	uint32_t max_transfer;	/* bytes per request */
	uint16_t max_segments;	/* per request */
	uint16_t queue_depth;	/* requests the device runs at once */
	uint32_t align;		/* every segment's va and bus alignment */
	uint32_t flags;		/* BLOCK_* */
	uint64_t seg_boundary;	/* a segment never crosses a multiple (0: none) */
	uint64_t dma_limit;	/* highest bus address a segment may use */
	uint32_t media_id;	/* changes when the medium does */
	uint32_t reserved;
};
_Static_assert(sizeof(struct block_info) == 56, "block_info layout");

struct block_ops {
	/* info->size says how much the caller has; PB_OK fills that much. */
	int (*info)(void *ctx, struct block_info *info);
	/* Take a request (see the life of a request above). */
	int (*submit)(void *ctx, struct block_req *req);
};

/*
 * The state every block provider exports and imports on a swap
 * (BLOCK_STATE_VERSION): per disk its identity, then the requests not yet
 * completed, oldest first.  Requests are the clients' memory, so the
 * blob carries their addresses; the new provider completes each once.
 */
#define BLOCK_STATE_VERSION 0x0b10c001u
#define BLOCK_PATH_MAX 64

struct block_state_disk {
	char path[BLOCK_PATH_MAX];	/* the resource's path= */
	uint32_t first;			/* index into reqs[] */
	uint32_t nreq;
};

struct block_state {
	uint32_t ndisks;
	uint32_t nreq;
	/* Followed by ndisks struct block_state_disk, then nreq pointers
	 * (struct block_req *), 8-byte aligned. */
};

#endif
