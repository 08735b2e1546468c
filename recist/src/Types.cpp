#include "recist/Types.h"

#include <cstdio>

namespace recist {
namespace {

/// Parses [-]digits[.digits] into an integer scaled by 10^scale, rounding extra decimals
/// half away from zero. No exponent, no spaces, no leading '+'.
bool parseScaled(std::string_view t, int scale, std::int64_t& out) {
    if (t.empty()) return false;
    bool negative = false;
    std::size_t i = 0;
    if (t[0] == '-') {
        negative = true;
        i = 1;
    }
    std::int64_t whole = 0, frac = 0;
    int fracDigits = 0;
    bool anyDigit = false, roundUp = false;
    for (; i < t.size() && t[i] != '.'; ++i) {
        if (t[i] < '0' || t[i] > '9') return false;
        if (whole > 900000000000ll) return false; // absurdly large
        whole = whole * 10 + (t[i] - '0');
        anyDigit = true;
    }
    if (i < t.size()) { // '.'
        ++i;
        bool first = true;
        for (; i < t.size(); ++i) {
            if (t[i] < '0' || t[i] > '9') return false;
            anyDigit = true;
            if (fracDigits < scale) {
                frac = frac * 10 + (t[i] - '0');
                ++fracDigits;
            } else if (first) {
                roundUp = t[i] >= '5';
                first = false;
            }
        }
    }
    if (!anyDigit) return false;
    for (; fracDigits < scale; ++fracDigits) frac *= 10;
    std::int64_t p = 1;
    for (int k = 0; k < scale; ++k) p *= 10;
    std::int64_t v = whole * p + frac + (roundUp ? 1 : 0);
    out = negative ? -v : v;
    return true;
}

/// a / b rounded half away from zero (b > 0).
std::int64_t divRound(__int128 a, __int128 b) {
    const __int128 q = (a >= 0 ? a + b / 2 : a - b / 2) / b;
    return static_cast<std::int64_t>(q);
}

std::string oneDecimal(std::int64_t tenths) {
    char buf[32];
    return std::string(buf, writeTenths(tenths, buf));
}

} // namespace

std::size_t writeTenths(std::int64_t tenths, char* out) {
    char buf[32];
    char* end = buf + sizeof buf;
    char* p = end;
    std::uint64_t a = tenths < 0 ? static_cast<std::uint64_t>(-tenths) : static_cast<std::uint64_t>(tenths);
    *--p = static_cast<char>('0' + a % 10);
    *--p = '.';
    a /= 10;
    do {
        *--p = static_cast<char>('0' + a % 10);
        a /= 10;
    } while (a);
    if (tenths < 0) *--p = '-';
    const std::size_t n = static_cast<std::size_t>(end - p);
    for (std::size_t i = 0; i < n; ++i) out[i] = p[i];
    return n;
}

std::int64_t tenthsOfMm(Length l) { return divRound(l.um, 100); }

std::int64_t percentChangeTenths(Length a, Length b) { return divRound(static_cast<__int128>(a.um - b.um) * 1000, b.um); }

bool Length::parseMm(std::string_view text, Length& out) { return parseScaled(text, 3, out.um); }

std::string Length::formatMm() const { return oneDecimal(tenthsOfMm(*this)); }

std::string formatPercentChange(Length a, Length b) { return oneDecimal(percentChangeTenths(a, b)); }

bool Date::parse(std::string_view t, Date& out) {
    if (t.size() != 10 || t[4] != '-' || t[7] != '-') return false;
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
        if (t[i] < '0' || t[i] > '9') return false;
    }
    const int y = (t[0] - '0') * 1000 + (t[1] - '0') * 100 + (t[2] - '0') * 10 + (t[3] - '0');
    const int m = (t[5] - '0') * 10 + (t[6] - '0');
    const int d = (t[8] - '0') * 10 + (t[9] - '0');
    if (m < 1 || m > 12 || d < 1) return false;
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > kDays[m - 1] + (m == 2 && leap ? 1 : 0)) return false;
    out = fromCivil(y, m, d);
    return true;
}

Date Date::fromCivil(int y, int m, int d) {
    // H. Hinnant's days_from_civil.
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = static_cast<unsigned>((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return {era * 146097 + static_cast<int>(doe) - 719468};
}

void Date::toCivil(int& year, int& month, int& day) const {
    // H. Hinnant's civil_from_days.
    const int z = days + 719468;
    const int era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    year = static_cast<int>(yoe) + era * 400 + (month <= 2);
}

std::string Date::iso() const {
    int y, mi, di;
    toCivil(y, mi, di);
    const unsigned m = static_cast<unsigned>(mi), d = static_cast<unsigned>(di);
    if (y < 0 || y > 9999) {
        char buf[40];
        std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, d);
        return buf;
    }
    char buf[10] = {static_cast<char>('0' + y / 1000),
                    static_cast<char>('0' + y / 100 % 10),
                    static_cast<char>('0' + y / 10 % 10),
                    static_cast<char>('0' + y % 10),
                    '-',
                    static_cast<char>('0' + m / 10),
                    static_cast<char>('0' + m % 10),
                    '-',
                    static_cast<char>('0' + d / 10),
                    static_cast<char>('0' + d % 10)};
    return std::string(buf, 10);
}

bool VisitNum::parse(std::string_view text, VisitNum& out) {
    // Tolerate surrounding spaces; accept "2", "2.0", "2.1".
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    return parseScaled(text, 6, out.millionths);
}

std::string VisitNum::text() const {
    const std::int64_t a = millionths < 0 ? -millionths : millionths;
    std::string s;
    if (millionths < 0) s.push_back('-');
    s += std::to_string(a / 1000000);
    std::int64_t frac = a % 1000000;
    if (frac) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%06lld", static_cast<long long>(frac));
        std::string f = buf;
        while (!f.empty() && f.back() == '0') f.pop_back();
        s += "." + f;
    }
    return s;
}

std::string_view toString(Response r) {
    switch (r) {
    case Response::CR: return "CR";
    case Response::PR: return "PR";
    case Response::SD: return "SD";
    case Response::PD: return "PD";
    case Response::NE: return "NE";
    case Response::NonCRNonPD: return "NON-CR/NON-PD";
    }
    return "?";
}

} // namespace recist
