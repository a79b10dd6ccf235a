/*
 * ahcimodel.h - a register-level AHCI 1.3.1 HBA with SATA devices behind
 * it, for mod_ahci.c: the driver's mmio_read32/mmio_write32 land here.
 *
 * The model does what the spec says the HBA does: GHC.HR resets every
 * port, BOHC hands the HBA over, PxCMD.ST/FRE start the engines (CR/FR
 * follow, after `lag` reads when asked), PxSCTL.DET=1 then 0 is a
 * COMRESET after which the device sends its signature FIS, PxCI/PxSACT
 * take commands which it fetches from the command list through the fake
 * hub's bus addresses (fake_dma_va), runs against a RAM disk and
 * finishes in model_run(): data through the PRDT, PRDBC, a D2H register,
 * PIO setup or set-device-bits FIS into the received-FIS area, PxTFD,
 * PxIS and IS, and an MSI or MSI-X message (model_deliver, through
 * table entry 0) when PxIE and GHC.IE allow.
 * Commands: IDENTIFY DEVICE, IDENTIFY PACKET DEVICE, READ/WRITE DMA EXT,
 * READ/WRITE FPDMA QUEUED, FLUSH CACHE EXT and PACKET (READ CAPACITY(10),
 * READ(10), TEST UNIT READY); anything else is aborted.
 *
 * Every rule the driver must keep is checked and counted in m.bad with
 * the first reason in m.why: alignments of the command list (1 KiB), FIS
 * area (256 B) and tables (128 B), PRD entries (word-aligned, even, at
 * most 4 MiB), upper address words without CAP.S64A, memory the device
 * cannot reach, ST without FRE or with BSY set, addresses changed while
 * an engine runs, NCQ tag != slot or a tag not in PxSACT.
 *
 * CAP and PI are HwInit (§3.1.1, §3.1.4): read-only, as QEMU has them,
 * unless hwinit says GHC.HR resets them (HWINIT_LOST: CAP's write-once
 * bits, CAP_WO, cleared and PI zero, then writable once, as on Intel
 * chipsets whose firmware writes them; HWINIT_LOCKED: lost for good).
 *
 * Faults: hr_stuck, a BIOS that holds BOHC, a device that never answers
 * (silent), BSY stuck, no link, the next N commands failing, a bad
 * sector range, absurd IDENTIFY data (the test writes the words), ATAPI
 * UNIT ATTENTION, hot plug, stray slot bits.
 */
#ifndef PB_TESTS_AHCIMODEL_H
#define PB_TESTS_AHCIMODEL_H

#define M_PORTS		6
#define M_ABAR_SIZE	0x1000		/* QEMU's ICH9: 4 KiB */
#define M_SLOTS		32
#define M_MSIX		4		/* MSI-X table entries */

enum { ATA_ERR_ABRT = 0x04, ATA_ERR_IDNF = 0x10, ATA_ERR_UNC = 0x40 };

struct mcmd {			/* a command the device holds */
	int used;
	uint8_t fis[20];
	uint16_t hflags, prdtl;
	uint64_t ctba;
	uint8_t acmd[16];
};

struct mdev {
	int present, atapi;
	uint8_t *data;		/* the medium */
	uint64_t sectors;
	uint32_t bs;
	uint16_t id[256];	/* what IDENTIFY (PACKET) answers */
	/* faults */
	int silent;		/* takes commands, never finishes them */
	int bsy_stuck;		/* BSY stays after a reset */
	int no_link;		/* DET stays 1 after COMRESET */
	unsigned fail_next;	/* the next N commands end with ABRT */
	uint64_t bad_from, bad_to;	/* [from, to): UNC, every time */
	int unit_attention;	/* ATAPI: the next packet command */
	int no_medium;		/* ATAPI: an empty drive (NOT READY) */
	uint32_t sig;		/* another signature (a port multiplier) */
	/* what it saw */
	unsigned resets, cmds, flushes, fua_writes, ncq_cmds, identifies;
	unsigned max_ncq;	/* most FPDMA commands held at once */
};

struct mport {
	uint32_t clb, clbu, fb, fbu, is, ie, cmd, tfd, sig, ssts, sctl,
	    serr, sact, ci;
	int comreset;		/* DET=1 written */
	int halted;		/* an error: nothing runs until ST goes 0 */
	int d2h_sent;		/* the signature FIS since the last reset */
	unsigned cr_lag, fr_lag;	/* reads before CR/FR follow ST/FRE */
	struct mcmd c[M_SLOTS];	/* accepted, not finished */
	uint32_t ncq_held;	/* of those, FPDMA */
	uint32_t stray;		/* slots the model set itself (faults) */
	struct mdev d;
};

/* What GHC.HR does to CAP and PI (m.hwinit). */
enum { HWINIT_KEPT = 0, HWINIT_LOST = 1, HWINIT_LOCKED = 2 };
#define M_CAP_WO	((1u << 27) | (1u << 28))	/* SSS, SMPS */

static struct {
	uint32_t cap, ghc, is, pi, vs, cap2, bohc;
	int hr_stuck;
	int hwinit;		/* HWINIT_*: CAP and PI at GHC.HR */
	int cap_open, pi_open;	/* the next write sticks (write-once) */
	unsigned cap_writes, pi_writes;
	uint64_t bios_until;	/* BOHC.BOS clears at this fake_ns (0: at once) */
	int bios_busy;		/* BOHC.BB meanwhile */
	int msi_on, msi_vector, irq_pending;
	/* MSI-X (PCI 3.0 §6.8.2): enable, Function Mask, the table (in a
	 * BAR; every entry masked at reset), as the pci provider sets them */
	int msix_on, msix_fmask;
	struct { uint32_t addr_lo, addr_hi, data, ctrl; } msix[M_MSIX];
	unsigned irqs, hr_writes, lag;
	int reverse;		/* finish FPDMA commands newest first */
	unsigned per_run;	/* commands finished per model_run (0: all) */
	int qemu_ncq_err;	/* NCQ errors as QEMU: SDBS with ERR, no TFES */
	unsigned bad;
	char why[160];
	uint32_t reg_writes;	/* every register write */
	struct mport p[M_PORTS];
} m;

static uint8_t abar[M_ABAR_SIZE];

#define M_D2H		0x34
#define M_SDB		0xa1
#define M_PIO		0x5f
#define M_STS_OK	0x50	/* DRDY | DSC */
#define M_STS_ERR	0x51
#define M_SIG_ATA	0x00000101u
#define M_SIG_ATAPI	0xeb140101u

static void
mbad(const char *fmt, ...)
{
	va_list ap;

	if (m.bad++)
		return;
	va_start(ap, fmt);
	vsnprintf(m.why, sizeof(m.why), fmt, ap);
	va_end(ap);
}

static uint64_t
m64(uint32_t lo, uint32_t hi)
{
	return (uint64_t)hi << 32 | lo;
}

/* Memory the device reaches at bus, checked. */
static void *
mdma(uint64_t bus, size_t len, const char *what)
{
	void *va;

	if (!(m.cap & (1u << 31)) && (bus >> 32))
		mbad("%s at 0x%llx: above 4 GiB without S64A", what,
		    (unsigned long long)bus);
	if (!(va = fake_dma_va(bus, len)))
		mbad("%s at 0x%llx (+%zu): no memory there", what,
		    (unsigned long long)bus, len);
	return va;
}

/* --- interrupts --------------------------------------------------------- */

static void
m_check_irq(void)
{
	uint32_t is = 0;

	for (unsigned i = 0; i < M_PORTS; i++)
		if (m.p[i].is & m.p[i].ie)
			is |= 1u << i;
	m.is |= is;
	if (is && (m.ghc & 2))
		m.irq_pending = 1;
}

static void
m_raise(struct mport *p, uint32_t bits)
{
	p->is |= bits;
	m_check_irq();
}

/* The vector the function's message names: MSI-X table entry 0 when
 * MSI-X is on (none while the entry or the function is masked), else
 * the MSI data; -1: no message. */
static int
m_vector(void)
{
	if (m.msix_on)
		return (m.msix[0].ctrl & 1) || m.msix_fmask ? -1 :
		    (int)(m.msix[0].data & 0xff);
	return m.msi_on ? m.msi_vector : -1;
}

/* An MSI or MSI-X message, if one is due and enabled: the driver's
 * handler runs. */
static unsigned
model_deliver(void)
{
	int v = m_vector();

	if (!m.irq_pending || v < 0)
		return 0;
	m.irq_pending = 0;
	if (!fvec[v].fn)
		return 0;
	m.irqs++;
	fvec[v].fn(fvec[v].arg);
	return 1;
}

/* --- FIS into the received-FIS area ------------------------------------ */

static uint8_t *
m_rfis(struct mport *p)
{
	if (!(p->cmd & (1u << 4)))
		return NULL;
	return mdma(m64(p->fb, p->fbu), 256, "received-FIS area");
}

static void
m_d2h(struct mport *p, uint8_t status, uint8_t error, int pio)
{
	uint8_t *f = m_rfis(p);

	p->tfd = (uint32_t)error << 8 | status;
	if (f) {
		uint8_t *r = f + (pio ? 0x20 : 0x40);

		memset(r, 0, 20);
		r[0] = pio ? M_PIO : M_D2H;
		r[1] = 0x40;
		r[2] = status;
		r[3] = error;
	}
	if (status & 1)
		m_raise(p, (1u << 30) | (pio ? 2u : 1u));
	else
		m_raise(p, pio ? 2u : 1u);
}

static void
m_signature_fis(struct mport *p)
{
	if (!p->d.present || (p->ssts & 0xf) != 3 || !(p->cmd & (1u << 4)) ||
	    p->d2h_sent)
		return;
	p->sig = p->d.sig ? p->d.sig : p->d.atapi ? M_SIG_ATAPI : M_SIG_ATA;
	p->tfd = p->d.bsy_stuck ? 0x80 : M_STS_OK;
	p->d2h_sent = 1;
	if (m_rfis(p)) {
		uint8_t *r = m_rfis(p) + 0x40;

		memset(r, 0, 20);
		r[0] = M_D2H;
		r[2] = (uint8_t)p->tfd;
		r[12] = 1;
	}
	m_raise(p, 1);
}

/* --- resets --------------------------------------------------------------- */

static void
m_drop_commands(struct mport *p)
{
	memset(p->c, 0, sizeof(p->c));
	p->ncq_held = 0;
	p->ci = p->sact = 0;
	p->halted = 0;
}

static void
m_link_up(struct mport *p)
{
	if (!p->d.present) {
		p->ssts = 0;
		return;
	}
	p->ssts = p->d.no_link ? 0x1 : 0x113;
}

static void
m_port_reset(struct mport *p)
{
	m_drop_commands(p);
	p->tfd = 0x7f;
	p->sig = 0xffffffffu;
	p->d2h_sent = 0;
	m_link_up(p);
	if (p->d.atapi)
		p->d.unit_attention = 1;
	p->d.resets++;
}

static void
m_hba_reset(void)
{
	m.ghc = 0;
	m.is = 0;
	if (m.hwinit != HWINIT_KEPT) {
		m.cap &= ~M_CAP_WO;
		m.pi = 0;
		m.cap_open = m.pi_open = m.hwinit == HWINIT_LOST;
	}
	for (unsigned i = 0; i < M_PORTS; i++) {
		struct mport *p = &m.p[i];

		p->is = p->ie = p->sctl = p->serr = 0;
		p->clb = p->clbu = p->fb = p->fbu = 0;
		p->cmd = (1u << 1) | (1u << 2);	/* SUD | POD */
		m_port_reset(p);
		p->d.resets--;		/* not a COMRESET */
	}
}

/* --- commands --------------------------------------------------------------- */

/* Move data between the medium and the PRDT: PB_OK or a reason. */
static int
m_prd_move(struct mport *p, struct mcmd *c, uint8_t *buf, uint64_t len,
    int to_device)
{
	struct { uint32_t dba, dbau, rsvd, dbc; } *prd;
	uint64_t done = 0;

	prd = mdma(c->ctba + 0x80, (size_t)c->prdtl * 16, "PRDT");
	if (!prd)
		return -1;
	for (unsigned i = 0; i < c->prdtl && done < len; i++) {
		uint64_t bus = m64(prd[i].dba, prd[i].dbau);
		uint32_t n = (prd[i].dbc & 0x3fffff) + 1;
		uint8_t *va;

		if (bus & 1)
			mbad("PRD %u: odd address 0x%llx", i,
			    (unsigned long long)bus);
		if (n & 1)
			mbad("PRD %u: odd byte count %u", i, n);
		if (n > len - done)
			n = (uint32_t)(len - done);
		if (!(va = mdma(bus, n, "PRD data")))
			return -1;
		if (to_device)
			memcpy(buf + done, va, n);
		else
			memcpy(va, buf + done, n);
		done += n;
	}
	if (done < len) {
		mbad("PRDT of %llu bytes for %llu", (unsigned long long)done,
		    (unsigned long long)len);
		return -1;
	}
	return 0;
}

static uint64_t
m_fis_lba(const uint8_t *f)
{
	return (uint64_t)f[4] | (uint64_t)f[5] << 8 | (uint64_t)f[6] << 16 |
	    (uint64_t)f[8] << 24 | (uint64_t)f[9] << 32 | (uint64_t)f[10] << 40;
}

/* Run a read or write: 0, or the ATA error. */
static uint8_t
m_rw(struct mport *p, struct mcmd *c, uint64_t lba, uint32_t count, int write)
{
	struct mdev *d = &p->d;
	uint64_t len = (uint64_t)count * d->bs;

	if (lba + count > d->sectors || lba + count < lba)
		return ATA_ERR_IDNF;
	if (lba < d->bad_to && lba + count > d->bad_from)
		return ATA_ERR_UNC;
	if (m_prd_move(p, c, d->data + lba * d->bs, len, write) != 0)
		return ATA_ERR_ABRT;
	return 0;
}

static uint8_t
m_packet(struct mport *p, struct mcmd *c, uint32_t *bytes)
{
	struct mdev *d = &p->d;
	uint8_t *a = c->acmd, cap[8];
	uint64_t lba;
	uint32_t n;

	if (!(c->hflags & (1u << 5)))
		mbad("PACKET without the header's A bit");
	if (d->unit_attention) {
		d->unit_attention = 0;
		return 0x60;		/* sense key 6: UNIT ATTENTION */
	}
	if (d->no_medium && a[0] != 0x12)	/* all but INQUIRY */
		return 0x20;		/* sense key 2: NOT READY */
	switch (a[0]) {
	case 0x00:
		return 0;
	case 0x25:
		n = (uint32_t)d->sectors - 1;
		cap[0] = (uint8_t)(n >> 24), cap[1] = (uint8_t)(n >> 16);
		cap[2] = (uint8_t)(n >> 8), cap[3] = (uint8_t)n;
		cap[4] = 0, cap[5] = 0, cap[6] = (uint8_t)(d->bs >> 8);
		cap[7] = (uint8_t)d->bs;
		*bytes = 8;
		return m_prd_move(p, c, cap, 8, 0) ? ATA_ERR_ABRT : 0;
	case 0x28:
		lba = (uint64_t)a[2] << 24 | (uint64_t)a[3] << 16 |
		    (uint64_t)a[4] << 8 | a[5];
		n = (uint32_t)a[7] << 8 | a[8];
		*bytes = n * d->bs;
		if (lba + n > d->sectors)
			return 0x50;	/* ILLEGAL REQUEST */
		return m_prd_move(p, c, d->data + lba * d->bs,
		    (uint64_t)n * d->bs, 0) ? ATA_ERR_ABRT : 0;
	default:
		return 0x50;
	}
}

/* Finish the command in slot s: 0 ok, else the error register. */
static uint8_t
m_execute(struct mport *p, unsigned s, uint32_t *bytes, int *pio)
{
	struct mcmd *c = &p->c[s];
	struct mdev *d = &p->d;
	const uint8_t *f = c->fis;
	uint32_t count = (uint32_t)f[12] | (uint32_t)f[13] << 8;
	uint8_t err;

	*bytes = 0;
	*pio = 0;
	d->cmds++;
	if (d->fail_next) {
		d->fail_next--;
		return ATA_ERR_ABRT;
	}
	switch (f[2]) {
	case 0xec:
	case 0xa1:
		if ((f[2] == 0xa1) != !!d->atapi)
			return ATA_ERR_ABRT;
		d->identifies++;
		*pio = 1;
		*bytes = 512;
		return m_prd_move(p, c, (uint8_t *)d->id, 512, 0) ? ATA_ERR_ABRT :
		    0;
	case 0x25:
	case 0x35:
		if (d->atapi)
			return ATA_ERR_ABRT;
		if (!count)
			count = 65536;
		*bytes = count * d->bs;
		return m_rw(p, c, m_fis_lba(f), count, f[2] == 0x35);
	case 0x60:
	case 0x61:
		count = (uint32_t)f[3] | (uint32_t)f[11] << 8;
		if (!count)
			count = 65536;
		*bytes = count * d->bs;
		if (f[2] == 0x61 && (f[7] & 0x80))
			d->fua_writes++;
		return m_rw(p, c, m_fis_lba(f), count, f[2] == 0x61);
	case 0xea:
		d->flushes++;
		return d->atapi ? ATA_ERR_ABRT : 0;
	case 0xa0:
		err = m_packet(p, c, bytes);
		return err;
	default:
		return ATA_ERR_ABRT;
	}
}

/* Take the command in slot s (CI set, the list running). */
static void
m_accept(struct mport *p, unsigned s)
{
	struct { uint16_t flags, prdtl; uint32_t prdbc, ctba, ctbau; } *h;
	struct mcmd *c = &p->c[s];
	uint8_t *t;

	h = mdma(m64(p->clb, p->clbu) + s * 32, 32, "command header");
	if (!h)
		return;
	c->hflags = h->flags;
	c->prdtl = h->prdtl;
	c->ctba = m64(h->ctba, h->ctbau);
	if (c->ctba & 127)
		mbad("command table 0x%llx not 128-byte aligned",
		    (unsigned long long)c->ctba);
	if ((h->flags & 0x1f) != 5)
		mbad("command FIS length %u dwords", h->flags & 0x1f);
	if (!(t = mdma(c->ctba, 0x80, "command table")))
		return;
	memcpy(c->fis, t, 20);
	memcpy(c->acmd, t + 0x40, 16);
	if (c->fis[0] != 0x27 || !(c->fis[1] & 0x80))
		mbad("slot %u: not a register H2D FIS with C set", s);
	c->used = 1;
	h->prdbc = 0;
	if (c->fis[2] == 0x60 || c->fis[2] == 0x61) {
		if ((unsigned)(c->fis[12] >> 3) != s)
			mbad("FPDMA tag %u in slot %u", c->fis[12] >> 3, s);
		if (!(p->sact & (1u << s)))
			mbad("FPDMA in slot %u without its PxSACT bit", s);
		p->d.ncq_cmds++;
		p->ncq_held |= 1u << s;
		p->ci &= ~(1u << s);	/* the device took it */
		if ((unsigned)__builtin_popcount(p->ncq_held) > p->d.max_ncq)
			p->d.max_ncq = (unsigned)__builtin_popcount(p->ncq_held);
	}
}

static void
m_finish(struct mport *p, unsigned s)
{
	struct mcmd *c = &p->c[s];
	struct { uint16_t flags, prdtl; uint32_t prdbc; } *h;
	int ncq = (p->ncq_held >> s) & 1, pio;
	uint32_t bytes;
	uint8_t err = m_execute(p, s, &bytes, &pio);

	if ((h = mdma(m64(p->clb, p->clbu) + s * 32, 8, "command header")))
		h->prdbc = err ? 0 : bytes;
	c->used = 0;
	if (ncq) {
		uint8_t *f = m_rfis(p);

		p->ncq_held &= ~(1u << s);
		if (f) {
			memset(f + 0x58, 0, 8);
			f[0x58] = M_SDB;
			f[0x59] = 0x40;
			f[0x5a] = err ? M_STS_ERR : M_STS_OK;
			f[0x5b] = err;
			if (!err)
				f[0x5c] = (uint8_t)(1u << (s & 7));
		}
		p->tfd = (uint32_t)err << 8 | (err ? M_STS_ERR : M_STS_OK);
		if (err) {
			p->halted = 1;
			m_raise(p, (1u << 3) | (m.qemu_ncq_err ? 0 :
			    1u << 30));
		} else {
			p->sact &= ~(1u << s);
			m_raise(p, 1u << 3);
		}
		return;
	}
	if (err) {
		p->halted = 1;
		m_d2h(p, M_STS_ERR, err, 0);
		return;
	}
	p->ci &= ~(1u << s);
	m_d2h(p, M_STS_OK, 0, pio);
}

/* The device works: finish commands (all, or per_run of them). */
static unsigned
model_run(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < M_PORTS; i++) {
		struct mport *p = &m.p[i];

		for (unsigned k = 0; k < M_SLOTS; k++) {
			unsigned s = m.reverse ? M_SLOTS - 1 - k : k;

			if (p->halted || !(p->cmd & 1) || !p->c[s].used ||
			    p->d.silent || !p->d.present)
				continue;
			if (m.per_run && n >= m.per_run)
				return n;
			m_finish(p, s);
			n++;
		}
	}
	return n;
}

/* --- registers -------------------------------------------------------------- */

static void
m_port_cmd_write(struct mport *p, uint32_t v)
{
	uint32_t was = p->cmd;
	uint32_t rw = (1u << 0) | (1u << 1) | (1u << 2) | (1u << 4) |
	    (1u << 24);

	if (v & 0xf0000000u)
		mbad("PxCMD.ICC written 0x%x", v >> 28);
	p->cmd = (p->cmd & ~rw) | (v & rw);
	if ((v & 1) && !(was & 1)) {
		if (!(p->cmd & (1u << 4)))
			mbad("ST set without FRE");
		if (p->tfd & 0x88)
			mbad("ST set with BSY/DRQ (PxTFD 0x%x)", p->tfd);
		if (p->cmd & (1u << 15))
			mbad("ST set while CR still set");
		p->cmd |= 1u << 15;		/* CR */
		if ((p->clb & 1023))
			mbad("PxCLB 0x%x not 1 KiB aligned", p->clb);
	}
	if (!(v & 1) && (was & 1)) {
		m_drop_commands(p);		/* §3.3.7: CI, SACT cleared */
		if (!m.lag)
			p->cmd &= ~(1u << 15);
		p->cr_lag = m.lag;
	}
	if ((v & (1u << 4)) && !(was & (1u << 4))) {
		if (p->fb & 255)
			mbad("PxFB 0x%x not 256-byte aligned", p->fb);
		p->cmd |= 1u << 14;		/* FR */
		m_signature_fis(p);
	}
	if (!(v & (1u << 4)) && (was & (1u << 4))) {
		if (!m.lag)
			p->cmd &= ~(1u << 14);
		p->fr_lag = m.lag;
	}
}

static void
m_port_write(unsigned n, unsigned off, uint32_t v)
{
	struct mport *p = &m.p[n];

	switch (off) {
	case 0x00: case 0x04:
		if (p->cmd & (1u << 15))
			mbad("PxCLB written while CR");
		if (!(m.cap & (1u << 31)) && off == 0x04 && v)
			mbad("PxCLBU 0x%x without S64A", v);
		*(off ? &p->clbu : &p->clb) = v;
		break;
	case 0x08: case 0x0c:
		if (p->cmd & (1u << 14))
			mbad("PxFB written while FR");
		if (!(m.cap & (1u << 31)) && off == 0x0c && v)
			mbad("PxFBU 0x%x without S64A", v);
		*(off == 0x08 ? &p->fb : &p->fbu) = v;
		break;
	case 0x10:
		p->is &= ~(v & ~((1u << 6) | (1u << 22)));	/* PCS, PRCS: SERR */
		m_check_irq();
		break;
	case 0x14:
		p->ie = v;
		m_check_irq();
		break;
	case 0x18:
		m_port_cmd_write(p, v);
		break;
	case 0x2c:
		if ((v & 0xf) == 1) {
			p->comreset = 1;
			p->ssts = 0;
			p->sig = 0xffffffffu;
			p->tfd = 0x80;
		} else if (p->comreset && (v & 0xf) == 0) {
			p->comreset = 0;
			m_port_reset(p);
			if (p->d.present && !p->d.no_link) {
				p->serr |= 1u << 16;
				m_raise(p, 1u << 22);	/* PRCS: our own */
				m_signature_fis(p);
			}
		}
		p->sctl = v;
		break;
	case 0x30:
		p->serr &= ~v;
		if (!(p->serr & (1u << 26)))
			p->is &= ~(1u << 6);
		if (!(p->serr & (1u << 16)))
			p->is &= ~(1u << 22);
		break;
	case 0x34:
		p->sact |= v;
		break;
	case 0x38:
		if (!(p->cmd & 1)) {
			mbad("PxCI written with ST clear");
			break;
		}
		for (unsigned s = 0; s < M_SLOTS; s++)
			if ((v >> s) & 1 && !((p->ci >> s) & 1)) {
				p->ci |= 1u << s;
				m_accept(p, s);
			}
		break;
	default:
		break;
	}
}

static uint32_t
m_port_read(unsigned n, unsigned off)
{
	struct mport *p = &m.p[n];

	switch (off) {
	case 0x00: return p->clb;
	case 0x04: return p->clbu;
	case 0x08: return p->fb;
	case 0x0c: return p->fbu;
	case 0x10: return p->is;
	case 0x14: return p->ie;
	case 0x18:
		if (p->cr_lag && !--p->cr_lag)
			p->cmd &= ~(1u << 15);
		if (p->fr_lag && !--p->fr_lag)
			p->cmd &= ~(1u << 14);
		return p->cmd;
	case 0x20: return p->tfd;
	case 0x24: return p->sig;
	case 0x28: return p->ssts;
	case 0x2c: return p->sctl;
	case 0x30: return p->serr;
	case 0x34: return p->sact;
	case 0x38: return p->ci | p->stray;
	default: return 0;
	}
}

static size_t
m_abar_off(const volatile void *reg)
{
	size_t off = (size_t)((const volatile uint8_t *)reg - abar);

	if (off >= sizeof(abar) || (off & 3)) {
		fprintf(stderr, "ahcimodel: access at ABAR+0x%zx\n", off);
		abort();
	}
	return off;
}

uint32_t
mmio_read32(const volatile void *reg)
{
	size_t off = m_abar_off(reg);

	if (off >= 0x100) {
		unsigned n = (unsigned)(off - 0x100) / 0x80;

		return n < M_PORTS && ((m.pi >> n) & 1) ?
		    m_port_read(n, (unsigned)(off - 0x100) % 0x80) : 0;
	}
	switch (off) {
	case 0x00: return m.cap;
	case 0x04: return m.ghc;
	case 0x08: return m.is;
	case 0x0c: return m.pi;
	case 0x10: return m.vs;
	case 0x24: return m.cap2;
	case 0x28:
		if ((m.bohc & 2) && (m.bohc & 1) && fake_ns >= m.bios_until)
			m.bohc &= ~(1u | 0x10u);
		else if ((m.bohc & 2) && (m.bohc & 1) && m.bios_busy)
			m.bohc |= 0x10;
		return m.bohc;
	default: return 0;
	}
}

void
mmio_write32(volatile void *reg, uint32_t v)
{
	size_t off = m_abar_off(reg);

	m.reg_writes++;
	if (off >= 0x100) {
		unsigned n = (unsigned)(off - 0x100) / 0x80;

		if (n < M_PORTS && ((m.pi >> n) & 1))
			m_port_write(n, (unsigned)(off - 0x100) % 0x80, v);
		return;
	}
	switch (off) {
	case 0x00:
		m.cap_writes++;
		if (m.cap_open)
			m.cap = (m.cap & ~M_CAP_WO) | (v & M_CAP_WO);
		m.cap_open = 0;
		break;
	case 0x0c:
		m.pi_writes++;
		if (m.pi_open)
			m.pi = v & ((1u << M_PORTS) - 1);
		m.pi_open = 0;
		break;
	case 0x04:
		if (v & 1) {
			m.hr_writes++;
			if (!m.hr_stuck)
				m_hba_reset();
			else
				m.ghc |= 1;
			return;
		}
		m.ghc = (m.ghc & 1) | (v & 0x80000002u);
		m_check_irq();
		break;
	case 0x08:
		m.is &= ~v;
		m_check_irq();
		break;
	case 0x28:
		m.bohc = (m.bohc & ~0xeu) | (v & 0xeu);
		if ((v & 2) && !m.bios_until)
			m.bohc &= ~1u;
		break;
	default:
		break;
	}
}

/* The driver uses 32-bit accesses only: anything else is a bug. */
uint8_t mmio_read8(const volatile void *r) { m_abar_off(r); abort(); }
uint16_t mmio_read16(const volatile void *r) { m_abar_off(r); abort(); }
uint64_t mmio_read64(const volatile void *r) { m_abar_off(r); abort(); }
void mmio_write8(volatile void *r, uint8_t v) { m_abar_off(r); abort(); }
void mmio_write16(volatile void *r, uint16_t v) { m_abar_off(r); abort(); }
void mmio_write64(volatile void *r, uint64_t v) { m_abar_off(r); abort(); }

/* --- building a machine ------------------------------------------------------- */

/* ATA strings: two characters a word, the first in the high byte. */
static void
m_id_string(uint16_t *id, unsigned word, unsigned nchars, const char *s)
{
	for (unsigned i = 0; i < nchars; i += 2) {
		char a = *s ? *s++ : ' ', b = *s ? *s++ : ' ';

		id[word + i / 2] = (uint16_t)((uint8_t)a << 8 | (uint8_t)b);
	}
}

/* A disk of `sectors` x 512 bytes with a pattern, its IDENTIFY data
 * (LBA48, FLUSH EXT, NCQ depth 32 when ncq, a WWN). */
static void
model_disk(unsigned port, uint64_t sectors, int ncq)
{
	struct mdev *d = &m.p[port].d;

	free(d->data);
	memset(d, 0, sizeof(*d));
	d->present = 1;
	d->sectors = sectors;
	d->bs = 512;
	d->data = malloc(sectors * 512);
	for (uint64_t i = 0; i < sectors * 512; i++)
		d->data[i] = (uint8_t)(i * 131 + i / 512 + port);
	m_id_string(d->id, 27, 40, "QEMU HARDDISK");
	m_id_string(d->id, 10, 20, "QM0000" "1");
	d->id[83] = 0x4000 | 0x0400 | 0x2000;	/* LBA48, FLUSH EXT */
	d->id[84] = 0x4000 | 0x0100;		/* WWN */
	d->id[86] = 0x0400;
	d->id[100] = (uint16_t)sectors;
	d->id[101] = (uint16_t)(sectors >> 16);
	d->id[102] = (uint16_t)(sectors >> 32);
	d->id[103] = (uint16_t)(sectors >> 48);
	d->id[108] = 0x5000;
	d->id[109] = 0xc500;
	d->id[110] = 0xa1b2;
	d->id[111] = 0xc3d4;
	if (ncq) {
		d->id[75] = 31;
		d->id[76] = 0x0100;
	}
	m_link_up(&m.p[port]);
}

static void
model_atapi(unsigned port, uint32_t blocks)
{
	struct mdev *d = &m.p[port].d;

	free(d->data);
	memset(d, 0, sizeof(*d));
	d->present = 1;
	d->atapi = 1;
	d->sectors = blocks;
	d->bs = 2048;
	d->data = malloc((size_t)blocks * 2048);
	for (size_t i = 0; i < (size_t)blocks * 2048; i++)
		d->data[i] = (uint8_t)(i * 7 + i / 2048);
	d->id[0] = 0x8000 | 0x0500 | 0x0080;	/* ATAPI, CD-ROM, removable */
	m_id_string(d->id, 27, 40, "QEMU DVD-ROM");
	m_id_string(d->id, 10, 20, "QM00003");
	d->unit_attention = 1;
	m_link_up(&m.p[port]);
}

/* ICH9 as QEMU makes it: AHCI 1.0, 6 ports, 32 slots, NCQ, 64-bit. */
static void
model_reset(void)
{
	for (unsigned i = 0; i < M_PORTS; i++)
		free(m.p[i].d.data);
	memset(&m, 0, sizeof(m));
	m.cap = (M_PORTS - 1) | (31u << 8) | (1u << 30) | (1u << 31);
	m.pi = (1u << M_PORTS) - 1;
	m.vs = 0x00010000;
	m.ghc = 0x80000000u;
	for (unsigned i = 0; i < M_MSIX; i++)
		m.msix[i].ctrl = 1;		/* Mask Bit */
	for (unsigned i = 0; i < M_PORTS; i++) {
		m.p[i].tfd = 0x7f;
		m.p[i].sig = 0xffffffffu;
	}
}

/* Hot plug: a device comes (present) or goes; the link says so. */
static void
model_plug(unsigned port, int present)
{
	struct mport *p = &m.p[port];

	p->d.present = present;	/* commands in flight stay unfinished */
	m_link_up(p);
	p->d2h_sent = 0;
	p->sig = 0xffffffffu;
	p->tfd = 0x7f;
	p->serr |= (1u << 26) | (1u << 16);
	m_raise(p, (1u << 6) | (1u << 22));
	m_signature_fis(p);		/* a new device says what it is */
}

#endif
