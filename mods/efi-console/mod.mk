MODULES += efi-console
