/*
 * hpet.c - the High Precision Event Timer's main counter (IA-PC HPET
 * Specification 1.0a, §2.3 "Register Descriptions").
 *
 * Only the main counter is used, as the clock: GCAP_ID (§2.3.4) gives the
 * tick period in femtoseconds (at most 100 ns: a larger one, or 0, is a
 * broken table or no HPET) and whether the counter is 64 bits wide;
 * GEN_CONF (§2.3.5) starts it (ENABLE_CNF) with legacy replacement off,
 * so the comparators do not take over IRQ0/IRQ8; each comparator's
 * interrupt is disabled (Tn_INT_ENB_CNF, §2.3.8), since none is ours.
 * QEMU: q35 has one at 0xfed00000, 100 MHz, 64 bits; `-machine
 * q35,hpet=off` removes it (and its ACPI table).
 */
#include "timer.h"
#include "../../abi/cpu.h"
#include "../../abi/mmio.h"

#define GCAP_REV(g)		((uint8_t)(g))
#define GCAP_NUM_TIM(g)		((uint8_t)(((g) >> 8) & 0x1f))
#define GCAP_COUNT_SIZE		(1ull << 13)
#define GCAP_LEG_RT		(1ull << 15)
#define GCAP_VENDOR(g)		((uint16_t)((g) >> 16))
#define GCAP_PERIOD(g)		((uint32_t)((g) >> 32))

#define CONF_ENABLE		0x1u	/* ENABLE_CNF */
#define CONF_LEG_RT		0x2u	/* LEG_RT_CNF */
#define TN_INT_ENB		0x4u	/* Tn_INT_ENB_CNF */

#define MOVE_READS		100000u

int
hpet_parse_caps(uint64_t gcap, struct hpet_caps *caps)
{
	*caps = (struct hpet_caps){
		.period_fs = GCAP_PERIOD(gcap), .vendor = GCAP_VENDOR(gcap),
		.rev = GCAP_REV(gcap), .ntimers = GCAP_NUM_TIM(gcap) + 1,
		.wide = (gcap & GCAP_COUNT_SIZE) != 0,
		.legacy = (gcap & GCAP_LEG_RT) != 0,
	};
	/* REV_ID must not be 0 (§2.3.4); all ones is no device. */
	if (caps->rev == 0 || gcap == ~0ull)
		return PB_ENODEV;
	if (caps->period_fs == 0 || caps->period_fs > HPET_MAX_PERIOD_FS)
		return PB_EIO;
	caps->hz = FS_PER_S / caps->period_fs;
	return PB_OK;
}

uint64_t
hpet_read(void *ctx)
{
	struct hpet *h = ctx;

	if (h->caps.wide)
		return mmio_read64(h->regs + HPET_MAIN_CNT);
	return mmio_read32(h->regs + HPET_MAIN_CNT);
}

/* No comparator of the firmware's may interrupt us. */
static void
hpet_quiet_timers(const struct hpet *h)
{
	for (unsigned n = 0; n < h->caps.ntimers; n++) {
		volatile uint8_t *conf = h->regs + HPET_TN_CONF(n);

		mmio_write32(conf, mmio_read32(conf) & ~TN_INT_ENB);
	}
}

int
hpet_start(struct hpet *h, const struct pb_hub *hub, struct pb_module *self,
    uint64_t phys)
{
	uint64_t gcap, stuck;
	uint32_t conf;
	int err;

	h->phys = phys;
	h->regs = hub->map_mmio(self, phys, HPET_MMIO_LEN, PB_CACHE_UC);
	if (!h->regs) {
		pb_logf(hub, self, PB_LOG_ERR, "hpet: cannot map 0x%llx",
		    (unsigned long long)phys);
		return PB_ENOMEM;
	}
	gcap = mmio_read64(h->regs + HPET_GCAP_ID);
	if ((err = hpet_parse_caps(gcap, &h->caps)) != PB_OK) {
		pb_logf(hub, self, PB_LOG_WARN, "hpet at 0x%llx: GCAP_ID "
		    "0x%016llx: %s", (unsigned long long)phys,
		    (unsigned long long)gcap, err == PB_ENODEV ? "no device" :
		    "period out of range (0 or over 100 ns)");
		return err;
	}
	hpet_quiet_timers(h);
	conf = mmio_read32(h->regs + HPET_GEN_CONF);
	mmio_write32(h->regs + HPET_GEN_CONF, (conf & ~CONF_LEG_RT) |
	    CONF_ENABLE);
	if (counter_moves(hpet_read, h, MOVE_READS, &stuck) != PB_OK) {
		pb_logf(hub, self, PB_LOG_WARN, "hpet: MAIN_CNT stuck at "
		    "0x%llx after %u reads (GEN_CONF 0x%x)",
		    (unsigned long long)stuck, MOVE_READS,
		    mmio_read32(h->regs + HPET_GEN_CONF));
		return PB_EIO;
	}
	return PB_OK;
}
