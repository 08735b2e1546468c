// The workstation reading from the trial's Orthanc (the orthanc ctest fixture: PostgreSQL index,
// DICOMweb, nginx TLS with the fixture's CA): signed out it lists nothing; a reader signed in
// sees the subjects, opens their worklist's first read and gets its images from the server -
// only the studies the queue opened for them (checked against the queue's own answer and the
// store's files), into a private cache that signing out empties. The fetch dialog shows the
// first image as it arrives and its Cancel stops the fetch.
#include "GuiFixture.h"
#include "readerqueue/Queue.h"
#include "viewergui/ViewerPane.h"
#include "viewergui/Workstation.h"
#include "../../viewer/gui/src/WebStore.h"
#include "../common/Gate.h"
#include "../common/Orthanc.h"

#include <QApplication>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QLabel>
#include <QPushButton>
#include <QStatusBar>
#include <QTimer>
#include <QTreeWidget>

#include <algorithm>
#include <iostream>
#include <map>
#include <set>

using namespace guitest;

namespace {

std::size_t filesUnder(const fs::path& root, std::set<std::string>* names = nullptr) {
    std::size_t n = 0;
    if (!fs::exists(root)) return 0;
    for (const auto& e : fs::recursive_directory_iterator(root))
        if (e.is_regular_file() && e.path().extension() == ".dcm") {
            ++n;
            if (names) names->insert(e.path().lexically_relative(root).string());
        }
    return n;
}

std::uintmax_t bytesUnder(const fs::path& root, const std::string& extension = {}) {
    std::uintmax_t n = 0;
    if (!fs::exists(root)) return 0;
    for (const auto& e : fs::recursive_directory_iterator(root))
        if (e.is_regular_file() && (extension.empty() || e.path().extension() == extension)) n += e.file_size();
    return n;
}

/// The phantom's store delivered to the fixture's Orthanc (C-STORE, the anonymizer's delivery).
void deliver(const fs::path& store, const fs::path& audit, testutil::Orthanc& orthanc) {
    std::string out;
    ASSERT_EQ(testutil::run(kBin + "anonymize-deliver --quiet --store " + store.string() + " --audit " + audit.string() + " --to " +
                                orthanc.peer(),
                            &out),
              0)
        << out;
}

/// The workstation's DICOMweb configuration for one Orthanc account (0600, as it must be).
fs::path pacsConfig(const fs::path& file, testutil::Orthanc& orthanc, const std::string& user, const std::string& password) {
    std::ofstream(file) << nlohmann::json{{"url", "dicomweb+" + orthanc.v["ORTHANC_DICOMWEB"]},
                                          {"user", user},
                                          {"password", password},
                                          {"ca", orthanc.v["ORTHANC_CA"]}}
                               .dump();
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
    return file;
}

} // namespace

TEST(ViewerWebGui, AReaderReadsFromTheTrialsOrthancOnlyWhatTheQueueOpenedAndSignOutEmptiesTheCache) {
    testutil::Orthanc orthanc;
    if (!orthanc.load()) GTEST_SKIP() << "RELUTH_ORTHANC_STATE not set: run under ctest (tests/servers/orthanc.sh)";
    app();
    const TrialQueue tq;
    const fs::path store = phantom().root() / "store";
    testutil::TempDir dir("viewer-web");
    ASSERT_NO_FATAL_FAILURE(deliver(store, dir.path() / "audit.jsonl", orthanc));
    // the reader's own Orthanc account, gated: the gate asks this test's queue
    testutil::Gate gate(orthanc, tq.db, dir.path() / "gate.log");
    const std::string readerPassword = orthanc.passwordOf("reader1");
    ASSERT_FALSE(readerPassword.empty());
    const fs::path config = pacsConfig(dir.path() / "pacs.json", orthanc, "reader1", readerPassword);
    // what the queue opens for reader1: their first read's study folders
    std::vector<std::string> opened;
    {
        rq::Queue q(rq::Database::open(tq.db));
        const rq::Session r1 = q.login("reader1", kPassword);
        const auto visible = q.visibleTimepoints(r1, "RELUTH-03-001");
        ASSERT_EQ(visible.size(), 1u) << "reader1 starts on the baseline";
        opened = visible[0].folders;
    }
    ASSERT_FALSE(opened.empty());
    std::size_t expected = 0, all = filesUnder(store / "RELUTH-03-001");
    for (const auto& f : opened) expected += filesUnder(store / f);
    ASSERT_GT(expected, 10u);
    ASSERT_GT(all, expected) << "the subject has a later timepoint the reader must not get";

    vg::Workstation w;
    w.resize(1400, 900);
    shown(w);
    ASSERT_TRUE(
        w.openWebStore(QString::fromStdString("dicomweb+" + orthanc.v["ORTHANC_DICOMWEB"]), QString::fromStdString(config.string())));
    w.setQueue(QString::fromStdString(tq.db));
    EXPECT_TRUE(w.subjects().isEmpty()) << "signed out, the server's subjects are not listed";
    QString why;
    ASSERT_TRUE(w.signIn(QString::fromStdString(tq.db), "reader1", kPassword, &why)) << why.toStdString();
    EXPECT_TRUE(w.subjects().contains("RELUTH-03-001"));
    // Cancel in the fetch dialog (pressed as soon as it shows): nothing opens, the reader is
    // told so, and opening again fetches again
    {
        QTimer canceller;
        bool clicked = false;
        QObject::connect(&canceller, &QTimer::timeout, [&] {
            for (QWidget* top : QApplication::topLevelWidgets())
                if (top->objectName() == "webFetchProgress" && top->isVisible())
                    if (auto* box = top->findChild<QDialogButtonBox*>(); box && !clicked) {
                        box->button(QDialogButtonBox::Cancel)->click();
                        clicked = true;
                    }
        });
        canceller.start(0);
        EXPECT_FALSE(w.openFirstHomeItem());
        canceller.stop();
        EXPECT_TRUE(clicked) << "the fetch dialog was never shown";
        EXPECT_TRUE(w.statusBar()->currentMessage().contains("cancelled")) << w.statusBar()->currentMessage().toStdString();
        EXPECT_FALSE(w.current()->showsImage());
    }
    // the dialog as the reader sees it once the first image is in (docs/images/web-fetch-preview.png)
    QTimer shooter;
    bool shot = false;
    QObject::connect(&shooter, &QTimer::timeout, [&] {
        for (QWidget* top : QApplication::topLevelWidgets())
            if (top->objectName() == "webFetchProgress" && top->isVisible() && !shot)
                if (auto* preview = top->findChild<QLabel*>("webFetchPreview"); preview && !preview->pixmap().isNull()) {
                    screenshot(*top, "web-fetch-preview.png");
                    shot = true;
                }
    });
    shooter.start(0);
    ASSERT_TRUE(w.openFirstHomeItem()) << w.statusBar()->currentMessage().toStdString();
    shooter.stop();
    const bool loaded = waitFor([&] { return w.idle() && w.current()->view()->complete(); });
    if (!loaded) {
        screenshot(w, "web-store-not-loaded.png");
        for (const auto& e : fs::recursive_directory_iterator(w.webCache()))
            if (e.is_directory()) std::cerr << e.path() << ": " << filesUnder(e.path()) << " files\n";
        for (const auto& e : fs::recursive_directory_iterator(store / "RELUTH-03-001"))
            if (e.is_directory()) std::cerr << e.path() << ": " << filesUnder(e.path()) << " files\n";
    }
    if (!loaded) {
        std::ifstream log(dir.path() / "gate.log");
        std::cerr << "gate log:\n" << log.rdbuf();
    }
    ASSERT_TRUE(loaded) << w.statusBar()->currentMessage().toStdString() << " idle " << w.idle() << " series "
                        << w.current()->seriesPicker()->count();
    screenshot(w, "web-store-reader.png");
    EXPECT_GT(w.current()->seriesPicker()->count(), 0);
    // the first image was on screen in the fetch dialog before the fetch ended; it is one of the
    // study's images (its size, not a blank), and the pane shows the volume decoded while it
    // streamed in (not read again from the cache files)
    {
        double firstAt = -1;
        std::size_t arrivedAt = 0, instances = 0;
        const QImage preview = w.webFetchPreview(&firstAt, &arrivedAt, &instances);
        ASSERT_FALSE(preview.isNull()) << "the fetch dialog never showed an image";
        vc::SliceHeader h;
        fs::path any;
        for (const auto& e : fs::recursive_directory_iterator(store / opened.front()))
            if (e.path().extension() == ".dcm") any = e.path();
        ASSERT_TRUE(vc::readHeaderFast(any, h)) << any;
        EXPECT_EQ(preview.width(), h.columns);
        EXPECT_EQ(preview.height(), h.rows);
        std::set<int> greys;
        for (int y = 0; y < preview.height(); y += 4)
            for (int x = 0; x < preview.width(); x += 4) greys.insert(qGray(preview.pixel(x, y)));
        EXPECT_GT(greys.size(), 2u) << "the preview is a blank";
        EXPECT_GE(firstAt, 0.0);
        EXPECT_LE(arrivedAt, instances); // often 0: the first instance is asked for on its own, beside the series
        EXPECT_EQ(instances, expected);
        EXPECT_TRUE(shot) << "the dialog was not seen with its first image";
        EXPECT_TRUE(w.current()->volumeFromMemory()) << "the volume was read again from the cache files";
        std::cerr << "first image after " << firstAt << " s, with " << arrivedAt << " of " << instances << " instances in\n";
    }
    // only the opened studies came from the server: file for file
    const fs::path cache = w.webCache();
    ASSERT_FALSE(cache.empty());
    std::size_t cached = 0;
    for (const auto& f : opened) cached += filesUnder(cache / f);
    EXPECT_EQ(cached, expected);
    EXPECT_EQ(filesUnder(cache), expected) << "the cache holds studies the queue did not open";
    EXPECT_EQ((fs::status(cache).permissions() & (fs::perms::group_all | fs::perms::others_all)), fs::perms::none);
    // signing out empties the cache
    w.signOut();
    EXPECT_EQ(filesUnder(cache), 0u);
    EXPECT_EQ(filesUnder(w.webCache()), 0u);
    EXPECT_TRUE(w.subjects().isEmpty());
    {
        rq::Queue q(rq::Database::open(tq.db));
        EXPECT_EQ(q.db().query("SELECT COUNT(*) FROM image_tokens WHERE user_name = 'reader1' AND revoked_at IS NULL")[0][0], "0")
            << "signing out revokes the session's image tokens";
        // one more: the study whose fetch was cancelled got its token too
        EXPECT_EQ(q.db().query("SELECT COUNT(*) FROM image_tokens WHERE user_name = 'reader1'")[0][0], std::to_string(opened.size() + 1));
    }
    // a configuration others may read is refused, saying why
    fs::permissions(config, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
    vg::Workstation other;
    EXPECT_FALSE(
        other.openWebStore(QString::fromStdString("dicomweb+" + orthanc.v["ORTHANC_DICOMWEB"]), QString::fromStdString(config.string())));
    EXPECT_TRUE(other.statusBar()->currentMessage().contains("others may read it")) << other.statusBar()->currentMessage().toStdString();
}

// The session cache is bounded: beyond its disk budget the study folder used least recently goes
// (files and its volume in memory), never the study just fetched nor those of the subject on
// screen; a study that went is fetched again when opened again.
TEST(ViewerWebGui, TheSessionCacheKeepsToItsBudgetDroppingTheStudyUsedLeastRecently) {
    testutil::Orthanc orthanc;
    if (!orthanc.load()) GTEST_SKIP() << "RELUTH_ORTHANC_STATE not set: run under ctest (tests/servers/orthanc.sh)";
    app();
    const fs::path store = phantom().root() / "store";
    testutil::TempDir dir("viewer-web-budget");
    ASSERT_NO_FATAL_FAILURE(deliver(store, dir.path() / "audit.jsonl", orthanc));
    // the service account (not gated: no token needed for this test of the cache itself)
    const fs::path config = pacsConfig(dir.path() / "pacs.json", orthanc, orthanc.user, orthanc.password);
    std::vector<std::string> folders;
    std::map<std::string, std::uintmax_t> bytes;
    for (const auto& e : fs::directory_iterator(store / "RELUTH-03-001"))
        if (e.is_directory()) {
            const std::string f = "RELUTH-03-001/" + e.path().filename().string();
            folders.push_back(f);
            for (const auto& x : fs::recursive_directory_iterator(e.path()))
                if (x.is_regular_file()) bytes[f] += x.file_size();
        }
    std::sort(folders.begin(), folders.end());
    ASSERT_EQ(folders.size(), 2u);
    const std::string a = folders[0], b = folders[1];
    ASSERT_GT(bytes[a], 0u);
    ASSERT_GT(bytes[b], 0u);
    // a series of `a`, to ask the store for its volume in memory
    const vc::Scan scanA = vc::scanFolder(store / a);
    ASSERT_FALSE(scanA.series.empty());
    const vc::Series& seriesA = scanA.series.front();
    const vc::Geometry geometryA = vc::analyze(seriesA);
    ASSERT_TRUE(geometryA.ok) << geometryA.problem;

    vg::WebStore web(QString::fromStdString("dicomweb+" + orthanc.v["ORTHANC_DICOMWEB"]), vw::Endpoint::fromConfig(config));
    const std::uintmax_t budget = bytes[a] + bytes[b] - 1; // room for one of the two, not both
    web.setDiskBudget(budget);
    web.fetch(a, "", nullptr);
    EXPECT_TRUE(web.cached(a));
    EXPECT_EQ(web.cachedBytes(), bytesUnder(web.cacheFolder() / a)) << "the cache counts other bytes than it holds";
    EXPECT_EQ(bytesUnder(web.cacheFolder() / a, ".dcm"), bytes[a]) << "the cache holds other images than the study's";
    EXPECT_NE(web.volume(seriesA, geometryA), nullptr) << "the streamed volume is held in memory";
    web.fetch(b, "", nullptr);
    EXPECT_TRUE(web.cached(b));
    EXPECT_FALSE(web.cached(a)) << "over its budget the cache kept the study used least recently";
    EXPECT_FALSE(fs::exists(web.cacheFolder() / a)) << "its files are still on disk";
    EXPECT_EQ(web.volume(seriesA, geometryA), nullptr) << "its volume is still in memory";
    EXPECT_LE(web.cachedBytes(), budget);
    // the subject on screen is pinned: opening `a` again fetches it and keeps `b`, over budget
    web.pin({a, b});
    web.fetch(a, "", nullptr);
    EXPECT_TRUE(web.cached(a));
    EXPECT_TRUE(web.cached(b)) << "a study of the subject on screen was dropped";
    EXPECT_EQ(web.cachedBytes(), bytesUnder(web.cacheFolder() / a) + bytesUnder(web.cacheFolder() / b));
    EXPECT_GT(web.cachedBytes(), budget);
    // unpinned, opening a study that is in the cache fetches nothing and drops nothing
    web.pin({});
    web.fetch(a, "", nullptr); // in the cache: used again, nothing fetched
    EXPECT_TRUE(web.cached(a));
    EXPECT_TRUE(web.cached(b)) << "nothing was fetched, nothing should have been dropped";
    web.clear();
    EXPECT_EQ(web.cachedBytes(), 0u);
}
