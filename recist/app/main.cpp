// build/bin/recist: the RECIST 1.1 engine over CDISC SDTM files.
//
//   recist evaluate --tu TU.csv --tr TR.csv --subjects SUBJ.csv --config config.json
//                   --out RS.csv [--explain]
//
// Valid input: RS.csv is written atomically, exit 0 (--explain prints every result's reason).
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

bool readFile(const std::string& path, std::string& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::ostringstream s;
    s << in.rdbuf();
    out = s.str();
    return true;
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
    std::string tu, tr, subj, config;
    bool ioError = false;
    for (auto [flag, text] : {std::pair{"--tu", &tu}, {"--tr", &tr}, {"--subjects", &subj}, {"--config", &config}}) {
        if (!readFile(args[flag], *text)) {
            std::fprintf(stderr, "ERROR IO %s:0 cannot be read\n", args[flag].c_str());
            ioError = true;
        }
    }
    if (ioError) return 1;
    recist::sdtm::Files files;
    files.tuName = args["--tu"];
    files.trName = args["--tr"];
    files.subjName = args["--subjects"];
    files.configName = args["--config"];
    files.tu = tu;
    files.tr = tr;
    files.subj = subj;
    files.config = config;
    const recist::sdtm::Input input = recist::sdtm::parse(files);
    if (!input.errors.empty()) {
        for (const auto& e : input.errors) std::fprintf(stderr, "%s\n", e.format().c_str());
        std::fprintf(stderr, "recist: %zu problem%s, no RS file written\n", input.errors.size(),
                     input.errors.size() == 1 ? "" : "s");
        return 1;
    }
    std::vector<recist::SubjectResult> results;
    results.reserve(input.reads.size());
    for (const recist::Read& r : input.reads) results.push_back(recist::evaluate(r, input.options));

    // Atomic write: a reader of RS.csv never sees half a file.
    const std::filesystem::path out = args["--out"];
    const std::filesystem::path tmp = out.string() + ".tmp";
    {
        std::ofstream o(tmp, std::ios::binary | std::ios::trunc);
        o << recist::sdtm::writeRs(results);
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
    if (explain) std::fputs(recist::sdtm::explain(results).c_str(), stdout);
    return 0;
}
