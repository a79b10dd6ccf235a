MODULES += bochs-display
