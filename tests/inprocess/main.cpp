#define BOOST_TEST_MODULE godistlock_inprocess_tests
#include <boost/test/unit_test.hpp>
