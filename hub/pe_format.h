/*
 * pe_format.h - the PE32+ on-disk structures the loader reads.
 *
 * Layouts follow the Microsoft PE/COFF specification ("PE Format"):
 * section 3 (MS-DOS stub, signature), 3.3 (COFF file header), 3.4 (optional
 * header, PE32+ form), 4 (section table) and 6.6 (.reloc).  Fields are read
 * with memcpy from the file image, so none of them needs to be aligned.
 */
#ifndef PB_HUB_PE_FORMAT_H
#define PB_HUB_PE_FORMAT_H

#include <stdint.h>

#define PE_DOS_MAGIC		0x5a4d		/* "MZ" */
#define PE_SIGNATURE		0x00004550u	/* "PE\0\0" */
#define PE_MACHINE_AMD64	0x8664
#define PE_OPT_MAGIC_PE32P	0x20b

/* COFF Characteristics (spec 3.3.2). */
#define PE_FILE_RELOCS_STRIPPED	0x0001
#define PE_FILE_EXECUTABLE	0x0002

/* Section Characteristics (spec 4.1). */
#define PE_SCN_CNT_CODE		0x00000020u
#define PE_SCN_CNT_IDATA	0x00000040u
#define PE_SCN_CNT_UDATA	0x00000080u
#define PE_SCN_MEM_DISCARDABLE	0x02000000u
#define PE_SCN_MEM_EXECUTE	0x20000000u
#define PE_SCN_MEM_READ		0x40000000u
#define PE_SCN_MEM_WRITE	0x80000000u

/* Data directory indexes (spec 3.4.3). */
enum {
	PE_DIR_EXPORT = 0,
	PE_DIR_IMPORT = 1,
	PE_DIR_EXCEPTION = 3,
	PE_DIR_BASERELOC = 5,
	PE_DIR_TLS = 9,
	PE_DIR_IAT = 12,
	PE_DIR_DELAY_IMPORT = 13,
	PE_DIR_CLR = 14,
	PE_DIR_MAX = 16,
};

/* Base relocation types (spec 6.6.2). */
#define PE_REL_ABSOLUTE	0	/* padding, skipped */
#define PE_REL_DIR64	10	/* add the 64-bit delta */

struct pe_dos_header {
	uint16_t e_magic;
	uint8_t pad[58];
	uint32_t e_lfanew;	/* file offset of the PE signature */
};
_Static_assert(sizeof(struct pe_dos_header) == 64, "DOS header");

struct pe_coff_header {
	uint16_t machine;
	uint16_t nsections;
	uint32_t timestamp;
	uint32_t symtab;
	uint32_t nsymbols;
	uint16_t opt_size;
	uint16_t characteristics;
};
_Static_assert(sizeof(struct pe_coff_header) == 20, "COFF header");

struct pe_data_dir {
	uint32_t rva;
	uint32_t size;
};

struct pe_opt_header {
	uint16_t magic;
	uint8_t linker_major, linker_minor;
	uint32_t code_size, idata_size, udata_size;
	uint32_t entry_rva;
	uint32_t code_base;
	uint64_t image_base;
	uint32_t section_align, file_align;
	uint16_t os_major, os_minor, image_major, image_minor;
	uint16_t subsys_major, subsys_minor;
	uint32_t win32_version;
	uint32_t image_size;
	uint32_t headers_size;
	uint32_t checksum;
	uint16_t subsystem, dll_characteristics;
	uint64_t stack_reserve, stack_commit, heap_reserve, heap_commit;
	uint32_t loader_flags;
	uint32_t ndirs;
	struct pe_data_dir dirs[PE_DIR_MAX];
};
_Static_assert(__builtin_offsetof(struct pe_opt_header, image_base) == 24,
    "PE32+ ImageBase");
_Static_assert(__builtin_offsetof(struct pe_opt_header, dirs) == 112,
    "PE32+ data directories");
_Static_assert(sizeof(struct pe_opt_header) == 240, "PE32+ optional header");

struct pe_section_header {
	char name[8];
	uint32_t vsize;
	uint32_t rva;
	uint32_t raw_size;
	uint32_t raw_ptr;
	uint32_t reloc_ptr, lineno_ptr;
	uint16_t nrelocs, nlinenos;
	uint32_t characteristics;
};
_Static_assert(sizeof(struct pe_section_header) == 40, "section header");

struct pe_reloc_block {
	uint32_t page_rva;
	uint32_t block_size;	/* including this header */
};
_Static_assert(sizeof(struct pe_reloc_block) == 8, "reloc block");

#endif
