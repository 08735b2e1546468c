// Charter parsing: one pass over the JSON that collects every finding instead of stopping at
// the first. Every field is required (a charter is a controlled document: no silent
// defaults), and unknown fields are findings too, so a misspelt key cannot go unnoticed.
#include "charter/Charter.h"

#include <cctype>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace charter {
namespace {

using nlohmann::json;

std::string join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

/// Walks one JSON object, remembering which keys were read so unknown ones can be reported.
class ObjectReader {
public:
    ObjectReader(const json* node, std::string path, std::vector<Finding>& findings)
        : m_node(node), m_path(std::move(path)), m_findings(findings) {}

    bool valid() const { return m_node != nullptr; }

    ObjectReader object(const std::string& key) {
        const json* v = get(key);
        if (!v) return {nullptr, join(m_path, key), m_findings};
        if (!v->is_object()) {
            fail(key, "must be an object");
            return {nullptr, join(m_path, key), m_findings};
        }
        return {v, join(m_path, key), m_findings};
    }

    void text(const std::string& key, std::string& out, bool allowEmpty = false) {
        const json* v = get(key);
        if (!v) return;
        if (!v->is_string()) return fail(key, "must be a string");
        out = v->get<std::string>();
        if (!allowEmpty && out.empty()) fail(key, "must not be empty");
    }

    void integer(const std::string& key, int& out, int min, int max) {
        const json* v = get(key);
        if (!v) return;
        if (!v->is_number_integer()) return fail(key, "must be an integer");
        const auto n = v->get<long long>();
        if (n < min || n > max) {
            return fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + " (is " + std::to_string(n) + ")");
        }
        out = static_cast<int>(n);
    }

    void boolean(const std::string& key, bool& out) {
        const json* v = get(key);
        if (!v) return;
        if (!v->is_boolean()) return fail(key, "must be true or false");
        out = v->get<bool>();
    }

    void textList(const std::string& key, std::vector<std::string>& out, bool allowEmptyList) {
        const json* v = get(key);
        if (!v) return;
        if (!v->is_array()) return fail(key, "must be a list of strings");
        out.clear();
        for (std::size_t i = 0; i < v->size(); ++i) {
            const json& item = (*v)[i];
            if (!item.is_string() || item.get<std::string>().empty()) {
                m_findings.push_back({join(m_path, key) + "[" + std::to_string(i) + "]", "must be a non-empty string"});
                continue;
            }
            out.push_back(item.get<std::string>());
        }
        if (!allowEmptyList && v->empty()) fail(key, "must not be empty");
    }

    /// A string that must be one of choices; returns its index or -1.
    int choice(const std::string& key, std::initializer_list<const char*> choices) {
        const json* v = get(key);
        if (!v) return -1;
        std::string allowed;
        int i = 0;
        for (const char* c : choices) {
            if (v->is_string() && v->get<std::string>() == c) return i;
            allowed += (i++ ? ", " : "") + std::string("\"") + c + "\"";
        }
        fail(key, "must be one of " + allowed);
        return -1;
    }

    const json* array(const std::string& key) {
        const json* v = get(key);
        if (v && !v->is_array()) {
            fail(key, "must be a list");
            return nullptr;
        }
        return v;
    }

    bool has(const std::string& key) const { return m_node && m_node->contains(key) && !(*m_node)[key].is_null(); }

    /// Reports every key of this object that no accessor asked for.
    void rejectUnknown() {
        if (!m_node) return;
        for (const auto& [key, value] : m_node->items()) {
            if (!m_read.count(key)) m_findings.push_back({join(m_path, key), "unknown field"});
        }
    }

    const std::string& path() const { return m_path; }

    /// The i-th element of an array read from this object, as an object reader.
    ObjectReader item(const json& array, std::size_t i, const std::string& key) {
        const std::string p = join(m_path, key) + "[" + std::to_string(i) + "]";
        if (!array[i].is_object()) {
            m_findings.push_back({p, "must be an object"});
            return {nullptr, p, m_findings};
        }
        return {&array[i], p, m_findings};
    }
    void fail(const std::string& key, const std::string& message) { m_findings.push_back({join(m_path, key), message}); }

private:
    const json* get(const std::string& key) {
        if (!m_node) return nullptr; // the parent is already reported
        m_read.insert(key);
        auto it = m_node->find(key);
        if (it == m_node->end() || it->is_null()) {
            fail(key, "missing");
            return nullptr;
        }
        return &*it;
    }

    const json* m_node;
    std::string m_path;
    std::vector<Finding>& m_findings;
    std::set<std::string> m_read;
};

constexpr int kMaxDays = 10 * 365;

void readTrial(ObjectReader o, TrialInfo& t) {
    o.text("study_id", t.studyId);
    o.text("title", t.title);
    o.text("registry_id", t.registryId);
    o.text("sponsor", t.sponsor);
    o.text("protocol_name", t.protocolName);
    o.boolean("randomized", t.randomized);
    o.integer("arms_count", t.armsCount, 1, 10);
    o.integer("planned_subjects", t.plannedSubjects, 1, 100000);
    // DICOM Clinical Trial Protocol ID is an LO (64 chars); SDTM STUDYID should be short.
    if (t.studyId.size() > 64) o.fail("study_id", "must be at most 64 characters (DICOM LO)");
    o.rejectUnknown();
}

void readVisits(ObjectReader o, VisitSchedule& v) {
    ObjectReader b = o.object("baseline");
    b.integer("visit", v.baselineVisit, 0, 1000);
    b.text("label", v.baselineLabel);
    b.integer("window_before_randomization_days", v.baselineWindowBeforeRandomizationDays, 0, 365);
    b.rejectUnknown();
    o.integer("interval_days", v.intervalDays, 1, kMaxDays);
    o.integer("window_days", v.windowDays, 0, 365);
    o.integer("followups", v.followups, 1, 200);
    o.integer("first_followup_visit", v.firstFollowupVisit, 0, 1000);
    o.text("label_format", v.labelFormat);
    if (o.valid() && b.valid() && v.firstFollowupVisit <= v.baselineVisit) {
        o.fail("first_followup_visit", "must be greater than baseline.visit");
    }
    if (v.intervalDays > 0 && 2 * v.windowDays >= v.intervalDays) {
        o.fail("window_days", "visit windows must not overlap (2 x window_days < interval_days)");
    }
    o.rejectUnknown();
}

void readRecist(ObjectReader o, RecistOptions& r) {
    o.boolean("confirmation_required", r.confirmationRequired);
    o.integer("confirmation_min_days", r.confirmationMinDays, 0, kMaxDays);
    o.integer("sd_min_days_from_baseline", r.sdMinDaysFromBaseline, 0, kMaxDays);
    o.integer("dcr_landmark_days", r.dcrLandmarkDays, 1, kMaxDays);
    o.integer("dcr_window_days", r.dcrWindowDays, 0, kMaxDays);
    // rPFS censoring (recist-sdtm.md section 7), optional: the contract's defaults otherwise
    if (o.has("rpfs_max_gap_days")) o.integer("rpfs_max_gap_days", r.rpfsMaxGapDays, 1, kMaxDays);
    if (o.has("rpfs_death_is_event")) o.boolean("rpfs_death_is_event", r.rpfsDeathIsEvent);
    o.rejectUnknown();
}

void readReading(ObjectReader o, ReadingParadigm& r) {
    o.text("paradigm", r.paradigm);
    o.integer("readers_per_subject", r.readersPerSubject, 1, 5);
    o.integer("adjudicators_per_subject", r.adjudicatorsPerSubject, 0, 3);
    o.boolean("read_timepoints_in_order", r.readTimepointsInOrder);
    if (o.has("read_turnaround_days")) o.integer("read_turnaround_days", r.readTurnaroundDays, 1, kMaxDays); // optional
    if (o.has("window_presets")) {                                                                           // optional
        o.textList("window_presets", r.windowPresets, false);
        static const std::set<std::string> known{"soft_tissue", "liver", "lung", "bone", "brain"};
        for (std::size_t i = 0; i < r.windowPresets.size(); ++i)
            if (!known.count(r.windowPresets[i]))
                o.fail("window_presets[" + std::to_string(i) + "]",
                       "\"" + r.windowPresets[i] + "\" is not a preset (soft_tissue, liver, lung, bone, brain)");
    }
    ObjectReader t = o.object("adjudication_triggers");
    t.boolean("different_timepoint_response", r.triggers.differentTimepointResponse);
    t.boolean("different_best_overall_response", r.triggers.differentBestOverallResponse);
    t.integer("progression_date_difference_days", r.triggers.progressionDateDifferenceDays, 0, kMaxDays);
    t.boolean("progression_in_one_read_only", r.triggers.progressionInOneReadOnly);
    t.boolean("different_disease_control_at_landmark", r.triggers.differentDiseaseControlAtLandmark);
    t.rejectUnknown();
    const std::string expected = std::to_string(r.readersPerSubject) + "+" + std::to_string(r.adjudicatorsPerSubject);
    if (o.valid() && !r.paradigm.empty() && r.paradigm != expected) {
        o.fail("paradigm", "says \"" + r.paradigm + "\" but readers_per_subject + adjudicators_per_subject is " + expected);
    }
    if (r.readersPerSubject > 1 && r.adjudicatorsPerSubject == 0) {
        o.fail("adjudicators_per_subject", "must be at least 1 when more than one reader reads a subject");
    }
    // What the queue does, and nothing else (a charter says only what is true): two independent
    // readers, one adjudicator per disagreement, timepoints read in order.
    if (o.valid() && r.readersPerSubject != 2)
        o.fail("readers_per_subject", "is " + std::to_string(r.readersPerSubject) +
                                          ": only 2 is supported (two independent reads, adjudicated when they disagree)");
    if (o.valid() && r.adjudicatorsPerSubject != 1)
        o.fail("adjudicators_per_subject",
               "is " + std::to_string(r.adjudicatorsPerSubject) + ": only 1 is supported (each adjudication goes to one adjudicator)");
    if (o.valid() && !r.readTimepointsInOrder)
        o.fail("read_timepoints_in_order", "must be true: the queue offers a reader's timepoints in order and nothing else is supported");
    o.rejectUnknown();
}

void readBlinding(ObjectReader o, Blinding& b) {
    o.boolean("hide_treatment_arm", b.hideTreatmentArm);
    o.boolean("hide_site", b.hideSite);
    o.boolean("hide_other_reader", b.hideOtherReader);
    o.textList("reader_visible_fields", b.readerVisibleFields, false);
    // A blinded independent central review cannot be configured unblinded by accident.
    if (o.valid() && !b.hideTreatmentArm) o.fail("hide_treatment_arm", "must be true for a blinded central review");
    if (o.valid() && !b.hideOtherReader) o.fail("hide_other_reader", "must be true for independent reads");
    if (o.valid() && !b.hideSite) o.fail("hide_site", "must be true: readers always see the reading ID, never the subject ID or the site");
    // the workstation shows a blinded reader exactly these (reading ID, visit label, days from
    // the baseline in every reason): the charter must say the same
    static const std::vector<std::string> kShown = {"reading_id", "visit_label", "days_from_baseline"};
    std::set<std::string> listed;
    for (std::size_t i = 0; i < b.readerVisibleFields.size(); ++i) {
        const std::string& f = b.readerVisibleFields[i];
        if (std::find(kShown.begin(), kShown.end(), f) == kShown.end()) {
            o.fail("reader_visible_fields[" + std::to_string(i) + "]",
                   "\"" + f + "\" is not supported: a reader sees exactly reading_id, visit_label and days_from_baseline" +
                       (f == "subject_pseudonym" ? std::string(" (the subject ID carries the site number)") : std::string()));
        }
        listed.insert(f);
    }
    for (const std::string& f : kShown)
        if (o.valid() && !listed.count(f)) o.fail("reader_visible_fields", "must list \"" + f + "\": the workstation shows it to readers");
    o.rejectUnknown();
}

bool parseHex(const std::string& s, unsigned max, unsigned& out) {
    if (s.empty() || s.size() > 4) return false;
    unsigned v = 0;
    for (char c : s) {
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (d < 0) return false;
        v = v * 16 + static_cast<unsigned>(d);
    }
    if (v > max) return false;
    out = v;
    return true;
}

void readDeid(ObjectReader o, Deidentification& d) {
    if (o.choice("profile", {"basic"}) == 0) d.profile = "basic";
    o.text("dicom_edition", d.dicomEdition);
    // the edition of PS3.15 whose Table E.1-1 the profile table holds: YYYYx, 2024b or later (older
    // tables miss attributes that leak: Station AE Title, Network ID, Reason For Visit, ...)
    if (!d.dicomEdition.empty()) {
        const std::string& e = d.dicomEdition;
        const bool form = e.size() == 5 && std::isdigit(static_cast<unsigned char>(e[0])) &&
                          std::isdigit(static_cast<unsigned char>(e[1])) && std::isdigit(static_cast<unsigned char>(e[2])) &&
                          std::isdigit(static_cast<unsigned char>(e[3])) && e[4] >= 'a' && e[4] <= 'e';
        if (!form)
            o.fail("dicom_edition", "must name an edition of the DICOM standard such as 2024b (is '" + e + "')");
        else if (e < std::string(kMinimumDicomEdition))
            o.fail("dicom_edition", "edition " + e + " is older than " + kMinimumDicomEdition +
                                        ": its de-identification table misses attributes the current one lists");
    }
    ObjectReader opt = o.object("options");
    switch (opt.choice("retain_longitudinal_temporal_information", {"full", "shift_per_subject"})) {
    case 0: d.temporal = TemporalOption::FullDates; break;
    case 1: d.temporal = TemporalOption::ShiftPerSubject; break;
    default: break;
    }
    opt.boolean("clean_descriptors", d.cleanDescriptors);
    opt.boolean("retain_patient_characteristics", d.retainPatientCharacteristics);
    opt.rejectUnknown();
    o.textList("arm_words", d.armWords, false);
    switch (o.choice("arm_text_action", {"clean", "remove"})) {
    case 0: d.armTextAction = ArmTextAction::Clean; break;
    case 1: d.armTextAction = ArmTextAction::Remove; break;
    default: break;
    }
    ObjectReader q = o.object("quarantine");
    q.textList("radiopharmaceutical_words", d.quarantine.radiopharmaceuticalWords, false);
    q.textList("series_words", d.quarantine.seriesWords, true);
    q.boolean("burned_in_annotation", d.quarantine.burnedInAnnotation);
    q.boolean("secondary_capture", d.quarantine.secondaryCapture);
    q.textList("allowed_modalities", d.quarantine.allowedModalities, false);
    q.rejectUnknown();
    if (o.has("vocabulary_additions")) o.textList("vocabulary_additions", d.vocabularyAdditions, true);    // optional
    if (o.has("vocabulary_attributes")) o.textList("vocabulary_attributes", d.vocabularyAttributes, true); // optional
    for (const std::string& t : d.vocabularyAttributes) {
        const bool form =
            t.size() == 11 && t[0] == '(' && t[5] == ',' && t[10] == ')' &&
            std::all_of(t.begin() + 1, t.end() - 1, [](char c) { return c == ',' || std::isxdigit(static_cast<unsigned char>(c)); });
        if (!form) o.fail("vocabulary_attributes", "'" + t + "' is not a tag written (gggg,eeee)");
    }
    if (const json* tags = o.array("safe_private_tags")) {
        d.safePrivateTags.clear();
        for (std::size_t i = 0; i < tags->size(); ++i) {
            ObjectReader t = o.item(*tags, i, "safe_private_tags");
            if (!t.valid()) continue;
            PrivateTag tag;
            std::string group, element;
            t.text("group", group);
            t.text("creator", tag.creator);
            t.text("element", element);
            unsigned g = 0, e = 0;
            if (!group.empty() && (!parseHex(group, 0xFFFF, g) || g % 2 == 0 || g < 0x0009)) {
                t.fail("group", "must be an odd hexadecimal group such as \"0009\"");
            }
            if (!element.empty() && !parseHex(element, 0xFF, e)) {
                t.fail("element", "must be a hexadecimal element offset 00-FF");
            }
            tag.group = static_cast<std::uint16_t>(g);
            tag.element = static_cast<std::uint8_t>(e);
            t.rejectUnknown();
            d.safePrivateTags.push_back(tag);
        }
    }
    o.rejectUnknown();
}

} // namespace

std::string VisitSchedule::labelOfFollowup(int n) const {
    std::string label = labelFormat;
    auto replace = [&label](const std::string& key, const std::string& value) {
        for (auto pos = label.find(key); pos != std::string::npos; pos = label.find(key, pos + value.size())) {
            label.replace(pos, key.size(), value);
        }
    };
    replace("{week}", std::to_string(nominalDayOfFollowup(n) / 7));
    replace("{n}", std::to_string(n));
    return label;
}

CharterError::CharterError(std::string source, std::vector<Finding> findings)
    : std::runtime_error([&] {
          std::ostringstream os;
          os << source << ": invalid trial charter (" << findings.size() << " problem" << (findings.size() == 1 ? "" : "s") << ")";
          for (const Finding& f : findings) os << "\n  " << f.field << ": " << f.message;
          return os.str();
      }()),
      m_source(std::move(source)), m_findings(std::move(findings)) {}

Charter parseCharter(std::string_view text, std::string_view sourceName) {
    json root;
    try {
        root = json::parse(text.begin(), text.end());
    } catch (const json::parse_error& e) {
        // nlohmann reports the byte offset; turn it into a line number a person can find.
        const std::size_t offset = std::min<std::size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
        const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n');
        throw CharterError(std::string(sourceName), {{"(file)", "not valid JSON near line " + std::to_string(line) + ": " + e.what()}});
    } catch (const json::exception& e) {
        // found by charter_fuzz: a number too large for a double is out_of_range, not a parse_error
        throw CharterError(std::string(sourceName), {{"(file)", std::string("not valid JSON: ") + e.what()}});
    }
    std::vector<Finding> findings;
    if (!root.is_object()) {
        throw CharterError(std::string(sourceName), {{"(file)", "the charter must be a JSON object"}});
    }
    Charter c;
    ObjectReader top(&root, "", findings);
    top.integer("charter_format", c.format, 1, 1000);
    if (c.format > kCharterFormat) {
        top.fail("charter_format",
                 "is " + std::to_string(c.format) + " but this program reads format " + std::to_string(kCharterFormat) + " at most");
    }
    top.text("charter_version", c.version);
    readTrial(top.object("trial"), c.trial);
    readVisits(top.object("visit_schedule"), c.visits);
    readRecist(top.object("recist"), c.recist);
    readReading(top.object("reading"), c.reading);
    readBlinding(top.object("blinding"), c.blinding);
    readDeid(top.object("deidentification"), c.deidentification);
    top.rejectUnknown();
    if (!findings.empty()) throw CharterError(std::string(sourceName), std::move(findings));
    return c;
}

Charter loadCharter(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw CharterError(path.string(), {{"(file)", "cannot be opened"}});
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return parseCharter(buffer.str(), path.string());
}

} // namespace charter
