// Image tokens: the queue's answer to "may this token fetch this study folder now?", for the
// gate in front of the trial's image server (reader-queue gate). See Queue.h.
#include "readerqueue/Queue.h"

#include <sodium.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace rq {

namespace {

std::string utcIn(std::chrono::hours ahead) {
    const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + ahead);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.000Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                  tm.tm_min, tm.tm_sec);
    return buf;
}

std::string tokenHash(const std::string& token) {
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(token.data()), token.size());
    char hex[2 * sizeof h + 1];
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    return hex;
}

} // namespace

std::string Queue::issueImageToken(const Session& who, const std::string& folder) {
    const auto owner = db_->query("SELECT subject FROM timepoint_studies WHERE store_path = ?", {folder});
    if (owner.empty()) refuse(who, "fetch images", "folder:" + folder, "NOT_VISIBLE", folder + " is not a registered study folder");
    bool visible = false;
    for (const auto& tp : visibleTimepoints(who, owner[0][0])) // refuses (audited) a role that sees nothing
        for (const auto& f : tp.folders) visible = visible || f == folder;
    if (!visible) refuse(who, "fetch images", "folder:" + folder, "NOT_VISIBLE", "this timepoint is not open to " + who.user);
    if (sodium_init() < 0) throw std::runtime_error("libsodium cannot start");
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    char hex[2 * sizeof raw + 1];
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    const std::string token = hex;
    db_->write([&] {
        db_->exec("INSERT INTO image_tokens (token_hash, user_name, folder, issued_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                  {tokenHash(token), who.user, folder, utcNow(), utcIn(std::chrono::hours(kImageTokenHours))});
        record(who.user, "images.token", "folder:" + folder, {}, "issued for " + std::to_string(kImageTokenHours) + " h");
    });
    return token;
}

int Queue::revokeImageTokens(const Session& who) {
    int n = 0;
    db_->write([&] {
        n = db_->change("UPDATE image_tokens SET revoked_at = ? WHERE user_name = ? AND revoked_at IS NULL AND expires_at > ?",
                        {utcNow(), who.user, utcNow()});
        if (n > 0) record(who.user, "images.revoke", "user:" + who.user, {}, std::to_string(n) + " token(s) revoked");
    });
    return n;
}

Queue::ImageGrant Queue::checkImageToken(const std::string& token) {
    if (token.size() != 64 || token.find_first_not_of("0123456789abcdef") != std::string::npos)
        throw Refused("TOKEN", "no image token (X-Reluth-Token) or not one of ours");
    const auto rows = db_->query("SELECT t.user_name, t.folder, t.expires_at, t.revoked_at, u.role, ts.subject FROM image_tokens t "
                                 "JOIN users u ON u.name = t.user_name LEFT JOIN timepoint_studies ts ON ts.store_path = t.folder "
                                 "WHERE t.token_hash = ?",
                                 {tokenHash(token)});
    if (rows.empty()) throw Refused("TOKEN", "unknown image token");
    const auto& r = rows[0];
    if (!r[3].empty()) throw Refused("TOKEN", "the image token was revoked at " + r[3] + " (signed out)");
    if (r[2] <= utcNow()) throw Refused("TOKEN", "the image token expired at " + r[2]);
    ImageGrant g{{r[0], roleFromName(r[4])}, r[1]};
    bool visible = false;
    try {
        for (const auto& tp : visibleTimepoints(g.who, r[5]))
            for (const auto& f : tp.folders) visible = visible || f == g.folder;
    } catch (const Refused&) {
        visible = false;
    }
    if (!visible) throw Refused("TOKEN", "the queue no longer opens " + g.folder + " to " + g.who.user);
    return g;
}

} // namespace rq
