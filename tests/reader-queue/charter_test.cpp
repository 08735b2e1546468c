#include "charter/Charter.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

namespace {

const std::filesystem::path kReluth = std::filesystem::path(RELUTH_SOURCE_DIR) / "assets/charters/reluth.json";

std::string readFile(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// The ReLUTH charter text with one literal substitution applied (must match exactly once).
std::string reluthWith(const std::string& from, const std::string& to) {
    std::string text = readFile(kReluth);
    const auto pos = text.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    EXPECT_EQ(text.find(from, pos + 1), std::string::npos) << "ambiguous: " << from;
    return text.replace(pos, from.size(), to);
}

std::vector<charter::Finding> findingsOf(const std::string& text) {
    try {
        charter::parseCharter(text, "test.json");
    } catch (const charter::CharterError& e) {
        return e.findings();
    }
    ADD_FAILURE() << "charter was accepted";
    return {};
}

bool hasFinding(const std::vector<charter::Finding>& f, const std::string& field, const std::string& fragment) {
    for (const auto& x : f) {
        if (x.field == field && x.message.find(fragment) != std::string::npos) return true;
    }
    return false;
}

} // namespace

TEST(Charter, LoadsTheReluthCharter) {
    const charter::Charter c = charter::loadCharter(kReluth);
    EXPECT_EQ(c.trial.studyId, "RELUTH");
    EXPECT_EQ(c.trial.registryId, "NCT04954820");
    EXPECT_TRUE(c.trial.randomized);
    EXPECT_EQ(c.trial.plannedSubjects, 146);
    // Every 2 months, primary endpoint at 6 months: the RECIST section of recist-sdtm.md.
    EXPECT_EQ(c.visits.intervalDays, 56);
    EXPECT_EQ(c.visits.labelOfFollowup(1), "WEEK 8");
    EXPECT_EQ(c.visits.labelOfFollowup(3), "WEEK 24");
    EXPECT_EQ(c.visits.visitNumOfFollowup(1), 2);
    EXPECT_FALSE(c.recist.confirmationRequired);
    EXPECT_EQ(c.recist.confirmationMinDays, 28);
    EXPECT_EQ(c.recist.sdMinDaysFromBaseline, 42);
    EXPECT_EQ(c.recist.dcrLandmarkDays, 183);
    EXPECT_EQ(c.recist.dcrWindowDays, 28);
    EXPECT_EQ(c.reading.paradigm, "2+1");
    EXPECT_EQ(c.reading.readersPerSubject, 2);
    EXPECT_EQ(c.reading.readTurnaroundDays, 5);
    EXPECT_TRUE(c.reading.triggers.differentBestOverallResponse);
    EXPECT_TRUE(c.blinding.hideTreatmentArm);
    EXPECT_TRUE(c.blinding.hideOtherReader);
    EXPECT_EQ(c.deidentification.temporal, charter::TemporalOption::FullDates);
    EXPECT_TRUE(c.deidentification.cleanDescriptors);
    EXPECT_FALSE(c.deidentification.retainPatientCharacteristics);
    EXPECT_EQ(c.deidentification.armTextAction, charter::ArmTextAction::Clean);
    EXPECT_NE(std::find(c.deidentification.armWords.begin(), c.deidentification.armWords.end(), "Lutathéra"),
              c.deidentification.armWords.end());
    EXPECT_EQ(c.deidentification.quarantine.allowedModalities, (std::vector<std::string>{"CT", "MR"}));
}

TEST(Charter, MissingFieldIsNamed) {
    const auto f = findingsOf(reluthWith("\"dcr_window_days\": 28", "\"dcr_window_dayz\": 28"));
    EXPECT_TRUE(hasFinding(f, "recist.dcr_window_days", "missing"));
    EXPECT_TRUE(hasFinding(f, "recist.dcr_window_dayz", "unknown field"));
}

TEST(Charter, ANumberTooLargeForADoubleIsAFindingNotACrash) {
    // found by charter_fuzz (tests/fuzz/regressions/charter_fuzz/): nlohmann throws out_of_range, not parse_error
    const auto f = findingsOf(reluthWith("\"dcr_window_days\": 28", "\"dcr_window_days\": 1e999"));
    ASSERT_FALSE(f.empty());
    EXPECT_TRUE(hasFinding(f, "(file)", "not valid JSON")) << f.front().message;
}

TEST(Charter, TheReadTurnaroundIsOptionalAndChecked) {
    // a charter without it has no due dates; a bad one is named
    EXPECT_EQ(charter::parseCharter(reluthWith("\"read_turnaround_days\": 5,", "")).reading.readTurnaroundDays, 0);
    EXPECT_TRUE(hasFinding(findingsOf(reluthWith("\"read_turnaround_days\": 5", "\"read_turnaround_days\": 0")),
                           "reading.read_turnaround_days", "between 1 and"));
}

TEST(Charter, WrongTypeIsNamed) {
    const auto f = findingsOf(reluthWith("\"readers_per_subject\": 2", "\"readers_per_subject\": \"two\""));
    ASSERT_FALSE(f.empty());
    EXPECT_TRUE(hasFinding(f, "reading.readers_per_subject", "must be an integer"));
}

TEST(Charter, OutOfRangeIsNamed) {
    const auto f = findingsOf(reluthWith("\"interval_days\": 56", "\"interval_days\": 0"));
    EXPECT_TRUE(hasFinding(f, "visit_schedule.interval_days", "between 1 and"));
}

TEST(Charter, EveryProblemIsReportedAtOnce) {
    std::string text = reluthWith("\"confirmation_required\": false", "\"confirmation_required\": \"no\"");
    text = text.replace(text.find("\"arm_text_action\": \"clean\""), 26, "\"arm_text_action\": \"blur\"");
    const auto f = findingsOf(text);
    EXPECT_TRUE(hasFinding(f, "recist.confirmation_required", "true or false"));
    EXPECT_TRUE(hasFinding(f, "deidentification.arm_text_action", "\"clean\""));
    EXPECT_EQ(f.size(), 2u);
}

TEST(Charter, BlindingCannotBeSwitchedOff) {
    const auto f = findingsOf(reluthWith("\"hide_treatment_arm\": true", "\"hide_treatment_arm\": false"));
    EXPECT_TRUE(hasFinding(f, "blinding.hide_treatment_arm", "blinded"));
}

TEST(Charter, ReaderMayNotSeeTheArmOrSite) {
    const auto f = findingsOf(reluthWith("\"reader_visible_fields\": [\"reading_id\"", "\"reader_visible_fields\": [\"treatment_arm\""));
    EXPECT_TRUE(hasFinding(f, "blinding.reader_visible_fields[0]", "not supported"));
    // the subject ID carries the site number: refused while the site is hidden
    const auto g =
        findingsOf(reluthWith("\"reader_visible_fields\": [\"reading_id\"", "\"reader_visible_fields\": [\"subject_pseudonym\""));
    EXPECT_TRUE(hasFinding(g, "blinding.reader_visible_fields[0]", "site number"));
}

TEST(Charter, EveryReadingAndBlindingOptionIsHonouredOrRefused) {
    // the queue runs two independent reads and one adjudicator, in timepoint order: any other
    // value would be a promise the code does not keep, so the charter is refused naming it
    EXPECT_TRUE(hasFinding(findingsOf(reluthWith("\"readers_per_subject\": 2", "\"readers_per_subject\": 1")),
                           "reading.readers_per_subject", "only 2 is supported"));
    EXPECT_TRUE(hasFinding(findingsOf(reluthWith("\"readers_per_subject\": 2", "\"readers_per_subject\": 3")),
                           "reading.readers_per_subject", "only 2 is supported"));
    EXPECT_TRUE(hasFinding(findingsOf(reluthWith("\"adjudicators_per_subject\": 1", "\"adjudicators_per_subject\": 2")),
                           "reading.adjudicators_per_subject", "only 1 is supported"));
    EXPECT_TRUE(hasFinding(findingsOf(reluthWith("\"read_timepoints_in_order\": true", "\"read_timepoints_in_order\": false")),
                           "reading.read_timepoints_in_order", "must be true"));
    EXPECT_TRUE(hasFinding(findingsOf(reluthWith("\"paradigm\": \"2+1\"", "\"paradigm\": \"1+0\"")), "reading.paradigm", "says \"1+0\""));
    EXPECT_TRUE(hasFinding(findingsOf(reluthWith("\"hide_site\": true", "\"hide_site\": false")), "blinding.hide_site", "must be true"));
    EXPECT_TRUE(hasFinding(findingsOf(reluthWith("\"hide_other_reader\": true", "\"hide_other_reader\": false")),
                           "blinding.hide_other_reader", "must be true"));
    // what a reader sees is exactly what the charter lists
    EXPECT_TRUE(hasFinding(findingsOf(reluthWith("\"days_from_baseline\"]", "\"days_from_baseline\", \"scan_date\"]")),
                           "blinding.reader_visible_fields[3]", "not supported"));
    EXPECT_TRUE(hasFinding(findingsOf(reluthWith(", \"days_from_baseline\"]", "]")), "blinding.reader_visible_fields",
                           "must list \"days_from_baseline\""));
}

TEST(Charter, WindowPresetsAreKnownNames) {
    const auto f = findingsOf(reluthWith("\"window_presets\": [\"soft_tissue\"", "\"window_presets\": [\"abdomen\""));
    EXPECT_TRUE(hasFinding(f, "reading.window_presets[0]", "not a preset"));
}

TEST(Charter, TheDeidentificationEditionIsCurrent) {
    const auto f = findingsOf(reluthWith("\"dicom_edition\": \"2024b\"", "\"dicom_edition\": \"2021c\""));
    EXPECT_TRUE(hasFinding(f, "deidentification.dicom_edition", "older than 2024b"));
    const auto g = findingsOf(reluthWith("\"dicom_edition\": \"2024b\"", "\"dicom_edition\": \"reluth-deid-table-1\""));
    EXPECT_TRUE(hasFinding(g, "deidentification.dicom_edition", "edition of the DICOM standard"));
}

TEST(Charter, ParadigmMustMatchReaderCounts) {
    const auto f = findingsOf(reluthWith("\"paradigm\": \"2+1\"", "\"paradigm\": \"3+1\""));
    EXPECT_TRUE(hasFinding(f, "reading.paradigm", "2+1"));
}

TEST(Charter, OverlappingVisitWindowsAreRejected) {
    const auto f = findingsOf(reluthWith("\"window_days\": 7", "\"window_days\": 30"));
    EXPECT_TRUE(hasFinding(f, "visit_schedule.window_days", "overlap"));
}

TEST(Charter, PrivateTagsAreValidated) {
    const auto f = findingsOf(
        reluthWith("\"safe_private_tags\": []", "\"safe_private_tags\": [{\"group\": \"0010\", \"creator\": \"X\", \"element\": \"1G\"}]"));
    EXPECT_TRUE(hasFinding(f, "deidentification.safe_private_tags[0].group", "odd"));
    EXPECT_TRUE(hasFinding(f, "deidentification.safe_private_tags[0].element", "hexadecimal"));
}

TEST(Charter, AcceptsAValidPrivateTag) {
    const auto c = charter::parseCharter(
        reluthWith("\"safe_private_tags\": []",
                   "\"safe_private_tags\": [{\"group\": \"0019\", \"creator\": \"SIEMENS MR HEADER\", \"element\": \"0C\"}]"));
    ASSERT_EQ(c.deidentification.safePrivateTags.size(), 1u);
    EXPECT_EQ(c.deidentification.safePrivateTags[0].group, 0x0019);
    EXPECT_EQ(c.deidentification.safePrivateTags[0].element, 0x0C);
    EXPECT_EQ(c.deidentification.safePrivateTags[0].creator, "SIEMENS MR HEADER");
}

TEST(Charter, InvalidJsonGivesALineNumber) {
    std::string text = readFile(kReluth);
    const auto line5 = [&] {
        std::size_t p = 0;
        for (int i = 0; i < 4; ++i) p = text.find('\n', p) + 1;
        return p;
    }();
    text.insert(line5, "{{{ broken\n");
    try {
        charter::parseCharter(text, "broken.json");
        FAIL() << "accepted";
    } catch (const charter::CharterError& e) {
        EXPECT_NE(std::string(e.what()).find("broken.json"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("line 5"), std::string::npos) << e.what();
    }
}

TEST(Charter, MissingFileIsAClearError) {
    try {
        charter::loadCharter("/nonexistent/charter.json");
        FAIL() << "accepted";
    } catch (const charter::CharterError& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/charter.json"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("cannot be opened"), std::string::npos);
    }
}

TEST(Charter, MissingSectionIsNamedOnce) {
    std::string text = readFile(kReluth);
    const auto from = text.find("\"recist\": {");
    const auto to = text.find('}', from);
    text.erase(from, to - from + 2);
    const auto f = findingsOf(text);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].field, "recist");
    EXPECT_EQ(f[0].message, "missing");
}
