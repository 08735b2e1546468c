// Value types of the RECIST 1.1 engine: exact lengths, calendar dates, visit numbers,
// responses and the trial's RECIST options. Standard library only.
//
// Lengths are integers of micrometres: every threshold comparison (PR at -30 %, PD at +20 %
// and +5 mm) is exact, so 27.0 -> 32.4 mm is exactly +20 % and PD.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace recist {

/// A length in whole micrometres (1 mm = 1000 units).
struct Length {
    std::int64_t um = 0;

    static constexpr Length fromMm(std::int64_t mm) { return {mm * 1000}; }
    static constexpr Length fromTenthsMm(std::int64_t tenths) { return {tenths * 100}; }
    /// Parses a non-negative or negative decimal number of millimetres ("12", "12.5", "-3",
    /// ".5"); digits beyond the third decimal are rounded half away from zero. False if
    /// the text is not a plain decimal number.
    static bool parseMm(std::string_view text, Length& out);
    double mm() const { return static_cast<double>(um) / 1000.0; }
    /// One decimal, half away from zero ("51.0").
    std::string formatMm() const;

    friend constexpr Length operator+(Length a, Length b) { return {a.um + b.um}; }
    friend constexpr Length operator-(Length a, Length b) { return {a.um - b.um}; }
    friend constexpr auto operator<=>(Length a, Length b) = default;
};

/// 100 * (a - b) / b rounded to one decimal half away from zero, as text ("-33.3").
/// b must be positive.
std::string formatPercentChange(Length a, Length b);

/// Non-allocating pieces of the above, for code that formats a lot (reasons, RS rows):
/// a length in tenths of a millimetre and a percent change in tenths of a percent, both
/// rounded half away from zero, and tenths written as "-12.3" into out (>= 24 chars).
std::int64_t tenthsOfMm(Length l);
std::int64_t percentChangeTenths(Length a, Length b);
std::size_t writeTenths(std::int64_t tenths, char* out);

/// A calendar date as days since 1970-01-01.
struct Date {
    int days = 0;
    /// Strict ISO 8601 YYYY-MM-DD with a real calendar date.
    static bool parse(std::string_view text, Date& out);
    /// From a proleptic Gregorian year, month, day (no validation).
    static Date fromCivil(int year, int month, int day);
    void toCivil(int& year, int& month, int& day) const;
    std::string iso() const;
    Date plusDays(int n) const { return {days + n}; }
    friend int operator-(Date a, Date b) { return a.days - b.days; }
    friend constexpr auto operator<=>(Date a, Date b) = default;
};

/// SDTM VISITNUM: numeric, unscheduled visits are decimals (2.1 lies between 2 and 3).
/// Kept exact as millionths.
struct VisitNum {
    std::int64_t millionths = 0;
    static bool parse(std::string_view text, VisitNum& out);
    std::string text() const; ///< shortest form: "2", "2.1"
    friend constexpr auto operator<=>(VisitNum a, VisitNum b) = default;
};

/// SDTM RS response values (CDISC CT).
enum class Response { CR, PR, SD, PD, NE, NonCRNonPD };
std::string_view toString(Response r);

/// The five keys of config.json (= the charter's recist section).
/// How the reasons show dates: calendar dates (ISO 8601; the core lab's exports), or days from
/// the baseline scan (what a blinded reader may see: the charter's reader-visible fields are
/// the visit label and days from baseline, never a date).
enum class ReasonDates { Calendar, DaysFromBaseline };

struct Options {
    ReasonDates reasonDates = ReasonDates::Calendar;
    bool confirmationRequired = false;
    int confirmationMinDays = 28;
    int sdMinDaysFromBaseline = 42;
    int dcrLandmarkDays = 183;
    int dcrWindowDays = 28;
    /// rPFS censoring (contract §7; optional keys): progression or death more than this many
    /// days after the last adequate assessment (two or more missed assessments) is censored there.
    int rpfsMaxGapDays = 126;
    bool rpfsDeathIsEvent = true; ///< death without documented progression is an rPFS event
};

} // namespace recist
