/*
 * props.c - a partition's properties, as `res` lists them and bind rules
 * match them:
 *   path=<disk path>/part:N disk=block:sata0 type=<type GUID> uuid=<GUID>
 *   first=<LBA> last=<LBA> size=<bytes> bs=<bytes> [esp=1] [fat=1]
 *   name=<PartitionName>
 * MBR partitions say type=mbr:0x0c and uuid=<disk signature>-<NN> (what
 * Linux calls PARTUUID).  esp=1 marks an EFI System Partition, fat=1 a
 * partition whose type says FAT (a basic data partition on GPT).  The name
 * comes last and is cut, at a character, to fit the hub's 255 bytes.
 */
#include "gpt.h"

const char *
res_short(const char *res)
{
	return strncmp(res, "block:", 6) == 0 ? res + 6 : res;
}

static void
type_text(int kind, const struct part *p, uint32_t disk_sig, char *type,
    char *uuid, int *esp, int *fat)
{
	if (kind == SCAN_GPT) {
		guid_text(p->type, type);
		guid_text(p->uuid, uuid);
		*esp = strcmp(type, GPT_TYPE_ESP) == 0;
		*fat = strcmp(type, GPT_TYPE_BASIC_DATA) == 0;
		return;
	}
	rt_snprintf(type, 37, "mbr:0x%02x", p->mbr_type);
	uuid[0] = '\0';
	if (disk_sig)
		rt_snprintf(uuid, 37, "%08x-%02x", disk_sig, p->num);
	*esp = p->mbr_type == MBR_TYPE_ESP;
	*fat = mbr_type_fat(p->mbr_type);
}

size_t
part_props(char *buf, size_t cap, const char *disk_path, const char *disk_res,
    uint32_t bs, int kind, uint32_t disk_sig, const struct part *p)
{
	char type[37], uuid[37];
	int esp, fat;
	size_t n, room, len;

	type_text(kind, p, disk_sig, type, uuid, &esp, &fat);
	n = (size_t)rt_snprintf(buf, cap, "path=%s/part:%u disk=%s type=%s%s%s "
	    "first=%llu last=%llu size=%llu bs=%u%s%s", disk_path, p->num,
	    disk_res, type, uuid[0] ? " uuid=" : "", uuid,
	    (unsigned long long)p->first, (unsigned long long)p->last,
	    (unsigned long long)(p->last - p->first + 1) * bs, bs,
	    esp ? " esp=1" : "", fat ? " fat=1" : "");
	if (!p->name[0] || n + 7 >= cap)
		return n < cap ? n : cap - 1;
	room = cap - n - 7;		/* " name=" and the NUL */
	len = strlen(p->name);
	if (len > room) {
		len = room;
		while (len && ((uint8_t)p->name[len] & 0xc0) == 0x80)
			len--;		/* not inside a character */
	}
	memcpy(buf + n, " name=", 6);
	memcpy(buf + n + 6, p->name, len);
	buf[n + 6 + len] = '\0';
	return n + 6 + len;
}
