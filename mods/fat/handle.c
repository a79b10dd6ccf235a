/*
 * handle.c - a volume's open handles.  A handle's number is its slot
 * (low 8 bits, from 1) and a generation, so a number kept after a close
 * is refused rather than taken for the next file opened there.  Numbers
 * come back unchanged from a swap's state (state.c).
 */
#include "fat.h"

struct fat_handle *
handle_new(struct fat_vol *v, uint32_t id)
{
	unsigned slot;

	if (id) {
		slot = (id & 0xff) - 1;
		if (slot >= FAT_MAX_HANDLES || v->handles[slot].id)
			return NULL;
	} else {
		for (slot = 0; slot < FAT_MAX_HANDLES; slot++)
			if (!v->handles[slot].id)
				break;
		if (slot == FAT_MAX_HANDLES)
			return NULL;
		if (++v->handle_gen > 0xFFFFFF)
			v->handle_gen = 1;
		id = v->handle_gen << 8 | (slot + 1);
	}
	memset(&v->handles[slot], 0, sizeof(v->handles[slot]));
	v->handles[slot].id = id;
	return &v->handles[slot];
}

struct fat_handle *
handle_find(struct fat_vol *v, uint32_t id)
{
	unsigned slot = (id & 0xff) - 1;

	if (id == 0 || slot >= FAT_MAX_HANDLES || v->handles[slot].id != id)
		return NULL;
	return &v->handles[slot];
}

void
handle_free(struct fat_handle *h)
{
	memset(h, 0, sizeof(*h));
}

/* Is an entry (or the directory `dir`, ~0 for none) open? */
int
handle_busy(struct fat_vol *v, const struct dloc *loc, uint32_t dir)
{
	for (unsigned i = 0; i < FAT_MAX_HANDLES; i++) {
		const struct fat_handle *h = &v->handles[i];

		if (!h->id || h->node.root)
			continue;
		if ((h->node.loc.dir == loc->dir && h->node.loc.idx ==
		    loc->idx) || (dir != ~0u && h->node.first == dir &&
		    (h->node.attr & ATTR_DIRECTORY)))
			return 1;
	}
	return 0;
}

/* A rename: handles on the entry move with it, and every path under
 * `from` becomes the same path under `to`. */
void
handles_rename(struct fat_vol *v, const char *from, const char *to,
    const struct dloc *newloc, const struct dloc *oldloc)
{
	size_t n = strlen(from);
	char tail[FS_PATH_MAX];

	for (unsigned i = 0; i < FAT_MAX_HANDLES; i++) {
		struct fat_handle *h = &v->handles[i];

		if (!h->id || h->node.root)
			continue;
		if (h->node.loc.dir == oldloc->dir &&
		    h->node.loc.idx == oldloc->idx)
			h->node.loc = *newloc;
		if (strncmp(h->path, from, n) != 0 ||
		    (h->path[n] != '\0' && h->path[n] != '/'))
			continue;
		rt_strlcpy(tail, h->path + n, sizeof(tail));
		rt_snprintf(h->path, sizeof(h->path), "%s%s", to, tail);
	}
}
