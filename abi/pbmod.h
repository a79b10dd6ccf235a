/*
 * pbmod.h - conveniences for module authors, on top of pb.h.
 *
 * A module keeps the `self` and `hub` pointers start() receives; these
 * helpers take them explicitly so the header defines no variables.
 */
#ifndef PB_ABI_PBMOD_H
#define PB_ABI_PBMOD_H

#include "pb.h"
#include "rt/rt.h"

/* printf-style logging through the hub (one line, no newline needed). */
static inline void __attribute__((format(printf, 4, 5)))
pb_logf(const struct pb_hub *hub, struct pb_module *self, int level,
    const char *fmt, ...)
{
	char line[160];
	va_list ap;

	va_start(ap, fmt);
	rt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	hub->log(self, level, line);
}

/* boot.cfg settings (abi/rt/setting.c). */
int pb_setting(const struct pb_hub *hub, const char *key, char *buf,
    size_t cap);
int pb_setting_off(const struct pb_hub *hub, const char *key);

/* The inventory as text (abi/rt/inventory.c): the listing `what` (mods,
 * res, deps, irqs, mem) through out, one line a call; a failure is one
 * line beginning "error: ".  PB_EINVAL when `what` is no listing. */
int pb_inventory(const struct pb_hub *hub, const char *what, pb_line_fn out,
    void *arg);

/* The module found its own memory inconsistent (a value no input can
 * give: not its device's answer, not its medium's data, which it checks
 * and refuses): fault now, as a bug would, so the hub stops it and starts
 * it again from its image (hub/recover.c) instead of it going on with
 * state gone bad.  Say why in a log line first. */
#define PB_SELF_CORRUPT() __builtin_trap()

#endif
