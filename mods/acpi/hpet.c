/*
 * hpet.c - the HPET description table (IA-PC HPET spec 1.0a §3.2.4): where
 * the event timer block is, its number, and the smallest tick the
 * firmware allows for periodic mode.
 *
 * The block is memory-mapped: a base address in I/O space (or a null one)
 * is logged and ignored, and hpet_phys stays 0 (no HPET).  QEMU 7.2 q35:
 * one block at 0xfed00000, number 0, minimum tick 0 (QEMU leaves it
 * unset); no table with -machine hpet=off.
 */
#include "../../abi/rt/rt.h"
#include "scan.h"
#include "spec.h"

void
acpi_hpet_parse(struct acpi_set *s, const uint8_t *t, uint32_t len)
{
	struct acpi_platform *p = &s->plat;
	struct hpet_table h;

	if (len < sizeof(h))
		return;
	memcpy(&h, t, sizeof(h));
	if (h.base_address.address_space_id != GAS_MEMORY ||
	    !h.base_address.address) {
		acpi_logf(s, PB_LOG_WARN, "HPET: base 0x%llx in address space "
		    "%u is not memory; no HPET",
		    (unsigned long long)h.base_address.address,
		    h.base_address.address_space_id);
		return;
	}
	p->hpet_phys = h.base_address.address;
	p->hpet_number = h.hpet_number;
	p->hpet_min_tick = h.main_counter_minimum_clock_tick;
}
