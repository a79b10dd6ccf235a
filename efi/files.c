/*
 * files.c - read the hub and the modules from the boot volume.
 *
 * The boot volume is the file system on the device the stub itself was
 * loaded from (LoadedImage->DeviceHandle), through the Simple File System
 * protocol (UEFI 2.10 §13.4, §13.5).
 */
#include "stub.h"
#include "../abi/rt/rt.h"

static EFI_GUID loaded_image_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
static EFI_GUID fs_guid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
static EFI_GUID file_info_guid = EFI_FILE_INFO_ID;

#define MODS_DIR L"\\patchbay\\mods"
#define MAX_FILE (32u << 20)

EFI_STATUS
files_open_volume(EFI_FILE_HANDLE *root)
{
	EFI_LOADED_IMAGE *li;
	EFI_FILE_IO_INTERFACE *fs;
	EFI_STATUS s;

	s = bs->HandleProtocol(image_handle, &loaded_image_guid, (void **)&li);
	if (EFI_ERROR(s))
		return s;
	s = bs->HandleProtocol(li->DeviceHandle, &fs_guid, (void **)&fs);
	if (EFI_ERROR(s))
		return s;
	return fs->OpenVolume(fs, root);
}

static EFI_STATUS
file_size(EFI_FILE_HANDLE f, UINTN *size)
{
	union { EFI_FILE_INFO info; char raw[512]; } u;
	UINTN len = sizeof(u);
	EFI_STATUS s;

	s = f->GetInfo(f, &file_info_guid, &len, &u);
	if (EFI_ERROR(s))
		return s;
	if (u.info.Attribute & EFI_FILE_DIRECTORY)
		return EFI_ACCESS_DENIED;
	if (u.info.FileSize > MAX_FILE)
		return EFI_BAD_BUFFER_SIZE;
	*size = u.info.FileSize;
	return EFI_SUCCESS;
}

EFI_STATUS
files_read(EFI_FILE_HANDLE root, const CHAR16 *path, void **data, UINTN *size)
{
	EFI_FILE_HANDLE f;
	EFI_STATUS s;
	UINTN len, got;
	void *buf = NULL;

	s = root->Open(root, &f, (CHAR16 *)path, EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(s))
		return s;
	s = file_size(f, &len);
	if (EFI_ERROR(s))
		goto close;
	/* Loader data survives ExitBootServices: the hub keeps using it. */
	s = bs->AllocatePool(EfiLoaderData, len ? len : 1, &buf);
	if (EFI_ERROR(s))
		goto close;
	got = len;
	s = f->Read(f, &got, buf);
	if (!EFI_ERROR(s) && got != len)
		s = EFI_DEVICE_ERROR;
	if (EFI_ERROR(s)) {
		bs->FreePool(buf);
		goto close;
	}
	*data = buf;
	*size = len;
close:
	f->Close(f);
	return s;
}

static int
is_module_name(const CHAR16 *n)
{
	size_t len = 0;

	while (n[len])
		len++;
	return len > 4 && n[len - 4] == '.' && (n[len - 3] | 0x20) == 'm' &&
	    (n[len - 2] | 0x20) == 'o' && (n[len - 1] | 0x20) == 'd';
}

/* Read one directory entry's file into the next handoff slot. */
static void
read_one_module(EFI_FILE_HANDLE dir, EFI_FILE_INFO *info, struct handoff *h)
{
	struct handoff_file *hf = &h->files[h->nfiles++];
	UINTN size = 0;
	void *data = NULL;
	EFI_STATUS s;

	utf16_to_utf8(info->FileName, 64, hf->name, sizeof(hf->name));
	s = files_read(dir, info->FileName, &data, &size);
	if (EFI_ERROR(s)) {
		stub_printf("error: stub: cannot read \\patchbay\\mods\\%s: %s\n",
		    hf->name, efi_strerror(s));
		hf->status = -1;
		return;
	}
	hf->data = data;
	hf->size = size;
}

EFI_STATUS
files_read_mods(EFI_FILE_HANDLE root, struct handoff *h)
{
	union { EFI_FILE_INFO info; char raw[512]; } u;
	EFI_FILE_HANDLE dir;
	EFI_STATUS s;

	s = root->Open(root, &dir, MODS_DIR, EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(s))
		return s;
	for (;;) {
		UINTN len = sizeof(u);

		s = dir->Read(dir, &len, &u);
		if (EFI_ERROR(s) || len == 0)
			break;
		/* A directory named *.mod is reported as unreadable. */
		if (!is_module_name(u.info.FileName))
			continue;
		if (h->nfiles == HANDOFF_MAX_FILES) {
			stub_printf("error: stub: more than %d modules; "
			    "the rest are skipped\n", HANDOFF_MAX_FILES);
			break;
		}
		read_one_module(dir, &u.info, h);
	}
	dir->Close(dir);
	return s;
}
