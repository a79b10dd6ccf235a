/*
 * cmd_acpi.c - acpi and cpus: what the `acpi` provider read from the
 * firmware's tables.
 *
 * Each command connects to `acpi` 1.0 for the time of the call (the
 * provider may come and go; the shell does not require it), and says so
 * in one error line when there is none.
 */
#include "shell.h"
#include "../../abi/acpi.h"

static struct pb_conn *
acpi_connect(void)
{
	return shell_hub->connect(shell_self, ACPI_IFACE, ACPI_MAJOR,
	    ACPI_MINOR, NULL);
}

/* Every table found, valid or not, in the order the provider read them. */
int
cmd_acpi(int argc, char **argv)
{
	struct acpi_table_info t;
	struct pb_conn *c;
	unsigned n, bad = 0;

	(void)argc;
	if (!(c = acpi_connect()))
		return fail("%s: no acpi provider", argv[0]);
	say("SIG  ADDRESS              LENGTH REV OEM    TABLE    STATUS");
	for (n = 0; PB_CALL(c, acpi_ops, table, n, &t) == PB_OK; n++) {
		say("%-4s 0x%016llx %7u %3u %-6s %-8s %s", t.sig,
		    (unsigned long long)t.phys, t.length, t.revision,
		    t.oem_id, t.oem_table, t.valid ? "ok" : t.problem ?
		    t.problem : "invalid");
		bad += !t.valid;
	}
	shell_hub->disconnect(shell_self, c);
	say("%u table%s, %u bad", n, n == 1 ? "" : "s", bad);
	return PB_OK;
}

/* The CPUs of the MADT: Local APIC and x2APIC entries usable now or
 * later (online-capable ones show as not enabled). */
int
cmd_cpus(int argc, char **argv)
{
	const struct acpi_platform *p;
	struct pb_conn *c;
	unsigned enabled = 0;

	(void)argc;
	if (!(c = acpi_connect()))
		return fail("%s: no acpi provider", argv[0]);
	p = PB_CALL(c, acpi_ops, platform);
	if (!p) {
		shell_hub->disconnect(shell_self, c);
		return fail("%s: the acpi provider has no platform", argv[0]);
	}
	say("APIC       UID        ENABLED");
	for (unsigned i = 0; i < p->ncpus; i++) {
		const struct acpi_cpu *cpu = &p->cpus[i];

		say("%-10u %-10u %s%s", cpu->apic_id, cpu->uid,
		    cpu->enabled ? "yes" : "no",
		    cpu->x2apic ? " (x2apic)" : "");
		enabled += cpu->enabled != 0;
	}
	say("%u CPU%s, %u enabled", p->ncpus, p->ncpus == 1 ? "" : "s",
	    enabled);
	shell_hub->disconnect(shell_self, c);
	return PB_OK;
}
