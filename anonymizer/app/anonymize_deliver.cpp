// build/bin/anonymize-deliver --store STORE --to AET@host:port [--audit FILE] [--attempts N] [--max-rate N]
// Delivers the de-identified store to the trial's DICOM server by C-STORE (anonymizer/Deliver.h):
// what the peer acknowledges is recorded in the audit log, and a rerun sends only the rest.
// Exit 0: everything delivered; 1: some instances not delivered (named; run again); 2: usage.
#include "anonymizer/Anonymizer.h"
#include "anonymizer/Deliver.h"

#include <boost/program_options.hpp>

#include <cstdio>
#include <iostream>

int main(int argc, char** argv) {
    namespace po = boost::program_options;
    std::string storeDir, to, audit, calling = "RELUTH_ANON", peerId;
    int attempts = 5;
    double maxRate = 0;
    bool quiet = false;
    po::options_description opts("anonymize-deliver");
    opts.add_options()("help,h", "this help")("store", po::value(&storeDir)->value_name("STORE"), "the de-identified store")(
        "to", po::value(&to)->value_name("AET@HOST:PORT"), "the trial's DICOM server (e.g. RELUTH@127.0.0.1:4242)")(
        "audit", po::value(&audit)->value_name("FILE"), "the anonymizer's audit log (default STORE.audit.jsonl)")(
        "calling-aet", po::value(&calling)->value_name("AET"),
        "our AE title (default RELUTH_ANON)")("peer-id", po::value(&peerId)->value_name("ID"),
                                              "which server this is beyond its address (a PACS rebuilt at the same address is another)")(
        "attempts", po::value(&attempts)->value_name("N"), "attempts per instance, 1-20 (default 5)")(
        "max-rate", po::value(&maxRate)->value_name("N"),
        "at most N instances per second (default: no limit)")("quiet", po::bool_switch(&quiet), "no progress line");
    try {
        po::variables_map vm;
        po::store(po::command_line_parser(argc, argv).options(opts).run(), vm);
        if (vm.count("help")) {
            std::cout << "usage: anonymize-deliver --store STORE --to AET@HOST:PORT [options]\n" << opts;
            return 0;
        }
        po::notify(vm);
        if (storeDir.empty() || to.empty()) throw po::error("--store and --to are required");
        if (attempts < 1 || attempts > 20) throw po::error("--attempts must be 1-20");
        if (!(maxRate >= 0)) throw po::error("--max-rate must be 0 or more");
    } catch (const po::error& e) {
        std::fprintf(stderr, "anonymize-deliver: %s (see --help)\n", e.what());
        return 2;
    }
    try {
        anon::Peer peer = anon::Peer::parse(to);
        peer.callingAet = calling;
        peer.id = peerId;
        anon::DeliveryOptions o;
        o.attempts = attempts;
        o.maxRate = maxRate;
        o.progress = [&](std::size_t done, std::size_t total) {
            if (quiet) return;
            std::fprintf(stderr, "\ranonymize-deliver: %zu/%zu", done, total);
            std::fflush(stderr);
        };
        const std::filesystem::path auditLog = audit.empty() ? anon::defaultAuditPath(storeDir) : std::filesystem::path(audit);
        const anon::DeliveryResult r = anon::deliverStore(storeDir, auditLog, peer, o);
        if (!quiet) std::fprintf(stderr, "\n");
        std::printf("instances: %zu\ndelivered now: %zu\ndelivered before: %zu\nnot delivered: %zu\nseconds: %.2f\npeer: %s\naudit: %s\n",
                    r.instances, r.delivered, r.alreadyDelivered, r.failures.size(), r.seconds, peer.name().c_str(), auditLog.c_str());
        for (const auto& f : r.failures) std::printf("NOT DELIVERED %s\n", f.c_str());
        return r.failures.empty() ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "anonymize-deliver: %s\n", e.what());
        return 2;
    }
}
