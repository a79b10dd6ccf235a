/*
 * fat.h - the fat module's shared declarations.
 *
 * How the module works (docs/fs.md has the long form):
 *  - One struct fat_vol per mounted volume, each on its own `block`
 *    connection.  A volume runs its jobs (client requests, module-source
 *    reads, its own mount, sync and unmount) one at a time, in order
 *    (run.c), in work items.
 *  - A job is a sequence of steps.  A step runs against the volume's
 *    sector cache (cache.c); when it needs a sector that is not resident
 *    the cache starts fetching it and the step answers FAT_MISS: every
 *    change the step made to the cache is undone (the transaction's undo
 *    log) and the step runs again, from its start, once the fetch is in.
 *    What the step read stays pinned meanwhile, so the re-run finds it.
 *    A step therefore either completes with every sector it touched
 *    resident, or changes nothing: a re-run never repeats half a write.
 *  - Long operations are several steps that each commit (FAT_CONTINUE,
 *    FAT_PENDING): a big write allocates clusters in bounded steps, then
 *    moves the data, then updates the directory entry.
 *  - Large aligned file reads and writes bypass the cache: cluster runs
 *    contiguous on disk go to the client's buffer in one block request
 *    each (io.c), and the cache is kept coherent with them.
 *  - Dirty sectors are written back in order: file data, then the FATs
 *    (every copy), then directories, then FSInfo (wb.c): by FS_SYNC, a
 *    timer (boot.cfg fs-flush=MS), cache pressure and unmount.
 */
#ifndef FAT_FAT_H
#define FAT_FAT_H

#include "../../abi/pbmod.h"
#include "../../abi/block.h"
#include "../../abi/fs.h"
#include "../../abi/modsrc.h"
#include "../../abi/rtc.h"
#include "fatfmt.h"

/* Step results besides PB_OK (done) and errors (< 0, done). */
#define FAT_MISS	1	/* undo, wait for the fetches, run again */
#define FAT_PENDING	2	/* keep, run again after an I/O completes */
#define FAT_CONTINUE	3	/* keep, run the next step now */
#define FAT_PARK	4	/* keep; done once its transfers land: a read
				 * steps aside for the next read */

#define FAT_MAX_VOLS	8
#define FAT_MAX_HANDLES	64	/* per volume */
#define FAT_NIO		8	/* block requests in flight per volume */
#define FAT_IO_SEGS	32	/* segments per block request */
#define FAT_UNDO_MAX	64	/* units one step may change */
#define FAT_ALLOC_STEP	256	/* clusters one step allocates or frees */
#define FAT_DIRECT_MIN	(16u * 1024)	/* bytes worth a direct transfer */
#define FAT_SCRATCH	(64u * 1024)	/* the mount's own read buffer */
#define FAT_UNIT_MAX	4096u	/* bytes of a cache unit, at most */
#define FAT_CHUNK	(32u * 1024)	/* the cache grows by this much */
/* The cache holds metadata and small reads (large aligned reads and writes
 * bypass it): 128 units of 4 KiB, twice what one step may change. */
#define FAT_CACHE_DEFAULT_KIB	512u
#define FAT_CACHE_MIN_KIB	256u
#define FAT_CACHE_MAX_KIB	262144u
#define FAT_FLUSH_DEFAULT_MS	5000u
#define FAT_MODS_MAX	64	/* files the module-source lists */
#define FAT_BAD_KINDS	16	/* kinds of corruption logged per volume */
#define FAT_MODS_DIR	"patchbay/mods"

enum fat_type { FAT12 = 12, FAT16 = 16, FAT32 = 32 };

/* A volume's geometry, from a BPB that passed every check (bpb.c). */
struct fat_geom {
	int type;			/* enum fat_type, by cluster count */
	uint32_t bps;			/* bytes per sector */
	uint32_t spc;			/* sectors per cluster */
	uint32_t cluster_bytes;
	uint32_t nfats;
	uint32_t active_fat;		/* the FAT read */
	int mirror;			/* writes go to every FAT */
	uint32_t fat_start;		/* first sector of FAT 0 */
	uint32_t fat_sectors;		/* per FAT */
	uint32_t root_start;		/* FAT12/16: the fixed root */
	uint32_t root_sectors;
	uint32_t root_entries;
	uint32_t root_cluster;		/* FAT32: the root's first cluster */
	uint32_t data_start;		/* sector of cluster 2 */
	uint32_t total_sectors;
	uint32_t clusters;		/* data clusters: 2 .. clusters+1 */
	uint32_t fsinfo;		/* FSInfo sector, 0: none */
	uint32_t serial;		/* BS_VolID */
	char label[12];			/* BS_VolLab, trailing spaces gone */
};

int bpb_parse(const uint8_t *sec, size_t len, struct fat_geom *g, char *why,
    size_t cap);
const char *fat_type_name(int type);

/* ---- the cache (cache.c) ------------------------------------------- */

enum unit_state { U_FREE = 0, U_LOADING, U_VALID, U_ERROR };

/* Write-back order: a dirty unit carries the latest class written. */
enum wb_class { WB_NONE = 0, WB_DATA = 1, WB_FAT = 2, WB_DIR = 3,
    WB_META = 4 };
#define WB_NCLASS 5

struct unit {
	struct unit *hnext;		/* hash chain */
	struct unit *prev, *next;	/* LRU (or the free list) */
	uint64_t key;
	uint32_t lba;			/* first volume sector held */
	uint16_t nsect;
	uint8_t state;			/* enum unit_state */
	uint8_t dirty;			/* enum wb_class */
	uint32_t pin;			/* == cache.pin_seq: the step's */
	uint32_t tx;			/* == cache.tx_seq: in the undo log */
	int32_t err;			/* U_ERROR: what the read said */
	uint8_t stale;			/* changed in this step: sum again */
	uint64_t sum;			/* rt_sum64 of its place and data,
					 * as the last step left them */
	uint8_t *data;
};

struct undo {
	struct unit *u;
	uint8_t *copy;			/* NULL: the unit was new, drop it */
	uint8_t dirty;			/* its class before */
};

struct cache {
	unsigned nunits;		/* at most, as fs-cache allows */
	struct unit **hash;
	unsigned hmask;
	struct unit lru;		/* sentinel: lru.next is the oldest */
	struct unit freel;		/* sentinel of free units */
	/* Units come a chunk at a time (FAT_CHUNK bytes of data, then the
	 * chunk's struct units), when none is free: the cache holds what
	 * the volume's use has needed so far, up to nunits. */
	uint8_t **chunk;		/* nchunks; the first nbacked allocated */
	unsigned nchunks, nbacked, chunk_units;
	uint32_t unit_bytes;
	uint32_t spu;			/* sectors per unit */
	uint32_t origin;		/* data_start % spu: units tile clusters */
	uint32_t pin_seq;
	uint32_t tx_seq;
	unsigned ndirty;
	unsigned nstale;		/* units changed in the running step */
	unsigned nloading;		/* units being read */
	int no_slot;			/* a get found nothing to evict */
	struct undo undo[FAT_UNDO_MAX];
	unsigned nundo;
	int undo_full;
	/* The undo log's copies, a page of them at a time (undo_per units
	 * a page), allocated when a step first needs that many: a volume
	 * holds what its biggest step changed, not FAT_UNDO_MAX units. */
	uint8_t *undo_page[FAT_UNDO_MAX];
	unsigned undo_per;
};

#define CG_NOPIN	0x1	/* a scan: need not stay for a re-run */
#define CG_NEW		0x2	/* the whole unit is overwritten: no read */
#define CG_NOUNDO	0x4	/* file data, progress of its own: no undo */

struct fat_vol;
int cache_init(struct fat_vol *v, size_t bytes);
void cache_fini(struct fat_vol *v);
int cache_get(struct fat_vol *v, uint32_t sec, uint32_t ra, int flags,
    uint8_t **p);
int cache_resident(struct fat_vol *v, uint32_t sec);
int cache_whole_unit(const struct fat_vol *v, uint32_t sec, uint32_t soff,
    uint64_t left);
int cache_write(struct fat_vol *v, uint32_t sec, int cls, int flags,
    uint8_t **p);
void cache_unpin_all(struct fat_vol *v);
void cache_overlay(struct fat_vol *v, uint32_t sec, uint32_t n, uint8_t *buf);
void cache_update(struct fat_vol *v, uint32_t sec, uint32_t n,
    const uint8_t *buf);
void cache_drop_clean(struct fat_vol *v, uint32_t sec, uint32_t n);
int cache_range_loading(struct fat_vol *v, uint32_t sec, uint32_t n);
unsigned cache_chunk_count(const struct cache *c, unsigned k);
struct unit *cache_chunk_units(const struct cache *c, unsigned k);
void tx_begin(struct fat_vol *v);
void tx_commit(struct fat_vol *v);
void tx_rollback(struct fat_vol *v);
void cache_fetched(struct fat_vol *v, struct unit **u, unsigned n, int err);
void cache_wrote(struct fat_vol *v, struct unit **u, unsigned n, int err);
unsigned cache_collect_dirty(struct fat_vol *v, int cls, struct unit **out,
    unsigned max);

/* ---- the sums that vouch for unwritten units (vouch.c) ------------- */
void unit_stale(struct cache *c, struct unit *u);
void unit_unstale(struct cache *c, struct unit *u);
void cache_seal(struct fat_vol *v);
int cache_each_unwritten(struct fat_vol *v, void (*fn)(struct fat_vol *,
    const struct unit *, const uint8_t *, void *), void *arg);

/* ---- block requests (io.c) ----------------------------------------- */

enum io_kind { IO_FETCH = 1, IO_READ, IO_WRITE, IO_WB, IO_FLUSH };

struct fat_io {
	struct block_req req;
	struct block_seg segs[FAT_IO_SEGS];
	struct unit *units[FAT_IO_SEGS];	/* IO_FETCH, IO_WB */
	unsigned nunits;
	struct fat_vol *vol;
	uint8_t kind;
	uint8_t busy;
	uint8_t *buf;			/* IO_READ: the destination */
	struct fat_job *job;		/* IO_READ, IO_WRITE: whose */
	uint32_t sec, nsect;		/* volume sectors */
};

struct fat_io *io_get(struct fat_vol *v);
int io_submit(struct fat_vol *v, struct fat_io *io, int kind, uint32_t sec,
    uint32_t nsect);
int io_add(struct fat_vol *v, struct fat_io *io, void *va, uint32_t len);
int io_direct_ok(struct fat_vol *v, const void *buf);
uint32_t io_max_sectors(const struct fat_vol *v);
unsigned io_max_segs(const struct fat_vol *v);
int io_flush(struct fat_vol *v);

/* ---- write-back (wb.c) --------------------------------------------- */

struct wb {
	int active;
	int cls;			/* the class being written */
	int err;
	int wrote;			/* a write since the last flush */
	unsigned next, n;		/* position in list */
	struct unit **list;
};

int wb_start(struct fat_vol *v);
int wb_step(struct fat_vol *v);

/* ---- FAT entries and clusters (table.c) ---------------------------- */

/* Where one file's clusters lie, as learned while reading it: runs of
 * clusters contiguous on disk, by their index in the file, sorted.  Any
 * change to a FAT forgets it. */
#define FAT_EXTENTS	128

struct extent {
	uint32_t ci;			/* the file's clusters ci .. ci+len-1 */
	uint32_t c;			/* are the volume's c .. c+len-1 */
	uint32_t len;
};

struct extmap {
	uint32_t first;			/* the file (0: none) */
	unsigned n;
	struct extent e[FAT_EXTENTS];
};

struct fat_meta {			/* what a step's undo restores */
	uint32_t free;			/* free clusters */
	uint32_t next_free;		/* FSInfo's hint */
	int fsinfo_dirty;
};

int fat_get(struct fat_vol *v, uint32_t n, uint32_t *val, int flags);
int fat_set(struct fat_vol *v, uint32_t n, uint32_t val);
int fat_next(struct fat_vol *v, uint32_t c, uint32_t *next);
int fat_valid_cluster(const struct fat_vol *v, uint32_t c);
uint32_t fat_eoc(const struct fat_vol *v);
int fat_alloc(struct fat_vol *v, uint32_t count, uint32_t prev,
    uint32_t *first, uint32_t *last);
int fat_free_chain(struct fat_vol *v, uint32_t c, uint32_t max,
    uint32_t *rest);
int fat_walk(struct fat_vol *v, uint32_t first, uint32_t index,
    uint32_t *c);
int fat_chain_end(struct fat_vol *v, uint32_t first, uint32_t *last,
    uint32_t *len);
int fat_run(struct fat_vol *v, uint32_t c, uint32_t max, uint32_t *n,
    uint32_t *after);
uint32_t clus_sec(const struct fat_vol *v, uint32_t c);

/* ---- names (name.c) ------------------------------------------------ */

int utf8_to_utf16(const char *s, size_t len, uint16_t *out, unsigned cap,
    unsigned *n);
int utf16_to_utf8(const uint16_t *s, unsigned n, char *out, size_t cap,
    size_t *len);
int utf16_valid(const uint16_t *s, unsigned n);
uint8_t lfn_checksum(const uint8_t name[11]);
int name_valid_long(const uint16_t *s, unsigned n);
int name_to_83(const uint16_t *s, unsigned n, uint8_t out[11],
    uint8_t *ntres);
void name_basis(const uint16_t *s, unsigned n, uint8_t basis[11],
    unsigned *baselen);
void name_tail(const uint8_t basis[11], unsigned baselen, unsigned num,
    uint8_t out[11]);
int name_tail_of(const uint8_t basis[11], unsigned baselen,
    const uint8_t name[11]);
unsigned name_83_to_utf16(const uint8_t name[11], uint8_t ntres,
    uint16_t *out);
int name_eq_ci(const uint16_t *a, unsigned an, const uint16_t *b,
    unsigned bn);

/* ---- directories (dir.c) ------------------------------------------- */

/* Where a name lives in its directory. */
struct dloc {
	uint32_t dir;			/* the directory: first cluster, 0 root */
	uint32_t idx;			/* the short entry's index */
	uint32_t clus;			/* its cluster (0: the fixed root) */
	uint32_t lfn_idx;		/* the first long-name entry's index */
	uint32_t lfn_clus;
};

/* A position in a directory. */
struct dir_iter {
	uint32_t dir;			/* first cluster, 0: the fixed root */
	uint32_t idx;			/* entry index */
	uint32_t clus;			/* the cnum-th cluster of the chain */
	uint32_t cnum;
};

/* One entry as read: the short entry and its long name, if valid. */
struct dent {
	struct dirent83 e;
	struct dloc loc;
	uint16_t lfn[LFN_MAX_ENTRIES * LFN_CHARS];
	unsigned lfn_len;		/* 0: none (or not valid) */
};

uint32_t dir_root(const struct fat_vol *v);
void dir_start(struct fat_vol *v, struct dir_iter *it, uint32_t dir);
void dir_at(struct fat_vol *v, struct dir_iter *it, uint32_t dir,
    uint32_t idx, uint32_t clus);
int dir_read(struct fat_vol *v, struct dir_iter *it, struct dent *d,
    int flags);
int dent_is_dot(const struct dent *d);
int dir_lookup(struct fat_vol *v, uint32_t dir, const uint16_t *name,
    unsigned n, struct dent *d);
int dir_create(struct fat_vol *v, uint32_t dir, const uint16_t *name,
    unsigned n, const struct dirent83 *proto, struct dloc *loc);
int dir_remove(struct fat_vol *v, const struct dloc *loc);
int dir_update(struct fat_vol *v, const struct dloc *loc,
    struct dirent83 **e);
int dir_get(struct fat_vol *v, const struct dloc *loc, struct dirent83 *out);
int dir_empty(struct fat_vol *v, uint32_t dir);
int dir_init_cluster(struct fat_vol *v, uint32_t c, uint32_t parent,
    const struct dirent83 *proto);
int dir_label(struct fat_vol *v, char *label, size_t cap);
uint32_t dent_cluster(const struct fat_vol *v, const struct dirent83 *e);
void dent_set_cluster(struct dirent83 *e, uint32_t c);
int dent_name(const struct dent *d, char *out, size_t cap, size_t *len);
#define DR_LABEL 0x1			/* dir_read: return the volume label */
#define DR_NOPIN 0x2			/* dir_read: a scan, pins nothing */

/* ---- paths (path.c) ------------------------------------------------ */

struct walk {
	uint32_t parent;		/* the last component's directory */
	uint16_t name[LFN_MAX_UNITS + 1];
	unsigned nlen;			/* 0: the path is the root */
	int found;
	struct dent d;			/* found: its entry */
	char norm[FS_PATH_MAX];		/* the path, normalised */
};

int path_walk(struct fat_vol *v, const char *path, struct walk *w);
int path_parent_of(struct fat_vol *v, uint32_t dir, uint32_t *parent);

/* ---- nodes: what a handle or an operation works on ------------------ */

struct fat_node {
	uint32_t first;			/* first cluster (0: empty, or root) */
	uint32_t size;
	uint8_t attr;
	uint8_t root;			/* the root directory */
	struct dloc loc;		/* its short entry (not for the root) */
};

struct fat_handle {
	uint32_t id;			/* 0: free */
	uint32_t flags;			/* FS_O_* */
	struct fat_node node;
	uint64_t cursor;
	uint32_t pos_idx;		/* cluster index pos_clus is at */
	uint32_t pos_clus;		/* 0: no position kept */
	uint32_t gen;
	int dead;			/* its file went (import failed) */
	char path[FS_PATH_MAX];
};

/* ---- jobs and the running operation (run.c, ops.c) ------------------ */

enum job_kind { JOB_FS = 1, JOB_MODSRC, JOB_MOUNT, JOB_SYNC, JOB_UNMOUNT,
    JOB_LIST };

/* In a request's scratch, or the volume's own for its jobs. */
struct fat_job {
	struct fat_job *next;
	struct fat_vol *vol;
	uint32_t kind;			/* enum job_kind */
	uint32_t queued;
	void *req;			/* struct fs_req / struct modsrc_req */
	uint16_t inflight;		/* its direct transfers on their way */
	uint8_t parked;			/* done but for them (FAT_PARK) */
	uint8_t reserved;
	int32_t err;			/* the first of them that failed */
};
_Static_assert(sizeof(struct fat_job) <= FS_SCRATCH, "job in fs scratch");
_Static_assert(sizeof(struct fat_job) <= MODSRC_SCRATCH,
    "job in modsrc scratch");

struct fat_op {
	struct fat_job *job;
	int phase;
	int last;			/* the step's last answer */
	int idle_steps;			/* waits with nothing in flight */
	struct fs_req *req;
	struct fat_handle *h;
	struct fat_node node;		/* the file being worked on */
	uint64_t start;			/* bytes: where the transfer began */
	uint64_t pos, end;		/* bytes: progress, and the goal */
	uint64_t zero_end;		/* write: zeros up to here first */
	uint64_t done;			/* mount: a chunk is in */
	uint32_t have;			/* clusters the chain has */
	uint32_t last_clus;		/* and its last */
	int have_known;
	int short_write;		/* cut to fit: PB_ENOSPC at the end */
	uint32_t rest;			/* cluster chain still to free */
	uint32_t count;			/* readdir: entries written */
	uint32_t free;			/* mount: free clusters counted */
	uint32_t pos_idx, pos_clus;	/* chain position of pos */
	int status;
	int wb_started;			/* waits for a write-back it began */
	int marking;			/* putting the dirty flag on the disk */
	int touch_mods;			/* changed something under patchbay/ */
	struct walk w;			/* path lookups */
	struct walk w2;			/* rename's target */
	struct dent d;
	char path[FS_PATH_MAX];		/* modsrc: the file's path */
};

struct modfile {
	char name[MODSRC_NAME_MAX];
	uint32_t size;
};

struct fat_vol {
	int used;
	struct pb_conn *blk;		/* the block connection */
	char disk[FS_RES_MAX];		/* its resource's name */
	char bpath[64];			/* its path= */
	char res_name[FS_RES_MAX];	/* our fs resource's name */
	struct block_info info;
	uint32_t dev_shift;		/* device blocks per sector, log2 */
	struct fat_geom g;
	int probe;			/* a whole disk: quiet if not FAT */
	int ro;				/* read-only mount */
	int was_dirty;			/* not cleanly unmounted before */
	int mounted;			/* the mount job finished */
	int failed;			/* the mount failed, or the disk went */
	int disk_handed;		/* its disk went to the next instance
					 * at a swap's rebind */
	int quiescing;			/* stop at the barrier */
	int quiesced;			/* the unmount before it is done */
	struct fat_job *barrier;	/* the quiesce's unmount job */
	int barrier_passed;
	int wb_result;			/* the last write-back's status */
	unsigned wb_failures;		/* write-backs failed in a row */
	int direct_wrote;		/* direct writes since the last flush */
	int dirty_on_disk;		/* FAT[1] says "not clean" (we set it) */
	int dirty_ours;			/* ... our predecessor set it, which
					 * faulted (state.c) */
	uint8_t *handed;		/* its unwritten runs (struct
					 * fs_state_run, data), for the mount */
	size_t handed_len;
	unsigned nhanded;
	unsigned runs_exported;		/* units in the last state exported */
	const char *bad[FAT_BAD_KINDS];	/* corruption said, once a kind */
	struct pb_resource *res, *mres;
	struct cache c;
	struct wb wb;
	struct fat_io io[FAT_NIO];
	unsigned inflight;		/* block requests in flight */
	struct fat_meta m, m_saved;
	struct extmap ext;		/* the last file read's extents */
	uint32_t free_hint;		/* clusters below it are all in use */
	uint32_t free_recount;		/* ~0, or the free count a scan saw */
	uint32_t alloc_list[FAT_ALLOC_STEP];
	struct fat_job *head, *tail;
	struct fat_op op;
	struct pb_work run_work;
	unsigned parked;		/* read jobs waiting for their data */
	struct fat_job *park_head, *park_tail;	/* they, oldest first */
	struct fat_job job_mount, job_sync, job_unmount, job_list;
	struct fat_handle handles[FAT_MAX_HANDLES];
	uint32_t handle_gen;
	uint8_t *scratch;		/* FAT_SCRATCH bytes, DMA-able */
	uint8_t *zeros;			/* FAT_SCRATCH zero bytes, DMA-able */
	uint32_t tails[(DIR_MAX_ENTRIES + 2 + 31) / 32];	/* alias tails */
	struct dent scan;		/* scans' own entry */
	char label[16];
	uint32_t mods_dir;		/* patchbay/mods' cluster, 0: none */
	struct modfile mods[FAT_MODS_MAX];
	struct modfile mods_new[FAT_MODS_MAX];
	unsigned nmods;
};

/* The module's own state (fat.c). */
struct fat_mod {
	const struct pb_hub *hub;
	struct pb_module *self;
	struct pb_conn *rtc;
	struct fat_vol *vols[FAT_MAX_VOLS];
	size_t cache_bytes;
	uint32_t flush_ms;
	int flush_timer;
	int active;			/* serving (not released) */
	int standby;
	int released;			/* a swap's old side, until resume */
	struct pb_conn *bind;		/* the bind's, before start */
	/* imported handles, re-attached at mount */
	struct fs_state_handle *imp;
	unsigned nimp;
	struct fat_vol *imp_vol[FAT_MAX_VOLS];
};
extern struct fat_mod fm;

#define LOGF(lvl, ...) pb_logf(fm.hub, fm.self, (lvl), __VA_ARGS__)

/* run.c */
void run_kick(struct fat_vol *v);
void run_volume(void *arg);
int job_queue(struct fat_vol *v, struct fat_job *j, int kind, void *req);
void job_push(struct fat_vol *v, struct fat_job *j, int kind, void *req);
void job_fail_all(struct fat_vol *v, int err);
void job_landed(struct fat_vol *v, struct fat_job *j);
void vol_corrupt(struct fat_vol *v, const char *what, uint32_t where);

/* ops.c */
int op_step(struct fat_vol *v);
int fs_submit(void *ctx, struct fs_req *req);
extern const struct fs_ops fat_fs_ops;
int op_statfs(struct fat_vol *v, struct fs_statfs *st);
void node_from_dent(struct fat_node *n, const struct dent *d,
    uint32_t first);
void node_root(struct fat_vol *v, struct fat_node *n);
int walk_node(struct fat_vol *v, struct walk *w, struct fat_node *n);
void handles_update(struct fat_vol *v, const struct fat_node *n);

/* file.c */
int file_read_step(struct fat_vol *v, struct fat_op *o, uint8_t *buf);
int file_write_step(struct fat_vol *v, struct fat_op *o, const uint8_t *buf);
int file_alloc_step(struct fat_vol *v, struct fat_op *o);
int file_truncate_step(struct fat_vol *v, struct fat_op *o, uint64_t size);
int file_free_step(struct fat_vol *v, struct fat_op *o);
int file_entry_step(struct fat_vol *v, struct fat_op *o);

/* mount.c */
int mount_step(struct fat_vol *v, struct fat_op *o);
int sync_step(struct fat_vol *v, struct fat_op *o);
int mark_dirty_step(struct fat_vol *v, struct fat_op *o);
int vol_set_clean(struct fat_vol *v, int clean);

/* vol.c */
struct fat_vol *vol_new(struct pb_conn *c, const char *disk, int probe);
void vol_free(struct fat_vol *v);
void vol_idle(struct fat_vol *v);
int vol_mounted(struct fat_vol *v);
void vol_withdraw(struct fat_vol *v);
void vol_consider(const char *name, struct pb_conn *c);
void vol_scan(void);
void vol_block_event(struct fat_vol *v, int ev);
struct fat_vol *vol_by_conn(struct pb_conn *c);
int res_at(unsigned i, struct pb_res_info *info);
int res_props(const char *name, char *buf, size_t cap);
int vol_name_ok(const char *name);

/* handle.c */
struct fat_handle *handle_new(struct fat_vol *v, uint32_t id);
struct fat_handle *handle_find(struct fat_vol *v, uint32_t id);
void handle_free(struct fat_handle *h);
int handle_busy(struct fat_vol *v, const struct dloc *loc, uint32_t dir);
void handles_rename(struct fat_vol *v, const char *from, const char *to,
    const struct dloc *newloc, const struct dloc *oldloc);

/* time.c */
struct fat_stamp {
	uint16_t date, time;
	uint8_t tenth;
};
void fat_now(struct fat_stamp *s);
void dent_touch(struct dirent83 *e);
void fat_time_decode(uint16_t date, uint16_t time, struct fs_time *t);

/* modsrc.c */
extern const struct modsrc_ops fat_modsrc_ops;
int modsrc_read_step(struct fat_vol *v, struct fat_op *o);
void modsrc_publish(struct fat_vol *v);
int list_step(struct fat_vol *v, struct fat_op *o);
void vol_list_later(struct fat_vol *v);

/* state.c */
int state_export(void *buf, size_t cap, size_t *len, uint32_t *version);
int state_import(const void *buf, size_t len, uint32_t version);
int state_reattach(struct fat_vol *v, struct fat_op *o);
int state_restore(struct fat_vol *v, struct fat_op *o);
void handed_free(struct fat_vol *v);

static inline uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static inline void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

#endif
