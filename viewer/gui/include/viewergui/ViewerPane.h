#pragma once
// One side of the comparison (ViewerPane: timepoint and series pickers, the view, its slider,
// background loading and messages) and what it shows: a subject's timepoints - the queue's
// timepoints by ordinal in a trial, or a folder's series grouped by patient and study when
// no queue decides.
#include "viewercore/Display.h"
#include "viewercore/Series.h"

#include <QString>
#include <QWidget>

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

template <typename T>
class QFutureWatcher;
class QComboBox;
class QLabel;
class QProgressBar;
class QSlider;
class QStackedWidget;

namespace vg {

class SliceView;

struct Timepoint {
    QString id, description, date; ///< Clinical Trial Time Point ID/description (our anonymizer fills them), study date
    std::vector<vc::Series> series;
    int ordinal = 0;       ///< the queue's timepoint (1 = baseline); 0 when browsing a folder without a queue
    QString label() const; ///< "V2 WEEK 8", or the date when the files carry no timepoint
    /// Why these images are not this timepoint's visit (a series whose files name another
    /// Clinical Trial Time Point than the queue's visit), empty when they are.
    QString visitMismatch() const;
};

struct Subject {
    QString pseudonym;                 ///< the files' patient ID when they are de-identified, else a neutral label
    QString shownAs;                   ///< what the screen calls it when not the pseudonym (a blinded reader's reading ID)
    bool deidentified = true;          ///< every file says PatientIdentityRemoved YES
    std::vector<Timepoint> timepoints; ///< in date order
};

/// Groups a folder's series by patient (the pseudonym) and timepoint. The patient ID of files
/// that are not marked de-identified is never shown: such subjects are "Not de-identified N".
std::vector<Subject> subjectsIn(const vc::Scan& scan);
/// What the series picker shows: number, modality, images, thickness - no free text from the header.
QString seriesLabel(const vc::Series& s);
/// The series shown first: the CT (else any) volume with the most slices.
int preferredSeries(const Timepoint& t);

/// One side of the comparison: pickers, the view, its slider, loading and messages.
class ViewerPane : public QWidget {
    Q_OBJECT
public:
    explicit ViewerPane(const QString& role, QWidget* parent = nullptr);
    ~ViewerPane() override;

    void setSubject(std::shared_ptr<const Subject> subject, int timepoint);
    /// Nothing loaded: the subject forgotten, the view empty, the message shown instead.
    void clear(const QString& message);
    void showSeries(int timepoint, int series);
    /// Loads one series directly (a folder the user picked, tests).
    void showSeries(const vc::Series& series, const QString& caption);

    SliceView* view() const { return view_; }
    int timepoint() const;
    /// The queue's ordinal of the timepoint shown (index + 1 when browsing a folder), 0 when none.
    int ordinal() const;
    bool loading() const { return loading_; }
    bool showsImage() const;
    QString message() const;                                    ///< why nothing is shown (unsupported series, load error), or empty
    QString modality() const { return modality_; }              ///< of the series shown
    const std::string& seriesUid() const { return seriesUid_; } ///< of the volume shown (empty while loading)
    double sliceThickness() const { return thickness_; }
    const Subject* subject() const { return subject_.get(); }
    QComboBox* timepointPicker() const { return timepointBox_; }
    void setTitle(const QString& title); ///< "Prior", "Current", "Reader 1"...
    QComboBox* seriesPicker() const { return seriesBox_; }
    QProgressBar* progressBar() const { return progress_; }
    QSlider* slider() const { return slider_; }
    /// Where volumes already in memory come from (the DICOMweb store decodes a series while it
    /// streams in): asked before loading a series from its files; null or no answer -> the files.
    using VolumeSource = std::function<std::shared_ptr<vc::Volume>(const vc::Series&, const vc::Geometry&)>;
    void setVolumeSource(VolumeSource source) { volumeSource_ = std::move(source); }
    /// The volume shown came from the volume source, not from its files (tests).
    bool volumeFromMemory() const { return fromMemory_; }

signals:
    void loaded(); ///< a volume is complete (or failed: see message())
    void timepointChanged(int timepoint);

private:
    void startLoad(const vc::Series& series, vc::Geometry geometry, const QString& caption);
    void stopLoad();
    void showMessage(const QString& text);
    void fillSeries(int timepoint);

    QString role_;
    QString modality_;
    std::string seriesUid_;
    double thickness_ = 0;
    QLabel* title_;
    QComboBox* timepointBox_;
    QComboBox* seriesBox_;
    QStackedWidget* stack_;
    SliceView* view_;
    QLabel* message_;
    QSlider* slider_;
    QProgressBar* progress_;
    std::shared_ptr<const Subject> subject_;
    bool loading_ = false;
    bool filling_ = false;
    QFutureWatcher<int>* watcher_ = nullptr; ///< the running load (QtConcurrent), null when none
    std::shared_ptr<std::atomic<bool>> cancel_;
    VolumeSource volumeSource_;
    bool fromMemory_ = false;
};

/// Who is signed in, against which reading queue (the queue's types stay out of this header).
struct SignedIn;

} // namespace vg
