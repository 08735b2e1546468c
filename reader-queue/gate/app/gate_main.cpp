// build/bin/reader-queue-gate: the gate in front of the trial's image server (see gate/Gate.h).
// nginx asks it about every request of a gated account (auth_request, with the original URI,
// method and the X-Reluth-Token header); it answers 204 (allow) or 403 with X-Gate-Reason, and
// 500 when it cannot ask the queue or the server - nginx then refuses (fails closed).
//   reader-queue-gate --listen unix:/path/gate.sock|127.0.0.1:PORT --db URL --orthanc http://127.0.0.1:PORT
//                     --orthanc-credentials FILE [--orthanc-account manager]
// The credentials file (0600; "role user password" lines, as tests/servers/orthanc.sh writes it)
// names the open service account the gate looks studies up with, on Orthanc's loopback HTTP.
#include "gate/Gate.h"

#include <boost/asio.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/program_options.hpp>

#include <nlohmann/json.hpp>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string isoNow() { return rq::utcNow(); }

/// Orthanc's DICOMweb on its loopback HTTP, with the open account; answers cached (UIDs do not change).
class OrthancDirectory : public gate::Directory {
public:
    OrthancDirectory(std::string host, std::string port, std::string authorization)
        : host_(std::move(host)), port_(std::move(port)), auth_(std::move(authorization)) {}

    std::optional<Study> study(const std::string& uid) override {
        if (const auto it = studies_.find(uid); it != studies_.end()) return it->second;
        const auto found = get("/dicom-web/studies?StudyInstanceUID=" + uid + "&includefield=00100020&includefield=00080020");
        if (!found.is_array() || found.size() != 1) return std::nullopt;
        Study s{value(found[0], "00100020"), value(found[0], "00080020")};
        studies_[uid] = s;
        return s;
    }
    std::optional<std::string> seriesModality(const std::string& study, const std::string& series) override {
        const std::string key = study + "/" + series;
        if (const auto it = modalities_.find(key); it != modalities_.end()) return it->second;
        const auto found = get("/dicom-web/studies/" + study + "/series?SeriesInstanceUID=" + series + "&includefield=00080060");
        if (!found.is_array() || found.size() != 1) return std::nullopt;
        const std::string m = value(found[0], "00080060");
        modalities_[key] = m;
        return m;
    }

private:
    static std::string value(const nlohmann::json& item, const char* tag) {
        const auto it = item.find(tag);
        if (it == item.end() || !it->contains("Value") || (*it)["Value"].empty() || !(*it)["Value"][0].is_string()) return {};
        return (*it)["Value"][0].get<std::string>();
    }
    nlohmann::json get(const std::string& target) {
        asio::io_context io;
        tcp::resolver resolver(io);
        boost::beast::tcp_stream stream(io);
        stream.expires_after(std::chrono::seconds(20));
        stream.connect(resolver.resolve(host_, port_));
        http::request<http::empty_body> req{http::verb::get, target, 11};
        req.set(http::field::host, host_);
        req.set(http::field::authorization, auth_);
        req.set(http::field::accept, "application/dicom+json");
        http::write(stream, req);
        boost::beast::flat_buffer buffer;
        http::response<http::string_body> res;
        http::read(stream, buffer, res);
        boost::beast::error_code ec;
        stream.socket().shutdown(tcp::socket::shutdown_both, ec);
        if (res.result() == http::status::no_content) return nlohmann::json::array();
        if (res.result() != http::status::ok)
            throw std::runtime_error("the image server answered " + std::to_string(res.result_int()) + " to the gate's lookup");
        return nlohmann::json::parse(res.body());
    }
    std::string host_, port_, auth_;
    std::map<std::string, Study> studies_;
    std::map<std::string, std::string> modalities_;
};

std::string basicAuthorization(const std::string& file, const std::string& account) {
    struct stat st{};
    if (::stat(file.c_str(), &st) != 0) throw std::runtime_error(file + ": cannot read the credentials");
    if (st.st_mode & 077) throw std::runtime_error(file + ": others may read it (it holds passwords): chmod 600");
    std::ifstream in(file);
    std::string role, user, pass;
    while (in >> role >> user >> pass)
        if (role == account) {
            const std::string plain = user + ":" + pass;
            std::string b64(sodium_base64_encoded_len(plain.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
            sodium_bin2base64(b64.data(), b64.size(), reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
                              sodium_base64_VARIANT_ORIGINAL);
            b64.resize(b64.find('\0'));
            return "Basic " + b64;
        }
    throw std::runtime_error(file + ": no account '" + account + "'");
}

std::pair<std::string, std::string> hostPort(const std::string& spec, const char* what) {
    std::string s = spec;
    if (s.rfind("http://", 0) == 0) s = s.substr(7);
    while (!s.empty() && s.back() == '/') s.pop_back();
    const auto colon = s.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == s.size())
        throw std::runtime_error(std::string(what) + " '" + spec + "' is not HOST:PORT");
    return {s.substr(0, colon), s.substr(colon + 1)};
}

} // namespace

int main(int argc, char** argv) {
    namespace po = boost::program_options;
    std::string listen, db, orthanc, credentials, account = "manager";
    po::options_description opts("reader-queue-gate: the image server's gate for readers and adjudicators");
    opts.add_options()("help", "this help")("listen", po::value(&listen)->required(), "unix:/path/gate.sock (a socket file only its owner can use), or HOST:PORT")(
        "db", po::value(&db)->required(), "the reading queue's database URL")(
        "orthanc", po::value(&orthanc)->required(), "Orthanc's loopback HTTP, http://127.0.0.1:PORT")(
        "orthanc-credentials", po::value(&credentials)->required(), "0600 file of 'role user password' lines")(
        "orthanc-account", po::value(&account), "the open service account the gate looks studies up with (default manager)");
    try {
        po::variables_map vm;
        po::store(po::parse_command_line(argc, argv, opts), vm);
        if (vm.count("help")) {
            std::cout << opts;
            return 0;
        }
        po::notify(vm);
        if (sodium_init() < 0) throw std::runtime_error("libsodium cannot start");
        const auto [ohost, oport] = hostPort(orthanc, "--orthanc");
        OrthancDirectory directory(ohost, oport, basicAuthorization(credentials, account));
        std::unique_ptr<rq::Queue> queue;
        auto checkToken = [&](const std::string& token) {
            if (!queue) queue = std::make_unique<rq::Queue>(rq::Database::open(db));
            return queue->checkImageToken(token);
        };
        asio::io_context io;
        auto serve = [&](auto& acceptor) {
            for (;;) {
                auto socket = acceptor.accept();
                // one connection at a time: a client that sends nothing is dropped after 5 s
                const timeval timeout{5, 0};
                ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
                ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
                boost::beast::flat_buffer buffer;
                boost::beast::error_code ec;
                for (;;) { // keep-alive: nginx may send several checks on one connection
                    http::request<http::string_body> req;
                    http::read(socket, buffer, req, ec);
                    if (ec) break;
                    http::response<http::empty_body> res;
                    res.version(req.version());
                    res.keep_alive(req.keep_alive());
                    gate::Request r{std::string(req["X-Original-Method"]), std::string(req["X-Original-URI"]),
                                    std::string(req["X-Reluth-Token"])};
                    try {
                        const gate::Decision d = gate::decide(r, checkToken, directory);
                        res.result(d.allow ? http::status::no_content : http::status::forbidden);
                        res.set("X-Gate-Reason", d.reason);
                        if (!d.allow)
                            std::fprintf(stderr, "%s refused %s %s (user %s): %s\n", isoNow().c_str(), r.method.c_str(), r.uri.c_str(),
                                         d.user.empty() ? "-" : d.user.c_str(), d.reason.c_str());
                    } catch (const std::exception& e) { // cannot ask: nginx fails closed on 500
                        queue.reset();
                        res.result(http::status::internal_server_error);
                        res.set("X-Gate-Reason", std::string("the gate cannot decide: ") + e.what());
                        std::fprintf(stderr, "%s cannot decide %s %s: %s\n", isoNow().c_str(), r.method.c_str(), r.uri.c_str(), e.what());
                    }
                    res.prepare_payload();
                    http::write(socket, res, ec);
                    if (ec || !req.keep_alive()) break;
                }
                socket.shutdown(asio::socket_base::shutdown_both, ec);
            }
        };
        std::signal(SIGPIPE, SIG_IGN);
        if (listen.rfind("unix:", 0) == 0) {
            // a socket file: only its owner (the nginx of this site, same account) can connect
            const std::string path = listen.substr(5);
            ::unlink(path.c_str());
            const mode_t old = ::umask(077);
            asio::local::stream_protocol::acceptor acceptor(io, asio::local::stream_protocol::endpoint(path));
            ::umask(old);
            std::fprintf(stderr, "%s reader-queue-gate: listening on %s for %s\n", isoNow().c_str(), listen.c_str(), orthanc.c_str());
            serve(acceptor);
        } else {
            const auto [lhost, lport] = hostPort(listen, "--listen");
            tcp::acceptor acceptor(io, {asio::ip::make_address(lhost), static_cast<unsigned short>(std::stoi(lport))});
            std::fprintf(stderr, "%s reader-queue-gate: listening on %s:%s for %s\n", isoNow().c_str(), lhost.c_str(), lport.c_str(),
                         orthanc.c_str());
            serve(acceptor);
        }
    } catch (const po::error& e) {
        std::cerr << "reader-queue-gate: " << e.what() << "\n" << opts;
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "reader-queue-gate: " << e.what() << "\n";
        return 1;
    }
}
