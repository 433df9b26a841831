#define BOOST_TEST_MODULE godistlock_chaos_tests
#include <boost/test/unit_test.hpp>
