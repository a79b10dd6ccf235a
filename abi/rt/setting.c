/*
 * setting.c - a module's boot.cfg settings.  The hub publishes the plain
 * one-word `key=value` lines of boot.cfg as the properties of its resource
 * `config:boot`; a module reads its own from there (font-scale=2,
 * x2apic=no, hpet=no...).  Kill switches exist for bare-metal triage, so a
 * path QEMU cannot exercise can be turned off on a real machine.
 */
#include "../pbmod.h"

/* The value of `key` in a "k=v k=v" property line, into buf. */
int
rt_prop_get(const char *props, const char *key, char *buf, size_t cap)
{
	size_t n = strlen(key), len;

	for (const char *p = props; *p; p++) {
		if ((p != props && p[-1] != ' ') || strncmp(p, key, n) != 0 ||
		    p[n] != '=')
			continue;
		p += n + 1;
		for (len = 0; p[len] && p[len] != ' '; len++)
			;
		if (cap) {
			if (len >= cap)
				len = cap - 1;
			memcpy(buf, p, len);
			buf[len] = '\0';
		}
		return 1;
	}
	return 0;
}

/* boot.cfg's value for key: 1 and the value in buf, or 0 when unset. */
int
pb_setting(const struct pb_hub *hub, const char *key, char *buf, size_t cap)
{
	struct pb_res_info info;

	for (unsigned i = 0; hub->res_info &&
	    hub->res_info("hub", i, &info) == PB_OK; i++)
		if (strcmp(info.name, "config:boot") == 0)
			return rt_prop_get(info.props, key, buf, cap);
	return 0;
}

/* Is `key=no` set in boot.cfg? */
int
pb_setting_off(const struct pb_hub *hub, const char *key)
{
	char v[8];

	return pb_setting(hub, key, v, sizeof(v)) && strcmp(v, "no") == 0;
}
