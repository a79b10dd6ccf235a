TEST_MODULES += tusbreset
