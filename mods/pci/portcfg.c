/*
 * portcfg.c - configuration access through Configuration Mechanism #1
 * (PCI 3.0 §3.2.2.3.2), for machines whose firmware gives no MCFG: a
 * dword address written to CONFIG_ADDRESS (0xCF8), then the data port
 * CONFIG_DATA (0xCFC + the offset's low two bits) read or written at the
 * register's width.  Only the first 256 bytes of each function are
 * reachable this way.
 *
 * The address/data pair is two accesses: nothing else may touch 0xCF8 in
 * between.  This module is the only user of the ports and runs as work
 * items, which do not interleave; interrupt handlers never touch them.
 */
#include "pcibus.h"
#include "../../abi/portio.h"

#define CONFIG_ADDRESS	0xcf8
#define CONFIG_DATA	0xcfc
#define CONFIG_ENABLE	0x80000000u	/* bit 31 of CONFIG_ADDRESS */

/*
 * 8-, 16- and 32-bit port I/O (abi/portio.h).  The host tests put a
 * model of the two ports behind these (PB_HOSTED).
 */
#ifdef PB_HOSTED
uint32_t cfgport_in(uint16_t port, unsigned width);
void cfgport_out(uint16_t port, unsigned width, uint32_t v);
#else
static uint32_t
cfgport_in(uint16_t port, unsigned width)
{
	return width == 1 ? inb(port) : width == 2 ? inw(port) : inl(port);
}

static void
cfgport_out(uint16_t port, unsigned width, uint32_t v)
{
	if (width == 1)
		outb(port, (uint8_t)v);
	else if (width == 2)
		outw(port, (uint16_t)v);
	else
		outl(port, v);
}
#endif

static void
select_reg(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	cfgport_out(CONFIG_ADDRESS, 4, CONFIG_ENABLE | bus << 16 | dev << 11 |
	    fn << 8 | (off & 0xfc));
}

static uint32_t
port_read(void *ctx, unsigned bus, unsigned dev, unsigned fn, unsigned off,
    unsigned width)
{
	(void)ctx;
	select_reg(bus, dev, fn, off);
	return cfgport_in(CONFIG_DATA + (off & 3), width);
}

static void
port_write(void *ctx, unsigned bus, unsigned dev, unsigned fn, unsigned off,
    unsigned width, uint32_t v)
{
	(void)ctx;
	select_reg(bus, dev, fn, off);
	cfgport_out(CONFIG_DATA + (off & 3), width, v);
}

const struct cfg_ops portcfg_ops = { port_read, port_write };

/*
 * Is mechanism #1 there?  CONFIG_ADDRESS is a read/write dword register
 * (a byte write to 0xCFB selects it on chipsets that also had mechanism
 * #2); it must keep what is written to it.  Then some device on bus 0
 * must answer: ports that merely latch are not a PCI bus.
 */
static int
mech1_present(void)
{
	uint32_t saved, got;
	int any = 0;

	cfgport_out(CONFIG_ADDRESS + 3, 1, 0x01);
	saved = cfgport_in(CONFIG_ADDRESS, 4);
	cfgport_out(CONFIG_ADDRESS, 4, CONFIG_ENABLE);
	got = cfgport_in(CONFIG_ADDRESS, 4);
	cfgport_out(CONFIG_ADDRESS, 4, saved);
	if (got != CONFIG_ENABLE) {
		pci_log(PB_LOG_WARN, "CONFIG_ADDRESS (0xcf8) reads 0x%08x after "
		    "writing 0x%08x: no configuration mechanism #1", got,
		    CONFIG_ENABLE);
		return 0;
	}
	for (unsigned dev = 0; dev < PCI_NDEV && !any; dev++) {
		uint32_t id = port_read(NULL, 0, dev, 0, PCI_VENDOR_ID, 4);

		any = (id & 0xffff) != 0xffff && (id & 0xffff) != 0;
	}
	if (!any)
		pci_log(PB_LOG_WARN, "configuration mechanism #1: no device "
		    "answers on bus 0");
	return any;
}

int
portcfg_open(struct segment *s)
{
	if (!mech1_present())
		return PB_ENODEV;
	*s = (struct segment){ .number = 0, .bus_start = 0, .bus_end = 255,
	    .cfg_size = PCI_LEGACY_SIZE, .how = "port I/O",
	    .ops = &portcfg_ops, .ctx = NULL };
	return PB_OK;
}
