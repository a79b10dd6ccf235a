MODULES += serial
