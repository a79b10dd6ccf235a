MODULES += usb-kbd
