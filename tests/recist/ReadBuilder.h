// A compact way to write a reader's data in tests:
//   ReadBuilder b("2024-01-15");
//   b.target("T01", "LIVER").nonTarget("NT01", "BONE");
//   b.visit(1, "2024-01-10", {{"T01", "50"}, {"NT01", "PRESENT"}});
// Values: a number (mm), "TSTM", "ND" (not done), "MERGED", "PRESENT", "ABSENT", "UNEQ",
// "EQ", "NE" (not evaluable).
#pragma once

#include "recist/Evaluate.h"

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace testutil {

inline recist::Date date(const std::string& iso) {
    recist::Date d;
    if (!recist::Date::parse(iso, d)) throw std::invalid_argument("bad date " + iso);
    return d;
}

inline recist::VisitNum visitNum(double v) {
    recist::VisitNum n;
    n.millionths = static_cast<std::int64_t>(v * 1000000 + (v >= 0 ? 0.5 : -0.5));
    return n;
}

class ReadBuilder {
public:
    explicit ReadBuilder(const std::string& randomization = "2024-01-15") {
        m_read.studyId = "RELUTH";
        m_read.subjectId = "RELUTH-001-0001";
        m_read.evaluator = "RADIOLOGIST 1";
        m_read.randomization = date(randomization);
    }
    ReadBuilder& lesion(const std::string& id, recist::LesionRole role, const std::string& location, double visit = 1,
                        const std::string& on = "") {
        recist::Lesion l;
        l.id = id;
        l.role = role;
        l.location = location;
        l.nodal = location.find("LYMPH NODE") != std::string::npos;
        l.identifiedAt = visitNum(visit);
        if (!on.empty()) l.identifiedOn = date(on);
        m_read.lesions.push_back(l);
        return *this;
    }
    ReadBuilder& target(const std::string& id, const std::string& location, double visit = 1) {
        return lesion(id, recist::LesionRole::Target, location, visit);
    }
    ReadBuilder& nonTarget(const std::string& id, const std::string& location) {
        return lesion(id, recist::LesionRole::NonTarget, location);
    }
    ReadBuilder& newLesion(const std::string& id, double visit, const std::string& on) {
        return lesion(id, recist::LesionRole::New, "LIVER", visit, on);
    }
    ReadBuilder& death(const std::string& on) {
        m_read.death = date(on);
        return *this;
    }
    ReadBuilder& visit(double number, const std::string& on, std::vector<std::pair<std::string, std::string>> values) {
        recist::Visit v;
        v.number = visitNum(number);
        for (const auto& [id, value] : values) {
            recist::Assessment a;
            if (!on.empty()) a.date = date(on);
            using K = recist::Assessment::Kind;
            if (value == "TSTM")
                a.kind = K::TooSmall;
            else if (value == "ND") {
                a.kind = K::NotDone;
            } else if (value == "MERGED")
                a.kind = K::Merged;
            else if (value == "PRESENT")
                a.kind = roleOf(id) == recist::LesionRole::New ? K::Unequivocal : K::Present;
            else if (value == "ABSENT")
                a.kind = K::Absent;
            else if (value == "UNEQ")
                a.kind = K::Unequivocal;
            else if (value == "EQ")
                a.kind = K::Equivocal;
            else if (value == "NE")
                a.kind = K::NotEvaluable;
            else {
                a.kind = K::Measured;
                if (!recist::Length::parseMm(value, a.value)) throw std::invalid_argument("bad value " + value);
            }
            v.set(id, a);
        }
        m_read.visits.push_back(v);
        return *this;
    }
    const recist::Read& read() const { return m_read; }
    recist::Read& read() { return m_read; }
    recist::SubjectResult evaluate(const recist::Options& o = {}) const { return recist::evaluate(m_read, o); }

private:
    recist::LesionRole roleOf(const std::string& id) const {
        for (const auto& l : m_read.lesions) {
            if (l.id == id) return l.role;
        }
        return recist::LesionRole::Target;
    }
    recist::Read m_read;
};

} // namespace testutil
