// build/bin/anonymize --in DIR --out STORE --quarantine DIR --enrolment CSV [--charter FILE]
//                     [--key FILE] [--jobs N]
#include "Common.h"

#include <cstdio>
#include <thread>

int main(int argc, char** argv) {
    using namespace anon;
    app::CommonArgs common;
    std::string in;
    int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    bool quiet = false;
    try {
        for (int i = 1; i < argc; ++i) {
            const std::string a = argv[i];
            if (app::takeCommon(common, argc, argv, i)) continue;
            if (a == "--in" && i + 1 < argc) in = argv[++i];
            else if (a == "--jobs" && i + 1 < argc) jobs = std::max(1, std::atoi(argv[++i]));
            else if (a == "--quiet") quiet = true;
            else if (a == "-h" || a == "--help") {
                std::cout << "usage: anonymize --in DIR --out STORE --quarantine DIR --enrolment CSV [options]\n"
                          << "  --in DIR             site drop: folder tree, DICOMDIR, extension-less files\n"
                          << "  --jobs N             parallel jobs (default: cores)\n"
                          << app::commonUsage();
                return 0;
            } else {
                throw Error("unknown argument '" + a + "' (see --help)");
            }
        }
        if (in.empty()) throw Error("--in is required");
        Config cfg;
        auto key = app::makeConfig(common, cfg);
        cfg.batchCommit = true; // one syncfs per batch of files, then the renames
        Anonymizer anonymizer(std::move(cfg), *key);
        const RunSummary s = runImport(anonymizer, in, jobs, [&](const RunSummary& p, std::size_t total) {
            if (quiet) return;
            std::fprintf(stderr, "\ranonymize: %zu/%zu files, %zu stored, %zu quarantined", p.stored + p.quarantined,
                         total, p.stored, p.quarantined);
            std::fflush(stderr);
        });
        if (!quiet) std::fprintf(stderr, "\n");
        std::printf("files in: %zu (%.1f MB) in %.2f s (%.1f MB/s, %.0f files/s, %d jobs)\n", s.filesIn, s.bytesIn / 1e6,
                    s.seconds, s.seconds > 0 ? s.bytesIn / 1e6 / s.seconds : 0.0, s.seconds > 0 ? s.filesIn / s.seconds : 0.0, jobs);
        std::printf("stored: %zu\nquarantined: %zu\n", s.stored, s.quarantined);
        for (const auto& [cat, n] : s.quarantinedByCategory) std::printf("  %s: %zu\n", cat.c_str(), n);
        for (const std::string& m : s.missingReferences) std::printf("warning: DICOMDIR %s\n", m.c_str());
        std::printf("key: %s\naudit: %s\n", anonymizer.key().file().c_str(), anonymizer.config().auditLog.c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "anonymize: %s\n", e.what());
        return 2;
    }
}
