MODULES += xhci
