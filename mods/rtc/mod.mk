MODULES += rtc
