// The workstation's imaging screens under a real X server (Xvfb in CI), driven with mouse and
// keyboard events on the real widgets and checked on the frames they present: a phantom
// lesion appears where the ground truth puts it with the grey its HU and the window give;
// the patient's left (a radio-opaque bead) is on the screen's right however the files store
// the rows; a series that is not a volume shows a message instead of an image; prior and
// current scroll and window together until unlinked. Screenshots land in the test folder
// (RELUTH_VIEWER_SHOTS=DIR keeps them).
#include "viewercore/Display.h"
#include "viewercore/Series.h"
#include "viewergui/SliceView.h"
#include "viewergui/Workstation.h"
#include "../common/Run.h"
#include "../common/TempDir.h"
#include "Htj2k.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QElapsedTimer>
#include <QProgressBar>
#include <QScreen>
#include <QSlider>
#include <QTest>
#include <QDialog>
#include <QLabel>
#include <QLineEdit>
#include <QTimer>
#include <QLineF>
#include <QWheelEvent>
#include <QWindow>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

namespace fs = std::filesystem;

#include "GuiFixture.h"

namespace {

using namespace guitest;

fs::path ctDir(int timepoint) {
    for (const auto& s : phantom().truth["subjects"][0]["timepoints"][timepoint]["series"])
        if (s["modality"] == "CT") return phantom().root() / s["dir"].get<std::string>();
    return {};
}

vc::Series seriesIn(const fs::path& dir) {
    const vc::Scan scan = vc::scanFolder(dir);
    for (const auto& s : scan.series)
        if (s.slices.size() > 1) return s;
    ADD_FAILURE() << "no series in " << dir;
    return {};
}

/// Mean grey (0-255) of the 5x5 device pixels around a widget point of the view's frame.
double greyAround(const QImage& frame, QPointF p, double dpr) {
    const int cx = static_cast<int>(std::lround(p.x() * dpr)), cy = static_cast<int>(std::lround(p.y() * dpr));
    double sum = 0;
    int n = 0;
    for (int y = cy - 2; y <= cy + 2; ++y)
        for (int x = cx - 2; x <= cx + 2; ++x)
            if (x >= 0 && y >= 0 && x < frame.width() && y < frame.height()) sum += qGray(frame.pixel(x, y)), ++n;
    return n ? sum / n : -1;
}

/// Where a patient point (x, y in mm) of an axial slice must appear in a view fitted to a
/// 512x512 image of 0.78125 mm pixels whose centre is at (cx, cy): worked out here from the
/// radiological convention (patient's left on the screen's right, posterior down), not
/// from the view's own mapping.
QPointF expectedAxial(const vg::SliceView& v, double x, double y, double cx, double cy) {
    const double sizeMm = 512 * 0.78125;
    const double ppm = std::min(v.width() / sizeMm, v.height() / sizeMm) / 1.02;
    return {v.width() / 2.0 + (x - cx) * ppm, v.height() / 2.0 + (y - cy) * ppm};
}

/// Rewrites a copy of a series with its rows and columns stored the other way round (row
/// direction -x, column direction -y, pixels mirrored both ways, position of the new first
/// pixel): the same patient, stored differently.
void storeMirrored(const fs::path& from, const fs::path& to) {
    fs::create_directories(to);
    for (const auto& e : fs::directory_iterator(from)) {
        DcmFileFormat ff;
        ASSERT_TRUE(ff.loadFile(e.path().c_str()).good());
        ff.loadAllDataIntoMemory();
        DcmDataset& d = *ff.getDataset();
        Uint16 rows = 0, cols = 0;
        d.findAndGetUint16(DCM_Rows, rows);
        d.findAndGetUint16(DCM_Columns, cols);
        const Uint16* px = nullptr;
        unsigned long n = 0;
        ASSERT_TRUE(d.findAndGetUint16Array(DCM_PixelData, px, &n).good());
        std::vector<Uint16> flipped(n);
        for (unsigned long r = 0; r < rows; ++r)
            for (unsigned long c = 0; c < cols; ++c) flipped[(rows - 1 - r) * cols + (cols - 1 - c)] = px[r * cols + c];
        ASSERT_TRUE(d.putAndInsertUint16Array(DCM_PixelData, flipped.data(), n).good());
        Float64 x = 0, y = 0, z = 0, sr = 0, sc = 0;
        d.findAndGetFloat64(DCM_ImagePositionPatient, x, 0);
        d.findAndGetFloat64(DCM_ImagePositionPatient, y, 1);
        d.findAndGetFloat64(DCM_ImagePositionPatient, z, 2);
        d.findAndGetFloat64(DCM_PixelSpacing, sr, 0);
        d.findAndGetFloat64(DCM_PixelSpacing, sc, 1);
        const std::string pos = std::to_string(x + (cols - 1) * sc) + "\\" + std::to_string(y + (rows - 1) * sr) + "\\" + std::to_string(z);
        d.putAndInsertString(DCM_ImagePositionPatient, pos.c_str());
        d.putAndInsertString(DCM_ImageOrientationPatient, "-1\\0\\0\\0\\-1\\0");
        ASSERT_TRUE(ff.saveFile((to / e.path().filename()).c_str(), EXS_LittleEndianExplicit).good());
    }
}

/// A pane showing one series, loaded.

struct LoadedPane {
    struct AppFirst {
        AppFirst() { app(); }
    } first; // the QApplication exists before the first widget
    vg::ViewerPane pane{"Current"};
    explicit LoadedPane(const vc::Series& s, const QString& caption = "RELUTH-03-001  V1 BASELINE") {
        pane.resize(900, 900);
        shown(pane);
        pane.showSeries(s, caption);
        EXPECT_TRUE(waitFor([&] { return !pane.loading(); }));
        QApplication::processEvents();
    }
    vg::SliceView& view() { return *pane.view(); }
};

} // namespace

TEST(ViewerGui, ALesionAppearsWhereTheGroundTruthPutsItWithTheGreyOfItsHuAndTheWindow) {
    const auto& truth = phantom().truth;
    const vc::Series s = seriesIn(ctDir(0));
    LoadedPane p(s);
    ASSERT_TRUE(p.pane.showsImage()) << p.pane.message().toStdString();
    vg::SliceView& v = p.view();
    EXPECT_EQ(v.sliceCount(), 48);
    EXPECT_FALSE(p.pane.progressBar()->isVisible());
    EXPECT_TRUE(p.pane.slider()->isEnabled());

    const auto& lesion = truth["subjects"][0]["lesions"][0]; // T01, liver, 35 x 27 mm
    ASSERT_EQ(lesion["location"], "LIVER");
    const double x = lesion["center_mm"][0], y = lesion["center_mm"][1], z = lesion["timepoints"][0]["largest_cross_section"]["z_mm"];
    // scroll there with the keyboard, as a reader would: Down goes towards the feet
    v.setFocus();
    const int target = v.frame().nearest(z);
    while (v.slice() != target) QTest::keyClick(&v, v.slice() < target ? Qt::Key_Down : Qt::Key_Up);
    EXPECT_NEAR(v.slicePosition(), z, 2.5);
    EXPECT_EQ(p.pane.slider()->value(), target);
    const vc::WindowLevel liver{150, 90};
    v.setWindowLevel(liver);

    const QImage frame = v.grabFrame();
    ASSERT_FALSE(frame.isNull());
    const auto& series0 = truth["subjects"][0]["timepoints"][0]["series"][0];
    const double cx = series0["first_slice_position_mm"][0].get<double>() + 255.5 * 0.78125;
    const double cy = series0["first_slice_position_mm"][1].get<double>() + 255.5 * 0.78125;
    const QPointF at = expectedAxial(v, x, y, cx, cy);
    const double dpr = v.devicePixelRatioF();
    const double hu = truth["trial"]["hu"]["liver_lesion"], liverHu = truth["trial"]["hu"]["liver"];
    frame.save(QString::fromStdString((shotDir() / "lesion-liver-window.png").string()));
    EXPECT_NEAR(greyAround(frame, at, dpr), vc::greyOf(hu, liver), 8) << "lesion centre at " << at.x() << "," << at.y();
    // 25 mm towards the patient's right (screen left) of a 35 mm lesion's centre: liver
    const QPointF inLiver = expectedAxial(v, x - 25, y, cx, cy);
    EXPECT_NEAR(greyAround(frame, inLiver, dpr), vc::greyOf(liverHu, liver), 8);
    // the HU under the cursor is the voxel's value
    QTest::mouseMove(v.surface(), at.toPoint());
    QApplication::processEvents();
    EXPECT_TRUE(v.overlayText().contains(" HU")) << v.overlayText().toStdString();
    double u = 0, w = 0;
    ASSERT_TRUE(v.pixelAt(at.toPoint(), u, w));
    EXPECT_NEAR(u, 171.374, 2.0); // the ground truth's pixel of the lesion's centre (column, row)
    EXPECT_NEAR(w, 230.354, 2.0);
}

TEST(ViewerGui, CornerTextsNeverOverlapEvenInANarrowView) {
    // two views of ~270 px: "axial 60/120  Z -15.0 mm" and "W 1500  L -600" cannot share a line
    app();
    vg::Workstation w;
    w.resize(800, 600);
    shown(w);
    w.openFolder(QString::fromStdString((phantom().root() / "incoming").string()));
    ASSERT_TRUE(waitFor([&] { return w.idle() && w.current()->view()->complete(); }));
    w.current()->view()->setWindowLevel({1500, -600}); // wider texts
    for (vg::ViewerPane* pane : {w.prior(), w.current()}) {
        if (!pane->isVisible()) continue;
        pane->view()->renderNow();
        const auto boxes = pane->view()->cornerTextBoxes();
        ASSERT_GE(boxes.size(), 3u);
        EXPECT_LT(pane->view()->width(), 320);
        for (std::size_t i = 0; i < boxes.size(); ++i)
            for (std::size_t j = i + 1; j < boxes.size(); ++j)
                EXPECT_FALSE(boxes[i].intersects(boxes[j])) << "corner texts " << i << " and " << j << " overlap";
    }
    screenshot(w, "narrow-views.png");
}

TEST(ViewerGui, AFolderOfFilesNotDeidentifiedNeverShowsTheirPatientId) {
    app();
    const auto& subject = phantom().truth["subjects"][0];
    vg::Workstation w;
    w.resize(1400, 800);
    shown(w);
    w.openFolder(QString::fromStdString((phantom().root() / "incoming").string())); // the site's drop, full of PHI
    ASSERT_EQ(w.subjects(), QStringList{"Not de-identified 1"});
    ASSERT_TRUE(waitFor([&] { return w.idle() && w.current()->view()->complete(); }));
    const QString text = w.current()->view()->overlayText() + w.prior()->view()->overlayText() + w.windowTitle();
    EXPECT_TRUE(text.startsWith("Not de-identified 1")) << text.toStdString();
    for (const auto& phi : subject["phi"])
        EXPECT_FALSE(text.contains(QString::fromStdString(phi.get<std::string>()), Qt::CaseInsensitive)) << phi;
    // the de-identified store shows the pseudonym
    w.openStore(QString::fromStdString((phantom().root() / "store").string()));
    EXPECT_EQ(w.subjects(), QStringList{"RELUTH-03-001"});
}

TEST(ViewerGui, OnlyThePseudonymAndTimepointAreShownNeverOtherHeaderText) {
    const auto& subject = phantom().truth["subjects"][0];
    LoadedPane p(seriesIn(ctDir(0)));
    const QString text = p.view().overlayText();
    EXPECT_TRUE(text.startsWith("RELUTH-03-001  V1 BASELINE")) << text.toStdString();
    // the phantom's files are full of PHI (these are the site's files, not the store's)
    for (const auto& phi : subject["phi"])
        EXPECT_FALSE(text.contains(QString::fromStdString(phi.get<std::string>()), Qt::CaseInsensitive)) << phi;
    for (const auto& s : subject["timepoints"][0]["series"])
        EXPECT_FALSE(text.contains(QString::fromStdString(s["description"].get<std::string>()), Qt::CaseInsensitive));
    // nor in the series picker: number, modality, images and thickness only
    const QString label = vg::seriesLabel(seriesIn(ctDir(0)));
    EXPECT_EQ(label, QStringLiteral("Series 2 · CT · 48 images · 5 mm"));
}

TEST(ViewerGui, ThePatientsLeftIsOnTheScreensRightHoweverTheRowsAreStored) {
    const auto& truth = phantom().truth;
    const double mx = truth["trial"]["left_marker"]["x_mm"], my = truth["trial"]["left_marker"]["y_mm"];
    const auto& series0 = truth["subjects"][0]["timepoints"][0]["series"][0];
    const double cx = series0["first_slice_position_mm"][0].get<double>() + 255.5 * 0.78125;
    const double cy = series0["first_slice_position_mm"][1].get<double>() + 255.5 * 0.78125;
    testutil::TempDir dir("viewer-mirrored");
    storeMirrored(ctDir(0), dir.path() / "mirrored");
    const vc::WindowLevel bone{2000, 300};
    for (const fs::path& d : {ctDir(0), dir.path() / "mirrored"}) {
        SCOPED_TRACE(d.string());
        const vc::Series s = seriesIn(d);
        const vc::Geometry g = vc::analyze(s);
        ASSERT_TRUE(g.ok) << g.problem;
        LoadedPane p(s);
        vg::SliceView& v = p.view();
        v.setWindowLevel(bone);
        const auto labels = v.edgeLabels();
        EXPECT_EQ(labels[0], "R");
        EXPECT_EQ(labels[1], "L");
        EXPECT_EQ(labels[2], "A");
        EXPECT_EQ(labels[3], "P");
        const QImage frame = v.grabFrame();
        const double dpr = v.devicePixelRatioF();
        EXPECT_GT(greyAround(frame, expectedAxial(v, mx, my, cx, cy), dpr), 200) << "no bead on the screen's right";
        EXPECT_LT(greyAround(frame, expectedAxial(v, -mx, my, cx, cy), dpr), 60) << "a bead on the screen's left: left and right flipped";
        frame.save(QString::fromStdString((shotDir() / ("left-marker-" + d.filename().string() + ".png")).string()));
        // the labels are drawn, not only computed: label-blue pixels at the right edge's middle
        int blue = 0;
        const int lx = frame.width() - 40, ly = frame.height() / 2 - 20;
        for (int yy = ly; yy < ly + 40; ++yy)
            for (int xx = lx; xx < frame.width(); ++xx) {
                const QColor c = frame.pixelColor(xx, yy);
                blue += c.blue() > 200 && c.red() < 180;
            }
        EXPECT_GT(blue, 10) << "the L label is not on the screen";
        // the coronal reformat too: the bead on the right, the head up
        v.setPlane(vc::Plane::Coronal);
        const auto cl = v.edgeLabels();
        EXPECT_EQ(cl[0], "R");
        EXPECT_EQ(cl[1], "L");
        EXPECT_EQ(cl[2], "S");
        EXPECT_EQ(cl[3], "I");
        v.setSlicePosition(my);
        const QImage coronal = v.grabFrame();
        // the bead's column and the middle row of the volume (z of the middle slice)
        const vc::SliceFrame& f = v.frame();
        const double col = (mx - f.corner[0]) / f.du;
        double right = 0, left = 0;
        for (int row = 5; row < f.height - 5; row += 7) {
            right = std::max(right, greyAround(coronal, v.widgetPointOf(col, row), dpr));
            left = std::max(left, greyAround(coronal, v.widgetPointOf(f.width - 1 - col, row), dpr));
        }
        EXPECT_GT(right, 200);
        EXPECT_LT(left, 60);
    }
}

TEST(ViewerGui, ASeriesThatIsNotAVolumeShowsAMessageNotAWrongImage) {
    testutil::TempDir dir("viewer-tilted");
    const fs::path tilted = dir.path() / "tilted";
    fs::create_directories(tilted);
    // a gantry tilt: each slice shifted 0.9 mm along y as z goes
    for (const auto& e : fs::directory_iterator(ctDir(0))) {
        DcmFileFormat ff;
        ASSERT_TRUE(ff.loadFile(e.path().c_str()).good());
        ff.loadAllDataIntoMemory();
        DcmDataset& d = *ff.getDataset();
        Float64 x = 0, y = 0, z = 0;
        d.findAndGetFloat64(DCM_ImagePositionPatient, x, 0);
        d.findAndGetFloat64(DCM_ImagePositionPatient, y, 1);
        d.findAndGetFloat64(DCM_ImagePositionPatient, z, 2);
        const std::string pos = std::to_string(x) + "\\" + std::to_string(y + z * 0.18) + "\\" + std::to_string(z);
        d.putAndInsertString(DCM_ImagePositionPatient, pos.c_str());
        ASSERT_TRUE(ff.saveFile((tilted / e.path().filename()).c_str(), EXS_LittleEndianExplicit).good());
    }
    LoadedPane p(seriesIn(tilted));
    EXPECT_FALSE(p.pane.showsImage());
    EXPECT_TRUE(p.pane.message().contains("gantry tilt")) << p.pane.message().toStdString();
    EXPECT_FALSE(p.pane.slider()->isEnabled());
    EXPECT_FALSE(p.view().hasVolume());
    p.pane.grab().save(QString::fromStdString((shotDir() / "unsupported-series.png").string()));

    // a missing slice: said as such
    const fs::path gap = dir.path() / "gap";
    fs::create_directories(gap);
    auto files = std::vector<fs::path>();
    for (const auto& e : fs::directory_iterator(ctDir(0))) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (std::size_t i = 0; i < files.size(); ++i)
        if (i != files.size() / 2) fs::copy_file(files[i], gap / files[i].filename());
    p.pane.showSeries(seriesIn(gap), "RELUTH-03-001  V1");
    EXPECT_TRUE(waitFor([&] { return !p.pane.loading(); }));
    EXPECT_TRUE(p.pane.message().contains("missing slices")) << p.pane.message().toStdString();
}

TEST(ViewerGui, AFileNothingCanDecodeShowsAMessageNamingIt) {
    if (!fs::exists(testutil::kPydicomFiles)) GTEST_SKIP() << "python3-pydicom's test files are not installed";
    testutil::TempDir dir("viewer-htj2k");
    ASSERT_TRUE(testutil::writeHtj2kFile(dir.path() / "htj2k.dcm"));
    const vc::Scan scan = vc::scanFolder(dir.path());
    ASSERT_EQ(scan.series.size(), 1u);
    LoadedPane p(scan.series.front());
    EXPECT_FALSE(p.pane.showsImage());
    EXPECT_TRUE(p.pane.message().contains("could not be loaded")) << p.pane.message().toStdString();
    EXPECT_TRUE(p.pane.message().contains("htj2k.dcm")) << p.pane.message().toStdString();
    EXPECT_FALSE(p.pane.progressBar()->isVisible());
}

TEST(ViewerGui, MouseAndKeysScrollWindowZoomAndFit) {
    LoadedPane p(seriesIn(ctDir(0)));
    vg::SliceView& v = p.view();
    QWindow* s = v.surface();
    const QPoint centre(v.width() / 2, v.height() / 2);
    // wheel: one notch towards the user is one slice towards the feet
    const int k = v.slice();
    QWheelEvent wheel(centre, s->mapToGlobal(centre), {}, QPoint(0, -120), Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
    QCoreApplication::sendEvent(s, &wheel);
    EXPECT_EQ(v.slice(), k + 1);
    QTest::keyClick(&v, Qt::Key_PageUp);
    EXPECT_EQ(v.slice(), k + 1 - 10);
    QTest::keyClick(&v, Qt::Key_End);
    EXPECT_EQ(v.slice(), v.sliceCount() - 1);
    QTest::keyClick(&v, Qt::Key_Home);
    EXPECT_EQ(v.slice(), 0);
    // the slider follows and drives
    p.pane.slider()->setValue(20);
    EXPECT_EQ(v.slice(), 20);
    // left drag: right widens the window, down raises the level
    v.setWindowLevel({400, 40});
    QTest::mousePress(s, Qt::LeftButton, {}, centre);
    QTest::mouseMove(s, centre + QPoint(50, 20));
    QTest::mouseRelease(s, Qt::LeftButton, {}, centre + QPoint(50, 20));
    EXPECT_NEAR(v.windowLevel().window, 400 + 50 * 1.6, 1e-6);
    EXPECT_NEAR(v.windowLevel().level, 40 + 20 * 1.6, 1e-6);
    // right drag down zooms in (as OHIF/cornerstone and most PACS), about the point where the
    // drag began: the image point there stays there; + and - too; F or a double click fits
    EXPECT_NEAR(v.zoom(), 1.0, 1e-9);
    const QPoint off = centre + QPoint(-70, 40);
    double ua, va, ub, vb;
    ASSERT_TRUE(v.pixelAt(off, ua, va));
    QTest::mousePress(s, Qt::RightButton, {}, off);
    QTest::mouseMove(s, off + QPoint(0, 60));
    QTest::mouseRelease(s, Qt::RightButton, {}, off + QPoint(0, 60));
    EXPECT_GT(v.zoom(), 1.5);
    ASSERT_TRUE(v.pixelAt(off, ub, vb));
    EXPECT_NEAR(ub, ua, 0.05) << "zoom about the drag's start, not the centre";
    EXPECT_NEAR(vb, va, 0.05);
    // Ctrl+wheel zooms about the cursor too
    const double before = v.zoom();
    ASSERT_TRUE(v.pixelAt(centre + QPoint(50, -30), ua, va));
    QWheelEvent zoomWheel(QPointF(centre + QPoint(50, -30)), QPointF(), QPoint(), QPoint(0, 240), Qt::NoButton, Qt::ControlModifier,
                          Qt::NoScrollPhase, false);
    QApplication::sendEvent(&v, &zoomWheel);
    EXPECT_GT(v.zoom(), before);
    ASSERT_TRUE(v.pixelAt(centre + QPoint(50, -30), ub, vb));
    EXPECT_NEAR(ub, ua, 0.05);
    EXPECT_NEAR(vb, va, 0.05);
    QTest::keyClick(&v, Qt::Key_Minus);
    const double z = v.zoom();
    QTest::mouseDClick(s, Qt::LeftButton, {}, centre);
    EXPECT_NEAR(v.zoom(), 1.0, 1e-9);
    EXPECT_GT(z, 1.0);
    // middle drag pans: the image point under the cursor moves with it
    double u0, w0, u1, w1;
    ASSERT_TRUE(v.pixelAt(centre, u0, w0));
    QTest::mousePress(s, Qt::MiddleButton, {}, centre);
    QTest::mouseMove(s, centre + QPoint(40, 0));
    QTest::mouseRelease(s, Qt::MiddleButton, {}, centre + QPoint(40, 0));
    ASSERT_TRUE(v.pixelAt(centre + QPoint(40, 0), u1, w1));
    EXPECT_NEAR(u1, u0, 0.01);
    EXPECT_NEAR(w1, w0, 0.01);
}

TEST(ViewerGui, PriorAndCurrentScrollAndWindowTogetherUntilUnlinked) {
    app();
    vg::Workstation w;
    w.resize(1600, 900);
    shown(w);
    w.openStore(QString::fromStdString((phantom().root() / "store").string()));
    ASSERT_EQ(w.subjects(), QStringList{"RELUTH-03-001"});
    ASSERT_TRUE(w.openSubject("RELUTH-03-001"));
    ASSERT_TRUE(waitFor([&] { return w.idle() && w.current()->view()->complete() && w.prior()->view()->complete(); }));
    QApplication::processEvents();
    vg::SliceView& prior = *w.prior()->view();
    vg::SliceView& current = *w.current()->view();
    EXPECT_EQ(w.current()->timepoint(), 1);
    EXPECT_EQ(w.prior()->timepoint(), 0);
    EXPECT_TRUE(current.overlayText().startsWith("RELUTH-03-001  V2 WEEK 8")) << current.overlayText().toStdString();
    EXPECT_TRUE(prior.overlayText().startsWith("RELUTH-03-001  V1 BASELINE")) << prior.overlayText().toStdString();
    EXPECT_EQ(w.current()->timepointPicker()->count(), 2);
    EXPECT_EQ(w.prior()->seriesPicker()->count(), 1); // the site's burned-in screenshot was quarantined
    EXPECT_TRUE(w.prior()->seriesPicker()->currentText().contains("CT"));
    // scroll the current one: the prior follows by patient position
    current.setFocus();
    for (int i = 0; i < 5; ++i) QTest::keyClick(&current, Qt::Key_Down);
    EXPECT_NEAR(prior.slicePosition(), current.slicePosition(), 2.5);
    // window the prior: the current follows; a preset key acts on the view with the focus
    prior.setFocus();
    QTest::keyClick(&prior, Qt::Key_3); // lung
    EXPECT_EQ(prior.windowLevel().window, 1500);
    EXPECT_EQ(current.windowLevel().window, 1500);
    EXPECT_EQ(current.windowLevel().level, -600);
    for (int i = 0; i < 5; ++i) QApplication::processEvents(QEventLoop::AllEvents, 10); // the frames are drawn
    if (QScreen* screen = w.screen())
        screen->grabWindow(w.winId()).save(QString::fromStdString((shotDir() / "comparison-linked.png").string()));
    // L unlinks: scrolling one no longer moves the other
    QTest::keyClick(&current, Qt::Key_L);
    EXPECT_FALSE(w.linked());
    const double before = prior.slicePosition();
    for (int i = 0; i < 3; ++i) QTest::keyClick(&current, Qt::Key_Down);
    EXPECT_EQ(prior.slicePosition(), before);
    // linking again keeps the offset the reader set up
    const double offset = current.slicePosition() - prior.slicePosition();
    QTest::keyClick(&current, Qt::Key_L);
    EXPECT_TRUE(w.linked());
    QTest::keyClick(&current, Qt::Key_Up);
    EXPECT_NEAR(current.slicePosition() - prior.slicePosition(), offset, 1e-6);
    // C: both sides in coronal
    QTest::keyClick(&current, Qt::Key_C);
    EXPECT_EQ(prior.plane(), vc::Plane::Coronal);
    EXPECT_EQ(current.plane(), vc::Plane::Coronal);
    // in coronal the sides share zoom and body height: zoom and pan the current one
    current.zoomBy(2);
    QWindow* s = current.surface();
    const QPoint mid(current.width() / 2, current.height() / 2);
    QTest::mousePress(s, Qt::MiddleButton, {}, mid);
    QTest::mouseMove(s, mid + QPoint(0, 60));
    QTest::mouseRelease(s, Qt::MiddleButton, {}, mid + QPoint(0, 60));
    EXPECT_NEAR(prior.halfHeightMm(), current.halfHeightMm(), 1e-9);
    EXPECT_NEAR(prior.centre()[2], current.centre()[2], 1e-6);
    EXPECT_GT(std::abs(current.centre()[2] - (-7.5)), 5.0); // it did move from the volume's middle
    // the prior side's timepoint picker loads another timepoint
    w.prior()->timepointPicker()->setCurrentIndex(1);
    ASSERT_TRUE(waitFor([&] { return w.idle() && prior.complete(); }));
    EXPECT_TRUE(prior.overlayText().contains(w.current()->timepointPicker()->currentText()));
}

TEST(ViewerGui, ACaliperAcrossAGroundTruthLesionMeasuresItsLongAxis) {
    const auto& truth = phantom().truth;
    const vc::Series s = seriesIn(ctDir(0));
    LoadedPane p(s);
    vg::SliceView& v = p.view();
    QWindow* surface = v.surface();
    const auto& lesion = truth["subjects"][0]["lesions"][0]; // T01: 35.2 x 26.6 mm, liver
    const auto& at0 = lesion["timepoints"][0];
    const double cx = lesion["center_mm"][0], cy = lesion["center_mm"][1], z = at0["largest_cross_section"]["z_mm"];
    const double angle = lesion["angle_deg"].get<double>() * M_PI / 180, longMm = at0["long_axis_mm"], shortMm = at0["short_axis_mm"];
    v.zoomBy(2.5); // as a reader would, to place the ends precisely
    v.centreOn({cx, cy, z});
    EXPECT_NEAR(v.slicePosition(), z, 2.5);
    v.setFocus();
    // the ends of the long axis, where a reader puts them (on the lesion's edge)
    const vc::Point3 a{cx - longMm / 2 * std::cos(angle), cy - longMm / 2 * std::sin(angle), z};
    const vc::Point3 b{cx + longMm / 2 * std::cos(angle), cy + longMm / 2 * std::sin(angle), z};
    ASSERT_TRUE(v.acquisitionPlane());
    v.setTool(vg::SliceView::Tool::LongAxis);
    QTest::mousePress(surface, Qt::LeftButton, {}, v.widgetPointOfPatient(a).toPoint());
    QTest::mouseMove(surface, v.widgetPointOfPatient(b).toPoint());
    QTest::mouseRelease(surface, Qt::LeftButton, {}, v.widgetPointOfPatient(b).toPoint());
    ASSERT_EQ(v.measurements().all().size(), 1u);
    const vc::Measurement m = v.measurements().all().front();
    EXPECT_NEAR(m.longMm(), longMm, 0.78125) << "within one pixel spacing of the ground truth";
    // it refers to the image it was made on
    EXPECT_EQ(m.seriesUid, s.uid);
    EXPECT_EQ(m.sopUid, at0["largest_cross_section"]["ct"]["sop_instance_uid"].get<std::string>());
    EXPECT_TRUE(v.overlayText().isEmpty() == false);
    const QImage frame = v.grabFrame();
    frame.save(QString::fromStdString((shotDir() / "caliper.png").string()));
    // the line is drawn: measurement-yellow pixels at its middle
    const QPointF mid = (v.widgetPointOfPatient(a) + v.widgetPointOfPatient(b)) / 2;
    int yellow = 0;
    for (int dy = -3; dy <= 3; ++dy)
        for (int dx = -3; dx <= 3; ++dx) {
            const QColor c = frame.pixelColor(static_cast<int>(mid.x()) + dx, static_cast<int>(mid.y()) + dy);
            yellow += (c.red() > 200 && c.green() > 150 && c.blue() < 120) ||
                      (c.green() > 200 && c.red() < 150 && c.blue() < 150); // yellow, or green when selected
        }
    EXPECT_GT(yellow, 0) << "no measurement line on the screen";

    // drag an end point outwards along the line: the same measurement, longer
    const QPointF wa = v.widgetPointOfPatient(a), wb = v.widgetPointOfPatient(b);
    const QPointF outwards = (wb - wa) / QLineF(wa, wb).length() * 20;
    QTest::mousePress(surface, Qt::LeftButton, {}, wb.toPoint());
    QTest::mouseMove(surface, (wb + outwards).toPoint());
    QTest::mouseRelease(surface, Qt::LeftButton, {}, (wb + outwards).toPoint());
    ASSERT_EQ(v.measurements().all().size(), 1u);
    EXPECT_GT(v.measurements().all().front().longMm(), m.longMm() + 1);
    // undo brings it back; Delete removes the selected one; undo again restores it
    QTest::keyClick(&v, Qt::Key_Z, Qt::ControlModifier);
    EXPECT_NEAR(v.measurements().all().front().longMm(), m.longMm(), 1e-9);
    QTest::mouseClick(surface, Qt::LeftButton, {}, v.widgetPointOfPatient(a).toPoint()); // select by its end
    EXPECT_EQ(v.selectedMeasurement(), m.id);
    QTest::keyClick(&v, Qt::Key_Delete);
    EXPECT_TRUE(v.measurements().all().empty());
    QTest::keyClick(&v, Qt::Key_Z, Qt::ControlModifier);
    EXPECT_EQ(v.measurements().all().size(), 1u);

    // bidimensional: the long axis, then the short axis' ends dragged onto the lesion's edge
    v.setTool(vg::SliceView::Tool::Bidimensional);
    const double c = std::cos(angle), sn = std::sin(angle);
    const vc::Point3 a2{cx - longMm / 2 * c, cy - longMm / 2 * sn + 0.0, z};
    const vc::Point3 b2{cx + longMm / 2 * c, cy + longMm / 2 * sn, z};
    // a second measurement, away from the first one's ends: on the next slice
    v.setSlice(v.slice() + 1);
    QTest::mousePress(surface, Qt::LeftButton, {}, v.widgetPointOfPatient(a2).toPoint());
    QTest::mouseMove(surface, v.widgetPointOfPatient(b2).toPoint());
    QTest::mouseRelease(surface, Qt::LeftButton, {}, v.widgetPointOfPatient(b2).toPoint());
    ASSERT_EQ(v.measurements().all().size(), 2u);
    vc::Measurement bi = v.measurements().all().back();
    ASSERT_EQ(bi.kind, vc::Measurement::Kind::Bidimensional);
    const vc::Point3 c2{cx + shortMm / 2 * sn, cy - shortMm / 2 * c, z}, d2{cx - shortMm / 2 * sn, cy + shortMm / 2 * c, z};
    // drag each short-axis end to the ground truth's (the nearer one first)
    for (const vc::Point3& target : {c2, d2}) {
        bi = v.measurements().all().back();
        const vc::Point3& nearer = vc::distanceMm(bi.c, target) < vc::distanceMm(bi.d, target) ? bi.c : bi.d;
        QTest::mousePress(surface, Qt::LeftButton, {}, v.widgetPointOfPatient(nearer).toPoint());
        QTest::mouseMove(surface, v.widgetPointOfPatient(target).toPoint());
        QTest::mouseRelease(surface, Qt::LeftButton, {}, v.widgetPointOfPatient(target).toPoint());
    }
    bi = v.measurements().all().back();
    EXPECT_NEAR(bi.longMm(), longMm, 0.78125);
    EXPECT_NEAR(bi.shortMm(), shortMm, 0.78125);
    v.grabFrame().save(QString::fromStdString((shotDir() / "bidimensional.png").string()));
    // measurements are made on the acquired images only: none in a reformat
    v.setPlane(vc::Plane::Coronal);
    EXPECT_FALSE(v.acquisitionPlane());
}

TEST(ViewerGui, AReaderSignsInAgainstTheQueueAndLandsOnTheirWorklist) {
    app();
    const TrialQueue tq;
    const std::string db = tq.db;
    const fs::path trial = phantom().root();
    vg::Workstation w;
    w.resize(1400, 800);
    shown(w);
    w.openStore(QString::fromStdString((trial / "store").string()));
    // the sign-in dialog, typed into as a user would: a wrong password first
    int attempts = 0;
    QString firstError;
    std::function<void()> typeIn = [&] {
        auto* dialog = qobject_cast<QDialog*>(QApplication::activeModalWidget());
        if (!dialog) {
            QTimer::singleShot(20, typeIn);
            return;
        }
        auto* user = dialog->findChild<QLineEdit*>("user");
        auto* password = dialog->findChild<QLineEdit*>("password");
        user->clear();
        QTest::keyClicks(user, "reader1");
        QTest::keyClicks(password, attempts == 0 ? "not-the-password" : "reading-test-1");
        QTest::keyClick(password, Qt::Key_Return);
        if (++attempts == 1) {
            firstError = dialog->findChild<QLabel*>("error")->text();
            QTimer::singleShot(20, typeIn);
        }
    };
    QTimer::singleShot(0, typeIn);
    ASSERT_TRUE(w.askSignIn(QString::fromStdString(db)));
    EXPECT_EQ(attempts, 2);
    EXPECT_TRUE(firstError.contains("wrong password")) << firstError.toStdString();
    EXPECT_EQ(w.signedInUser(), "reader1");
    EXPECT_EQ(w.signedInRole(), "reader");
    // the worklist: the reader's own open read, the baseline first; the Trial list keeps only their subjects
    // ...by the subject's reading ID, never its subject ID (which carries the site number)
    const QString readingId = QString::fromStdString(readingIdOf("RELUTH-03-001"));
    const QStringList home = w.homeItems();
    ASSERT_FALSE(home.isEmpty());
    EXPECT_TRUE(home.front().startsWith(readingId + "  timepoint 1")) << home.front().toStdString();
    EXPECT_FALSE(home.front().contains("RELUTH")) << home.front().toStdString();
    EXPECT_EQ(w.subjects(), QStringList{"RELUTH-03-001"}); // the tree's key, not its text
    ASSERT_TRUE(w.openFirstHomeItem());
    ASSERT_TRUE(waitFor([&] { return w.idle() && w.current()->view()->complete(); }));
    EXPECT_EQ(w.current()->timepoint(), 0); // the baseline: the read that is due
    EXPECT_TRUE(w.current()->view()->overlayText().startsWith(readingId + "  V1 BASELINE"))
        << w.current()->view()->overlayText().toStdString();
    // nothing later is put beside the baseline, nor offered: the week-8 scan is not listed
    EXPECT_EQ(w.current()->timepointPicker()->count(), 1);
    EXPECT_FALSE(w.openSubject("RELUTH-03-001", 1) && w.current()->timepoint() == 1);
    EXPECT_FALSE(w.prior()->showsImage());
    EXPECT_TRUE(w.prior()->message().contains("baseline")) << w.prior()->message().toStdString();
}

TEST(ViewerGui, TheMiddleSliceShowsWhileTheRestLoads) {
    app();
    const vc::Series s = seriesIn(ctDir(0));
    const vc::Geometry g = vc::analyze(s);
    auto volume = std::make_shared<vc::Volume>(vc::load(s, g));
    vg::SliceView v;
    v.resize(600, 600);
    shown(v);
    const int z = g.nz / 2;
    v.setVolume(volume, "RELUTH-03-001  V1", 5, z);
    EXPECT_TRUE(v.hasVolume());
    EXPECT_FALSE(v.complete());
    const int k = v.slice();
    EXPECT_NEAR(v.slicePosition(), g.origin[2] + z * g.spacing[2], 1e-6); // the loaded slice is the one shown
    v.setSlice(k + 1);                                                    // not loaded yet: stays
    EXPECT_EQ(v.slice(), k);
    EXPECT_TRUE(v.overlayText().contains("(loading)"));
    const QImage partial = v.grabFrame();
    EXPECT_GT(greyAround(partial, QPointF(300, 300), v.devicePixelRatioF()), 20); // the body, not a black frame
    v.volumeComplete();
    v.setSlice(k + 1);
    EXPECT_EQ(v.slice(), k + 1);
    EXPECT_FALSE(v.overlayText().contains("(loading)"));
}
