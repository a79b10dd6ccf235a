MODULES += usb-storage
