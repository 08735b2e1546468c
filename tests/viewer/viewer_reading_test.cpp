// The lesion panel's model (viewer/reading): the queue's checks and the recist engine's results
// follow every edit, calipers carry their values, and a signed timepoint becomes a TID 1500
// Measurement Report that dciodvfy accepts.
#include "viewerreading/MeasurementReport.h"
#include "viewerreading/ReadModel.h"
#include "viewerreading/ReportReader.h"
#include "viewercore/Series.h"
#include "../common/Run.h"
#include "../common/TempDir.h"
#include "PhantomCt.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmsr/dsrdoc.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace fs = std::filesystem;

namespace {

const charter::Charter& trialCharter() {
    static const charter::Charter c = charter::loadCharter(fs::path(RELUTH_SOURCE_DIR) / "assets/charters/reluth.json");
    return c;
}

rq::SubjectDates dates() { return {"2024-01-10", ""}; }

bool hasRule(const vr::ReadModel& m, const std::string& rule, const std::string& text = {}) {
    return std::any_of(m.evaluation().problems.begin(), m.evaluation().problems.end(), [&](const rq::ReadProblem& p) {
        return p.rule == rule && (text.empty() || p.message.find(text) != std::string::npos);
    });
}

std::string problems(const vr::ReadModel& m) {
    std::string s;
    for (const auto& p : m.evaluation().problems) s += p.rule + ": " + p.message + "\n";
    return s;
}

/// A caliper of the given length along x on slice 10 of a series.
vc::Measurement caliper(double mm, bool bidimensional = false, double shortMm = 0) {
    vc::Measurement m;
    m.kind = bidimensional ? vc::Measurement::Kind::Bidimensional : vc::Measurement::Kind::LongAxis;
    m.seriesUid = "1.2.3";
    m.sopUid = "1.2.3.10";
    m.slice = 10;
    m.a = {0, 0, 0};
    m.b = {mm, 0, 0};
    if (bidimensional) {
        m.c = {mm / 2, -shortMm / 2, 0};
        m.d = {mm / 2, shortMm / 2, 0};
    }
    return m;
}

/// A baseline with T01 (liver 40 mm), T02 (mesenteric node 20 mm short axis), NT01 bone.
vr::ReadModel signedBaseline(std::string* payload) {
    vr::ReadModel m(trialCharter(), "RELUTH-01-001", dates(), {}, 1, "20240104", "");
    const std::string t1 = m.addLesion("TARGET", "LIVER");
    const std::string t2 = m.addLesion("TARGET", "LYMPH NODE, MESENTERIC");
    const std::string nt = m.addLesion("NON-TARGET", "BONE");
    auto c1 = caliper(40);
    c1.id = 1;
    auto c2 = caliper(28, true, 20);
    c2.id = 2;
    EXPECT_TRUE(m.measure(t1, c1, 2.5));
    EXPECT_TRUE(m.measure(t2, c2, 2.5));
    EXPECT_TRUE(m.setAnswer(nt, "PRESENT"));
    *payload = m.payload();
    return m;
}

} // namespace

TEST(ViewerReading, BaselineValidationExplainsWhatIsWrongAsTheReaderGoes) {
    vr::ReadModel m(trialCharter(), "RELUTH-01-001", dates(), {}, 1, "20240104", "");
    EXPECT_TRUE(hasRule(m, "INCOMPLETE", "no lesion identified")) << problems(m);
    // three liver targets: at most 2 per organ
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) ids.push_back(m.addLesion("TARGET", "LIVER"));
    EXPECT_EQ(ids, (std::vector<std::string>{"T01", "T02", "T03"}));
    EXPECT_TRUE(hasRule(m, "INCOMPLETE", "T01, T02, T03")) << problems(m);
    for (int i = 0; i < 3; ++i) {
        auto c = caliper(30);
        c.id = i + 1;
        ASSERT_TRUE(m.measure(ids[static_cast<std::size_t>(i)], c, 2.5));
    }
    EXPECT_TRUE(hasRule(m, "TGT_MAX_PER_ORGAN", "T03")) << problems(m);
    ASSERT_TRUE(m.setLocation("T03", "LUNG"));
    EXPECT_FALSE(hasRule(m, "TGT_MAX_PER_ORGAN")) << problems(m);
    EXPECT_TRUE(m.signable()) << problems(m);
    // six targets: at most 5
    for (const char* organ : {"PANCREAS", "KIDNEY", "SPLEEN"}) {
        const std::string id = m.addLesion("TARGET", organ);
        auto c = caliper(25);
        c.id = 10 + static_cast<int>(id.back() - '0');
        ASSERT_TRUE(m.measure(id, c, 2.5));
    }
    EXPECT_TRUE(hasRule(m, "TGT_MAX_TOTAL", "T06")) << problems(m);
    ASSERT_TRUE(m.removeLesion("T06"));
    EXPECT_FALSE(hasRule(m, "TGT_MAX_TOTAL")) << problems(m);
    // measurability: 8 mm is too small; 15 mm is enough on 2.5 mm slices but not on 10 mm slices
    auto small = caliper(8);
    small.id = 20;
    ASSERT_TRUE(m.measure("T05", small, 2.5));
    EXPECT_TRUE(hasRule(m, "TGT_NOT_MEASURABLE", "T05 measures 8.0 mm")) << problems(m);
    auto mid = caliper(15);
    mid.id = 20;
    ASSERT_TRUE(m.measure("T05", mid, 2.5));
    EXPECT_FALSE(hasRule(m, "TGT_NOT_MEASURABLE")) << problems(m);
    ASSERT_TRUE(m.measure("T05", mid, 10.0));
    EXPECT_TRUE(hasRule(m, "TGT_NOT_MEASURABLE", "twice the slice thickness")) << problems(m);
    // a lymph node is measured with the bidimensional tool: its short axis counts
    const std::string node = m.addLesion("TARGET", "LYMPH NODE, MESENTERIC");
    std::string why;
    EXPECT_FALSE(m.measure(node, caliper(30), 2.5, &why));
    EXPECT_NE(why.find("short axis"), std::string::npos) << why;
    auto nodeCaliper = caliper(30, true, 12);
    nodeCaliper.id = 30;
    ASSERT_TRUE(m.measure(node, nodeCaliper, 2.5));
    EXPECT_EQ(m.draft().answer(node)->result, "12.0");
    EXPECT_TRUE(hasRule(m, "TGT_NOT_MEASURABLE", "short axis >= 15 mm")) << problems(m);
}

TEST(ViewerReading, FollowUpResultsFollowTheCalipersWithTheirReasons) {
    std::string base;
    signedBaseline(&base);
    vr::ReadModel m(trialCharter(), "RELUTH-01-001", dates(), {{1, "20240104", base}}, 2, "20240304", "");
    EXPECT_TRUE(hasRule(m, "INCOMPLETE", "T01, T02, NT01")) << problems(m);
    ASSERT_EQ(m.lesions().size(), 3u);
    EXPECT_TRUE(m.lesions()[1].nodal);
    // the previous caliper is where "jump to lesion" goes until this timepoint has one
    ASSERT_TRUE(m.lastMeasurement("T01", 2).has_value());
    EXPECT_NEAR(m.lastMeasurement("T01", 2)->longMm(), 40, 1e-9);
    auto c1 = caliper(27);
    c1.id = 1;
    auto c2 = caliper(20, true, 14);
    c2.id = 2;
    ASSERT_TRUE(m.measure("T01", c1, 2.5));
    ASSERT_TRUE(m.measure("T02", c2, 2.5));
    ASSERT_TRUE(m.setAnswer("NT01", "PRESENT"));
    ASSERT_TRUE(m.signable()) << problems(m);
    const recist::VisitResult& v = m.evaluation().result->visits.back();
    // (27 + 14) vs (40 + 20) = -31.7 %: PR
    EXPECT_EQ(v.sum->formatMm(), "41.0");
    EXPECT_EQ(*v.target, recist::Response::PR);
    EXPECT_NE(v.targetReason.find("-31.7"), std::string::npos) << v.targetReason;
    // the reader edits the caliper in the view: the value follows, and so does the response
    auto longer = c1;
    longer.b = {30, 0, 0};
    longer.label = "T01";
    auto node = c2;
    node.label = "T02";
    m.syncMeasurements("1.2.3", {longer, node});
    EXPECT_EQ(m.draft().answer("T01")->result, "30.0");
    EXPECT_EQ(*m.evaluation().result->visits.back().target, recist::Response::SD);
    // deleting the caliper takes the answer with it
    m.syncMeasurements("1.2.3", {node});
    EXPECT_EQ(m.draft().answer("T01"), nullptr);
    EXPECT_TRUE(hasRule(m, "INCOMPLETE", "T01")) << problems(m);
    // a new unequivocal lesion: PD
    ASSERT_TRUE(m.measure("T01", c1, 2.5));
    const std::string fresh = m.addLesion("TARGET", "LIVER"); // after baseline: always NEW
    EXPECT_EQ(fresh, "NEW01");
    EXPECT_TRUE(hasRule(m, "INCOMPLETE", "NEW01"));
    ASSERT_TRUE(m.setAnswer(fresh, "UNEQUIVOCAL"));
    ASSERT_TRUE(m.signable()) << problems(m);
    EXPECT_EQ(*m.evaluation().result->visits.back().overall, recist::Response::PD);
    EXPECT_FALSE(m.evaluation().result->visits.back().overallReason.empty());
    // the draft survives a round trip through its payload (autosave, then a crash)
    vr::ReadModel again(trialCharter(), "RELUTH-01-001", dates(), {{1, "20240104", base}}, 2, "20240304", m.payload());
    EXPECT_EQ(again.payload(), m.payload());
    EXPECT_EQ(*again.evaluation().result->visits.back().overall, recist::Response::PD);
}

TEST(ViewerReading, SplitAndMergedTargetsAreAnsweredThroughTheirFragments) {
    std::string base;
    signedBaseline(&base);
    vr::ReadModel m(trialCharter(), "RELUTH-01-001", dates(), {{1, "20240104", base}}, 2, "20240304", "");
    ASSERT_TRUE(m.split("T01", 2));
    ASSERT_TRUE(m.setAnswer("NT01", "PRESENT"));
    auto n = caliper(20, true, 16);
    n.id = 5;
    ASSERT_TRUE(m.measure("T02", n, 2.5));
    EXPECT_TRUE(hasRule(m, "INCOMPLETE", "T01.1, T01.2")) << problems(m);
    auto f1 = caliper(15), f2 = caliper(12);
    f1.id = 6;
    f2.id = 7;
    ASSERT_TRUE(m.measure("T01.1", f1, 2.5));
    ASSERT_TRUE(m.measure("T01.2", f2, 2.5));
    ASSERT_TRUE(m.signable()) << problems(m);
    EXPECT_EQ(m.evaluation().result->visits.back().sum->formatMm(), "43.0"); // 15 + 12 + 16

    vr::ReadModel merged(trialCharter(), "RELUTH-01-001", dates(), {{1, "20240104", base}}, 2, "20240304", "");
    std::string why;
    EXPECT_FALSE(merged.merge("T01", "NT01", &why)) << "a non-target cannot merge into a target";
    ASSERT_TRUE(merged.merge("T01", "T02"));
    EXPECT_EQ(merged.draft().answer("T01")->reason, "TUMOR MERGED");
    auto c = caliper(45);
    c.id = 9;
    ASSERT_TRUE(merged.measure("T01/T02", c, 2.5));
    ASSERT_TRUE(merged.setAnswer("NT01", "PRESENT"));
    EXPECT_TRUE(merged.signable()) << problems(merged);
}

TEST(ViewerReading, ASignedTimepointIsATid1500ReportThatDciodvfyAccepts) {
    ASSERT_EQ(std::system("command -v dciodvfy >/dev/null"), 0) << "dciodvfy (Debian dicom3tools) is required";
    testutil::TempDir dir("viewer-sr");
    const testutil::PhantomCt phantom = testutil::phantomCt(dir.path(), 4);
    ASSERT_TRUE(phantom.ok) << phantom.output;
    const vc::Series* ct = &phantom.ct();
    const auto& slice = ct->slices[ct->slices.size() / 2];
    vr::ReadModel m(trialCharter(), "RELUTH-01-001", dates(), {}, 1, "20240104", "");
    const std::string t1 = m.addLesion("TARGET", "LIVER"), t2 = m.addLesion("TARGET", "LYMPH NODE, MESENTERIC");
    m.addLesion("NON-TARGET", "BONE");
    vc::Measurement c1;
    c1.id = 1;
    c1.seriesUid = ct->uid;
    c1.sopUid = slice.sopUid;
    c1.a = {-50, -20, slice.position[2]};
    c1.b = {-10, -20, slice.position[2]};
    vc::Measurement c2 = c1;
    c2.id = 2;
    c2.kind = vc::Measurement::Kind::Bidimensional;
    c2.c = {-30, -30, slice.position[2]};
    c2.d = {-30, -10, slice.position[2]};
    c2.origin = vc::Measurement::Origin::ProposedEdited; // the node: a one-click proposal the reader edited
    ASSERT_TRUE(m.measure(t1, c1, 10));
    ASSERT_TRUE(m.measure(t2, c2, 10));
    ASSERT_TRUE(m.setAnswer("NT01", "PRESENT"));
    ASSERT_TRUE(m.signable()) << problems(m);
    vr::ReportInput in;
    in.subject = "RELUTH-01-001";
    in.reader = "Reader 1";
    in.visit = "BASELINE";
    in.model = &m;
    in.anyImage = slice.path;
    in.fileOf = [&](const std::string& sop) -> fs::path {
        for (const auto& s : ct->slices)
            if (s.sopUid == sop) return s.path;
        return {};
    };
    const fs::path sr = dir.path() / "report.dcm";
    std::string error;
    ASSERT_TRUE(vr::writeMeasurementReport(in, sr, &error)) << error;
    const std::string check = [&] {
        std::string t;
        testutil::run("dciodvfy '" + sr.string() + "'", &t);
        return t;
    }();
    EXPECT_EQ(check.find("Error"), std::string::npos) << check;
    EXPECT_NE(check.find("EnhancedSR"), std::string::npos) << check;
    std::string dump;
    ASSERT_EQ(testutil::run("dsrdump +Pl '" + sr.string() + "'", &dump), 0) << dump;
    EXPECT_NE(dump.find("Imaging Measurement Report"), std::string::npos) << dump;
    EXPECT_NE(dump.find("\"T01\""), std::string::npos) << dump;
    EXPECT_NE(dump.find("\"" + vr::trackingUid("RELUTH-01-001", "Reader 1", "T01") + "\""), std::string::npos) << dump;
    EXPECT_NE(dump.find("Long Axis"), std::string::npos) << dump;
    EXPECT_NE(dump.find("40.0"), std::string::npos) << dump;       // the liver target
    EXPECT_NE(dump.find("Short Axis"), std::string::npos) << dump; // the node
    // each value says how its caliper was made
    EXPECT_NE(dump.find("\"Measurement provenance\")=(MANUAL,99RELUTH,\"Manual caliper\")"), std::string::npos) << dump;
    EXPECT_NE(dump.find("\"Measurement provenance\")=(PROPOSED_EDITED,99RELUTH,"), std::string::npos) << dump;
    EXPECT_EQ(dump.find("proposal accepted unchanged"), std::string::npos) << dump;
    std::string elements;
    ASSERT_EQ(testutil::run("dcmdump '" + sr.string() + "'", &elements), 0) << elements;
    EXPECT_NE(elements.find("CurrentRequestedProcedureEvidenceSequence"), std::string::npos) << elements;
    EXPECT_NE(elements.find(slice.sopUid), std::string::npos) << elements;
    EXPECT_NE(dump.find("NT01 (NON-TARGET, BONE): PRESENT"), std::string::npos) << dump;
    // the same lesion keeps its tracking UID at every timepoint, another lesion gets another
    EXPECT_EQ(vr::trackingUid("RELUTH-01-001", "Reader 1", "T01"), vr::trackingUid("RELUTH-01-001", "Reader 1", "T01"));
    EXPECT_NE(vr::trackingUid("RELUTH-01-001", "Reader 1", "T01"), vr::trackingUid("RELUTH-01-001", "Reader 1", "T02"));
    EXPECT_LE(vr::trackingUid("X", "Reader 2", "T01/T02").size(), 64u);
}

TEST(ViewerReading, ASignedReportReadsBackToItsLesionsValuesImagesAndCalipers) {
    // the round trip a workstation with nothing local makes: our report, read back from its bytes
    testutil::TempDir dir("viewer-sr-back");
    const testutil::PhantomCt phantom = testutil::phantomCt(dir.path(), 5);
    ASSERT_TRUE(phantom.ok) << phantom.output;
    const vc::Series* ct = &phantom.ct();
    const auto& slice = ct->slices[ct->slices.size() / 2];
    vr::ReadModel m(trialCharter(), "RELUTH-01-001", dates(), {}, 1, "20240104", "");
    const std::string t1 = m.addLesion("TARGET", "LIVER"), t2 = m.addLesion("TARGET", "LYMPH NODE, MESENTERIC");
    vc::Measurement c1;
    c1.id = 1;
    c1.seriesUid = ct->uid;
    c1.sopUid = slice.sopUid;
    c1.a = {-50, -20, slice.position[2]};
    c1.b = {-10, -25, slice.position[2]};
    c1.origin = vc::Measurement::Origin::Proposed;
    vc::Measurement c2 = c1;
    c2.id = 2;
    c2.kind = vc::Measurement::Kind::Bidimensional;
    c2.a = {20, 10, slice.position[2]};
    c2.b = {44, 10, slice.position[2]};
    c2.c = {32, 2, slice.position[2]};
    c2.d = {32, 18, slice.position[2]};
    c2.origin = vc::Measurement::Origin::Manual;
    ASSERT_TRUE(m.measure(t1, c1, 10));
    ASSERT_TRUE(m.measure(t2, c2, 10));
    vr::ReportInput in;
    in.subject = "RELUTH-01-001";
    in.reader = "Reader 2";
    in.visit = "BASELINE";
    in.model = &m;
    in.anyImage = slice.path;
    in.fileOf = [&](const std::string& sop) -> fs::path { return sop == slice.sopUid ? slice.path : fs::path(); };
    const fs::path sr = dir.path() / "report.dcm";
    std::string error;
    ASSERT_TRUE(vr::writeMeasurementReport(in, sr, &error)) << error;
    // (tests/fuzz/seeds/report/phantom-tid1500.dcm was kept this way: the report_fuzz target's seed)
    if (const char* keep = std::getenv("RELUTH_TEST_KEEP_REPORT")) fs::copy_file(sr, keep, fs::copy_options::overwrite_existing);
    std::ifstream f(sr, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const auto r = vr::readMeasurementReport(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), &error);
    ASSERT_TRUE(r) << error;
    EXPECT_TRUE(r->tid1500);
    EXPECT_TRUE(r->notes.empty()) << r->notes.front();
    EXPECT_EQ(r->observer, "READER^2");
    EXPECT_EQ(r->patientId, ct->patientId); // the report belongs to its images' patient and study
    EXPECT_EQ(r->title, "Imaging Measurement Report");
    ASSERT_EQ(r->groups.size(), 2u);
    const vr::ReportedGroup& liver = r->groups[0];
    const vr::ReportedGroup& node = r->groups[1];
    EXPECT_EQ(liver.trackingId, t1);
    EXPECT_EQ(liver.trackingUid, vr::trackingUid("RELUTH-01-001", "Reader 2", t1));
    EXPECT_EQ(liver.findingSite, "Liver");
    EXPECT_EQ(node.trackingId, t2);
    EXPECT_EQ(node.findingSite, "Lymph node");
    ASSERT_EQ(liver.measurements.size(), 1u);
    ASSERT_EQ(node.measurements.size(), 2u);
    EXPECT_EQ(liver.measurements[0].code, "LONG_AXIS");
    EXPECT_EQ(node.measurements[0].code, "SHORT_AXIS"); // a node's RECIST value first
    EXPECT_EQ(node.measurements[1].code, "LONG_AXIS");
    EXPECT_NEAR(liver.measurements[0].value, std::round(c1.longMm() * 10) / 10, 1e-9);
    EXPECT_NEAR(node.measurements[0].value, 16.0, 1e-9);
    EXPECT_NEAR(node.measurements[1].value, 24.0, 1e-9);
    EXPECT_EQ(liver.measurements[0].units, "mm");
    EXPECT_EQ(liver.measurements[0].provenance, "PROPOSED");
    EXPECT_EQ(node.measurements[0].provenance, "MANUAL");
    // the calipers land where they were drawn, on the image they were drawn on
    DcmFileFormat img;
    ASSERT_TRUE(img.loadFile(slice.path.c_str()).good());
    std::array<double, 3> ipp{};
    std::array<double, 6> iop{};
    std::array<double, 2> spacing{};
    for (unsigned long i = 0; i < 3; ++i) img.getDataset()->findAndGetFloat64(DCM_ImagePositionPatient, ipp[i], i);
    for (unsigned long i = 0; i < 6; ++i) img.getDataset()->findAndGetFloat64(DCM_ImageOrientationPatient, iop[i], i);
    for (unsigned long i = 0; i < 2; ++i) img.getDataset()->findAndGetFloat64(DCM_PixelSpacing, spacing[i], i);
    auto near = [](const std::array<double, 3>& p, const vc::Point3& q) {
        return std::abs(p[0] - q[0]) < 1e-3 && std::abs(p[1] - q[1]) < 1e-3 && std::abs(p[2] - q[2]) < 1e-3;
    };
    for (const auto* mm : {&liver.measurements[0], &node.measurements[0], &node.measurements[1]}) {
        EXPECT_EQ(mm->sopInstanceUid, slice.sopUid);
        EXPECT_EQ(mm->sopClassUid, UID_CTImageStorage);
        ASSERT_EQ(mm->polyline.size(), 2u);
    }
    EXPECT_TRUE(near(vr::patientPointOf(liver.measurements[0].polyline[0], ipp, iop, spacing), c1.a));
    EXPECT_TRUE(near(vr::patientPointOf(liver.measurements[0].polyline[1], ipp, iop, spacing), c1.b));
    EXPECT_TRUE(near(vr::patientPointOf(node.measurements[0].polyline[0], ipp, iop, spacing), c2.c));
    EXPECT_TRUE(near(vr::patientPointOf(node.measurements[1].polyline[1], ipp, iop, spacing), c2.b));
    EXPECT_FALSE(r->evaluations.empty());
}

TEST(ViewerReading, AnotherToolsReportIsReadAsFarAsItGoesAndWhatIsNotUnderstoodIsSaid) {
    // a TID 1500 made by hand on DCMTK's generic SR tree, as another vendor might: old SRT codes,
    // a volume, a group without tracking identifiers, an item our writer never makes
    DSRDocument doc(DSRTypes::DT_ComprehensiveSR);
    doc.setPatientID("OTHER-TOOL-7");
    DSRDocumentTree& t = doc.getTree();
    ASSERT_GT(t.addContentItem(DSRTypes::RT_isRoot, DSRTypes::VT_Container), 0u);
    t.getCurrentContentItem().setConceptName(DSRCodedEntryValue("126000", "DCM", "Imaging Measurement Report"));
    ASSERT_TRUE(t.setTemplateIdentification("1500", "DCMR").good());
    ASSERT_GT(t.addContentItem(DSRTypes::RT_contains, DSRTypes::VT_Container, DSRTypes::AM_belowCurrent), 0u);
    t.getCurrentContentItem().setConceptName(DSRCodedEntryValue("126010", "DCM", "Imaging Measurements"));
    auto group = [&](const char* id, bool below) {
        ASSERT_GT(
            t.addContentItem(DSRTypes::RT_contains, DSRTypes::VT_Container, below ? DSRTypes::AM_belowCurrent : DSRTypes::AM_afterCurrent),
            0u);
        t.getCurrentContentItem().setConceptName(DSRCodedEntryValue("125007", "DCM", "Measurement Group"));
        bool first = true;
        if (id) {
            t.addContentItem(DSRTypes::RT_hasObsContext, DSRTypes::VT_Text, DSRTypes::AM_belowCurrent);
            t.getCurrentContentItem().setConceptName(DSRCodedEntryValue("112039", "DCM", "Tracking Identifier"));
            t.getCurrentContentItem().setStringValue(id);
            first = false;
        }
        t.addContentItem(DSRTypes::RT_contains, DSRTypes::VT_Num, first ? DSRTypes::AM_belowCurrent : DSRTypes::AM_afterCurrent);
        t.getCurrentContentItem().setConceptName(DSRCodedEntryValue("G-A185", "SRT", "Long Axis"));
        t.getCurrentContentItem().setNumericValue(DSRNumericMeasurementValue("31.5", DSRCodedEntryValue("mm", "UCUM", "millimeter")));
        t.addContentItem(DSRTypes::RT_contains, DSRTypes::VT_Num, DSRTypes::AM_afterCurrent);
        t.getCurrentContentItem().setConceptName(DSRCodedEntryValue("118565006", "SCT", "Volume"));
        t.getCurrentContentItem().setNumericValue(DSRNumericMeasurementValue("12.0", DSRCodedEntryValue("ml", "UCUM", "milliliter")));
        t.addContentItem(DSRTypes::RT_contains, DSRTypes::VT_DateTime, DSRTypes::AM_afterCurrent);
        t.getCurrentContentItem().setConceptName(DSRCodedEntryValue("111526", "DCM", "DateTime Started"));
        t.getCurrentContentItem().setStringValue("20240101120000");
        t.goUp();
    };
    group("LESION-A", true);
    group(nullptr, false);
    testutil::TempDir dir("viewer-sr-other");
    DcmFileFormat ff;
    ASSERT_TRUE(doc.write(*ff.getDataset()).good());
    const fs::path file = dir.path() / "other.dcm";
    ASSERT_TRUE(ff.saveFile(file.c_str(), EXS_LittleEndianExplicit).good());
    std::string error;
    const auto r = vr::readMeasurementReport(file, &error);
    ASSERT_TRUE(r) << error;
    EXPECT_TRUE(r->tid1500);
    EXPECT_EQ(r->patientId, "OTHER-TOOL-7");
    ASSERT_EQ(r->groups.size(), 2u);
    EXPECT_EQ(r->groups[0].trackingId, "LESION-A");
    ASSERT_EQ(r->groups[0].measurements.size(), 2u);
    EXPECT_EQ(r->groups[0].measurements[0].code, "LONG_AXIS"); // the old SRT code is understood
    EXPECT_DOUBLE_EQ(r->groups[0].measurements[0].value, 31.5);
    EXPECT_EQ(r->groups[0].measurements[1].code, "118565006^SCT");
    EXPECT_EQ(r->groups[0].measurements[1].units, "ml");
    EXPECT_TRUE(r->groups[0].measurements[0].sopInstanceUid.empty());
    auto said = [&](const std::string& what) {
        return std::any_of(r->notes.begin(), r->notes.end(), [&](const std::string& n) { return n.find(what) != std::string::npos; });
    };
    EXPECT_TRUE(said("DATETIME 'DateTime Started' in measurement group LESION-A not understood")) << ::testing::PrintToString(r->notes);
    EXPECT_TRUE(said("neither a tracking identifier nor a tracking UID")) << ::testing::PrintToString(r->notes);
    // files that are not TID 1500 - pydicom's SR test files - read without a crash, with a note;
    // what is not DICOM at all is a named error
    const fs::path pydicom = "/usr/lib/python3/dist-packages/pydicom/data/test_files";
    std::size_t srs = 0;
    for (const char* name : {"reportsi.dcm", "test-SR.dcm", "reportsi_with_empty_number_tags.dcm"}) {
        if (!fs::exists(pydicom / name)) continue;
        const auto other = vr::readMeasurementReport(pydicom / name, &error);
        ASSERT_TRUE(other) << name << ": " << error;
        EXPECT_FALSE(other->notes.empty()) << name;
        ++srs;
    }
    EXPECT_GE(srs, 2u) << "python3-pydicom's SR test files are expected on this machine";
    EXPECT_FALSE(vr::readMeasurementReport(pydicom / "CT_small.dcm", &error)) << "a CT image is not a report";
    EXPECT_NE(error.find("not a structured report"), std::string::npos) << error;
    const std::string junk = "not DICOM at all";
    EXPECT_FALSE(vr::readMeasurementReport(reinterpret_cast<const std::uint8_t*>(junk.data()), junk.size(), &error));
    EXPECT_FALSE(error.empty());
}
