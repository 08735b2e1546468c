#include "Common.h"

#include <QAbstractAxis>
#include <QAbstractSeries>
#include <QChart>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>

namespace vg {

FormDialog::FormDialog(QWidget* parent, const QString& objectName, const QString& title, const QString& okText, const QString& errorName)
    : QDialog(parent) {
    setObjectName(objectName);
    setWindowTitle(title);
    setMinimumWidth(460);
    form_ = new QFormLayout(this);
    error_ = new QLabel;
    error_->setObjectName(errorName);
    error_->setStyleSheet("color: #b00020;");
    error_->setWordWrap(true);
    buttons_ = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    buttons_->button(QDialogButtonBox::Ok)->setText(okText);
    connect(buttons_, &QDialogButtonBox::rejected, this, &QDialog::reject);
}

void FormDialog::addText(const QString& text) {
    auto* label = new QLabel(text);
    label->setWordWrap(true);
    form_->addRow(label);
}

QLineEdit* FormDialog::addLine(const QString& label, const QString& objectName, const QString& value) {
    auto* line = new QLineEdit(value);
    line->setObjectName(objectName);
    form_->addRow(label, line);
    return line;
}

QLineEdit* FormDialog::addPassword(const QString& label, const QString& objectName) {
    password_ = addLine(label, objectName);
    password_->setEchoMode(QLineEdit::Password);
    return password_;
}

QComboBox* FormDialog::addMeaning(const QStringList& meanings) {
    auto* meaning = new QComboBox;
    meaning->setObjectName("meaning");
    meaning->setEditable(true);
    meaning->addItems(meanings);
    form_->addRow(tr("Meaning of the signature"), meaning);
    return meaning;
}

bool FormDialog::run(const std::function<bool(QString* why)>& attempt) {
    form_->addRow(error_);
    form_->addRow(buttons_);
    connect(buttons_, &QDialogButtonBox::accepted, this, [this, attempt] {
        QString why;
        if (attempt(&why)) return accept();
        error_->setText(why);
        if (password_) {
            password_->clear();
            password_->setFocus();
        }
    });
    return exec() == QDialog::Accepted;
}

void attachAxes(QChart* chart, QAbstractAxis* x, QAbstractAxis* y) {
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    for (QAbstractSeries* s : chart->series()) {
        s->attachAxis(x);
        s->attachAxis(y);
    }
}

} // namespace vg
