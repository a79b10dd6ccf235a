/*
 * hubload.c - load hub.pe with the hub's own PE loader (hub/pe.c) into
 * pages of loader code, which stay put after ExitBootServices.
 */
#include "stub.h"
#include "../hub/pe.h"
#include "../abi/rt/rt.h"

EFI_STATUS
hub_load(const void *file, UINTN size, struct handoff *h, hub_entry_fn *entry)
{
	struct pe_image img;
	EFI_PHYSICAL_ADDRESS addr;
	const char *why = "";
	EFI_STATUS s;

	if (pe_parse(file, size, &img, &why)) {
		stub_printf("error: stub: \\patchbay\\hub.pe refused: %s\n", why);
		return EFI_LOAD_ERROR;
	}
	if (!img.entry_rva) {
		stub_printf("error: stub: \\patchbay\\hub.pe has no entry point\n");
		return EFI_LOAD_ERROR;
	}
	s = bs->AllocatePages(AllocateAnyPages, EfiLoaderCode,
	    img.image_size / PE_PAGE, &addr);
	if (EFI_ERROR(s))
		return s;
	memset((void *)(uintptr_t)addr, 0, img.image_size);
	if (pe_load(&img, (void *)(uintptr_t)addr, addr, &why)) {
		stub_printf("error: stub: \\patchbay\\hub.pe: %s\n", why);
		bs->FreePages(addr, img.image_size / PE_PAGE);
		return EFI_LOAD_ERROR;
	}
	stub_make_executable(addr, img.image_size, "hub image");
	h->hub_base = addr;
	h->hub_size = img.image_size;
	_Static_assert(HANDOFF_MAX_SECTIONS == PE_MAX_SECTIONS, "sections");
	h->hub_nsections = img.nsections;
	for (uint32_t i = 0; i < img.nsections; i++)
		h->hub_sections[i] = (struct handoff_section){
		    img.sections[i].rva, img.sections[i].vsize,
		    (uint32_t)img.sections[i].prot };
	*entry = (hub_entry_fn)(uintptr_t)(addr + img.entry_rva);
	return EFI_SUCCESS;
}
