// reluth-workstation: the central review workstation.
//   reluth-workstation [--store DIR | --folder DIR] [--subject PSEUDONYM] [--timepoint N]
//                      [--plane axial|coronal|sagittal] [--baseline] [--series N] [--preset 1-5]
//                      [--slice-position MM] [--size WxH] [--screenshot FILE.png]
// --store opens the de-identified store (one folder per subject; default: demo-trial/store
// when it exists); --folder any folder of DICOM files. --screenshot waits until the images
// are loaded, saves the window to FILE and exits (documentation, checks under Xvfb).
#include "viewergui/SliceView.h"
#include "viewergui/Workstation.h"

#include <QApplication>
#include <QComboBox>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QPixmap>
#include <QScreen>
#include <QStatusBar>
#include <QTimer>

#include <cstdio>

namespace {
void describe(QCommandLineParser& cli) {
    cli.setApplicationDescription("ReLUTH central review workstation");
    cli.addHelpOption();
    cli.addOption({"store",
                   "De-identified study store: a folder (one per subject), or the trial's DICOMweb server "
                   "dicomweb+https://HOST/dicom-web (with --pacs-config).",
                   "DIR|URL"});
    cli.addOption({"pacs-config",
                   "For a DICOMweb store: a 0600 JSON file with its user, password and CA "
                   "(default $RELUTH_DICOMWEB_CONFIG).",
                   "FILE"});
    cli.addOption({"folder", "Any folder of DICOM files.", "DIR"});
    cli.addOption({"subject", "Subject (pseudonym) to open.", "PSEUDONYM"});
    cli.addOption({"timepoint", "Timepoint to show as current (1 = baseline; default the last).", "N"});
    cli.addOption({"plane", "axial, coronal or sagittal.", "PLANE"});
    cli.addOption({"baseline", "Compare with the baseline instead of the prior timepoint."});
    cli.addOption({"preset", "Window preset 1-5 (soft tissue, liver, lung, bone, brain).", "N"});
    cli.addOption({"series", "Show this series of the timepoint on both sides (1 = the first in the picker).", "N"});
    cli.addOption({"slice-position", "Scroll both sides to this slice position (mm).", "MM"});
    cli.addOption({"screenshot", "Save the window once loaded to this PNG and exit.", "FILE"});
    cli.addOption({"size", "Window size, WIDTHxHEIGHT.", "WxH"});
    cli.addOption({"db", "Reading queue to sign in to (sqlite:FILE or postgresql://...); asks for the user and password.", "URL"});
    cli.addOption({"user", "Sign in as this user (password from RELUTH_QUEUE_PASSWORD, else asked).", "NAME"});
    cli.addOption({"sign-in-hint", "A line the sign-in dialog shows (the demo's accounts).", "TEXT"});
}
} // namespace

int main(int argc, char** argv) {
    // --help and --version need no display: answered before the GUI application exists
    for (int i = 1; i < argc; ++i) {
        const QByteArray a(argv[i]);
        if (a == "-h" || a == "--help" || a == "--help-all" || a == "-?" || a == "-v" || a == "--version") {
            QCoreApplication core(argc, argv);
            QCoreApplication::setApplicationName("reluth-workstation");
            QCommandLineParser cli;
            describe(cli);
            cli.process(core); // prints and exits
            return 0;
        }
    }
    vg::prepareOpenGL();
    QApplication app(argc, argv);
    QApplication::setApplicationName("reluth-workstation");
    QCommandLineParser cli;
    describe(cli);
    cli.process(app);

    vg::Workstation w;
    if (cli.isSet("size")) {
        const QStringList wh = cli.value("size").split('x');
        if (wh.size() == 2) w.resize(wh[0].toInt(), wh[1].toInt());
    }
    QString store = cli.value("store");
    if (store.isEmpty() && !cli.isSet("folder") && QDir("demo-trial/store").exists()) store = "demo-trial/store";
    const bool webStore = store.startsWith("dicomweb+");
    if (cli.isSet("folder"))
        w.openFolder(cli.value("folder"));
    else if (webStore) {
        QString config = cli.value("pacs-config");
        if (config.isEmpty()) config = qEnvironmentVariable("RELUTH_DICOMWEB_CONFIG");
        if (config.isEmpty()) {
            std::fprintf(stderr, "reluth-workstation: a DICOMweb store needs --pacs-config FILE (its account and CA)\n");
            return 2;
        }
        if (!w.openWebStore(store, config)) {
            std::fprintf(stderr, "reluth-workstation: %s\n", qPrintable(w.statusBar()->currentMessage()));
            return 2;
        }
    } else if (!store.isEmpty()) {
        if (!QDir(store).exists()) {
            std::fprintf(stderr, "reluth-workstation: the store %s does not exist\n", qPrintable(store));
            return 2;
        }
        w.openStore(store);
    }
    w.setSignInHint(cli.value("sign-in-hint"));
    // a trial's store has its reading queue beside it (the demo's layout): the workstation then
    // shows nothing of the trial until someone signs in
    QString db = cli.value("db");
    if (db.isEmpty() && !store.isEmpty() && !webStore && QFileInfo::exists(QDir(store).absoluteFilePath("../queue.db")))
        db = "sqlite:" + QDir::cleanPath(QDir(store).absoluteFilePath("../queue.db"));
    if (webStore && db.isEmpty()) {
        std::fprintf(stderr, "reluth-workstation: a DICOMweb store is a trial's: give its reading queue (--db URL)\n");
        return 2;
    }
    if (!db.isEmpty()) {
        w.setQueue(db);
        const QString user = cli.value("user");
        const QByteArray password = qgetenv("RELUTH_QUEUE_PASSWORD");
        QString why;
        if (!user.isEmpty() && !password.isEmpty()) {
            if (!w.signIn(db, user, QString::fromUtf8(password), &why)) {
                std::fprintf(stderr, "reluth-workstation: %s\n", qPrintable(why));
                return 2;
            }
        } else if (!w.askSignIn(db)) {
            return 1; // cancelled
        }
    }
    if (cli.isSet("baseline")) w.setCompareWithBaseline(true);
    QString subject = cli.value("subject");
    // a reader starts on their next read, an adjudicator on the first adjudication, a manager on
    // the dashboard; without a role, the first subject's latest timepoint
    const QString role = w.signedInRole();
    const bool home = subject.isEmpty() && (role == "reader" || role == "adjudicator") && w.openFirstHomeItem();
    if (subject.isEmpty() && !home && role != "manager" && !w.subjects().isEmpty() && !cli.isSet("folder")) subject = w.subjects().front();
    if (!subject.isEmpty() && !w.openSubject(subject, cli.isSet("timepoint") ? cli.value("timepoint").toInt() - 1 : -1)) {
        std::fprintf(stderr, "reluth-workstation: no images for subject %s\n", qPrintable(subject));
        if (cli.isSet("screenshot")) return 2;
    }
    // a reading room's screen is the workstation's: maximized unless a size is asked for
    if (cli.isSet("size"))
        w.show();
    else
        w.showMaximized();

    // options that act once the images are in
    const QString plane = cli.value("plane");
    const int preset = cli.value("preset").toInt();
    const int seriesIndex = cli.value("series").toInt();
    bool seriesChosen = seriesIndex <= 0;
    const bool hasPosition = cli.isSet("slice-position");
    const double position = cli.value("slice-position").toDouble();
    const QString screenshot = cli.value("screenshot");
    QElapsedTimer clock;
    clock.start();
    auto* poll = new QTimer(&w);
    bool applied = false;
    QObject::connect(poll, &QTimer::timeout, &w, [&] {
        if (!w.idle() && clock.elapsed() < 60000) return;
        if (!seriesChosen) { // the pickers, as a user would
            seriesChosen = true;
            for (vg::ViewerPane* pane : {w.prior(), w.current()})
                if (seriesIndex - 1 < pane->seriesPicker()->count()) pane->seriesPicker()->setCurrentIndex(seriesIndex - 1);
            return;
        }
        if (!applied) {
            applied = true;
            if (plane == "coronal")
                w.setPlane(vc::Plane::Coronal);
            else if (plane == "sagittal")
                w.setPlane(vc::Plane::Sagittal);
            if (preset > 0) w.applyPreset(preset - 1);
            if (hasPosition) w.current()->view()->setSlicePosition(position);
            if (screenshot.isEmpty()) poll->stop();
            return;
        }
        poll->stop();
        QApplication::processEvents();
        // what the X server shows (the views are native OpenGL windows a widget grab cannot see)
        QApplication::processEvents();
        const QPixmap shot = w.screen()->grabWindow(w.winId());
        if (shot.isNull() || !shot.save(screenshot)) {
            std::fprintf(stderr, "reluth-workstation: cannot write %s\n", qPrintable(screenshot));
            QApplication::exit(1);
            return;
        }
        std::printf("screenshot %s\n", qPrintable(screenshot));
        QApplication::exit(0);
    });
    poll->start(100);
    return app.exec();
}
