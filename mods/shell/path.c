/*
 * path.c - the shell's paths: one tree whose first level is the mount
 * points (/esp, /DATA), each a volume's root.
 *
 * A path is made absolute against the current directory and tidied
 * lexically, without asking any volume: repeated slashes fold, "." goes,
 * ".." takes the component before it away (and stays at the root when
 * there is none).  So /esp/a/../b is /esp/b even when a does not exist,
 * which is what a file system without links (FAT) means anyway.  Pure C,
 * host-tested.
 */
#include "files.h"

/* Append the components of p to out (length *n, at least "/"). */
static int
push(char *out, size_t *n, size_t cap, const char *p)
{
	while (*p) {
		const char *e;
		size_t len;

		while (*p == '/')
			p++;
		for (e = p; *e && *e != '/'; e++)
			;
		len = (size_t)(e - p);
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			while (*n > 1 && out[*n - 1] != '/')
				(*n)--;
			if (*n > 1)
				(*n)--;		/* the slash before it */
		} else if (len && !(len == 1 && p[0] == '.')) {
			if (*n + (*n > 1) + len + 1 > cap)
				return PB_EINVAL;
			if (*n > 1)
				out[(*n)++] = '/';
			memcpy(out + *n, p, len);
			*n += len;
		}
		p = e;
	}
	return PB_OK;
}

/*
 * `arg` made absolute against `cwd` (itself absolute) and tidied, into
 * out: "/", "/esp", "/esp/a/b".  PB_EINVAL when it does not fit in cap
 * bytes, PB_ENOENT for an empty argument.
 */
int
path_resolve(const char *cwd, const char *arg, char *out, size_t cap)
{
	size_t n = 1;
	int r = PB_OK;

	if (cap < 2)
		return PB_EINVAL;
	if (!arg[0])
		return PB_ENOENT;
	out[0] = '/';
	if (arg[0] != '/')
		r = push(out, &n, cap, cwd);
	if (r == PB_OK)
		r = push(out, &n, cap, arg);
	out[n] = '\0';
	return r;
}

/*
 * An absolute, tidied path cut into its mount point's name and the rest,
 * the path on that volume: "/esp/a/b" is "esp" and "a/b"; "/esp" is "esp"
 * and ""; "/" is "" and "".  PB_ENOENT when the name does not fit in
 * cap bytes (no mount point is that long).
 */
int
path_split(const char *abs, char *mnt, size_t cap, const char **rest)
{
	const char *p = abs[0] == '/' ? abs + 1 : abs;
	const char *e = strchr(p, '/');
	size_t len = e ? (size_t)(e - p) : strlen(p);

	if (len >= cap)
		return PB_ENOENT;
	memcpy(mnt, p, len);
	mnt[len] = '\0';
	*rest = e ? e + 1 : p + len;
	return PB_OK;
}

/* The last component: "b" of "/esp/a/b", "" of "/". */
const char *
path_base(const char *abs)
{
	const char *s = abs;

	for (const char *p = abs; *p; p++)
		if (*p == '/')
			s = p + 1;
	return s;
}

/* dir + "/" + name into out; PB_EINVAL when it does not fit. */
int
path_join(const char *dir, const char *name, char *out, size_t cap)
{
	int n = rt_snprintf(out, cap, "%s%s%s", dir,
	    dir[0] && dir[strlen(dir) - 1] != '/' ? "/" : "", name);

	return n < 0 || (size_t)n >= cap ? PB_EINVAL : PB_OK;
}
