// godistlock: the command-line tool. All the work lives in client/cli.cpp.
#include "client/cli.hpp"

#include <iostream>

int main(int argc, char** argv) {
  return godistlock::client::run_cli({argv + 1, argv + argc}, std::cout, std::cerr);
}
