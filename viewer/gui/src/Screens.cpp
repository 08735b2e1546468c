// The workstation's public methods that belong to a role's screen: each forwards to the
// controller that owns that screen (ReadingController, AdjudicationController,
// DashboardController, QuarantineController); the window itself only switches screens.
#include "viewergui/Workstation.h"

#include "AdjudicationController.h"
#include "DashboardController.h"
#include "Internal.h"
#include "QuarantineController.h"
#include "ReadingController.h"

#include <QDir>
#include <QStackedWidget>

namespace vg {

// ---- reading
ReadingPanel* Workstation::readingPanel() const { return reading_->panel(); }
QString Workstation::readSubject() const { return reading_->subject(); }
int Workstation::readOrdinal() const { return reading_->ordinal(); }
bool Workstation::readEditable() const { return reading_->editable(); }
bool Workstation::useSelectedCaliper(QString* why) { return reading_->useSelectedCaliper(why); }
bool Workstation::jumpToLesion(const QString& id) { return reading_->jumpToLesion(id); }
bool Workstation::priorRegistered() const { return reading_->registrationReady(); }
std::optional<vc::Point3> Workstation::proposedLocation(const QString& id) const { return reading_->proposedLocation(id); }
bool Workstation::signRead(const QString& password, const QString& meaning, QString* why) { return reading_->sign(password, meaning, why); }
bool Workstation::askSignRead() { return reading_->askSign(); }
void Workstation::setReportsFolder(const QString& folder) { reading_->setReportsFolder(folder); }
QString Workstation::reportsFolder() const { return reading_->reportsFolder(); }
QString Workstation::lastReport() const { return reading_->lastReport(); }

// ---- adjudication
AdjudicationPanel* Workstation::adjudicationPanel() const { return adjudication_->panel(); }
QString Workstation::adjudicationSubject() const { return adjudication_->subject(); }
bool Workstation::openAdjudication(QString subject, QString* why) {
    reading_->end();
    return adjudication_->start(std::move(subject), why);
}
bool Workstation::decideAdjudication(int reader, const QString& rationale, const QString& password, const QString& meaning, QString* why) {
    return adjudication_->decide(reader, rationale, password, meaning, why);
}
bool Workstation::askDecide() { return adjudication_->askDecide(); }

// ---- the manager's dashboard
Dashboard* Workstation::dashboard() const { return dashboardScreen_->dashboard(); }
bool Workstation::refreshDashboard(QString* why) { return dashboardScreen_->refresh(why); }
bool Workstation::exportResults(const QString& folder, QString* why) { return dashboardScreen_->exportResults(folder, why); }
bool Workstation::closeReading(const QString& subject, const QString& reason, QString* why) {
    return dashboardScreen_->closeReading(subject, reason, why);
}
bool Workstation::askCloseReading() { return dashboardScreen_->askCloseReading(); }
void Workstation::showDashboard() { dashboardScreen_->show(); }

QString Workstation::quarantineFolder() const {
    if (!quarantine_.isEmpty()) return quarantine_;
    return store_.isEmpty() ? QString() : QDir::cleanPath(QDir(store_).absoluteFilePath("../quarantine"));
}

// ---- the data manager's quarantine
QStringList Workstation::quarantinedFiles() const { return quarantineScreen_->files(); }
bool Workstation::selectQuarantined(const QString& file) { return quarantineScreen_->select(file); }
bool Workstation::decideQuarantined(const QString& file, bool release, const QString& reason, const QString& password, QString* why) {
    return quarantineScreen_->decide(file, release, reason, password, why);
}
bool Workstation::askDecideQuarantined(bool release) { return quarantineScreen_->askDecide(release); }
void Workstation::setEnrolmentFile(const QString& csv) { quarantineScreen_->setEnrolmentFile(csv); }

// ---- the screen state machine
void Workstation::showImages() {
    centralStack_->setCurrentIndex(0);
    setScreen(Screen::Images); // signed out of a trial: stays SignedOut (nothing of the trial is shown)
}

bool Workstation::setScreen(Screen to) {
    const ScreenMode::Role role = signedIn_ ? ScreenMode::Role(signedIn_->session.role) : std::nullopt;
    return mode_.enter(to, role, !database_.isEmpty());
}

} // namespace vg
