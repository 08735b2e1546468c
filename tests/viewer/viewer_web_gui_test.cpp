// The workstation reading from the trial's Orthanc (the orthanc ctest fixture: PostgreSQL index,
// DICOMweb, nginx TLS with the fixture's CA): signed out it lists nothing; a reader signed in
// sees the subjects, opens their worklist's first read and gets its images from the server -
// only the studies the queue opened for them (checked against the queue's own answer and the
// store's files), into a private cache that signing out empties.
#include "GuiFixture.h"
#include "readerqueue/Queue.h"
#include "viewergui/ViewerPane.h"
#include "viewergui/Workstation.h"
#include "../common/Gate.h"
#include "../common/Orthanc.h"

#include <QComboBox>
#include <QStatusBar>
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
    ASSERT_TRUE(w.openFirstHomeItem()) << w.statusBar()->currentMessage().toStdString();
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
        EXPECT_EQ(q.db().query("SELECT COUNT(*) FROM image_tokens WHERE user_name = 'reader1'")[0][0], std::to_string(opened.size()));
    }
    // a configuration others may read is refused, saying why
    fs::permissions(config, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
    vg::Workstation other;
    EXPECT_FALSE(
        other.openWebStore(QString::fromStdString("dicomweb+" + orthanc.v["ORTHANC_DICOMWEB"]), QString::fromStdString(config.string())));
    EXPECT_TRUE(other.statusBar()->currentMessage().contains("others may read it")) << other.statusBar()->currentMessage().toStdString();
}
