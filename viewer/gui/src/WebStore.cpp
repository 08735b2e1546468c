#include "WebStore.h"

#include "store/Layout.h"

#include <QApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProgressDialog>

#include <signal.h>

#include <fstream>
#include <set>

namespace vg {

namespace fs = std::filesystem;

namespace {

std::string firstValue(const nlohmann::json& item, const char* tag) {
    const auto it = item.find(tag);
    if (it == item.end() || !it->contains("Value") || (*it)["Value"].empty()) return {};
    const auto& v = (*it)["Value"][0];
    return v.is_string() ? v.get<std::string>() : v.dump();
}

} // namespace

WebStore::WebStore(const QString& url, const vw::Endpoint& credentials) : url_(url) {
    vw::Endpoint e = credentials;
    e.base = vw::Endpoint::storeUrl(url);
    client_ = std::make_unique<vw::Client>(e);
    clear();
}

void WebStore::clear() {
    cache_.reset();
    // what a workstation that was killed left behind (its pid is gone): removed, never kept
    for (const QFileInfo& old : QDir(QDir::tempPath()).entryInfoList({"reluth-cache-*"}, QDir::Dirs | QDir::NoDotAndDotDot)) {
        if (!old.isWritable()) continue; // another user's
        QFile pid(old.absoluteFilePath() + "/.pid");
        const qint64 owner = pid.open(QIODevice::ReadOnly) ? pid.readAll().trimmed().toLongLong() : 0;
        if (owner > 0 && (owner == QCoreApplication::applicationPid() || ::kill(static_cast<pid_t>(owner), 0) == 0)) continue;
        if (owner <= 0 && old.lastModified().secsTo(QDateTime::currentDateTime()) < 60) continue; // being made just now
        QDir(old.absoluteFilePath()).removeRecursively();
    }
    cache_ = std::make_unique<QTemporaryDir>(QDir::tempPath() + "/reluth-cache-XXXXXX"); // 0700, removed with it
    if (!cache_->isValid()) throw vw::WebError("cannot create the image cache: " + cache_->errorString().toStdString());
    QFile pid(cache_->filePath(".pid"));
    if (pid.open(QIODevice::WriteOnly)) pid.write(QByteArray::number(QCoreApplication::applicationPid()) + "\n");
}

fs::path WebStore::cacheFolder() const { return cache_->path().toStdString(); }

bool WebStore::cached(const std::string& folder) const { return fs::exists(cacheFolder() / folder / ".complete"); }

fs::path WebStore::fetch(const std::string& folder, const std::string& token, QWidget* parent) {
    const auto slash = folder.find('/');
    if (slash == std::string::npos) throw vw::WebError("'" + folder + "' is not a study folder (SUBJECT/STUDY)");
    const std::string patient = folder.substr(0, slash), studyName = folder.substr(slash + 1);
    const fs::path local = cacheFolder() / folder;
    if (fs::exists(local / ".complete")) return local;
    // the progress dialog runs the event loop: a second open (a click, a timer) while a study is
    // arriving must not fetch it again into the same folder
    if (busy_) throw vw::WebError("still fetching images from the server; try again in a moment");
    busy_ = true;
    struct Done {
        bool& b;
        ~Done() { b = false; }
    } done{busy_};
    std::error_code ec;
    fs::remove_all(local, ec); // what an interrupted fetch left
    // the searches a reader's account may make (reader-queue/gate): this folder's patient and
    // date, then its series one image modality at a time - so reports (SR) are never asked for
    client_->setImageToken(token);
    const auto date = store::studyDateOfFolder(studyName);
    if (!date || date->empty()) throw vw::WebError(folder + " has no study date: it cannot be looked up on the server");
    std::string studyUid;
    std::set<std::string> modalities; // the study's image modalities, each searched once
    for (const auto& s : client_->qido("studies", {{"PatientID", patient}, {"StudyDate", *date}, {"includefield", "00080061"}}))
        if (store::studyFolderName(firstValue(s, "00080020"), firstValue(s, "0020000D")) == studyName) {
            studyUid = firstValue(s, "0020000D");
            if (const auto it = s.find("00080061"); it != s.end() && it->contains("Value"))
                for (const auto& m : (*it)["Value"])
                    if (m.is_string() && store::isImageModality(m.get<std::string>())) modalities.insert(m.get<std::string>());
        }
    if (studyUid.empty()) throw vw::WebError("the server has no study " + studyName + " of " + patient);
    std::vector<vw::SeriesRequest> requests;
    std::size_t total = 0;
    for (const std::string& modality : modalities) {
        for (const auto& s : client_->qido("studies/" + studyUid + "/series", {{"Modality", modality}, {"includefield", "00201209"}})) {
            const std::string uid = firstValue(s, "0020000E");
            if (uid.empty()) continue;
            requests.push_back({studyUid, uid, local / uid, {}});
            total += static_cast<std::size_t>(std::atoll(firstValue(s, "00201209").c_str()));
        }
    }
    if (requests.empty()) throw vw::WebError("the server has no images in study " + studyName + " of " + patient);
    QProgressDialog progress(QApplication::translate("WebStore", "Fetching images from the trial's server…"), QString(), 0,
                             static_cast<int>(std::max<std::size_t>(total, 1)), parent);
    progress.setObjectName("webFetchProgress");
    progress.setWindowModality(Qt::WindowModal);
    progress.setMinimumDuration(300);
    client_->fetchSeries(requests, 4, [&](std::size_t done) { progress.setValue(static_cast<int>(std::min(done, total))); });
    progress.setValue(progress.maximum());
    std::ofstream(local / ".complete") << "fetched\n";
    return local;
}

} // namespace vg
