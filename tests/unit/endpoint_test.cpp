// HOST:PORT as users write it (net/endpoint.hpp).
#include "net/endpoint.hpp"

#include <boost/test/unit_test.hpp>

using godistlock::net::Endpoint;
using godistlock::net::parse_endpoint;
using godistlock::net::parse_endpoint_list;

BOOST_AUTO_TEST_SUITE(endpoint)

BOOST_AUTO_TEST_CASE(host_names_and_addresses_parse) {
  struct Case {
    const char* text;
    const char* host;
    uint16_t port;
  };
  for (auto c : {Case{"127.0.0.1:7001", "127.0.0.1", 7001},
                 Case{"locks-1.example:1", "locks-1.example", 1}, Case{"[::1]:7001", "::1", 7001},
                 Case{"[::ffff:127.0.0.1]:65535", "::ffff:127.0.0.1", 65535},
                 Case{"[FE80::1]:80", "FE80::1", 80}}) {
    BOOST_TEST_CONTEXT(c.text) {
      auto ep = parse_endpoint(c.text);
      BOOST_REQUIRE(ep);
      BOOST_TEST(ep->host == c.host);
      BOOST_TEST(ep->port == c.port);
      BOOST_TEST(ep->to_string() == c.text); // prints back as written
    }
  }
}

BOOST_AUTO_TEST_CASE(anything_else_is_refused) {
  for (auto text :
       {"", ":", "host", "host:", ":7001", "n1@127.0.0.1:7001", "http://host:7001",
        "host/path:7001", "::1:7001", "[::1]", "[::1]7001", "[host]:7001", "[]:7001", "-host:7001",
        "host:0", "host:65536", "host:7001x", "host :7001", "h\x01st:7001"}) {
    BOOST_TEST_CONTEXT(text) {
      BOOST_TEST(!parse_endpoint(text));
    }
  }
  BOOST_TEST(parse_endpoint("host:0", true)->port == 0u);
}

BOOST_AUTO_TEST_CASE(a_list_names_its_bad_entry) {
  std::string bad;
  BOOST_TEST(!parse_endpoint_list("127.0.0.1:1,n2@127.0.0.1:2,x", &bad));
  BOOST_TEST(bad == "n2@127.0.0.1:2");
  BOOST_TEST(!parse_endpoint_list("127.0.0.1:1,", &bad));
  BOOST_TEST(bad.empty());
  auto list = parse_endpoint_list("[::1]:1,127.0.0.1:2");
  BOOST_REQUIRE(list);
  BOOST_TEST(list->size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
