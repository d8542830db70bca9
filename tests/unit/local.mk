# tests/unit: Check suites of the host and the ABI.
check_PROGRAMS += tests/unit/test_abi_header
TESTS += tests/unit/test_abi_header
tests_unit_test_abi_header_CFLAGS = $(TESTUTIL_CFLAGS) -pedantic
tests_unit_test_abi_header_LDADD = $(TESTUTIL_LIBS)
