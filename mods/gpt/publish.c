/*
 * publish.c - a scan's partitions as `block` resources.  A scan of a disk
 * read before (its medium changed, or another provider serves it) keeps
 * the partitions that are the same, property for property, so their
 * clients notice nothing; the others are withdrawn and the new ones
 * published.
 */
#include "gpt.h"

struct gpart gpt_parts[GPT_PARTS];

/* Publish partition num of d as block:NAME (by default <disk>.p<num>). */
struct gpart *
part_add(struct gdisk *d, const char *name, uint32_t num, uint64_t first,
    uint64_t last, const char *props)
{
	struct gpart *gp;

	for (gp = gpt_parts; gp < gpt_parts + GPT_PARTS && gp->disk; gp++)
		;
	if (gp == gpt_parts + GPT_PARTS) {
		gpt_log(PB_LOG_WARN, "%s: partition %u: more than %u "
		    "partitions in all; not published", d->res, num, GPT_PARTS);
		return NULL;
	}
	memset(gp, 0, sizeof(*gp));
	gp->disk = d;
	gp->num = num;
	gp->first = first;
	gp->nblocks = last - first + 1;
	if (name)
		rt_strlcpy(gp->name, name, sizeof(gp->name));
	else
		rt_snprintf(gp->name, sizeof(gp->name), "%s.p%u",
		    res_short(d->res), num);
	rt_snprintf(gp->path, sizeof(gp->path), "%s/part:%u", d->path, num);
	rt_strlcpy(gp->props, props, sizeof(gp->props));
	gp->res = gpt_hub->publish(gpt_self, BLOCK_IFACE, gp->name, gp->props,
	    &gpt_part_ops, gp);
	if (!gp->res) {
		gpt_log(PB_LOG_ERR, "%s: block:%s cannot be published", d->res,
		    gp->name);
		memset(gp, 0, sizeof(*gp));
		return NULL;
	}
	return gp;
}

/* Withdraw a partition; its requests end with PB_ECANCELED (or, once they
 * were handed to the next gpt in a swap, are only let go). */
void
part_remove(struct gpart *gp)
{
	if (gp->res)
		gpt_hub->withdraw(gpt_self, gp->res);
	io_forget(gp, gpt_exported ? 0 : PB_ECANCELED);
	memset(gp, 0, sizeof(*gp));
}

void
publish_scan(struct gdisk *d, const struct scan *s)
{
	static uint8_t kept_old[GPT_PARTS];
	uint8_t kept_new[PART_MAX] = { 0 };
	char props[GPT_PROPS];
	unsigned nparts = s->kind == SCAN_NONE ? 0 : s->nparts;

	memset(kept_old, 0, sizeof(kept_old));
	for (unsigned k = 0; k < nparts; k++) {
		part_props(props, sizeof(props), d->path, d->res, s->bs,
		    s->kind, s->disk_sig, &s->parts[k]);
		for (unsigned i = 0; i < GPT_PARTS; i++)
			if (gpt_parts[i].disk == d && !kept_old[i] &&
			    gpt_parts[i].num == s->parts[k].num &&
			    strcmp(gpt_parts[i].props, props) == 0) {
				kept_old[i] = kept_new[k] = 1;
				break;
			}
	}
	for (unsigned i = 0; i < GPT_PARTS; i++)
		if (gpt_parts[i].disk == d && !kept_old[i])
			part_remove(&gpt_parts[i]);
	for (unsigned k = 0; k < nparts; k++) {
		const struct part *p = &s->parts[k];

		if (kept_new[k])
			continue;
		part_props(props, sizeof(props), d->path, d->res, s->bs,
		    s->kind, s->disk_sig, p);
		part_add(d, NULL, p->num, p->first, p->last, props);
	}
}
