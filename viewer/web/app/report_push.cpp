// build/bin/report-push (--reports DIR | --from-queue) --pacs DICOMWEB.json --db URL [--attempts N]
// Sends the signed timepoints' TID 1500 reports (the workstation writes them to DIR, its
// outbox) to the trial's PACS by STOW-RS. What the PACS acknowledged is recorded in the queue's
// hash-chained audit trail ("report.stored", the report's SOP Instance UID and SHA-256), which
// is also the ledger: a rerun sends only the rest; a report sent again after a crash between
// the acknowledgement and the record is stored once (same SOP Instance UID). Run it after each
// signing session, or from a timer; the reports stay in DIR either way. --from-queue: the
// reports the workstations put in the queue's outbox (Queue::queueReport; the multi-site
// deployment, where a reader's machine keeps nothing and a reader's account cannot write to the
// PACS): each stored one is marked in the outbox in the same transaction as its audit entry.
// Exit 0: every report stored; 1: some not (named; run again); 2: usage or setup error.
#include "readerqueue/Database.h"
#include "store/Hash.h"
#include "viewerweb/DicomWeb.h"

#include <QCoreApplication>

#include <boost/program_options.hpp>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/oflog/oflog.h>
#include <sodium.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

int main(int argc, char** argv) {
    namespace po = boost::program_options;
    std::string reports, pacs, db;
    int attempts = 3;
    bool fromQueue = false;
    po::options_description opts("report-push");
    opts.add_options()("help,h", "this help")("reports", po::value(&reports)->value_name("DIR"), "the signed reports (the outbox)")(
        "pacs", po::value(&pacs)->value_name("FILE"), "DICOMweb configuration of the PACS (JSON, 0600: url, user, password, ca)")(
        "db", po::value(&db)->value_name("URL"),
        "the reading queue (sqlite:FILE or postgresql://...), whose audit trail records each stored report")(
        "attempts", po::value(&attempts)->value_name("N"), "attempts per report, 1-10 (default 3)")(
        "from-queue", po::bool_switch(&fromQueue), "the reports in the queue's outbox (what the workstations signed)");
    try {
        po::variables_map vm;
        po::store(po::parse_command_line(argc, argv, opts), vm);
        if (vm.count("help")) {
            std::cout << "usage: report-push (--reports DIR | --from-queue) --pacs FILE --db URL\n" << opts;
            return 0;
        }
        po::notify(vm);
        if ((reports.empty() == !fromQueue) || pacs.empty() || db.empty())
            throw po::error("--reports DIR or --from-queue (one of them), --pacs and --db are required");
        if (attempts < 1 || attempts > 10) throw po::error("--attempts must be 1-10");
    } catch (const po::error& e) {
        std::fprintf(stderr, "report-push: %s (see --help)\n", e.what());
        return 2;
    }
    QCoreApplication app(argc, argv);
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    try {
        std::error_code ec;
        if (!fromQueue && !fs::is_directory(reports, ec)) throw std::runtime_error(reports + ": no such reports folder");
        vw::Client client(vw::Endpoint::fromConfig(pacs));
        auto queue = rq::Database::open(db);
        // the ledger: (SOP Instance UID, SHA-256) of every report already stored
        std::set<std::string> stored;
        for (const auto& row : queue->query("SELECT new_value FROM audit WHERE action = 'report.stored'")) stored.insert(row[0]);
        // what to send: the folder's files, or the outbox's rows not stored yet
        struct Item {
            std::string name, data, outboxUid;
        };
        std::vector<Item> items;
        if (fromQueue) {
            for (const auto& row : queue->query("SELECT sop_uid, subject, slot, ordinal, dicom_base64 FROM report_outbox "
                                                "WHERE stored_at IS NULL ORDER BY subject, slot, ordinal")) {
                std::string data(row[4].size(), '\0');
                std::size_t len = 0;
                if (sodium_base642bin(reinterpret_cast<unsigned char*>(data.data()), data.size(), row[4].c_str(), row[4].size(), nullptr,
                                      &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0)
                    data.clear();
                data.resize(len);
                items.push_back({row[1] + "/reader" + row[2] + "/timepoint " + row[3], data, row[0]});
            }
        } else {
            std::vector<fs::path> files;
            for (auto it = fs::recursive_directory_iterator(reports, ec); it != fs::recursive_directory_iterator(); it.increment(ec))
                if (it->is_regular_file() && it->path().extension() == ".dcm") files.push_back(it->path());
            std::sort(files.begin(), files.end());
            for (const fs::path& f : files) {
                std::ifstream in(f, std::ios::binary);
                std::stringstream bytes;
                bytes << in.rdbuf();
                items.push_back({f.lexically_relative(reports).string(), bytes.str(), {}});
            }
        }
        std::size_t sent = 0, before = 0;
        std::vector<std::string> failures;
        for (const Item& item : items) {
            const std::string& data = item.data;
            // the bytes already read are parsed, not the file a second time
            DcmInputBufferStream stream;
            stream.setBuffer(data.data(), static_cast<offile_off_t>(data.size()));
            stream.setEos();
            DcmFileFormat ff;
            ff.transferInit();
            const bool parsed = ff.read(stream, EXS_Unknown, EGL_noChange, DCM_MaxReadLength).good();
            ff.transferEnd();
            OFString sop;
            if (!parsed || ff.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, sop).bad() || sop.empty()) {
                failures.push_back(item.name + ": not a DICOM report with a SOP Instance UID");
                continue;
            }
            const std::string key = std::string(sop.c_str()) + " sha256:" + store::sha256Hex(data);
            if (stored.count(key)) {
                ++before;
                if (!item.outboxUid.empty()) // stored, recorded, not marked (a crash in between): marked now
                    queue->write([&] { queue->exec("UPDATE report_outbox SET stored_at = ? WHERE sop_uid = ?", {rq::utcNow(), item.outboxUid}); });
                continue;
            }
            std::string why;
            for (int a = 1; a <= attempts; ++a) {
                try {
                    client.stow({QByteArray::fromStdString(data)});
                    why.clear();
                    break;
                } catch (const vw::WebError& e) {
                    why = e.what();
                    if (a < attempts) std::this_thread::sleep_for(std::chrono::milliseconds(500 * a));
                }
            }
            if (!why.empty()) {
                failures.push_back(item.name + ": " + why);
                continue;
            }
            rq::AuditEntry e;
            e.user = "system";
            e.action = "report.stored";
            e.object = "report:" + item.name;
            e.newValue = key;
            e.reason = "STOW-RS to " + client.endpoint().base.toString().toStdString();
            queue->write([&] {
                queue->appendAudit(e);
                if (!item.outboxUid.empty())
                    queue->exec("UPDATE report_outbox SET stored_at = ? WHERE sop_uid = ?", {rq::utcNow(), item.outboxUid});
            });
            stored.insert(key);
            ++sent;
        }
        std::printf("reports: %zu\nstored now: %zu\nstored before: %zu\nnot stored: %zu\n", items.size(), sent, before, failures.size());
        for (const auto& f : failures) std::printf("NOT STORED %s\n", f.c_str());
        return failures.empty() ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "report-push: %s\n", e.what());
        return 2;
    }
}
