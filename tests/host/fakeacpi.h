/*
 * fakeacpi.h - the acpi module as its clients' host tests see it: `plat`
 * is what platform() answers, set by each test; fake_acpi_conn is the
 * connection to hand the module under test.
 */
#ifndef PB_TESTS_FAKEACPI_H
#define PB_TESTS_FAKEACPI_H

#include "../../abi/acpi.h"

static struct acpi_platform plat;

static const struct acpi_platform *
fake_platform(void *ctx)
{
	(void)ctx;
	return &plat;
}

static const struct acpi_ops fake_acpi_ops = { .platform = fake_platform };
static __attribute__((unused)) struct pb_conn fake_acpi_conn = {
	.ops = &fake_acpi_ops };

#endif
