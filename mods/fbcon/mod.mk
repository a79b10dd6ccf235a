MODULES += fbcon
