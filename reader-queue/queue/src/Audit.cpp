#include "readerqueue/Audit.h"

#include "store/Hash.h"

#include <chrono>
#include <ctime>

namespace rq {

namespace {

void field(std::string& out, const std::string& v) {
    out += std::to_string(v.size());
    out += ':';
    out += v;
    out += ';';
}

} // namespace

std::string utcNow() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                  tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buf;
}

std::string sha256Hex(const std::string& data) { return store::sha256Hex(data); }

std::string chainHash(const AuditEntry& e) {
    std::string s = "reluth-audit-1;";
    field(s, std::to_string(e.seq));
    field(s, e.time);
    field(s, e.user);
    field(s, e.action);
    field(s, e.object);
    field(s, e.oldValue);
    field(s, e.newValue);
    field(s, e.reason);
    field(s, e.prevHash);
    return sha256Hex(s);
}

std::vector<AuditProblem> verifyChain(const std::vector<AuditEntry>& entries, const AuditHead& head) {
    std::vector<AuditProblem> out;
    std::string prev;
    std::int64_t expected = 1;
    for (const AuditEntry& e : entries) {
        if (e.seq != expected) {
            if (e.seq > expected)
                out.push_back({e.seq, "missing", "entries " + std::to_string(expected) + ".." + std::to_string(e.seq - 1) + " are gone"});
            else
                out.push_back(
                    {e.seq, "reordered", "entry " + std::to_string(e.seq) + " stands after entry " + std::to_string(expected - 1)});
        } else if (e.prevHash != prev) {
            out.push_back({e.seq, "reordered", "entry " + std::to_string(e.seq) + " does not follow the entry before it"});
        }
        if (chainHash(e) != e.hash) out.push_back({e.seq, "edited", "entry " + std::to_string(e.seq) + " does not match its hash"});
        prev = e.hash;
        expected = e.seq + 1;
    }
    const std::int64_t last = entries.empty() ? 0 : entries.back().seq;
    if (head.seq != last || head.hash != prev)
        out.push_back({0, "head",
                       "the trail ends at entry " + std::to_string(last) + " but the recorded head is entry " + std::to_string(head.seq) +
                           (head.seq > last ? ": entries were deleted at the end" : "")});
    return out;
}

} // namespace rq
