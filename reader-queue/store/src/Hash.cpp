#include "store/Hash.h"

#include <sodium.h>

#include <stdexcept>

namespace store {

std::string sha256Hex(std::string_view data) {
    static const bool ready = sodium_init() >= 0;
    if (!ready) throw std::runtime_error("libsodium cannot be initialised");
    unsigned char md[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(md, reinterpret_cast<const unsigned char*>(data.data()), data.size());
    char hex[2 * crypto_hash_sha256_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, md, sizeof md);
    return hex;
}

} // namespace store
