TEST_MODULES += tdomainp
