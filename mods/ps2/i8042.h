/*
 * i8042.h - the PC's 8042 keyboard controller at the register level:
 * ports, status and configuration bits, controller commands, and the
 * bounded waits i8042.c builds on them.
 *
 * Names follow the IBM PC/AT Technical Reference ("Keyboard Controller")
 * as retold by wiki.osdev.org "8042 PS/2 Controller".  Port 0x64 reads
 * the status register and takes controller commands; port 0x60 is the
 * data port both ways.  A machine without a controller (QEMU -machine
 * q35,i8042=off, many recent PCs) reads 0xff from both.
 */
#ifndef PS2_I8042_H
#define PS2_I8042_H

#include <stdint.h>

#define I8042_DATA	0x60
#define I8042_STATUS	0x64	/* read */
#define I8042_CMD	0x64	/* write */

/* Status register (port 0x64, read). */
#define ST_OBF		0x01	/* output buffer full: 0x60 has a byte */
#define ST_IBF		0x02	/* input buffer full: do not write yet */
#define ST_SYS		0x04	/* system flag (POST passed) */
#define ST_CMD		0x08	/* last write went to 0x64 */
#define ST_AUX		0x20	/* the byte in 0x60 came from port 2 */
#define ST_TIMEOUT	0x40
#define ST_PARITY	0x80
#define ST_ABSENT	0xff	/* what a missing controller reads */

/* Controller configuration byte (commands 0x20 / 0x60). */
#define CFG_IRQ1	0x01	/* port 1 interrupt (ISA IRQ 1) */
#define CFG_IRQ12	0x02	/* port 2 interrupt (ISA IRQ 12) */
#define CFG_SYS		0x04	/* system flag */
#define CFG_CLK1_OFF	0x10	/* port 1 clock disabled */
#define CFG_CLK2_OFF	0x20	/* port 2 clock disabled */
#define CFG_XLATE	0x40	/* port 1 translation (set 2 -> set 1) */

/* Controller commands (port 0x64). */
#define CMD_READ_CFG	0x20
#define CMD_WRITE_CFG	0x60
#define CMD_PORT2_OFF	0xa7
#define CMD_SELF_TEST	0xaa	/* answers 0x55 */
#define CMD_PORT1_TEST	0xab	/* answers 0x00 */
#define CMD_PORT1_OFF	0xad
#define CMD_PORT1_ON	0xae

#define SELF_TEST_OK	0x55
#define PORT_TEST_OK	0x00

/* Bounds on every wait (hub clock).  Controllers answer in microseconds;
 * the self-test of some real ones takes tens of milliseconds. */
#define I8042_WRITE_NS	(50ull * 1000 * 1000)	/* IBF clear */
#define I8042_READ_NS	(100ull * 1000 * 1000)	/* OBF set */
#define I8042_TEST_NS	(500ull * 1000 * 1000)	/* self-test answer */
#define I8042_FLUSH_MAX	32	/* bytes read while flushing: a full
				 * keyboard buffer is 16-17 */

/* Every wait gives up with PB_ETIMEDOUT and *why naming the register. */
int i8042_status(void);
int i8042_write_cmd(uint8_t cmd, const char **why);
int i8042_write_data(uint8_t v, const char **why);
/* The next byte from port 0x60 within ns; PB_ETIMEDOUT otherwise. */
int i8042_read(uint64_t ns, uint8_t *v, const char **why);
/* A command that answers one byte. */
int i8042_query(uint8_t cmd, uint64_t ns, uint8_t *v, const char **why);
int i8042_write_cfg(uint8_t cfg, const char **why);
/* Bring the controller up with port 1 on and no interrupts (i8042.c);
 * with `selftest`, the controller's and port 1's self-tests too.
 * *dropped: the bytes found waiting in the output buffer and dropped. */
int i8042_init(int selftest, uint8_t *cfg, unsigned *dropped,
    const char **why);
/* Read and drop what waits in the output buffer (bounded); how many. */
unsigned i8042_flush(void);

#endif
