// build/bin/reader-queue: the reading queue's tool for trial managers, readers and adjudicators.
//   reader-queue init [--charter FILE] [--admin NAME]  create or migrate the database with the trial's charter
//   reader-queue audit verify [--json]                 check the hash chain of the audit trail and,
//                  [--audit-pub F --audit-log F]      with the public key and the log, its signed checkpoints
//   reader-queue audit keygen --audit-key FILE        make the Ed25519 checkpoint key (FILE 0600, FILE.pub)
//   reader-queue audit checkpoint --audit-key F --audit-log F   sign the trail's head (the service account's job)
//   administrator:  users add NAME ROLE
//   manager:        subjects SUBJ.csv | import STORE | qc SUBJECT T accept|reject [--reason TEXT] | assign
//                   close SUBJECT --reason TEXT | reopen-approve|reopen-deny SUBJECT SLOT T --reason TEXT
//                   backlog | turnaround | readers [--json] | export DIR
//   reader:         worklist [--json] | read SUBJECT [--json] | draft SUBJECT T FILE|- | sign SUBJECT T --meaning TEXT
//                   reopen SUBJECT T --reason TEXT
//   adjudicator:    adjudications [--json] | claim [SUBJECT] | case SUBJECT [--json]
//                   decide SUBJECT 1|2 --rationale TEXT --meaning TEXT
// Every command takes --db URL: sqlite:PATH (default sqlite:reader-queue.db, or $RELUTH_QUEUE_DB)
// or postgresql://user@host:port/dbname. Passwords come from $RELUTH_QUEUE_PASSWORD (and
// $RELUTH_QUEUE_NEW_PASSWORD for a new user) or are asked on the terminal.
#include "readerqueue/Anchor.h"
#include "readerqueue/Queue.h"

#include <boost/program_options.hpp>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace {

int usage() {
    std::cerr << "usage: reader-queue [--db URL] init [--charter FILE] [--admin NAME]\n"
                 "       reader-queue [--db URL] audit verify [--json] [--audit-pub FILE --audit-log FILE]\n"
                 "       reader-queue audit keygen --audit-key FILE\n"
                 "       reader-queue [--db URL] audit checkpoint --audit-key FILE --audit-log FILE\n"
                 "       reader-queue [--db URL] --user U COMMAND ...\n"
                 "  administrator: users add NAME ROLE\n"
                 "  manager:       subjects SUBJ.csv | import STORE | qc SUBJECT T accept|reject [--reason TEXT] | assign\n"
                 "                 close SUBJECT --reason TEXT | reopen-approve|reopen-deny SUBJECT SLOT T --reason TEXT\n"
                 "                 backlog | turnaround | readers [--json] | export DIR\n"
                 "  reader:        worklist [--json] | read SUBJECT [--json] | draft SUBJECT T FILE|-\n"
                 "                 sign SUBJECT T --meaning TEXT | reopen SUBJECT T --reason TEXT\n"
                 "  adjudicator:   adjudications [--json] | claim [SUBJECT] | case SUBJECT [--json]\n"
                 "                 decide SUBJECT 1|2 --rationale TEXT --meaning TEXT\n"
                 "URL: sqlite:PATH (default sqlite:reader-queue.db) or postgresql://user@host:port/dbname\n";
    return 2;
}

std::string password(const char* env, const std::string& prompt) {
    if (const char* p = std::getenv(env)) return p;
    const char* typed = ::getpass(prompt.c_str());
    if (!typed) throw std::runtime_error("no password given");
    return typed;
}

int toInt(const std::string& text, const char* what) {
    try {
        std::size_t used = 0;
        const int v = std::stoi(text, &used);
        if (used == text.size()) return v;
    } catch (const std::exception&) {}
    throw std::runtime_error(std::string(what) + " must be a number, not '" + text + "'");
}

std::string readAll(const std::string& path) {
    std::stringstream text;
    if (path == "-") {
        text << std::cin.rdbuf();
        return text.str();
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot read");
    text << in.rdbuf();
    return text.str();
}

nlohmann::json parsedOr(const std::string& text) {
    try {
        return text.empty() ? nlohmann::json() : nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception&) {
        return text;
    }
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> words;
    std::string url = "sqlite:reader-queue.db";
    if (const char* env = std::getenv("RELUTH_QUEUE_DB")) url = env;
    bool json = false;
    std::string user, admin, reason, meaning, rationale, charterFile;
    // the audit anchor's files: options, else the environment (the service's configuration)
    std::string auditKey, auditPub, auditLog;
    if (const char* e = std::getenv("RELUTH_AUDIT_KEY")) auditKey = e;
    if (const char* e = std::getenv("RELUTH_AUDIT_PUB")) auditPub = e;
    if (const char* e = std::getenv("RELUTH_AUDIT_LOG")) auditLog = e;
    {
        // Boost.Program_options: unknown options and missing values are refused naming them;
        // the command is the positional words ("-" is a word: standard input)
        namespace po = boost::program_options;
        po::options_description opts("options");
        opts.add_options()("help,h", "this help")("db", po::value(&url), "sqlite:PATH or postgresql://user@host:port/dbname")(
            "user", po::value(&user), "who runs the command (password from $RELUTH_QUEUE_PASSWORD or the terminal)")(
            "admin", po::value(&admin), "init: the first administrator")("reason", po::value(&reason), "why (QC, close, reopen)")(
            "meaning", po::value(&meaning), "what a signature means")("rationale", po::value(&rationale), "an adjudicator's rationale")(
            "charter", po::value(&charterFile), "init: the trial charter")("json", po::bool_switch(&json), "JSON for scripts")(
            "audit-key", po::value(&auditKey), "the Ed25519 secret key that signs audit checkpoints (0600; $RELUTH_AUDIT_KEY)")(
            "audit-pub", po::value(&auditPub), "its public key, to verify (default: the key's FILE.pub; $RELUTH_AUDIT_PUB)")(
            "audit-log", po::value(&auditLog), "the checkpoint log outside the database ($RELUTH_AUDIT_LOG)");
        po::options_description all;
        all.add(opts).add_options()("words", po::value(&words));
        po::positional_options_description pos;
        pos.add("words", -1);
        try {
            po::variables_map vm;
            po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
            if (vm.count("help")) {
                usage();
                std::cerr << opts;
                return 0;
            }
            po::notify(vm);
        } catch (const po::error& e) {
            std::cerr << "reader-queue: " << e.what() << "\n";
            return usage();
        }
    }
    auto is = [&](std::initializer_list<const char*> w) {
        if (words.size() != w.size()) return false;
        std::size_t i = 0;
        for (const char* x : w) {
            if (std::string(x) != "*" && words[i] != x) return false;
            ++i;
        }
        return true;
    };
    try {
        if (is({"init"})) {
            auto db = rq::Database::open(url);
            const int applied = db->migrate();
            const std::filesystem::path charter = charterFile.empty() ? rq::defaultCharterPath() : std::filesystem::path(charterFile);
            rq::Queue q(std::move(db), charter);
            std::printf("%s: schema version %d (%d migration%s applied), trial %s, charter %s\n", url.c_str(), q.db().schemaVersion(),
                        applied, applied == 1 ? "" : "s", q.charter().trial.studyId.c_str(), q.charter().version.c_str());
            if (!admin.empty()) {
                q.addUser(nullptr, admin, workflow::Role::Administrator,
                          password("RELUTH_QUEUE_NEW_PASSWORD", "new password for " + admin + ": "));
                std::printf("administrator %s created\n", admin.c_str());
            }
            return 0;
        }
        if (is({"audit", "keygen"})) {
            if (auditKey.empty()) throw std::runtime_error("audit keygen needs --audit-key FILE");
            const rq::AnchorKey k = rq::generateAnchorKey(auditKey);
            std::printf("audit key %s: secret key %s (0600), public key %s.pub\n", k.keyId().c_str(), auditKey.c_str(), auditKey.c_str());
            return 0;
        }
        if (is({"audit", "checkpoint"})) {
            if (auditKey.empty() || auditLog.empty())
                throw std::runtime_error("audit checkpoint needs --audit-key FILE and --audit-log FILE");
            auto db = rq::Database::open(url);
            const rq::Checkpoint c = rq::checkpointAudit(*db, rq::loadAnchorSecret(auditKey), auditLog);
            std::printf("checkpoint: entry %lld %s signed %s by key %s\n", static_cast<long long>(c.seq), c.hash.c_str(), c.time.c_str(),
                        c.keyId.c_str());
            return 0;
        }
        if (is({"audit", "verify"})) {
            auto db = rq::Database::open(url);
            const auto entries = db->readAudit();
            const rq::AuditHead head = db->auditHead();
            auto problems = rq::verifyChain(entries, head);
            if (auditPub.empty() && !auditKey.empty()) auditPub = auditKey + ".pub";
            const auto table = rq::readCheckpointTable(*db);
            std::string anchorNote;
            std::int64_t anchoredTo = 0;
            if (!auditPub.empty()) {
                if (auditLog.empty())
                    throw std::runtime_error("audit verify with a public key needs --audit-log FILE (the checkpoint log)");
                // a damaged log is a finding of the verification, not an error of the tool
                std::optional<std::vector<rq::Checkpoint>> log;
                try {
                    log = rq::readCheckpointLog(auditLog);
                } catch (const rq::AnchorError& e) {
                    problems.push_back({0, "log", e.what()});
                    log.emplace();
                }
                const auto report = rq::verifyAnchors(entries, table, log, rq::loadAnchorPublic(auditPub), auditLog);
                problems.insert(problems.end(), report.problems.begin(), report.problems.end());
                anchoredTo = report.anchoredTo;
                if (report.problems.empty())
                    anchorNote = "anchored by " + std::to_string(report.checkpoints) + " signed checkpoint(s) up to entry " +
                                 std::to_string(report.anchoredTo) +
                                 (report.newest > report.anchoredTo
                                      ? "; entries " + std::to_string(report.anchoredTo + 1) + ".." + std::to_string(report.newest) +
                                            " are not anchored yet (the next checkpoint signs them)"
                                      : "");
            } else if (!table.empty()) {
                problems.push_back({0, "anchor",
                                    "the database holds " + std::to_string(table.size()) +
                                        " signed checkpoint(s): give --audit-pub and --audit-log to check them"});
            } else {
                anchorNote = "NOT ANCHORED: no --audit-pub/--audit-log given; the chain alone cannot show a trail rebuilt or cut "
                             "by someone who can write the database";
            }
            if (json) {
                nlohmann::json j{{"entries", entries.size()},  {"head_seq", head.seq},      {"head_hash", head.hash},
                                 {"intact", problems.empty()}, {"anchored_to", anchoredTo}, {"checkpoints_in_database", table.size()}};
                j["problems"] = nlohmann::json::array();
                for (const auto& p : problems) j["problems"].push_back({{"seq", p.seq}, {"kind", p.kind}, {"detail", p.detail}});
                if (!anchorNote.empty()) j["note"] = anchorNote;
                std::cout << j.dump(1) << "\n";
            } else if (problems.empty()) {
                std::printf("audit trail intact: %zu entries, head %lld %s\n", entries.size(), static_cast<long long>(head.seq),
                            head.hash.c_str());
                if (!anchorNote.empty()) std::printf("%s\n", anchorNote.c_str());
            } else {
                std::printf("AUDIT TRAIL BROKEN: %zu problem%s in %zu entries\n", problems.size(), problems.size() == 1 ? "" : "s",
                            entries.size());
                for (const auto& p : problems)
                    std::printf("  %s at entry %lld: %s\n", p.kind.c_str(), static_cast<long long>(p.seq), p.detail.c_str());
            }
            return problems.empty() ? 0 : 1;
        }
        if (words.empty()) return usage();
        if (user.empty()) throw std::runtime_error("--user is required");
        rq::Queue q(rq::Database::open(url));
        const rq::Session s = q.login(user, password("RELUTH_QUEUE_PASSWORD", "password for " + user + ": "));
        const std::string signPassword = [] {
            const char* p = std::getenv("RELUTH_QUEUE_PASSWORD");
            return std::string(p ? p : "");
        }();
        auto again = [&](const std::string& what) {
            return signPassword.empty() ? password("RELUTH_QUEUE_PASSWORD", "password again to sign " + what + ": ") : signPassword;
        };
        // administrator ---------------------------------------------------------------------
        if (is({"users", "add", "*", "*"})) {
            q.addUser(&s, words[2], rq::roleFromName(words[3]),
                      password("RELUTH_QUEUE_NEW_PASSWORD", "new password for " + words[2] + ": "));
            std::printf("user %s (%s) added\n", words[2].c_str(), words[3].c_str());
            return 0;
        }
        // manager ---------------------------------------------------------------------------
        if (is({"subjects", "*"})) {
            std::printf("%d subject(s) with new or changed dates\n", q.loadSubjectDates(s, words[1]));
            return 0;
        }
        if (is({"import", "*"})) {
            const auto r = q.importStore(s, words[1]);
            std::printf("registered %d subject(s), %d timepoint(s)\n", r.subjects, r.timepoints);
            for (const auto& n : r.notes) std::printf("note: %s\n", n.c_str());
            for (const auto& p : r.problems) std::printf("problem: %s\n", p.c_str());
            return r.problems.empty() ? 0 : 1;
        }
        if (words.size() == 4 && words[0] == "qc" && (words[3] == "accept" || words[3] == "reject")) {
            q.qc(s, words[1], toInt(words[2], "T"), words[3] == "accept", reason);
            std::printf("%s timepoint %s: %sed\n", words[1].c_str(), words[2].c_str(), words[3].c_str());
            return 0;
        }
        if (is({"assign"})) {
            std::printf("%d subject(s) assigned\n", q.assignReaders(s));
            return 0;
        }
        if (is({"close", "*"})) {
            q.closeSubject(s, words[1], reason);
            std::printf("%s: reading closed\n", words[1].c_str());
            return 0;
        }
        if (words.size() == 4 && (words[0] == "reopen-approve" || words[0] == "reopen-deny")) {
            const bool approve = words[0] == "reopen-approve";
            q.decideReopen(s, words[1], toInt(words[2], "SLOT"), toInt(words[3], "T"), approve, reason);
            std::printf("%s reader %s timepoint %s: reopen %s\n", words[1].c_str(), words[2].c_str(), words[3].c_str(),
                        approve ? "approved" : "denied");
            return 0;
        }
        if (is({"backlog"})) {
            const auto b = q.backlog(s);
            if (json) {
                nlohmann::json byTp = nlohmann::json::object();
                for (const auto& [t, m] : b.byTimepoint) byTp[std::to_string(t)] = m;
                nlohmann::json j{{"timepoints", b.timepoints},
                                 {"reads", b.reads},
                                 {"by_reader", b.byReader},
                                 {"by_timepoint", byTp},
                                 {"adjudications", b.adjudications}};
                std::cout << j.dump(1) << "\n";
                return 0;
            }
            auto line = [](const std::map<std::string, int>& m) {
                if (m.empty()) std::printf(" none");
                for (const auto& [k, n] : m) std::printf(" %s %d", k.c_str(), n);
                std::printf("\n");
            };
            std::printf("timepoints     ");
            line(b.timepoints);
            std::printf("reads          ");
            line(b.reads);
            std::printf("adjudications  ");
            line(b.adjudications);
            std::printf("reads by timepoint\n");
            for (const auto& [t, m] : b.byTimepoint) {
                std::printf("  T%-12d", t);
                line(m);
            }
            std::printf("reads by reader\n");
            for (const auto& [r, m] : b.byReader) {
                std::printf("  %-13s", r.c_str());
                line(m);
            }
            return 0;
        }
        if (is({"turnaround"})) {
            const auto stages = q.turnaround(s);
            if (json) {
                nlohmann::json j = nlohmann::json::array();
                for (const auto& st : stages)
                    j.push_back({{"stage", st.name}, {"count", st.count}, {"median_hours", st.medianHours}, {"p90_hours", st.p90Hours}});
                std::cout << j.dump(1) << "\n";
                return 0;
            }
            std::printf("%-36s %7s %12s %12s\n", "stage", "count", "median (h)", "p90 (h)");
            for (const auto& st : stages) std::printf("%-36s %7d %12.2f %12.2f\n", st.name.c_str(), st.count, st.medianHours, st.p90Hours);
            return 0;
        }
        if (is({"readers"})) {
            const auto rs = q.readers(s);
            if (json) {
                nlohmann::json j = nlohmann::json::array();
                for (const auto& r : rs)
                    j.push_back({{"reader", r.reader},
                                 {"subjects", r.subjects},
                                 {"signed_reads", r.signedReads},
                                 {"pending_reads", r.pendingReads},
                                 {"adjudicated_subjects", r.adjudicatedSubjects},
                                 {"chosen", r.chosen},
                                 {"adjudication_rate", r.adjudicationRate},
                                 {"selection_rate", r.selectionRate}});
                std::cout << j.dump(1) << "\n";
                return 0;
            }
            std::printf("%-16s %8s %7s %8s %11s %7s %10s %10s\n", "reader", "subjects", "signed", "pending", "adjudicated", "chosen",
                        "adj. rate", "chosen %");
            for (const auto& r : rs)
                std::printf("%-16s %8d %7d %8d %11d %7d %9.0f%% %9.0f%%\n", r.reader.c_str(), r.subjects, r.signedReads, r.pendingReads,
                            r.adjudicatedSubjects, r.chosen, 100 * r.adjudicationRate, 100 * r.selectionRate);
            return 0;
        }
        if (is({"export", "*"})) {
            const int n = q.exportSdtm(s, words[1]);
            std::printf("exported %d subject(s) to %s (TU, TR, RS, SUBJ, config.json, ADJ; accepted/TU, TR, RS)\n", n, words[1].c_str());
            return 0;
        }
        // reader ----------------------------------------------------------------------------
        if (is({"worklist"})) {
            const auto items = q.worklist(s);
            if (json) {
                nlohmann::json j = nlohmann::json::array();
                for (const auto& it : items)
                    j.push_back({{"subject", it.subject}, {"timepoint", it.ordinal}, {"study_date", it.studyDate}, {"state", it.state}});
                std::cout << j.dump(1) << "\n";
                return 0;
            }
            for (const auto& it : items)
                std::printf("%-20s T%-3d %s %s\n", it.subject.c_str(), it.ordinal, it.studyDate.c_str(), it.state.c_str());
            if (items.empty()) std::printf("nothing to read\n");
            return 0;
        }
        if (is({"read", "*"})) {
            const auto r = q.ownRead(s, words[1]);
            nlohmann::json tps = nlohmann::json::array();
            for (const auto& t : r.timepoints)
                tps.push_back({{"timepoint", t.ordinal},
                               {"visit", t.visit},
                               {"study_date", t.studyDate},
                               {"state", t.state},
                               {"read", parsedOr(t.payload)},
                               {"result", parsedOr(t.result)}});
            if (json) {
                std::cout << nlohmann::json{{"subject", r.subject}, {"timepoints", tps}}.dump(1) << "\n";
                return 0;
            }
            for (const auto& t : r.timepoints) {
                std::string overall;
                const auto res = parsedOr(t.result);
                if (res.is_object())
                    for (const auto& v : res["visits"])
                        if (v.contains("overall")) overall = v["overall"].value("response", "");
                std::printf("T%-3d %-14s %s %-17s %s\n", t.ordinal, t.visit.c_str(), t.studyDate.c_str(), t.state.c_str(),
                            res.is_object() ? ("best " + res["best_response"].value("response", "") + ", latest overall " + overall).c_str()
                                            : "");
            }
            return 0;
        }
        if (is({"draft", "*", "*", "*"})) {
            q.saveDraft(s, words[1], toInt(words[2], "T"), readAll(words[3]));
            std::printf("%s timepoint %s: draft saved\n", words[1].c_str(), words[2].c_str());
            return 0;
        }
        if (is({"sign", "*", "*"})) {
            q.sign(s, words[1], toInt(words[2], "T"), again(words[1]), meaning);
            std::printf("%s timepoint %s: signed\n", words[1].c_str(), words[2].c_str());
            return 0;
        }
        if (is({"reopen", "*", "*"})) {
            q.requestReopen(s, words[1], toInt(words[2], "T"), reason);
            std::printf("%s timepoint %s: reopen requested\n", words[1].c_str(), words[2].c_str());
            return 0;
        }
        // adjudicator -----------------------------------------------------------------------
        auto itemJson = [](const rq::Queue::AdjudicationItem& it) {
            return nlohmann::json{{"subject", it.subject},
                                  {"round", it.round},
                                  {"through_timepoint", it.throughOrdinal},
                                  {"state", it.state},
                                  {"adjudicator", it.adjudicator},
                                  {"triggers", parsedOr(it.triggers)}};
        };
        if (is({"adjudications"})) {
            const auto items = q.adjudicationQueue(s);
            if (json) {
                nlohmann::json j = nlohmann::json::array();
                for (const auto& it : items) j.push_back(itemJson(it));
                std::cout << j.dump(1) << "\n";
                return 0;
            }
            for (const auto& it : items)
                std::printf("%-20s round %d through T%d %s\n", it.subject.c_str(), it.round, it.throughOrdinal,
                            it.adjudicator.empty() ? "(free)" : "(yours)");
            if (items.empty()) std::printf("no open adjudication\n");
            return 0;
        }
        if (is({"claim"}) || is({"claim", "*"})) {
            const auto it = q.claimAdjudication(s, words.size() == 2 ? words[1] : std::string());
            if (!it) {
                std::printf("no open adjudication to claim\n");
                return 1;
            }
            std::printf("%s round %d claimed\n", it->subject.c_str(), it->round);
            return 0;
        }
        if (is({"case", "*"})) {
            const auto c = q.adjudicationCase(s, words[1]);
            nlohmann::json reads = nlohmann::json::array();
            for (const auto& r : c.reads) {
                nlohmann::json tps = nlohmann::json::array();
                for (const auto& t : r.timepoints)
                    tps.push_back({{"timepoint", t.ordinal}, {"study_date", t.studyDate}, {"read", parsedOr(t.payload)}});
                reads.push_back({{"label", r.label}, {"timepoints", tps}, {"result", parsedOr(r.result)}});
            }
            const nlohmann::json j{{"adjudication", itemJson(c.item)}, {"reads", reads}};
            if (json) {
                std::cout << j.dump(1) << "\n";
                return 0;
            }
            std::printf("%s round %d through T%d (%s)\n", c.item.subject.c_str(), c.item.round, c.item.throughOrdinal,
                        c.item.state.c_str());
            for (const auto& t : j["adjudication"]["triggers"]) std::printf("  trigger: %s\n", t.value("detail", "").c_str());
            for (const auto& r : reads) {
                const auto& res = r["result"];
                if (!res.is_object()) continue;
                std::printf("  %s: best %s, progression %s, disease control %s\n", r["label"].get<std::string>().c_str(),
                            res["best_response"].value("response", "").c_str(), res["progression"].value("date", "-").c_str(),
                            res["disease_control"].value("value", "").c_str());
            }
            return 0;
        }
        if (is({"decide", "*", "*"})) {
            q.decide(s, words[1], toInt(words[2], "reader"), rationale, again(words[1]), meaning);
            std::printf("%s: Reader %s's read accepted\n", words[1].c_str(), words[2].c_str());
            return 0;
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
