#pragma once
// What every fuzz target shares: a finding is an abort() with a message (libFuzzer saves the
// input that caused it), never a silent pass.
#include <cstdio>
#include <cstdlib>
#include <string>

namespace fuzz {

[[noreturn]] inline void finding(const std::string& what) {
    std::fprintf(stderr, "FINDING: %s\n", what.c_str());
    std::abort();
}

inline void require(bool ok, const std::string& what) {
    if (!ok) finding(what);
}

} // namespace fuzz
