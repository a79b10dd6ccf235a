/*
 * lapic.c - this CPU's local APIC (Intel SDM Vol. 3A, chapter "Advanced
 * Programmable Interrupt Controller (APIC)"; section titles given since
 * the numbers move between editions).
 *
 * Mode: the one the firmware left.  A firmware that handed over in
 * x2APIC mode (IA32_APIC_BASE.EXTD set) must be met there, since leaving
 * x2APIC needs a full disable (SDM "x2APIC State Transitions"); one that
 * left xAPIC mode is kept in it, through the MMIO page mapped uncached,
 * even when CPUID.1:ECX[21] offers x2APIC: the firmware's SMM code may
 * still reach the local APIC through that page, and a board whose SMM
 * copes with x2APIC says so by switching it on itself.  `x2apic=yes` in
 * boot.cfg switches x2APIC on where CPUID offers it, unless the DMAR
 * table's X2APIC_OPT_OUT flag (Intel VT-d 4.1 §8.1) asks the OS not to,
 * as Linux honours it too.  Registers are named by their xAPIC offsets
 * everywhere; in x2APIC mode each is the MSR 0x800 + off/16.
 *
 * Set-up (SDM "Local Vector Table", "Spurious-Interrupt Vector Register",
 * "Error Handling"): software enable with spurious vector 0xff, TPR 0 so
 * every vector is accepted, LINT0/LINT1 as the MADT's local APIC NMI
 * entries say (NMI, else masked: the 8259s are not wired through), every
 * other LVT masked, ESR cleared.
 */
#include "apic.h"
#include "../../abi/cpu.h"
#include "../../abi/mmio.h"

#define ICR_WAIT_SPINS	100000u

uint32_t
lapic_read(const struct lapic *l, uint32_t reg)
{
	if (l->x2apic)
		return (uint32_t)rdmsr(X2APIC_MSR(reg));
	return mmio_read32(l->mmio + reg);
}

void
lapic_write(const struct lapic *l, uint32_t reg, uint32_t v)
{
	if (l->x2apic)
		wrmsr(X2APIC_MSR(reg), v);
	else
		mmio_write32(l->mmio + reg, v);
}

/* Which mode to run the local APIC in, from IA32_APIC_BASE and CPUID.1:
 * x2APIC when the firmware left it on, or when asked to switch it on
 * (switch_on) and CPUID offers it; xAPIC otherwise. */
enum lapic_mode
lapic_choose(uint64_t apic_base, uint32_t cpuid1_ecx, uint32_t cpuid1_edx,
    int switch_on)
{
	if (!(cpuid1_edx & CPUID1_EDX_APIC))
		return LAPIC_NONE;
	if ((apic_base & (APIC_BASE_EN | APIC_BASE_EXTD)) ==
	    (APIC_BASE_EN | APIC_BASE_EXTD))
		return LAPIC_X2APIC_ON;
	if (switch_on && (cpuid1_ecx & CPUID1_ECX_X2APIC))
		return LAPIC_X2APIC_ENABLE;
	return LAPIC_XAPIC;
}

/* boot.cfg's x2apic=yes, unless the firmware's DMAR opts out. */
static int
x2apic_wanted(struct apic *a, uint32_t cpuid1_ecx)
{
	char v[8];

	if (!pb_setting(a->hub, "x2apic", v, sizeof(v)) || strcmp(v, "yes"))
		return 0;
	if (a->plat->dmar_flags & ACPI_DMAR_X2APIC_OPT_OUT) {
		pb_logf(a->hub, a->self, PB_LOG_INFO, "x2apic=yes not "
		    "followed: the DMAR table opts out of x2APIC (flags bit "
		    "1)");
		return 0;
	}
	if (!(cpuid1_ecx & CPUID1_ECX_X2APIC)) {
		pb_logf(a->hub, a->self, PB_LOG_INFO, "x2apic=yes: this CPU "
		    "has no x2APIC (CPUID.1:ECX[21] clear)");
		return 0;
	}
	return 1;
}

/* What the firmware left, and what boot.cfg asked, told when they
 * disagree. */
static enum lapic_mode
lapic_mode_for(struct apic *a, uint64_t base, const uint32_t r[4])
{
	enum lapic_mode mode = lapic_choose(base, r[2], r[3],
	    x2apic_wanted(a, r[2]));

	if (mode != LAPIC_X2APIC_ON)
		return mode;
	if (pb_setting_off(a->hub, "x2apic"))
		pb_logf(a->hub, a->self, PB_LOG_WARN, "x2apic=no ignored: the "
		    "firmware handed over in x2APIC mode");
	if (a->plat->dmar_flags & ACPI_DMAR_X2APIC_OPT_OUT)
		pb_logf(a->hub, a->self, PB_LOG_WARN, "the firmware handed "
		    "over in x2APIC mode though its DMAR opts out of it: "
		    "staying in x2APIC mode");
	return mode;
}

/* Put the local APIC in the chosen mode and find its registers. */
static int
lapic_enter_mode(struct apic *a, enum lapic_mode mode, uint64_t base)
{
	struct lapic *l = &a->lapic;

	switch (mode) {
	case LAPIC_X2APIC_ON:
		l->x2apic = 1;
		return PB_OK;
	case LAPIC_X2APIC_ENABLE:
		/* Disabled -> xAPIC -> x2APIC: EXTD only with EN already
		 * set (SDM "x2APIC State Transitions"). */
		if (!(base & APIC_BASE_EN))
			wrmsr(MSR_IA32_APIC_BASE, base |= APIC_BASE_EN);
		wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EXTD);
		l->x2apic = 1;
		return PB_OK;
	case LAPIC_XAPIC:
		if (!(base & APIC_BASE_EN))
			wrmsr(MSR_IA32_APIC_BASE, base |= APIC_BASE_EN);
		l->phys = base & APIC_BASE_ADDR;
		if (a->plat->lapic_phys && a->plat->lapic_phys != l->phys)
			pb_logf(a->hub, a->self, PB_LOG_WARN, "MADT says the "
			    "local APIC is at 0x%llx, IA32_APIC_BASE 0x%llx: "
			    "using the MSR's", (unsigned long long)
			    a->plat->lapic_phys, (unsigned long long)l->phys);
		l->mmio = a->hub->map_mmio(a->self, l->phys, 4096,
		    PB_CACHE_UC);
		if (!l->mmio) {
			pb_logf(a->hub, a->self, PB_LOG_ERR, "cannot map the "
			    "local APIC at 0x%llx", (unsigned long long)l->phys);
			return PB_ENOMEM;
		}
		l->x2apic = 0;
		return PB_OK;
	default:
		pb_logf(a->hub, a->self, PB_LOG_ERR, "no local APIC "
		    "(CPUID.1:EDX[9] clear)");
		return PB_ENODEV;
	}
}

/* This CPU's ACPI processor UID, ~0 when the MADT does not list it. */
static uint32_t
cpu_uid(const struct acpi_platform *plat, uint32_t apic_id)
{
	for (uint32_t i = 0; i < plat->ncpus && i < ACPI_MAX_CPUS; i++)
		if (plat->cpus[i].apic_id == apic_id)
			return plat->cpus[i].uid;
	return ~0u;
}

/*
 * The LVT entry for LINT0/LINT1 of this CPU: NMI when the MADT has a
 * local APIC NMI entry for it (ACPI 6.5 §5.2.12.7/§5.2.12.13; uid ~0 is
 * every processor), polarity from its MPS INTI flags ("conforms" is
 * active high); masked otherwise.  NMIs are always edge triggered (SDM
 * "Local Vector Table": the trigger mode bit is for fixed delivery).
 */
uint32_t
lapic_lint_entry(const struct acpi_platform *plat, uint32_t apic_id,
    unsigned lint)
{
	uint32_t uid = cpu_uid(plat, apic_id);

	for (uint32_t i = 0; i < plat->nnmis && i < ACPI_MAX_NMIS; i++) {
		const struct acpi_nmi *n = &plat->nmis[i];

		if (n->gsi != ~0u || n->lint != lint)
			continue;
		if (n->uid != ~0u && (n->uid != uid || uid == ~0u))
			continue;
		return LVT_DELIV_NMI | ((n->flags & ACPI_POL_MASK) ==
		    ACPI_POL_LOW ? LVT_ACTIVE_LOW : 0);
	}
	return LVT_MASKED;
}

/* Max LVT Entry (version register bits 23:16) is the count less one:
 * 4 entries are timer, LINT0, LINT1, error; then performance counters,
 * thermal sensor, CMCI (SDM "Local APIC Version Register"). */
static void
lapic_mask_lvts(const struct lapic *l)
{
	unsigned max = (l->version >> 16) & 0xff;

	lapic_write(l, LAPIC_LVT_TIMER, LVT_MASKED);
	lapic_write(l, LAPIC_TIMER_INIT, 0);
	lapic_write(l, LAPIC_LVT_ERROR, LVT_MASKED);
	if (max >= 4)
		lapic_write(l, LAPIC_LVT_PMC, LVT_MASKED);
	if (max >= 5)
		lapic_write(l, LAPIC_LVT_THERMAL, LVT_MASKED);
	if (max >= 6)
		lapic_write(l, LAPIC_LVT_CMCI, LVT_MASKED);
}

int
lapic_init(struct apic *a)
{
	struct lapic *l = &a->lapic;
	enum lapic_mode mode;
	uint32_t r[4];
	uint64_t base;
	int err;

	cpuid(1, 0, r);
	base = rdmsr(MSR_IA32_APIC_BASE);
	mode = lapic_mode_for(a, base, r);
	if ((err = lapic_enter_mode(a, mode, base)) != PB_OK)
		return err;
	l->id = lapic_read(l, LAPIC_ID);
	if (!l->x2apic)
		l->id >>= 24;		/* xAPIC: the ID is bits 31:24 */
	l->version = lapic_read(l, LAPIC_VERSION);
	/* Enabled first: while software-disabled the LVT masks stick. */
	lapic_write(l, LAPIC_SVR, SVR_ENABLE | VEC_SPURIOUS);
	lapic_write(l, LAPIC_TPR, 0);
	lapic_mask_lvts(l);
	lapic_write(l, LAPIC_LVT_LINT0, lapic_lint_entry(a->plat, l->id, 0));
	lapic_write(l, LAPIC_LVT_LINT1, lapic_lint_entry(a->plat, l->id, 1));
	/* ESR: a write latches the errors so far, the next clears them
	 * (SDM "Error Handling"); x2APIC accepts only 0 there. */
	lapic_write(l, LAPIC_ESR, 0);
	lapic_write(l, LAPIC_ESR, 0);
	return PB_OK;
}

void
lapic_eoi(const struct lapic *l)
{
	lapic_write(l, LAPIC_EOI, 0);
}

/* xAPIC: the ICR takes one interrupt at a time; wait for the last to go. */
static int
icr_idle(const struct apic *a)
{
	for (uint32_t i = 0; i < ICR_WAIT_SPINS; i++) {
		if (!(lapic_read(&a->lapic, LAPIC_ICR) & ICR_PENDING))
			return PB_OK;
		cpu_pause();
	}
	pb_logf(a->hub, a->self, PB_LOG_ERR, "ICR delivery status still "
	    "pending after %u reads (ICR 0x%08x)", ICR_WAIT_SPINS,
	    lapic_read(&a->lapic, LAPIC_ICR));
	return PB_ETIMEDOUT;
}

/* A fixed, edge-triggered interrupt to this CPU (SDM "Self IPI Register";
 * xAPIC: ICR with destination shorthand "self"). */
int
lapic_send_self(const struct apic *a, int vector)
{
	const struct lapic *l = &a->lapic;

	if (vector < VEC_ROUTE_MIN || vector > VEC_ROUTE_MAX)
		return PB_EINVAL;
	if (l->x2apic) {
		lapic_write(l, LAPIC_SELF_IPI, (uint32_t)vector);
		return PB_OK;
	}
	if (icr_idle(a) != PB_OK)
		return PB_ETIMEDOUT;
	lapic_write(l, LAPIC_ICR_HIGH, 0);
	lapic_write(l, LAPIC_ICR, ICR_SELF | ICR_ASSERT | (uint32_t)vector);
	return PB_OK;
}

/* Divide configuration register: bits 3,1:0 (SDM "Divide Configuration
 * Register"): 0000 is /2 ... 1010 is /128, 1011 is /1. */
int
lapic_divide_code(unsigned divide, uint32_t *code)
{
	unsigned log2 = 0;

	if (divide == 0 || divide > 128 || (divide & (divide - 1)))
		return PB_EINVAL;
	while ((1u << log2) != divide)
		log2++;
	if (log2 == 0) {
		*code = 0xb;
		return PB_OK;
	}
	log2--;
	*code = (log2 & 3) | ((log2 & 4) << 1);
	return PB_OK;
}

/* One-shot or periodic timer on vector; count 0 stops and masks it
 * (SDM "APIC Timer": writing the initial count starts the count-down). */
int
lapic_timer(const struct lapic *l, int vector, unsigned divide,
    uint32_t count, int periodic)
{
	uint32_t code;

	if (count == 0) {
		lapic_write(l, LAPIC_LVT_TIMER, LVT_MASKED);
		lapic_write(l, LAPIC_TIMER_INIT, 0);
		return PB_OK;
	}
	if (vector < VEC_ROUTE_MIN || vector > VEC_ROUTE_MAX ||
	    lapic_divide_code(divide, &code) != PB_OK)
		return PB_EINVAL;
	lapic_write(l, LAPIC_TIMER_DIV, code);
	lapic_write(l, LAPIC_LVT_TIMER, (uint32_t)vector |
	    (periodic ? LVT_TIMER_PERIODIC : 0));
	lapic_write(l, LAPIC_TIMER_INIT, count);
	return PB_OK;
}

uint32_t
lapic_timer_current(const struct lapic *l)
{
	return lapic_read(l, LAPIC_TIMER_CUR);
}
