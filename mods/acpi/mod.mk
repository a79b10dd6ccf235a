MODULES += acpi
