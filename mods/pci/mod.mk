MODULES += pci
