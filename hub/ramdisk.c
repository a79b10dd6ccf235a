/*
 * ramdisk.c - the boot ramdisk: the module files the stub read, kept in
 * memory, published as the hub's own module-source 1.0 (abi/modsrc.h)
 * and read by the hub itself for `update NAME FILE` (lifecycle.c).
 *
 * A module reaches the ops through the hub's gate (x86_64/svcgate.S):
 * they run in the hub's domain, so the name they read and the outputs
 * they write for the caller are checked as a service's are (argcheck.c).
 * The hub's own reads take ramdisk_file and hand it the hub's memory.
 */
#include "hub.h"
#include "../abi/modsrc.h"
#include "../abi/rt/rt.h"

static const struct handoff *disk;

int
ramdisk_file(const char *name, const void **data, size_t *len)
{
	for (uint32_t i = 0; disk && i < disk->nfiles; i++)
		if (strcmp(disk->files[i].name, name) == 0) {
			if (!disk->files[i].data)
				return PB_EIO;
			*data = disk->files[i].data;
			*len = disk->files[i].size;
			return PB_OK;
		}
	return PB_ENOENT;
}

static int
op_name(void *ctx, unsigned index, char *buf, size_t cap)
{
	(void)ctx;
	if (!hub_out_ok("ramdisk", buf, cap))
		return PB_EFAULT;
	if (index >= disk->nfiles)
		return PB_ENOENT;
	rt_strlcpy(buf, disk->files[index].name, cap);
	return PB_OK;
}

static int
op_read(void *ctx, const char *name, const void **data, size_t *len)
{
	(void)ctx;
	if (!hub_arg_str(name, MODSRC_NAME_MAX))
		return hub_arg_bad(arch_guard_owner(), "ramdisk", "name", name);
	if (!hub_out_ok("ramdisk", data, sizeof(*data)) ||
	    !hub_out_ok("ramdisk", len, sizeof(*len)))
		return PB_EFAULT;
	return ramdisk_file(name, data, len);
}

static const struct modsrc_ops ramdisk_ops = {
	.name = op_name,
	.read = op_read,
};

/* Every file is registered as a module the resolver may choose, and the
 * ramdisk is published for the modules that read module files. */
void
ramdisk_publish(const struct handoff *h)
{
	char path[96], props[64];

	disk = h;
	for (uint32_t i = 0; i < h->nfiles; i++) {
		const struct handoff_file *f = &h->files[i];

		rt_snprintf(path, sizeof(path), "\\patchbay\\mods\\%s", f->name);
		mod_register(path, f->data, f->size);
	}
	rt_snprintf(props, sizeof(props), "files=%u source=esp", h->nfiles);
	res_publish_own(MODSRC_IFACE, 1, RAMDISK_NAME, props, &ramdisk_ops,
	    NULL);
}
