/*
 * match.c - interface, version and property matching (see match.h).
 *
 * Interface names come from descriptors as fixed char arrays; the loader
 * checks they are terminated, but these functions never rely on it.
 * Property strings are walked token by token as (pointer, length) pairs,
 * so nothing is copied and nothing is read past a NUL.
 */
#include "match.h"
#include "../abi/rt/rt.h"

/* Is the name field (size bytes, maybe unterminated) exactly s? */
static int
name_is(const char *field, size_t size, const char *s)
{
	/* s shorter than the field: comparing size bytes includes its NUL. */
	if (!s || !*s || strnlen(s, size) == size)
		return 0;
	return strncmp(field, s, size) == 0;
}

int
iface_serves(const struct pb_provide *p, const char *iface, uint16_t major,
    uint16_t minor)
{
	if (name_is(p->iface, sizeof(p->iface), iface) &&
	    p->major == major && p->minor >= minor)
		return 1;
	/* The base may have the same name at an older major, so it is
	 * checked too.  An empty `extends` means none: name_is never
	 * matches "". */
	return name_is(p->extends, sizeof(p->extends), iface) &&
	    p->ext_major == major && p->ext_minor >= minor;
}

/* One token of a property list: key, and value when it has an `=`. */
struct tok {
	const char *key, *val;
	size_t klen, vlen;
	int has_val;
};

static int
is_sep(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Parse the token at *p, moving *p past it; 0 at the end of the string. */
static int
next_tok(const char **p, struct tok *t)
{
	const char *s = *p;

	while (is_sep(*s))
		s++;
	if (*s == '\0') {
		*p = s;
		return 0;
	}
	t->key = s;
	while (*s && !is_sep(*s) && *s != '=')
		s++;
	t->klen = (size_t)(s - t->key);
	t->has_val = *s == '=';
	if (t->has_val)
		s++;
	t->val = s;
	while (*s && !is_sep(*s))
		s++;
	t->vlen = t->has_val ? (size_t)(s - t->val) : 0;
	*p = s;
	return 1;
}

/* Equal runs of n bytes; neither holds a NUL within n. */
static int
same(const char *a, const char *b, size_t n)
{
	return n == 0 || strncmp(a, b, n) == 0;
}

/* Does prop token u satisfy pattern token t? */
static int
tok_match(const struct tok *t, const struct tok *u)
{
	if (t->klen != u->klen || !same(t->key, u->key, t->klen))
		return 0;
	if (!t->has_val)
		return 1;
	if (t->vlen > 0 && t->val[t->vlen - 1] == '*')
		return u->vlen >= t->vlen - 1 && same(t->val, u->val, t->vlen - 1);
	return u->vlen == t->vlen && same(t->val, u->val, t->vlen);
}

int
props_match(const char *pattern, const char *props)
{
	struct tok t, u;
	const char *p = pattern, *q;
	int found;

	if (!pattern)
		return 1;
	if (!props)
		props = "";
	while (next_tok(&p, &t)) {
		found = 0;
		for (q = props; !found && next_tok(&q, &u); )
			found = tok_match(&t, &u);
		if (!found)
			return 0;
	}
	return 1;
}

const char *
props_get(const char *props, const char *key, char *out, size_t cap)
{
	struct tok u;
	const char *q = props;
	size_t klen, n;

	if (!props || !key || !out || cap == 0)
		return NULL;
	klen = strlen(key);
	for (n = 0; n < klen; n++)
		if (key[n] == '=' || is_sep(key[n]))
			return NULL;
	if (klen == 0)
		return NULL;
	while (next_tok(&q, &u)) {
		if (u.klen != klen || !same(u.key, key, klen))
			continue;
		n = u.vlen < cap - 1 ? u.vlen : cap - 1;
		memcpy(out, u.val, n);
		out[n] = '\0';
		return out;
	}
	return NULL;
}

int
list_has(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; *p; ) {
		while (*p == ' ' || *p == ',')
			p++;
		if (n && strncmp(p, word, n) == 0 &&
		    (p[n] == ' ' || p[n] == ',' || p[n] == '\0'))
			return 1;
		while (*p && *p != ' ' && *p != ',')
			p++;
	}
	return 0;
}
