MODULES += usb-hub
