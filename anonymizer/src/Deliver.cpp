#include "anonymizer/Deliver.h"

#include "anonymizer/Anonymizer.h"
#include "Dicom.h"
#include "store/Hash.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/dcmnet/scu.h>
#include <dcmtk/oflog/oflog.h>

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

namespace anon {

namespace fs = std::filesystem;

std::string Peer::name() const { return calledAet + "@" + host + ":" + std::to_string(port) + (id.empty() ? "" : "#" + id); }

Peer Peer::parse(const std::string& spec) {
    // AET@host:port
    const auto at = spec.find('@');
    const auto colon = spec.rfind(':');
    if (at == std::string::npos || colon == std::string::npos || colon < at || at == 0 || colon == at + 1)
        throw Error("'" + spec + "' is not a DICOM peer (AET@host:port)");
    Peer p;
    p.calledAet = spec.substr(0, at);
    p.host = spec.substr(at + 1, colon - at - 1);
    try {
        std::size_t used = 0;
        p.port = std::stoi(spec.substr(colon + 1), &used);
        if (used != spec.size() - colon - 1 || p.port < 1 || p.port > 65535) throw std::out_of_range("port");
    } catch (const std::exception&) {
        throw Error("'" + spec + "': the port must be a number 1-65535");
    }
    if (p.calledAet.size() > 16) throw Error("'" + spec + "': an AE title has at most 16 characters");
    return p;
}

namespace {

struct Instance {
    fs::path file;
    std::string rel; ///< path in the store, as the audit records it
    std::string sopClass, sopInstance, transferSyntax, sha256;
};

std::string fileSha256(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return store::sha256Hex(s.str());
}

/// (store path, sha256) pairs this peer has acknowledged, from the audit log.
std::set<std::pair<std::string, std::string>> acknowledged(const fs::path& auditLog, const std::string& peer) {
    std::set<std::pair<std::string, std::string>> out;
    std::ifstream in(auditLog);
    std::string line;
    while (std::getline(in, line)) {
        if (line.find("\"delivered\"") == std::string::npos) continue;
        try {
            const auto j = nlohmann::json::parse(line);
            if (j.value("outcome", "") == "delivered" && j.value("peer", "") == peer)
                out.emplace(j.value("output", ""), j.value("sha256", ""));
        } catch (const nlohmann::json::exception&) {
            // a torn last line (a crash while appending) is not a delivery
        }
    }
    return out;
}

class Session {
public:
    Session(const Peer& peer, const std::vector<Instance>& all) : peer_(peer) {
        for (const auto& i : all) contexts_.emplace(i.sopClass, i.transferSyntax);
    }
    ~Session() { close(); }

    /// Sends one instance; "" when the peer acknowledged it, else why not.
    std::string send(const Instance& i) {
        if (!scu_) {
            const std::string why = open();
            if (!why.empty()) return why;
        }
        const T_ASC_PresentationContextID id = scu_->findPresentationContextID(i.sopClass.c_str(), i.transferSyntax.c_str());
        if (id == 0) return "the peer accepted no presentation context for " + i.sopClass + " in " + i.transferSyntax;
        Uint16 status = 0;
        const OFCondition c = scu_->sendSTORERequest(id, OFFilename(i.file.c_str()), nullptr, status);
        if (c.bad()) {
            close();
            return std::string("C-STORE failed: ") + c.text();
        }
        // success, or a warning (coercion, elements discarded): the instance is stored
        if (status == 0x0000 || (status & 0xF000) == 0xB000) return {};
        char hex[8];
        std::snprintf(hex, sizeof hex, "%04X", status);
        return std::string("the peer refused the instance (status 0x") + hex + ")";
    }

private:
    std::string open() {
        auto scu = std::make_unique<DcmSCU>();
        scu->setAETitle(peer_.callingAet.c_str());
        scu->setPeerHostName(peer_.host.c_str());
        scu->setPeerPort(static_cast<Uint16>(peer_.port));
        scu->setPeerAETitle(peer_.calledAet.c_str());
        scu->setACSETimeout(10);
        scu->setDIMSETimeout(60);
        scu->setConnectionTimeout(10);
        scu->setMaxReceivePDULength(ASC_MAXIMUMPDUSIZE);
        int n = 0;
        for (const auto& [sopClass, ts] : contexts_) {
            if (++n > 128) break; // PS3.8: at most 128 presentation contexts
            OFList<OFString> syntaxes;
            syntaxes.push_back(ts.c_str());
            scu->addPresentationContext(sopClass.c_str(), syntaxes);
        }
        OFCondition c = scu->initNetwork();
        if (c.good()) c = scu->negotiateAssociation();
        if (c.bad()) return "cannot associate with " + peer_.name() + ": " + c.text();
        scu_ = std::move(scu);
        return {};
    }
    void close() {
        if (!scu_) return;
        if (scu_->isConnected()) scu_->releaseAssociation();
        scu_.reset();
    }

    Peer peer_;
    std::set<std::pair<std::string, std::string>> contexts_;
    std::unique_ptr<DcmSCU> scu_;
};

} // namespace

DeliveryResult deliverStore(const fs::path& store, const fs::path& auditLog, const Peer& peer, const DeliveryOptions& options) {
    const auto t0 = std::chrono::steady_clock::now();
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    DeliveryResult result;
    std::error_code ec;
    if (!fs::is_directory(store, ec)) throw Error(store.string() + ": no such store");
    const auto done = acknowledged(auditLog, peer.name());
    std::vector<Instance> todo;
    std::vector<fs::path> files;
    for (auto it = fs::recursive_directory_iterator(store, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) throw Error(store.string() + ": cannot list (" + ec.message() + ")");
        const std::string name = it->path().filename().string();
        if (it->is_regular_file() && it->path().extension() == ".dcm" && name.rfind(".tmp-", 0) != 0) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    result.instances = files.size();
    for (const auto& f : files) {
        Instance i;
        i.file = f;
        i.rel = f.lexically_relative(store).string();
        i.sha256 = fileSha256(f);
        if (done.count({i.rel, i.sha256})) {
            ++result.alreadyDelivered;
            continue;
        }
        DcmFileFormat ff;
        if (ff.loadFile(f.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_metaOnly).bad()) {
            result.failures.push_back(i.rel + ": not readable as DICOM");
            continue;
        }
        OFString cls, inst, ts;
        ff.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPClassUID, cls);
        ff.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPInstanceUID, inst);
        ff.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, ts);
        if (cls.empty() || inst.empty() || ts.empty()) {
            result.failures.push_back(i.rel + ": no SOP Class, SOP Instance or Transfer Syntax UID in its meta header");
            continue;
        }
        i.sopClass = cls.c_str();
        i.sopInstance = inst.c_str();
        i.transferSyntax = ts.c_str();
        todo.push_back(std::move(i));
    }
    const int fd = ::open(auditLog.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) throw Error(auditLog.string() + ": cannot open the audit log");
    Session session(peer, todo);
    std::size_t n = 0;
    std::string unreachable;
    const auto start = std::chrono::steady_clock::now();
    for (const Instance& i : todo) {
        if (options.maxRate > 0) // pace: instance n leaves no earlier than n / rate after the start
            std::this_thread::sleep_until(start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                      std::chrono::duration<double>(static_cast<double>(n) / options.maxRate)));
        std::string why;
        if (!unreachable.empty()) { // every attempt of an earlier instance failed to associate: do not wait on each of the rest
            result.failures.push_back(i.rel + ": not sent (" + unreachable + ")");
            if (options.progress) options.progress(++n, todo.size());
            continue;
        }
        double backoff = options.firstBackoff;
        for (int attempt = 1; attempt <= std::max(1, options.attempts); ++attempt) {
            why = session.send(i);
            if (why.empty()) break;
            if (attempt < options.attempts) {
                std::this_thread::sleep_for(std::chrono::duration<double>(backoff));
                backoff *= 2;
            }
        }
        if (!why.empty()) {
            result.failures.push_back(i.rel + ": " + why);
            if (why.rfind("cannot associate", 0) == 0) unreachable = why;
        } else {
            // acknowledged: recorded (and synced) before the next is sent
            const nlohmann::json j{{"time", detail::isoNow()},          {"outcome", "delivered"}, {"output", i.rel},
                                   {"sop_instance_uid", i.sopInstance}, {"sha256", i.sha256},     {"peer", peer.name()}};
            const std::string line = j.dump() + "\n";
            if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()) || ::fdatasync(fd) != 0) {
                ::close(fd);
                throw Error(auditLog.string() + ": cannot record a delivery (the instance is on the peer; a rerun sends it again, "
                                                "which the peer stores once)");
            }
            ++result.delivered;
        }
        if (options.progress) options.progress(++n, todo.size());
    }
    ::close(fd);
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return result;
}

} // namespace anon
