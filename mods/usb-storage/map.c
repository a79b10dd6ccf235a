/*
 * map.c - a block request's buffer as the usb segments of its commands.
 *
 * A request may be larger than one command should move (map_chunk_max)
 * or than the bus takes segments for: it then runs as several commands,
 * each a run of whole blocks of the buffer (queue.c keeps the offset).
 * So usb-storage takes what efi-block took (1 MiB, 64 segments: the
 * requests handed over at the takeover were built for it) whatever the
 * bus's limits.  Segments go by the client's bus addresses when it gave
 * them (the segment is contiguous on the bus), else by hub->dma_addr's
 * runs; every piece must lie at or below the bus's dma_limit.
 */
#include "usbstor.h"

/* Bytes one command moves at most: Linux's usb-storage asks 240 sectors
 * of a stick below SuperSpeed (many fail bigger transfers) and 2048 of a
 * SuperSpeed one; the bus may take less.  Whole blocks; 0 when not even
 * one block fits. */
uint32_t
map_chunk_max(const struct usbstor_dev *d, uint32_t bs)
{
	uint32_t n = d->speed >= USB_SPEED_SUPER ? 2048u * 512 : 240u * 512;

	if (d->max_transfer < n)
		n = d->max_transfer;
	return n - n % bs;
}

/* Piece [off, off + max) of segment s, as far as it is one run on the
 * bus: its bus address and length. */
static int
piece(struct usbstor_dev *d, const struct block_seg *s, size_t off,
    size_t max, uint64_t *bus, size_t *run)
{
	size_t left = s->len - off < max ? s->len - off : max;

	if (s->bus) {
		*bus = s->bus + off;
		*run = left;
	} else if (us.hub->dma_addr(us.self, (const uint8_t *)s->va + off,
	    left, bus, run) != PB_OK || !*run || *run > left) {
		return PB_EINVAL;
	}
	if (*bus + *run - 1 > d->dma_limit || *bus + *run < *bus)
		return PB_EINVAL;	/* beyond what the bus can reach */
	return PB_OK;
}

/* Can every byte of r's buffer be handed to the bus? */
int
map_check(struct usbstor_dev *d, const struct block_req *r)
{
	for (unsigned i = 0; i < r->nseg; i++) {
		const struct block_seg *s = &r->segs[i];
		uint64_t bus;
		size_t run;

		for (size_t off = 0; off < s->len; off += run)
			if (piece(d, s, off, s->len - off, &bus, &run) != PB_OK)
				return PB_EINVAL;
	}
	return PB_OK;
}

/* The last `excess` bytes of c's segments taken off. */
static unsigned
trim(struct bot_cmd *c, unsigned n, uint32_t excess)
{
	while (excess && n) {
		struct usb_seg *last = &c->seg[n - 1];

		if (last->len <= excess) {
			excess -= last->len;
			n--;
		} else {
			last->len -= excess;
			excess = 0;
		}
	}
	return n;
}

/*
 * Bytes [off, off + want) of r's buffer into c's segments, cut back to
 * whole blocks of bs when the bus's segment limit comes first: the bytes
 * mapped (0: not even one block could be).
 */
uint32_t
map_range(struct usbstor_dev *d, const struct block_req *r, uint32_t off,
    uint32_t want, uint32_t bs, struct bot_cmd *c)
{
	unsigned n = 0, nmax = d->max_segs < USBSTOR_SEGS ? d->max_segs :
	    USBSTOR_SEGS;
	uint32_t mapped = 0;
	uint64_t at = 0;	/* where segment i begins in the buffer */

	for (unsigned i = 0; i < r->nseg && mapped < want; at += r->segs[i++].len) {
		const struct block_seg *s = &r->segs[i];
		size_t in;

		if (at + s->len <= off)
			continue;
		for (in = off + mapped - at; in < s->len && mapped < want;) {
			uint64_t bus;
			size_t run;

			if (n == nmax)
				goto cut;
			if (piece(d, s, in, want - mapped, &bus, &run) != PB_OK)
				return 0;
			c->seg[n++] = (struct usb_seg){ (uint8_t *)s->va + in,
			    bus, (uint32_t)run, 0 };
			mapped += (uint32_t)run;
			in += run;
		}
	}
cut:
	n = trim(c, n, mapped % bs);
	mapped -= mapped % bs;
	c->nseg = (uint16_t)n;
	return mapped;
}
