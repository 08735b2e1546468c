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

#include <iostream>
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

} // namespace

TEST(ViewerWebGui, AReaderReadsFromTheTrialsOrthancOnlyWhatTheQueueOpenedAndSignOutEmptiesTheCache) {
    testutil::Orthanc orthanc;
    if (!orthanc.load()) GTEST_SKIP() << "RELUTH_ORTHANC_STATE not set: run under ctest (tests/servers/orthanc.sh)";
    app();
    const TrialQueue tq;
    const fs::path store = phantom().root() / "store";
    testutil::TempDir dir("viewer-web");
    std::string out;
    ASSERT_EQ(testutil::run(kBin + "anonymize-deliver --quiet --store " + store.string() + " --audit " +
                                (dir.path() / "audit.jsonl").string() + " --to " + orthanc.peer(),
                            &out),
              0)
        << out;
    // the reader's own Orthanc account, gated: the gate asks this test's queue
    testutil::Gate gate(orthanc, tq.db, dir.path() / "gate.log");
    const std::string readerPassword = orthanc.passwordOf("reader1");
    ASSERT_FALSE(readerPassword.empty());
    const fs::path config = dir.path() / "pacs.json";
    std::ofstream(config) << nlohmann::json{{"url", "dicomweb+" + orthanc.v["ORTHANC_DICOMWEB"]},
                                            {"user", "reader1"},
                                            {"password", readerPassword},
                                            {"ca", orthanc.v["ORTHANC_CA"]}}
                                 .dump();
    fs::permissions(config, fs::perms::owner_read | fs::perms::owner_write);
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
        EXPECT_GE(arrivedAt, 1u);
        EXPECT_LE(arrivedAt, instances);
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
