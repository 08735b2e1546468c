#include "readerqueue/Anchor.h"

#include "readerqueue/Database.h"
#include "store/Hash.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace rq {

namespace fs = std::filesystem;

namespace {

void ensureSodium() {
    if (sodium_init() < 0) throw AnchorError("libsodium could not be initialised");
}

std::string toHex(const std::string& bin) {
    std::string out(bin.size() * 2 + 1, '\0');
    sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bin.data()), bin.size());
    out.pop_back();
    return out;
}

std::optional<std::string> fromHex(const std::string& hex, std::size_t bytes) {
    if (hex.size() != bytes * 2) return std::nullopt;
    std::string out(bytes, '\0');
    std::size_t got = 0;
    if (sodium_hex2bin(reinterpret_cast<unsigned char*>(out.data()), bytes, hex.data(), hex.size(), nullptr, &got, nullptr) != 0 ||
        got != bytes)
        return std::nullopt;
    return out;
}

void field(std::string& out, const std::string& v) {
    out += std::to_string(v.size());
    out += ':';
    out += v;
    out += ';';
}

/// "ed25519-secret <hex>" / "ed25519-public <hex>": the one line of a key file.
std::string keyLine(const fs::path& file, const std::string& kind, std::size_t bytes) {
    std::ifstream in(file);
    if (!in) throw AnchorError(file.string() + ": cannot read the audit key (" + std::strerror(errno) + ")");
    std::string word, hex;
    in >> word >> hex;
    const auto bin = fromHex(hex, bytes);
    if (word != "ed25519-" + kind || !bin)
        throw AnchorError(file.string() + ": not an Ed25519 " + kind + " key (expected one line 'ed25519-" + kind + " <" +
                          std::to_string(bytes * 2) + " hex digits>')");
    return *bin;
}

void writeAll(int fd, const std::string& text, const fs::path& file) {
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw AnchorError(file.string() + ": cannot write (" + std::strerror(errno) + ")");
        }
        done += static_cast<std::size_t>(n);
    }
}

Checkpoint fromJson(const nlohmann::json& j) {
    Checkpoint c;
    c.seq = j.at("seq").get<std::int64_t>();
    c.hash = j.at("hash").get<std::string>();
    c.time = j.at("time").get<std::string>();
    c.keyId = j.at("key").get<std::string>();
    c.signature = j.at("sig").get<std::string>();
    return c;
}

bool sameCheckpoint(const Checkpoint& a, const Checkpoint& b) {
    return a.seq == b.seq && a.hash == b.hash && a.time == b.time && a.keyId == b.keyId && a.signature == b.signature;
}

} // namespace

std::string checkpointMessage(const Checkpoint& c) {
    std::string s = "reluth-audit-checkpoint-1;";
    field(s, std::to_string(c.seq));
    field(s, c.hash);
    field(s, c.time);
    return s;
}

std::string AnchorKey::keyId() const { return store::sha256Hex(publicKey).substr(0, 16); }

AnchorKey generateAnchorKey(const fs::path& secretFile) {
    ensureSodium();
    AnchorKey k;
    k.publicKey.resize(crypto_sign_PUBLICKEYBYTES);
    k.secret.resize(crypto_sign_SECRETKEYBYTES);
    crypto_sign_keypair(reinterpret_cast<unsigned char*>(k.publicKey.data()), reinterpret_cast<unsigned char*>(k.secret.data()));
    const int fd = ::open(secretFile.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        throw AnchorError(secretFile.string() + ": cannot create the audit key (" + std::strerror(errno) +
                          (errno == EEXIST ? "; a key is never overwritten" : "") + ")");
    try {
        writeAll(fd, "ed25519-secret " + toHex(k.secret) + "\n", secretFile);
        if (::fsync(fd) != 0) throw AnchorError(secretFile.string() + ": cannot sync (" + std::strerror(errno) + ")");
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
    const fs::path pub = secretFile.string() + ".pub";
    std::ofstream out(pub, std::ios::trunc);
    out << "ed25519-public " << toHex(k.publicKey) << "\n";
    if (!out.flush()) throw AnchorError(pub.string() + ": cannot write the public key");
    return k;
}

AnchorKey loadAnchorSecret(const fs::path& secretFile) {
    ensureSodium();
    struct stat st {};
    if (::stat(secretFile.c_str(), &st) != 0)
        throw AnchorError(secretFile.string() + ": no audit key (" + std::strerror(errno) + "; make one with 'reader-queue audit keygen')");
    if (st.st_mode & 077)
        throw AnchorError(secretFile.string() + ": the audit key may be read by others (mode " + std::to_string((st.st_mode >> 6) & 7) +
                          std::to_string((st.st_mode >> 3) & 7) + std::to_string(st.st_mode & 7) +
                          "); it must be 0600, owned by the queue's service account");
    AnchorKey k;
    k.secret = keyLine(secretFile, "secret", crypto_sign_SECRETKEYBYTES);
    k.publicKey.resize(crypto_sign_PUBLICKEYBYTES);
    crypto_sign_ed25519_sk_to_pk(reinterpret_cast<unsigned char*>(k.publicKey.data()),
                                 reinterpret_cast<const unsigned char*>(k.secret.data()));
    return k;
}

AnchorKey loadAnchorPublic(const fs::path& publicFile) {
    ensureSodium();
    AnchorKey k;
    k.publicKey = keyLine(publicFile, "public", crypto_sign_PUBLICKEYBYTES);
    return k;
}

Checkpoint checkpointAudit(Database& db, const AnchorKey& key, const fs::path& logFile) {
    if (key.secret.size() != crypto_sign_SECRETKEYBYTES) throw AnchorError("checkpoint: no secret key loaded");
    Checkpoint c;
    db.write([&] {
        // inside the write transaction: no entry can be appended between reading the head and
        // recording its checkpoint (writers take turns, Database::write)
        const AuditHead head = db.auditHead();
        const auto existing =
            db.query("SELECT seq, hash, time, key_id, signature FROM audit_checkpoint WHERE seq = ?", {std::to_string(head.seq)});
        if (!existing.empty() && existing[0][1] == head.hash) {
            c = {head.seq, existing[0][1], existing[0][2], existing[0][3], existing[0][4]};
            return;
        }
        c.seq = head.seq;
        c.hash = head.hash;
        c.time = utcNow();
        c.keyId = key.keyId();
        const std::string msg = checkpointMessage(c);
        std::string sig(crypto_sign_BYTES, '\0');
        crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr, reinterpret_cast<const unsigned char*>(msg.data()),
                             msg.size(), reinterpret_cast<const unsigned char*>(key.secret.data()));
        c.signature = toHex(sig);
        // the log first: a checkpoint in the log whose database write then fails still signs
        // entries the trail holds (the verifier names it missing from the table); the reverse
        // order could leave a database checkpoint that nothing outside the database backs
        const nlohmann::json line{{"seq", c.seq}, {"hash", c.hash}, {"time", c.time}, {"key", c.keyId}, {"sig", c.signature}};
        const int fd = ::open(logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0) throw AnchorError(logFile.string() + ": cannot open the checkpoint log (" + std::strerror(errno) + ")");
        try {
            writeAll(fd, line.dump() + "\n", logFile);
            if (::fsync(fd) != 0) throw AnchorError(logFile.string() + ": cannot sync (" + std::strerror(errno) + ")");
        } catch (...) {
            ::close(fd);
            throw;
        }
        ::close(fd);
        if (!existing.empty()) db.exec("DELETE FROM audit_checkpoint WHERE seq = ?", {std::to_string(c.seq)});
        db.exec("INSERT INTO audit_checkpoint (seq, hash, time, key_id, signature) VALUES (?, ?, ?, ?, ?)",
                {std::to_string(c.seq), c.hash, c.time, c.keyId, c.signature});
    });
    return c;
}

std::optional<std::vector<Checkpoint>> readCheckpointLog(const fs::path& logFile) {
    std::error_code ec;
    if (!fs::exists(logFile, ec)) return std::nullopt;
    std::ifstream in(logFile);
    if (!in) throw AnchorError(logFile.string() + ": cannot read the checkpoint log");
    std::vector<Checkpoint> out;
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        if (line.empty()) continue;
        try {
            out.push_back(fromJson(nlohmann::json::parse(line)));
        } catch (const nlohmann::json::exception& e) {
            throw AnchorError(logFile.string() + ":" + std::to_string(n) + ": not a checkpoint (" + e.what() + ")");
        }
    }
    return out;
}

std::vector<Checkpoint> readCheckpointTable(Database& db) {
    std::vector<Checkpoint> out;
    for (const auto& r : db.query("SELECT seq, hash, time, key_id, signature FROM audit_checkpoint ORDER BY seq"))
        out.push_back({std::stoll(r[0]), r[1], r[2], r[3], r[4]});
    return out;
}

AnchorReport verifyAnchors(const std::vector<AuditEntry>& entries, const std::vector<Checkpoint>& table,
                           const std::optional<std::vector<Checkpoint>>& log, const AnchorKey& key, const std::string& logName) {
    ensureSodium();
    AnchorReport r;
    r.newest = entries.empty() ? 0 : entries.back().seq;
    std::map<std::int64_t, const AuditEntry*> bySeq;
    for (const auto& e : entries) bySeq[e.seq] = &e;
    auto problem = [&](std::int64_t seq, const char* kind, const std::string& detail) { r.problems.push_back({seq, kind, detail}); };

    auto valid = [&](const Checkpoint& c, const std::string& where) {
        const std::string msg = checkpointMessage(c);
        const auto sig = fromHex(c.signature, crypto_sign_BYTES);
        if (c.keyId != key.keyId() || !sig ||
            crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig->data()),
                                        reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
                                        reinterpret_cast<const unsigned char*>(key.publicKey.data())) != 0) {
            problem(c.seq, "signature",
                    std::string("the checkpoint of entry ") + std::to_string(c.seq) + " in the " + where +
                        " is not signed by the audit key " + key.keyId() +
                        (c.keyId != key.keyId() ? " (it names key " + c.keyId + ")" : ""));
            return false;
        }
        return true;
    };
    auto against = [&](const Checkpoint& c) {
        if (c.seq == 0) return; // signed an empty trail
        const auto it = bySeq.find(c.seq);
        if (it == bySeq.end()) {
            problem(c.seq, "cut",
                    "entry " + std::to_string(c.seq) + " was signed at " + c.time + " but the trail " +
                        (c.seq > r.newest ? "ends at entry " + std::to_string(r.newest) + ": entries were cut from its end"
                                          : "no longer holds it"));
        } else if (it->second->hash != c.hash) {
            problem(c.seq, "rewritten",
                    "entry " + std::to_string(c.seq) + " no longer has the hash signed at " + c.time + ": the chain was rewritten");
        } else {
            r.anchoredTo = std::max(r.anchoredTo, c.seq);
        }
    };

    std::vector<Checkpoint> seen; // valid and distinct, from either place
    auto consider = [&](const Checkpoint& c, const std::string& where) {
        if (!valid(c, where)) return;
        if (std::none_of(seen.begin(), seen.end(), [&](const Checkpoint& s) { return sameCheckpoint(s, c); })) {
            seen.push_back(c);
            against(c);
        }
    };
    for (const auto& c : table) consider(c, "database");
    if (log) {
        for (const auto& c : *log) consider(c, "log " + logName);
    } else {
        problem(0, "log",
                "the checkpoint log " + logName + " is missing" +
                    (table.empty() ? std::string()
                                   : ": the database holds " + std::to_string(table.size()) + " checkpoint(s) it should also hold"));
    }
    r.checkpoints = seen.size();
    auto in = [](const std::vector<Checkpoint>& v, const Checkpoint& c) {
        return std::any_of(v.begin(), v.end(), [&](const Checkpoint& x) { return sameCheckpoint(x, c); });
    };
    if (log) {
        for (const auto& c : table)
            if (!in(*log, c))
                problem(c.seq, "log",
                        "the checkpoint of entry " + std::to_string(c.seq) + " (" + c.time + ") is in the database but not in the log " +
                            logName + ": the log was cut or replaced");
        for (const auto& c : *log)
            if (!in(table, c))
                problem(c.seq, "table",
                        "the checkpoint of entry " + std::to_string(c.seq) + " (" + c.time +
                            ") is in the log but not in the database: the database's checkpoints were deleted");
    }
    if (!entries.empty() && seen.empty())
        problem(0, "unanchored-trail",
                "the trail has " + std::to_string(entries.size()) + " entries and no valid signed checkpoint anchors them");
    return r;
}

} // namespace rq
