TEST_MODULES += trecover-edu
