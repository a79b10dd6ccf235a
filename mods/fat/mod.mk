MODULES += fat
