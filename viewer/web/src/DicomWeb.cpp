#include "viewerweb/DicomWeb.h"

#include <QEventLoop>
#include <QFile>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QTimer>
#include <QUrlQuery>

#include <sys/stat.h>

#include <deque>
#include <fstream>

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
    // cost more than the network on a 600-slice series)
    if (pos_ > 0 && (pos_ >= buffer_.size() || pos_ > (8 << 20))) {
        buffer_.remove(0, pos_);
        scanned_ = std::max<qsizetype>(0, scanned_ - pos_);
        pos_ = 0;
    }
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
struct Client::Impl {
    Endpoint e;
    QNetworkAccessManager nam;
    QSslConfiguration tls;
    QByteArray token; ///< X-Reluth-Token: the queue's image token for the gate (empty: none)

    explicit Impl(Endpoint ep) : e(std::move(ep)) {
        tls = QSslConfiguration::defaultConfiguration();
        if (!e.caFile.isEmpty()) {
            const auto certs = QSslCertificate::fromPath(e.caFile);
            if (certs.isEmpty()) throw WebError(e.caFile.toStdString() + ": no CA certificate (PEM) in it");
            tls.setCaCertificates(certs); // this CA only: a certificate from another is refused
        }
        tls.setPeerVerifyMode(QSslSocket::VerifyPeer);
    }
    QUrl url(const std::string& path) const {
        QUrl u = e.base;
        QString p = u.path();
        if (!p.endsWith('/')) p += '/';
        u.setPath(p + QString::fromStdString(path.size() && path[0] == '/' ? path.substr(1) : path));
        return u;
    }
    QNetworkRequest request(const QUrl& u, const char* accept) const {
        QNetworkRequest r(u);
        r.setSslConfiguration(tls);
        r.setRawHeader("Accept", accept);
        if (!e.user.isEmpty()) r.setRawHeader("Authorization", "Basic " + (e.user + ":" + e.password).toUtf8().toBase64());
        if (!token.isEmpty()) r.setRawHeader("X-Reluth-Token", token);
        r.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
        r.setTransferTimeout(120000);
        return r;
    }
    /// The reason a finished reply failed, as a person can act on it; "" when it did not.
    static std::string failure(QNetworkReply* r, const std::string& what) {
        const int status = r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (r->error() == QNetworkReply::NoError && status >= 200 && status < 300) return {};
        std::string why;
        if (r->error() == QNetworkReply::SslHandshakeFailedError)
            why = "the server's certificate is not trusted (" + r->errorString().toStdString() + "): check the CA the site configured";
        else if (status == 403 && r->hasRawHeader("X-Gate-Reason") && !r->rawHeader("X-Gate-Reason").isEmpty())
            why = "the trial's gate refused it: " + r->rawHeader("X-Gate-Reason").toStdString();
        else if (status == 401 || status == 403)
            why = "the server refused the account (HTTP " + std::to_string(status) + ")";
        else if (status != 0)
            why =
                "HTTP " + std::to_string(status) + " " + r->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString().toStdString();
        else
            why = r->errorString().toStdString();
        return what + ": " + why;
    }
};

Client::Client(Endpoint endpoint) : impl_(std::make_unique<Impl>(std::move(endpoint))) {}
Client::~Client() = default;
const Endpoint& Client::endpoint() const { return impl_->e; }
void Client::setImageToken(const std::string& token) { impl_->token = QByteArray::fromStdString(token); }

nlohmann::json Client::qido(const std::string& path, const std::vector<std::pair<std::string, std::string>>& query) {
    QUrl u = impl_->url(path);
    QUrlQuery q;
    for (const auto& [k, v] : query) q.addQueryItem(QString::fromStdString(k), QString::fromStdString(v));
    u.setQuery(q);
    QNetworkReply* r = impl_->nam.get(impl_->request(u, "application/dicom+json"));
    QEventLoop loop;
    QObject::connect(r, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    std::unique_ptr<QNetworkReply, void (*)(QNetworkReply*)> hold(r, [](QNetworkReply* x) { x->deleteLater(); });
    if (const std::string why = Impl::failure(r, "QIDO " + u.toString().toStdString()); !why.empty()) throw WebError(why);
    const QByteArray body = r->readAll();
    if (body.trimmed().isEmpty()) return nlohmann::json::array();
    try {
        auto j = nlohmann::json::parse(body.constData(), body.constData() + body.size());
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
    std::deque<std::size_t> waiting;
    for (std::size_t i = 0; i < requests.size(); ++i) waiting.push_back(i);
    int running = 0;
    std::string failure;
    QEventLoop loop;
    std::function<void()> startNext = [&] {
        while (running < std::max(1, inFlight) && !waiting.empty() && failure.empty()) {
            const SeriesRequest& req = requests[waiting.front()];
            waiting.pop_front();
            std::error_code ec;
            if (!req.folder.empty()) fs::create_directories(req.folder, ec);
            if (ec) {
                failure = req.folder.string() + ": cannot create (" + ec.message() + ")";
                break;
            }
            const QUrl u = impl_->url("studies/" + req.study + "/series/" + req.series);
            QNetworkReply* r = impl_->nam.get(impl_->request(u, "multipart/related; type=\"application/dicom\"; transfer-syntax=*"));
            ++running;
            auto reader = std::make_shared<std::unique_ptr<MultipartReader>>();
            auto n = std::make_shared<std::size_t>(0);
            auto part = [&, req, n](QByteArrayView body) {
                if (req.folder.empty()) {
                    if (req.onBytes) req.onBytes(body);
                    stats.bytes += static_cast<std::size_t>(body.size());
                    if (++stats.instances == 1)
                        stats.firstInstanceSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                    if (onInstance) onInstance(stats.instances);
                    return;
                }
                const fs::path file = req.folder / (std::to_string((*n)++) + ".dcm");
                // a temporary renamed into place, not synced: this is a cache, fetched again if lost
                // (QSaveFile's fsync per instance cost 3 s for a 600-slice series)
                const fs::path part = file.string() + ".part";
                {
                    QFile out(QString::fromStdString(part.string()));
                    if (!out.open(QIODevice::WriteOnly) || out.write(body.data(), body.size()) != body.size())
                        throw WebError(file.string() + ": cannot write");
                }
                std::error_code rec;
                fs::rename(part, file, rec);
                if (rec) throw WebError(file.string() + ": cannot write (" + rec.message() + ")");
                stats.bytes += static_cast<std::size_t>(body.size());
                if (++stats.instances == 1)
                    stats.firstInstanceSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                if (onInstance) onInstance(stats.instances);
            };
            // a caller's onInstance may run the event loop (a progress dialog does): readyRead and
            // finished can then arrive while a part is being handed out. The parser is never
            // entered twice (found by the GUI test: the same instances written twice), and
            // finished waits until the reading in progress is done.
            auto busy = std::make_shared<bool>(false);
            auto consume = [&, r, reader, part, u, busy] {
                if (*busy) return; // the bytes wait in the reply; the running call reads them
                *busy = true;
                try {
                    do {
                        if (!*reader) {
                            const int status = r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
                            if (status < 200 || status >= 300) break; // the error is read at the end
                            *reader = std::make_unique<MultipartReader>(r->header(QNetworkRequest::ContentTypeHeader).toByteArray(), part);
                        }
                        (*reader)->feed(r->readAll());
                    } while (r->bytesAvailable() > 0);
                } catch (const WebError& e) {
                    if (failure.empty()) failure = "WADO " + u.toString().toStdString() + ": " + e.what();
                    r->abort();
                }
                *busy = false;
            };
            QObject::connect(r, &QNetworkReply::readyRead, &loop, consume);
            auto finish = std::make_shared<std::function<void()>>();
            *finish = [&, r, reader, consume, u, busy, finish] {
                if (*busy) { // finished inside a part's handling: once that is done
                    QTimer::singleShot(0, &loop, [finish] { (*finish)(); });
                    return;
                }
                if (r->bytesAvailable() > 0) consume();
                if (failure.empty()) {
                    if (std::string why = Impl::failure(r, "WADO " + u.toString().toStdString()); !why.empty())
                        failure = why;
                    else if (!*reader || !(*reader)->finished())
                        failure = "WADO " + u.toString().toStdString() + ": the multipart body ended before its closing boundary";
                }
                r->deleteLater();
                --running;
                if (waiting.empty() && running == 0)
                    loop.quit();
                else if (!failure.empty() && running == 0)
                    loop.quit();
                else
                    startNext();
                // the lambda holds itself: the cycle is broken once this call has returned
                QTimer::singleShot(0, &loop, [finish] { *finish = nullptr; });
            };
            QObject::connect(r, &QNetworkReply::finished, &loop, [finish] {
                if (*finish) (*finish)();
            });
        }
        if ((waiting.empty() || !failure.empty()) && running == 0) QTimer::singleShot(0, &loop, &QEventLoop::quit);
    };
    startNext();
    loop.exec();
    if (!failure.empty()) throw WebError(failure);
    stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return stats;
}

std::size_t Client::download(const std::string& absolutePath, const fs::path& file) {
    QUrl u = impl_->e.base;
    u.setPath(QString::fromStdString(absolutePath));
    QNetworkReply* r = impl_->nam.get(impl_->request(u, "*/*"));
    QFile out(QString::fromStdString(file.string()));
    if (!out.open(QIODevice::WriteOnly)) throw WebError(file.string() + ": cannot write");
    std::size_t bytes = 0;
    QEventLoop loop;
    QObject::connect(r, &QNetworkReply::readyRead, &loop, [&] { bytes += static_cast<std::size_t>(out.write(r->readAll())); });
    QObject::connect(r, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    bytes += static_cast<std::size_t>(out.write(r->readAll()));
    std::unique_ptr<QNetworkReply, void (*)(QNetworkReply*)> hold(r, [](QNetworkReply* x) { x->deleteLater(); });
    if (const std::string why = Impl::failure(r, "GET " + u.toString().toStdString()); !why.empty()) throw WebError(why);
    return bytes;
}

void Client::stow(const std::vector<QByteArray>& instances) {
    const QByteArray boundary =
        "reluth-" + QByteArray::number(static_cast<qulonglong>(std::chrono::steady_clock::now().time_since_epoch().count()));
    QByteArray body;
    for (const QByteArray& i : instances) body += "--" + boundary + "\r\nContent-Type: application/dicom\r\n\r\n" + i + "\r\n";
    body += "--" + boundary + "--\r\n";
    QNetworkRequest req = impl_->request(impl_->url("studies"), "application/dicom+json");
    req.setHeader(QNetworkRequest::ContentTypeHeader, "multipart/related; type=\"application/dicom\"; boundary=" + boundary);
    QNetworkReply* r = impl_->nam.post(req, body);
    QEventLoop loop;
    QObject::connect(r, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    std::unique_ptr<QNetworkReply, void (*)(QNetworkReply*)> hold(r, [](QNetworkReply* x) { x->deleteLater(); });
    const QByteArray answer = r->readAll();
    if (const std::string why = Impl::failure(r, "STOW " + req.url().toString().toStdString()); !why.empty())
        throw WebError(why + (answer.isEmpty() ? "" : " - " + answer.left(400).toStdString()));
    // PS3.18: a 200 whose answer lists a Failed SOP Sequence (0008,1198) refused some
    try {
        const auto j = nlohmann::json::parse(answer.constData(), answer.constData() + answer.size());
        if (j.contains("00081198") && j["00081198"].contains("Value") && !j["00081198"]["Value"].empty())
            throw WebError("STOW: the server refused " + std::to_string(j["00081198"]["Value"].size()) +
                           " instance(s): " + j["00081198"].dump());
    } catch (const nlohmann::json::exception&) {
        // no JSON answer: the status said success
    }
}

} // namespace vw
