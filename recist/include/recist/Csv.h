// The project's one CSV reader (the engine's SDTM files, the anonymizer's enrolment list, the
// queue's subject dates). A small RFC 4180 CSV reader over a whole file in memory: optional UTF-8 BOM, quoted fields
// (with "" escapes and embedded line breaks), LF or CRLF. Fields are views into the text
// (or into per-record storage for fields that needed unescaping); each record knows the
// physical line it starts on (header = line 1).
#pragma once

#include <cstring>
#include <emmintrin.h>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace recist::csv {

class Reader {
public:
    /// text starts at physical line firstLine; a BOM is skipped at the start of a file.
    explicit Reader(std::string_view text, int firstLine = 1)
        : m_text(text), m_line(firstLine),
          m_quotes(!text.empty() && std::memchr(text.data(), '"', text.size()) != nullptr) { // memchr(nullptr) is UB
        if (firstLine == 1 && m_text.substr(0, 3) == "\xEF\xBB\xBF") m_pos = 3;
    }

    /// A quoted field ran to the end of the text without its closing quote.
    bool unterminated() const { return m_unterminated; }

    /// The physical line the next record starts on.
    int nextLine() const { return m_line; }

    /// Next non-blank record; false at the end. fields stay valid until the next call.
    bool next(std::vector<std::string_view>& fields, int& line) {
        const char* const begin = m_text.data();
        const char* const end = begin + m_text.size();
        for (;;) {
            const char* p = begin + m_pos;
            if (p >= end) return false;
            fields.clear();
            if (!m_storage.empty()) m_storage.clear();
            line = m_line;
            // Fast path: a record on one line without quotes. One SSE2 pass 16 bytes at a time finds
            // the commas, the line end and any quote (which sends the record to the general path).
            if (splitLine(p, end, fields)) return true;
            if (m_pos != static_cast<std::size_t>(p - begin)) continue; // a blank line was skipped
            fields.clear();
            bool blank = true;
            for (;;) { // general path: quoted fields, possibly spanning lines
                if (p < end && *p == '"') {
                    blank = false;
                    p = quotedField(p, end, fields);
                } else {
                    // The hot path: an unquoted field.
                    const char* start = p;
                    while (p < end && !isSeparator(*p)) ++p;
                    if (p != start) blank = false;
                    fields.emplace_back(start, static_cast<std::size_t>(p - start));
                }
                if (p < end && *p == ',') {
                    blank = false;
                    ++p;
                    continue;
                }
                if (p < end && *p == '\r') ++p;
                if (p < end && *p == '\n') ++p;
                ++m_line;
                break;
            }
            m_pos = static_cast<std::size_t>(p - begin);
            if (!blank) return true;
        }
    }

private:
    /// Splits the record at p if it lies on one line without quotes: fills fields, advances past
    /// the line and returns true. A blank line is skipped (false, m_pos advanced). A line with a
    /// quote is left to the general path (false, m_pos unchanged).
    bool splitLine(const char* p, const char* end, std::vector<std::string_view>& fields) {
        const char* const begin = m_text.data();
        const char* fieldStart = p;
        const char* q = p;
        const char* nl = nullptr;
        const __m128i comma = _mm_set1_epi8(','), newline = _mm_set1_epi8('\n'), quote = _mm_set1_epi8('"');
        while (!nl) {
            if (end - q >= 16) {
                const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
                const unsigned mn = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, newline)));
                const unsigned below = mn ? (mn & (0u - mn)) - 1 : 0xFFFFu; // lanes before the first newline
                if (m_quotes && (static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, quote))) & below)) return false;
                for (unsigned m = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, comma))) & below; m; m &= m - 1) {
                    const char* c = q + __builtin_ctz(m);
                    fields.emplace_back(fieldStart, static_cast<std::size_t>(c - fieldStart));
                    fieldStart = c + 1;
                }
                if (mn)
                    nl = q + __builtin_ctz(mn);
                else
                    q += 16;
            } else {
                for (; q < end; ++q) {
                    if (*q == '\n') break;
                    if (*q == '"') return false;
                    if (*q == ',') {
                        fields.emplace_back(fieldStart, static_cast<std::size_t>(q - fieldStart));
                        fieldStart = q + 1;
                    }
                }
                nl = q; // == end when the text does not end with a line break
            }
        }
        const char* stop = (nl > p && nl[-1] == '\r') ? nl - 1 : nl;
        if (fieldStart > stop) fieldStart = stop; // "...,\r\n": the last field is empty
        m_pos = static_cast<std::size_t>((nl < end ? nl + 1 : end) - begin);
        ++m_line;
        if (stop == p) { // blank line
            fields.clear();
            return false;
        }
        fields.emplace_back(fieldStart, static_cast<std::size_t>(stop - fieldStart));
        return true;
    }

    /// Reads a quoted field starting at p (on the opening quote); returns the position after it.
    const char* quotedField(const char* p, const char* end, std::vector<std::string_view>& fields) {
        ++p;
        const char* start = p;
        bool escaped = false;
        while (p < end) {
            if (*p == '"') {
                if (p + 1 < end && p[1] == '"') {
                    escaped = true;
                    p += 2;
                    continue;
                }
                break;
            }
            if (*p == '\n') ++m_line;
            ++p;
        }
        std::string_view field(start, static_cast<std::size_t>(p - start));
        if (p < end)
            ++p; // closing quote (an unterminated field takes the rest)
        else
            m_unterminated = true;
        if (escaped) {
            std::string& s = m_storage.emplace_back();
            for (std::size_t i = 0; i < field.size(); ++i) {
                s += field[i];
                if (field[i] == '"') ++i;
            }
            field = s;
        }
        // Anything between the closing quote and the separator is kept verbatim.
        const char* rest = p;
        while (p < end && !isSeparator(*p)) ++p;
        if (p > rest) {
            std::string& s = m_storage.emplace_back(field);
            s.append(rest, static_cast<std::size_t>(p - rest));
            field = s;
        }
        fields.push_back(field);
        return p;
    }

    static bool isSeparator(char c) {
        // ',' '\n' '\r' are all below '0': one comparison rejects most characters.
        return static_cast<unsigned char>(c) < '0' && (c == ',' || c == '\n' || c == '\r');
    }

    std::string_view m_text;
    std::size_t m_pos = 0;
    int m_line;
    bool m_quotes; ///< the text has a quote somewhere (else every record takes the fast path)
    bool m_unterminated = false;
    std::deque<std::string> m_storage;
};

} // namespace recist::csv
