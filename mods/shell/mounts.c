/*
 * mounts.c - the mount table: every `fs` volume the hub connects the
 * shell to (PB_CARD_ALL, PB_LATER: as volumes come and go), each at a
 * mount point, the first level of the shell's paths.
 *
 * The volume the system booted from is /esp.  The hub names it: boot.cfg's
 * resource `config:boot` carries `boot-path=pci:00:1f.2/sata:0/part:1`,
 * the boot partition's identity spelt as block resources spell their
 * path=, and the volume whose path= is that one is the boot volume.  A hub
 * that does not say falls back to the first volume on an EFI System
 * Partition (its disk= block resource says esp=1).  Every other volume is
 * at its label when that is a usable name no other mount point has (ASCII
 * case aside), else at its disk's name without `block:` (/sata1.p1), with
 * -2, -3... when even that is taken.  A name, once given, stays while the
 * volume does: a swap under it (PB_EV_REBOUND) changes nothing here, and
 * the properties are read afresh whenever they are shown.
 */
#include "files.h"

static struct mount mounts[MAX_MOUNTS];

int
name_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		char x = *a >= 'A' && *a <= 'Z' ? *a + 32 : *a;
		char y = *b >= 'A' && *b <= 'Z' ? *b + 32 : *b;

		if (x != y)
			return 0;
		if (!x)
			return 1;
	}
}

struct mount *
mount_nth(unsigned i)
{
	for (unsigned k = 0; k < MAX_MOUNTS; k++)
		if (mounts[k].conn && mounts[k].name[0] && i-- == 0)
			return &mounts[k];
	return NULL;
}

struct mount *
mount_find(const char *name)
{
	for (unsigned k = 0; k < MAX_MOUNTS; k++)
		if (mounts[k].conn && mounts[k].name[0] &&
		    name_eq(mounts[k].name, name))
			return &mounts[k];
	return NULL;
}

/* The properties of resource `name` now, or "". */
void
res_props(const char *name, char *props, size_t cap)
{
	struct pb_res_info ri;

	props[0] = '\0';
	for (unsigned i = 0; shell_hub->res_info(NULL, i, &ri) == PB_OK; i++)
		if (strcmp(ri.name, name) == 0) {
			rt_strlcpy(props, ri.props ? ri.props : "", cap);
			return;
		}
}

void
mount_props(const struct mount *m, char *props, size_t cap)
{
	res_props(m->conn->res, props, cap);
}

/* A mount point's name: [A-Za-z0-9._-], room for a -N, not . or .. */
static int
usable(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > MOUNT_NAME_MAX - 4 || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
		    *s == '-'))
			return 0;
	return 1;
}

/*
 * The name a new volume gets, from its label, its disk (block:sata1.p1)
 * and its fs resource (fs:sata1.p1), and whether it is the boot volume;
 * the names already given are the table's.
 */
void
mount_name_choose(const char *label, const char *disk, const char *res,
    int boot, char *out, size_t cap)
{
	const char *base;

	if (boot && !mount_find(MOUNT_BOOT)) {
		rt_strlcpy(out, MOUNT_BOOT, cap);
		return;
	}
	if (usable(label) && !name_eq(label, MOUNT_BOOT) && !mount_find(label)) {
		rt_strlcpy(out, label, cap);
		return;
	}
	if (disk[0])
		base = strncmp(disk, "block:", 6) == 0 ? disk + 6 : disk;
	else
		base = strncmp(res, "fs:", 3) == 0 ? res + 3 : res;
	if (!usable(base) || name_eq(base, MOUNT_BOOT))
		base = "vol";
	rt_strlcpy(out, base, cap);
	for (unsigned k = 2; mount_find(out); k++)
		rt_snprintf(out, cap, "%s-%u", base, k);
}

/* Does block resource `disk` stand for an EFI System Partition? */
static int
disk_is_esp(const char *disk)
{
	char props[MOUNT_PROPS], esp[4];

	res_props(disk, props, sizeof(props));
	return rt_prop_get(props, "esp", esp, sizeof(esp)) &&
	    strcmp(esp, "1") == 0;
}

/* Is the volume with these properties the one the system booted from? */
static int
is_boot(const char *props)
{
	char want[FS_PATH_MAX / 4], have[FS_PATH_MAX / 4], disk[64];

	if (pb_setting(shell_hub, "boot-path", want, sizeof(want)))
		return rt_prop_get(props, "path", have, sizeof(have)) &&
		    strcmp(have, want) == 0;
	return !mount_find(MOUNT_BOOT) &&
	    rt_prop_get(props, "disk", disk, sizeof(disk)) &&
	    disk_is_esp(disk);
}

static void
name_mount(struct mount *m)
{
	char props[MOUNT_PROPS], label[MOUNT_NAME_MAX], disk[64];
	char name[MOUNT_NAME_MAX];

	mount_props(m, props, sizeof(props));
	if (!rt_prop_get(props, "label", label, sizeof(label)))
		label[0] = '\0';
	if (!rt_prop_get(props, "disk", disk, sizeof(disk)))
		disk[0] = '\0';
	/* Unnamed meanwhile, so it is not taken for one of the others. */
	mount_name_choose(label, disk, m->conn->res, is_boot(props), name,
	    sizeof(name));
	rt_strlcpy(m->name, name, sizeof(m->name));
	pb_logf(shell_hub, shell_self, PB_LOG_INFO, "%s mounted at /%s",
	    m->conn->res, m->name);
}

static struct mount *
slot_of(const struct pb_conn *c)
{
	for (unsigned k = 0; k < MAX_MOUNTS; k++)
		if (mounts[k].conn == c)
			return &mounts[k];
	return NULL;
}

void
mounts_event(int ev, struct pb_conn *c)
{
	struct mount *m = slot_of(c);

	if (ev == PB_EV_CONNECTED && !m) {
		if (!(m = slot_of(NULL))) {
			pb_logf(shell_hub, shell_self, PB_LOG_WARN,
			    "more than %u volumes: %s is not mounted",
			    MAX_MOUNTS, c->res);
			return;
		}
		m->conn = c;
		m->name[0] = '\0';
		name_mount(m);
	} else if (ev == PB_EV_DISCONNECTED && m) {
		jobs_volume_gone(m);
		pb_logf(shell_hub, shell_self, PB_LOG_INFO, "/%s (%s) is gone",
		    m->name, c->res);
		memset(m, 0, sizeof(*m));
	}
	/* PB_EV_REBOUND: the same volume through another provider. */
}

void
mounts_forget(void)
{
	memset(mounts, 0, sizeof(mounts));
}
