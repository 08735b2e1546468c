// Shared pieces of the reading-queue tests: a store laid out as the anonymizer writes it,
// read payloads, subject dates, and the rule of a refused call.
#pragma once

#include "readerqueue/Queue.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace rqtest {

namespace fs = std::filesystem;
using rq::Refused;

inline const std::string kPw = "correct horse battery";
inline const fs::path kCharter = fs::path(RELUTH_SOURCE_DIR) / "assets/charters/reluth.json";

/// RELUTH-01-001, RELUTH-01-002, ...
inline std::string pseudonym(int s) {
    char p[32];
    std::snprintf(p, sizeof p, "RELUTH-01-%03d", s);
    return p;
}

/// A baseline with one liver target of `mm` and one non-target; a follow-up measuring it.
inline std::string baseline(const std::string& mm = "32.0") {
    return R"({"lesions":[{"id":"T01","role":"TARGET","location":"LIVER"},{"id":"NT01","role":"NON-TARGET","location":"LUNG"}],)"
           R"("assessments":[{"id":"T01","result":")" +
           mm + R"("},{"id":"NT01","result":"PRESENT"}]})";
}
inline std::string followup(const std::string& mm, const std::string& nonTarget = "PRESENT", const std::string& extra = {}) {
    return R"({"assessments":[{"id":"T01","result":")" + mm + R"("},{"id":"NT01","result":")" + nonTarget + R"("})" + extra + "]}";
}
/// A follow-up with an unequivocal new liver lesion.
inline std::string followupWithNewLesion(const std::string& mm) {
    return R"({"lesions":[{"id":"NEW01","role":"NEW","location":"LIVER"}],)"
           R"("assessments":[{"id":"T01","result":")" +
           mm + R"("},{"id":"NT01","result":"PRESENT"},{"id":"NEW01","result":"UNEQUIVOCAL"}]})";
}

/// SUBJ.csv with the randomization date of subjects RELUTH-01-001.. (a week before the first scan).
inline fs::path subjectDates(const fs::path& dir, int subjects) {
    const fs::path f = dir / "SUBJ.csv";
    std::ofstream out(f);
    out << "STUDYID,USUBJID,RANDDT\n";
    for (int s = 1; s <= subjects; ++s) out << "RELUTH," << pseudonym(s) << ",2024-01-03\n";
    return f;
}

/// A store laid out as the anonymizer writes it (folders only: the queue reads no pixels).
inline void makeStore(const fs::path& store, int subjects, int timepoints) {
    for (int s = 1; s <= subjects; ++s) {
        for (int t = 0; t < timepoints; ++t) {
            char date[32];
            std::snprintf(date, sizeof date, "2024%02d10", 1 + 2 * t);
            const fs::path series =
                store / pseudonym(s) / (std::string(date) + "_1234567" + std::to_string(t)) / ("CT_2_8765432" + std::to_string(t));
            fs::create_directories(series);
            std::ofstream(series / "2.25.1.dcm") << "x";
        }
    }
}

template <class F>
inline std::string refusal(F f) {
    try {
        f();
    } catch (const Refused& r) {
        return r.rule;
    }
    return "not refused";
}

} // namespace rqtest
