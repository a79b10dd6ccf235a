/*
 * uart.h - the National Semiconductor PC16550D UART (and its clones), at
 * the register level: offsets from the I/O base, bits, and the operations
 * uart.c builds on them.
 *
 * Register names and bits are the data sheet's (PC16550D, "Register
 * Summary", Table II).  The divisor latch (DLL/DLM) overlays RBR/THR and
 * IER while LCR.DLAB is set.
 */
#ifndef SERIAL_UART_H
#define SERIAL_UART_H

#include <stddef.h>
#include <stdint.h>

enum uart_reg {
	UART_RBR = 0,		/* receiver buffer (read, DLAB=0) */
	UART_THR = 0,		/* transmitter holding (write, DLAB=0) */
	UART_DLL = 0,		/* divisor latch, low byte (DLAB=1) */
	UART_IER = 1,		/* interrupt enable (DLAB=0) */
	UART_DLM = 1,		/* divisor latch, high byte (DLAB=1) */
	UART_IIR = 2,		/* interrupt identification (read) */
	UART_FCR = 2,		/* FIFO control (write) */
	UART_LCR = 3,		/* line control */
	UART_MCR = 4,		/* modem control */
	UART_LSR = 5,		/* line status */
	UART_MSR = 6,		/* modem status */
	UART_SCR = 7,		/* scratch */
};

/* IER */
#define IER_ERBFI	0x01	/* received data available interrupt */
/* IIR bits 7:6: both set when the FIFOs are enabled (16550A) */
#define IIR_FIFOS	0xc0
/* FCR */
#define FCR_ENABLE	0x01	/* FIFO enable */
#define FCR_RXRESET	0x02	/* clear the receiver FIFO */
#define FCR_TXRESET	0x04	/* clear the transmitter FIFO */
#define FCR_TRIG14	0xc0	/* RCVR trigger level: 14 bytes */
/* LCR */
#define LCR_8N1		0x03	/* WLS = 8 bits, 1 stop bit, no parity */
#define LCR_DLAB	0x80	/* divisor latch access */
/* MCR */
#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08	/* gates the interrupt line on PCs */
#define MCR_LOOP	0x10	/* local loopback */
/* LSR */
#define LSR_DR		0x01	/* data ready */
#define LSR_OE		0x02	/* overrun error */
#define LSR_PE		0x04	/* parity error */
#define LSR_FE		0x08	/* framing error */
#define LSR_BI		0x10	/* break interrupt */
#define LSR_THRE	0x20	/* THR (or TX FIFO) empty */
#define LSR_TEMT	0x40	/* THR and shift register empty */

#define UART_CLOCK_BAUD	115200	/* 1.8432 MHz / 16: the divisor's base */
#define UART_FIFO_DEPTH	16	/* the 16550A's transmitter FIFO */

struct port;

/* Is anything decoding at this base?  Scratch register test (writes SCR). */
int uart_scratch_ok(uint16_t base);
int uart_maybe_present(uint16_t base);
/* Program baud, 8N1, FIFOs and MCR; tell the TX FIFO depth. */
void uart_setup(struct port *p, uint32_t baud);
/* Loopback test (MCR.LOOP): PB_OK, PB_ENODEV or PB_ETIMEDOUT; bytes the
 * line had delivered before it are returned in stray[]. */
int uart_loopback(struct port *p, uint8_t *stray, unsigned *nstray,
    unsigned cap);
/* Wait, bounded, for LSR bits; PB_OK or PB_ETIMEDOUT, *lsr the last read. */
int uart_wait_lsr(struct port *p, uint8_t bits, uint64_t ns, uint8_t *lsr);
/* Transmit, "\n" as "\r\n"; PB_EIO once the port is dead. */
int uart_write(struct port *p, const char *s, size_t len);
/* One received byte, UART_NONE, or UART_BAD (a byte lost to a line error). */
#define UART_NONE	(-1)
#define UART_BAD	(-2)
int uart_getc(struct port *p);
/* Receive interrupts (IER.ERBFI) on or off. */
void uart_rx_interrupts(struct port *p, int on);
/* Has a dead port's THR emptied again? */
int uart_thr_empty(struct port *p);
int uart_rx_waiting(struct port *p);

#endif
