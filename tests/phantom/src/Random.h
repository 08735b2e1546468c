// Deterministic randomness for the phantom: the same seed gives the same bytes on every
// machine, so we use our own generators (std:: distributions are implementation-defined).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace phantom {

inline std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/// Mixes a key path (seed, kind, indices...) into one 64-bit value.
inline std::uint64_t mix(std::uint64_t a, std::uint64_t b) { return splitmix64(a ^ splitmix64(b)); }
inline std::uint64_t mix(std::uint64_t a, std::string_view s) {
    std::uint64_t h = 1469598103934665603ull; // FNV-1a
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return mix(a, h);
}

class Rng {
public:
    explicit Rng(std::uint64_t seed) : m_state(seed) {}
    std::uint64_t next() { return splitmix64(m_state++); }
    /// Uniform in [0, 1).
    double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    int integer(int lo, int hi) { return lo + static_cast<int>(next() % static_cast<std::uint64_t>(hi - lo + 1)); }
    template <class T, std::size_t N>
    const T& pick(const T (&items)[N]) {
        return items[next() % N];
    }

private:
    std::uint64_t m_state;
};

/// A DICOM UID under the 2.25 root (ISO/IEC 9834-8 UUID-derived), from a 128-bit key.
inline std::string uid225(std::uint64_t hi, std::uint64_t lo) {
    unsigned __int128 v = (static_cast<unsigned __int128>(hi) << 64) | lo;
    // Keep it a UUID-sized integer (< 2^128) without a leading zero.
    char digits[48];
    int n = 0;
    do {
        digits[n++] = static_cast<char>('0' + static_cast<int>(v % 10));
        v /= 10;
    } while (v != 0);
    std::string uid = "2.25.";
    while (n > 0) uid += digits[--n];
    return uid;
}

} // namespace phantom
