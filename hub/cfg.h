/*
 * cfg.h - boot settings: `key=value` lines from boot.cfg, then from the
 * firmware's load options (the stub joins them).  The last value of a key
 * wins; `#` starts a comment.  Keys the hub knows:
 *   target=IFACE     what to boot to (default `os`)
 *   takeover=no      stay in the firmware phase (no ExitBootServices)
 *   takeover=force   take over even if no keyboard or screen would serve
 *   isolate=no       no protection domains, no gated connections (domain.c)
 *   poweroff         power off once booted (for tests)
 *   exec=COMMAND     run a hub command once booted (repeatable, in order)
 *   reboot=acpi      reset through the FADT's reset register before the
 *                    firmware's ResetSystem, not after it (reset.c)
 *   font-scale=N     passed to console modules as a resource property
 *   disk-wait=MS     how long a firmware disk parked at the takeover waits
 *                    for its native driver (default 10000)
 *   kbd-wait=MS      how long the firmware keyboard's keys wait for a
 *                    native keyboard when none took them at the takeover
 *                    (default 10000)
 */
#ifndef PB_HUB_CFG_H
#define PB_HUB_CFG_H

#include <stddef.h>

/* The value of `key`, "" for a bare key, NULL when absent. */
const char *cfg_get(const char *cfg, const char *key, char *buf, size_t cap);
/* The n-th value of a repeatable key, NULL past the last. */
const char *cfg_get_nth(const char *cfg, const char *key, unsigned n,
    char *buf, size_t cap);

#endif
