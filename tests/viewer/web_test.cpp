// The DICOMweb client (viewer/web) against the real Orthanc of the ctest fixture (PostgreSQL
// index, DICOMweb plugin, nginx's TLS with a CA made by orthanc.sh): STOW-RS of de-identified
// images and of a signed TID 1500 report, QIDO-RS, WADO-RS streamed to files (byte-identical),
// the report read back from what the PACS returns; a series decoded while it streams equals
// the local loader's volume voxel for voxel; a certificate from another CA, a wrong
// password and a configuration others may read are refused with a clear message. The multipart
// splitter also gets its body byte by byte.
#include "viewerweb/DicomWeb.h"
#include "viewerweb/StreamLoad.h"
#include "readerqueue/Database.h"
#include "viewerreading/ReportReader.h"
#include "viewercore/Series.h"
#include "../common/Orthanc.h"
#include "../common/Run.h"
#include "../common/TempDir.h"
#include "PhantomCt.h"

#include <QCoreApplication>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace {

QCoreApplication& app() {
    static int argc = 1;
    static char name[] = "viewer_web_tests";
    static char* argv[] = {name, nullptr};
    static QCoreApplication a(argc, argv);
    return a;
}

QByteArray bytesOf(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return QByteArray::fromStdString(s.str());
}

vw::Endpoint endpointOf(testutil::Orthanc& o) {
    vw::Endpoint e;
    e.base = vw::Endpoint::storeUrl(QString::fromStdString("dicomweb+" + o.v["ORTHANC_DICOMWEB"]));
    e.user = QString::fromStdString(o.user);
    e.password = QString::fromStdString(o.password);
    e.caFile = QString::fromStdString(o.v["ORTHANC_CA"]);
    return e;
}

} // namespace

TEST(DicomWebMultipart, PartsAreSplitWhateverTheChunksAndAMalformedBodyIsNamed) {
    const QByteArray body = "preamble\r\n--b0\r\nContent-Type: application/dicom\r\n\r\nFIRST\r\n--b\r\nnot a boundary\r\n--b0\r\n"
                            "Content-Type: application/dicom\r\nContent-Length: 6\r\n\r\nSECOND\r\n--b0--\r\n";
    for (int chunk : {1, 3, 7, 1000}) {
        std::vector<QByteArray> parts;
        vw::MultipartReader r("multipart/related; type=\"application/dicom\"; boundary=\"b0\"",
                              [&](QByteArrayView p) { parts.push_back(p.toByteArray()); });
        for (qsizetype i = 0; i < body.size(); i += chunk) r.feed(body.mid(i, chunk));
        ASSERT_EQ(parts.size(), 2u) << "chunk " << chunk;
        EXPECT_EQ(parts[0], "FIRST\r\n--b\r\nnot a boundary");
        EXPECT_EQ(parts[1], "SECOND");
        EXPECT_TRUE(r.finished());
    }
    EXPECT_THROW(vw::MultipartReader("application/dicom", [](QByteArrayView) {}), vw::WebError);
    EXPECT_THROW(vw::MultipartReader("multipart/related; type=x", [](QByteArrayView) {}), vw::WebError);
    vw::MultipartReader cut("multipart/related; boundary=zz", [](QByteArrayView) {});
    cut.feed("--zz\r\nContent-Type: application/dicom\r\n\r\nhalf a part");
    EXPECT_FALSE(cut.finished());
    EXPECT_THROW(vw::Endpoint::storeUrl("ftp://x/dicom-web"), vw::WebError);
    EXPECT_EQ(vw::Endpoint::storeUrl("dicomweb+https://h:1/dicom-web").toString().toStdString(), "https://h:1/dicom-web");
}

TEST(DicomWeb, ImagesAndASignedReportGoToOrthancAndComeBackIdenticalOverVerifiedTls) {
    testutil::Orthanc orthanc;
    if (!orthanc.load()) GTEST_SKIP() << "RELUTH_ORTHANC_STATE not set: run under ctest (tests/servers/orthanc.sh)";
    app();
    testutil::TempDir dir("dicomweb");
    const testutil::PhantomCt phantom = testutil::phantomCt(dir.path(), 300 + ::getpid() % 1000);
    ASSERT_TRUE(phantom.ok) << phantom.output;
    const vc::Series* ct = &phantom.ct();
    vw::Client client(endpointOf(orthanc));
    // STOW-RS: the series, in two requests
    std::vector<QByteArray> first, second;
    for (std::size_t i = 0; i < ct->slices.size(); ++i) (i % 2 ? second : first).push_back(bytesOf(ct->slices[i].path));
    client.stow(first);
    client.stow(second);
    // QIDO-RS: the study of this patient, its series
    const auto studies = client.qido("studies", {{"PatientID", ct->patientId}});
    ASSERT_EQ(studies.size(), 1u) << studies.dump();
    const std::string study = studies[0]["0020000D"]["Value"][0].get<std::string>();
    const auto series = client.qido("studies/" + study + "/series");
    bool found = false;
    for (const auto& s : series) found = found || s["0020000E"]["Value"][0].get<std::string>() == ct->uid;
    ASSERT_TRUE(found) << series.dump();
    // WADO-RS: streamed to files, each byte-identical to what was stored
    std::size_t callbacks = 0;
    const vw::FetchStats stats = client.fetchSeries({{study, ct->uid, dir.path() / "fetched", {}}}, 2, [&](std::size_t) {
        ++callbacks;
        QCoreApplication::processEvents(); // as a progress dialog does: the parser must not be entered twice
    });
    EXPECT_EQ(stats.instances, ct->slices.size());
    EXPECT_EQ(callbacks, ct->slices.size());
    EXPECT_GT(stats.firstInstanceSeconds, 0);
    std::set<std::string> sent, got;
    for (const auto& s : ct->slices) sent.insert(bytesOf(s.path).toStdString());
    for (const auto& e : fs::directory_iterator(dir.path() / "fetched")) got.insert(bytesOf(e.path()).toStdString());
    EXPECT_TRUE(sent == got) << "WADO-RS returned other bytes than were stored";

    // decoded while it streams (what the workstation shows): every voxel equal to the local
    // loader's reading of the stored files - with the server's instance count (decoded in
    // place), with none or too few said (planes of their own), and with the cache written
    {
        const vc::Geometry g = vc::analyze(*ct);
        ASSERT_TRUE(g.ok) << g.problem;
        const vc::Volume local = vc::load(*ct, g);
        for (std::size_t said : {ct->slices.size(), std::size_t{0}, ct->slices.size() - 3}) {
            std::size_t firsts = 0, lastDone = 0;
            vw::StreamCallbacks cb;
            cb.firstImage = [&](std::size_t series, const vc::SliceHeader& h, const std::int16_t* px) {
                ++firsts;
                EXPECT_EQ(series, 0u);
                EXPECT_EQ(h.rows, ct->slices[0].rows);
                EXPECT_NE(px, nullptr);
            };
            cb.progress = [&](std::size_t done, std::size_t expected) {
                EXPECT_EQ(expected, said);
                lastDone = done;
            };
            const fs::path cache = dir.path() / ("streamed-" + std::to_string(said));
            const vw::StreamedSeries got = vw::streamSeries(client, study, ct->uid, said, said ? cache : fs::path(), cb);
            ASSERT_TRUE(got.volume) << said << ": " << got.geometry.problem;
            EXPECT_EQ(firsts, 1u);
            EXPECT_EQ(lastDone, ct->slices.size());
            EXPECT_EQ(got.series.slices.size(), ct->slices.size());
            EXPECT_EQ(got.volume->geometry.nz, g.nz);
            EXPECT_EQ(got.volume->geometry.origin, g.origin);
            ASSERT_EQ(got.volume->voxels.size(), local.voxels.size());
            EXPECT_TRUE(std::equal(local.voxels.begin(), local.voxels.end(), got.volume->voxels.begin()))
                << "streamed voxels differ from the local store's (instances said: " << said << ")";
            EXPECT_GE(got.firstImageSeconds, 0);
            EXPECT_LE(got.firstImageSeconds, got.seconds);
            if (said) {
                std::size_t files = 0;
                for (const auto& e : fs::recursive_directory_iterator(cache)) files += e.path().extension() == ".dcm";
                EXPECT_EQ(files, ct->slices.size());
                ASSERT_FALSE(got.series.slices.front().path.empty());
                EXPECT_EQ(bytesOf(got.series.slices.front().path).isEmpty(), false);
            }
        }
        // Cancel: stops with the reason, never half a volume
        std::atomic<bool> cancel{true};
        vw::StreamCallbacks cb;
        cb.cancel = &cancel;
        try {
            (void)vw::streamSeries(client, study, ct->uid, ct->slices.size(), {}, cb);
            ADD_FAILURE() << "a cancelled fetch returned";
        } catch (const vw::WebError& e) {
            EXPECT_NE(std::string(e.what()).find("cancelled"), std::string::npos) << e.what();
        }
        // several series at once (the same one twice here: two requests in flight)
        const auto both = vw::streamSeries(client, {{study, ct->uid, ct->slices.size(), {}}, {study, ct->uid, 0, {}}}, {}, 2);
        ASSERT_EQ(both.size(), 2u);
        for (const auto& b : both) {
            ASSERT_TRUE(b.volume);
            EXPECT_TRUE(std::equal(local.voxels.begin(), local.voxels.end(), b.volume->voxels.begin()));
        }
    }

    // a signed report: STOW-RS, found by QIDO as an SR of the study, fetched and read back
    const fs::path sr = fs::path(RELUTH_SOURCE_DIR) / "tests/fuzz/seeds/report/phantom-tid1500.dcm";
    ASSERT_TRUE(fs::exists(sr));
    client.stow({bytesOf(sr)});
    client.stow({bytesOf(sr)}); // a retry of the same report stores it once
    std::string error;
    const auto original = vr::readMeasurementReport(sr, &error);
    ASSERT_TRUE(original) << error;
    const auto srSeries = client.qido("studies/" + original->studyInstanceUid + "/series", {{"Modality", "SR"}});
    ASSERT_EQ(srSeries.size(), 1u) << srSeries.dump();
    const std::string srSeriesUid = srSeries[0]["0020000E"]["Value"][0].get<std::string>();
    const auto srInstances = client.qido("studies/" + original->studyInstanceUid + "/series/" + srSeriesUid + "/instances");
    EXPECT_EQ(srInstances.size(), 1u) << "the report was stored twice";
    client.fetchSeries({{original->studyInstanceUid, srSeriesUid, dir.path() / "sr", {}}});
    const auto back = vr::readMeasurementReport(dir.path() / "sr/0.dcm", &error);
    ASSERT_TRUE(back) << error;
    ASSERT_EQ(back->groups.size(), original->groups.size());
    ASSERT_FALSE(back->groups.empty());
    EXPECT_EQ(back->groups[0].trackingUid, original->groups[0].trackingUid);
    EXPECT_EQ(back->groups[0].measurements[0].polyline, original->groups[0].measurements[0].polyline);
    EXPECT_EQ(back->sopInstanceUid, original->sopInstanceUid);

    // another CA's certificate: refused, saying why
    const fs::path otherCa = dir.path() / "other-ca.pem";
    ASSERT_EQ(testutil::run("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj '/CN=not the site CA' -keyout " +
                            (dir.path() / "k.pem").string() + " -out " + otherCa.string()),
              0);
    vw::Endpoint wrongCa = endpointOf(orthanc);
    wrongCa.caFile = QString::fromStdString(otherCa.string());
    vw::Client untrusting(wrongCa);
    try {
        untrusting.qido("studies");
        ADD_FAILURE() << "a server whose certificate another CA signed was trusted";
    } catch (const vw::WebError& e) {
        EXPECT_NE(std::string(e.what()).find("certificate is not trusted"), std::string::npos) << e.what();
    }
    // a wrong password: refused by the server
    vw::Endpoint wrongPassword = endpointOf(orthanc);
    wrongPassword.password = "not-the-password";
    vw::Client refused(wrongPassword);
    try {
        refused.qido("studies");
        ADD_FAILURE() << "a wrong password was accepted";
    } catch (const vw::WebError& e) {
        EXPECT_NE(std::string(e.what()).find("refused the account (HTTP 401)"), std::string::npos) << e.what();
    }
    // the configuration file holds the password: 0600 or refused
    const fs::path config = dir.path() / "dicomweb.json";
    std::ofstream(config) << nlohmann::json{{"url", "dicomweb+" + orthanc.v["ORTHANC_DICOMWEB"]},
                                            {"user", orthanc.user},
                                            {"password", orthanc.password},
                                            {"ca", orthanc.v["ORTHANC_CA"]}}
                                 .dump();
    fs::permissions(config, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
    EXPECT_THROW(vw::Endpoint::fromConfig(config), vw::WebError);
    fs::permissions(config, fs::perms::owner_read | fs::perms::owner_write);
    vw::Client configured(vw::Endpoint::fromConfig(config));
    EXPECT_FALSE(configured.qido("studies", {{"PatientID", ct->patientId}}).empty());
}

TEST(ReportPush, SignedReportsReachThePacsOnceAndTheAuditTrailNamesThem) {
    testutil::Orthanc orthanc;
    if (!orthanc.load()) GTEST_SKIP() << "RELUTH_ORTHANC_STATE not set: run under ctest (tests/servers/orthanc.sh)";
    testutil::TempDir dir("report-push");
    const std::string bin = std::string(RELUTH_BINARY_DIR) + "/bin/report-push";
    // the outbox: our signed report and a second one (another SOP Instance UID)
    const fs::path outbox = dir.path() / "reports", seed = fs::path(RELUTH_SOURCE_DIR) / "tests/fuzz/seeds/report/phantom-tid1500.dcm";
    fs::create_directories(outbox / "RELUTH-01-001/reader1");
    DcmFileFormat ff;
    ASSERT_TRUE(ff.loadFile(seed.c_str()).good());
    char uid[100];
    // a study and series of their own: the DICOMweb test stores the seed report itself, and the
    // two may run at once against the same server
    ASSERT_TRUE(ff.getDataset()->putAndInsertString(DCM_StudyInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_STUDY_UID_ROOT)).good());
    ASSERT_TRUE(ff.getDataset()->putAndInsertString(DCM_SeriesInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_SERIES_UID_ROOT)).good());
    ASSERT_TRUE(ff.getDataset()->putAndInsertString(DCM_SOPInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT)).good());
    ASSERT_TRUE(ff.getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPInstanceUID, uid).good());
    ASSERT_TRUE(ff.saveFile((outbox / "RELUTH-01-001/reader1/01_BASELINE.dcm").c_str(), EXS_LittleEndianExplicit).good());
    ASSERT_TRUE(ff.getDataset()->putAndInsertString(DCM_SOPInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT)).good());
    ASSERT_TRUE(ff.getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPInstanceUID, uid).good());
    ASSERT_TRUE(ff.saveFile((outbox / "RELUTH-01-001/reader1/02_WEEK_8.dcm").c_str(), EXS_LittleEndianExplicit).good());
    const std::string secondUid = uid;
    const std::string db = "sqlite:" + (dir.path() / "queue.db").string();
    rq::Database::open(db)->migrate();
    auto config = [&](const std::string& url) {
        const fs::path f = dir.path() / "pacs.json";
        std::ofstream(f)
            << nlohmann::json{{"url", url}, {"user", orthanc.user}, {"password", orthanc.password}, {"ca", orthanc.v["ORTHANC_CA"]}}.dump();
        fs::permissions(f, fs::perms::owner_read | fs::perms::owner_write);
        return f.string();
    };
    auto storedEntries = [&] {
        return rq::Database::open(db)->query("SELECT new_value, object FROM audit WHERE action = 'report.stored'");
    };
    std::string out;
    // the PACS unreachable: each report named, nothing recorded as stored
    EXPECT_EQ(testutil::run(bin + " --attempts 1 --reports " + outbox.string() + " --db " + db + " --pacs " +
                                config("dicomweb+https://127.0.0.1:1/dicom-web"),
                            &out),
              1)
        << out;
    EXPECT_NE(out.find("NOT STORED RELUTH-01-001/reader1/01_BASELINE.dcm"), std::string::npos) << out;
    EXPECT_TRUE(storedEntries().empty());
    // reachable: both stored, each in the audit trail with its SOP Instance UID
    const std::string good = config("dicomweb+" + orthanc.v["ORTHANC_DICOMWEB"]);
    ASSERT_EQ(testutil::run(bin + " --reports " + outbox.string() + " --db " + db + " --pacs " + good, &out), 0) << out;
    EXPECT_NE(out.find("stored now: 2\n"), std::string::npos) << out;
    const auto rows = storedEntries();
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_TRUE(rows[0][0].find(" sha256:") != std::string::npos);
    EXPECT_TRUE(rows[0][0] + rows[1][0] != "" && (rows[0][0].rfind(secondUid, 0) == 0 || rows[1][0].rfind(secondUid, 0) == 0));
    std::string verify;
    EXPECT_EQ(testutil::run(std::string(RELUTH_BINARY_DIR) + "/bin/reader-queue audit verify --db " + db, &verify), 0) << verify;
    // again: nothing sent twice; the PACS holds each once
    ASSERT_EQ(testutil::run(bin + " --reports " + outbox.string() + " --db " + db + " --pacs " + good, &out), 0) << out;
    EXPECT_NE(out.find("stored now: 0\nstored before: 2\n"), std::string::npos) << out;
    EXPECT_EQ(storedEntries().size(), 2u);
    const auto found = orthanc.lookup(secondUid);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0]["Type"], "Instance");
    // a configuration others may read is refused before anything is sent
    fs::permissions(good, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
    EXPECT_EQ(testutil::run(bin + " --reports " + outbox.string() + " --db " + db + " --pacs " + good, &out), 2) << out;
    EXPECT_NE(out.find("others may read it"), std::string::npos) << out;
}
