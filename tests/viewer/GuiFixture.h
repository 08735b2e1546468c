// What the workstation's GUI test files share: one QApplication, one phantom trial (1 subject,
// 2 timepoints, 48 slices of 5 mm) de-identified into a store, a reading queue set up for it,
// waiting for the event loop, and where screenshots go. Inline: one phantom per test process.
#pragma once

#include "viewergui/SliceView.h"
#include "../common/Run.h"
#include "../common/TempDir.h"

#include <QApplication>
#include <QPixmap>
#include <QScreen>
#include <QElapsedTimer>
#include <QTest>
#include <QWidget>
#include <QWindow>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

namespace guitest {

namespace fs = std::filesystem;

inline const std::string kBin = std::string(RELUTH_BINARY_DIR) + "/bin/";

inline QApplication& app() {
    static int argc = 1;
    static char name[] = "viewer_gui_tests";
    static char* argv[] = {name, nullptr};
    static QApplication* a = [] {
        vg::prepareOpenGL();
        return new QApplication(argc, argv);
    }();
    return *a;
}

struct Phantom {
    explicit Phantom(const std::string& name = "viewer-gui") : dir(name) {}
    testutil::TempDir dir; ///< one name per trial: a second trial must not empty the first's folder
    nlohmann::json truth;
    fs::path root() const { return dir.path() / "trial"; }
};

/// Generates a phantom trial with these options and de-identifies it into root()/store.
inline void makePhantom(Phantom& ph, const std::string& options) {
    std::string out;
    const int rc = testutil::run(kBin + "phantom --out " + ph.root().string() + " " + options, &out);
    ASSERT_EQ(rc, 0) << out;
    std::ifstream in(ph.root() / "ground-truth.json");
    ph.truth = nlohmann::json::parse(in);
    // the store the workstation reads: de-identified by our anonymizer
    const fs::path trial = ph.root();
    const int rc2 = testutil::run(kBin + "anonymize --in " + (trial / "incoming").string() + " --out " + (trial / "store").string() +
                                      " --quarantine " + (trial / "quarantine").string() + " --enrolment " +
                                      (trial / "enrolment.csv").string() + " --charter " + RELUTH_SOURCE_DIR +
                                      "/assets/charters/reluth.json",
                                  &out);
    ASSERT_EQ(rc2, 0) << out;
    ASSERT_TRUE(fs::is_directory(trial / "store") && !fs::is_empty(trial / "store")) << "anonymize left no store: " << out;
}

inline const std::string kPhantomOptions = "--seed 4 --subjects 1 --timepoints 2 --slices 48 --thickness 5";

/// 1 subject (a partial response), 2 timepoints, 48 slices of 5 mm.
inline const Phantom& phantom() {
    static Phantom ph;
    static const bool made = [] {
        makePhantom(ph, kPhantomOptions);
        return true;
    }();
    (void)made;
    return ph;
}

/// The same subject on a noisy, low-dose CT (noise 30 HU instead of 6) with the hard lesions
/// added: among them NT04, a liver lesion 17 HU under the liver that this noise hides.
inline const Phantom& noisyPhantom() {
    static Phantom ph("viewer-gui-noisy");
    static const bool made = [] {
        makePhantom(ph, kPhantomOptions + " --hard-lesions --ct-noise 30");
        return true;
    }();
    (void)made;
    return ph;
}

/// The phantom subject's reading ID as the anonymizer's key records it (read from the key file,
/// not through the queue or the workstation); fails the test when there is none.
inline std::string readingIdOf(const std::string& pseudonym) {
    std::ifstream in(phantom().root() / "store.key.json");
    const nlohmann::json key = nlohmann::json::parse(in);
    for (const auto& [original, s] : key["subjects"].items())
        if (s.value("pseudonym", "") == pseudonym) {
            const std::string id = s.value("reading_id", "");
            EXPECT_FALSE(id.empty()) << pseudonym << " has no reading ID in the key";
            return id;
        }
    ADD_FAILURE() << pseudonym << " is not in the key";
    return "no reading ID";
}

inline bool waitFor(const std::function<bool()>& done, int ms = 20000) {
    QElapsedTimer t;
    t.start();
    while (!done() && t.elapsed() < ms) QApplication::processEvents(QEventLoop::AllEvents, 20);
    return done();
}

inline void shown(QWidget& w) {
    w.show();
    ASSERT_TRUE(waitFor([&] { return w.windowHandle() && w.windowHandle()->isExposed(); }));
    // the active window gets the keyboard shortcuts (Xvfb has no window manager to activate it)
    w.activateWindow();
    EXPECT_TRUE(QTest::qWaitForWindowActive(&w));
    for (int i = 0; i < 10; ++i) QApplication::processEvents(QEventLoop::AllEvents, 10);
}

inline fs::path shotDir() {
    static testutil::TempDir dir("viewer-shots");
    if (const char* keep = std::getenv("RELUTH_VIEWER_SHOTS")) {
        fs::create_directories(keep);
        return keep;
    }
    return dir.path();
}

/// A reading queue for the phantom's store, set up with the manager's tool as the demo does:
/// users admin, manager, reader1, reader2, adjudicator (password kPassword), the store
/// imported, randomization dates loaded, readers assigned, every timepoint accepted at QC.
/// What the screen shows of a window (the X server's pixels: the OpenGL views included, which
/// QWidget::grab() leaves out), saved as shotDir()/name.
inline void screenshot(QWidget& w, const std::string& name) {
    for (int i = 0; i < 20; ++i) QApplication::processEvents(QEventLoop::AllEvents, 10);
    QTest::qWait(100);
    w.screen()->grabWindow(w.winId()).save(QString::fromStdString((shotDir() / name).string()));
}

inline const char* const kPassword = "reading-test-1";
/// A folder name of its own for each object of a process (TempDir adds the process id only):
/// two trial queues alive at once in one test must not share, and so empty, one folder.
inline std::string ownName(const std::string& base) {
    static int n = 0;
    return base + "-" + std::to_string(n++);
}

struct TrialQueue {
    testutil::TempDir dir{ownName("viewer-queue")};
    std::string db;
    std::string cli;
    /// url: the queue's database (empty: a new SQLite file); ph: the trial whose store it reads
    explicit TrialQueue(const std::string& url = {}, const Phantom& ph = phantom()) {
        db = url.empty() ? "sqlite:" + (dir.path() / "queue.db").string() : url;
        const fs::path trial = ph.root();
        {
            std::ofstream subj(dir.path() / "SUBJ.csv");
            subj << "STUDYID,USUBJID,RANDDT\n";
            for (const auto& s : ph.truth["subjects"])
                subj << "RELUTH," << s["pseudonym"].get<std::string>() << "," << s["randomization_date"].get<std::string>() << "\n";
        }
        cli = std::string("RELUTH_QUEUE_PASSWORD=") + kPassword + " RELUTH_QUEUE_NEW_PASSWORD=" + kPassword + " " + kBin +
              "reader-queue --db '" + db + "' ";
        std::string out, imported;
        for (const std::string& c :
             {std::string("init --charter ") + RELUTH_SOURCE_DIR + "/assets/charters/reluth.json --admin admin",
              std::string("--user admin users add manager manager"), std::string("--user admin users add reader1 reader"),
              std::string("--user admin users add reader2 reader"), std::string("--user admin users add adjudicator adjudicator"),
              "--user manager import " + (trial / "store").string(), "--user manager subjects " + (dir.path() / "SUBJ.csv").string(),
              std::string("--user manager assign"), std::string("--user admin users add reader3 reader"), // after assignment: reads nothing
              std::string("--user manager qc RELUTH-03-001 1 accept"), std::string("--user manager qc RELUTH-03-001 2 accept")})
        {
            const int rc = testutil::run(cli + c, &out);
            if (c.find(" import ") != std::string::npos) imported = out;
            if (rc == 0) continue;
            // what the import said and what the store holds, to tell a set-up failure from the test's
            std::string listing;
            testutil::run("find '" + (trial / "store").string() + "' -maxdepth 3 | head -20; ls '" + (trial / "quarantine").string() +
                              "' | head -5",
                          &listing);
            ADD_FAILURE() << c << ": exit " << rc << ": " << out << "\nthe import said: " << imported << "\nthe store: " << listing;
        }
    }
};

} // namespace guitest
