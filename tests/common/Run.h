// Runs a shell command for a test: its exit status, with stdout and stderr captured.
#pragma once

#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace testutil {

inline int run(const std::string& cmd, std::string* out = nullptr) {
    FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
    std::string text;
    char buf[4096];
    while (p && std::fgets(buf, sizeof buf, p)) text += buf;
    const int st = p ? ::pclose(p) : -1;
    if (out) *out = text;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

} // namespace testutil
