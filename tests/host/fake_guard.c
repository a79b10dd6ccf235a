/*
 * fake_guard.c - the guard pages of hub/x86_64/guard.S for the host test
 * of guardseal.c: three pages, the slots at the start of the first and
 * their copies GUARD_MIRROR bytes on, under the assembly's names; the
 * guard depth's words; and the flag domain.c keeps.  Its own file: the
 * symbol's C type here is not cpu.h's.
 */
#include <stdint.h>

uint8_t fake_guard_pages[3 * 4096] __asm__("guard_stack")
    __attribute__((aligned(4096)));
volatile uint64_t fake_depth __asm__("guard_depth")	/* and its check */
    __attribute__((aligned(8)));
volatile uint64_t fake_depth_copy __asm__("guard_depth_copy")
    __attribute__((aligned(8)));
volatile uint32_t guard_floor;		/* fault.c's on the machine */
volatile uint8_t guard_depth_healed;
uint8_t domain_on;
