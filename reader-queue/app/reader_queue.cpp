// build/bin/reader-queue: the trial manager's tool for the reading queue.
//   reader-queue init [--admin NAME]               create or migrate the database (and its first administrator)
//   reader-queue audit verify                      check the hash chain of the audit trail
//   reader-queue --user U users add NAME ROLE      administrator: add a user (reader, adjudicator, manager, administrator)
//   reader-queue --user U import STORE             manager: register the anonymizer store's timepoints
//   reader-queue --user U qc SUBJECT T accept|reject [--reason TEXT]
//   reader-queue --user U assign                   manager: balanced reader assignment
//   reader-queue --user U backlog [--json]         manager: timepoints and reads by state, reads by reader
//   reader-queue --user U reopen SUBJECT T --reason TEXT                  reader: ask to change a signed read
//   reader-queue --user U reopen-approve|reopen-deny SUBJECT SLOT T --reason TEXT   manager
// Every command takes --db URL: sqlite:PATH (default sqlite:reader-queue.db, or $RELUTH_QUEUE_DB)
// or postgresql://user@host:port/dbname. Passwords come from $RELUTH_QUEUE_PASSWORD (and
// $RELUTH_QUEUE_NEW_PASSWORD for a new user) or are asked on the terminal.
// (Turnaround, readers, export and adjudication commands: issue 5, to come.)
#include "readerqueue/Queue.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace {

int usage() {
    std::cerr << "usage: reader-queue [--db URL] init [--admin NAME]\n"
                 "       reader-queue [--db URL] audit verify [--json]\n"
                 "       reader-queue [--db URL] --user U users add NAME ROLE\n"
                 "       reader-queue [--db URL] --user U import STORE\n"
                 "       reader-queue [--db URL] --user U qc SUBJECT T accept|reject [--reason TEXT]\n"
                 "       reader-queue [--db URL] --user U assign\n"
                 "       reader-queue [--db URL] --user U backlog [--json]\n"
                 "       reader-queue [--db URL] --user U reopen SUBJECT T --reason TEXT\n"
                 "       reader-queue [--db URL] --user U reopen-approve|reopen-deny SUBJECT SLOT T --reason TEXT\n"
                 "URL: sqlite:PATH (default sqlite:reader-queue.db) or postgresql://user@host:port/dbname\n";
    return 2;
}

std::string password(const char* env, const std::string& prompt) {
    if (const char* p = std::getenv(env)) return p;
    const char* typed = ::getpass(prompt.c_str());
    if (!typed) throw std::runtime_error("no password given");
    return typed;
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> words;
    std::string url = "sqlite:reader-queue.db";
    if (const char* env = std::getenv("RELUTH_QUEUE_DB")) url = env;
    bool json = false;
    std::string user, admin, reason;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--db" && i + 1 < argc) url = argv[++i];
        else if (a == "--user" && i + 1 < argc) user = argv[++i];
        else if (a == "--admin" && i + 1 < argc) admin = argv[++i];
        else if (a == "--reason" && i + 1 < argc) reason = argv[++i];
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
            if (!admin.empty()) {
                rq::Queue q(std::move(db), 2);
                q.addUser(nullptr, admin, workflow::Role::Administrator, password("RELUTH_QUEUE_NEW_PASSWORD", "new password for " + admin + ": "));
                std::printf("administrator %s created\n", admin.c_str());
            }
            return 0;
        }
        if (!words.empty() && words[0] != "audit") {
            if (user.empty()) throw std::runtime_error("--user is required");
            // readers per subject from the charter would come with the trial import; ReLUTH: 2
            rq::Queue q(rq::Database::open(url), 2);
            const rq::Session s = q.login(user, password("RELUTH_QUEUE_PASSWORD", "password for " + user + ": "));
            if (words.size() == 4 && words[0] == "users" && words[1] == "add") {
                q.addUser(&s, words[2], rq::roleFromName(words[3]), password("RELUTH_QUEUE_NEW_PASSWORD", "new password for " + words[2] + ": "));
                std::printf("user %s (%s) added\n", words[2].c_str(), words[3].c_str());
                return 0;
            }
            if (words.size() == 2 && words[0] == "import") {
                const auto r = q.importStore(s, words[1]);
                std::printf("registered %d subject(s), %d timepoint(s)\n", r.subjects, r.timepoints);
                for (const auto& p : r.problems) std::printf("not registered: %s\n", p.c_str());
                return r.problems.empty() ? 0 : 1;
            }
            if (words.size() == 4 && words[0] == "qc" && (words[3] == "accept" || words[3] == "reject")) {
                q.qc(s, words[1], std::stoi(words[2]), words[3] == "accept", reason);
                std::printf("%s timepoint %s: %sed\n", words[1].c_str(), words[2].c_str(), words[3].c_str());
                return 0;
            }
            if (words.size() == 3 && words[0] == "reopen") {
                q.requestReopen(s, words[1], std::stoi(words[2]), reason);
                std::printf("%s timepoint %s: reopen requested\n", words[1].c_str(), words[2].c_str());
                return 0;
            }
            if (words.size() == 4 && (words[0] == "reopen-approve" || words[0] == "reopen-deny")) {
                const bool approve = words[0] == "reopen-approve";
                q.decideReopen(s, words[1], std::stoi(words[2]), std::stoi(words[3]), approve, reason);
                std::printf("%s reader %s timepoint %s: reopen %s\n", words[1].c_str(), words[2].c_str(), words[3].c_str(),
                            approve ? "approved" : "denied");
                return 0;
            }
            if (words == std::vector<std::string>{"assign"}) {
                std::printf("%d subject(s) assigned\n", q.assignReaders(s));
                return 0;
            }
            if (words == std::vector<std::string>{"backlog"}) {
                const auto b = q.backlog(s);
                if (json) {
                    nlohmann::json j{{"timepoints", b.timepoints}, {"reads", b.reads}, {"by_reader", b.byReader}};
                    std::cout << j.dump(1) << "\n";
                    return 0;
                }
                std::printf("timepoints\n");
                for (const auto& [k, n] : b.timepoints) std::printf("  %-18s %6d\n", k.c_str(), n);
                std::printf("reads\n");
                for (const auto& [k, n] : b.reads) std::printf("  %-18s %6d\n", k.c_str(), n);
                std::printf("reads by reader\n");
                for (const auto& [r, m] : b.byReader) {
                    std::printf("  %s:", r.c_str());
                    for (const auto& [k, n] : m) std::printf(" %s %d", k.c_str(), n);
                    std::printf("\n");
                }
                return 0;
            }
            return usage();
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
    } catch (const rq::Refused& e) {
        std::fprintf(stderr, "reader-queue: refused (%s): %s\n", e.rule.c_str(), e.what());
        return 3;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "reader-queue: %s\n", e.what());
        return 2;
    }
}
