#pragma once
// The project's one SHA-256 (libsodium's crypto_hash_sha256): the quarantine records' input
// hashes, the audit trail's chain, what a signature signs.
#include <string>
#include <string_view>

namespace store {

/// Lower-case hex SHA-256 of the bytes.
std::string sha256Hex(std::string_view data);

} // namespace store
