// build/bin/anonymize-scp --port P --out STORE --quarantine DIR --enrolment CSV [--aetitle AE]
//                         [--spool DIR] [--charter FILE] [--key FILE]
// A DICOM C-STORE SCP for the site PACS: each received instance is de-identified on arrival
// into the same store, with the same rules, as the folder import.
#include "Common.h"

#include <dcmtk/dcmnet/dstorscp.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/oflog/oflog.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>

namespace {

volatile std::sig_atomic_t stopRequested = 0;
void onSignal(int) { stopRequested = 1; }

class Node : public DcmStorageSCP {
public:
    Node(anon::Anonymizer& a, std::filesystem::path spool) : anon_(a), spool_(std::move(spool)) {}
    mutable std::size_t stored = 0, quarantined = 0;

protected:
    void notifyInstanceStored(const OFString& filename, const OFString&, const OFString& sop, DcmDataset*) const override {
        const std::filesystem::path f(filename.c_str());
        // an instance that reveals the arm condemns its series, and process() retracts what of
        // it was already stored
        const std::string caller = safe(getPeerAETitle().c_str());
        anon::FileResult r = anon_.process(f, std::filesystem::path("scp") / caller / (safe(sop.c_str()) + ".dcm"), verdicts_);
        anon_.audit(r);
        (r.outcome == anon::Outcome::Stored ? stored : quarantined)++;
        std::fprintf(stderr, "anonymize-scp: %s from %s -> %s%s\n", sop.c_str(), caller.c_str(),
                     r.outcome == anon::Outcome::Stored ? "stored" : "quarantined",
                     r.reasons.empty() ? "" : (" (" + r.reasons.front().text() + ")").c_str());
        std::error_code ec;
        std::filesystem::remove(f, ec);
    }
    void notifyAssociationTermination() override {
        DcmStorageSCP::notifyAssociationTermination();
        anon_.key().save();
    }
    OFBool stopAfterConnectionTimeout() override { return stopRequested != 0; }
    OFBool stopAfterCurrentAssociation() override { return stopRequested != 0; }

private:
    static std::string safe(std::string s) {
        for (char& c : s) {
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') c = '_';
        }
        return s.empty() ? "_" : s;
    }
    anon::Anonymizer& anon_;
    std::filesystem::path spool_;
    mutable anon::SeriesVerdicts verdicts_;
};

} // namespace

int main(int argc, char** argv) {
    using namespace anon;
    // Nagle + delayed ACK make DCMTK's small PDUs crawl (design.md): no delay on our sockets.
    ::setenv("TCP_NODELAY", "1", 1);
    app::CommonArgs common;
    int port = 0;
    std::string aet = "RELUTH_ANON", spool;
    try {
        namespace po = boost::program_options;
        po::options_description opts("anonymize-scp");
        opts.add_options()("help,h", "this help")("port", po::value(&port)->value_name("P"), "TCP port to listen on (1-65535)")(
            "aetitle", po::value(&aet)->value_name("AE"), "our AE title (default RELUTH_ANON)")(
            "spool", po::value(&spool)->value_name("DIR"), "where received instances wait (default QUARANTINE/../spool)");
        opts.add(app::commonOptions(common));
        if (app::parse(argc, argv, opts, "usage: anonymize-scp --port P --out STORE --quarantine DIR --enrolment CSV [options]")) return 0;
        if (port <= 0 || port > 65535) throw Error("--port is required (1-65535)");
        Config cfg;
        auto key = app::makeConfig(common, cfg);
        if (spool.empty()) spool = (std::filesystem::absolute(cfg.quarantine).parent_path() / "spool").string();
        std::filesystem::create_directories(spool);
        Anonymizer anonymizer(std::move(cfg), *key);
        Anonymizer::removeStaleTemporaries(anonymizer.config().store);
        OFLog::configure(OFLogger::WARN_LOG_LEVEL);

        Node node(anonymizer, spool);
        node.setPort(static_cast<Uint16>(port));
        node.setAETitle(aet.c_str());
        node.setOutputDirectory(spool.c_str());
        node.setDirectoryGenerationMode(DcmStorageSCP::DGM_NoSubdirectory);
        node.setFilenameGenerationMode(DcmStorageSCP::FGM_SOPInstanceUID);
        node.setConnectionBlockingMode(DUL_NOBLOCK);
        node.setConnectionTimeout(1);
        OFList<OFString> xfers;
        xfers.push_back(UID_LittleEndianExplicitTransferSyntax);
        xfers.push_back(UID_BigEndianExplicitTransferSyntax);
        xfers.push_back(UID_LittleEndianImplicitTransferSyntax);
        xfers.push_back(UID_JPEGProcess1TransferSyntax);
        xfers.push_back(UID_JPEGProcess2_4TransferSyntax);
        xfers.push_back(UID_JPEGProcess14SV1TransferSyntax);
        xfers.push_back(UID_JPEGLSLosslessTransferSyntax);
        xfers.push_back(UID_JPEGLSLossyTransferSyntax);
        xfers.push_back(UID_JPEG2000LosslessOnlyTransferSyntax);
        xfers.push_back(UID_JPEG2000TransferSyntax);
        xfers.push_back(UID_RLELosslessTransferSyntax);
        xfers.push_back(UID_DeflatedExplicitVRLittleEndianTransferSyntax);
        for (int i = 0; i < numberOfDcmAllStorageSOPClassUIDs; ++i) node.addPresentationContext(dcmAllStorageSOPClassUIDs[i], xfers);
        node.addPresentationContext(UID_VerificationSOPClass, xfers);
        std::signal(SIGTERM, onSignal);
        std::signal(SIGINT, onSignal);
        std::fprintf(stderr, "anonymize-scp: %s listening on port %d, store %s\n", aet.c_str(), port, anonymizer.config().store.c_str());
        const OFCondition c = node.listen();
        anonymizer.key().save();
        std::fprintf(stderr, "anonymize-scp: stopped (%s): %zu stored, %zu quarantined\n", c.text(), node.stored, node.quarantined);
        return c.good() || stopRequested ? 0 : 1;
    } catch (const boost::program_options::error& e) {
        std::fprintf(stderr, "anonymize-scp: %s (see --help)\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "anonymize-scp: %s\n", e.what());
        return 2;
    }
}
