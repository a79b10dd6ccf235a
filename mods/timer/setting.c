/*
 * setting.c - a boot.cfg switch for this module: the hub publishes the
 * plain `key=value` lines of boot.cfg as the properties of `config:boot`.
 * The switches exist for bare-metal triage (STYLE.md: a kill switch per
 * quirk), so that a path QEMU cannot exercise can be turned off.
 */
#include "../../abi/pbmod.h"

/* Is `key=no` set in boot.cfg? */
int
setting_off(const struct pb_hub *hub, const char *key)
{
	struct pb_res_info info;
	size_t n = strlen(key);

	for (unsigned i = 0; hub->res_info &&
	    hub->res_info("hub", i, &info) == PB_OK; i++) {
		const char *w = info.props;

		if (strcmp(info.name, "config:boot") != 0)
			continue;
		for (const char *p = w; *p; p++)
			if ((p == w || p[-1] == ' ') && strncmp(p, key, n) == 0 &&
			    strncmp(p + n, "=no", 3) == 0 &&
			    (p[n + 3] == ' ' || p[n + 3] == '\0'))
				return 1;
	}
	return 0;
}
