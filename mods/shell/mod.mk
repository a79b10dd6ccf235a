MODULES += shell
