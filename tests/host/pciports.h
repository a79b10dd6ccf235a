/*
 * pciports.h - configuration mechanism #1 (ports 0xCF8/0xCFC, PCI 3.0
 * §3.2.2.3.2) and the interrupt hold of BAR sizing, as the pci module's
 * tests stand them in (PB_HOSTED: mods/pci/portcfg.c and bar.c call
 * these).  The includer defines model_read and model_write, its
 * configuration space, in the form of struct cfg_ops.
 */
#ifndef PB_TESTS_PCIPORTS_H
#define PB_TESTS_PCIPORTS_H

#include <stdint.h>

static uint32_t model_read(void *ctx, unsigned bus, unsigned dev,
    unsigned fn, unsigned off, unsigned width);
static void model_write(void *ctx, unsigned bus, unsigned dev, unsigned fn,
    unsigned off, unsigned width, uint32_t v);

static uint32_t cf8;
static int cf8_dead;		/* CONFIG_ADDRESS does not latch */
static int irq_held;		/* sizing_irq_hold() in force */

uint32_t
cfgport_in(uint16_t port, unsigned width)
{
	uint32_t ones = width == 4 ? 0xffffffffu : (1u << 8 * width) - 1;

	if (port == 0xcf8 && width == 4)
		return cf8_dead ? 0xffffffffu : cf8;
	if (port >= 0xcfc && port + width <= 0xd00 && (cf8 & 0x80000000u))
		return model_read(NULL, cf8 >> 16 & 0xff, cf8 >> 11 & 0x1f,
		    cf8 >> 8 & 7, (cf8 & 0xfc) + (port - 0xcfc), width);
	return ones;
}

void
cfgport_out(uint16_t port, unsigned width, uint32_t v)
{
	if (port == 0xcf8 && width == 4)
		cf8 = v;
	else if (port >= 0xcfc && port + width <= 0xd00 &&
	    (cf8 & 0x80000000u))
		model_write(NULL, cf8 >> 16 & 0xff, cf8 >> 11 & 0x1f,
		    cf8 >> 8 & 7, (cf8 & 0xfc) + (port - 0xcfc), width, v);
}

uint64_t
sizing_irq_hold(void)
{
	uint64_t was = irq_held ? 0 : 0x200;

	irq_held = 1;
	return was;
}

void
sizing_irq_release(uint64_t flags)
{
	if (flags & 0x200)
		irq_held = 0;
}

#endif
