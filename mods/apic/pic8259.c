/*
 * pic8259.c - the two 8259A PICs of a PC (Intel 8259A datasheet,
 * "Initialization Command Words", "Operation Command Words").
 *
 * They stay unused, but after the firmware they may be programmed with
 * vectors 0x08-0x0f, where an IRQ7/IRQ15 they raise on their own (the
 * "spurious" interrupt of a glitch) would look like a double fault.  So
 * where the MADT says they are there (PCAT_COMPAT) they are
 * re-initialised to 0x20-0x2f first; then every line is masked, always:
 * a board may have them (or an emulation of them) without saying so,
 * and where none answers the two writes go nowhere.
 * QEMU: the i8259 of q35 (hw/intc/i8259.c).
 */
#include "apic.h"
#include "../../abi/portio.h"

#define PIC1_CMD	0x20
#define PIC1_DATA	0x21
#define PIC2_CMD	0xa0
#define PIC2_DATA	0xa1

#define ICW1_INIT	0x10	/* D4: this is ICW1 */
#define ICW1_ICW4	0x01	/* IC4: an ICW4 follows */
#define ICW3_MASTER	0x04	/* a slave on IR2 */
#define ICW3_SLAVE	0x02	/* its cascade identity: IR2 */
#define ICW4_8086	0x01	/* uPM: 8086 mode */
#define OCW1_ALL	0xff	/* every line masked */

/* An I/O cycle to the unused POST port: the 8259 needs a moment between
 * two initialisation words on old chipsets. */
static void
io_wait(void)
{
	outb(0x80, 0);
}

/* ICW1-ICW4: vectors 0x20-0x2f, cascade on IR2, 8086 mode (ICW1 also
 * clears the mask register). */
static void
pic_reinit(void)
{
	outb(PIC1_CMD, ICW1_INIT | ICW1_ICW4);		/* edge, cascade */
	io_wait();
	outb(PIC2_CMD, ICW1_INIT | ICW1_ICW4);
	io_wait();
	outb(PIC1_DATA, VEC_PIC_BASE);			/* ICW2: vectors */
	io_wait();
	outb(PIC2_DATA, VEC_PIC_BASE + 8);
	io_wait();
	outb(PIC1_DATA, ICW3_MASTER);			/* ICW3 */
	io_wait();
	outb(PIC2_DATA, ICW3_SLAVE);
	io_wait();
	outb(PIC1_DATA, ICW4_8086);			/* ICW4 */
	io_wait();
	outb(PIC2_DATA, ICW4_8086);
	io_wait();
}

/* Re-initialised if `reinit` (the MADT's PCAT_COMPAT), masked always. */
void
pic_disable(int reinit)
{
	if (reinit)
		pic_reinit();
	outb(PIC1_DATA, OCW1_ALL);			/* OCW1: mask */
	outb(PIC2_DATA, OCW1_ALL);
}
