/*
 * memattr.c - making the hub's code and the module pool executable on
 * firmware that maps loader memory no-execute.
 *
 * Newer EDK2 builds (with PcdDxeNxMemoryProtectionPolicy covering loader
 * memory, and an NX-compatible stub, which lld-link marks by default) map
 * fresh allocations no-execute and expect a loader to lift that through
 * EFI_MEMORY_ATTRIBUTE_PROTOCOL (UEFI 2.10 §37.7).  The hub and the module
 * images live in loader-code pages, which older firmware leaves executable;
 * where the protocol exists, XP and RO are cleared on them as well.  The
 * hub's own page tables take W^X over after the takeover.
 */
#include "stub.h"

/* UEFI 2.10 §37.7.1 */
static EFI_GUID memattr_guid = { 0xf4560cf6, 0x40ec, 0x4b4a,
    { 0xa1, 0x92, 0xbf, 0x1d, 0x57, 0xd0, 0xb1, 0x89 } };

#define EFI_MEMORY_XP_ATTR 0x4000ull	/* UEFI 2.10 §7.2, GetMemoryMap() */
#define EFI_MEMORY_RO_ATTR 0x20000ull

typedef struct memattr_protocol {
	EFI_STATUS (EFIAPI *GetMemoryAttributes)(struct memattr_protocol *self,
	    EFI_PHYSICAL_ADDRESS base, UINT64 len, UINT64 *attrs);
	EFI_STATUS (EFIAPI *SetMemoryAttributes)(struct memattr_protocol *self,
	    EFI_PHYSICAL_ADDRESS base, UINT64 len, UINT64 attrs);
	EFI_STATUS (EFIAPI *ClearMemoryAttributes)(
	    struct memattr_protocol *self, EFI_PHYSICAL_ADDRESS base,
	    UINT64 len, UINT64 attrs);
} memattr_protocol;

/*
 * Let the CPU run code in [base, base+len) (page-aligned loader-code
 * pages).  Says what it did: the pages' memory type alone, or the
 * protocol's XP cleared too.
 */
void
stub_make_executable(EFI_PHYSICAL_ADDRESS base, UINT64 len, const char *what)
{
	memattr_protocol *ma = NULL;
	UINT64 attrs = 0;
	EFI_STATUS s;

	s = bs->LocateProtocol(&memattr_guid, NULL, (void **)&ma);
	if (EFI_ERROR(s) || !ma) {
		stub_printf("stub: %s: loader code pages (no memory attribute "
		    "protocol)\n", what);
		return;
	}
	s = ma->GetMemoryAttributes(ma, base, len, &attrs);
	if (EFI_ERROR(s))
		attrs = EFI_MEMORY_XP_ATTR | EFI_MEMORY_RO_ATTR;
	if (!(attrs & (EFI_MEMORY_XP_ATTR | EFI_MEMORY_RO_ATTR))) {
		stub_printf("stub: %s: loader code pages, executable\n", what);
		return;
	}
	s = ma->ClearMemoryAttributes(ma, base, len,
	    attrs & (EFI_MEMORY_XP_ATTR | EFI_MEMORY_RO_ATTR));
	if (EFI_ERROR(s))
		stub_printf("error: stub: %s: cannot clear no-execute through "
		    "the memory attribute protocol: %s\n", what,
		    efi_strerror(s));
	else
		stub_printf("stub: %s: loader code pages, no-execute cleared "
		    "through the memory attribute protocol\n", what);
}
