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
        namespace po = boost::program_options;
        po::options_description opts("anonymize");
        opts.add_options()("help,h", "this help")("in", po::value(&in)->value_name("DIR"),
                                                  "site drop: folder tree, DICOMDIR, extension-less files")(
            "jobs", po::value(&jobs)->value_name("N")->notifier([](int n) {
                if (n < 1 || n > 256) throw po::validation_error(po::validation_error::invalid_option_value, "jobs", std::to_string(n));
            }),
            "parallel jobs, 1-256 (default: cores)")("quiet", po::bool_switch(&quiet), "no progress line");
        opts.add(app::commonOptions(common));
        if (app::parse(argc, argv, opts, "usage: anonymize --in DIR --out STORE --quarantine DIR --enrolment CSV [options]")) return 0;
        if (in.empty()) throw Error("--in is required");
        Config cfg;
        auto key = app::makeConfig(common, cfg);
        cfg.batchCommit = true; // one syncfs per batch of files, then the renames
        Anonymizer anonymizer(std::move(cfg), *key);
        const RunSummary s = runImport(anonymizer, in, jobs, [&](const RunSummary& p, std::size_t total) {
            if (quiet) return;
            std::fprintf(stderr, "\ranonymize: %zu/%zu files, %zu stored, %zu quarantined", p.stored + p.quarantined, total, p.stored,
                         p.quarantined);
            std::fflush(stderr);
        });
        if (!quiet) std::fprintf(stderr, "\n");
        std::printf("files in: %zu (%.1f MB) in %.2f s (%.1f MB/s, %.0f files/s, %d jobs)\n", s.filesIn, s.bytesIn / 1e6, s.seconds,
                    s.seconds > 0 ? s.bytesIn / 1e6 / s.seconds : 0.0, s.seconds > 0 ? s.filesIn / s.seconds : 0.0, jobs);
        std::printf("stored: %zu\nquarantined: %zu\n", s.stored, s.quarantined);
        for (const auto& [cat, n] : s.quarantinedByCategory) std::printf("  %s: %zu\n", cat.c_str(), n);
        for (const std::string& m : s.missingReferences) std::printf("warning: DICOMDIR %s\n", m.c_str());
        std::printf("key: %s\naudit: %s\n", anonymizer.key().file().c_str(), anonymizer.config().auditLog.c_str());
        return 0;
    } catch (const boost::program_options::error& e) {
        std::fprintf(stderr, "anonymize: %s (see --help)\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "anonymize: %s\n", e.what());
        return 2;
    }
}
