TEST_MODULES += tkeysc
