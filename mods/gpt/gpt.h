/*
 * gpt.h - the gpt module's own declarations: disks it reads, partitions
 * it serves, and the requests it passes between them.
 *
 * Every `block` disk the hub connects (requirement 0, every instance) is
 * scanned (scan.h) with reads posted as block requests; each partition
 * found is published as `block:<disk>.p<N>`.  A client's request on a
 * partition is checked, moved by the partition's first LBA and handed to
 * the disk as one of gpt's own requests (a pool per disk, made when the
 * disk is first scanned), since the client's scratch area belongs to the
 * partition (gpt) and the inner request's to the disk.  Requests beyond
 * the pool wait in a FIFO linked through their scratch.  Nothing is
 * allocated per I/O.
 */
#ifndef PB_GPT_GPT_H
#define PB_GPT_GPT_H

#include "../../abi/pbmod.h"
#include "../../abi/block.h"
#include "scan.h"

#define GPT_NAME "gpt"
#define GPT_DISKS 16		/* disks read at once */
#define GPT_PARTS 128		/* partitions served, all disks together */
#define GPT_POOL 32		/* inner requests per disk, at most */
#define GPT_RES_MAX 64		/* a resource's name, as the hub keeps it */
#define GPT_PROPS 256		/* its properties, as the hub keeps them */

enum { REQ_DISK = 0 };		/* the requirement disks come through */

struct gdisk;
struct gpart;

/* A request gpt hands the disk: for a client's request, or a scan read. */
struct ginner {
	struct block_req req;		/* the disk's, from submit to done */
	struct gdisk *disk;
	struct block_req *outer;	/* the client's; NULL: none, or it
					   was given up (the disk went) */
	struct ginner *next_free;
};

/* What gpt keeps in a client's request, in its scratch area. */
struct outer {
	struct block_req *next;		/* the disk's FIFO */
	struct gpart *part;
};
_Static_assert(sizeof(struct outer) <= BLOCK_SCRATCH, "outer in scratch");

static inline struct outer *
outer_of(struct block_req *r)
{
	return (struct outer *)(void *)r->scratch;
}

struct gpart {
	struct gdisk *disk;		/* NULL: the slot is free */
	uint32_t num;
	uint64_t first, nblocks;	/* on the disk */
	struct pb_resource *res;
	char name[GPT_RES_MAX];		/* "sata0.p1" */
	char path[BLOCK_PATH_MAX];
	char props[GPT_PROPS];		/* as published */
};

struct gdisk {
	int used;
	struct pb_conn *conn;		/* NULL once the disk went */
	int by_hand;			/* conn made by gpt (a standby start) */
	char res[GPT_RES_MAX];		/* "block:sata0" */
	char path[BLOCK_PATH_MAX];
	struct block_info info;		/* when last scanned */
	int scanned;			/* partitions follow info */
	int look_again;			/* look when this scan ends */
	int look_held;			/* a look waits for the resume */
	struct pb_work look;		/* look at the disk: scan if changed */

	struct ginner *pool;
	unsigned npool, busy;		/* busy: client requests on the disk */
	struct ginner *free;
	struct block_req *head, *tail;	/* waiting for an inner request */

	/* The scan in progress, reading into buf. */
	struct scan *scan;
	struct ginner io;
	struct block_seg seg;
	int io_busy;
	uint8_t *buf;
	uint64_t buf_bus;
	size_t buf_len;
	uint64_t io_lba;
	uint32_t io_len, io_done;	/* bytes of the read, and done */
};

extern const struct pb_hub *gpt_hub;
extern struct pb_module *gpt_self;
extern struct gdisk gpt_disks[GPT_DISKS];
extern struct gpart gpt_parts[GPT_PARTS];
extern int gpt_quiesced;	/* dispatch and scans stopped (a swap) */
extern int gpt_exported;	/* the waiting requests are the next one's */

#define gpt_log(level, ...) pb_logf(gpt_hub, gpt_self, level, __VA_ARGS__)

/* disk.c */
void disk_connected(struct pb_conn *c, int by_hand);
void disk_gone(struct pb_conn *c);
void disk_rebound(struct pb_conn *c);
void disk_look_soon(struct gdisk *d);
void disk_free_if_idle(struct gdisk *d);
void disk_scan_resume(struct gdisk *d);
struct gdisk *disk_by_res(const char *res);
int res_at(unsigned i, struct pb_res_info *ri);
int disk_props(const char *res, char *props, size_t cap);
int disk_pool(struct gdisk *d);
void disk_forget_all(void);

/* publish.c */
void publish_scan(struct gdisk *d, const struct scan *s);
struct gpart *part_add(struct gdisk *d, const char *name, uint32_t num,
    uint64_t first, uint64_t last, const char *props);
void part_remove(struct gpart *gp);
extern const struct block_ops gpt_part_ops;

/* partio.c */
void io_enqueue(struct gdisk *d, struct block_req *o);
void io_pump(struct gdisk *d);
void io_pump_all(void);
void io_complete(struct block_req *o, int status);
void io_forget(struct gpart *gp, int status);
void io_inner_done(void *arg);
int io_in_flight(void);

/* props.c */
size_t part_props(char *buf, size_t cap, const char *disk_path,
    const char *disk_res, uint32_t bs, int kind, uint32_t disk_sig,
    const struct part *p);
const char *res_short(const char *res);

/* swap.c */
int gpt_quiesce(struct pb_module *m);
int gpt_export(struct pb_module *m, void *buf, size_t cap, size_t *len,
    uint32_t *version);
int gpt_import(struct pb_module *m, const void *buf, size_t len,
    uint32_t version);
int gpt_release(struct pb_module *m);
int gpt_activate(struct pb_module *m);
int gpt_resume(struct pb_module *m);
int gpt_adopt(void);
void swap_forget(void);

#endif
