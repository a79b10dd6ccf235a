/*
 * efi-block.h - efi-block's parts and what they share.
 *
 *   efi-block.c  descriptor, start/stop, the swap entries, connection events
 *   disk.c       the firmware's disks: checked, described, published
 *   queue.c      block_ops: info, submit; the queue; serving one request
 *                per work item through the firmware
 *   state.c      export and import of struct block_state (abi/block.h)
 *
 * Requests are the clients' (abi/block.h); the provider's scratch in each
 * holds the link of its disk's queue (struct efiblk_scratch).  Nothing is
 * allocated per request.
 */
#ifndef PB_EFIBLOCK_H
#define PB_EFIBLOCK_H

#include "../../abi/pbmod.h"
#include "../../abi/block.h"
#include "../../abi/firmware.h"

/* The module's name and its resources' prefix: a second build under
 * other names (tests/mods/tefiblk) is swapped with this one in tests. */
#ifndef EFIBLK_NAME
#define EFIBLK_NAME "efi-block"
#endif
#ifndef EFIBLK_PREFIX
#define EFIBLK_PREFIX "efi"
#endif

#define EFIBLK_DISKS 16
#define EFIBLK_MAX_TRANSFER (1u << 20)	/* bytes per request */
#define EFIBLK_MAX_SEGS 64
#define EFIBLK_PROPS 256		/* the hub keeps as much */
#define EFIBLK_ERRORS_LOGGED 8		/* per disk; then one line saying so */

/* The provider's part of a request, in req->scratch from submit on
 * until it completes or is handed over. */
struct efiblk_scratch {
	struct block_req *next;		/* in its disk's queue */
	uint32_t disk;			/* index into efb.disk[] */
	uint32_t reserved;
};
_Static_assert(sizeof(struct efiblk_scratch) <= BLOCK_SCRATCH,
    "efiblk_scratch fits the scratch area");

struct efiblk_handed {
	struct block_req *req;		/* NULL: given back already */
	uint32_t disk;
	uint32_t reserved;
};

struct efiblk_disk {
	unsigned fw_index;		/* the firmware's index of the disk */
	struct firmware_disk fw;	/* as disk_info told, path included */
	uint64_t block_count;
	char name[16];			/* "efi0" */
	struct pb_resource *res;
	struct block_req *head, *tail;	/* the queue, oldest first */
	unsigned errors;		/* failed requests, for the log's limit */
};

struct efiblk {
	const struct pb_hub *hub;
	struct pb_module *self;
	struct pb_conn *fw;		/* `firmware` 1.1 */
	struct efiblk_disk disk[EFIBLK_DISKS];
	unsigned ndisks;
	struct pb_work serve;		/* serves one request per run */
	unsigned next;			/* the disk served next (round robin) */
	int quiet;			/* quiesced or in standby: no dispatch */
	int parked;			/* released: the firmware is never called */
	/* What the last export listed: no longer ours (their scratch is
	 * the importer's), but taken back by resume() after a failed swap,
	 * or one by one when the hub gives them back through import. */
	struct efiblk_handed *handed;
	uint32_t nhanded;
};

extern struct efiblk efb;

static inline struct efiblk_scratch *
efiblk_sc(struct block_req *req)
{
	return (struct efiblk_scratch *)(void *)req->scratch;
}

/* disk.c */
int efiblk_disks_probe(void);
int efiblk_geometry_ok(const struct firmware_disk *d, const char **why);
void efiblk_disk_props(const struct efiblk_disk *d, char *buf, size_t cap);
struct efiblk_disk *efiblk_disk_by_path(const char *path);

/* queue.c */
extern const struct block_ops efiblk_block_ops;
int efiblk_check(const struct efiblk_disk *d, const struct block_req *req);
void efiblk_chain(struct block_req **head, struct block_req **tail,
    struct block_req *req, uint32_t disk);
void efiblk_enqueue(struct efiblk_disk *d, struct block_req *req);
void efiblk_push_front(struct efiblk_disk *d, struct block_req *first,
    struct block_req *last);
unsigned efiblk_queued(const struct efiblk_disk *d);
void efiblk_kick(void);
void efiblk_serve(void *arg);
unsigned efiblk_cancel_all(int status);

/* state.c */
int efiblk_export(void *buf, size_t cap, size_t *len, uint32_t *version);
int efiblk_import(const void *buf, size_t len, uint32_t version);
void efiblk_take_back(void);
void efiblk_forget_handed(void);

#endif
