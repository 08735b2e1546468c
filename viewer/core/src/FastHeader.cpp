// A header reader for the common case - a Part 10 file whose dataset is explicit VR little
// endian (native or encapsulated) - that reads only the bytes before the pixel data and only the
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
    /// A VR of PS3.5 (an unknown one - DCMTK reads its length differently - makes the reader
    /// decline: found by header_fuzz, an invalid VR in a sequence put the two readers out of step).
    static bool knownVr(char a, char b) {
        const char vr[3] = {a, b, 0};
        for (const char* k : {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT", "OB", "OD", "OF", "OL", "OV",
                              "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US", "UT", "UV"})
            if (std::strcmp(vr, k) == 0) return true;
        return false;
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
            if (!knownVr(vr[0], vr[1])) return false;
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

    /// Whether a defined-length value is a sequence: its VR says SQ, or (implicit VR, where the
    /// VR is the dictionary's) it starts with an item, as DCMTK then reads it.
    bool isSequence(const char vr[2], std::size_t value, std::uint32_t len) const {
        if (vr[0] == 'S' && vr[1] == 'Q') return true;
        return !explicitVr && len >= 8 && u16(value) == 0xFFFE && u16(value + 2) == 0xE000;
    }

    /// Skips one element's value (at `value`, `len` long, inside [.., end)): a sequence's items
    /// are walked, defined or undefined length, so that the reader never steps over what DCMTK
    /// parses (found by header_fuzz: an item of 1.3 GB inside a 114-byte sequence).
    bool skipValue(const char vr[2], std::uint32_t len, std::size_t value, std::size_t end, int depth) {
        at = value;
        if (len == 0xFFFFFFFFu) {
            // only a sequence (SQ, or UN holding one) has an undefined length; in implicit VR the
            // dictionary says which elements are sequences - DCMTK's to judge (found by header_fuzz:
            // an undefined-length UL that DCMTK calls corrupt)
            if (!explicitVr || !(vr[0] == 'S' && vr[1] == 'Q')) return false;
            return within(end, [&] { return skipSequence(depth + 1); });
        }
        if (value + len > end) return false;
        // a value written as UN is read by DCMTK with its dictionary VR, which this reader does not
        // have: if that is SQ, DCMTK parses implicit-VR items (CP-246) whatever the bytes are
        // (found by header_fuzz: a UN sequence starting with an item delimiter, first an item) - DCMTK's to read
        if (explicitVr && vr[0] == 'U' && vr[1] == 'N' && len != 0) return false;
        if (isSequence(vr, value, len) && !within(value + len, [&] { return definedSequence(value + len, depth + 1); })) return false;
        at = value + len;
        return true;
    }
    /// Runs a walk with the readable size narrowed to `end` (a sequence or item never reads past its own end).
    template <class F>
    bool within(std::size_t end, F walk) {
        const std::size_t outer = size;
        size = std::min(size, end);
        const bool ok = walk();
        size = outer;
        return ok;
    }

    /// The items of a defined-length sequence, which ends at `end`.
    bool definedSequence(std::size_t end, int depth) {
        if (depth > 16) return false;
        while (at < end) {
            std::uint16_t g, e;
            char vr[2];
            std::uint32_t len;
            std::size_t value;
            if (!element(g, e, vr, len, value, explicitVr) || g != 0xFFFE || e != 0xE000) return false;
            at = value;
            if (len == 0xFFFFFFFFu) {
                if (!skipItem(depth + 1)) return false;
            } else {
                if (value + len > end || !definedItem(value + len, depth + 1)) return false;
                at = value + len;
            }
        }
        return at == end;
    }
    /// The elements of a defined-length item, which ends at `end`.
    bool definedItem(std::size_t end, int depth) {
        if (depth > 16) return false;
        while (at < end) {
            std::uint16_t g, e;
            char vr[2];
            std::uint32_t len;
            std::size_t value;
            if (!element(g, e, vr, len, value, explicitVr) || g == 0xFFFE) return false;
            if (!skipValue(vr, len, value, end, depth)) return false;
        }
        return at == end;
    }

    /// Skips the content of an undefined-length sequence, starting at `at`: items only (each of
    /// defined length, or undefined and closed by its Item Delimitation), then the Sequence
    /// Delimitation. Anything else - an item closed by the sequence's delimiter, an element
    /// outside an item - makes the reader decline (found by header_fuzz: DCMTK reads those
    /// otherwise or refuses them).
    bool skipSequence(int depth) {
        if (depth > 16) return false;
        for (;;) {
            std::uint16_t g, e;
            char vr[2];
            std::uint32_t len;
            std::size_t value;
            if (!element(g, e, vr, len, value, explicitVr)) return false;
            at = value;
            if (g == 0xFFFE && e == 0xE0DD) return len == 0;
            if (g != 0xFFFE || e != 0xE000) return false;
            if (len == 0xFFFFFFFFu) {
                if (!skipItem(depth + 1)) return false;
            } else {
                if (value + len > size || !within(value + len, [&] { return definedItem(value + len, depth + 1); })) return false;
                at = value + len;
            }
        }
    }
    /// Skips an undefined-length item's elements up to its Item Delimitation.
    bool skipItem(int depth) {
        if (depth > 16) return false;
        for (;;) {
            std::uint16_t g, e;
            char vr[2];
            std::uint32_t len;
            std::size_t value;
            if (!element(g, e, vr, len, value, explicitVr)) return false;
            at = value;
            if (g == 0xFFFE) return e == 0xE00D && len == 0;
            if (!skipValue(vr, len, value, size, depth)) return false;
        }
    }
};

/// The dictionary VR of each element the fast reader reads (null for the others).
const char* expectedVr(std::uint32_t key) {
    switch (key) {
    case 0x00080018:
    case 0x0020000E:
    case 0x00200052: return "UI";
    case 0x00080020: return "DA";
    case 0x00080060:
    case 0x00120062: return "CS";
    case 0x00120050:
    case 0x00100020: return "LO";
    case 0x00120051: return "ST";
    case 0x00180050:
    case 0x00200032:
    case 0x00200037:
    case 0x00280030:
    case 0x00281052:
    case 0x00281053: return "DS";
    case 0x00200011:
    case 0x00280008: return "IS";
    case 0x00280002:
    case 0x00280010:
    case 0x00280011:
    case 0x00280100:
    case 0x00280101:
    case 0x00280103: return "US";
    default: return nullptr;
    }
}

std::string text(const std::uint8_t* v, std::uint32_t len) {
    std::string s(reinterpret_cast<const char*>(v), len);
    // DCMTK's strings end at the first NUL (found by header_fuzz: "1.2.3\0junk")
    if (const auto nul = s.find('\0'); nul != std::string::npos) s.resize(nul);
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
    // with its group length (0002,0000), which DCMTK honours: the meta ends exactly there or the
    // reader declines (found by header_fuzz: a Transfer Syntax UID after the declared end)
    std::string ts;
    std::size_t metaEnd = 0;
    std::uint16_t previousMeta = 0;
    bool firstMeta = true;
    for (;;) {
        if (r.at + 8 > r.size) return false;
        if (r.u16(r.at) != 0x0002) break;
        if (metaEnd != 0 && r.at >= metaEnd) return false;
        std::uint16_t g, e;
        char vr[2];
        std::uint32_t len;
        std::size_t value;
        if (!r.element(g, e, vr, len, value, true) || len == 0xFFFFFFFFu || value + len > r.size) return false;
        if (!firstMeta && e <= previousMeta) return false;
        {
            // each meta element with its VR (found by header_fuzz: a group length written as US)
            const char* want = e == 0x0000 ? "UL" : (e == 0x0001 || e == 0x0102) ? "OB" : e == 0x0013 ? "SH" : e == 0x0016 ? "AE" : "UI";
            if (vr[0] != want[0] || vr[1] != want[1]) return false;
        }
        firstMeta = false;
        previousMeta = e;
        if (e == 0x0000) {
            if (len != 4) return false;
            metaEnd = value + 4 + r.u32(value);
        }
        if (e == 0x0010) ts = text(buf + value, len);
        r.at = value + len;
    }
    if (metaEnd != 0 && r.at != metaEnd) return false;
    // the transfer syntaxes whose dataset is little endian (implicit, explicit, encapsulated);
    // any other - big endian, deflate, unknown, or a UID DCMTK would have to clean up (found by
    // header_fuzz: a line feed inside it) - is DCMTK's
    static const char* const littleEndian[] = {"1.2.840.10008.1.2",      "1.2.840.10008.1.2.1",    "1.2.840.10008.1.2.4.50",
                                               "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
                                               "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90",
                                               "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.5"};
    if (std::find(std::begin(littleEndian), std::end(littleEndian), ts) == std::end(littleEndian)) return false;
    // implicit VR: which elements are sequences is the data dictionary's, which this reader does
    // not have (found by header_fuzz: DCMTK parses a dictionary SQ as items where this reader saw
    // bytes) - such files are DCMTK's to read
    if (ts == "1.2.840.10008.1.2") return false;
    h = SliceHeader{};
    h.transferSyntax = ts;
    bool sawPixels = false;
    std::uint32_t previous = 0;
    for (;;) {
        std::uint16_t g, e;
        char vr[2];
        std::uint32_t len;
        std::size_t value;
        if (!r.element(g, e, vr, len, value, r.explicitVr)) return false; // header longer than the window, or cut
        // tags in ascending order, each once (PS3.5 7.1): anything else - a duplicate SOP Instance
        // UID, an element out of place (found by header_fuzz) - is DCMTK's to judge
        const std::uint32_t tag = (std::uint32_t(g) << 16) | e;
        if (tag <= previous) return false;
        previous = tag;
        if (g == 0x7FE0 && e == 0x0010) {
            sawPixels = true;
            break;
        }
        if (g > 0x7FE0) break;
        r.at = value;
        // a value written as UN is read by DCMTK with its dictionary VR: if that is SQ, as implicit-VR
        // items (CP-246) whatever the bytes are (found by header_fuzz: a UN (0008,1140) starting with
        // an item delimiter; before, one starting with an item). Only the fields read below, whose
        // dictionary VR is known and not SQ, may be UN here; any other non-empty UN is DCMTK's to read.
        if (vr[0] == 'U' && vr[1] == 'N' && len != 0 && !expectedVr((std::uint32_t(g) << 16) | e)) return false;
        if (len == 0xFFFFFFFFu || r.isSequence(vr, value, len)) {
            if (!r.skipValue(vr, len, value, r.size, 0)) return false;
            continue;
        }
        if (value + len > r.size) return false;
        r.at = value + len;
        const std::uint8_t* v = buf + value;
        const std::uint32_t key = (std::uint32_t(g) << 16) | e;
        // a field we read must have its dictionary VR (or UN, which DCMTK reads with it): Modality
        // written as OB is DCMTK's to render (found by header_fuzz), binary numbers need whole values
        if (const char* want = expectedVr(key)) {
            if (r.explicitVr && !(vr[0] == want[0] && vr[1] == want[1]) && !(vr[0] == 'U' && vr[1] == 'N')) return false;
            if (want[0] == 'U' && want[1] == 'S' && (len < 2 || len % 2 != 0)) return false;
            // text DCMTK would normalise (found by header_fuzz: it drops a CR inside a UID) is its to read:
            // a UID of anything but digits and dots, or a control character in any other text
            if (want[0] != 'U' || want[1] != 'S') {
                const std::string t = text(v, len);
                const bool uid = want[0] == 'U' && want[1] == 'I';
                for (const unsigned char c : t)
                    if (uid ? !((c >= '0' && c <= '9') || c == '.') : (c < 0x20 && c != 0x1B)) return false;
            }
        }
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
        // a position, orientation or spacing that is not exactly its decimals is DCMTK's to read
        // (found by header_fuzz: DCMTK reads "1*0\\1.0" as 1 and 1)
        case 0x00200032:
            if (!(h.hasPosition = decimals(text(v, len), h.position))) return false;
            break;
        case 0x00200037:
            if (!(h.hasOrientation = decimals(text(v, len), h.orientation))) return false;
            break;
        case 0x00280030:
            if (!(h.hasSpacing = decimals(text(v, len), h.pixelSpacing))) return false;
            break;
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
