#include "WebStore.h"

#include "store/Layout.h"
#include "viewerweb/StreamLoad.h"

#include <QApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFileInfo>
#include <QLabel>
#include <QPixmap>
#include <QProgressBar>
#include <QVBoxLayout>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <mutex>
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

/// What the fetch dialog shows of a decoded image: CT in a soft-tissue window (W 400, L 40),
/// anything else stretched between its own lowest and highest values.
QImage windowed(const vc::SliceHeader& h, const std::int16_t* px) {
    const int w = h.columns, ht = h.rows;
    const std::size_t n = static_cast<std::size_t>(w) * static_cast<std::size_t>(ht);
    double lo = -160, hi = 240;
    if (h.modality != "CT") {
        const auto [mn, mx] = std::minmax_element(px, px + n);
        lo = *mn;
        hi = std::max<double>(*mx, lo + 1);
    }
    QImage image(w, ht, QImage::Format_Grayscale8);
    for (int y = 0; y < ht; ++y) {
        uchar* line = image.scanLine(y);
        const std::int16_t* row = px + static_cast<std::size_t>(y) * static_cast<std::size_t>(w);
        for (int x = 0; x < w; ++x) line[x] = static_cast<uchar>(std::clamp((row[x] - lo) * 255.0 / (hi - lo), 0.0, 255.0));
    }
    return image;
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
    volumes_.clear();
    lru_.clear();
    pinned_.clear();
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
    if (fs::exists(local / ".complete")) {
        for (auto it = lru_.begin(); it != lru_.end(); ++it)
            if (it->folder == folder) {
                lru_.splice(lru_.begin(), lru_, it); // used again: the newest
                break;
            }
        return local;
    }
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
    struct Wanted {
        std::string uid;
        std::size_t count = 0;
    };
    std::vector<Wanted> wanted;
    std::size_t total = 0;
    for (const std::string& modality : modalities) {
        for (const auto& s : client_->qido("studies/" + studyUid + "/series", {{"Modality", modality}, {"includefield", "00201209"}})) {
            const std::string uid = firstValue(s, "0020000E");
            if (uid.empty()) continue;
            const std::size_t count = static_cast<std::size_t>(std::max(0LL, std::atoll(firstValue(s, "00201209").c_str())));
            wanted.push_back({uid, count});
            total += count;
        }
    }
    if (wanted.empty()) throw vw::WebError("the server has no images in study " + studyName + " of " + patient);

    // the fetch dialog: the first image as soon as it is decoded, the progress bar, Cancel.
    // Nothing in it names the subject or the study (a blinded reader sees it): pixels and counts.
    QDialog dialog(parent);
    dialog.setObjectName("webFetchProgress");
    dialog.setWindowTitle(QApplication::translate("WebStore", "Fetching images"));
    dialog.setWindowModality(Qt::WindowModal);
    auto* layout = new QVBoxLayout(&dialog);
    auto* preview = new QLabel(&dialog);
    preview->setObjectName("webFetchPreview");
    preview->setFixedSize(320, 320);
    preview->setAlignment(Qt::AlignCenter);
    preview->setStyleSheet("background: black; color: #aaa;");
    preview->setText(QApplication::translate("WebStore", "Waiting for the first image…"));
    auto* label = new QLabel(QApplication::translate("WebStore", "Fetching images from the trial's server…"), &dialog);
    auto* bar = new QProgressBar(&dialog);
    bar->setObjectName("webFetchBar");
    bar->setRange(0, static_cast<int>(std::max<std::size_t>(total, 1)));
    bar->setValue(0);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, &dialog);
    layout->addWidget(preview, 0, Qt::AlignHCenter);
    layout->addWidget(label);
    layout->addWidget(bar);
    layout->addWidget(buttons);
    std::atomic<bool> cancelled{false};
    // Cancel, Escape and the window's close button all stop the fetch
    QObject::connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    QObject::connect(&dialog, &QDialog::rejected, &dialog, [&] { cancelled = true; });
    dialog.show();
    QCoreApplication::processEvents();

    last_ = FetchReport{};
    last_.expected = total;
    const auto t0 = std::chrono::steady_clock::now();
    auto since = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    std::mutex pendingMutex;
    QImage pending; // made by the decoding thread, shown by this one
    auto lastEvents = std::chrono::steady_clock::now();
    vw::StreamCallbacks cb;
    cb.cancel = &cancelled;
    cb.firstImage = [&](std::size_t, const vc::SliceHeader& h, const std::int16_t* px) {
        QImage image = windowed(h, px);
        std::lock_guard lock(pendingMutex);
        if (pending.isNull()) pending = std::move(image);
    };
    cb.progress = [&](std::size_t done, std::size_t) {
        last_.instances = done;
        bar->setValue(static_cast<int>(std::min(done, static_cast<std::size_t>(bar->maximum()))));
        QImage show;
        {
            std::lock_guard lock(pendingMutex);
            std::swap(show, pending);
        }
        if (!show.isNull()) {
            preview->setPixmap(QPixmap::fromImage(show.scaled(preview->size(), Qt::KeepAspectRatio, Qt::SmoothTransformation)));
            if (last_.preview.isNull()) {
                last_.preview = show;
                last_.firstImageSeconds = since();
                last_.arrivedAtFirstImage = done;
            }
        }
        label->setText(QApplication::translate("WebStore", "%1 of %2 images received").arg(done).arg(total));
        // the dialog stays alive (Cancel, repaint) without slowing the transfer down
        if (!show.isNull() || std::chrono::steady_clock::now() - lastEvents > std::chrono::milliseconds(40)) {
            QCoreApplication::processEvents();
            lastEvents = std::chrono::steady_clock::now();
        }
    };
    std::vector<vw::SeriesToStream> requests;
    for (const Wanted& w : wanted) requests.push_back({studyUid, w.uid, w.count, local / w.uid});
    std::vector<vw::StreamedSeries> got;
    try {
        got = vw::streamSeries(*client_, requests, cb, 4); // several series requests in flight
    } catch (const vw::WebError& e) {
        if (cancelled) throw vw::WebError("fetching the images was cancelled; open the subject again to fetch them");
        throw;
    }
    for (const vw::StreamedSeries& g : got) {
        if (!g.volume) continue;
        // the newest first; the oldest are dropped beyond the budget (the pane then reads the files)
        volumes_.remove_if([&](const Held& h) { return h.seriesUid == g.series.uid; });
        volumes_.push_front({g.series.uid, g.volume});
        std::size_t held = 0;
        for (auto it = volumes_.begin(); it != volumes_.end();) {
            held += it->volume->voxels.size() * sizeof(std::int16_t);
            it = held > budget_ && it != volumes_.begin() ? volumes_.erase(it) : std::next(it);
        }
    }
    last_.seconds = since();
    bar->setValue(bar->maximum());
    std::ofstream(local / ".complete") << "fetched\n";
    // what the folder holds on disk: the instances as they were written, and the marker
    Cached entry{folder, fs::file_size(local / ".complete"), {}};
    for (const vw::StreamedSeries& g : got) {
        entry.bytes += g.stats.bytes;
        entry.seriesUids.push_back(g.series.uid);
    }
    lru_.remove_if([&](const Cached& c) { return c.folder == folder; });
    lru_.push_front(std::move(entry));
    evict(folder);
    return local;
}

void WebStore::evict(const std::string& keep) {
    std::uintmax_t total = cachedBytes();
    // the least recently used first; never the study just fetched nor those of the subject open
    for (auto it = lru_.end(); total > diskBudget_ && it != lru_.begin();) {
        --it;
        if (it->folder == keep || pinned_.count(it->folder)) continue;
        std::error_code ec;
        fs::remove_all(cacheFolder() / it->folder, ec);
        for (const std::string& uid : it->seriesUids)
            volumes_.remove_if([&](const Held& h) { return h.seriesUid == uid; });
        total -= it->bytes;
        it = lru_.erase(it);
    }
}

std::uintmax_t WebStore::cachedBytes() const {
    std::uintmax_t total = 0;
    for (const Cached& c : lru_) total += c.bytes;
    return total;
}

std::shared_ptr<vc::Volume> WebStore::volume(const vc::Series& series, const vc::Geometry& geometry) const {
    for (const Held& h : volumes_) {
        if (h.seriesUid != series.uid) continue;
        const vc::Geometry& g = h.volume->geometry;
        auto near = [](const std::array<double, 3>& a, const std::array<double, 3>& b) {
            return std::abs(a[0] - b[0]) < 1e-4 && std::abs(a[1] - b[1]) < 1e-4 && std::abs(a[2] - b[2]) < 1e-4;
        };
        if (g.nx == geometry.nx && g.ny == geometry.ny && g.nz == geometry.nz && near(g.origin, geometry.origin) &&
            near(g.spacing, geometry.spacing) && near(g.normal, geometry.normal) && near(g.row, geometry.row) &&
            near(g.column, geometry.column) && h.volume->voxels.size() == static_cast<std::size_t>(g.nx) * g.ny * g.nz)
            return h.volume;
    }
    return nullptr;
}

} // namespace vg
