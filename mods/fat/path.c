/*
 * path.c - paths from the volume's root: '/' separators, "." and ".."
 * taken lexically (".." of the root is the root), UTF-8 components.
 *
 * A directory entry that leads back to the root, to the directory that
 * holds it, or outside the volume is corruption (a directory containing
 * itself); deeper cycles cannot trap a walk, which has as many steps as
 * the path has components.
 */
#include "fat.h"

/* Normalise path into w->norm ("a/b/c", "" for the root). */
static int
normalise(const char *path, struct walk *w)
{
	size_t n = 0;

	if (strnlen(path, FS_PATH_MAX) >= FS_PATH_MAX)
		return PB_EINVAL;
	w->norm[0] = '\0';
	while (*path) {
		const char *c = path;
		size_t len;

		while (*path && *path != '/')
			path++;
		len = (size_t)(path - c);
		if (*path == '/')
			path++;
		if (len == 0 || (len == 1 && c[0] == '.'))
			continue;
		if (len == 2 && c[0] == '.' && c[1] == '.') {
			while (n > 0 && w->norm[n - 1] != '/')
				n--;
			if (n > 0)
				n--;
			w->norm[n] = '\0';
			continue;
		}
		if (n + (n > 0) + len >= FS_PATH_MAX)
			return PB_EINVAL;
		if (n > 0)
			w->norm[n++] = '/';
		memcpy(w->norm + n, c, len);
		n += len;
		w->norm[n] = '\0';
	}
	return PB_OK;
}

/* The directory an entry found in `dir` leads to, checked. */
static int
subdir_of(struct fat_vol *v, uint32_t dir, const struct dent *d,
    uint32_t *sub)
{
	uint32_t c = dent_cluster(v, &d->e);

	if (!(d->e.attr & ATTR_DIRECTORY))
		return PB_ENOTDIR;
	if (!fat_valid_cluster(v, c) || c == dir || c == dir_root(v)) {
		vol_corrupt(v, "directory entry leads back to its own "
		    "directory or the root, or outside the volume, in "
		    "directory", dir);
		return PB_ECORRUPT;
	}
	*sub = c;
	return PB_OK;
}

/*
 * Walk path: w->parent is the directory of its last component, w->name
 * that component (nlen 0 for the root), w->found whether it exists (and
 * w->d its entry).  A missing directory on the way is PB_ENOENT.
 */
int
path_walk(struct fat_vol *v, const char *path, struct walk *w)
{
	const char *p;
	uint32_t dir = dir_root(v);
	int r;

	if (!path || (r = normalise(path, w)) != PB_OK)
		return PB_EINVAL;
	w->parent = dir;
	w->nlen = 0;
	w->found = 1;
	for (p = w->norm; *p; ) {
		const char *c = p;
		size_t len;

		while (*p && *p != '/')
			p++;
		len = (size_t)(p - c);
		if (utf8_to_utf16(c, len, w->name, LFN_MAX_UNITS, &w->nlen) !=
		    PB_OK)
			return PB_EINVAL;
		w->parent = dir;
		r = dir_lookup(v, dir, w->name, w->nlen, &w->d);
		if (*p == '/')
			p++;
		if (r == PB_ENOENT && !*p) {
			w->found = 0;
			return PB_OK;
		}
		if (r != PB_OK)
			return r;
		if (!*p)
			return PB_OK;
		if ((r = subdir_of(v, dir, &w->d, &dir)) != PB_OK)
			return r;
	}
	return PB_OK;
}

/* The parent of directory dir (its ".." entry; the root's is itself). */
int
path_parent_of(struct fat_vol *v, uint32_t dir, uint32_t *parent)
{
	struct dir_iter it;
	struct dent *d = &v->scan;
	int r;

	if (dir == dir_root(v)) {
		*parent = dir;
		return PB_OK;
	}
	dir_start(v, &it, dir);
	while ((r = dir_read(v, &it, d, 0)) == PB_OK) {
		uint32_t c;

		if (!dent_is_dot(d) || d->e.name[1] != '.')
			continue;
		c = dent_cluster(v, &d->e);
		*parent = c == 0 ? dir_root(v) : c;
		if (*parent != dir_root(v) && !fat_valid_cluster(v, *parent))
			break;
		return PB_OK;
	}
	if (r == PB_OK || r == PB_ENOENT) {
		vol_corrupt(v, "directory without a valid \"..\" at cluster",
		    dir);
		return PB_ECORRUPT;
	}
	return r;
}
