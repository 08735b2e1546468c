// One evaluator's read of one subject, as plain data: the lesions the reader identified and
// what the reader recorded for each of them at each visit. This is what the CDISC SDTM TU/TR
// files carry (recist/Sdtm.h reads them) and what the viewer builds from its lesion panel.
#pragma once

#include "recist/Types.h"

#include <cstdint>
#include <string_view>
#include <utility>
#include <optional>
#include <string>
#include <vector>

namespace recist {

enum class LesionRole { Target, NonTarget, New };

struct Lesion {
    std::string id; ///< SDTM TULNKID: T01, NT01, NEW01; split fragment T01.1; coalesced T01/T02
    LesionRole role = LesionRole::Target;
    std::string location;             ///< SDTM TULOC
    bool nodal = false;               ///< location names a lymph node (all nodes are one organ)
    VisitNum identifiedAt;            ///< visit where the reader first recorded it
    std::optional<Date> identifiedOn; ///< TUDTC: first-detection date (new lesions: used for PD dating)
    int sourceLine = 0;               ///< TU line, for messages (0 when not from a file)
};

/// What the reader recorded for one lesion at one visit (32 bytes: a trial holds millions).
struct Assessment {
    enum class Kind : std::uint8_t {
        Measured, ///< value holds the diameter (0 = disappeared)
        TooSmall, ///< "too small to measure": counts 5 mm (RECIST 1.1 §4.3.2)
        NotDone,  ///< TRSTAT NOT DONE: not assessed
        Merged,   ///< NOT DONE with reason TUMOR MERGED (parent of a coalesced lesion)
        Present,  ///< non-target / new lesion states
        Absent,
        Unequivocal, ///< non-target unequivocal progression, or an unequivocal new lesion
        Equivocal,   ///< new lesion not yet certain
        NotEvaluable,
    };
    Kind kind = Kind::NotDone;
    int sourceLine = 0;       ///< TR line, for messages (0 when not from a file)
    Length value;             ///< Measured only
    std::optional<Date> date; ///< TRDTC (empty when the scan was not done)
    Length sliceThickness;    ///< 0 = unknown; when known (viewer) the measurability rule uses it
};

/// One visit of one read: the assessments by lesion id. A visit holds a handful of lesions,
/// so a flat vector (searched linearly) beats a map in time and memory.
/// Lesion ids (T01, T02, NT01...) mostly differ in their last character: test it first.
inline bool sameId(std::string_view a, std::string_view b) {
    return a.size() == b.size() && (a.empty() || (a.back() == b.back() && a.compare(b) == 0));
}

struct Visit {
    VisitNum number;
    std::vector<std::pair<std::string, Assessment>> assessments;
    int sourceLine = 0; ///< first TR line of the visit (0 when not from a file)

    const Assessment* find(std::string_view id) const {
        for (const auto& [key, a] : assessments) {
            if (sameId(key, id)) return &a;
        }
        return nullptr;
    }
    Assessment* find(std::string_view id) {
        for (auto& [key, a] : assessments) {
            if (sameId(key, id)) return &a;
        }
        return nullptr;
    }
    /// Adds an assessment; false (and nothing changed) if the lesion already has one here.
    bool add(std::string id, const Assessment& a) {
        if (find(id)) return false;
        assessments.emplace_back(std::move(id), a);
        return true;
    }
    /// Sets (adds or replaces) the assessment of a lesion.
    Assessment& set(const std::string& id, const Assessment& a) {
        if (Assessment* existing = find(id)) return *existing = a;
        return assessments.emplace_back(id, a).second;
    }
};

/// One evaluator's read of one subject.
struct Read {
    std::string studyId;
    std::string subjectId; ///< USUBJID
    std::string evaluator; ///< TUEVALID/TREVALID, e.g. "RADIOLOGIST 1"
    Date randomization;
    std::optional<Date> death;
    std::vector<Lesion> lesions;
    std::vector<Visit> visits; ///< any order; the engine orders them by visit number
};

} // namespace recist
