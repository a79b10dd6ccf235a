/*
 * dmar.c - the DMA Remapping Reporting table (Intel VT-d 4.1 §8.1): only
 * its fixed part, for its flags.  Bit 1, X2APIC_OPT_OUT, is the firmware
 * asking the OS not to switch the local APICs to x2APIC mode (its SMM
 * code may still use the xAPIC page); bit 0 says interrupt remapping is
 * there.  The remapping units behind the header are nobody's business
 * here: nothing programs an IOMMU.
 * QEMU: a DMAR only with -device intel-iommu (q35).
 */
#include "../../abi/rt/rt.h"
#include "scan.h"
#include "spec.h"

void
acpi_dmar_parse(struct acpi_set *s, const uint8_t *t, uint32_t len)
{
	struct acpi_platform *p = &s->plat;
	struct dmar d;

	if (len < sizeof(d))
		return;
	memcpy(&d, t, sizeof(d));
	p->have_dmar = 1;
	p->dmar_flags = d.flags;
}
