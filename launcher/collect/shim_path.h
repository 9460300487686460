// Where the launcher finds the shim: <dir of progeny>/../lib/progeny/libprogeny.so, the same
// relative place in build/ and after `make install` (docs/CONTRACT.md). `progeny run` refuses
// to start without it (unless --no-preload); `progeny doctor` asks this same function.
#pragma once
#include <string>

namespace progeny {

// Sets *path to the shim's expected path and returns whether it is readable there; false with
// a one-line *why ("cannot find the shim at PATH: ERROR") when it is not.
bool find_shim(std::string* path, std::string* why);

}  // namespace progeny
