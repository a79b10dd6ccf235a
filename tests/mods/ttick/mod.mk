TEST_MODULES += ttick
