/* Placeholder: tests for the store module are being written. */
static void test_store_placeholder(void){ CHECK( 1 ); }
static const TestCase aStoreTests[] = { TEST_CASE(test_store_placeholder) };
