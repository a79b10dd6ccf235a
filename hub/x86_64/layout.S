/*
 * layout.S - markers at the ends of the hub's .text and .rdata.
 *
 * The loader may not keep the hub's PE headers in memory, yet paging.c
 * must know where code ends and read-only data ends to map the hub W^X.
 * Grouped sections ("name$suffix") are merged into the section named
 * before the '$', ordered by suffix (Microsoft PE/COFF specification
 * §4.2 "Grouped Sections"), so these sort after every other contribution
 * of the object files.  The .text marker is then the last byte of code;
 * lld-link may still append merged string constants after the .rdata
 * marker, which paging.c allows for.
 */
	.section .text$zzzz, "xr"
	.globl hub_text_end
hub_text_end:
	int3

	.section .rdata$zzzz, "dr"
	.globl hub_rdata_end
hub_rdata_end:
	.byte 0
