/*
 * uart.c - the 16550 at the register level (PC16550D data sheet).
 *
 * Every wait polls LSR against a deadline from the hub's clock and gives
 * up with the register named: a PC without a given COM port reads 0xff
 * everywhere, and a port whose line is stuck must never hang the system.
 *
 * Try it: tools/qemu-run (COM1 on stdio); --extra '-serial file:/tmp/com2'
 * adds COM2 at 0x2f8.  QEMU builds no 16550 at all with `-serial none`
 * (qemu-run always asks for COM1, so run QEMU itself), and only COM2 with
 * `-serial none -chardev file,id=c2,path=/tmp/com2
 * -device isa-serial,index=1,chardev=c2`.
 */
#include "serial.h"
#include "../../abi/portio.h"
#include "uart.h"

#define THRE_WAIT_NS	50000000ull	/* 50 ms; 16 bytes leave in 1.4 ms */
#define LOOP_WAIT_NS	5000000ull	/* 5 ms; one byte takes 87 us */
#define LOOP_BYTE	0xae
#define EMPTY_SLOT	0xff		/* what a missing port reads */

static uint8_t
rd(const struct port *p, enum uart_reg r)
{
	return inb((uint16_t)(p->base + r));
}

static void
wr(const struct port *p, enum uart_reg r, uint8_t v)
{
	outb((uint16_t)(p->base + r), v);
}

/* SCR holds what was written and does nothing else ("Scratchpad
 * Register"); two patterns, so a floating bus that echoes cannot pass. */
int
uart_scratch_ok(uint16_t base)
{
	static const uint8_t pat[] = { 0x5a, 0xa5 };

	for (unsigned i = 0; i < sizeof(pat); i++) {
		outb((uint16_t)(base + UART_SCR), pat[i]);
		if (inb((uint16_t)(base + UART_SCR)) != pat[i])
			return 0;
	}
	return 1;
}

/* Could a UART be at base?  Read-only, for standby, while the firmware
 * may still drive the port: an empty I/O slot reads 0xff, and no 16550's
 * LSR has bit 7 (FIFO error) with every other bit set at once. */
int
uart_maybe_present(uint16_t base)
{
	return inb((uint16_t)(base + UART_LSR)) != 0xff;
}

int
uart_wait_lsr(struct port *p, uint8_t bits, uint64_t ns, uint8_t *lsr)
{
	uint64_t deadline;

	if (((*lsr = rd(p, UART_LSR)) & bits) == bits)
		return PB_OK;
	deadline = ser.hub->now_ns() + ns;
	do {
		if (((*lsr = rd(p, UART_LSR)) & bits) == bits)
			return PB_OK;
	} while (ser.hub->now_ns() < deadline);
	return PB_ETIMEDOUT;
}

/*
 * Baud rate, 8N1, FIFOs, modem control.  The receiver FIFO is not reset
 * (FCR.RXRESET): the caller drained it, and what arrives meanwhile is
 * keys.  IIR bits 7:6 tell whether the FIFOs really are on (a 16450 or a
 * buggy 16550 has none): only then does THRE mean room for 16 bytes.
 */
void
uart_setup(struct port *p, uint32_t baud)
{
	uint16_t div = (uint16_t)(UART_CLOCK_BAUD / baud);

	wr(p, UART_IER, 0);		/* none until rx_start chooses */
	wr(p, UART_LCR, LCR_DLAB);
	wr(p, UART_DLL, (uint8_t)div);
	wr(p, UART_DLM, (uint8_t)(div >> 8));
	wr(p, UART_LCR, LCR_8N1);		/* and DLAB off */
	wr(p, UART_FCR, FCR_ENABLE | FCR_TRIG14);
	p->fifo = (rd(p, UART_IIR) & IIR_FIFOS) == IIR_FIFOS ?
	    UART_FIFO_DEPTH : 1;
	wr(p, UART_MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
}

/* In loopback the modem outputs drive the modem inputs ("Modem Control
 * Register", bit 4): MSR's DCD RI DSR CTS read back OUT2 OUT1 DTR RTS. */
static int
loop_msr_ok(struct port *p)
{
	wr(p, UART_MCR, MCR_LOOP | MCR_OUT2 | MCR_OUT1 | MCR_RTS | MCR_DTR);
	if ((rd(p, UART_MSR) & 0xf0) != 0xf0)
		return 0;
	wr(p, UART_MCR, MCR_LOOP);
	return (rd(p, UART_MSR) & 0xf0) == 0;
}

/*
 * A byte sent in loopback must come back to RBR.  Bytes from the line
 * that were already in the receiver come out first: they go to `stray`
 * (at most cap of them) for the caller to keep as keys.
 */
int
uart_loopback(struct port *p, uint8_t *stray, unsigned *nstray, unsigned cap)
{
	uint8_t mcr = rd(p, UART_MCR), lsr = 0;
	int r = PB_ENODEV;

	*nstray = 0;
	if (!loop_msr_ok(p))
		goto out;
	wr(p, UART_THR, LOOP_BYTE);
	for (unsigned tries = 0; tries <= cap; tries++) {
		uint8_t c;

		if ((r = uart_wait_lsr(p, LSR_DR, LOOP_WAIT_NS, &lsr)) != PB_OK)
			break;
		if ((c = rd(p, UART_RBR)) == LOOP_BYTE) {
			r = PB_OK;
			break;
		}
		r = PB_ENODEV;
		if (*nstray < cap)
			stray[(*nstray)++] = c;
	}
out:
	wr(p, UART_MCR, mcr);
	return r;
}

/* One byte into THR, after waiting for THRE when the FIFO may be full.
 * A port whose THR does not empty in time is dead (port_check says so). */
static int
put(struct port *p, uint8_t c, unsigned *room)
{
	uint8_t lsr;

	if (!*room) {
		if (uart_wait_lsr(p, LSR_THRE, THRE_WAIT_NS, &lsr) != PB_OK) {
			p->dead = 1;
			p->dead_lsr = lsr;
			p->deaths++;
			return PB_EIO;
		}
		*room = p->fifo;
	}
	wr(p, UART_THR, c);
	(*room)--;
	return PB_OK;
}

int
uart_write(struct port *p, const char *s, size_t len)
{
	unsigned room = 0;

	if (p->dead)
		return PB_EIO;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n' && put(p, '\r', &room) != PB_OK)
			return PB_EIO;
		if (put(p, (uint8_t)s[i], &room) != PB_OK)
			return PB_EIO;
	}
	return len > 0x7fffffff ? 0x7fffffff : (int)len;
}

/* LSR's error bits describe the byte at the top of the FIFO. */
int
uart_getc(struct port *p)
{
	uint8_t lsr = rd(p, UART_LSR), c;

	if (lsr == EMPTY_SLOT || !(lsr & LSR_DR))
		return UART_NONE;
	if (lsr & LSR_OE)
		p->overruns++;
	c = rd(p, UART_RBR);
	if (lsr & (LSR_FE | LSR_PE | LSR_BI))
		return UART_BAD;
	return c;
}

/* LSR.DR: a byte waits in RBR (or the FIFO). */
int
uart_rx_waiting(struct port *p)
{
	uint8_t lsr = rd(p, UART_LSR);

	return lsr != EMPTY_SLOT && (lsr & LSR_DR);
}

int
uart_thr_empty(struct port *p)
{
	return (rd(p, UART_LSR) & LSR_THRE) != 0;
}

/* "Interrupt Enable Register": bit 0 raises INTRPT for received data
 * (and the FIFO's character timeout); MCR.OUT2, set in uart_setup, gates
 * INTRPT onto the PC's ISA line. */
void
uart_rx_interrupts(struct port *p, int on)
{
	wr(p, UART_IER, on ? IER_ERBFI : 0);
}
