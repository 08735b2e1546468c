// Calendar dates for visit schedules and DICOM DA: the engine's exact date type
// (recist::Date, civil-day arithmetic) with the DICOM spelling added.
#pragma once

#include "recist/Types.h"

#include <cstdio>
#include <string>

namespace phantom {

struct Date {
    int days = 0; ///< days since 1970-01-01

    static Date fromCivil(int y, int m, int d) { return {recist::Date::fromCivil(y, m, d).days}; }
    void toCivil(int& y, int& m, int& d) const { recist::Date{days}.toCivil(y, m, d); }
    Date plusDays(int n) const { return {days + n}; }
    /// DICOM DA: YYYYMMDD
    std::string dicom() const {
        std::string s = iso();
        return s.substr(0, 4) + s.substr(5, 2) + s.substr(8, 2);
    }
    /// ISO 8601: YYYY-MM-DD
    std::string iso() const { return recist::Date{days}.iso(); }
    friend int operator-(Date a, Date b) { return a.days - b.days; }
    friend bool operator==(Date a, Date b) { return a.days == b.days; }
};

} // namespace phantom
