TEST_MODULES += tnvmeflr
