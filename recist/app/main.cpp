// build/bin/recist: the RECIST 1.1 engine over CDISC SDTM files.
//
//   recist evaluate --tu TU.csv --tr TR.csv --subjects SUBJ.csv --config config.json
//                   --out RS.csv [--explain]
//
// Valid input: RS.csv is written atomically, exit 0 (--explain prints every result's reason).
// TR.csv is streamed in blocks and each read is evaluated and written in turn, so memory
// holds the parsed reads, not the texts or the results.
// Invalid input: every problem on stderr as "ERROR <RULE> <FILE>:<LINE> <text>", no RS file,
// exit 1. Usage errors exit 2.
#include "recist/Evaluate.h"
#include "recist/Sdtm.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace {

int usage(std::FILE* to, int code) {
    std::fprintf(to, "usage: recist evaluate --tu TU.csv --tr TR.csv --subjects SUBJ.csv --config config.json "
                     "--out RS.csv [--explain]\n");
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
        } else if ((a == "--tu" || a == "--tr" || a == "--subjects" || a == "--config" || a == "--out") && i + 1 < argc) {
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

    // Atomic write: a reader of RS.csv never sees half a file.
    const std::filesystem::path out = args["--out"];
    const std::filesystem::path tmp = out.string() + ".tmp";
    {
        // Evaluate and write one read at a time: results never pile up in memory.
        std::ofstream o(tmp, std::ios::binary | std::ios::trunc);
        std::vector<recist::SubjectResult> one(1);
        bool first = true;
        for (const recist::Read& r : input.reads) {
            one[0] = recist::evaluate(r, input.options);
            const std::string rows = recist::sdtm::writeRs(one);
            const std::size_t skip = first ? 0 : rows.find('\n') + 1; // the header once
            o.write(rows.data() + skip, static_cast<std::streamsize>(rows.size() - skip));
            if (explain) std::fputs(recist::sdtm::explain(one).c_str(), stdout);
            first = false;
        }
        if (input.reads.empty()) o << recist::sdtm::writeRs({});
        if (!o.flush()) {
            std::fprintf(stderr, "ERROR IO %s:0 cannot be written\n", tmp.c_str());
            return 1;
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, out, ec);
    if (ec) {
        std::fprintf(stderr, "ERROR IO %s:0 cannot be written: %s\n", out.c_str(), ec.message().c_str());
        return 1;
    }
    return 0;
}
