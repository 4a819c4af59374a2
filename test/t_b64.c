/* Placeholder: tests for the b64 module are being written. */
static void test_b64_placeholder(void){ CHECK( 1 ); }
static const TestCase aB64Tests[] = { TEST_CASE(test_b64_placeholder) };
