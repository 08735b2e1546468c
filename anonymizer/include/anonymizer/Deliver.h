#pragma once
// Delivery of the de-identified store to the trial's DICOM server (e.g. an Orthanc with its
// PostgreSQL index): by C-STORE (DCMTK's DcmSCU), the anonymizer's own protocol - it already
// speaks DIMSE as a receive node, each instance gets its own acknowledgement status, and a
// resent SOP Instance UID is stored once (Orthanc keeps the first; OverwriteInstances false).
//
// Only the store is delivered: quarantined originals live in another folder and are never
// read here. Each instance acknowledged by the peer is appended to the anonymizer's audit log
// ("outcome": "delivered", its path in the store, SOP Instance UID, SHA-256, peer), which is
// also the ledger: a rerun sends only what was not acknowledged (or changed since), so a
// delivery cut by a crash or a peer that went away is finished by running it again, losing
// nothing and storing nothing twice. A failed send is retried (a new association, backing off).
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace anon {

struct Peer {
    std::string host = "127.0.0.1";
    int port = 104;
    std::string calledAet;                  ///< the server's AE title
    std::string callingAet = "RELUTH_ANON"; ///< ours
    /// Which server this is, beyond its address: a PACS rebuilt empty at the same AET, host and
    /// port is another peer, and the audit log's deliveries to the old one do not count for it
    /// (found by ./run.sh demo --multi-site: a new Orthanc got nothing). Empty: the address alone.
    std::string id;
    /// "AET@host:port" (and "#id" when it has one), as the audit records it; parse() accepts "AET@host:port".
    std::string name() const;
    static Peer parse(const std::string& spec);
};

struct DeliveryOptions {
    int attempts = 5;          ///< per instance (each after a new association)
    double firstBackoff = 0.5; ///< seconds, doubled after each failed attempt
    double maxRate = 0;        ///< instances per second at most (0: as fast as the peer takes them), to spare a site's link
    std::function<void(std::size_t done, std::size_t total)> progress;
};

struct DeliveryResult {
    std::size_t instances = 0;         ///< in the store
    std::size_t delivered = 0;         ///< sent and acknowledged in this run
    std::size_t alreadyDelivered = 0;  ///< acknowledged before (the audit log says so)
    std::vector<std::string> failures; ///< one line per instance still not delivered: path and why
    double seconds = 0;
};

/// Delivers every instance of the store (files *.dcm) not yet acknowledged by this peer.
DeliveryResult deliverStore(const std::filesystem::path& store, const std::filesystem::path& auditLog, const Peer& peer,
                            const DeliveryOptions& options = {});

} // namespace anon
