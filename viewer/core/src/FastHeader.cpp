// A header reader for the common case - a Part 10 file whose dataset is little endian
// (explicit or implicit VR) - that reads only the bytes before the pixel data and only the
// top-level elements the viewer uses. Anything it does not understand (big endian, deflate,
// a header longer than its window, a malformed length) makes it answer false, and the caller
// uses DCMTK. tests/viewer compares it with DCMTK on every file it accepts.
#include "viewercore/Series.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace vc {

namespace {

constexpr std::size_t kWindow = 64 * 1024;

struct Reader {
    const std::uint8_t* p;
    std::size_t size;
    std::size_t at = 0;
    bool explicitVr = true;
    bool ok = true;

    std::uint16_t u16(std::size_t o) const { return static_cast<std::uint16_t>(p[o] | (p[o + 1] << 8)); }
    std::uint32_t u32(std::size_t o) const {
        return std::uint32_t(p[o]) | std::uint32_t(p[o + 1]) << 8 | std::uint32_t(p[o + 2]) << 16 | std::uint32_t(p[o + 3]) << 24;
    }
    static bool longVr(char a, char b) {
        const char vr[3] = {a, b, 0};
        for (const char* l : {"OB", "OW", "OF", "SQ", "UT", "UN", "OD", "OL", "OV", "UC", "UR", "SV", "UV"})
            if (std::strcmp(vr, l) == 0) return true;
        return false;
    }

    /// Reads one element header at `at`: tag, VR (explicit only), value length, value offset.
    bool element(std::uint16_t& group, std::uint16_t& elem, char vr[2], std::uint32_t& len, std::size_t& value, bool explicitHere) {
        if (at + 8 > size) return false;
        group = u16(at);
        elem = u16(at + 2);
        if (group == 0xFFFE) { // item / delimiters: no VR
            len = u32(at + 4);
            value = at + 8;
            vr[0] = vr[1] = 0;
            return true;
        }
        if (explicitHere) {
            vr[0] = static_cast<char>(p[at + 4]);
            vr[1] = static_cast<char>(p[at + 5]);
            if (longVr(vr[0], vr[1])) {
                if (at + 12 > size) return false;
                len = u32(at + 8);
                value = at + 12;
            } else {
                len = u16(at + 6);
                value = at + 8;
            }
        } else {
            vr[0] = vr[1] = 0;
            len = u32(at + 4);
            value = at + 8;
        }
        return true;
    }

    /// Skips an undefined-length sequence or item content (nested), starting at `at`.
    bool skipUndefined(int depth) {
        if (depth > 16) return false;
        for (;;) {
            std::uint16_t g, e;
            char vr[2];
            std::uint32_t len;
            std::size_t value;
            if (!element(g, e, vr, len, value, explicitVr)) return false;
            if (g == 0xFFFE && (e == 0xE0DD || e == 0xE00D)) { // sequence / item delimiter
                at = value;
                return true;
            }
            at = value;
            if (len == 0xFFFFFFFFu) {
                if (!skipUndefined(depth + 1)) return false;
            } else {
                if (value + len > size) return false;
                at = value + len;
            }
        }
    }
};

std::string text(const std::uint8_t* v, std::uint32_t len) {
    std::string s(reinterpret_cast<const char*>(v), len);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
    std::size_t b = 0;
    while (b < s.size() && s[b] == ' ') ++b;
    return s.substr(b);
}

template <std::size_t N>
bool decimals(const std::string& s, std::array<double, N>& out) {
    const char* c = s.c_str();
    for (std::size_t i = 0; i < N; ++i) {
        char* end = nullptr;
        out[i] = std::strtod(c, &end);
        if (end == c) return false;
        c = end;
        while (*c == ' ') ++c;
        if (i + 1 < N) {
            if (*c != '\\') return false;
            ++c;
        }
    }
    return true;
}

} // namespace

bool readHeaderFast(const std::filesystem::path& path, SliceHeader& h) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    std::uint8_t buf[kWindow];
    const ssize_t got = ::pread(fd, buf, sizeof buf, 0);
    ::close(fd);
    if (got <= 0 || !parseHeaderFast(buf, static_cast<std::size_t>(got), h)) return false;
    h.path = path;
    return true;
}

bool parseHeaderFast(const std::uint8_t* buf, std::size_t got, SliceHeader& h) {
    if (got < 132 || std::memcmp(buf + 128, "DICM", 4) != 0) return false;
    got = std::min(got, kWindow);
    Reader r{buf, got};
    r.at = 132;
    // file meta: explicit little endian, group 0002
    std::string ts;
    for (;;) {
        if (r.at + 8 > r.size) return false;
        if (r.u16(r.at) != 0x0002) break;
        std::uint16_t g, e;
        char vr[2];
        std::uint32_t len;
        std::size_t value;
        if (!r.element(g, e, vr, len, value, true) || len == 0xFFFFFFFFu || value + len > r.size) return false;
        if (e == 0x0010) ts = text(buf + value, len);
        r.at = value + len;
    }
    if (ts == "1.2.840.10008.1.2")
        r.explicitVr = false;
    else if (ts.empty() || ts == "1.2.840.10008.1.2.2" || ts == "1.2.840.10008.1.2.1.99")
        return false; // big endian, deflate: DCMTK
    h = SliceHeader{};
    h.transferSyntax = ts;
    bool sawPixels = false;
    for (;;) {
        std::uint16_t g, e;
        char vr[2];
        std::uint32_t len;
        std::size_t value;
        if (!r.element(g, e, vr, len, value, r.explicitVr)) return false; // header longer than the window, or cut
        if (g == 0x7FE0 && e == 0x0010) {
            sawPixels = true;
            break;
        }
        if (g > 0x7FE0) break;
        r.at = value;
        if (len == 0xFFFFFFFFu) {
            if (!r.skipUndefined(0)) return false;
            continue;
        }
        if (value + len > r.size) return false;
        r.at = value + len;
        const std::uint8_t* v = buf + value;
        const std::uint32_t key = (std::uint32_t(g) << 16) | e;
        auto us = [&] { return len >= 2 ? static_cast<int>(r.u16(value)) : 0; };
        switch (key) {
        case 0x00080018: h.sopUid = text(v, len); break;
        case 0x00080020: h.studyDate = text(v, len); break;
        case 0x00080060: h.modality = text(v, len); break;
        case 0x00120050: h.timepointId = text(v, len); break;
        case 0x00120051: h.timepointDescription = text(v, len); break;
        case 0x00120062: h.identityRemoved = text(v, len) == "YES"; break;
        case 0x00180050: h.sliceThickness = std::strtod(text(v, len).c_str(), nullptr); break;
        case 0x00200011: h.seriesNumber = std::atoi(text(v, len).c_str()); break;
        case 0x00100020: h.patientId = text(v, len); break;
        case 0x0020000E: h.seriesUid = text(v, len); break;
        case 0x00200052: h.frameOfReference = text(v, len); break;
        case 0x00200032: h.hasPosition = decimals(text(v, len), h.position); break;
        case 0x00200037: h.hasOrientation = decimals(text(v, len), h.orientation); break;
        case 0x00280030: h.hasSpacing = decimals(text(v, len), h.pixelSpacing); break;
        case 0x00280002: h.samplesPerPixel = us(); break;
        case 0x00280008: h.frames = std::atoi(text(v, len).c_str()); break;
        case 0x00280010: h.rows = us(); break;
        case 0x00280011: h.columns = us(); break;
        case 0x00280100: h.bitsAllocated = us(); break;
        case 0x00280101: h.bitsStored = us(); break;
        case 0x00280103: h.pixelRepresentation = us(); break;
        case 0x00281052: h.intercept = std::strtod(text(v, len).c_str(), nullptr); break;
        case 0x00281053: {
            const double s = std::strtod(text(v, len).c_str(), nullptr);
            if (s != 0) h.slope = s;
            break;
        }
        default: break;
        }
    }
    if (!sawPixels) return false;
    if (h.bitsStored == 0) h.bitsStored = h.bitsAllocated;
    if (h.frames <= 0) h.frames = 1;
    return true;
}

} // namespace vc
