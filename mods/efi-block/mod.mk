MODULES += efi-block
