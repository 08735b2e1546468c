// A scratch folder under the build tree, unique per test process, removed at the end.
#pragma once

#include <filesystem>
#include <string>
#include <unistd.h>

namespace testutil {

class TempDir {
public:
    explicit TempDir(const std::string& name)
        : m_path(std::filesystem::path(RELUTH_BINARY_DIR) / "test-tmp" / (name + "-" + std::to_string(::getpid()))) {
        std::filesystem::remove_all(m_path);
        std::filesystem::create_directories(m_path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return m_path; }

private:
    std::filesystem::path m_path;
};

} // namespace testutil
