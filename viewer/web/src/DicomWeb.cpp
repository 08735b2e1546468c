#include "viewerweb/DicomWeb.h"

#include <QFile>
#include <QUrlQuery>

#include <curl/curl.h>
#include <sys/stat.h>

#include <cctype>
#include <cstring>
#include <fstream>
#include <map>
#include <string_view>

namespace vw {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
Endpoint Endpoint::fromConfig(const fs::path& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) throw WebError(file.string() + ": no such DICOMweb configuration");
    if (st.st_mode & 077)
        throw WebError(file.string() + ": holds a password but others may read it; make it 0600 (chmod 600 " + file.string() + ")");
    std::ifstream in(file);
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw WebError(file.string() + ": not JSON (" + e.what() + ")");
    }
    Endpoint e;
    try {
        e.base = storeUrl(QString::fromStdString(j.at("url").get<std::string>()));
        e.user = QString::fromStdString(j.value("user", ""));
        e.password = QString::fromStdString(j.value("password", ""));
        e.caFile = QString::fromStdString(j.value("ca", ""));
    } catch (const nlohmann::json::exception& x) {
        throw WebError(file.string() + ": " + x.what() + " (keys: url, user, password, ca)");
    }
    return e;
}

QUrl Endpoint::storeUrl(const QString& spec) {
    QString s = spec;
    if (s.startsWith("dicomweb+")) s = s.mid(9);
    const QUrl u(s);
    if (!u.isValid() || (u.scheme() != "https" && u.scheme() != "http") || u.host().isEmpty())
        throw WebError("'" + spec.toStdString() + "' is not a DICOMweb store (dicomweb+https://HOST[:PORT]/PATH)");
    return u;
}

// ---------------------------------------------------------------------------------------------
void writeCacheFile(const fs::path& file, QByteArrayView bytes) {
    const fs::path tmp = file.string() + ".part";
    {
        QFile out(QString::fromStdString(tmp.string()));
        if (!out.open(QIODevice::WriteOnly) || out.write(bytes.data(), bytes.size()) != bytes.size())
            throw WebError(file.string() + ": cannot write");
    }
    std::error_code ec;
    fs::rename(tmp, file, ec);
    if (ec) throw WebError(file.string() + ": cannot write (" + ec.message() + ")");
}

// ---------------------------------------------------------------------------------------------
MultipartReader::MultipartReader(const QByteArray& contentType, std::function<void(QByteArrayView body)> onPart)
    : onPart_(std::move(onPart)) {
    if (!contentType.toLower().startsWith("multipart/related")) throw WebError("not multipart/related: " + contentType.toStdString());
    for (QByteArray param : contentType.split(';')) {
        param = param.trimmed();
        if (param.toLower().startsWith("boundary=")) {
            boundary_ = param.mid(9);
            if (boundary_.startsWith('"') && boundary_.endsWith('"') && boundary_.size() >= 2)
                boundary_ = boundary_.mid(1, boundary_.size() - 2);
        }
    }
    if (boundary_.isEmpty() || boundary_.size() > 200)
        throw WebError("multipart/related without a usable boundary: " + contentType.toStdString());
    boundary_.prepend("--");
}

void MultipartReader::feed(const QByteArray& bytes) {
    if (done_) return;
    // the unread bytes are buffer_[pos_, size): parts are handed out as views into the buffer
    // and the buffer is compacted only now and then (copying the rest down after every part
    // cost more than the network on a 600-slice series). It is compacted in place and keeps its
    // allocation: a buffer that grew into new memory paid a page fault per 4 kB it touched.
    if (pos_ > 0 && (pos_ >= buffer_.size() || pos_ > (8 << 20))) {
        const qsizetype rest = buffer_.size() - pos_;
        if (rest > 0) std::memmove(buffer_.data(), buffer_.constData() + pos_, static_cast<std::size_t>(rest));
        buffer_.resize(rest); // smaller: the capacity stays
        scanned_ = std::max<qsizetype>(0, scanned_ - pos_);
        pos_ = 0;
    }
    if (buffer_.capacity() < (16 << 20) && buffer_.size() + bytes.size() > buffer_.capacity())
        buffer_.reserve(std::max<qsizetype>(16 << 20, buffer_.size() + bytes.size()));
    buffer_.append(bytes);
    for (;;) {
        if (!started_) {
            const qsizetype at = buffer_.indexOf(boundary_, pos_);
            if (at < 0) {
                if (buffer_.size() - pos_ > 4096) throw WebError("multipart body: no boundary in its first 4 kB");
                return;
            }
            pos_ = at;
            started_ = true;
        }
        // buffer_ at pos_ starts with a boundary: "--B\r\n" (a part follows) or "--B--" (the end)
        if (buffer_.size() - pos_ < boundary_.size() + 2) return;
        if (buffer_.at(pos_ + boundary_.size()) == '-' && buffer_.at(pos_ + boundary_.size() + 1) == '-') {
            done_ = true;
            buffer_.clear();
            pos_ = 0;
            return;
        }
        const qsizetype headersEnd = buffer_.indexOf("\r\n\r\n", pos_ + boundary_.size());
        if (headersEnd < 0) {
            if (buffer_.size() - pos_ > 64 * 1024) throw WebError("multipart part: headers longer than 64 kB");
            return;
        }
        const qsizetype bodyStart = headersEnd + 4;
        const QByteArray delimiter = "\r\n" + boundary_;
        // search only what was not searched before (a part arrives in many chunks)
        const qsizetype from = std::max(bodyStart, scanned_ - delimiter.size());
        const qsizetype bodyEnd = buffer_.indexOf(delimiter, from);
        if (bodyEnd < 0) { // the part is still arriving
            scanned_ = buffer_.size();
            return;
        }
        onPart_(QByteArrayView(buffer_.constData() + bodyStart, bodyEnd - bodyStart));
        pos_ = bodyEnd + 2; // at the boundary, for the next round
        scanned_ = pos_;
    }
}

// ---------------------------------------------------------------------------------------------
// The transport is libcurl (Debian's, OpenSSL): Qt Network's HTTP client took 0.9-2.0 s for what
// curl moves in 0.6 s (a 600-slice series over loopback), and the full-volume goal of issue 17 is
// within 2x of reading the local store. Qt stays for the byte arrays the callers hold.
namespace {

struct CurlGlobal {
    CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
    ~CurlGlobal() { curl_global_cleanup(); }
};

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i]))) return false;
    return true;
}

std::string trimmed(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return std::string(s);
}

/// One HTTP request and what its answer said so far.
struct Transfer {
    CURL* h = nullptr;
    curl_slist* headers = nullptr;
    std::string what; ///< "QIDO https://...": how errors name it
    long status = 0;
    std::string reason, contentType, gateReason;
    std::string errorBody; ///< the start of a refusal's body (kept for the message)
    std::string thrown;    ///< an exception from a sink: callbacks must not throw through C
    std::function<void(const char*, std::size_t)> sink;
    char errbuf[CURL_ERROR_SIZE] = {};

    Transfer() {
        static CurlGlobal global;
        h = curl_easy_init();
        if (!h) throw WebError("libcurl: cannot make a request");
    }
    ~Transfer() {
        curl_easy_cleanup(h);
        curl_slist_free_all(headers);
    }
    Transfer(const Transfer&) = delete;
    Transfer& operator=(const Transfer&) = delete;
    bool ok() const { return status >= 200 && status < 300; }

    static std::size_t onHeader(char* data, std::size_t size, std::size_t n, void* self) {
        auto* t = static_cast<Transfer*>(self);
        const std::string_view line(data, size * n);
        if (startsWithNoCase(line, "HTTP/")) { // a new answer (after a 100 Continue, too)
            t->contentType.clear();
            t->gateReason.clear();
            const auto sp1 = line.find(' '), sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
            t->reason = sp2 == std::string_view::npos ? std::string() : trimmed(line.substr(sp2 + 1));
        } else if (startsWithNoCase(line, "content-type:")) {
            t->contentType = trimmed(line.substr(13));
        } else if (startsWithNoCase(line, "x-gate-reason:")) {
            t->gateReason = trimmed(line.substr(14));
        }
        return size * n;
    }
    static std::size_t onBody(char* data, std::size_t size, std::size_t n, void* self) {
        auto* t = static_cast<Transfer*>(self);
        if (t->status == 0) curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &t->status);
        if (!t->ok()) { // a refusal's text, for the message
            if (t->errorBody.size() < 400) t->errorBody.append(data, std::min<std::size_t>(size * n, 400 - t->errorBody.size()));
            return size * n;
        }
        try {
            if (t->sink) t->sink(data, size * n);
        } catch (const std::exception& e) {
            t->thrown = e.what();
            return 0; // aborts the transfer (CURLE_WRITE_ERROR)
        }
        return size * n;
    }

    /// The reason the finished request failed, as a person can act on it; "" when it did not.
    std::string failure(CURLcode rc) {
        if (!thrown.empty()) return what + ": " + thrown;
        if (rc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        const std::string detail = errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
        std::string why;
        if (rc == CURLE_PEER_FAILED_VERIFICATION)
            why = "the server's certificate is not trusted (" + detail + "): check the CA the site configured";
        else if (rc == CURLE_SSL_CONNECT_ERROR)
            why = "the TLS connection failed (" + detail + ")";
        else if (rc != CURLE_OK)
            why = detail;
        else if (ok())
            return {};
        else if (status == 403 && !gateReason.empty())
            why = "the trial's gate refused it: " + gateReason;
        else if (status == 401 || status == 403)
            why = "the server refused the account (HTTP " + std::to_string(status) + ")";
        else
            why = "HTTP " + std::to_string(status) + (reason.empty() ? "" : " " + reason);
        return what + ": " + why;
    }
};

} // namespace

struct Client::Impl {
    Endpoint e;
    std::string token; ///< X-Reluth-Token: the queue's image token for the gate (empty: none)

    explicit Impl(Endpoint ep) : e(std::move(ep)) {
        if (!e.caFile.isEmpty()) {
            QFile pem(e.caFile);
            if (!pem.open(QIODevice::ReadOnly) || !pem.readAll().contains("-----BEGIN CERTIFICATE-----"))
                throw WebError(e.caFile.toStdString() + ": no CA certificate (PEM) in it");
        }
    }
    std::string url(const std::string& path) const {
        QUrl u = e.base;
        QString p = u.path();
        if (!p.endsWith('/')) p += '/';
        u.setPath(p + QString::fromStdString(path.size() && path[0] == '/' ? path.substr(1) : path));
        return u.toString(QUrl::FullyEncoded).toStdString();
    }
    /// A request to `url` with the site's TLS trust, the account and the token.
    std::unique_ptr<Transfer> request(const std::string& url, const std::string& accept, const std::string& what) const {
        auto t = std::make_unique<Transfer>();
        CURL* h = t->h;
        t->what = what + " " + url;
        curl_easy_setopt(h, CURLOPT_URL, url.c_str());
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->errbuf);
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
        if (!e.caFile.isEmpty()) { // this CA only: not the system's bundle, not its folder
            const std::string ca = e.caFile.toStdString();
            curl_easy_setopt(h, CURLOPT_CAINFO, ca.c_str());
            curl_easy_setopt(h, CURLOPT_CAPATH, nullptr);
        }
        if (!e.user.isEmpty()) {
            const std::string user = e.user.toStdString(), password = e.password.toStdString();
            curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
            curl_easy_setopt(h, CURLOPT_USERNAME, user.c_str());
            curl_easy_setopt(h, CURLOPT_PASSWORD, password.c_str());
        }
        t->headers = curl_slist_append(t->headers, ("Accept: " + accept).c_str());
        t->headers = curl_slist_append(t->headers, "Expect:");
        if (!token.empty()) t->headers = curl_slist_append(t->headers, ("X-Reluth-Token: " + token).c_str());
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, t->headers);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
        // a stalled answer (nothing for 2 minutes) fails; a long one that moves does not
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 120L);
        curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 512L * 1024L);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Transfer::onHeader);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, t.get());
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Transfer::onBody);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, t.get());
        return t;
    }
};

Client::Client(Endpoint endpoint) : impl_(std::make_unique<Impl>(std::move(endpoint))) {}
Client::~Client() = default;
const Endpoint& Client::endpoint() const { return impl_->e; }
void Client::setImageToken(const std::string& token) { impl_->token = token; }

nlohmann::json Client::qido(const std::string& path, const std::vector<std::pair<std::string, std::string>>& query) {
    QUrl u(QString::fromStdString(impl_->url(path)));
    QUrlQuery q;
    for (const auto& [k, v] : query) q.addQueryItem(QString::fromStdString(k), QString::fromStdString(v));
    u.setQuery(q);
    auto t = impl_->request(u.toString(QUrl::FullyEncoded).toStdString(), "application/dicom+json", "QIDO");
    std::string body;
    t->sink = [&](const char* p, std::size_t n) { body.append(p, n); };
    if (const std::string why = t->failure(curl_easy_perform(t->h)); !why.empty()) throw WebError(why);
    if (QByteArray::fromStdString(body).trimmed().isEmpty()) return nlohmann::json::array();
    try {
        auto j = nlohmann::json::parse(body);
        if (!j.is_array()) throw WebError("QIDO " + path + ": the answer is not a JSON array");
        return j;
    } catch (const nlohmann::json::exception& e) {
        throw WebError("QIDO " + path + ": not JSON (" + e.what() + ")");
    }
}

FetchStats Client::fetchSeries(const std::vector<SeriesRequest>& requests, int inFlight,
                               const std::function<void(std::size_t)>& onInstance) {
    FetchStats stats;
    const auto t0 = std::chrono::steady_clock::now();
    auto counted = [&](std::size_t bytes) {
        stats.bytes += bytes;
        if (++stats.instances == 1)
            stats.firstInstanceSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (onInstance) onInstance(stats.instances);
    };
    struct Running {
        std::unique_ptr<Transfer> t;
        std::unique_ptr<MultipartReader> reader;
        std::size_t n = 0;
    };
    std::unique_ptr<CURLM, CURLMcode (*)(CURLM*)> multi(curl_multi_init(), &curl_multi_cleanup);
    if (!multi) throw WebError("libcurl: cannot make a request");
    std::map<CURL*, std::unique_ptr<Running>> running;
    std::size_t next = 0;
    std::string failure;
    auto start = [&](const SeriesRequest& req) {
        std::error_code ec;
        if (!req.folder.empty()) fs::create_directories(req.folder, ec);
        if (ec) throw WebError(req.folder.string() + ": cannot create (" + ec.message() + ")");
        auto r = std::make_unique<Running>();
        r->t = impl_->request(impl_->url("studies/" + req.study + "/series/" + req.series +
                                         (req.instance.empty() ? std::string() : "/instances/" + req.instance)),
                              "multipart/related; type=\"application/dicom\"; transfer-syntax=*", "WADO");
        Running* self = r.get();
        auto part = [&counted, &req, self](QByteArrayView body) {
            if (req.folder.empty()) {
                if (req.onBytes) req.onBytes(body);
                counted(static_cast<std::size_t>(body.size()));
                return;
            }
            writeCacheFile(req.folder / (std::to_string(self->n++) + ".dcm"), body);
            counted(static_cast<std::size_t>(body.size()));
        };
        r->t->sink = [self, part](const char* p, std::size_t n) {
            if (!self->reader) self->reader = std::make_unique<MultipartReader>(QByteArray::fromStdString(self->t->contentType), part);
            self->reader->feed(QByteArray::fromRawData(p, static_cast<qsizetype>(n)));
        };
        curl_multi_add_handle(multi.get(), r->t->h);
        running.emplace(r->t->h, std::move(r));
    };
    try {
        while (failure.empty() && (next < requests.size() || !running.empty())) {
            while (failure.empty() && next < requests.size() && static_cast<int>(running.size()) < std::max(1, inFlight))
                start(requests[next++]);
            int active = 0;
            if (const CURLMcode mc = curl_multi_perform(multi.get(), &active); mc != CURLM_OK)
                throw WebError(std::string("libcurl: ") + curl_multi_strerror(mc));
            int queued = 0;
            while (CURLMsg* m = curl_multi_info_read(multi.get(), &queued)) {
                if (m->msg != CURLMSG_DONE) continue;
                const auto it = running.find(m->easy_handle);
                if (it == running.end()) continue;
                Running& r = *it->second;
                std::string why = r.t->failure(m->data.result);
                if (why.empty() && (!r.reader || !r.reader->finished()))
                    why = r.t->what + ": the multipart body ended before its closing boundary";
                if (failure.empty()) failure = why;
                curl_multi_remove_handle(multi.get(), m->easy_handle);
                running.erase(it);
            }
            if (failure.empty() && !running.empty()) curl_multi_poll(multi.get(), nullptr, 0, 1000, nullptr);
        }
    } catch (...) {
        for (auto& [h, r] : running) curl_multi_remove_handle(multi.get(), h);
        throw;
    }
    for (auto& [h, r] : running) curl_multi_remove_handle(multi.get(), h);
    if (!failure.empty()) throw WebError(failure);
    stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return stats;
}

std::size_t Client::download(const std::string& absolutePath, const fs::path& file) {
    QUrl u = impl_->e.base;
    u.setPath(QString::fromStdString(absolutePath));
    auto t = impl_->request(u.toString(QUrl::FullyEncoded).toStdString(), "*/*", "GET");
    QFile out(QString::fromStdString(file.string()));
    if (!out.open(QIODevice::WriteOnly)) throw WebError(file.string() + ": cannot write");
    std::size_t bytes = 0;
    t->sink = [&](const char* p, std::size_t n) {
        if (out.write(p, static_cast<qint64>(n)) != static_cast<qint64>(n)) throw WebError(file.string() + ": cannot write");
        bytes += n;
    };
    if (const std::string why = t->failure(curl_easy_perform(t->h)); !why.empty()) throw WebError(why);
    return bytes;
}

void Client::stow(const std::vector<QByteArray>& instances) {
    const std::string boundary =
        "reluth-" + std::to_string(static_cast<unsigned long long>(std::chrono::steady_clock::now().time_since_epoch().count()));
    QByteArray body;
    for (const QByteArray& i : instances)
        body += QByteArray::fromStdString("--" + boundary + "\r\nContent-Type: application/dicom\r\n\r\n") + i + "\r\n";
    body += QByteArray::fromStdString("--" + boundary + "--\r\n");
    auto t = impl_->request(impl_->url("studies"), "application/dicom+json", "STOW");
    t->headers = curl_slist_append(t->headers, ("Content-Type: multipart/related; type=\"application/dicom\"; boundary=" + boundary).c_str());
    curl_easy_setopt(t->h, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(t->h, CURLOPT_POST, 1L);
    curl_easy_setopt(t->h, CURLOPT_POSTFIELDS, body.constData());
    curl_easy_setopt(t->h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    std::string answer;
    t->sink = [&](const char* p, std::size_t n) { answer.append(p, n); };
    if (const std::string why = t->failure(curl_easy_perform(t->h)); !why.empty())
        throw WebError(why + (t->errorBody.empty() ? "" : " - " + t->errorBody));
    // PS3.18: a 200 whose answer lists a Failed SOP Sequence (0008,1198) refused some
    try {
        const auto j = nlohmann::json::parse(answer);
        if (j.contains("00081198") && j["00081198"].contains("Value") && !j["00081198"]["Value"].empty())
            throw WebError("STOW: the server refused " + std::to_string(j["00081198"]["Value"].size()) +
                           " instance(s): " + j["00081198"].dump());
    } catch (const nlohmann::json::exception&) {
        // no JSON answer: the status said success
    }
}

} // namespace vw
