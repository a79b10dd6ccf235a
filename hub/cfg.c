/*
 * cfg.c - boot settings (see cfg.h).
 */
#include "cfg.h"
#include "../abi/rt/rt.h"

/* The value of the nth line that sets key (the last one's with `last`),
 * into buf; lines are read in place, trimmed of blanks at both ends. */
static const char *
find(const char *cfg, const char *key, unsigned nth, int last, char *buf,
    size_t cap)
{
	const char *p = cfg, *found = NULL;
	size_t klen = strlen(key), n;

	while (*p) {
		const char *s = p, *e;

		while (*p && *p != '\n')
			p++;
		e = p;
		if (*p)
			p++;
		while (*s == ' ' || *s == '\t')
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		/* A comment's `#` never starts a key. */
		if ((size_t)(e - s) < klen || strncmp(s, key, klen) != 0 ||
		    (s + klen < e && s[klen] != '='))
			continue;
		if (!last && nth-- > 0)
			continue;
		s += klen + (s + klen < e);
		n = (size_t)(e - s) < cap - 1 ? (size_t)(e - s) : cap - 1;
		memcpy(buf, s, n);
		buf[n] = '\0';
		found = buf;
		if (!last)
			break;
	}
	return found;
}

const char *
cfg_get(const char *cfg, const char *key, char *buf, size_t cap)
{
	return find(cfg, key, 0, 1, buf, cap);
}

const char *
cfg_get_nth(const char *cfg, const char *key, unsigned n, char *buf,
    size_t cap)
{
	return find(cfg, key, n, 0, buf, cap);
}
