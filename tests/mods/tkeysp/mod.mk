TEST_MODULES += tkeysp
