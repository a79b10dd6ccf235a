/*
 * cfg.c - boot settings (see cfg.h).
 */
#include "cfg.h"
#include "../abi/rt/rt.h"

/* Copy line [s, e) trimmed into buf; return its key length. */
static size_t
next_line(const char **p, char *buf, size_t cap)
{
	const char *s = *p, *e = s;
	size_t n;

	while (*e && *e != '\n')
		e++;
	*p = *e ? e + 1 : e;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	n = (size_t)(e - s) < cap - 1 ? (size_t)(e - s) : cap - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (buf[0] == '#')
		buf[0] = '\0';
	for (n = 0; buf[n] && buf[n] != '='; n++)
		;
	return n;
}

static const char *
find(const char *cfg, const char *key, unsigned nth, int last, char *buf,
    size_t cap)
{
	char line[256];
	const char *p = cfg, *found = NULL;
	size_t klen = strlen(key);

	while (*p) {
		size_t n = next_line(&p, line, sizeof(line));

		if (n != klen || strncmp(line, key, klen) != 0)
			continue;
		if (!last && nth-- > 0)
			continue;
		rt_strlcpy(buf, line[n] ? line + n + 1 : "", cap);
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
