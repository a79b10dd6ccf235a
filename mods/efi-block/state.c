/*
 * state.c - what efi-block hands over in a swap or at the takeover: a
 * struct block_state (abi/block.h), every disk by its path with the
 * requests queued on it, oldest first.
 *
 * Export hands them over: they leave the queues (their scratch becomes
 * the importer's, so we keep them in `handed`, an array of our own, not
 * in their scratch), and they are not ours to serve or complete any more
 * unless they come back:
 *  - resume() after a failed swap takes back everything still handed;
 *  - import_state() of a request we handed is the hub giving it back
 *    (at the takeover a disk's requests go to its native driver and the
 *    hub gives back those of the other disks);
 * A later export forgets what the earlier one handed: it was taken.
 * Import puts requests before those queued already (they are older), in
 * the order listed; it checks everything before taking anything.
 */
#include "efi-block.h"

#define IMPORT_MAX 4096		/* requests in one state at most */

static size_t
state_size(uint32_t ndisks, uint32_t nreq)
{
	return sizeof(struct block_state) +
	    ndisks * sizeof(struct block_state_disk) +
	    nreq * sizeof(struct block_req *);
}

static uint32_t
queued_total(void)
{
	uint32_t n = 0;

	for (unsigned i = 0; i < efb.ndisks; i++)
		n += efiblk_queued(&efb.disk[i]);
	return n;
}

void
efiblk_forget_handed(void)
{
	if (efb.handed)
		efb.hub->free(efb.self, efb.handed);
	efb.handed = NULL;
	efb.nhanded = 0;
}

/* Fill the state and move every queued request into `handed`. */
static void
hand_over(uint8_t *buf, uint32_t nreq)
{
	struct block_state st = { .ndisks = efb.ndisks, .nreq = nreq };
	uint8_t *ptrs = buf + state_size(efb.ndisks, 0);
	uint32_t k = 0;

	memcpy(buf, &st, sizeof(st));
	for (unsigned i = 0; i < efb.ndisks; i++) {
		struct efiblk_disk *d = &efb.disk[i];
		struct block_state_disk sd = { .first = k };

		rt_strlcpy(sd.path, d->fw.path, sizeof(sd.path));
		for (struct block_req *r = d->head; r; r = efiblk_sc(r)->next) {
			memcpy(ptrs + k * sizeof(r), &r, sizeof(r));
			efb.handed[k++] = (struct efiblk_handed){ r, i, 0 };
		}
		sd.nreq = k - sd.first;
		memcpy(buf + sizeof(st) + i * sizeof(sd), &sd, sizeof(sd));
		d->head = d->tail = NULL;
	}
	efb.nhanded = k;
}

int
efiblk_export(void *buf, size_t cap, size_t *len, uint32_t *version)
{
	uint32_t nreq = queued_total();
	size_t need = state_size(efb.ndisks, nreq);

	*version = BLOCK_STATE_VERSION;
	*len = need;
	if (!buf)
		return PB_OK;
	if (cap < need)
		return PB_EINVAL;
	efiblk_forget_handed();
	if (nreq && !(efb.handed = efb.hub->alloc(efb.self,
	    nreq * sizeof(*efb.handed))))
		return PB_ENOMEM;
	hand_over(buf, nreq);
	return PB_OK;
}

/* resume(): every request still handed comes back, before newer ones. */
void
efiblk_take_back(void)
{
	for (unsigned i = 0; i < efb.ndisks; i++) {
		struct block_req *first = NULL, *last = NULL;

		for (uint32_t k = 0; k < efb.nhanded; k++) {
			struct block_req *r = efb.handed[k].req;

			if (r && efb.handed[k].disk == i)
				efiblk_chain(&first, &last, r, i);
		}
		efiblk_push_front(&efb.disk[i], first, last);
	}
	efiblk_forget_handed();
}

/* The pieces of a state, checked: 0 when it is malformed. */
struct parsed {
	struct block_state st;
	const uint8_t *disks, *ptrs;
};

static int
parse(const void *buf, size_t len, uint32_t version, struct parsed *p)
{
	if (version != BLOCK_STATE_VERSION || !buf ||
	    len < sizeof(p->st))
		return 0;
	memcpy(&p->st, buf, sizeof(p->st));
	if (p->st.ndisks > 256 || p->st.nreq > IMPORT_MAX ||
	    state_size(p->st.ndisks, p->st.nreq) > len)
		return 0;
	p->disks = (const uint8_t *)buf + sizeof(p->st);
	p->ptrs = p->disks + p->st.ndisks * sizeof(struct block_state_disk);
	return 1;
}

static struct block_state_disk
disk_at(const struct parsed *p, uint32_t i)
{
	struct block_state_disk sd;

	memcpy(&sd, p->disks + i * sizeof(sd), sizeof(sd));
	sd.path[sizeof(sd.path) - 1] = '\0';
	return sd;
}

static struct block_req *
req_at(const struct parsed *p, uint32_t k)
{
	struct block_req *r;

	memcpy(&r, p->ptrs + k * sizeof(r), sizeof(r));
	return r;
}

/* Every request listed is one we may take, once, for a disk we have. */
static int
check_state(const struct parsed *p)
{
	for (uint32_t i = 0; i < p->st.ndisks; i++) {
		struct block_state_disk sd = disk_at(p, i);
		struct efiblk_disk *d = efiblk_disk_by_path(sd.path);

		if (sd.first > p->st.nreq || sd.nreq > p->st.nreq - sd.first)
			return PB_ESTATE;
		if (!sd.nreq)
			continue;	/* a disk we lack, with nothing queued */
		if (!d)
			return PB_ENOENT;
		for (uint32_t k = sd.first; k < sd.first + sd.nreq; k++) {
			struct block_req *r = req_at(p, k);

			if (!r || efiblk_check(d, r) != PB_OK)
				return PB_ESTATE;
			for (uint32_t j = 0; j < k; j++)
				if (req_at(p, j) == r)
					return PB_ESTATE;	/* listed twice */
		}
	}
	return PB_OK;
}

/* A request we handed comes back: it is not handed any more. */
static void
unhand(const struct block_req *r)
{
	for (uint32_t k = 0; k < efb.nhanded; k++)
		if (efb.handed[k].req == r)
			efb.handed[k].req = NULL;
}

int
efiblk_import(const void *buf, size_t len, uint32_t version)
{
	struct parsed p;
	int r;

	if (!parse(buf, len, version, &p))
		return PB_ESTATE;
	if ((r = check_state(&p)) != PB_OK)
		return r;
	for (uint32_t i = 0; i < p.st.ndisks; i++) {
		struct block_state_disk sd = disk_at(&p, i);
		struct efiblk_disk *d = efiblk_disk_by_path(sd.path);
		struct block_req *first = NULL, *last = NULL;

		for (uint32_t k = sd.first; k < sd.first + sd.nreq; k++) {
			struct block_req *req = req_at(&p, k);

			unhand(req);
			efiblk_chain(&first, &last, req,
			    (uint32_t)(d - efb.disk));
		}
		if (d)
			efiblk_push_front(d, first, last);
	}
	efiblk_kick();
	return PB_OK;
}
