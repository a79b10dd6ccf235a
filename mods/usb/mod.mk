MODULES += usb
