/*
 * report.c - what changed between two boot reports (see report.h).
 */
#include "report.h"
#include "hidmap.h"

int
report_phantom(const struct hid_boot_report *r)
{
	for (unsigned i = 0; i < HID_BOOT_KEYS; i++)
		if (r->keys[i] == HID_USAGE_ROLLOVER)
			return 1;
	return 0;
}

/* A key usage (not an empty slot or an error code). */
static int
is_key(uint8_t usage)
{
	return usage > HID_USAGE_UNDEFINED;
}

static int
holds(const struct hid_boot_report *r, uint8_t usage)
{
	for (unsigned i = 0; i < HID_BOOT_KEYS; i++)
		if (r->keys[i] == usage)
			return 1;
	return 0;
}

/* Add usage to a list once. */
static void
add(uint8_t *list, unsigned *n, uint8_t usage)
{
	for (unsigned i = 0; i < *n; i++)
		if (list[i] == usage)
			return;
	list[(*n)++] = usage;
}

void
report_diff(const struct hid_boot_report *was,
    const struct hid_boot_report *now, struct report_diff *d)
{
	d->nup = d->ndown = 0;
	for (unsigned i = 0; i < HID_BOOT_KEYS; i++) {
		if (is_key(was->keys[i]) && !holds(now, was->keys[i]))
			add(d->up, &d->nup, was->keys[i]);
		if (is_key(now->keys[i]) && !holds(was, now->keys[i]))
			add(d->down, &d->ndown, now->keys[i]);
	}
	d->mods_down = (uint8_t)(now->mods & ~was->mods);
	d->mods_up = (uint8_t)(was->mods & ~now->mods);
}
