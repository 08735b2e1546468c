// The workstation's toolbar, menus and keys: view, tools, presets, help, sign-in.
#include "viewergui/Workstation.h"

#include "viewergui/SliceView.h"

#include "Common.h"
#include "Internal.h"
#include "ReadingController.h"

#include <QAbstractSpinBox>
#include <QAction>
#include <QKeyEvent>
#include <QActionGroup>
#include <QApplication>
#include <QComboBox>
#include <QDate>
#include <QDir>
#include <QDockWidget>
#include <QLineEdit>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPointer>
#include <QProgressBar>
#include <QSlider>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QToolBar>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <map>
#include <set>

namespace vg {

void Workstation::buildActions() {
    QToolBar* bar = addToolBar(tr("View"));
    bar->setObjectName("view");
    bar->setMovable(false);
    QAction* open = bar->addAction(tr("Open folder…"));
    open->setObjectName("openFolder");
    open->setShortcut(QKeySequence::Open);
    open->setToolTip(tr("Any folder of DICOM files (not for readers and adjudicators: they read the trial's de-identified store only)"));
    connect(open, &QAction::triggered, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Folder of DICOM files"));
        if (!dir.isEmpty()) openFolder(dir);
    });
    bar->addSeparator();
    planeGroup_ = new QActionGroup(this);
    const struct {
        const char* name;
        const char* key;
        vc::Plane plane;
    } planes[] = {{"Axial", "A", vc::Plane::Axial}, {"Coronal", "C", vc::Plane::Coronal}, {"Sagittal", "S", vc::Plane::Sagittal}};
    for (const auto& p : planes) {
        QAction* a = bar->addAction(tr(p.name));
        a->setCheckable(true);
        a->setChecked(p.plane == vc::Plane::Axial);
        a->setShortcut(QKeySequence(QString::fromLatin1(p.key)));
        a->setToolTip(tr("%1 plane (%2)").arg(tr(p.name), p.key));
        a->setData(static_cast<int>(p.plane));
        planeGroup_->addAction(a);
        const vc::Plane plane = p.plane;
        connect(a, &QAction::triggered, this, [this, plane] { setPlane(plane); });
    }
    bar->addSeparator();
    int i = 0;
    for (const vc::Preset& p : vc::presets()) {
        QAction* a = bar->addAction(tr(p.name));
        a->setShortcut(QKeySequence(QString::fromLatin1(p.shortcut)));
        a->setToolTip(tr("%1: W %2 L %3 (key %4)").arg(tr(p.name)).arg(p.wl.window).arg(p.wl.level).arg(p.shortcut));
        const int index = i++;
        connect(a, &QAction::triggered, this, [this, index] { applyPreset(index); });
        presetActions_.push_back(a);
    }
    bar->addSeparator();
    // measuring tools (a drag on empty image draws; a drag on a measurement edits or moves it;
    // Delete removes the selected one; Ctrl+Z / Ctrl+Shift+Z undo and redo; Esc: no tool)
    auto* tools = new QActionGroup(this);
    tools->setExclusionPolicy(QActionGroup::ExclusionPolicy::ExclusiveOptional);
    const struct {
        const char* name;
        const char* key;
        SliceView::Tool tool;
        const char* tip;
    } toolList[] = {{"Caliper", "M", SliceView::Tool::LongAxis, "Long axis: drag across the lesion (M)"},
                    {"Long + short axis", "N", SliceView::Tool::Bidimensional,
                     "Bidimensional (lymph nodes): drag the long axis, then drag the short axis' ends (N)"},
                    {"Point", "P", SliceView::Tool::Point, "Point at a non-target or new lesion: click where it is (P)"},
                    {"One click", "O", SliceView::Tool::Assist,
                     "One-click measurement: click inside a lesion (or drag a rough line across it); the proposed axes are "
                     "shown with the outline - Enter accepts, drag an end to edit, Esc discards (O)"}};
    for (const auto& t : toolList) {
        QAction* a = bar->addAction(tr(t.name));
        a->setObjectName(t.tool == SliceView::Tool::LongAxis        ? "toolLongAxis"
                         : t.tool == SliceView::Tool::Bidimensional ? "toolBidimensional"
                         : t.tool == SliceView::Tool::Assist        ? "toolAssist"
                                                                    : "toolPoint");
        a->setCheckable(true);
        a->setShortcut(QKeySequence(QString::fromLatin1(t.key)));
        a->setToolTip(tr(t.tip));
        tools->addAction(a);
        const SliceView::Tool tool = t.tool;
        connect(a, &QAction::toggled, this, [this, tool](bool on) {
            reading_->toolChosen(); // the reader chose: the tool stays until they put it down
            for (ViewerPane* p : {prior_, current_}) p->view()->setTool(on ? tool : SliceView::Tool::None);
        });
    }
    bar->addSeparator();
    QAction* fit = bar->addAction(tr("Fit"));
    fit->setShortcut(QKeySequence("F"));
    fit->setToolTip(tr("Fit the images to the views (F)"));
    connect(fit, &QAction::triggered, this, [this] {
        prior_->view()->fit();
        current_->view()->fit();
    });
    linkAction_ = bar->addAction(tr("Link"));
    linkAction_->setCheckable(true);
    linkAction_->setChecked(true);
    linkAction_->setShortcut(QKeySequence("L"));
    linkAction_->setToolTip(tr("Scroll and window both sides together (L)"));
    connect(linkAction_, &QAction::toggled, this, [this](bool on) { setLinked(on); });
    baselineAction_ = bar->addAction(tr("Compare with baseline"));
    baselineAction_->setCheckable(true);
    baselineAction_->setShortcut(QKeySequence("B"));
    baselineAction_->setToolTip(tr("Left side: the baseline instead of the prior timepoint (B)"));
    connect(baselineAction_, &QAction::toggled, this, [this](bool on) { setCompareWithBaseline(on); });
    QAction* help = new QAction(tr("Help"), this);
    help->setShortcut(QKeySequence::HelpContents);
    addAction(help);
    connect(help, &QAction::triggered, this, [this] {
        QMessageBox::information(
            this, tr("Reading images"),
            tr("<p><b>Open</b> a subject in the Trial list: its latest timepoint shows on the right, the one before "
               "(or the baseline, <b>B</b>) on the left.</p>"
               "<p><b>Slices</b>: mouse wheel, Up/Down, Page Up/Down, Home/End, or the slider - the keys reach the images "
               "wherever you clicked last, except in a text field.<br>"
               "<b>Window/level</b>: drag with the left button (right: wider window, down: higher level), "
               "or keys 1, 2...: the trial's presets, in the toolbar's order (the charter chooses them).<br>"
               "<b>Zoom</b>: drag down with the right button to come closer, up to step back (about where you pressed), "
               "Ctrl+wheel (about the cursor) or +/-; <b>pan</b>: middle button or Shift+left drag; "
               "<b>fit</b>: double-click or F.<br>"
               "<b>Planes</b>: A axial, C coronal, S sagittal.</p>"
               "<p>While <b>Link</b> (L) is on, both sides follow each other by patient position and window; "
               "turn it off to move one side alone - linking again keeps the offset you set.</p>"
               "<p>The pixel value under the cursor (HU) shows at the top right of each image.</p>"
               "<p><b>Reading</b> (readers): your worklist opens your next timepoint. At the baseline choose the organ "
               "(<i>Next lesion in</i>), press <b>+ Target</b> and draw across the lesion with the caliper (<b>M</b>; "
               "lymph nodes: long + short axis, <b>N</b>, then drag the short axis' ends); <b>+ Non-target</b> for the "
               "others, and point at each with <b>P</b> (a click where it is). <b>One click</b> (<b>O</b>): click inside a "
               "lesion (or drag a rough line across it) and the axes are proposed with the outline - <b>Enter</b> accepts, "
               "drag an end to edit, <b>Esc</b> discards; nothing is entered without Enter. At a follow-up click each lesion: "
               "both sides jump to it (once the new scan is registered to your previous one, the right side goes to where "
               "the lesion is now and proposes its measurement); draw its caliper, or pick its answer "
               "(absent, too small, not evaluable, split, merged; non-targets present/absent/progression). "
               "<b>U</b> gives the selected caliper to the selected lesion; Delete and Ctrl+Z edit calipers. The panel "
               "says what is missing and shows the responses with their reasons; everything is saved as you go. "
               "<b>Sign timepoint</b> asks for your password and the meaning of the signature, then opens the next one.</p>"
               "<p><b>Adjudicating</b>: open a subject of your list; Reader 1 is on the left, Reader 2 on the right, "
               "the differences are highlighted; choose one, write why, sign.</p>"
               "<p><b>Switch user</b> (toolbar) signs you out and asks who signs in next.</p>"));
    });
    QAction* switchUser = bar->addAction(tr("Switch user…"));
    switchUser->setObjectName("switchUser");
    switchUser->setToolTip(tr("Sign out and let another user sign in"));
    switchUser->setVisible(false);
    connect(switchUser, &QAction::triggered, this, [this] {
        const QString db = database_;
        if (signedIn_) signOut();
        // the next user's home opens by itself: a reader's next read, an adjudicator's first case
        if (askSignIn(db)) openFirstHomeItem();
    });
    singleAction_ = bar->addAction(tr("Single view"));
    singleAction_->setCheckable(true);
    singleAction_->setShortcut(QKeySequence("V"));
    singleAction_->setToolTip(tr("Show only the current timepoint (V)"));
    connect(singleAction_, &QAction::toggled, this, [this](bool on) { setSingleView(on); });
}

} // namespace vg
