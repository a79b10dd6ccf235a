/*
 * msi.c - the message a PCI device writes to interrupt this CPU (Intel
 * SDM Vol. 3A, "Message Signalled Interrupts": "Message Address Register
 * Format" and "Message Data Register Format").
 *
 * Address: 0xFEE in bits 31:20, the destination APIC ID in 19:12, RH = 0
 * and DM = 0 (physical destination, no redirection).  Data: the vector in
 * 7:0, delivery mode fixed (10:8 = 000), edge triggered (bit 15 = 0).
 * Without interrupt remapping an APIC ID above 255 cannot be named.
 */
#include "apic.h"

#define MSI_ADDR_BASE	0xfee00000u
#define MSI_DEST_SHIFT	12

int
msi_compose(uint32_t apic_id, int vector, uint64_t *addr, uint32_t *data)
{
	if (vector < VEC_ROUTE_MIN || vector > VEC_ROUTE_MAX)
		return PB_EINVAL;
	if (apic_id > 0xff)
		return PB_ENOTSUP;
	*addr = MSI_ADDR_BASE | (apic_id << MSI_DEST_SHIFT);
	*data = (uint32_t)vector;
	return PB_OK;
}
