// The read, owned once (reader-queue/read): the payload's one JSON codec, and the engine's
// typed read made directly from payloads giving exactly what the SDTM rows of the same read
// give through recist's own SDTM reader (the export path) - so what the reader sees live, what
// the queue stores at signature and what is exported are one evaluation.
#include "Fixtures.h"
#include "charter/Charter.h"
#include "read/Payload.h"
#include "read/ReadData.h"
#include "recist/Sdtm.h"

#include <gtest/gtest.h>

using namespace rqtest;

namespace {

std::string viaSdtm(const charter::Charter& c, const std::vector<rq::TimepointRead>& tps, const rq::SubjectDates& dates) {
    const auto text = rq::toSdtm(c, "RELUTH-01-001", "RADIOLOGIST 1", tps);
    const std::string tu = rq::tuHeader() + text.tu, tr = rq::trHeader() + text.tr,
                      subj = rq::subjectsHeader() + rq::subjectRow(c, "RELUTH-01-001", dates), config = rq::engineConfig(c);
    recist::sdtm::Files f; // views of the texts above
    f.tu = tu;
    f.tr = tr;
    f.subj = subj;
    f.config = config;
    const auto in = recist::sdtm::parse(f);
    if (!in.errors.empty()) return "error: " + in.errors.front().rule;
    if (in.reads.size() != 1) return "no read";
    return rq::resultJson(recist::evaluate(in.reads[0], in.options));
}

std::string direct(const charter::Charter& c, const std::vector<rq::TimepointRead>& tps, const rq::SubjectDates& dates) {
    const auto ev = rq::evaluateRead(c, "RELUTH-01-001", "RADIOLOGIST 1", dates, tps);
    if (!ev.result) return "error: " + (ev.problems.empty() ? std::string("none") : ev.problems.front().rule);
    return rq::resultJson(*ev.result);
}

} // namespace

TEST(ReadPayload, OneCodecRoundTripsAndNamesWhatIsNotAPayload) {
    rq::Payload p;
    p.lesions = {{"T01", "TARGET", "LIVER"}, {"NT01", "NON-TARGET", "BONE"}};
    p.answers = {{"T01", "32.5", "", 2.5, 1}, {"NT01", "PRESENT", "", 0, 0}};
    rq::Caliper m;
    m.id = 1;
    m.label = "T01";
    m.seriesUid = "1.2.3";
    m.sopUid = "1.2.3.4";
    m.slice = 12;
    m.a = {0, 0, -15};
    m.b = {32.5, 0, -15};
    p.measurements = {m};
    rq::Payload back;
    std::string error;
    ASSERT_TRUE(rq::Payload::parse(p.toJson(), back, &error)) << error;
    EXPECT_EQ(back.toJson(), p.toJson());
    EXPECT_NEAR(back.measurements.at(0).longMm(), 32.5, 1e-9);
    EXPECT_EQ(back.answer("T01")->sliceThickness, 2.5);

    std::vector<std::string> problems;
    EXPECT_FALSE(rq::Payload::parse("[1]", back, &error, &problems));
    EXPECT_EQ(error, "the read is a JSON object");
    problems.clear();
    EXPECT_TRUE(rq::Payload::parse(
        R"({"lesions":[{"id":"T01","role":"target-ish","location":"liver"},{"role":"TARGET"}],)"
        R"("assessments":[{"id":"T01","result":"abc","slice_thickness_mm":"thin"}],"measurements":[{"id":1,"a":[0,0]}]})",
        back, &error, &problems));
    ASSERT_EQ(problems.size(), 5u);
    EXPECT_NE(problems[0].find("lesions[0].role"), std::string::npos) << problems[0];
    EXPECT_NE(problems[1].find("lesions[1].id is missing"), std::string::npos) << problems[1];
    EXPECT_NE(problems[3].find("assessments[0].slice_thickness_mm"), std::string::npos) << problems[3];
    EXPECT_NE(problems[4].find("measurements[0]"), std::string::npos) << problems[4];
    EXPECT_TRUE(back.lesions.empty()) << "what does not follow the format is left out";
}

TEST(ReadPayload, APointMarkerRoundTripsWithoutALength) {
    const std::string text = R"({"lesions":[{"id":"NT01","role":"NON-TARGET","location":"BONE"}],
        "assessments":[{"id":"NT01","result":"PRESENT"}],
        "measurements":[{"id":4,"lesion":"NT01","kind":"POINT","series_uid":"2.25.1","sop_instance_uid":"2.25.2","slice":12,"a":[1.5,-20,33]}]})";
    rq::Payload p;
    std::string error;
    std::vector<std::string> problems;
    ASSERT_TRUE(rq::Payload::parse(text, p, &error, &problems)) << error;
    EXPECT_TRUE(problems.empty()) << problems.front();
    ASSERT_EQ(p.measurements.size(), 1u);
    const rq::Caliper& c = p.measurements.front();
    EXPECT_EQ(c.kind, rq::Caliper::Kind::Point);
    EXPECT_EQ(c.a, (rq::Point3{1.5, -20, 33}));
    EXPECT_EQ(c.a, c.b);
    EXPECT_DOUBLE_EQ(c.longMm(), 0);
    const std::string json = p.toJson();
    EXPECT_NE(json.find("\"POINT\""), std::string::npos) << json;
    EXPECT_EQ(json.find("long_mm"), std::string::npos) << "a point has no length: " << json;
    rq::Payload again;
    ASSERT_TRUE(rq::Payload::parse(json, again, &error));
    EXPECT_EQ(again.toJson(), json);
}

TEST(ReadPayload, TheEnginesReadMadeDirectlyEqualsTheSdtmRowsOfTheSameRead) {
    const auto c = charter::loadCharter(kCharter);
    const rq::SubjectDates dates{"2024-01-03", ""};
    auto tp = [](int ordinal, const char* date, std::string payload) { return rq::TimepointRead{ordinal, date, std::move(payload)}; };
    const std::vector<std::vector<rq::TimepointRead>> reads{
        {tp(1, "20240110", baseline())},
        {tp(1, "20240110", baseline()), tp(2, "20240310", followup("20"))},                   // partial response
        {tp(1, "20240110", baseline()), tp(2, "20240310", followup("32", "ABSENT"))},         // stable
        {tp(1, "20240110", baseline()), tp(2, "20240310", followupWithNewLesion("30"))},      // new lesion
        {tp(1, "20240110", baseline()), tp(2, "20240310", followup("45"))},                   // growth
        {tp(1, "20240110", baseline()), tp(2, "20240310", followup("TOO SMALL TO MEASURE"))}, // too small
        {tp(1, "20240110", baseline()), tp(2, "20240310", followup("32", "UNEQUIVOCAL PROGRESSION"))},
        {tp(1, "20240110", baseline()), tp(2, "20240310", followup("32")), tp(3, "20240505", followup("NOT DONE", "NOT EVALUABLE"))},
        {tp(1, "20240110", baseline("8.0"))},                               // not measurable at baseline
        {tp(1, "20240110", baseline()), tp(2, "20240310", followup("-3"))}, // negative
        {tp(1, "20240110", baseline()), tp(2, "20240101", followup("30"))}, // dated before the baseline
    };
    for (std::size_t i = 0; i < reads.size(); ++i) {
        EXPECT_EQ(direct(c, reads[i], dates), viaSdtm(c, reads[i], dates)) << "read " << i;
        // the first eight are valid reads: both paths must give results, not the same refusal
        if (i < 8) {
            EXPECT_EQ(direct(c, reads[i], dates).rfind("error", 0), std::string::npos)
                << "read " << i << ": " << direct(c, reads[i], dates);
        }
    }
    // an unscheduled timepoint carries its own VISITNUM between scheduled visits
    std::vector<rq::TimepointRead> withUnscheduled{tp(1, "20240110", baseline()), tp(2, "20240310", followup("30")),
                                                   tp(3, "20240405", followup("31")), tp(4, "20240505", followup("29"))};
    withUnscheduled[2].visitNum = "2.1";
    withUnscheduled[2].visit = "UNSCHEDULED";
    withUnscheduled[3].visitNum = "3";
    withUnscheduled[3].visit = "WEEK 16";
    EXPECT_EQ(direct(c, withUnscheduled, dates), viaSdtm(c, withUnscheduled, dates));
    EXPECT_NE(direct(c, withUnscheduled, dates).find("\"visitnum\":\"2.1\""), std::string::npos) << direct(c, withUnscheduled, dates);
}

TEST(ReadPayload, ACalipersOriginSurvivesTheRoundTripAndAnUnknownOneIsRefused) {
    rq::Payload p;
    rq::Caliper manual, proposed, edited;
    manual.id = 1;
    manual.a = {0, 0, 0};
    manual.b = {10, 0, 0};
    proposed = manual;
    proposed.id = 2;
    proposed.origin = rq::Caliper::Origin::Proposed;
    edited = manual;
    edited.id = 3;
    edited.origin = rq::Caliper::Origin::ProposedEdited;
    p.measurements = {manual, proposed, edited};
    const std::string text = p.toJson();
    EXPECT_EQ(text.find("\"origin\":\"MANUAL\""), std::string::npos) << "manual stays implicit: older payloads are unchanged";
    rq::Payload back;
    std::string error;
    ASSERT_TRUE(rq::Payload::parse(text, back, &error)) << error;
    ASSERT_EQ(back.measurements.size(), 3u);
    EXPECT_EQ(back.measurements[0].origin, rq::Caliper::Origin::Manual);
    EXPECT_EQ(back.measurements[1].origin, rq::Caliper::Origin::Proposed);
    EXPECT_EQ(back.measurements[2].origin, rq::Caliper::Origin::ProposedEdited);
    std::string bad = text;
    bad.replace(bad.find("PROPOSED_EDITED"), 15, "GUESSED");
    std::vector<std::string> problems;
    rq::Payload refused;
    rq::Payload::parse(bad, refused, &error, &problems);
    bool named = false;
    for (const auto& pr : problems) named = named || pr.find("origin must be MANUAL, PROPOSED or PROPOSED_EDITED") != std::string::npos;
    EXPECT_TRUE(named) << "problems: " << problems.size();
    EXPECT_EQ(refused.measurements.size(), 2u);
}
