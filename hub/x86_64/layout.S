/*
 * layout.S - a marker at the end of the hub's .text.
 *
 * domain.c must know where the hub's code ends (paging.c has the
 * sections from the stub, through the handoff).
 * Grouped sections ("name$suffix") are merged into the section named
 * before the '$', ordered by suffix (Microsoft PE/COFF specification
 * §4.2 "Grouped Sections"), so these sort after every other contribution
 * of the object files: the marker is the last byte of code.
 */
	.section .text$zzzz, "xr"
	.globl hub_text_end
hub_text_end:
	int3

