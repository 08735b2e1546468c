#pragma once
// The project's one SHA-256 (OpenSSL's, with the CPU's SHA extensions; see Hash.cpp): the
// quarantine records' input hashes, the audit trail's chain, what a signature signs.
#include <string>
#include <string_view>

namespace store {

/// Lower-case hex SHA-256 of the bytes.
std::string sha256Hex(std::string_view data);

} // namespace store
