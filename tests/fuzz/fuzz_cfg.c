/*
 * fuzz_cfg.c - libFuzzer target for the boot settings (hub/cfg.c), which
 * read boot.cfg and the firmware's load options as the user wrote them.
 *
 * The first byte picks the buffer size (1 to 64 bytes), the rest is the
 * settings text.  For a few keys the hub asks and one taken from the
 * text, it traps on broken promises: a value fits its buffer, terminated,
 * holds no line break, and is (when not cut) the text after the key on
 * some line; cfg_get gives the last of the values cfg_get_nth counts.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../hub/cfg.h"

#define MAX_NTH 512

static void
must(int cond)
{
	if (!cond)
		__builtin_trap();
}

/* Check one value found for key in cfg. */
static void
check_value(const char *cfg, const char *v, const char *buf, size_t cap)
{
	size_t n;

	if (!v)
		return;
	must(v == buf);
	n = strnlen(buf, cap);
	must(n < cap);
	must(!strchr(buf, '\n'));
	/* Cut values are a prefix of what the line said. */
	must(strstr(cfg, buf) != NULL);
}

static void
check_key(const char *cfg, const char *key, size_t cap)
{
	char last[64], nth[64], prev[64];
	const char *v;
	unsigned n = 0;

	v = cfg_get(cfg, key, last, cap);
	check_value(cfg, v, last, cap);
	prev[0] = '\0';
	for (; n < MAX_NTH; n++) {
		const char *w = cfg_get_nth(cfg, key, n, nth, cap);

		if (!w)
			break;
		check_value(cfg, w, nth, cap);
		memcpy(prev, nth, cap);
	}
	/* Found by one means, found by the other, the last the same. */
	must(!v == !n);
	if (v && n < MAX_NTH)
		must(strcmp(prev, last) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *keys[] = { "target", "takeover", "exec", "isolate",
	    "poweroff", "font-scale", "x" };
	char key[32];
	size_t cap, k = 0;
	char *cfg;

	if (size < 1)
		return 0;
	cap = 1 + data[0] % 64;
	if (!(cfg = malloc(size)))
		return 0;
	memcpy(cfg, data + 1, size - 1);
	cfg[size - 1] = '\0';
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		check_key(cfg, keys[i], cap);
	/* A key as the text spells one: up to its `=` or a blank. */
	while (k < sizeof(key) - 1 && cfg[k] && !strchr("= \t\r\n", cfg[k])) {
		key[k] = cfg[k];
		k++;
	}
	key[k] = '\0';
	if (k)
		check_key(cfg, key, cap);
	free(cfg);
	return 0;
}
