/*
 * match.h - interface, version and property matching, shared by the
 * resolver, the resource table and bind rules.
 *
 * Versions (abi/pb.h): a provider of `x M.m` serves a client asking for
 * `x M.n` when n <= m; majors must be equal.  A provide may also extend a
 * base interface (`block-part 1.0 extends block 1.2`, or a new major that
 * still serves old clients, `display 2.0 extends display 1.3`): it then
 * serves clients of the base at the base's version too.
 *
 * Properties are space-separated `key=value` tokens ("class=01.06.01
 * size=67108864").  A pattern is a list of the same form; a pattern value
 * ending in `*` matches any value starting with what precedes the `*`.
 * Keys compare whole: `cl=x` never matches `class=x`.  A token without `=`
 * is a bare key: in a pattern it asks only that the key be present, in
 * properties it reads as the key with an empty value.  Runs of spaces or
 * tabs separate tokens; nothing is read past a string's NUL.
 */
#ifndef PB_HUB_MATCH_H
#define PB_HUB_MATCH_H

#include <stddef.h>
#include <stdint.h>
#include "../abi/pb.h"

/* Does provide p serve a client of `iface major.minor`? */
int iface_serves(const struct pb_provide *p, const char *iface,
    uint16_t major, uint16_t minor);

/* Does every pair of pattern appear in props?  NULL or "" matches all. */
int props_match(const char *pattern, const char *props);

/*
 * The value of the first `key` token of props, copied into out (cap bytes,
 * truncated, always terminated); "" for a bare key.  NULL when the key is
 * absent, or key is empty or holds '=' or a space, or cap is 0.
 */
const char *props_get(const char *props, const char *key, char *out,
    size_t cap);

/* Is `word` one of the items of `list`, separated by spaces and/or
 * commas?  ("console keyboard", "tos, shell") */
int list_has(const char *list, const char *word);

#endif
