// A small RFC 4180 CSV reader over a whole file in memory: optional UTF-8 BOM, quoted fields
// (with "" escapes and embedded line breaks), LF or CRLF. Fields are views into the text
// (or into per-record storage for fields that needed unescaping); each record knows the
// physical line it starts on (header = line 1).
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace recist::csv {

class Reader {
public:
    explicit Reader(std::string_view text) : m_text(text) {
        if (m_text.substr(0, 3) == "\xEF\xBB\xBF") m_pos = 3;
    }

    /// Next non-blank record; false at the end. fields stay valid until the next call.
    bool next(std::vector<std::string_view>& fields, int& line) {
        for (;;) {
            if (m_pos >= m_text.size()) return false;
            fields.clear();
            if (!m_storage.empty()) m_storage.clear();
            line = m_line;
            bool blank = true;
            for (;;) {
                std::string_view field;
                if (m_pos < m_text.size() && m_text[m_pos] == '"') {
                    blank = false;
                    ++m_pos;
                    const std::size_t start = m_pos;
                    bool escaped = false;
                    for (;;) {
                        if (m_pos >= m_text.size()) break; // unterminated: take what there is
                        const char c = m_text[m_pos];
                        if (c == '"') {
                            if (m_pos + 1 < m_text.size() && m_text[m_pos + 1] == '"') {
                                escaped = true;
                                m_pos += 2;
                                continue;
                            }
                            break;
                        }
                        if (c == '\n') ++m_line;
                        ++m_pos;
                    }
                    field = m_text.substr(start, m_pos - start);
                    if (m_pos < m_text.size()) ++m_pos; // closing quote
                    if (escaped) {
                        std::string& s = m_storage.emplace_back();
                        for (std::size_t i = 0; i < field.size(); ++i) {
                            s += field[i];
                            if (field[i] == '"') ++i;
                        }
                        field = s;
                    }
                    // Anything between the closing quote and the separator is kept verbatim.
                    const std::size_t rest = m_pos;
                    while (m_pos < m_text.size() && m_text[m_pos] != ',' && m_text[m_pos] != '\n' && m_text[m_pos] != '\r') ++m_pos;
                    if (m_pos > rest) {
                        std::string& s = m_storage.emplace_back(field);
                        s += m_text.substr(rest, m_pos - rest);
                        field = s;
                    }
                } else {
                    const std::size_t start = m_pos;
                    const char* p = m_text.data() + m_pos;
                    const char* end = m_text.data() + m_text.size();
                    while (p < end && !isSeparator(*p)) ++p;
                    m_pos = static_cast<std::size_t>(p - m_text.data());
                    field = m_text.substr(start, m_pos - start);
                    if (!field.empty()) blank = false;
                }
                fields.push_back(field);
                if (m_pos < m_text.size() && m_text[m_pos] == ',') {
                    blank = false;
                    ++m_pos;
                    continue;
                }
                // End of record: CR? LF?
                if (m_pos < m_text.size() && m_text[m_pos] == '\r') ++m_pos;
                if (m_pos < m_text.size() && m_text[m_pos] == '\n') ++m_pos;
                ++m_line;
                break;
            }
            if (!blank) return true;
        }
    }

private:
    static bool isSeparator(char c) {
        // ',' '\n' '\r' are all below '0': one comparison rejects most characters.
        return static_cast<unsigned char>(c) < '0' && (c == ',' || c == '\n' || c == '\r');
    }

    std::string_view m_text;
    std::size_t m_pos = 0;
    int m_line = 1;
    std::deque<std::string> m_storage;
};

} // namespace recist::csv
