#define BOOST_TEST_MODULE godistlock_unit_tests
#include <boost/test/unit_test.hpp>
