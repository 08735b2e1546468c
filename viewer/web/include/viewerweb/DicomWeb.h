#pragma once
// A DICOMweb client for the trial's Orthanc (or any PS3.18 server): QIDO-RS searches, WADO-RS
// series retrieval streamed to files (multipart/related; type="application/dicom", each part
// written as it completes, several series requests in flight), STOW-RS. libcurl underneath; HTTPS
// verified against the CA the site configured (and only that CA), Basic authentication from a
// 0600 configuration file - never a command line. Synchronous calls (no event loop inside:
// a caller's progress callback may run Qt's, the client is not re-entered by it).
#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QUrl>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace vw {

struct WebError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Endpoint {
    QUrl base; ///< e.g. https://127.0.0.1:8443/dicom-web (the DICOMweb root)
    QString user, password;
    QString caFile; ///< PEM of the CA to trust (empty: the system's)
    /// Reads a configuration file (JSON: url, user, password, ca). Refused when others than its
    /// owner may read it (it holds a password).
    static Endpoint fromConfig(const std::filesystem::path& file);
    /// "dicomweb+https://host:port/dicom-web" -> https://host:port/dicom-web (any other scheme: WebError).
    static QUrl storeUrl(const QString& spec);
};

struct SeriesRequest {
    std::string study, series;
    std::filesystem::path folder; ///< where its instances are written (created); empty: kept in memory only
    /// Without a folder: each instance's Part 10 bytes, as soon as its part has arrived (a view
    /// valid during the call) - the workstation decodes them straight into the volume, so
    /// nothing of the images rests on the reader's disk.
    std::function<void(QByteArrayView instance)> onBytes;
    /// Not empty: only this instance of the series (WADO-RS .../instances/{instance}).
    std::string instance = {};
};

struct FetchStats {
    std::size_t instances = 0, bytes = 0;
    double firstInstanceSeconds = -1; ///< from the start to the first instance on disk
    double seconds = 0;
};

class Client {
public:
    explicit Client(Endpoint endpoint);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    /// GET {base}/{path}?{query}, Accept application/dicom+json: the JSON array (empty array for 204).
    nlohmann::json qido(const std::string& path, const std::vector<std::pair<std::string, std::string>>& query = {});

    /// Retrieves whole series (WADO-RS /studies/{s}/series/{x}), at most `inFlight` requests at
    /// once; each instance is written to its request's folder (a temporary, then a rename; not
    /// synced - a cache) as soon as its part has arrived. `onInstance(done)` after each. Throws WebError
    /// naming the series on any failure (what was written stays: a retry overwrites it).
    FetchStats fetchSeries(const std::vector<SeriesRequest>& requests, int inFlight = 4,
                           const std::function<void(std::size_t done)>& onInstance = {});

    /// GET any path of the server (not only DICOMweb: base's origin + path) to a file; bytes.
    std::size_t download(const std::string& absolutePath, const std::filesystem::path& file);

    /// STOW-RS: stores DICOM instances (Part 10 bytes) into {base}/studies; throws WebError with
    /// the server's reason when any is refused.
    void stow(const std::vector<QByteArray>& instances);

    const Endpoint& endpoint() const;
    /// The queue's image token (Queue::issueImageToken) sent with every request as X-Reluth-Token:
    /// what the gate in front of the server checks for a reader's or adjudicator's account.
    void setImageToken(const std::string& token);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Writes one fetched instance into a cache folder: a temporary renamed into place, not synced
/// (a cache, fetched again if lost: QSaveFile's fsync per instance cost 3 s for a 600-slice
/// series). Throws WebError naming the file.
void writeCacheFile(const std::filesystem::path& file, QByteArrayView bytes);

/// Splits a multipart/related body incrementally: feed() the bytes as they arrive, each
/// complete part's body goes to onPart. Throws WebError on a malformed stream.
class MultipartReader {
public:
    /// onPart gets each body as a view valid only during the call.
    MultipartReader(const QByteArray& contentType, std::function<void(QByteArrayView body)> onPart);
    void feed(const QByteArray& bytes);
    /// At the end of the body: true when the closing boundary was seen.
    bool finished() const { return done_; }

private:
    QByteArray boundary_, buffer_;
    std::function<void(QByteArrayView)> onPart_;
    qsizetype pos_ = 0;     ///< where the unread bytes start
    qsizetype scanned_ = 0; ///< how much of buffer_ was searched for the delimiter
    bool started_ = false, done_ = false;
};

} // namespace vw
