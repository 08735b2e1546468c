#pragma once
// The trial's images on a DICOMweb server (the multi-site store): the workstation asks the
// queue which study folders a user may open (as with the local store), and this fetches just
// those studies - QIDO-RS to find each by its folder name (store::studyFolderName: study date
// and the tail of its UID), WADO-RS for its image series - into a session cache: a private 0700
// temporary folder, emptied at sign-out and removed when the workstation closes (or, if it was
// killed, by the next workstation that starts). Nothing that the queue did not open is ever requested.
// Each series is decoded while it streams in (vw::streamSeries): its first image is shown in the
// fetch dialog at once, with the progress bar, and the finished volume stays in memory (within
// a budget) so the pane shows it without reading the cache files again.
#include "viewerweb/DicomWeb.h"

#include "viewercore/Series.h"

#include <QImage>
#include <QStringList>
#include <QTemporaryDir>

#include <cstdint>
#include <list>
#include <set>
#include <vector>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

class QWidget;

namespace vg {

class WebStore {
public:
    WebStore(const QString& url, const vw::Endpoint& credentials);
    /// The local folder holding a study folder's images ("PSEUDONYM/DATE_UIDTAIL"), fetched if
    /// it is not in the cache yet with the queue's image token for it (Queue::issueImageToken:
    /// the gate in front of the server allows a reader's account nothing else), with a progress
    /// dialog over `parent`. Only image series (store::isImageModality): never the reports the
    /// PACS holds in the same study. Throws vw::WebError.
    std::filesystem::path fetch(const std::string& folder, const std::string& token, QWidget* parent);
    /// True when a study folder's images are in the cache already (nothing to fetch).
    bool cached(const std::string& folder) const;
    /// Empties the cache (sign-out).
    void clear();
    std::filesystem::path cacheFolder() const;
    QString url() const { return url_; }

    /// A volume decoded while its series streamed in, when it is still held and is the volume
    /// `geometry` describes; null otherwise (the pane then reads the cache files).
    std::shared_ptr<vc::Volume> volume(const vc::Series& series, const vc::Geometry& geometry) const;
    /// How much decoded image data the store keeps in memory (oldest dropped first).
    void setMemoryBudget(std::size_t bytes) { budget_ = bytes; }
    /// How much the session cache may hold on disk (default 20 GB): beyond it the study folders
    /// used least recently are removed (fetched again, with a new token, if opened again) -
    /// never the one just fetched nor those pinned (the subject on screen), so one subject
    /// larger than the budget still opens.
    void setDiskBudget(std::uintmax_t bytes) { diskBudget_ = bytes; }
    /// The study folders of the subject on screen: kept whatever the budget.
    void pin(std::set<std::string> folders) { pinned_ = std::move(folders); }
    /// What the session cache holds now (bytes of the study folders fetched and kept).
    std::uintmax_t cachedBytes() const;

    /// The last fetch as the reader saw it (tests, the status bar).
    struct FetchReport {
        std::size_t instances = 0, expected = 0;
        std::size_t arrivedAtFirstImage = 0; ///< instances in when the first image was on screen
        double firstImageSeconds = -1, seconds = 0;
        QImage preview; ///< the image the dialog showed first
    };
    const FetchReport& lastFetch() const { return last_; }

private:
    QString url_;
    std::unique_ptr<vw::Client> client_;
    std::unique_ptr<QTemporaryDir> cache_;
    bool busy_ = false; ///< a fetch is running (its progress dialog runs the event loop)
    struct Held {
        std::string seriesUid;
        std::shared_ptr<vc::Volume> volume;
    };
    std::list<Held> volumes_; ///< newest first
    struct Cached {
        std::string folder;
        std::uintmax_t bytes = 0;
        std::vector<std::string> seriesUids;
    };
    std::list<Cached> lru_; ///< the session cache's study folders, most recently used first
    std::set<std::string> pinned_;
    std::uintmax_t diskBudget_ = std::uintmax_t{20} << 30;
    void evict(const std::string& keep);
    std::size_t budget_ = std::size_t{3} << 30;
    FetchReport last_;
};

} // namespace vg
