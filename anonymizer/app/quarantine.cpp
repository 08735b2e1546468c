// build/bin/quarantine: the data manager's decisions about quarantined files (issue 14).
//   quarantine list    --quarantine DIR [--json]
//   quarantine release FILE --reason TEXT --db URL --user NAME --store STORE --quarantine DIR --enrolment CSV [--charter F] [--key F]
//   quarantine discard FILE --reason TEXT --db URL --user NAME --quarantine DIR
// FILE is the path inside the quarantine folder as `list` prints it. The user must be a data
// manager of the reading queue (password from $RELUTH_QUEUE_PASSWORD or asked); every decision
// and every refusal is in the queue's hash-chained audit trail (reader-queue audit verify).
#include "Common.h"

#include "anonymizer/Decisions.h"
#include "readerqueue/Queue.h"

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace po = boost::program_options;

int main(int argc, char** argv) {
    using namespace anon;
    std::string command, file, reason, db, user;
    app::CommonArgs common;
    bool json = false;
    po::options_description opts("quarantine: the data manager's decisions about quarantined files");
    opts.add_options()("help,h", "this help")("quarantine", po::value(&common.quarantine), "the quarantine folder")(
        "reason", po::value(&reason), "why (required for release and discard)")("db", po::value(&db),
                                                                                "the reading queue: sqlite:PATH or postgresql://...")(
        "user", po::value(&user), "a data manager of the reading queue")("store", po::value(&common.out),
                                                                         "the de-identified store (release)")(
        "enrolment", po::value(&common.enrolment), "the enrolment list (release)")("charter", po::value(&common.charter),
                                                                                   "trial charter (default assets/charters/reluth.json)")(
        "key", po::value(&common.key), "re-identification key (default STORE.key.json)")(
        "audit", po::value(&common.audit), "the anonymizer's audit log (default STORE.audit.jsonl)")("json", po::bool_switch(&json),
                                                                                                     "list as JSON")(
        "command", po::value(&command), "list, release or discard")("file", po::value(&file), "the quarantined file, as list prints it");
    po::positional_options_description pos;
    pos.add("command", 1).add("file", 1);
    try {
        po::variables_map vm;
        po::store(po::command_line_parser(argc, argv).options(opts).positional(pos).run(), vm);
        po::notify(vm);
        if (vm.count("help") || command.empty()) {
            std::cout
                << "usage: quarantine list --quarantine DIR [--json]\n"
                   "       quarantine release FILE --reason TEXT --db URL --user NAME --store STORE --quarantine DIR --enrolment CSV\n"
                   "       quarantine discard FILE --reason TEXT --db URL --user NAME --quarantine DIR\n"
                << opts;
            return command.empty() && !vm.count("help") ? 2 : 0;
        }
        if (common.quarantine.empty()) throw Error("--quarantine is required");
        const auto files = listQuarantine(common.quarantine);
        if (command == "list") {
            if (json) {
                nlohmann::json out = nlohmann::json::array();
                for (const auto& f : files) {
                    nlohmann::json reasons = nlohmann::json::array();
                    for (const auto& r : f.reasons) reasons.push_back({{"category", r.category}, {"detail", r.detail}});
                    std::string whyNot;
                    out.push_back({{"file", f.relative},
                                   {"bytes", f.bytes},
                                   {"sha256", f.inputHash},
                                   {"reasons", reasons},
                                   {"releasable", !releasableOverrides(f, &whyNot).empty()}});
                }
                std::cout << out.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
            } else {
                for (const auto& f : files) {
                    std::cout << f.relative << "\n";
                    for (const auto& r : f.reasons) std::cout << "    " << r.text() << "\n";
                }
                std::cout << files.size() << " file" << (files.size() == 1 ? "" : "s") << " waiting for a decision\n";
            }
            return 0;
        }
        if (command != "release" && command != "discard") throw Error("unknown command '" + command + "' (list, release, discard)");
        if (file.empty()) throw Error(command + " needs the quarantined file, as `quarantine list` prints it");
        if (db.empty() || user.empty()) throw Error("--db and --user (a data manager) are required: the decision is audited");
        const QuarantinedFile* f = nullptr;
        for (const auto& q : files)
            if (q.relative == file) f = &q;
        if (!f) throw Error(file + ": not in the quarantine " + common.quarantine);
        std::string password;
        if (const char* p = std::getenv("RELUTH_QUEUE_PASSWORD"))
            password = p;
        else if (const char* typed = ::getpass(("password for " + user + ": ").c_str()))
            password = typed;
        rq::Queue queue(rq::Database::open(db));
        const rq::Session session = queue.login(user, password);
        if (command == "discard") {
            discard(queue, session, *f, reason);
            std::cout << "discarded " << file << "\n";
            return 0;
        }
        Config cfg;
        auto key = app::makeConfig(common, cfg);
        Anonymizer anonymizer(std::move(cfg), *key);
        const std::string where = release(queue, session, anonymizer, *f, reason);
        key->save();
        std::cout << "released " << file << " -> " << where << "\n";
        return 0;
    } catch (const rq::Refused& e) {
        std::fprintf(stderr, "quarantine: refused (%s): %s\n", e.rule.c_str(), e.what());
        return 3;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "quarantine: %s\n", e.what());
        return 2;
    }
}
