/*
 * identify.c - what a controller says of itself, checked before it is
 * believed: Identify Controller (§5.15.2.1, CNS 01h), the active
 * namespace ID list (CNS 02h) and Identify Namespace (§5.15.2.2, CNS
 * 00h), turned into `struct nvme_ident` and `struct nvme_geom`, and the
 * resource's property line (abi/block.h).  Pure functions of the bytes:
 * no hardware, so tests/fuzz/fuzzmod_nvme.c can feed them anything.
 *
 * A claim that cannot be true is declined with the reason: no
 * namespaces, queue entry sizes that exclude 64/16 bytes, a format index
 * beyond the formats, a block size outside 512..4096 or larger than one
 * command moves, a size that overflows 64 bits in bytes.  A format with
 * metadata (LBAF.MS != 0) is declined: the driver moves no metadata.
 */
#include "nvme.h"

static uint32_t
le16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t
le32(const uint8_t *p)
{
	return le16(p) | le16(p + 2) << 16;
}

static uint64_t
le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* An ASCII field (§1.5: space padded), trimmed; characters a property
 * value cannot hold (space, '=', controls, non-ASCII) become '_'. */
static void
ascii_field(char *dst, size_t cap, const uint8_t *src, size_t len)
{
	size_t a = 0, b = len, n = 0;

	while (a < b && (src[a] == ' ' || src[a] == '\0'))
		a++;
	while (b > a && (src[b - 1] == ' ' || src[b - 1] == '\0'))
		b--;
	for (size_t i = a; i < b && n + 1 < cap; i++) {
		uint8_t ch = src[i];

		dst[n++] = ch > ' ' && ch < 0x7f && ch != '=' ? (char)ch : '_';
	}
	dst[n] = '\0';
}

static int
refuse(const char **why, const char *reason, int err)
{
	*why = reason;
	return err;
}

/* Bytes one command moves: 2^MDTS pages of 4 KiB (CAP.MPSMIN 0 is
 * required, ctrl.c), 0 meaning no limit; never above NVME_CMD_MAX. */
static uint32_t
mdts_bytes(unsigned mdts)
{
	if (mdts == 0 || mdts >= 20)
		return NVME_CMD_MAX;
	return (1ull << mdts) * NVME_PAGE < NVME_CMD_MAX ?
	    (uint32_t)((1ull << mdts) * NVME_PAGE) : NVME_CMD_MAX;
}

int
ident_ctrl(const uint8_t *data, struct nvme_ident *id, const char **why)
{
	unsigned sqes = data[IDC_SQES], cqes = data[IDC_CQES];

	memset(id, 0, sizeof(*id));
	*why = NULL;
	/* SQES/CQES: required size in 3:0, largest in 7:4 (log2); 0 is
	 * what some early controllers leave: taken as the defaults. */
	if (sqes && ((sqes & 0xf) > 6 || (sqes >> 4) < 6))
		return refuse(why, "SQES excludes 64-byte submission entries",
		    PB_ENOTSUP);
	if (cqes && ((cqes & 0xf) > 4 || (cqes >> 4) < 4))
		return refuse(why, "CQES excludes 16-byte completion entries",
		    PB_ENOTSUP);
	id->nn = le32(data + IDC_NN);
	if (id->nn == 0)
		return refuse(why, "NN is 0: no namespaces", PB_ENODEV);
	ascii_field(id->model, sizeof(id->model), data + IDC_MN, IDC_MN_LEN);
	ascii_field(id->serial, sizeof(id->serial), data + IDC_SN,
	    IDC_SN_LEN);
	ascii_field(id->firmware, sizeof(id->firmware), data + IDC_FR,
	    IDC_FR_LEN);
	if (!id->model[0])
		rt_strlcpy(id->model, "NVMe", sizeof(id->model));
	if (!id->serial[0])
		rt_strlcpy(id->serial, "none", sizeof(id->serial));
	id->max_xfer = mdts_bytes(data[IDC_MDTS]);
	id->vwc = data[IDC_VWC] & 1u;
	return PB_OK;
}

/*
 * The active NSIDs of a CNS 02h answer, in increasing order, ending at
 * the first 0 (§5.15.2.3); one not above the one before ends it too (a
 * list that is not as the spec says is believed only up to there).
 */
uint32_t
ident_ns_list(const uint8_t *data, uint32_t *out, uint32_t max)
{
	uint32_t n = 0, last = 0;

	for (uint32_t i = 0; i < NS_LIST_MAX && n < max; i++) {
		uint32_t nsid = le32(data + 4 * i);

		if (nsid == 0 || nsid <= last || nsid == 0xffffffffu)
			break;
		out[n++] = last = nsid;
	}
	return n;
}

int
ident_ns(const uint8_t *data, uint32_t nsid, const struct nvme_ident *id,
    struct nvme_geom *g, const char **why)
{
	uint64_t nsze = le64(data + IDN_NSZE);
	unsigned nlbaf = data[IDN_NLBAF], fmt = data[IDN_FLBAS] & 0xfu;
	uint32_t lbaf, bs;

	memset(g, 0, sizeof(*g));
	*why = NULL;
	if (nsid == 0 || nsid == 0xffffffffu)
		return refuse(why, "NSID 0 or FFFFFFFFh names no namespace",
		    PB_EINVAL);
	if (nsze == 0)
		return refuse(why, "inactive (NSZE 0)", PB_ENOENT);
	if (fmt > nlbaf)
		return refuse(why, "FLBAS names a format beyond NLBAF",
		    PB_EINVAL);
	lbaf = le32(data + IDN_LBAF + 4 * fmt);
	if (LBAF_MS(lbaf))
		return refuse(why, "its format carries metadata, which this "
		    "driver does not move", PB_ENOTSUP);
	if (LBAF_LBADS(lbaf) < 9 || LBAF_LBADS(lbaf) > 12)
		return refuse(why, "block size outside 512..4096",
		    PB_ENOTSUP);
	bs = 1u << LBAF_LBADS(lbaf);
	if (bs > id->max_xfer)
		return refuse(why, "a block is larger than MDTS lets a "
		    "command move", PB_ENOTSUP);
	if (nsze > ~0ull / bs)
		return refuse(why, "NSZE overflows 64 bits in bytes",
		    PB_EINVAL);
	g->nsid = nsid;
	g->block_size = bs;
	g->block_count = nsze;
	g->flags = BLOCK_FUA | (id->vwc ? BLOCK_FLUSHES : 0);
	return PB_OK;
}

static int
value_clean(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == cap || n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == '=')
			return 0;
	return 1;
}

/* A controller record from elsewhere (a swap's state): as ident_ctrl
 * would have made it, or refused. */
int
ident_sane(const struct nvme_ident *id)
{
	return id->nn != 0 && id->max_xfer >= 512 &&
	    id->max_xfer <= NVME_CMD_MAX && id->vwc <= 1 &&
	    value_clean(id->model, sizeof(id->model)) &&
	    value_clean(id->serial, sizeof(id->serial)) &&
	    strnlen(id->firmware, sizeof(id->firmware)) <
	    sizeof(id->firmware);
}

/* A namespace record from elsewhere, likewise. */
int
ident_geom_sane(const struct nvme_geom *g, const struct nvme_ident *id)
{
	uint32_t bs = g->block_size;

	return g->nsid != 0 && g->nsid != 0xffffffffu && bs >= 512 &&
	    bs <= 4096 && !(bs & (bs - 1)) && bs <= id->max_xfer &&
	    g->block_count != 0 && g->block_count <= ~0ull / bs &&
	    !(g->flags & ~(uint32_t)(BLOCK_FUA | BLOCK_FLUSHES)) &&
	    !!(g->flags & BLOCK_FLUSHES) == !!id->vwc;
}

/* The property line of abi/block.h (identity only until known). */
void
ident_props(const struct nvme_ns *ns, const struct nvme_ident *id,
    char *buf, size_t cap)
{
	size_t n = (size_t)rt_snprintf(buf, cap, "path=%s", ns->path);

	if (!ns_known(ns) || n >= cap)
		return;
	rt_snprintf(buf + n, cap - n, " size=%llu bs=%u model=%s serial=%s "
	    "ro=0 rm=0", (unsigned long long)(ns->g.block_count *
	    ns->g.block_size), ns->g.block_size, id->model, id->serial);
}
