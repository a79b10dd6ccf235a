MODULES += timer
