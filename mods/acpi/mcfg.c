/*
 * mcfg.c - the PCI Express ECAM windows (PCI Firmware spec 3.2 §4.1.2,
 * the MCFG table ACPI 6.5 §5.2.6 reserves the signature for).
 *
 * Each allocation structure gives a segment group, a bus range and the
 * base address of its configuration space.  The base is that of bus 0
 * even when the range starts later: bus b's space is at base + (b << 20)
 * (Linux arch/x86/pci/mmconfig_64.c does the same).  A window with a bus
 * range backwards or a null base is logged and left out.
 *
 * QEMU q35: one window, segment 0, buses 0-255, at 0xb0000000 (the
 * MCH's PCIEXBAR; 0xe0000000 on older machine types).
 */
#include "../../abi/rt/rt.h"
#include "scan.h"
#include "spec.h"

void
acpi_mcfg_parse(struct acpi_set *s, const uint8_t *t, uint32_t len)
{
	struct acpi_platform *p = &s->plat;
	struct mcfg_allocation a;
	uint32_t n;

	if (len < sizeof(struct mcfg))
		return;
	n = (len - sizeof(struct mcfg)) / sizeof(a);
	if ((len - sizeof(struct mcfg)) % sizeof(a))
		acpi_logf(s, PB_LOG_WARN, "MCFG: length %u leaves a partial "
		    "entry; ignored", len);
	for (uint32_t i = 0; i < n; i++) {
		memcpy(&a, t + sizeof(struct mcfg) + i * sizeof(a), sizeof(a));
		if (!a.base_address ||
		    a.start_bus_number > a.end_bus_number) {
			acpi_logf(s, PB_LOG_WARN, "MCFG: window %u (segment %u "
			    "buses %u-%u at 0x%llx) is invalid; skipped", i,
			    a.pci_segment_group, a.start_bus_number,
			    a.end_bus_number,
			    (unsigned long long)a.base_address);
			continue;
		}
		if (p->necam == ACPI_MAX_ECAM) {
			acpi_logf(s, PB_LOG_WARN, "MCFG: more than %u windows; "
			    "the rest are left out", ACPI_MAX_ECAM);
			break;
		}
		p->ecam[p->necam++] = (struct acpi_ecam){
		    .base = a.base_address, .segment = a.pci_segment_group,
		    .bus_start = a.start_bus_number,
		    .bus_end = a.end_bus_number };
	}
}
