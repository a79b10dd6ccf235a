/*
 * fuzz_match.c - libFuzzer target for property and interface matching
 * (hub/match.c), which reads what module files say: their provides and
 * bind patterns, and the properties resources publish; and for a
 * module's reading of boot.cfg's one-word settings from the properties
 * of config:boot (rt_prop_get, abi/rt/setting.c).
 *
 * The input is up to three NUL-separated strings: a property list, a
 * pattern, and a list of words; its first 64 bytes are also a provide
 * record, whose name fields need not be terminated.  It traps on broken
 * promises: every list matches itself as a pattern; a value props_get
 * finds fits its buffer and, matched as `key=value`, matches; a value
 * rt_prop_get finds fits its buffer and follows `key=` in the list; every
 * item of a word list is found in it.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../hub/match.h"
#include "../../abi/rt/rt.h"

static void
must(int cond)
{
	if (!cond)
		__builtin_trap();
}

/* The n-th NUL-separated string of buf (len bytes, NUL-ended). */
static const char *
part(const char *buf, size_t len, unsigned n)
{
	const char *p = buf;

	while (n-- > 0) {
		p += strlen(p) + 1;
		if (p >= buf + len)
			return "";
	}
	return p;
}

/* What a module reads as its setting `key` follows "key=" in props. */
static void
check_setting(const char *props, const char *key)
{
	char val[256], pat[64 + 1 + 256 + 1];

	if (!rt_prop_get(props, key, val, sizeof(val)))
		return;
	must(strnlen(val, sizeof(val)) < sizeof(val));
	if (strlen(val) < sizeof(val) - 1) {
		strcpy(pat, key);
		strcat(pat, "=");
		strcat(pat, val);
		must(strstr(props, pat) != NULL);
	}
	must(rt_prop_get(props, key, val, 1) && val[0] == '\0');
	must(rt_prop_get(props, key, NULL, 0));
}

/* For each key of props: the value props_get finds matches. */
static void
check_get(const char *props)
{
	char key[64], val[256], pat[64 + 1 + 256 + 1];
	const char *p = props;

	while (*p) {
		size_t k = 0;

		while (*p && strchr(" \t\r\n", *p))
			p++;
		while (*p && !strchr(" \t\r\n=", *p)) {
			if (k < sizeof(key) - 1)
				key[k++] = *p;
			p++;
		}
		key[k] = '\0';
		while (*p && !strchr(" \t\r\n", *p))
			p++;
		if (!k || k == sizeof(key) - 1)
			continue;
		must(props_get(props, key, val, sizeof(val)) == val);
		must(strnlen(val, sizeof(val)) < sizeof(val));
		if (strlen(val) < sizeof(val) - 1) {
			strcpy(pat, key);
			strcat(pat, "=");
			strcat(pat, val);
			must(props_match(pat, props));
		}
		must(props_get(props, key, val, 1) == val && val[0] == '\0');
		check_setting(props, key);
	}
}

/* Every item of list is in it. */
static void
check_list(const char *list)
{
	char word[64];
	const char *p = list;

	while (*p) {
		size_t k = 0;

		while (*p == ' ' || *p == ',')
			p++;
		while (*p && *p != ' ' && *p != ',') {
			if (k < sizeof(word) - 1)
				word[k++] = *p;
			p++;
		}
		word[k] = '\0';
		if (k && k < sizeof(word) - 1)
			must(list_has(list, word));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pb_provide pv;
	const char *props, *pattern, *list;
	char *buf;

	if (!(buf = malloc(size + 1)))
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	props = part(buf, size + 1, 0);
	pattern = part(buf, size + 1, 1);
	list = part(buf, size + 1, 2);
	must(props_match(props, props));
	must(props_match(NULL, props) && props_match("", props));
	(void)props_match(pattern, props);
	check_get(props);
	check_list(list);
	(void)list_has(list, pattern);
	memset(&pv, 0, sizeof(pv));
	memcpy(&pv, data, size < sizeof(pv) ? size : sizeof(pv));
	(void)iface_serves(&pv, pattern, pv.major, pv.minor);
	(void)iface_serves(&pv, props, 1, 0);
	free(buf);
	return 0;
}
