// build/bin/reader-queue-bench: worklist and sign latency with concurrent clients.
//   reader-queue-bench [--db URL] [--subjects N] [--timepoints K] [--readers R] [--clients C] [--seconds S]
//                      [--sign-every N]   (0: worklists only) | [--signs-per-second R]
// Fills a trial (N subjects x K accepted timepoints x 2 readers; setup not measured), then C
// client threads, each with its own connection and its own reader, loop for S seconds: the
// worklist query every time, and every 10th time a draft save + electronic signature of the
// first open read (Argon2id password check included, as a real signature does); --sign-every
// changes how often (0: the worklist query alone). --signs-per-second R instead paces the
// signatures at R per second over all clients (a steady load, not as many as the CPU allows:
// each signature is an Argon2id password check that takes a core for ~0.15 s).
#include "readerqueue/Queue.h"

#include <boost/program_options.hpp>

#include <iostream>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

using Clock = std::chrono::steady_clock;

namespace {

const std::string kPw = "benchmark password 1";

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

} // namespace

int main(int argc, char** argv) {
    std::string url;
    int subjects = 10000, timepoints = 10, readers = 20, clients = 8, seconds = 10, signEvery = 10;
    double signRate = 0;
    namespace po = boost::program_options;
    po::options_description opts("usage: reader-queue-bench [options]");
    auto positive = [](const char* name) {
        return [name](int v) {
            if (v < 1) throw po::validation_error(po::validation_error::invalid_option_value, name, std::to_string(v));
        };
    };
    opts.add_options()("help,h", "this help")("db", po::value(&url), "sqlite:PATH or postgresql://... (default a temporary SQLite file)")(
        "subjects", po::value(&subjects)->notifier(positive("subjects")),
        "subjects (10000)")("timepoints", po::value(&timepoints)->notifier(positive("timepoints")),
                            "timepoints per subject (10)")("readers", po::value(&readers)->notifier(positive("readers")), "readers (20)")(
        "clients", po::value(&clients)->notifier(positive("clients")),
        "concurrent clients (8)")("seconds", po::value(&seconds)->notifier(positive("seconds")), "how long to measure (10)")(
        "sign-every", po::value(&signEvery)->notifier(positive("sign-every")),
        "one signature every N worklist calls (10)")("signs-per-second", po::value(&signRate), "or a fixed signature rate");
    try {
        po::variables_map vm;
        po::store(po::parse_command_line(argc, argv, opts), vm);
        if (vm.count("help")) {
            std::cout << opts;
            return 0;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "reader-queue-bench: %s (see --help)\n", e.what());
        return 2;
    }
    if (url.empty()) {
        const std::filesystem::path f = std::filesystem::temp_directory_path() / "reluth-queue-bench.db";
        for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(f.string() + ext);
        url = "sqlite:" + f.string();
    }
    readers = std::max(readers, std::max(2, clients));
    try {
        const auto t0 = Clock::now();
        rq::Queue q(rq::Database::open(url), rq::defaultCharterPath());
        q.addUser(nullptr, "admin", workflow::Role::Administrator, kPw);
        const rq::Session admin = q.login("admin", kPw);
        std::vector<std::string> names;
        for (int r = 0; r < readers; ++r) {
            char n[32];
            std::snprintf(n, sizeof n, "reader%02d", r + 1);
            names.push_back(n);
            q.addUser(&admin, n, workflow::Role::Reader, kPw);
        }
        // bulk fill in one transaction (setup, not measured): timepoints accepted, timepoint 1 open
        rq::Database& db = q.db();
        db.write([&] {
            for (int s = 0; s < subjects; ++s) {
                char subject[32];
                std::snprintf(subject, sizeof subject, "RELUTH-%02d-%05d", 1 + s % 12, s);
                db.exec("INSERT INTO subjects (pseudonym, registered_at, randomization_date) VALUES (?, ?, '2023-12-20')",
                        {subject, rq::utcNow()});
                for (int t = 1; t <= timepoints; ++t) {
                    char date[16];
                    std::snprintf(date, sizeof date, "%04d%02d01", 2024 + (t - 1) / 12, 1 + (t - 1) % 12);
                    db.exec("INSERT INTO timepoints (subject, ordinal, study_date, series_count, state, registered_at) "
                            "VALUES (?, ?, ?, 1, 'accepted', ?)",
                            {subject, std::to_string(t), date, rq::utcNow()});
                }
                for (int slot = 1; slot <= 2; ++slot) {
                    const std::string& reader = names[static_cast<std::size_t>((s * 2 + slot - 1) % readers)];
                    db.exec("INSERT INTO assignments (subject, slot, reader) VALUES (?, ?, ?)", {subject, std::to_string(slot), reader});
                    for (int t = 1; t <= timepoints; ++t) {
                        char date[16];
                        std::snprintf(date, sizeof date, "%04d%02d01", 2024 + (t - 1) / 12, 1 + (t - 1) % 12);
                        db.exec("INSERT INTO reads (subject, slot, ordinal, reader, state, study_date) VALUES (?, ?, ?, ?, ?, ?)",
                                {subject, std::to_string(slot), std::to_string(t), reader, t == 1 ? "open" : "waiting", date});
                    }
                }
            }
        });
        // after a bulk load, statistics and the visibility map as autovacuum would leave them
        db.exec(db.dialect() == rq::Database::Dialect::Postgresql ? "VACUUM ANALYZE" : "ANALYZE");
        const double setup = std::chrono::duration<double>(Clock::now() - t0).count();
        std::printf("trial: %d subjects x %d timepoints x 2 readers = %d reads, %d reader accounts (%s, setup %.1f s)\n", subjects,
                    timepoints, subjects * timepoints * 2, readers, url.c_str(), setup);

        std::mutex m;
        std::vector<double> worklistMs, signMs;
        std::atomic<long> errors{0}, worklists{0}, signatures{0};
        const auto start = Clock::now();
        const auto end = start + std::chrono::seconds(seconds);
        std::vector<std::thread> pool;
        for (int c = 0; c < clients; ++c) {
            pool.emplace_back([&, c] {
                std::vector<double> wl, sg;
                try {
                    rq::Queue mine(rq::Database::open(url));
                    const rq::Session me = mine.login(names[static_cast<std::size_t>(c)], kPw);
                    long mySigns = 0;
                    for (long i = 0; Clock::now() < end; ++i) {
                        auto a = Clock::now();
                        const auto items = mine.worklist(me);
                        wl.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
                        ++worklists;
                        if (signRate > 0) {
                            // this client's share of the rate: one signature every clients/R seconds, staggered
                            const auto due =
                                start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                                            (static_cast<double>(mySigns) + static_cast<double>(c) / clients) * clients / signRate));
                            if (Clock::now() < due || items.empty()) continue;
                            ++mySigns;
                        } else if (signEvery <= 0 || i % signEvery != 0 || items.empty()) {
                            continue;
                        }
                        const auto& item = items.front();
                        a = Clock::now();
                        try {
                            // a baseline with one target, then its measurement at each follow-up
                            mine.saveDraft(me, item.subject, item.ordinal,
                                           item.ordinal == 1 ? R"({"lesions":[{"id":"T01","role":"TARGET","location":"LIVER"}],)"
                                                               R"("assessments":[{"id":"T01","result":"31.5"}]})"
                                                             : R"({"assessments":[{"id":"T01","result":"30.0"}]})");
                            mine.sign(me, item.subject, item.ordinal, kPw, "I am the author of this assessment");
                            ++signatures;
                        } catch (const std::exception& e) {
                            ++errors;
                            std::fprintf(stderr, "client %d: %s\n", c, e.what());
                        }
                        sg.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
                    }
                } catch (const std::exception& e) {
                    ++errors;
                    std::fprintf(stderr, "client %d: %s\n", c, e.what());
                }
                std::lock_guard<std::mutex> lock(m);
                worklistMs.insert(worklistMs.end(), wl.begin(), wl.end());
                signMs.insert(signMs.end(), sg.begin(), sg.end());
            });
        }
        for (auto& t : pool) t.join();
        const auto problems = rq::verifyChain(db.readAudit(), db.auditHead());
        std::printf("%d clients for %d s: %ld worklists (%.0f/s), %ld signatures (%.1f/s), %ld errors\n", clients, seconds,
                    worklists.load(), worklists.load() / static_cast<double>(seconds), signatures.load(),
                    signatures.load() / static_cast<double>(seconds), errors.load());
        std::printf("worklist latency  median %.2f ms, p99 %.2f ms (goal p99 < 10 ms)\n", percentile(worklistMs, 0.5),
                    percentile(worklistMs, 0.99));
        std::printf("save+sign latency median %.1f ms, p99 %.1f ms (Argon2id check included)\n", percentile(signMs, 0.5),
                    percentile(signMs, 0.99));
        std::printf("audit trail: %s\n", problems.empty() ? "intact" : "BROKEN");
        return errors.load() == 0 && problems.empty() ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "reader-queue-bench: %s\n", e.what());
        return 2;
    }
}
