// One side of the comparison (ViewerPane) and the grouping of a folder's series into subjects and
// timepoints when no queue decides (a plain viewer).
#include "viewergui/Workstation.h"

#include <QFutureWatcher>
#include <QPromise>
#include <QtConcurrent/QtConcurrentRun>

#include "viewergui/SliceView.h"

#include "Common.h"
#include "Internal.h"
#include "viewergui/AdjudicationPanel.h"
#include "viewergui/ReadingPanel.h"

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

// ---------------------------------------------------------------- subjects and timepoints

QString Timepoint::label() const {
    // an unscheduled visit's ID ("V2.U": after visit 2) says nothing a reader needs: its label does
    QString s = id.isEmpty() || id.endsWith(".U") ? QString() : id;
    if (!description.isEmpty()) s += (s.isEmpty() ? "" : " ") + description;
    if (s.isEmpty()) s = date;
    return s;
}

QString Timepoint::visitMismatch() const {
    if (id.isEmpty()) return {};
    for (const vc::Series& s : series)
        if (!s.timepointId.empty() && QString::fromStdString(s.timepointId) != id)
            return QObject::tr("series %1 belongs to visit %2, not to this timepoint's visit %3")
                .arg(s.seriesNumber)
                .arg(QString::fromStdString(s.timepointId), id);
    return {};
}

std::vector<Subject> subjectsIn(const vc::Scan& scan) {
    std::map<std::string, Subject> byPatient;
    std::map<std::string, std::map<std::string, Timepoint>> timepoints; // patient -> key -> timepoint
    for (const vc::Series& s : scan.series) {
        Subject& subject = byPatient[s.patientId];
        subject.pseudonym = QString::fromStdString(s.patientId);
        // a timepoint is the trial's time point when the files carry it, else the study date
        const std::string key = s.studyDate + "|" + (s.timepointId.empty() ? s.studyDate : s.timepointId);
        Timepoint& t = timepoints[s.patientId][key];
        t.id = QString::fromStdString(s.timepointId);
        t.description = QString::fromStdString(s.timepointDescription);
        t.date = QString::fromStdString(s.studyDate);
        t.series.push_back(s);
    }
    std::vector<Subject> out;
    int unmarked = 0;
    for (auto& [patient, subject] : byPatient) {
        // only a de-identified file's patient ID (our anonymizer puts the pseudonym there) is
        // ever shown: files not marked PatientIdentityRemoved YES get a neutral label
        bool deidentified = true;
        for (const auto& [key, t] : timepoints[patient])
            for (const vc::Series& s : t.series) deidentified = deidentified && s.identityRemoved;
        subject.deidentified = deidentified;
        if (!deidentified) subject.pseudonym = QObject::tr("Not de-identified %1").arg(++unmarked);
        for (auto& [key, t] : timepoints[patient]) {
            std::sort(t.series.begin(), t.series.end(), [](const vc::Series& a, const vc::Series& b) {
                return a.seriesNumber != b.seriesNumber ? a.seriesNumber < b.seriesNumber : a.uid < b.uid;
            });
            subject.timepoints.push_back(std::move(t));
        }
        out.push_back(std::move(subject));
    }
    return out;
}

QString seriesLabel(const vc::Series& s) {
    QString label =
        QStringLiteral("Series %1 · %2 · %3 images").arg(s.seriesNumber).arg(QString::fromStdString(s.modality)).arg(s.slices.size());
    if (s.sliceThickness > 0) label += QStringLiteral(" · %1 mm").arg(s.sliceThickness, 0, 'g', 3);
    return label;
}

int preferredSeries(const Timepoint& t) {
    int best = -1;
    auto score = [](const vc::Series& s) { return (s.modality == "CT" ? 100000 : 0) + static_cast<int>(s.slices.size()); };
    for (std::size_t i = 0; i < t.series.size(); ++i)
        if (best < 0 || score(t.series[i]) > score(t.series[static_cast<std::size_t>(best)])) best = static_cast<int>(i);
    return best;
}

// ---------------------------------------------------------------- one side of the comparison

ViewerPane::ViewerPane(const QString& role, QWidget* parent) : QWidget(parent), role_(role) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    layout->setSpacing(2);
    auto* header = new QHBoxLayout;
    title_ = new QLabel(QStringLiteral("<b>%1</b>").arg(role));
    timepointBox_ = new QComboBox;
    timepointBox_->setObjectName("timepointPicker");
    timepointBox_->setToolTip(tr("Timepoint shown on this side"));
    timepointBox_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    seriesBox_ = new QComboBox;
    seriesBox_->setObjectName("seriesPicker");
    seriesBox_->setToolTip(tr("Series of this timepoint"));
    seriesBox_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    header->addWidget(title_);
    header->addWidget(timepointBox_);
    header->addWidget(seriesBox_);
    header->addStretch(1);
    layout->addLayout(header);

    auto* body = new QHBoxLayout;
    stack_ = new QStackedWidget;
    view_ = new SliceView;
    message_ = new QLabel;
    message_->setAlignment(Qt::AlignCenter);
    message_->setWordWrap(true);
    message_->setMargin(24);
    message_->setStyleSheet("QLabel { background: #101418; color: #f0c060; font-size: 15px; }");
    stack_->addWidget(view_);
    stack_->addWidget(message_);
    slider_ = new QSlider(Qt::Vertical);
    slider_->setInvertedAppearance(true); // the top of the slider is the first (head) slice
    slider_->setEnabled(false);
    slider_->setToolTip(tr("Slice (wheel, arrow keys, Page Up/Down)"));
    body->addWidget(stack_, 1);
    body->addWidget(slider_);
    layout->addLayout(body, 1);

    progress_ = new QProgressBar;
    progress_->setMaximumHeight(14);
    progress_->setTextVisible(true);
    progress_->setFormat(tr("loading %p%"));
    progress_->hide();
    layout->addWidget(progress_);

    showMessage(tr("No series loaded.\nChoose a subject in the trial list, or open a folder."));

    connect(view_, &SliceView::sliceChanged, this, [this](int k, double) {
        const QSignalBlocker block(slider_);
        slider_->setValue(k);
    });
    connect(slider_, &QSlider::valueChanged, view_, &SliceView::setSlice);
    connect(timepointBox_, &QComboBox::currentIndexChanged, this, [this](int t) {
        if (filling_ || t < 0 || !subject_) return;
        fillSeries(t);
        showSeries(t, seriesBox_->currentIndex());
        emit timepointChanged(t);
    });
    connect(seriesBox_, &QComboBox::currentIndexChanged, this, [this](int s) {
        if (filling_ || s < 0 || !subject_) return;
        showSeries(timepointBox_->currentIndex(), s);
    });
}

ViewerPane::~ViewerPane() { stopLoad(); }

void ViewerPane::stopLoad() {
    if (watcher_) {
        // the running load is cancelled and waited for; its watcher goes with it, so nothing it
        // reports afterwards reaches this pane
        if (cancel_) cancel_->store(true);
        watcher_->disconnect(this);
        watcher_->future().cancel();
        watcher_->waitForFinished();
        delete watcher_;
        watcher_ = nullptr;
    }
    cancel_.reset();
    loading_ = false;
    progress_->hide();
}

void ViewerPane::showMessage(const QString& text) {
    seriesUid_.clear();
    message_->setText(text);
    stack_->setCurrentWidget(message_);
}

void ViewerPane::setTitle(const QString& title) { title_->setText(QStringLiteral("<b>%1</b>").arg(title.toHtmlEscaped())); }

QString ViewerPane::message() const { return stack_->currentWidget() == message_ ? message_->text() : QString(); }
bool ViewerPane::showsImage() const { return stack_->currentWidget() == view_ && view_->hasVolume(); }
int ViewerPane::timepoint() const { return timepointBox_->currentIndex(); }
int ViewerPane::ordinal() const {
    const int t = timepoint();
    if (!subject_ || t < 0 || t >= static_cast<int>(subject_->timepoints.size())) return 0;
    const int o = subject_->timepoints[static_cast<std::size_t>(t)].ordinal;
    return o > 0 ? o : t + 1;
}

void ViewerPane::fillSeries(int t) {
    filling_ = true;
    seriesBox_->clear();
    if (subject_ && t >= 0 && t < static_cast<int>(subject_->timepoints.size())) {
        const Timepoint& tp = subject_->timepoints[static_cast<std::size_t>(t)];
        for (const vc::Series& s : tp.series) seriesBox_->addItem(seriesLabel(s));
        seriesBox_->setCurrentIndex(preferredSeries(tp));
    }
    filling_ = false;
}

void ViewerPane::clear(const QString& message) {
    stopLoad();
    subject_.reset();
    filling_ = true;
    timepointBox_->clear();
    seriesBox_->clear();
    filling_ = false;
    view_->clearVolume();
    slider_->setEnabled(false);
    showMessage(message);
}

void ViewerPane::setSubject(std::shared_ptr<const Subject> subject, int t) {
    subject_ = std::move(subject);
    filling_ = true;
    timepointBox_->clear();
    if (subject_)
        for (const Timepoint& tp : subject_->timepoints) timepointBox_->addItem(tp.label());
    timepointBox_->setCurrentIndex(t);
    filling_ = false;
    fillSeries(t);
    showSeries(t, seriesBox_->currentIndex());
}

void ViewerPane::showSeries(int t, int s) {
    stopLoad();
    if (!subject_ || t < 0 || t >= static_cast<int>(subject_->timepoints.size())) {
        view_->clearVolume();
        showMessage(t < 0 && subject_ ? tr("Nothing earlier: the timepoint on the right is the baseline.")
                                      : tr("No timepoint to show on this side."));
        emit loaded();
        return;
    }
    const Timepoint& tp = subject_->timepoints[static_cast<std::size_t>(t)];
    if (s < 0 || s >= static_cast<int>(tp.series.size())) {
        view_->clearVolume();
        showMessage(tr("This timepoint has no images."));
        emit loaded();
        return;
    }
    showSeries(tp.series[static_cast<std::size_t>(s)],
               (subject_->shownAs.isEmpty() ? subject_->pseudonym : subject_->shownAs) + "  " + tp.label());
}

void ViewerPane::showSeries(const vc::Series& series, const QString& caption) {
    stopLoad();
    vc::Geometry g = vc::analyze(series);
    if (!g.ok) {
        view_->clearVolume();
        slider_->setEnabled(false);
        showMessage(tr("This series cannot be shown as a volume:\n%1").arg(QString::fromStdString(g.problem)));
        emit loaded();
        return;
    }
    startLoad(series, std::move(g), caption);
}

void ViewerPane::startLoad(const vc::Series& series, vc::Geometry geometry, const QString& caption) {
    stopLoad();
    // a volume the store already holds (decoded while it streamed in) is shown as it is
    std::shared_ptr<vc::Volume> ready = volumeSource_ ? volumeSource_(series, geometry) : nullptr;
    fromMemory_ = ready != nullptr;
    auto volume = ready ? ready : std::make_shared<vc::Volume>();
    auto cancel = std::make_shared<std::atomic<bool>>(false);
    auto error = std::make_shared<std::string>();
    cancel_ = cancel;
    loading_ = true;
    slider_->setEnabled(false);
    progress_->setRange(0, 100);
    progress_->setValue(0);
    progress_->show();
    view_->clearVolume();
    stack_->setCurrentWidget(view_);
    seriesUid_.clear();
    const double thickness = series.sliceThickness;
    modality_ = QString::fromStdString(series.modality);
    const bool hounsfield = modality_ == "CT";
    view_->setValueUnit(hounsfield ? QStringLiteral("HU") : QString());
    // Qt's own concurrency: the load runs on the global thread pool and reports through its
    // promise - the middle slice as a result (shown at once), progress as the progress value;
    // the watcher delivers both on the GUI thread, and belongs to this load only
    watcher_ = new QFutureWatcher<int>(this);
    connect(watcher_, &QFutureWatcher<int>::resultReadyAt, this,
            [this, volume, caption, thickness](int i) { view_->setVolume(volume, caption, thickness, watcher_->resultAt(i)); });
    connect(watcher_, &QFutureWatcher<int>::progressValueChanged, progress_, &QProgressBar::setValue);
    // the slices' order along the normal in *this* series' terms (a volume from memory was
    // ordered from the store's own reading of the same headers)
    connect(watcher_, &QFutureWatcher<int>::finished, this, [=, this, series = series, order = geometry.order] {
        loading_ = false;
        progress_->hide();
        if (!error->empty()) {
            view_->clearVolume();
            showMessage(tr("This series could not be loaded:\n%1").arg(QString::fromStdString(*error)));
        } else {
            if (!view_->hasVolume()) view_->setVolume(volume, caption, thickness);
            view_->volumeComplete();
            std::vector<std::string> sops;
            for (std::size_t z : order) sops.push_back(series.slices[z].sopUid);
            view_->setImageReferences(series.uid, std::move(sops));
            seriesUid_ = series.uid;
            thickness_ = thickness;
            // MR values are not Hounsfield units: the window comes from the image itself
            if (!hounsfield) view_->setWindowLevel(vc::automaticWindow(*volume, volume->geometry.nz / 2));
            slider_->setRange(0, view_->sliceCount() - 1);
            slider_->setValue(view_->slice());
            slider_->setEnabled(true);
        }
        emit loaded();
    });
    watcher_->setFuture(
        QtConcurrent::run([volume, cancel, error, ready = fromMemory_, series = series,
                           geometry = std::move(geometry)](QPromise<int>& promise) mutable {
            promise.setProgressRange(0, 100);
            if (ready) { // already in memory: shown at once
                promise.addResult(geometry.nz / 2);
                promise.setProgressValue(100);
                return;
            }
            vc::LoadCallbacks cb;
            cb.cancel = cancel.get();
            cb.middleReady = [&](int z) { promise.addResult(z); };
            cb.progress = [&](int done, int total) { promise.setProgressValue(done * 100 / std::max(1, total)); };
            try {
                vc::loadInto(*volume, series, geometry, cb);
            } catch (const std::exception& e) {
                *error = e.what();
            }
        }));
}

} // namespace vg
