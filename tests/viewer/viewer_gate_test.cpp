// The gate in front of the trial's Orthanc (reader-queue-gate behind nginx's auth_request, the
// orthanc fixture's), tried as a reader with a raw HTTP client (curl) would: with their own
// Orthanc account and a token the queue issued them, they get the one study folder the queue
// opened - its image series, by the searches the workstation makes - and nothing else: not
// Orthanc's REST API, not another study of the subject, not a report stored in the same study,
// not a whole-study retrieval, not with a wildcard, a path trick or a write; a revoked or expired
// token is refused, and without the gate nothing passes. The manager's account is not gated.
#include "GuiFixture.h"
#include "readerqueue/Queue.h"
#include "viewerweb/DicomWeb.h"
#include "../common/Gate.h"
#include "../common/Orthanc.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <sstream>

using namespace guitest;

namespace {

struct Dicom {
    std::string study, series, instance, modality, date, patient;
};

/// The UIDs of a study folder's first file, read with DCMTK from the store (not through the gate or the workstation).
Dicom firstFileOf(const fs::path& folder) {
    for (const auto& e : fs::recursive_directory_iterator(folder))
        if (e.is_regular_file() && e.path().extension() == ".dcm") {
            DcmFileFormat ff;
            EXPECT_TRUE(ff.loadFile(e.path().c_str()).good());
            OFString v[6];
            DcmDataset* d = ff.getDataset();
            d->findAndGetOFString(DCM_StudyInstanceUID, v[0]);
            d->findAndGetOFString(DCM_SeriesInstanceUID, v[1]);
            d->findAndGetOFString(DCM_SOPInstanceUID, v[2]);
            d->findAndGetOFString(DCM_Modality, v[3]);
            d->findAndGetOFString(DCM_StudyDate, v[4]);
            d->findAndGetOFString(DCM_PatientID, v[5]);
            return {v[0].c_str(), v[1].c_str(), v[2].c_str(), v[3].c_str(), v[4].c_str(), v[5].c_str()};
        }
    ADD_FAILURE() << "no DICOM file under " << folder;
    return {};
}

struct Answer {
    int status = 0;
    std::string reason, body;
};

/// One request with curl as `account` (its password and the token in a 0600 config, never on a command line).
Answer request(testutil::Orthanc& o, const fs::path& dir, const std::string& account, const std::string& path, const std::string& token,
               const std::string& extra = {}) {
    const std::string password = o.passwordOf(account);
    EXPECT_FALSE(password.empty()) << "no Orthanc account " << account;
    const fs::path cfg = dir / "curl.cfg", headers = dir / "headers.txt", body = dir / "body.bin";
    {
        std::ofstream c(cfg);
        c << "user = \"" << account << ":" << password << "\"\ncacert = \"" << o.v["ORTHANC_CA"] << "\"\n";
        if (!token.empty()) c << "header = \"X-Reluth-Token: " << token << "\"\n";
    }
    fs::permissions(cfg, fs::perms::owner_read | fs::perms::owner_write);
    std::string out;
    const int rc = testutil::run("curl -sS --path-as-is -K " + cfg.string() + " -D " + headers.string() + " -o " + body.string() +
                                     " -w '%{http_code}' " + extra + " '" + o.v["ORTHANC_URL"] + path + "'",
                                 &out);
    EXPECT_EQ(rc, 0) << "curl failed: " << out;
    Answer a;
    a.status = std::atoi(out.c_str());
    std::ifstream h(headers);
    std::string line;
    while (std::getline(h, line))
        if (line.rfind("X-Gate-Reason:", 0) == 0 || line.rfind("x-gate-reason:", 0) == 0) {
            a.reason = line.substr(14);
            while (!a.reason.empty() && (a.reason.back() == '\r' || a.reason.back() == ' ')) a.reason.pop_back();
        }
    std::ifstream b(body, std::ios::binary);
    std::stringstream s;
    s << b.rdbuf();
    a.body = s.str();
    return a;
}

} // namespace

TEST(ImageGate, AReadersAccountGetsOnlyTheImagesOfTheStudyTheQueueOpenedToThem) {
    testutil::Orthanc orthanc;
    if (!orthanc.load()) GTEST_SKIP() << "RELUTH_ORTHANC_STATE not set: run under ctest (tests/servers/orthanc.sh)";
    app();
    const TrialQueue tq;
    const fs::path store = phantom().root() / "store";
    testutil::TempDir dir("image-gate");
    std::string out;
    ASSERT_EQ(testutil::run(kBin + "anonymize-deliver --quiet --store " + store.string() + " --audit " + (dir.path() / "audit.jsonl").string() +
                                " --to " + orthanc.peer(),
                            &out),
              0)
        << out;
    const std::string subject = "RELUTH-03-001";
    rq::Queue q(rq::Database::open(tq.db));
    const rq::Session r1 = q.login("reader1", kPassword), mgr = q.login("manager", kPassword);
    const auto all = q.visibleTimepoints(mgr, subject);
    ASSERT_EQ(all.size(), 2u);
    ASSERT_EQ(all[0].folders.size(), 1u);
    ASSERT_EQ(all[1].folders.size(), 1u);
    const std::string baseFolder = all[0].folders[0], laterFolder = all[1].folders[0];
    const Dicom base = firstFileOf(store / baseFolder), later = firstFileOf(store / laterFolder);
    ASSERT_FALSE(base.study.empty());
    ASSERT_FALSE(later.study.empty());
    ASSERT_NE(base.study, later.study);
    ASSERT_EQ(base.modality, "CT");
    ASSERT_EQ(base.patient, subject);
    const std::string studySearch = "/dicom-web/studies?PatientID=" + subject + "&StudyDate=" + base.date + "&includefield=00080061";
    const std::string seriesPath = "/dicom-web/studies/" + base.study + "/series/" + base.series;

    // no gate running: nginx refuses every gated request (fails closed); the manager passes
    EXPECT_EQ(request(orthanc, dir.path(), "reader1", studySearch, "").status, 500);
    EXPECT_EQ(request(orthanc, dir.path(), "manager", "/patients", "").status, 200);

    testutil::Gate gate(orthanc, tq.db, dir.path() / "gate.log");
    // no token: nothing, and Orthanc's own REST API never
    Answer a = request(orthanc, dir.path(), "reader1", studySearch, "");
    EXPECT_EQ(a.status, 403);
    EXPECT_NE(a.reason.find("no image token"), std::string::npos) << a.reason;
    // the queue issues a token only for what it opened: the baseline, not the follow-up
    EXPECT_THROW(q.issueImageToken(r1, laterFolder), rq::Refused);
    const std::string token = q.issueImageToken(r1, baseFolder);
    ASSERT_EQ(token.size(), 64u);
    a = request(orthanc, dir.path(), "reader1", "/patients", token);
    EXPECT_EQ(a.status, 403);
    EXPECT_NE(a.reason.find("only DICOMweb studies"), std::string::npos) << a.reason;
    EXPECT_EQ(request(orthanc, dir.path(), "reader1", "/instances", token).status, 403);
    EXPECT_EQ(request(orthanc, dir.path(), "reader1", "/wado?requestType=WADO&studyUID=" + base.study, token).status, 403);

    // what the workstation asks: the study by its folder's keys, its CT series, the series itself
    a = request(orthanc, dir.path(), "reader1", studySearch, token);
    ASSERT_EQ(a.status, 200) << a.reason;
    EXPECT_NE(a.body.find(base.study), std::string::npos);
    EXPECT_EQ(a.body.find(later.study), std::string::npos) << "the follow-up study was listed";
    a = request(orthanc, dir.path(), "reader1", "/dicom-web/studies/" + base.study + "/series?Modality=CT", token);
    ASSERT_EQ(a.status, 200) << a.reason;
    EXPECT_NE(a.body.find(base.series), std::string::npos);
    a = request(orthanc, dir.path(), "reader1", seriesPath + "/metadata", token);
    ASSERT_EQ(a.status, 200) << a.reason;
    EXPECT_NE(a.body.find(base.instance), std::string::npos);
    a = request(orthanc, dir.path(), "reader1", seriesPath + "/instances/" + base.instance, token,
                "-H 'Accept: multipart/related; type=\"application/dicom\"'");
    ASSERT_EQ(a.status, 200) << a.reason;
    EXPECT_GT(a.body.size(), 10000u);

    // anything else: refused, with the reason
    struct Case {
        std::string path, why;
    };
    const std::vector<Case> refused{
        {"/dicom-web/studies", "PatientID and StudyDate"},
        {"/dicom-web/studies?PatientID=" + subject, "PatientID and StudyDate"},
        {"/dicom-web/studies?PatientID=*&StudyDate=" + base.date, "wildcards"},
        {"/dicom-web/studies?PatientID=RELUTH*&StudyDate=" + base.date, "wildcards"},
        {"/dicom-web/studies?PatientID=" + subject + "&StudyDate=" + later.date, "not for the study the token opens"},
        {"/dicom-web/studies?PatientID=" + subject + "&StudyDate=19000101-29991231", "not for the study the token opens"},
        {"/dicom-web/studies?PatientID=" + subject + "&StudyDate=" + base.date + "&StudyDate=" + later.date, "twice"},
        {"/dicom-web/studies?PatientID=" + subject + "&StudyDate=" + base.date + "&fuzzymatching=true", "not allowed"},
        {"/dicom-web/studies/" + base.study, "series by series"},
        {"/dicom-web/studies/" + base.study + "/metadata", "only the study's series"},
        {"/dicom-web/studies/" + base.study + "/instances", "only the study's series"},
        {"/dicom-web/studies/" + base.study + "/series", "one image modality"},
        {"/dicom-web/studies/" + base.study + "/series?Modality=SR", "one image modality"},
        {"/dicom-web/studies/" + later.study, "not the one the token opens"},
        {"/dicom-web/studies/" + later.study + "/series/" + later.series, "not the one the token opens"},
        {"/dicom-web/studies/" + base.study + "/series/" + later.series + "/metadata", "no such series in this study"},
        {"/dicom-web/studies/" + base.study + "/series/../../../patients", "not a plain DICOMweb path"},
        {"/dicom-web/studies/" + base.study + "/series/%2e%2e/%2e%2e/" + later.study, "not a plain DICOMweb path"},
        {"/dicom-web/studies/" + base.study + "%2Fseries", "not a plain DICOMweb path"},
        {"/DICOM-WEB/studies/" + later.study, "only DICOMweb studies"},
        {"/dicom-web//studies/" + later.study, "not a plain DICOMweb path"},
        // a UID list in the path (QIDO list matching in the gate's own lookup): the open study's
        // UID, then one whose last 8 characters repeat it
        {"/dicom-web/studies/" + base.study + ",9" + base.study.substr(base.study.size() - 8) + "/series/" + base.series,
         "not a plain DICOMweb path"},
    };
    for (const Case& c : refused) {
        a = request(orthanc, dir.path(), "reader1", c.path, token);
        EXPECT_EQ(a.status, 403) << c.path;
        EXPECT_NE(a.reason.find(c.why), std::string::npos) << c.path << ": " << a.reason;
    }
    // the follow-up's instance under the open series' path: the server does not hand it out either
    a = request(orthanc, dir.path(), "reader1", seriesPath + "/instances/" + later.instance + "/metadata", token);
    EXPECT_NE(a.status, 200) << "an instance of another study under the open series' path";
    EXPECT_EQ(a.body.find("\"00080018\""), std::string::npos) << "its metadata came back: " << a.body.substr(0, 300);
    // writes: refused (STOW, DELETE)
    a = request(orthanc, dir.path(), "reader1", "/dicom-web/studies", token, "-X POST -H 'Content-Type: application/dicom' --data-binary x");
    EXPECT_EQ(a.status, 403);
    EXPECT_NE(a.reason.find("may only read"), std::string::npos) << a.reason;
    EXPECT_EQ(request(orthanc, dir.path(), "reader1", seriesPath, token, "-X DELETE").status, 403);

    // a report stored in the open study (as report-push does with the manager's account): its
    // series is not open to the reader, though the study is
    DcmFileFormat sr;
    ASSERT_TRUE(sr.loadFile((fs::path(RELUTH_SOURCE_DIR) / "tests/fuzz/seeds/report/phantom-tid1500.dcm").c_str()).good());
    char uid[100];
    DcmDataset* d = sr.getDataset();
    ASSERT_TRUE(d->putAndInsertString(DCM_StudyInstanceUID, base.study.c_str()).good());
    ASSERT_TRUE(d->putAndInsertString(DCM_PatientID, subject.c_str()).good());
    ASSERT_TRUE(d->putAndInsertString(DCM_StudyDate, base.date.c_str()).good());
    const std::string srSeries = dcmGenerateUniqueIdentifier(uid, SITE_SERIES_UID_ROOT);
    ASSERT_TRUE(d->putAndInsertString(DCM_SeriesInstanceUID, srSeries.c_str()).good());
    ASSERT_TRUE(d->putAndInsertString(DCM_SOPInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT)).good());
    ASSERT_TRUE(sr.getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPInstanceUID, uid).good());
    const fs::path srFile = dir.path() / "report.dcm";
    ASSERT_TRUE(sr.saveFile(srFile.c_str(), EXS_LittleEndianExplicit).good());
    {
        std::ifstream in(srFile, std::ios::binary);
        std::stringstream s;
        s << in.rdbuf();
        vw::Endpoint e;
        e.base = vw::Endpoint::storeUrl(QString::fromStdString("dicomweb+" + orthanc.v["ORTHANC_DICOMWEB"]));
        e.user = QString::fromStdString(orthanc.user);
        e.password = QString::fromStdString(orthanc.password);
        e.caFile = QString::fromStdString(orthanc.v["ORTHANC_CA"]);
        vw::Client manager(e);
        manager.stow({QByteArray::fromStdString(s.str())});
    }
    EXPECT_EQ(request(orthanc, dir.path(), "manager", "/dicom-web/studies/" + base.study + "/series/" + srSeries + "/metadata", "").status,
              200)
        << "the report is on the server";
    a = request(orthanc, dir.path(), "reader1", "/dicom-web/studies/" + base.study + "/series/" + srSeries + "/metadata", token);
    EXPECT_EQ(a.status, 403);
    EXPECT_NE(a.reason.find("SR series is not open"), std::string::npos) << a.reason;
    a = request(orthanc, dir.path(), "reader1", "/dicom-web/studies/" + base.study + "/series?Modality=CT", token);
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.body.find(srSeries), std::string::npos) << "the report's series was listed to the reader";

    // another reader's account with their own token: the same rules, their own folder
    const rq::Session r2 = q.login("reader2", kPassword);
    const std::string token2 = q.issueImageToken(r2, baseFolder);
    EXPECT_EQ(request(orthanc, dir.path(), "reader2", seriesPath + "/metadata", token2).status, 200);
    // an expired token, a revoked token (sign-out), a token that is not one
    ASSERT_EQ(q.revokeImageTokens(r2), 1);
    a = request(orthanc, dir.path(), "reader2", seriesPath + "/metadata", token2);
    EXPECT_EQ(a.status, 403);
    EXPECT_NE(a.reason.find("revoked"), std::string::npos) << a.reason;
    q.db().exec("UPDATE image_tokens SET expires_at = '2020-01-01T00:00:00.000Z' WHERE user_name = 'reader1'");
    a = request(orthanc, dir.path(), "reader1", seriesPath + "/metadata", token);
    EXPECT_EQ(a.status, 403);
    EXPECT_NE(a.reason.find("expired"), std::string::npos) << a.reason;
    a = request(orthanc, dir.path(), "reader1", seriesPath + "/metadata", std::string(64, 'a'));
    EXPECT_EQ(a.status, 403);
    EXPECT_NE(a.reason.find("unknown image token"), std::string::npos) << a.reason;
    // the queue audited each token
    EXPECT_EQ(q.db().query("SELECT COUNT(*) FROM audit WHERE action = 'images.token'")[0][0], "2");
    EXPECT_EQ(q.db().query("SELECT COUNT(*) FROM audit WHERE action = 'refused.fetch images'")[0][0], "1");
    // the gate stopped: nothing passes for a reader again; the manager still works
    gate.stop();
    const std::string fresh = q.issueImageToken(r1, baseFolder);
    EXPECT_EQ(request(orthanc, dir.path(), "reader1", seriesPath + "/metadata", fresh).status, 500);
    EXPECT_EQ(request(orthanc, dir.path(), "manager", seriesPath + "/metadata", "").status, 200);
}
