// The data manager's screen (issue 14) under a real X server: the quarantined files with their
// reasons and a preview; a release through its dialog (reason required, password again) puts
// the file into the store through the whole anonymizer; a discard deletes it; Cancel changes
// nothing; readers never see the screen. And a CT whose only problem was its text ("Lutathera
// C3", "TAP portal post-therapy") is delivered and opens in the workstation.
#include "GuiFixture.h"

#include "viewergui/Workstation.h"

#include <QAction>
#include <QComboBox>
#include <QDialog>
#include <QDockWidget>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTimer>
#include <QTreeWidget>

using namespace guitest;

namespace {

std::size_t filesIn(const fs::path& dir) {
    std::size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir)) n += e.is_regular_file() && e.path().extension() != ".json" ? 1 : 0;
    return n;
}

/// Answers the decision dialog: first `attempts` (reason, password) pairs in turn, or Cancel.
void answerDecision(std::vector<std::pair<QString, QString>> attempts, bool cancel, QStringList* errors) {
    auto step = std::make_shared<std::function<void()>>();
    auto left = std::make_shared<std::vector<std::pair<QString, QString>>>(std::move(attempts));
    *step = [=] {
        auto* dialog = qobject_cast<QDialog*>(QApplication::activeModalWidget());
        if (!dialog || (dialog->objectName() != "releaseDialog" && dialog->objectName() != "discardDialog")) {
            QTimer::singleShot(20, *step);
            return;
        }
        if (errors && !dialog->findChild<QLabel*>("decisionError")->text().isEmpty())
            *errors << dialog->findChild<QLabel*>("decisionError")->text();
        if (cancel || left->empty()) {
            dialog->reject();
            return;
        }
        auto [reason, password] = left->front();
        left->erase(left->begin());
        auto* r = dialog->findChild<QLineEdit*>("decisionReason");
        auto* p = dialog->findChild<QLineEdit*>("decisionPassword");
        r->clear();
        QTest::keyClicks(r, reason);
        QTest::keyClicks(p, password);
        QTest::keyClick(p, Qt::Key_Return);
        if (dialog->isVisible()) QTimer::singleShot(20, *step);
    };
    QTimer::singleShot(0, *step);
}

} // namespace

TEST(ViewerQuarantineGui, TheDataManagerReleasesAndDiscardsWithAReasonAndReadersNeverSeeIt) {
    app();
    const TrialQueue tq;
    std::string out;
    ASSERT_EQ(testutil::run(tq.cli + "--user admin users add dm data_manager", &out), 0) << out;
    // a copy of the phantom's store and quarantine: the decisions change them
    testutil::TempDir copy("viewer-quarantine");
    for (const char* name : {"store", "quarantine", "enrolment.csv", "store.key.json"})
        fs::copy(phantom().root() / name, copy.path() / name, fs::copy_options::recursive);
    const fs::path store = copy.path() / "store", quarantine = copy.path() / "quarantine";
    // and a file nobody can make safe, quarantined by the anonymizer itself: not DICOM
    fs::create_directories(copy.path() / "drop");
    std::ofstream(copy.path() / "drop" / "notes.txt") << "scan request, not an image\n";
    ASSERT_EQ(testutil::run(kBin + "anonymize --in " + (copy.path() / "drop").string() + " --out " + store.string() + " --quarantine " +
                                quarantine.string() + " --enrolment " + (copy.path() / "enrolment.csv").string() + " --key " +
                                (copy.path() / "store.key.json").string(),
                            &out),
              0)
        << out;
    vg::Workstation w;
    w.resize(1700, 950);
    shown(w);
    w.openStore(QString::fromStdString(store.string()));
    w.setQuarantineFolder(QString::fromStdString(quarantine.string()));

    // a reader: no quarantine, no decision panel
    QString why;
    ASSERT_TRUE(w.signIn(QString::fromStdString(tq.db), "reader1", kPassword, &why)) << why.toStdString();
    EXPECT_TRUE(w.quarantinedFiles().isEmpty());
    QDockWidget* panel = w.findChild<QDockWidget*>("quarantineDecision");
    EXPECT_TRUE(!panel || !panel->isVisible());

    ASSERT_TRUE(w.signIn(QString::fromStdString(tq.db), "dm", kPassword, &why)) << why.toStdString();
    const QStringList files = w.quarantinedFiles();
    const std::size_t quarantined = filesIn(quarantine), stored = filesIn(store);
    ASSERT_GE(files.size(), 3) << "the phantom's NM and burned-in capture, and the text file";
    EXPECT_EQ(static_cast<std::size_t>(files.size()), quarantined);
    EXPECT_EQ(w.homeItems().size(), files.size());
    // the burned-in capture: its reason shown, releasable
    QString capture, corrupt;
    for (const QString& f : files) {
        ASSERT_TRUE(w.selectQuarantined(f));
        const QString details = w.findChild<QLabel*>("quarantineDetails")->text();
        if (details.contains("burned-in") || details.contains("secondary-capture")) capture = f;
        if (details.contains("corrupt") || details.contains("not-dicom")) corrupt = f;
    }
    ASSERT_FALSE(capture.isEmpty());
    ASSERT_FALSE(corrupt.isEmpty());
    ASSERT_TRUE(w.selectQuarantined(corrupt));
    EXPECT_FALSE(w.findChild<QPushButton*>("releaseQuarantined")->isEnabled()) << "a corrupt file cannot be made safe";
    ASSERT_TRUE(w.selectQuarantined(capture));
    EXPECT_TRUE(w.findChild<QPushButton*>("releaseQuarantined")->isEnabled());
    // the warning about pixels is said once, however many pixel rules held the file; nothing of a
    // subject stands beside the file (found driving the screen by hand)
    EXPECT_EQ(w.findChild<QLabel*>("quarantineDetails")->text().count("The pixels are copied as they are"), 1);
    EXPECT_FALSE(w.prior()->isVisible());
    ASSERT_TRUE(waitFor([&] { return w.idle(); }));
    screenshot(w, "data-manager.png");

    // Cancel changes nothing
    answerDecision({}, true, nullptr);
    EXPECT_FALSE(w.askDecideQuarantined(true));
    EXPECT_EQ(filesIn(quarantine), quarantined);
    // no reason, then a wrong password, are refused in the dialog; then the release goes through
    QStringList errors;
    answerDecision({{"", kPassword}, {"needed by the readers", "wrong-password"}, {"screen capture without identifying text", kPassword}},
                   false, &errors);
    ASSERT_TRUE(w.askDecideQuarantined(true));
    ASSERT_EQ(errors.size(), 2) << errors.join(" | ").toStdString();
    EXPECT_TRUE(errors[0].contains("reason")) << errors[0].toStdString();
    EXPECT_EQ(filesIn(quarantine), quarantined - 1);
    EXPECT_EQ(filesIn(store), stored + 1);
    EXPECT_FALSE(w.quarantinedFiles().contains(capture));
    // a discard through the dialog
    ASSERT_TRUE(w.selectQuarantined(corrupt));
    answerDecision({{"unreadable file, the site re-sent it", kPassword}}, false, nullptr);
    ASSERT_TRUE(w.askDecideQuarantined(false));
    EXPECT_EQ(filesIn(quarantine), quarantined - 2);
    // both decisions in the audit chain, which verifies
    ASSERT_EQ(testutil::run(tq.cli + "audit verify", &out), 0) << out;
}

TEST(ViewerQuarantineGui, ACtWithArmWordsOnlyInItsTextIsDeliveredAndOpens) {
    app();
    testutil::TempDir dir("viewer-armtext");
    std::string out;
    const std::string script = "/usr/bin/python3 " + std::string(RELUTH_SOURCE_DIR) + "/tests/anonymizer/adversarial_corpus.py";
    ASSERT_EQ(testutil::run(script + " generate --out " + (dir.path() / "c").string() + " 2>/dev/null", &out), 0) << out;
    ASSERT_EQ(testutil::run(kBin + "anonymize --in '" + (dir.path() / "c/incoming").string() + "' --out " +
                                (dir.path() / "store").string() + " --quarantine " + (dir.path() / "q").string() + " --enrolment " +
                                (dir.path() / "c/enrolment.csv").string(),
                            &out),
              0)
        << out;
    vg::Workstation w;
    w.resize(1400, 850);
    shown(w);
    w.openStore(QString::fromStdString((dir.path() / "store").string()));
    ASSERT_EQ(w.subjects().size(), 3);
    // the third visit of the first subject holds the CT that was described "Lutathera C3" /
    // "TAP portal post-therapy": it is there (series 7) and shows as an image
    ASSERT_TRUE(w.openSubject(w.subjects().front(), 2));
    ASSERT_TRUE(waitFor([&] { return w.idle(); }));
    QComboBox* series = w.current()->seriesPicker();
    int armText = -1;
    for (int i = 0; i < series->count(); ++i)
        if (series->itemText(i).startsWith("Series 7 ")) armText = i;
    ASSERT_GE(armText, 0) << "the arm-text CT was not delivered";
    series->setCurrentIndex(armText);
    ASSERT_TRUE(waitFor([&] { return w.idle() && w.current()->view()->complete(); }));
    EXPECT_TRUE(w.current()->showsImage()) << w.current()->message().toStdString();
    EXPECT_EQ(w.current()->view()->sliceCount(), 4);
    const QString overlay = w.current()->view()->overlayText().toLower();
    for (const char* arm : {"lutath", "post-therapy", "c3"}) EXPECT_FALSE(overlay.contains(arm)) << overlay.toStdString();
}
