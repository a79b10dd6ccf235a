TEST_MODULES += txhcibus
