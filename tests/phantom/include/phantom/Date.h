// Calendar dates as day numbers (proleptic Gregorian), enough for visit schedules and DICOM DA.
#pragma once

#include <cstdio>
#include <string>

namespace phantom {

struct Date {
    int days = 0; ///< days since 1970-01-01

    static Date fromCivil(int y, int m, int d) {
        // H. Hinnant's days_from_civil.
        y -= m <= 2;
        const int era = (y >= 0 ? y : y - 399) / 400;
        const unsigned yoe = static_cast<unsigned>(y - era * 400);
        const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + static_cast<unsigned>(d) - 1;
        const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return {era * 146097 + static_cast<int>(doe) - 719468};
    }
    void toCivil(int& y, int& m, int& d) const {
        const int z = days + 719468;
        const int era = (z >= 0 ? z : z - 146096) / 146097;
        const unsigned doe = static_cast<unsigned>(z - era * 146097);
        const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        const unsigned mp = (5 * doy + 2) / 153;
        d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
        m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
        y = static_cast<int>(yoe) + era * 400 + (m <= 2);
    }
    Date plusDays(int n) const { return {days + n}; }
    /// DICOM DA: YYYYMMDD
    std::string dicom() const {
        int y, m, d;
        toCivil(y, m, d);
        char buf[40];
        std::snprintf(buf, sizeof buf, "%04d%02d%02d", y, m, d);
        return buf;
    }
    /// ISO 8601: YYYY-MM-DD
    std::string iso() const {
        int y, m, d;
        toCivil(y, m, d);
        char buf[40];
        std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
        return buf;
    }
    friend int operator-(Date a, Date b) { return a.days - b.days; }
    friend bool operator==(Date a, Date b) { return a.days == b.days; }
};

} // namespace phantom
