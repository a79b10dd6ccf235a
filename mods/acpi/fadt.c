/*
 * fadt.c - the Fixed ACPI Description Table (ACPI 6.5 §5.2.9): the ACPI PM
 * timer, the IA-PC boot architecture flags, the CMOS century index, the
 * reset register, the SCI, and where the DSDT and FACS are.
 *
 * The FADT grew with every revision: ACPI 1.0's ends at `flags` (116
 * bytes); 2.0 (revision 3) added the reset register and the 64-bit X_
 * fields.  A field is read only when the table's length covers all of it,
 * and IAPC_BOOT_ARCH only from revision 2 on (reserved before).  Where
 * both a 32-bit field and its X_ twin are set, the X_ one wins (§5.2.9,
 * Table 5.9 notes on X_DSDT, X_FIRMWARE_CTRL and X_PM_TMR_BLK).
 *
 * QEMU 7.2 q35: revision 3, 244 bytes; PM timer at I/O port 0x608 (also
 * in X_PM_TMR_BLK), 24 bits (no TMR_VAL_EXT); century at CMOS 0x32; reset register I/O
 * 0xcf9, value 0xf; SCI 9; IAPC_BOOT_ARCH 0x2 (8042 only); X_DSDT set,
 * the FACS in FIRMWARE_CTRL only.
 */
#include "../../abi/rt/rt.h"
#include "scan.h"
#include "spec.h"

/* A copy of the first len bytes of the FADT, the rest zero. */
static void
copy(struct fadt *f, const uint8_t *t, uint32_t len)
{
	memset(f, 0, sizeof(*f));
	memcpy(f, t, len < sizeof(*f) ? len : sizeof(*f));
}

#define HAS(len, field) ((len) >= FADT_END(field))

void
acpi_fadt_links(const uint8_t *t, uint32_t len, uint64_t *dsdt,
    uint64_t *facs)
{
	struct fadt f;

	copy(&f, t, len);
	*dsdt = HAS(len, x_dsdt) && f.x_dsdt ? f.x_dsdt :
	    HAS(len, dsdt) ? f.dsdt : 0;
	*facs = HAS(len, x_firmware_ctrl) && f.x_firmware_ctrl ?
	    f.x_firmware_ctrl : HAS(len, firmware_ctrl) ? f.firmware_ctrl : 0;
}

/* The PM timer's I/O port (§4.8.3.3), 0 when there is none we can use. */
static uint32_t
pm_timer(struct acpi_set *s, const struct fadt *f, uint32_t len)
{
	const struct gas *x = &f->x_pm_tmr_blk;

	if (f->flags & FADT_HW_REDUCED_ACPI)
		return 0;
	if (HAS(len, x_pm_tmr_blk) && x->address) {
		if (x->address_space_id == GAS_IO && x->address <= 0xfffc)
			return (uint32_t)x->address;
		acpi_logf(s, PB_LOG_WARN, "FADT: X_PM_TMR_BLK 0x%llx in "
		    "address space %u is not an I/O port; no PM timer",
		    (unsigned long long)x->address, x->address_space_id);
		return 0;
	}
	/* PM_TMR_LEN is 4 when the timer exists (Table 5.9). */
	if (HAS(len, pm_tmr_len) && f->pm_tmr_blk && f->pm_tmr_len >= 4 &&
	    f->pm_tmr_blk <= 0xfffc)
		return f->pm_tmr_blk;
	return 0;
}

void
acpi_fadt_parse(struct acpi_set *s, const uint8_t *t, uint32_t len)
{
	struct acpi_platform *p = &s->plat;
	struct fadt f;

	if (len < sizeof(struct sdt_header))
		return;
	copy(&f, t, len);
	p->have_fadt = 1;
	p->fadt_revision = f.header.revision;
	if (HAS(len, sci_int))
		p->sci_int = f.sci_int;
	if (HAS(len, century))
		p->century = f.century;
	if (HAS(len, flags))
		p->fadt_flags = f.flags;
	if (f.header.revision >= 2 && HAS(len, iapc_boot_arch))
		p->iapc_boot_arch = f.iapc_boot_arch;
	p->pm_tmr_port = pm_timer(s, &f, len);
	p->pm_tmr_32bit = (p->fadt_flags & FADT_TMR_VAL_EXT) != 0;
	if (f.header.revision >= 2 && HAS(len, reset_value)) {
		p->reset_reg = (struct acpi_gas){
		    .space = f.reset_reg.address_space_id,
		    .bit_width = f.reset_reg.register_bit_width,
		    .bit_offset = f.reset_reg.register_bit_offset,
		    .access_size = f.reset_reg.access_size,
		    .address = f.reset_reg.address };
		p->reset_value = f.reset_value;
	}
}
