// rPFS events and censoring (contract §7.2 rules 1-5, after the FDA 2018 endpoints guidance's
// PFS censoring table) and the ADaM-style ADTTE / ADRS files. Each case's figures are worked out
// by hand in its comment: dates by counting days month by month (2024 is a leap year), AVAL =
// ADT - STARTDT + 1.
//
// Shared set-up: randomization R = 2024-01-15; baseline visit 1 on 2024-01-10, target T01
// (LIVER) 50 mm; rpfs_max_gap_days 126 and rpfs_death_is_event true (the defaults).
// Useful day counts from R: 2024-03-11 is day 56 (Jan 15 -> Feb 15 = 31, -> Mar 11 = 25),
// 2024-04-20 is day 96 (-> Mar 15 = 60, -> Apr 15 = 91, + 5), 2024-05-13 is day 119 (-> Apr 15
// = 91, -> May 13 = 28 more).
#include "ReadBuilder.h"
#include "../common/TempDir.h"
#include "recist/Endpoints.h"
#include "recist/Sdtm.h"
#include "recist/Statistics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <sys/wait.h>

using testutil::ReadBuilder;
namespace fs = std::filesystem;

namespace {

ReadBuilder baseline() {
    ReadBuilder b("2024-01-15");
    b.target("T01", "LIVER");
    b.visit(1, "2024-01-10", {{"T01", "50"}});
    return b;
}

recist::TimeToEvent rpfsOf(const ReadBuilder& b, const recist::Options& o = {}) {
    return recist::rpfs(b.evaluate(o), b.read().randomization, b.read().death, o);
}

} // namespace

TEST(Rpfs, Rule5NoProgressionIsCensoredAtTheLastAdequateAssessment) {
    // week 8 (2024-03-11) 40 mm: -20 % -> SD; week 16 (2024-05-13) 30 mm: -40 % -> PR.
    // No PD, no death: censored at the last adequate assessment 2024-05-13, AVAL 119 + 1 = 120.
    auto b = baseline();
    b.visit(2, "2024-03-11", {{"T01", "40"}}).visit(3, "2024-05-13", {{"T01", "30"}});
    const auto t = rpfsOf(b);
    EXPECT_TRUE(t.censored);
    EXPECT_EQ(t.rule, 5);
    EXPECT_EQ(t.date.iso(), "2024-05-13");
    EXPECT_EQ(t.days(), 120);
    EXPECT_EQ(t.censorDescription, "NO PROGRESSION");
    EXPECT_EQ(t.start.iso(), "2024-01-15");
}

TEST(Rpfs, Rule2ProgressionIsAnEventOnItsDate) {
    // week 8 45 mm (SD, nadir 45); week 16 (2024-05-13) 60 mm: +33 % and +15 mm over the nadir
    // -> PD, PDDT 2024-05-13. Last adequate assessment before it: 2024-03-11, 63 days earlier
    // (Mar 11 -> Apr 11 = 31, -> May 11 = 30, + 2) <= 126: an event, ADT 2024-05-13, AVAL 120.
    auto b = baseline();
    b.visit(2, "2024-03-11", {{"T01", "45"}}).visit(3, "2024-05-13", {{"T01", "60"}});
    const auto t = rpfsOf(b);
    EXPECT_FALSE(t.censored);
    EXPECT_EQ(t.rule, 2);
    EXPECT_EQ(t.date.iso(), "2024-05-13");
    EXPECT_EQ(t.days(), 120);
    EXPECT_EQ(t.eventDescription, "RADIOLOGICAL PROGRESSION");
    EXPECT_NE(t.reason.find("63 days after the last adequate assessment 2024-03-11"), std::string::npos) << t.reason;
}

TEST(Rpfs, Rule2ProgressionAfterTwoMissedAssessmentsIsCensoredAtTheLastAdequateOne) {
    // week 8 45 mm (SD); weeks 16 and 24 not done (NE); week 32 (2024-09-16) 60 mm -> PD.
    // Last adequate assessment before 2024-09-16: 2024-03-11; the gap is Mar 11 -> Sep 11 =
    // 31+30+31+30+31+31 = 184, + 5 = 189 days > 126: censored at 2024-03-11, AVAL 56 + 1 = 57.
    auto b = baseline();
    b.visit(2, "2024-03-11", {{"T01", "45"}})
        .visit(3, "2024-05-13", {{"T01", "ND"}})
        .visit(4, "2024-07-15", {{"T01", "ND"}})
        .visit(5, "2024-09-16", {{"T01", "60"}});
    const auto r = b.evaluate();
    ASSERT_EQ(r.visits[2].overall, recist::Response::NE);
    ASSERT_EQ(r.visits[3].overall, recist::Response::NE);
    const auto t = rpfsOf(b);
    EXPECT_TRUE(t.censored);
    EXPECT_EQ(t.rule, 2);
    EXPECT_EQ(t.date.iso(), "2024-03-11");
    EXPECT_EQ(t.days(), 57);
    EXPECT_EQ(t.censorDescription, "PD AFTER MISSED ASSESSMENTS");
    EXPECT_NE(t.reason.find("189 days"), std::string::npos) << t.reason;
    // with the gap allowed up to 189 days it is the event on 2024-09-16 (AVAL: day 245 + 1 =
    // 246: Jan 15 -> Sep 15 = 31+29+31+30+31+30+31+31 = 244, + 1)
    recist::Options wide;
    wide.rpfsMaxGapDays = 189;
    const auto e = rpfsOf(b, wide);
    EXPECT_FALSE(e.censored);
    EXPECT_EQ(e.date.iso(), "2024-09-16");
    EXPECT_EQ(e.days(), 246);
}

TEST(Rpfs, Rule2AProgressionBackDatedToAnEquivocalNewLesionCountsFromItsFirstDetection) {
    // week 8 (2024-03-11): 45 mm, NEW01 equivocal (first seen 2024-03-11) -> SD; week 16: NEW01
    // unequivocal -> PD, dated back to 2024-03-11 (RECIST 1.1 §4.3.5). No adequate assessment
    // strictly before 2024-03-11, so P = R: 56 days <= 126 -> event on 2024-03-11, AVAL 57.
    auto b = baseline();
    b.newLesion("NEW01", 2, "2024-03-11");
    b.visit(2, "2024-03-11", {{"T01", "45"}, {"NEW01", "EQ"}}).visit(3, "2024-05-13", {{"T01", "45"}, {"NEW01", "UNEQ"}});
    const auto r = b.evaluate();
    ASSERT_TRUE(r.progression);
    ASSERT_EQ(r.progression->iso(), "2024-03-11");
    const auto t = rpfsOf(b);
    EXPECT_FALSE(t.censored);
    EXPECT_EQ(t.date.iso(), "2024-03-11");
    EXPECT_EQ(t.days(), 57);
    EXPECT_NE(t.reason.find("randomization"), std::string::npos) << t.reason;
}

TEST(Rpfs, Rule3DeathIsAnEventUnlessAfterMissedAssessmentsOrTheCharterSaysOtherwise) {
    // week 8 SD (2024-03-11), death 2024-04-20: 40 days later (31 + 9) -> event DEATH, AVAL 97.
    auto b = baseline();
    b.visit(2, "2024-03-11", {{"T01", "45"}}).death("2024-04-20");
    auto t = rpfsOf(b);
    EXPECT_FALSE(t.censored);
    EXPECT_EQ(t.rule, 3);
    EXPECT_EQ(t.date.iso(), "2024-04-20");
    EXPECT_EQ(t.days(), 97);
    EXPECT_EQ(t.eventDescription, "DEATH");
    // death 2024-09-16, 189 days after 2024-03-11: censored there (AVAL 57)
    auto late = baseline();
    late.visit(2, "2024-03-11", {{"T01", "45"}}).death("2024-09-16");
    t = rpfsOf(late);
    EXPECT_TRUE(t.censored);
    EXPECT_EQ(t.date.iso(), "2024-03-11");
    EXPECT_EQ(t.censorDescription, "DEATH AFTER MISSED ASSESSMENTS");
    // rpfs_death_is_event false: death is ignored -> rule 5 at 2024-03-11
    recist::Options o;
    o.rpfsDeathIsEvent = false;
    t = rpfsOf(b, o);
    EXPECT_TRUE(t.censored);
    EXPECT_EQ(t.rule, 5);
    EXPECT_EQ(t.date.iso(), "2024-03-11");
    EXPECT_EQ(t.days(), 57);
    // progression comes first: PD on 2024-03-11 (60 mm, +20 % and +10 mm) and death later -> rule 2
    auto both = baseline();
    both.visit(2, "2024-03-11", {{"T01", "60"}}).death("2024-04-20");
    t = rpfsOf(both);
    EXPECT_EQ(t.rule, 2);
    EXPECT_EQ(t.date.iso(), "2024-03-11");
}

TEST(Rpfs, Rule4NoAdequatePostBaselineAssessmentIsCensoredAtRandomization) {
    // week 8 not done (NE), nothing else: censored at R, AVAL 1
    auto b = baseline();
    b.visit(2, "2024-03-11", {{"T01", "ND"}});
    const auto t = rpfsOf(b);
    EXPECT_TRUE(t.censored);
    EXPECT_EQ(t.rule, 4);
    EXPECT_EQ(t.date.iso(), "2024-01-15");
    EXPECT_EQ(t.days(), 1);
    EXPECT_EQ(t.censorDescription, "NO ADEQUATE POST-BASELINE ASSESSMENT");
    // baseline only: the same
    EXPECT_EQ(rpfsOf(baseline()).rule, 4);
}

TEST(Rpfs, Rule1NoBaselineIsCensoredAtRandomizationWhateverFollows) {
    // a reader who recorded only a new lesion (no target, no non-target): no baseline visit
    ReadBuilder b("2024-01-15");
    b.newLesion("NEW01", 2, "2024-03-11");
    b.visit(2, "2024-03-11", {{"NEW01", "UNEQ"}});
    b.death("2024-04-20");
    const auto t = rpfsOf(b);
    EXPECT_TRUE(t.censored);
    EXPECT_EQ(t.rule, 1);
    EXPECT_EQ(t.date.iso(), "2024-01-15");
    EXPECT_EQ(t.days(), 1);
    EXPECT_EQ(t.censorDescription, "NO BASELINE ASSESSMENT");
    const auto none = recist::rpfsWithoutRead("RELUTH", "RELUTH-001-0009", testutil::date("2024-02-01"));
    EXPECT_EQ(none.rule, 1);
    EXPECT_EQ(none.evaluator, "");
    EXPECT_EQ(none.days(), 1);
}

// ---------------------------------------------------------------------------------------------
// The CLI's files (contract §7.3, §7.4), on input written here by hand.

namespace {

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }
std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}
int runCli(const std::string& args, std::string* out) {
    FILE* p = ::popen((std::string(RECIST_CLI) + " " + args + " 2>&1").c_str(), "r");
    std::string text;
    char buf[4096];
    while (p && std::fgets(buf, sizeof buf, p)) text += buf;
    const int st = p ? ::pclose(p) : -1;
    *out = text;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

} // namespace

TEST(Rpfs, TheCliWritesAdtteAndAdrsForEveryReaderAndSubjectAllOrNothing) {
    testutil::TempDir dir("rpfs-cli");
    const fs::path d = dir.path();
    // subject 1, two readers: R1 PD at week 16 (event 2024-05-13, AVAL 120), R2 SD then an
    // undated week 16 (NE, no date) -> censored at week 8 (2024-03-11, AVAL 57).
    // subject 2: nobody read it -> one row, EVALID empty, censored at its randomization.
    write(d / "SUBJ.csv", "STUDYID,USUBJID,RANDDT,DTHDT\nRELUTH,S1,2024-01-15,\nRELUTH,S2,2024-02-01,\n");
    write(d / "TU.csv",
          "STUDYID,USUBJID,TULNKID,TUORRES,TULOC,TUEVAL,TUEVALID,VISIT,VISITNUM,TUDTC\n"
          "RELUTH,S1,T01,TARGET,LIVER,INDEPENDENT ASSESSOR,RADIOLOGIST 1,SCREENING,1,2024-01-10\n"
          "RELUTH,S1,T01,TARGET,LIVER,INDEPENDENT ASSESSOR,RADIOLOGIST 2,SCREENING,1,2024-01-10\n");
    const std::string h = "STUDYID,USUBJID,TRLNKID,TRTESTCD,TRORRES,TRORRESU,TRSTAT,TRREASND,TREVAL,TREVALID,VISIT,VISITNUM,TRDTC\n";
    auto tr = [](const std::string& reader, const std::string& visit, const std::string& num, const std::string& value, const std::string& on) {
        const bool nd = value == "ND";
        return "RELUTH,S1,T01,LDIAM," + (nd ? std::string() : value) + ",mm," + (nd ? "NOT DONE" : "") + "," + (nd ? "SCAN NOT DONE" : "") +
               ",INDEPENDENT ASSESSOR," + reader + "," + visit + "," + num + "," + on + "\n";
    };
    write(d / "TR.csv", h + tr("RADIOLOGIST 1", "SCREENING", "1", "50", "2024-01-10") + tr("RADIOLOGIST 1", "WEEK 8", "2", "45", "2024-03-11") +
                            tr("RADIOLOGIST 1", "WEEK 16", "3", "60", "2024-05-13") + tr("RADIOLOGIST 2", "SCREENING", "1", "50", "2024-01-10") +
                            tr("RADIOLOGIST 2", "WEEK 8", "2", "45", "2024-03-11") + tr("RADIOLOGIST 2", "WEEK 16", "3", "ND", ""));
    write(d / "config.json",
          R"({"confirmation_required": false, "confirmation_min_days": 28, "sd_min_days_from_baseline": 42, "dcr_landmark_days": 183, "dcr_window_days": 28})");
    std::string out;
    const std::string common = "evaluate --tu " + (d / "TU.csv").string() + " --tr " + (d / "TR.csv").string() + " --subjects " +
                               (d / "SUBJ.csv").string() + " --out " + (d / "RS.csv").string() + " --adtte " + (d / "ADTTE.csv").string() +
                               " --adrs " + (d / "ADRS.csv").string();
    ASSERT_EQ(runCli(common + " --config " + (d / "config.json").string(), &out), 0) << out;
    EXPECT_EQ(slurp(d / "ADTTE.csv"), "STUDYID,USUBJID,EVALID,PARAMCD,STARTDT,ADT,AVAL,CNSR,EVNTDESC,CNSDTDSC\n"
                                      "RELUTH,S1,RADIOLOGIST 1,RPFS,2024-01-15,2024-05-13,120,0,RADIOLOGICAL PROGRESSION,\n"
                                      "RELUTH,S1,RADIOLOGIST 2,RPFS,2024-01-15,2024-03-11,57,1,,NO PROGRESSION\n"
                                      "RELUTH,S2,,RPFS,2024-02-01,2024-02-01,1,1,,NO BASELINE ASSESSMENT\n");
    EXPECT_EQ(slurp(d / "ADRS.csv"), "STUDYID,USUBJID,EVALID,PARAMCD,AVALC,ADT,VISITNUM\n"
                                     "RELUTH,S1,RADIOLOGIST 1,OVR,SD,2024-03-11,2\n"
                                     "RELUTH,S1,RADIOLOGIST 1,OVR,PD,2024-05-13,3\n"
                                     "RELUTH,S1,RADIOLOGIST 1,BOR,SD,,\n"
                                     "RELUTH,S1,RADIOLOGIST 2,OVR,SD,2024-03-11,2\n"
                                     "RELUTH,S1,RADIOLOGIST 2,OVR,NE,,3\n"
                                     "RELUTH,S1,RADIOLOGIST 2,BOR,SD,,\n");
    // the config's rPFS keys: a gap of 40 days makes reader 1's PD (63 days after week 8) censored
    write(d / "config2.json",
          R"({"confirmation_required": false, "confirmation_min_days": 28, "sd_min_days_from_baseline": 42, "dcr_landmark_days": 183, "dcr_window_days": 28, "rpfs_max_gap_days": 40, "rpfs_death_is_event": false})");
    ASSERT_EQ(runCli(common + " --config " + (d / "config2.json").string(), &out), 0) << out;
    EXPECT_NE(slurp(d / "ADTTE.csv").find("RELUTH,S1,RADIOLOGIST 1,RPFS,2024-01-15,2024-03-11,57,1,,PD AFTER MISSED ASSESSMENTS\n"),
              std::string::npos)
        << slurp(d / "ADTTE.csv");
    // a bad key: an error naming it, and no file written (the old ones stay as they were)
    fs::remove(d / "ADTTE.csv");
    fs::remove(d / "ADRS.csv");
    fs::remove(d / "RS.csv");
    write(d / "config3.json",
          R"({"confirmation_required": false, "confirmation_min_days": 28, "sd_min_days_from_baseline": 42, "dcr_landmark_days": 183, "dcr_window_days": 28, "rpfs_max_gap_days": "four months"})");
    EXPECT_EQ(runCli(common + " --config " + (d / "config3.json").string(), &out), 1) << out;
    EXPECT_NE(out.find("ERROR BAD_CONFIG"), std::string::npos) << out;
    EXPECT_NE(out.find("rpfs_max_gap_days"), std::string::npos) << out;
    EXPECT_FALSE(fs::exists(d / "ADTTE.csv"));
    EXPECT_FALSE(fs::exists(d / "ADRS.csv"));
    EXPECT_FALSE(fs::exists(d / "RS.csv"));
}

// ---------------------------------------------------------------------------------------------
// The pooled statistics (recist/Statistics.h) against figures computed independently: closed
// forms worked by hand, the defining binomial tail sums computed here term by term, and a
// Kaplan-Meier table worked by hand. (R's survival package is not on these machines; the
// figures R's binom.test gives for 5/10 - 0.1870860, 0.8129140 - are the usual textbook values
// and agree with the tail sums below.)

namespace {

double binomialTail(int n, double p, int from, int to) { // P(from <= X <= to), X ~ Bin(n, p), term by term
    double sum = 0;
    for (int k = from; k <= to; ++k) sum += std::exp(std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1)) * std::pow(p, k) * std::pow(1 - p, n - k);
    return sum;
}

} // namespace

TEST(Statistics, ClopperPearsonMatchesClosedFormsAndItsDefiningTailSums) {
    using recist::stats::clopperPearson;
    // k = 0: upper = 1 - (alpha/2)^(1/n); 0.025^(1/10) = exp(ln 0.025 / 10) = exp(-0.3688879) = 0.6915029
    auto ci = clopperPearson(0, 10);
    EXPECT_EQ(ci.first, 0.0);
    EXPECT_NEAR(ci.second, 1 - 0.6915029, 1e-6);
    ci = clopperPearson(10, 10);
    EXPECT_NEAR(ci.first, 0.6915029, 1e-6);
    EXPECT_EQ(ci.second, 1.0);
    // k = 1 of 20: lower = 1 - 0.975^(1/20) = 1 - exp(-0.0253178 / 20) = 0.0012651; k = 19: upper = 0.975^(1/20) = 0.9987349
    EXPECT_NEAR(clopperPearson(1, 20).first, 0.0012651, 1e-6);
    EXPECT_NEAR(clopperPearson(19, 20).second, 0.9987349, 1e-6);
    // 5 of 10: the limits are where P(X >= 5) and P(X <= 5) are 0.025; symmetric about 0.5
    ci = clopperPearson(5, 10);
    EXPECT_NEAR(ci.first, 0.1870860, 1e-6);
    EXPECT_NEAR(ci.second, 0.8129140, 1e-6);
    EXPECT_NEAR(binomialTail(10, ci.first, 5, 10), 0.025, 1e-9);
    EXPECT_NEAR(binomialTail(10, ci.second, 0, 5), 0.025, 1e-9);
    // a trial's size: 37 of 146, checked by the tail sums
    ci = clopperPearson(37, 146);
    EXPECT_NEAR(binomialTail(146, ci.first, 37, 146), 0.025, 1e-9);
    EXPECT_NEAR(binomialTail(146, ci.second, 0, 37), 0.025, 1e-9);
    EXPECT_LT(ci.first, 37.0 / 146);
    EXPECT_GT(ci.second, 37.0 / 146);
    EXPECT_NEAR(recist::stats::normalQuantile(0.975), 1.959964, 1e-6);
}

TEST(Statistics, KaplanMeierMedianAndBrookmeyerCrowleyIntervalWorkedByHand) {
    // 8 subjects: 3 event, 5 censored, 6 event, 6 event, 8 censored, 10 event, 12 censored, 15 censored
    //   t=3:  n=8, d=1  S = 7/8 = 0.875          Greenwood sum 1/(8*7) = 0.0178571
    //   t=6:  n=6, d=2  S = 0.875*4/6 = 0.583333 sum + 2/(6*4) = 0.1011905
    //   t=10: n=3, d=1  S = 0.583333*2/3 = 0.388889 sum + 1/(3*2) = 0.2678571
    // se(t) = S sqrt(sum): t=3 0.116927, t=6 0.185561, t=10 0.201269.
    // Median: the first time S <= 0.5: 10. Brookmeyer-Crowley (plain): lower = first event time
    // with S - 1.96 se <= 0.5: t=3 0.6458 no, t=6 0.2197 yes -> 6; upper = first with S + 1.96 se
    // <= 0.5: t=10 0.7834 no, and the curve does not fall further -> not reached.
    // At risk: t=0 8, t=4 7, t=8 4, t=12 2, t=16 0.
    const auto km = recist::stats::kaplanMeier(
        {{3, true}, {5, false}, {6, true}, {6, true}, {8, false}, {10, true}, {12, false}, {15, false}});
    EXPECT_EQ(km.subjects, 8);
    EXPECT_EQ(km.events, 4);
    EXPECT_NEAR(km.survivalAt(2.9), 1.0, 1e-12);
    EXPECT_NEAR(km.survivalAt(3), 0.875, 1e-9);
    EXPECT_NEAR(km.survivalAt(7), 0.5833333, 1e-6);
    EXPECT_NEAR(km.survivalAt(20), 0.3888889, 1e-6);
    const auto& s6 = km.steps[2];
    ASSERT_EQ(s6.time, 6);
    EXPECT_EQ(s6.atRisk, 6);
    EXPECT_EQ(s6.events, 2);
    EXPECT_NEAR(s6.greenwood, 0.1011905, 1e-6);
    EXPECT_NEAR(s6.se(), 0.185561, 1e-6);
    ASSERT_TRUE(km.median());
    EXPECT_EQ(*km.median(), 10);
    const auto [lo, hi] = km.medianInterval();
    ASSERT_TRUE(lo);
    EXPECT_EQ(*lo, 6);
    EXPECT_FALSE(hi);
    EXPECT_EQ(km.atRisk(0), 8);
    EXPECT_EQ(km.atRisk(4), 7);
    EXPECT_EQ(km.atRisk(8), 4);
    EXPECT_EQ(km.atRisk(12), 2);
    EXPECT_EQ(km.atRisk(16), 0);
    // no event at all: no median, S = 1 throughout
    const auto none = recist::stats::kaplanMeier({{5, false}, {9, false}});
    EXPECT_FALSE(none.median());
    EXPECT_EQ(none.survivalAt(100), 1.0);
}
