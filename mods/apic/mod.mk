MODULES += apic
