#define BOOST_TEST_MODULE godistlock_process_tests
#include <boost/test/unit_test.hpp>
