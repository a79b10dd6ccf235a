MODULES += gop-fb
