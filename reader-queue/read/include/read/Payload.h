#pragma once
// The read payload of one timepoint (docs/read-payload.md) as a type, with its one JSON codec:
// the lesions identified at this timepoint, the answers for every lesion, and the calipers the
// answers came from. The queue stores the JSON text; the workstation edits the type.
#include <array>
#include <string>
#include <vector>

namespace rq {

/// A point in patient coordinates (mm, LPS).
using Point3 = std::array<double, 3>;
double distanceMm(const Point3& a, const Point3& b);

/// A caliper: a long axis, or a bidimensional measurement (long and perpendicular short axis),
/// or a point marking where a non-target or new lesion is (a = b, no length), with the image it
/// was made on.
struct Caliper {
    enum class Kind { LongAxis, Bidimensional, Point };
    Kind kind = Kind::LongAxis;
    int id = 0;                    ///< unique within a set
    std::string seriesUid, sopUid; ///< the image it was made on
    int slice = 0;                 ///< index of that image along the series' normal
    Point3 a{}, b{};               ///< long axis end points
    Point3 c{}, d{};               ///< short axis end points (bidimensional)
    std::string label;             ///< the lesion it measures (T01), empty when none yet
    /// How it was made: drawn by hand, or proposed by the one-click measurement and accepted
    /// unchanged or edited before it was accepted (payload "origin"; absent = MANUAL).
    enum class Origin { Manual, Proposed, ProposedEdited };
    Origin origin = Origin::Manual;
    double longMm() const { return kind == Kind::Point ? 0 : distanceMm(a, b); }
    double shortMm() const { return kind == Kind::Bidimensional ? distanceMm(c, d) : 0; }
};

/// A lesion as identified (SDTM TU): id T01 / NT01 / NEW01, split fragment T01.1, coalesced T01/T02.
struct LesionEntry {
    std::string id, role, location; ///< role: TARGET, NON-TARGET, NEW (upper case)
};

/// One answer of the timepoint (SDTM TR): a number of mm for targets ("0" = gone), or a state.
struct AnswerEntry {
    std::string id, result, reason;
    double sliceThickness = 0; ///< mm, of the series measured on (0 = not measured here)
    int measurement = 0;       ///< the caliper the value comes from (0 = typed or a state)
};

struct Payload {
    std::vector<LesionEntry> lesions;
    std::vector<AnswerEntry> answers;
    std::vector<Caliper> measurements; ///< every caliper of the timepoint; label = lesion id or empty

    /// Parses a payload (an empty text is an empty payload). Roles, locations, results and
    /// reasons are upper-cased. False with `error` when the text is not a JSON object; what does
    /// not follow the format (a missing id, a bad role, a caliper without end points...) is
    /// left out and, when `problems` is given, said there naming the JSON field.
    static bool parse(const std::string& text, Payload& out, std::string* error = nullptr, std::vector<std::string>* problems = nullptr);
    std::string toJson() const;
    const AnswerEntry* answer(const std::string& id) const;
    const Caliper* measurement(int id) const;
    int nextMeasurementId() const;
};

} // namespace rq
