// Moved to include/godistlock/lock_holder.hpp, the installed public header. This path
// stays for code that includes it from the source tree (-I of the tree
// only, as the peers' benchmark adapter does), hence the relative path.
#pragma once

#include "../include/godistlock/lock_holder.hpp"
