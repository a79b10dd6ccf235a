MODULES += ahci
