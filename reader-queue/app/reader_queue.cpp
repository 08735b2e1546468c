// build/bin/reader-queue: the trial manager's tool for the reading queue.
//   reader-queue init --db URL             create or migrate the database
//   reader-queue audit verify --db URL     check the hash chain of the audit trail
// URL: sqlite:PATH (default sqlite:reader-queue.db) or postgresql://user@host:port/dbname.
// (Users, import, QC, assignment, backlog, turnaround, readers and export: issue 5, to come.)
#include "readerqueue/Database.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace {

int usage() {
    std::cerr << "usage: reader-queue init [--db URL]\n"
                 "       reader-queue audit verify [--db URL] [--json]\n"
                 "URL: sqlite:PATH (default sqlite:reader-queue.db) or postgresql://user@host:port/dbname\n";
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> words;
    std::string url = "sqlite:reader-queue.db";
    if (const char* env = std::getenv("RELUTH_QUEUE_DB")) url = env;
    bool json = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--db" && i + 1 < argc) url = argv[++i];
        else if (a == "--json") json = true;
        else if (a == "-h" || a == "--help") return usage(), 0;
        else if (a.rfind("--", 0) == 0) return usage();
        else words.push_back(a);
    }
    try {
        if (words == std::vector<std::string>{"init"}) {
            auto db = rq::Database::open(url);
            const int applied = db->migrate();
            std::printf("%s: schema version %d (%d migration%s applied)\n", url.c_str(), db->schemaVersion(), applied,
                        applied == 1 ? "" : "s");
            return 0;
        }
        if (words == std::vector<std::string>{"audit", "verify"}) {
            auto db = rq::Database::open(url);
            const auto entries = db->readAudit();
            const rq::AuditHead head = db->auditHead();
            const auto problems = rq::verifyChain(entries, head);
            if (json) {
                nlohmann::json j{{"entries", entries.size()}, {"head_seq", head.seq}, {"head_hash", head.hash},
                                 {"intact", problems.empty()}};
                j["problems"] = nlohmann::json::array();
                for (const auto& p : problems) j["problems"].push_back({{"seq", p.seq}, {"kind", p.kind}, {"detail", p.detail}});
                std::cout << j.dump(1) << "\n";
            } else if (problems.empty()) {
                std::printf("audit trail intact: %zu entries, head %lld %s\n", entries.size(),
                            static_cast<long long>(head.seq), head.hash.c_str());
            } else {
                std::printf("AUDIT TRAIL BROKEN: %zu problem%s in %zu entries\n", problems.size(),
                            problems.size() == 1 ? "" : "s", entries.size());
                for (const auto& p : problems)
                    std::printf("  %s at entry %lld: %s\n", p.kind.c_str(), static_cast<long long>(p.seq), p.detail.c_str());
            }
            return problems.empty() ? 0 : 1;
        }
        return usage();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "reader-queue: %s\n", e.what());
        return 2;
    }
}
