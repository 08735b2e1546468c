// RECIST 1.1 rules through the C++ API: every cell of Tables 1 and 2, Table 3 sequences,
// boundary values on both sides of each threshold, and the contract's special rules.
#include "ReadBuilder.h"

#include <gtest/gtest.h>

using recist::Response;
using testutil::ReadBuilder;

namespace {

const recist::VisitResult& at(const recist::SubjectResult& r, std::size_t i) { return r.visits.at(i); }
std::string str(std::optional<Response> r) { return r ? std::string(recist::toString(*r)) : "-"; }

} // namespace

// ---- Length arithmetic and formatting --------------------------------------------------

TEST(Length, ParsesDecimalsExactly) {
    recist::Length l;
    ASSERT_TRUE(recist::Length::parseMm("32.4", l));
    EXPECT_EQ(l.um, 32400);
    ASSERT_TRUE(recist::Length::parseMm("0.0005", l)); // rounded to micrometres, half away from zero
    EXPECT_EQ(l.um, 1);
    ASSERT_TRUE(recist::Length::parseMm("-3", l));
    EXPECT_EQ(l.um, -3000);
    ASSERT_TRUE(recist::Length::parseMm(".5", l));
    EXPECT_EQ(l.um, 500);
    for (const char* bad : {"", "abc", "1e3", "1.2.3", "+4", "12 mm", "."}) {
        EXPECT_FALSE(recist::Length::parseMm(bad, l)) << bad;
    }
}

TEST(Length, FormatsHalfAwayFromZero) {
    EXPECT_EQ(recist::Length{70000}.formatMm(), "70.0");
    EXPECT_EQ(recist::Length{12350}.formatMm(), "12.4");
    EXPECT_EQ(recist::Length{12349}.formatMm(), "12.3");
    EXPECT_EQ(recist::formatPercentChange(recist::Length{66667}, recist::Length{100000}), "-33.3");
    EXPECT_EQ(recist::formatPercentChange(recist::Length{100500}, recist::Length{100000}), "0.5");
    EXPECT_EQ(recist::formatPercentChange(recist::Length{99950}, recist::Length{100000}), "-0.1"); // -0.05 -> -0.1
    EXPECT_EQ(recist::formatPercentChange(recist::Length{32400}, recist::Length{27000}), "20.0");
}

TEST(Dates, StrictIsoCalendarDates) {
    recist::Date d;
    EXPECT_TRUE(recist::Date::parse("2024-02-29", d));
    EXPECT_EQ(d.iso(), "2024-02-29");
    for (const char* bad : {"2023-02-29", "2024-13-01", "2024-1-01", "2024/01/01", "20240101", "2024-01-32", ""}) {
        EXPECT_FALSE(recist::Date::parse(bad, d)) << bad;
    }
}

// ---- RECIST 1.1 Table 1: every cell (targets x non-targets, no new lesion) -------------

namespace {

/// Baseline T01 50 mm + T02 20 mm (70 mm); follow-up values per target response.
std::vector<std::pair<std::string, std::string>> targetsFor(const std::string& response) {
    if (response == "CR") return {{"T01", "0"}, {"T02", "0"}};
    if (response == "PR") return {{"T01", "30"}, {"T02", "15"}};
    if (response == "SD") return {{"T01", "50"}, {"T02", "20"}};
    if (response == "NE") return {{"T01", "ND"}, {"T02", "20"}};
    if (response == "PD") return {{"T01", "70"}, {"T02", "20"}};
    return {};
}

std::string ntFor(const std::string& response) {
    if (response == "CR") return "ABSENT";
    if (response == "NON-CR/NON-PD") return "PRESENT";
    if (response == "NE") return "NE";
    return "UNEQ"; // PD
}

recist::SubjectResult tableCase(const std::string& target, const std::string& nonTarget, const std::string& newLesion) {
    ReadBuilder b;
    std::vector<std::pair<std::string, std::string>> base, follow = targetsFor(target);
    if (target != "none") {
        b.target("T01", "LIVER").target("T02", "LUNG");
        base = {{"T01", "50"}, {"T02", "20"}};
    }
    if (nonTarget != "none") {
        b.nonTarget("NT01", "BONE");
        base.push_back({"NT01", "PRESENT"});
        follow.push_back({"NT01", ntFor(nonTarget)});
    }
    if (newLesion != "N") {
        b.newLesion("NEW01", 2, "2024-03-11");
        follow.push_back({"NEW01", newLesion == "Y" ? "UNEQ" : "EQ"});
    }
    b.visit(1, "2024-01-10", base).visit(2, "2024-03-11", follow);
    return b.evaluate();
}

struct TableRow {
    const char* target;
    const char* nonTarget;
    const char* overall;
};

} // namespace

class Table1 : public ::testing::TestWithParam<TableRow> {};

TEST_P(Table1, OverallResponse) {
    const TableRow& row = GetParam();
    for (const char* newLesion : {"N", "EQ"}) { // an equivocal new lesion changes nothing
        const auto r = tableCase(row.target, row.nonTarget, newLesion);
        ASSERT_EQ(r.visits.size(), 2u);
        if (std::string(row.target) != "none") {
            EXPECT_EQ(str(at(r, 1).target), row.target);
        }
        if (std::string(row.nonTarget) != "none") {
            EXPECT_EQ(str(at(r, 1).nonTarget), row.nonTarget);
        }
        EXPECT_EQ(str(at(r, 1).overall), row.overall)
            << row.target << " / " << row.nonTarget << " / new " << newLesion << ": " << at(r, 1).overallReason;
    }
    // RECIST 1.1 Tables 1 and 2: an unequivocal new lesion is PD whatever else.
    EXPECT_EQ(str(at(tableCase(row.target, row.nonTarget, "Y"), 1).overall), "PD");
}

INSTANTIATE_TEST_SUITE_P(Recist11, Table1,
                         ::testing::Values(
                             // Table 1 (targets, with and without non-targets)
                             TableRow{"CR", "CR", "CR"}, TableRow{"CR", "NON-CR/NON-PD", "PR"}, TableRow{"CR", "NE", "PR"},
                             TableRow{"CR", "PD", "PD"}, TableRow{"CR", "none", "CR"}, TableRow{"PR", "CR", "PR"},
                             TableRow{"PR", "NON-CR/NON-PD", "PR"}, TableRow{"PR", "NE", "PR"}, TableRow{"PR", "PD", "PD"},
                             TableRow{"PR", "none", "PR"}, TableRow{"SD", "CR", "SD"}, TableRow{"SD", "NON-CR/NON-PD", "SD"},
                             TableRow{"SD", "NE", "SD"}, TableRow{"SD", "PD", "PD"}, TableRow{"SD", "none", "SD"},
                             TableRow{"NE", "CR", "NE"}, TableRow{"NE", "NON-CR/NON-PD", "NE"}, TableRow{"NE", "NE", "NE"},
                             TableRow{"NE", "PD", "PD"}, TableRow{"NE", "none", "NE"}, TableRow{"PD", "CR", "PD"},
                             TableRow{"PD", "NON-CR/NON-PD", "PD"}, TableRow{"PD", "NE", "PD"}, TableRow{"PD", "PD", "PD"},
                             TableRow{"PD", "none", "PD"},
                             // Table 2 (non-target disease only)
                             TableRow{"none", "CR", "CR"}, TableRow{"none", "NON-CR/NON-PD", "NON-CR/NON-PD"}, TableRow{"none", "NE", "NE"},
                             TableRow{"none", "PD", "PD"}));

// ---- Target response thresholds, both sides ---------------------------------------------

namespace {

recist::SubjectResult oneTarget(const std::string& baseline, const std::vector<std::string>& followups,
                                const std::string& location = "LIVER") {
    ReadBuilder b;
    b.target("T01", location).visit(1, "2024-01-10", {{"T01", baseline}});
    int day = 0;
    for (std::size_t i = 0; i < followups.size(); ++i) {
        day += 56;
        const recist::Date d = testutil::date("2024-01-15").plusDays(day);
        b.visit(static_cast<double>(i + 2), d.iso(), {{"T01", followups[i]}});
    }
    return b.evaluate();
}

} // namespace

TEST(TargetResponse, PartialResponseIsAtLeastThirtyPercent) {
    EXPECT_EQ(str(at(oneTarget("100", {"70"}), 1).target), "PR");   // exactly -30.0 %
    EXPECT_EQ(str(at(oneTarget("100", {"70.1"}), 1).target), "SD"); // -29.9 %
    EXPECT_EQ(str(at(oneTarget("27", {"18.9"}), 1).target), "PR");  // exactly -30 % of 27
    EXPECT_EQ(str(at(oneTarget("27", {"18.901"}), 1).target), "SD");
}

TEST(TargetResponse, ProgressionIsTwentyPercentAndFiveMillimetres) {
    EXPECT_EQ(str(at(oneTarget("27", {"32.4"}), 1).target), "PD");   // exactly +20 %, +5.4 mm
    EXPECT_EQ(str(at(oneTarget("27", {"32.399"}), 1).target), "SD"); // +19.996 %
    EXPECT_EQ(str(at(oneTarget("20", {"25"}), 1).target), "PD");     // +25 %, exactly +5 mm
    EXPECT_EQ(str(at(oneTarget("20", {"24.9"}), 1).target), "SD");   // +24.5 % but only +4.9 mm
    EXPECT_EQ(str(at(oneTarget("40", {"48"}), 1).target), "PD");     // exactly +20 %, +8 mm
    EXPECT_EQ(str(at(oneTarget("40", {"47.9"}), 1).target), "SD");
}

TEST(TargetResponse, ProgressionIsMeasuredFromTheNadir) {
    // 50 -> 30 (PR, nadir 30) -> 36 (+20 %, +6 mm over the nadir, still -28 % from baseline): PD.
    const auto r = oneTarget("50", {"30", "36"});
    EXPECT_EQ(str(at(r, 1).target), "PR");
    EXPECT_EQ(str(at(r, 2).target), "PD");
    EXPECT_NE(at(r, 2).targetReason.find("nadir 30.0 mm (visit 2)"), std::string::npos) << at(r, 2).targetReason;
    // 35.9 is +19.7 % over the nadir and -28.2 % from baseline: SD (PR is judged from baseline).
    EXPECT_EQ(str(at(oneTarget("50", {"30", "35.9"}), 2).target), "SD");
}

TEST(TargetResponse, NadirIncludesBaselineAndOnlyCompleteVisits) {
    ReadBuilder b;
    b.target("T01", "LIVER").target("T02", "LUNG");
    b.visit(1, "2024-01-10", {{"T01", "30"}, {"T02", "20"}}); // 50
    b.visit(2, "2024-03-11", {{"T01", "5"}, {"T02", "ND"}});  // incomplete, partial 5: never the nadir
    b.visit(3, "2024-05-06", {{"T01", "40"}, {"T02", "20"}}); // 60 vs nadir 50: +20 %, +10 mm
    const auto r = b.evaluate();
    EXPECT_EQ(str(at(r, 1).target), "NE");
    EXPECT_EQ(str(at(r, 2).target), "PD");
    EXPECT_EQ(at(r, 2).nadir->um, 50000);
}

TEST(TargetResponse, IncompleteVisitIsPdWhenTheAssessedTargetsProveIt) {
    ReadBuilder b;
    b.target("T01", "LIVER").target("T02", "LUNG");
    b.visit(1, "2024-01-10", {{"T01", "30"}, {"T02", "20"}}); // 50
    b.visit(2, "2024-03-11", {{"T01", "60"}});                // T02 has no row: not assessed
    const auto r = b.evaluate();
    EXPECT_EQ(str(at(r, 1).target), "PD");
    EXPECT_FALSE(at(r, 1).complete);
    EXPECT_FALSE(at(r, 1).sum.has_value());
    // ...and NE when they do not: never PR/CR/SD from a partial sum.
    ReadBuilder c;
    c.target("T01", "LIVER").target("T02", "LUNG");
    c.visit(1, "2024-01-10", {{"T01", "30"}, {"T02", "20"}});
    c.visit(2, "2024-03-11", {{"T01", "0"}, {"T02", "ND"}});
    EXPECT_EQ(str(at(c.evaluate(), 1).target), "NE");
}

TEST(TargetResponse, TooSmallToMeasureCountsFiveMillimetres) {
    const auto r = oneTarget("20", {"TSTM"});
    EXPECT_EQ(at(r, 1).sum->um, 5000);
    EXPECT_EQ(str(at(r, 1).target), "PR"); // not CR: a non-nodal TSTM lesion is present
    // A measured value under 5 mm is used as measured.
    EXPECT_EQ(at(oneTarget("20", {"3"}), 1).sum->um, 3000);
}

TEST(TargetResponse, NodesBelowTenMillimetresAreComplete) {
    ReadBuilder b;
    b.target("T01", "LIVER").target("T02", "LYMPH NODE");
    b.visit(1, "2024-01-10", {{"T01", "30"}, {"T02", "20"}});
    b.visit(2, "2024-03-11", {{"T01", "0"}, {"T02", "9.9"}});
    auto r = b.evaluate();
    EXPECT_EQ(str(at(r, 1).target), "CR");
    EXPECT_EQ(at(r, 1).sum->um, 9900); // the sum need not be 0
    ReadBuilder c = b;
    c.read().visits[1].find("T02")->value = recist::Length::fromMm(10);
    EXPECT_EQ(str(at(c.evaluate(), 1).target), "PR"); // a 10 mm node is not normal
}

TEST(TargetResponse, DiseaseAfterCompleteResponseIsProgression) {
    // Non-nodal target back after CR: 3 mm is not +5 mm over the nadir 0, but it is PD.
    auto r = oneTarget("20", {"0", "3"});
    EXPECT_EQ(str(at(r, 1).target), "CR");
    EXPECT_EQ(str(at(r, 2).target), "PD");
    EXPECT_NE(at(r, 2).targetReason.find("after a complete response"), std::string::npos);
    // A node growing back to 10 mm after CR.
    r = oneTarget("20", {"8", "10"}, "LYMPH NODE");
    EXPECT_EQ(str(at(r, 1).target), "CR");
    EXPECT_EQ(str(at(r, 2).target), "PD");
    // ...but 9.5 mm is still normal.
    EXPECT_EQ(str(at(oneTarget("20", {"8", "9.5"}, "LYMPH NODE"), 2).target), "CR");
    // An NE visit between CR and the reappearance does not hide the CR.
    ReadBuilder b;
    b.target("T01", "LIVER").visit(1, "2024-01-10", {{"T01", "20"}});
    b.visit(2, "2024-03-11", {{"T01", "0"}}).visit(3, "2024-05-06", {{"T01", "ND"}}).visit(4, "2024-07-01", {{"T01", "4"}});
    EXPECT_EQ(str(at(b.evaluate(), 3).target), "PD");
}

TEST(TargetResponse, SplitFragmentsAreSummed) {
    ReadBuilder b;
    b.target("T01", "LIVER").target("T02", "LUNG").target("T01.1", "LIVER", 2).target("T01.2", "LIVER", 2);
    b.visit(1, "2024-01-10", {{"T01", "40"}, {"T02", "20"}});
    b.visit(2, "2024-03-11", {{"T01.1", "15"}, {"T01.2", "12"}, {"T02", "20"}});
    b.visit(3, "2024-05-06", {{"T01.1", "15"}, {"T02", "20"}}); // a fragment not assessed: incomplete
    const auto r = b.evaluate();
    EXPECT_EQ(at(r, 1).sum->um, 47000);
    EXPECT_EQ(str(at(r, 2).target), "NE");
}

TEST(TargetResponse, CoalescedLesionCountsOnce) {
    ReadBuilder b;
    b.target("T01", "LIVER").target("T02", "LIVER").target("T03", "LUNG").target("T01/T02", "LIVER", 2);
    b.visit(1, "2024-01-10", {{"T01", "20"}, {"T02", "15"}, {"T03", "20"}});
    b.visit(2, "2024-03-11", {{"T01", "MERGED"}, {"T02", "MERGED"}, {"T01/T02", "38"}, {"T03", "20"}});
    const auto r = b.evaluate();
    EXPECT_TRUE(at(r, 1).complete);
    EXPECT_EQ(at(r, 1).sum->um, 58000);
    EXPECT_EQ(str(at(r, 1).target), "SD");
}

// ---- Non-targets and new lesions ---------------------------------------------------------

TEST(NonTargets, MissingRowIsNotEvaluable) {
    ReadBuilder b;
    b.target("T01", "LIVER").nonTarget("NT01", "BONE").nonTarget("NT02", "PERITONEUM");
    b.visit(1, "2024-01-10", {{"T01", "30"}, {"NT01", "PRESENT"}, {"NT02", "PRESENT"}});
    b.visit(2, "2024-03-11", {{"T01", "30"}, {"NT01", "ABSENT"}});
    EXPECT_EQ(str(at(b.evaluate(), 1).nonTarget), "NE");
}

TEST(NonTargets, UnequivocalProgressionWinsOverNotEvaluable) {
    ReadBuilder b;
    b.target("T01", "LIVER").nonTarget("NT01", "BONE").nonTarget("NT02", "PERITONEUM");
    b.visit(1, "2024-01-10", {{"T01", "30"}, {"NT01", "PRESENT"}, {"NT02", "PRESENT"}});
    b.visit(2, "2024-03-11", {{"T01", "30"}, {"NT01", "NE"}, {"NT02", "UNEQ"}});
    EXPECT_EQ(str(at(b.evaluate(), 1).nonTarget), "PD");
}

TEST(NewLesions, EquivocalThenConfirmedDatesProgressionBack) {
    ReadBuilder b;
    b.target("T01", "LIVER").newLesion("NEW01", 2, "2024-03-11");
    b.visit(1, "2024-01-10", {{"T01", "30"}});
    b.visit(2, "2024-03-11", {{"T01", "30"}, {"NEW01", "EQ"}});
    b.visit(3, "2024-05-06", {{"T01", "30"}, {"NEW01", "UNEQ"}});
    const auto r = b.evaluate();
    EXPECT_EQ(recist::toString(*at(r, 1).newLesion), "EQUIVOCAL");
    EXPECT_EQ(str(at(r, 1).overall), "SD"); // not rewritten retrospectively
    EXPECT_EQ(str(at(r, 2).overall), "PD");
    ASSERT_TRUE(r.progression);
    EXPECT_EQ(r.progression->iso(), "2024-03-11");
    EXPECT_NE(r.progressionReason.find("NEW01"), std::string::npos);
}

TEST(NewLesions, EquivocalThatDisappearsIsNeverProgression) {
    ReadBuilder b;
    b.target("T01", "LIVER").newLesion("NEW01", 2, "2024-03-11");
    b.visit(1, "2024-01-10", {{"T01", "30"}});
    b.visit(2, "2024-03-11", {{"T01", "30"}, {"NEW01", "EQ"}});
    b.visit(3, "2024-05-06", {{"T01", "30"}, {"NEW01", "ABSENT"}});
    const auto r = b.evaluate();
    EXPECT_FALSE(r.progression);
    EXPECT_EQ(str(r.best), "SD");
}

TEST(NewLesions, ProgressionByTargetsIsNotBackdatedByAnUnrelatedLesion) {
    // PD at visit 3 by targets; the new lesion is first seen (unequivocal) at visit 3 too.
    ReadBuilder b;
    b.target("T01", "LIVER").newLesion("NEW01", 3, "2024-05-06");
    b.visit(1, "2024-01-10", {{"T01", "30"}});
    b.visit(2, "2024-03-11", {{"T01", "30"}});
    b.visit(3, "2024-05-06", {{"T01", "40"}, {"NEW01", "UNEQ"}});
    EXPECT_EQ(b.evaluate().progression->iso(), "2024-05-06");
}

// ---- Best overall response ------------------------------------------------------------

namespace {

/// One target, baseline 100 mm; follow-ups at the given days from randomization (2024-01-15).
recist::SubjectResult course(const std::vector<std::pair<int, std::string>>& followups, bool confirmation, int confirmationDays = 28) {
    ReadBuilder b;
    b.target("T01", "LIVER").visit(1, "2024-01-10", {{"T01", "100"}});
    double n = 2;
    for (const auto& [day, value] : followups) {
        b.visit(n++, testutil::date("2024-01-15").plusDays(day).iso(), {{"T01", value}});
    }
    recist::Options o;
    o.confirmationRequired = confirmation;
    o.confirmationMinDays = confirmationDays;
    return b.evaluate(o);
}

// Values giving each target response against a 100 mm baseline and nadir.
const char* kCR = "0";
const char* kPR = "60";
const char* kSD = "95";
const char* kNE = "ND";

} // namespace

TEST(BestResponse, UnconfirmedTakesTheBestTimepoint) {
    EXPECT_EQ(str(course({{56, kSD}, {112, kPR}, {168, "200"}}, false).best), "PR");
    EXPECT_EQ(str(course({{56, kCR}, {112, kCR}}, false).best), "CR");
    // Responses after the first PD do not count.
    EXPECT_EQ(str(course({{56, "130"}, {112, kPR}}, false).best), "PD");
}

TEST(BestResponse, StableDiseaseNeedsTheMinimumTime) {
    EXPECT_EQ(str(course({{42, kSD}}, false).best), "SD"); // exactly 42 days from randomization
    EXPECT_EQ(str(course({{41, kSD}}, false).best), "NE"); // 41: too early
    EXPECT_EQ(str(course({{41, kSD}, {97, "130"}}, false).best), "PD");
}

TEST(BestResponse, Table3WithConfirmation) {
    struct Case {
        std::vector<std::pair<int, std::string>> followups;
        const char* best;
    };
    const Case cases[] = {
        {{{56, kCR}, {112, kCR}}, "CR"},             // CR CR
        {{{56, kCR}, {70, kCR}}, "SD"},              // CR then CR 14 days later: unconfirmed -> SD
        {{{56, kCR}, {112, kSD}}, "SD"},             // CR SD (the 2nd after CR is PD by reappearance)
        {{{56, kPR}, {112, kPR}}, "PR"},             // PR PR
        {{{56, kPR}, {112, kCR}}, "PR"},             // PR CR
        {{{56, kPR}, {112, kSD}}, "SD"},             // PR SD
        {{{56, kPR}, {112, "130"}}, "SD"},           // PR PD, PR >= 42 days
        {{{30, kPR}, {86, "130"}}, "PD"},            // PR at day 30 (< 42) then PD
        {{{56, kPR}, {112, kNE}}, "SD"},             // PR NE
        {{{30, kPR}, {86, kNE}}, "NE"},              // PR (< 42 days) NE
        {{{56, kNE}, {112, kNE}}, "NE"},             // NE NE
        {{{56, kPR}, {112, kNE}, {168, kPR}}, "PR"}, // PR NE PR confirms (§4.4.4)
        {{{56, kPR}, {70, kPR}}, "SD"},              // 14 days apart: not confirmed
        {{{56, kPR}, {84, kPR}}, "PR"},              // exactly 28 days
        {{{56, kPR}, {83, kPR}}, "SD"},              // 27 days
        {{{56, kPR}, {112, kSD}, {168, kPR}}, "SD"}, // PR SD PR: SD breaks the first, the last is unconfirmed
    };
    for (const Case& c : cases) {
        const auto r = course(c.followups, true);
        std::string seq;
        for (const auto& [d, v] : c.followups) seq += " d" + std::to_string(d) + ":" + v;
        EXPECT_EQ(str(r.best), c.best) << seq << " " << r.bestReason;
    }
}

TEST(BestResponse, NonTargetOnlySubjects) {
    ReadBuilder b;
    b.nonTarget("NT01", "BONE").visit(1, "2024-01-10", {{"NT01", "PRESENT"}});
    b.visit(2, "2024-03-11", {{"NT01", "PRESENT"}});
    EXPECT_EQ(str(b.evaluate().best), "NON-CR/NON-PD");
}

// ---- Disease control at the landmark ---------------------------------------------------

namespace {

recist::SubjectResult landmark(const std::vector<std::pair<int, std::string>>& followups, const char* death = nullptr) {
    ReadBuilder b;
    b.target("T01", "LIVER").visit(1, "2024-01-10", {{"T01", "100"}});
    double n = 2;
    for (const auto& [day, value] : followups) {
        b.visit(n++, testutil::date("2024-01-15").plusDays(day).iso(), {{"T01", value}});
    }
    if (death) b.death(death);
    return b.evaluate();
}

std::string dcr(const recist::SubjectResult& r) { return std::string(recist::toString(r.diseaseControl)); }

} // namespace

TEST(DiseaseControl, WindowBoundsAreInclusive) {
    EXPECT_EQ(dcr(landmark({{155, kSD}})), "Y"); // 183 - 28
    EXPECT_EQ(dcr(landmark({{211, kSD}})), "Y"); // 183 + 28
    EXPECT_EQ(dcr(landmark({{154, kSD}})), "NE");
    EXPECT_EQ(dcr(landmark({{212, kSD}})), "NE");
}

TEST(DiseaseControl, NearestVisitTieGoesToTheEarlier) {
    EXPECT_EQ(dcr(landmark({{173, kSD}, {193, kNE}})), "Y");  // both 10 days away: the earlier
    EXPECT_EQ(dcr(landmark({{173, kNE}, {192, kSD}})), "Y");  // 192 is nearer
    EXPECT_EQ(dcr(landmark({{170, kSD}, {185, kNE}})), "NE"); // 185 is nearer and NE
}

TEST(DiseaseControl, ProgressionOrDeathBeforeTheLandmarkIsFailure) {
    EXPECT_EQ(dcr(landmark({{56, "130"}, {180, kSD}})), "N");
    EXPECT_EQ(dcr(landmark({{56, kSD}}, "2024-07-01")), "N");  // death within the window, no PD
    EXPECT_EQ(dcr(landmark({{56, kSD}}, "2024-09-30")), "NE"); // death after the window
    EXPECT_EQ(dcr(landmark({{56, kSD}, {250, "150"}})), "NE"); // PD after the window, no visit in it
}

// ---- Baseline validation ---------------------------------------------------------------

namespace {

std::vector<std::string> rules(const ReadBuilder& b) {
    std::vector<std::string> out;
    for (const auto& f : recist::validateBaseline(b.read())) out.push_back(f.rule + " " + f.lesionId);
    return out;
}

} // namespace

TEST(Baseline, AtMostFiveTargetsAndTwoPerOrgan) {
    ReadBuilder b;
    std::vector<std::pair<std::string, std::string>> values;
    const char* organs[] = {"LIVER", "LUNG", "BONE", "ADRENAL", "SPLEEN", "KIDNEY"};
    for (int i = 0; i < 6; ++i) {
        const std::string id = "T0" + std::to_string(i + 1);
        b.target(id, organs[i]);
        values.push_back({id, "20"});
    }
    b.visit(1, "2024-01-10", values);
    EXPECT_EQ(rules(b), (std::vector<std::string>{"TGT_MAX_TOTAL T06"}));

    ReadBuilder c;
    c.target("T01", "AXILLARY LYMPH NODE").target("T02", "LYMPH NODE, INGUINAL").target("T03", "MEDIASTINAL LYMPH NODE");
    c.visit(1, "2024-01-10", {{"T01", "20"}, {"T02", "20"}, {"T03", "20"}});
    EXPECT_EQ(rules(c), (std::vector<std::string>{"TGT_MAX_PER_ORGAN T03"})); // all nodes are one organ
}

TEST(Baseline, MeasurabilityThresholdsBothSides) {
    auto check = [](const std::string& location, const std::string& value) {
        ReadBuilder b;
        b.target("T01", location).visit(1, "2024-01-10", {{"T01", value}});
        return rules(b).empty();
    };
    EXPECT_TRUE(check("LIVER", "10"));
    EXPECT_FALSE(check("LIVER", "9.9"));
    EXPECT_TRUE(check("LYMPH NODE", "15"));
    EXPECT_FALSE(check("LYMPH NODE", "14.9"));
    EXPECT_FALSE(check("LIVER", "TSTM"));
    EXPECT_FALSE(check("LIVER", "ND"));
}

TEST(Baseline, ThickSlicesNeedTwiceTheThickness) {
    ReadBuilder b;
    b.target("T01", "LIVER").visit(1, "2024-01-10", {{"T01", "11.9"}});
    b.read().visits[0].find("T01")->sliceThickness = recist::Length::fromMm(6);
    EXPECT_EQ(rules(b), (std::vector<std::string>{"TGT_NOT_MEASURABLE T01"}));
    b.read().visits[0].find("T01")->value = recist::Length::fromMm(12);
    EXPECT_TRUE(rules(b).empty());
    b.read().visits[0].find("T01")->sliceThickness = recist::Length::fromMm(5); // <= 5 mm: 10 mm rule
    b.read().visits[0].find("T01")->value = recist::Length::fromMm(10);
    EXPECT_TRUE(rules(b).empty());
}

// ---- Reasons --------------------------------------------------------------------------

TEST(Reasons, ProgressionNamesSumPercentAndNadir) {
    ReadBuilder b;
    b.target("T01", "LIVER").target("T02", "LUNG");
    b.visit(1, "2024-01-10", {{"T01", "30"}, {"T02", "20"}}); // 50
    b.visit(2, "2024-03-11", {{"T01", "25"}, {"T02", "17"}}); // 42: nadir
    b.visit(3, "2024-05-06", {{"T01", "31"}, {"T02", "20"}}); // 51
    const auto r = b.evaluate();
    EXPECT_EQ(at(r, 2).targetReason.substr(0, 71), "PD: SOD 51.0 mm is +21.4 % and +9.0 mm over the nadir 42.0 mm (visit 2)");
    EXPECT_FALSE(r.bestReason.empty());
    EXPECT_FALSE(r.diseaseControlReason.empty());
    for (const auto& v : r.visits) {
        if (v.baseline) continue;
        EXPECT_FALSE(v.overallReason.empty());
        EXPECT_FALSE(v.newLesionReason.empty());
    }
}
