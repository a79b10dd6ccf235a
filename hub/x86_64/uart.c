/*
 * uart.c - the hub's own minimal COM1 writer: the log's sink from
 * ExitBootServices on while no reader (the shell) shows the log, and for
 * what it had not shown at a reset or a fatal fault.
 *
 * 16550 registers (PC16550D data sheet): THR/RBR at +0, IER +1, IIR/FCR
 * +2, LCR +3, MCR +4, LSR +5, SCR +7.  Many PCs have no COM1 and read 0xFF
 * everywhere, so we probe with the scratch register first and bound every
 * wait on LSR.THRE.
 *
 * The UART is the firmware's until ExitBootServices, and even after it
 * its receiver may hold keys the user typed that the serial module will
 * take over: so uart_init runs only after the exit, and never resets the
 * receiver FIFO (FCR.RXRESET), which would drop them.
 */
#include "arch.h"
#include "../hub.h"

#define COM1 0x3f8
#define LSR_THRE 0x20
#define IIR_FIFOS 0xc0		/* IIR bits 7:6: the FIFOs are on */
#define FCR_ENABLE 0x01

static int uart_present;

int
uart_init(void)
{
	outb(COM1 + 7, 0x5a);
	if (inb(COM1 + 7) != 0x5a)
		return uart_present = 0;
	outb(COM1 + 1, 0x00);		/* IER: no interrupts */
	outb(COM1 + 3, 0x80);		/* LCR: DLAB to set the divisor */
	outb(COM1 + 0, 0x01);		/* 115200 = 115200 / 1 */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03);		/* 8N1 */
	/* Turning the FIFOs on (or off) clears them; leave them if on. */
	if ((inb(COM1 + 2) & IIR_FIFOS) != IIR_FIFOS)
		outb(COM1 + 2, FCR_ENABLE);
	outb(COM1 + 4, 0x03);		/* MCR: DTR, RTS */
	return uart_present = 1;
}

static void
uart_putc(char c)
{
	/* About 1 ms at 115200 baud is 11 characters; give up well after. */
	for (int spin = 0; spin < 100000; spin++)
		if (inb(COM1 + 5) & LSR_THRE)
			break;
	outb(COM1, (uint8_t)c);
}

void
uart_write(const char *s, size_t len)
{
	if (!uart_present)
		return;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
}
