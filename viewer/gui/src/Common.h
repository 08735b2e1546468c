#pragma once
// Small pieces the workstation's screens share (internal to viewer/gui).
#include <QDialog>
#include <QString>
#include <QStringList>

#include <functional>

class QAbstractAxis;
class QChart;
class QComboBox;
class QDialogButtonBox;
class QFormLayout;
class QLabel;
class QLineEdit;

namespace vg {

/// A modal form whose OK tries an action (sign in, sign, decide, close a reading): the
/// action's refusal is shown under the fields - the queue's own words - and the password, if
/// any, is cleared, until the action succeeds or the user cancels.
class FormDialog : public QDialog {
public:
    FormDialog(QWidget* parent, const QString& objectName, const QString& title, const QString& okText, const QString& errorName);
    QFormLayout* form() const { return form_; }
    void addText(const QString& text);
    QLineEdit* addLine(const QString& label, const QString& objectName, const QString& value = {});
    QLineEdit* addPassword(const QString& label, const QString& objectName);
    /// The meaning of an electronic signature (21 CFR 11.50): the first is proposed, any can be typed.
    QComboBox* addMeaning(const QStringList& meanings);
    bool run(const std::function<bool(QString* why)>& attempt);

private:
    QFormLayout* form_;
    QLabel* error_;
    QLineEdit* password_ = nullptr;
    QDialogButtonBox* buttons_;
};

/// Attaches every series of a chart to its two axes (added to the chart here).
void attachAxes(QChart* chart, QAbstractAxis* x, QAbstractAxis* y);

} // namespace vg
