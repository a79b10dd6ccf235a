/*
 * disk.c - the firmware's whole disks (abi/firmware.h 1.1): each one with
 * a geometry we can serve becomes a `block` resource, block:efiN, with the
 * properties abi/block.h lists; the rest are skipped with one log line.
 */
#include "efi-block.h"

#define PROBE_MAX 64		/* firmware disk indices asked at most */
#define BLOCK_SIZE_MIN 512
#define BLOCK_SIZE_MAX 65536

/* Can we serve a disk of this geometry?  If not, *why says why. */
int
efiblk_geometry_ok(const struct firmware_disk *d, const char **why)
{
	uint32_t bs = d->block_size;

	if (!d->media_present)
		*why = "no medium";
	else if (bs < BLOCK_SIZE_MIN || bs > BLOCK_SIZE_MAX || (bs & (bs - 1)))
		*why = "its block size is not a power of two from 512 to 64 KiB";
	else if (d->last_block == ~0ull)
		*why = "it has 0 blocks";	/* last_block + 1 wraps */
	else if (d->last_block >= ~0ull / bs)
		*why = "its size does not fit 64 bits";
	else if (d->io_align > 1 && (d->io_align & (d->io_align - 1)))
		*why = "its buffer alignment is not a power of two";
	else
		return 1;
	return 0;
}

struct efiblk_disk *
efiblk_disk_by_path(const char *path)
{
	for (unsigned i = 0; i < efb.ndisks; i++)
		if (strcmp(efb.disk[i].fw.path, path) == 0)
			return &efb.disk[i];
	return NULL;
}

/* "key=value" after what buf holds, the value's spaces made '_':
 * properties are words. */
static size_t
prop(char *buf, size_t cap, size_t n, const char *key, const char *value)
{
	if (!value[0] || n >= cap)
		return n;
	n += (size_t)rt_snprintf(buf + n, cap - n, "%s%s=", n ? " " : "", key);
	for (const char *p = value; *p && n + 1 < cap; p++)
		buf[n++] = *p == ' ' ? '_' : *p;
	if (n < cap)
		buf[n] = '\0';
	return n;
}

void
efiblk_disk_props(const struct efiblk_disk *d, char *buf, size_t cap)
{
	size_t n;

	n = prop(buf, cap, 0, "path", d->fw.path);
	n += (size_t)rt_snprintf(buf + n, n < cap ? cap - n : 0,
	    " size=%llu bs=%u ro=%u rm=%u",
	    (unsigned long long)(d->block_count * d->fw.block_size),
	    d->fw.block_size, d->fw.read_only ? 1 : 0,
	    d->fw.removable ? 1 : 0);
	n = prop(buf, cap, n, "model", d->fw.model);
	prop(buf, cap, n, "serial", d->fw.serial);
}

/* Disk `index` as the firmware tells it: 1 when it is ours to serve. */
static int
probe_one(unsigned index, struct efiblk_disk *d, int *end)
{
	const char *why;
	int r;

	memset(d, 0, sizeof(*d));
	d->fw.size = sizeof(d->fw);
	r = PB_CALL(efb.fw, firmware_ops, disk_info, index, &d->fw);
	*end = r == PB_ENOENT;
	if (r != PB_OK) {
		if (!*end)
			pb_logf(efb.hub, efb.self, PB_LOG_ERR, "firmware disk %u: "
			    "the firmware cannot describe it (%d)", index, r);
		return 0;
	}
	d->fw.path[sizeof(d->fw.path) - 1] = '\0';
	d->fw.model[sizeof(d->fw.model) - 1] = '\0';
	d->fw.serial[sizeof(d->fw.serial) - 1] = '\0';
	if (d->fw.size < sizeof(d->fw)) {
		why = "the firmware describes it in a shorter form";
	} else if (efiblk_geometry_ok(&d->fw, &why)) {
		if (!efiblk_disk_by_path(d->fw.path)) {
			d->fw_index = index;
			d->block_count = d->fw.last_block + 1;
			return 1;
		}
		why = "another disk has its path";
	}
	pb_logf(efb.hub, efb.self, PB_LOG_INFO, "firmware disk %u (%s): "
	    "skipped: %s", index, d->fw.path, why);
	return 0;
}

/* Ask the firmware for its disks and publish the ones we serve:
 * how many, or PB_ENOMEM when a publish failed. */
int
efiblk_disks_probe(void)
{
	char props[EFIBLK_PROPS];
	int end = 0;

	for (unsigned i = 0; i < PROBE_MAX && !end &&
	    efb.ndisks < EFIBLK_DISKS; i++) {
		struct efiblk_disk *d = &efb.disk[efb.ndisks];

		if (!probe_one(i, d, &end))
			continue;
		rt_snprintf(d->name, sizeof(d->name), "%s%u", EFIBLK_PREFIX,
		    efb.ndisks);
		efb.ndisks++;
	}
	for (unsigned i = 0; i < efb.ndisks; i++) {
		struct efiblk_disk *d = &efb.disk[i];

		efiblk_disk_props(d, props, sizeof(props));
		d->res = efb.hub->publish(efb.self, BLOCK_IFACE, d->name, props,
		    &efiblk_block_ops, d);
		if (!d->res)
			return PB_ENOMEM;
	}
	return (int)efb.ndisks;
}
