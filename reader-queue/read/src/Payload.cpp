#include "read/Payload.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

namespace rq {

using nlohmann::json;

double distanceMm(const Point3& a, const Point3& b) {
    const double dx = a[0] - b[0], dy = a[1] - b[1], dz = a[2] - b[2];
    return std::sqrt(dx * dx + dy * dy + dz * dz);
}

namespace {

json pointJson(const Point3& p) { return json::array({p[0], p[1], p[2]}); }

bool pointOf(const json& j, Point3& p) {
    if (!j.is_array() || j.size() != 3) return false;
    for (std::size_t i = 0; i < 3; ++i) {
        if (!j[i].is_number()) return false;
        p[i] = j[i].get<double>();
        if (!std::isfinite(p[i])) return false;
    }
    return true;
}

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    return s;
}

} // namespace

bool Payload::parse(const std::string& text, Payload& out, std::string* error, std::vector<std::string>* problems) {
    out = Payload();
    auto bad = [&](const std::string& m) {
        if (problems) problems->push_back(m);
    };
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) return true;
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        if (error) *error = std::string("not JSON (") + e.what() + ")";
        bad(std::string("not JSON (") + e.what() + ")");
        return false;
    }
    if (!j.is_object()) {
        if (error) *error = "the read is a JSON object";
        bad("the read is a JSON object");
        return false;
    }
    // a text field: text or a number; `required` ones missing or of another type are problems
    auto field = [&](const json& o, const char* key, const std::string& at, bool required, bool& ok) -> std::string {
        if (!o.contains(key)) {
            if (required) bad(at + "." + key + " is missing"), ok = false;
            return {};
        }
        const json& v = o[key];
        if (v.is_string()) return v.get<std::string>();
        if (v.is_number()) return v.dump();
        bad(at + "." + key + " must be text");
        ok = false;
        return {};
    };
    if (j.contains("lesions")) {
        if (!j["lesions"].is_array())
            bad("lesions must be a list");
        else
            for (std::size_t i = 0; i < j["lesions"].size(); ++i) {
                const json& l = j["lesions"][i];
                const std::string at = "lesions[" + std::to_string(i) + "]";
                if (!l.is_object()) {
                    bad(at + " must be an object");
                    continue;
                }
                bool ok = true;
                LesionEntry e{field(l, "id", at, true, ok), upper(field(l, "role", at, true, ok)),
                              upper(field(l, "location", at, true, ok))};
                if (ok && e.role != "TARGET" && e.role != "NON-TARGET" && e.role != "NEW")
                    bad(at + ".role is TARGET, NON-TARGET or NEW (not '" + e.role + "')"), ok = false;
                if (ok && (e.id.empty() || e.location.empty())) bad(at + " needs an id and a location"), ok = false;
                if (ok) out.lesions.push_back(std::move(e));
            }
    }
    if (j.contains("assessments")) {
        if (!j["assessments"].is_array())
            bad("assessments must be a list");
        else
            for (std::size_t i = 0; i < j["assessments"].size(); ++i) {
                const json& a = j["assessments"][i];
                const std::string at = "assessments[" + std::to_string(i) + "]";
                if (!a.is_object()) {
                    bad(at + " must be an object");
                    continue;
                }
                bool ok = true;
                AnswerEntry e{field(a, "id", at, true, ok), upper(field(a, "result", at, true, ok)),
                              upper(field(a, "reason", at, false, ok))};
                if (a.contains("slice_thickness_mm")) {
                    const json& t = a["slice_thickness_mm"];
                    char* end = nullptr;
                    const std::string s = t.is_string() ? t.get<std::string>() : std::string();
                    const double v = t.is_number() ? t.get<double>() : std::strtod(s.c_str(), &end);
                    if ((t.is_number() || (!s.empty() && end && *end == '\0')) && std::isfinite(v) && v >= 0)
                        e.sliceThickness = v;
                    else
                        bad(at + ".slice_thickness_mm must be a number of mm");
                }
                if (a.contains("measurement") && a["measurement"].is_number_integer()) e.measurement = a["measurement"].get<int>();
                if (ok) out.answers.push_back(std::move(e));
            }
    }
    if (j.contains("measurements")) {
        if (!j["measurements"].is_array())
            bad("measurements must be a list");
        else
            for (std::size_t i = 0; i < j["measurements"].size(); ++i) {
                const json& m = j["measurements"][i];
                const std::string at = "measurements[" + std::to_string(i) + "]";
                if (!m.is_object() || !m.contains("id") || !m["id"].is_number_integer()) {
                    bad(at + " must be an object with an integer id");
                    continue;
                }
                Caliper v;
                bool ok = true;
                v.id = m["id"].get<int>();
                const std::string kind = field(m, "kind", at, false, ok);
                v.kind = kind == "BIDIMENSIONAL" ? Caliper::Kind::Bidimensional
                         : kind == "POINT"       ? Caliper::Kind::Point
                                                 : Caliper::Kind::LongAxis;
                v.label = field(m, "lesion", at, false, ok);
                v.seriesUid = field(m, "series_uid", at, false, ok);
                v.sopUid = field(m, "sop_instance_uid", at, false, ok);
                if (m.contains("slice") && m["slice"].is_number_integer()) v.slice = m["slice"].get<int>();
                if (m.contains("origin")) {
                    const std::string origin = field(m, "origin", at, false, ok);
                    if (origin == "PROPOSED")
                        v.origin = Caliper::Origin::Proposed;
                    else if (origin == "PROPOSED_EDITED")
                        v.origin = Caliper::Origin::ProposedEdited;
                    else if (origin != "MANUAL") {
                        bad(at + ".origin must be MANUAL, PROPOSED or PROPOSED_EDITED");
                        continue;
                    }
                }
                if (v.kind == Caliper::Kind::Point && pointOf(m.value("a", json()), v.a)) {
                    v.b = v.a; // a point: where the lesion is, nothing measured
                    if (ok) out.measurements.push_back(std::move(v));
                    continue;
                }
                if (!pointOf(m.value("a", json()), v.a) || !pointOf(m.value("b", json()), v.b) ||
                    (v.kind == Caliper::Kind::Bidimensional &&
                     (!pointOf(m.value("c", json()), v.c) || !pointOf(m.value("d", json()), v.d)))) {
                    bad(at + " needs its end points (a, b; c, d when bidimensional) as [x, y, z] in mm");
                    continue;
                }
                if (ok) out.measurements.push_back(std::move(v));
            }
    }
    return true;
}

std::string Payload::toJson() const {
    json lesionsJ = json::array(), answersJ = json::array(), measuresJ = json::array();
    for (const LesionEntry& l : lesions) lesionsJ.push_back({{"id", l.id}, {"role", l.role}, {"location", l.location}});
    for (const AnswerEntry& a : answers) {
        json o{{"id", a.id}, {"result", a.result}};
        if (!a.reason.empty()) o["reason"] = a.reason;
        if (a.sliceThickness > 0) o["slice_thickness_mm"] = a.sliceThickness;
        if (a.measurement > 0) o["measurement"] = a.measurement;
        answersJ.push_back(std::move(o));
    }
    for (const Caliper& m : measurements) {
        if (m.kind == Caliper::Kind::Point) {
            measuresJ.push_back({{"id", m.id},
                                 {"lesion", m.label},
                                 {"kind", "POINT"},
                                 {"series_uid", m.seriesUid},
                                 {"sop_instance_uid", m.sopUid},
                                 {"slice", m.slice},
                                 {"a", pointJson(m.a)}});
            continue;
        }
        const bool bi = m.kind == Caliper::Kind::Bidimensional;
        json o{{"id", m.id},
               {"lesion", m.label},
               {"kind", bi ? "BIDIMENSIONAL" : "LONG_AXIS"},
               {"series_uid", m.seriesUid},
               {"sop_instance_uid", m.sopUid},
               {"slice", m.slice},
               {"a", pointJson(m.a)},
               {"b", pointJson(m.b)},
               {"long_mm", std::round(m.longMm() * 100.0) / 100.0}};
        if (m.origin != Caliper::Origin::Manual) o["origin"] = m.origin == Caliper::Origin::Proposed ? "PROPOSED" : "PROPOSED_EDITED";
        if (bi) {
            o["c"] = pointJson(m.c);
            o["d"] = pointJson(m.d);
            o["short_mm"] = std::round(m.shortMm() * 100.0) / 100.0;
        }
        measuresJ.push_back(std::move(o));
    }
    return json{{"lesions", lesionsJ}, {"assessments", answersJ}, {"measurements", measuresJ}}.dump(-1, ' ', false,
                                                                                                    json::error_handler_t::replace);
}

const AnswerEntry* Payload::answer(const std::string& id) const {
    for (const AnswerEntry& a : answers)
        if (a.id == id) return &a;
    return nullptr;
}

const Caliper* Payload::measurement(int id) const {
    for (const Caliper& m : measurements)
        if (m.id == id) return &m;
    return nullptr;
}

int Payload::nextMeasurementId() const {
    int next = 1;
    for (const Caliper& m : measurements) next = std::max(next, m.id + 1);
    return next;
}

} // namespace rq
