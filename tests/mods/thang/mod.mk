TEST_MODULES += thang
