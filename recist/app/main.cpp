// build/bin/recist: the RECIST 1.1 engine over CDISC SDTM files.
//
//   recist evaluate --tu TU.csv --tr TR.csv --subjects SUBJ.csv --config config.json
//                   --out RS.csv [--adtte ADTTE.csv] [--adrs ADRS.csv] [--explain]
//
// Valid input: RS.csv (and ADTTE.csv / ADRS.csv, contract §7: rPFS events and censoring, the
// per-visit and best responses) is written atomically, exit 0 (--explain prints every
// result's reason, the rPFS rule included).
// TR.csv is streamed in blocks and each read is evaluated and written in turn, so memory
// holds the parsed reads, not the texts or the results.
// Invalid input: every problem on stderr as "ERROR <RULE> <FILE>:<LINE> <text>", no RS file,
// exit 1. Usage errors exit 2.
#include "recist/Endpoints.h"
#include "recist/Evaluate.h"
#include "recist/Sdtm.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

namespace {

int usage(std::FILE* to, int code) {
    std::fprintf(to, "usage: recist evaluate --tu TU.csv --tr TR.csv --subjects SUBJ.csv --config config.json "
                     "--out RS.csv [--adtte ADTTE.csv] [--adrs ADRS.csv] [--explain]\n");
    return code;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) return usage(stderr, 2);
    const std::string command = argv[1];
    if (command == "--help" || command == "-h") return usage(stdout, 0);
    if (command != "evaluate") return usage(stderr, 2);
    std::map<std::string, std::string> args;
    bool explain = false;
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--explain") {
            explain = true;
        } else if ((a == "--tu" || a == "--tr" || a == "--subjects" || a == "--config" || a == "--out" || a == "--adtte" || a == "--adrs") &&
                   i + 1 < argc) {
            args[a] = argv[++i];
        } else {
            std::fprintf(stderr, "recist: unexpected argument '%s'\n", a.c_str());
            return usage(stderr, 2);
        }
    }
    for (const char* required : {"--tu", "--tr", "--subjects", "--config", "--out"}) {
        if (!args.count(required)) {
            std::fprintf(stderr, "recist: %s is required\n", required);
            return usage(stderr, 2);
        }
    }
    const recist::sdtm::Input input = recist::sdtm::parseFiles(args["--tu"], args["--tr"], args["--subjects"], args["--config"]);
    if (!input.errors.empty()) {
        for (const auto& e : input.errors) std::fprintf(stderr, "%s\n", e.format().c_str());
        std::fprintf(stderr, "recist: %zu problem%s, no RS file written\n", input.errors.size(), input.errors.size() == 1 ? "" : "s");
        return 1;
    }

    // Atomic writes: a reader never sees half a file; every output is written to a temporary
    // name first and renamed only when all of them are complete (all or nothing).
    std::vector<std::pair<std::filesystem::path, std::filesystem::path>> outputs; // temporary, final
    auto open = [&](const std::string& option, std::ofstream& o) {
        if (!args.count(option)) return;
        const std::filesystem::path final = args[option];
        outputs.emplace_back(final.string() + ".tmp", final);
        o.open(outputs.back().first, std::ios::binary | std::ios::trunc);
    };
    std::ofstream rs, adtte, adrs;
    open("--out", rs);
    open("--adtte", adtte);
    open("--adrs", adrs);
    auto fail = [&](const std::filesystem::path& p, const std::string& why) {
        std::fprintf(stderr, "ERROR IO %s:0 cannot be written%s\n", p.c_str(), why.c_str());
        for (const auto& [tmp, final] : outputs) {
            std::error_code ec;
            std::filesystem::remove(tmp, ec);
        }
        return 1;
    };
    std::map<std::string, const recist::sdtm::SubjectInfo*> subjects;
    for (const auto& s : input.subjects) subjects[s.subjectId] = &s;
    std::set<std::string> read;
    {
        // Evaluate and write one read at a time: results never pile up in memory.
        std::vector<recist::SubjectResult> one(1);
        bool first = true;
        auto withoutHeader = [](const std::string& text, bool header) {
            return header ? std::string_view(text) : std::string_view(text).substr(text.find('\n') + 1);
        };
        if (adtte.is_open()) adtte << recist::sdtm::writeAdtte({});
        if (adrs.is_open()) adrs << recist::sdtm::writeAdrs({});
        for (const recist::Read& r : input.reads) {
            one[0] = recist::evaluate(r, input.options);
            rs << withoutHeader(recist::sdtm::writeRs(one), first);
            read.insert(r.subjectId);
            if (explain) std::fputs(recist::sdtm::explain(one).c_str(), stdout);
            if (adtte.is_open() || explain) {
                const recist::TimeToEvent t = recist::rpfs(one[0], r.randomization, r.death, input.options);
                if (adtte.is_open()) adtte << withoutHeader(recist::sdtm::writeAdtte({t}), false);
                if (explain) std::printf("  rPFS %s: %s\n", t.censored ? "censored" : "event", t.reason.c_str());
            }
            if (adrs.is_open()) adrs << withoutHeader(recist::sdtm::writeAdrs(one), false);
            first = false;
        }
        if (input.reads.empty()) rs << recist::sdtm::writeRs({});
        // a subject nobody read still has its rPFS row (contract §7.2, rule 1)
        if (adtte.is_open())
            for (const auto& s : input.subjects)
                if (!read.count(s.subjectId))
                    adtte << withoutHeader(recist::sdtm::writeAdtte({recist::rpfsWithoutRead(s.studyId, s.subjectId, s.randomization)}),
                                           false);
        for (std::ofstream* o : {&rs, &adtte, &adrs})
            if (o->is_open() && !o->flush()) return fail(outputs.front().first, "");
    }
    for (std::ofstream* o : {&rs, &adtte, &adrs})
        if (o->is_open()) o->close();
    for (const auto& [tmp, final] : outputs) {
        std::error_code ec;
        std::filesystem::rename(tmp, final, ec);
        if (ec) return fail(final, ": " + ec.message());
    }
    return 0;
}
