// Delivery of the de-identified store to a real Orthanc (Debian's, with its PostgreSQL index and
// DICOMweb plugins, started by tests/servers/orthanc.sh as a ctest fixture) by C-STORE: every
// instance arrives once, a delivery cut by killing Orthanc is finished by a rerun without loss
// or duplicate, and nothing of the quarantine reaches the server.
#include "../common/Run.h"
#include "../common/TempDir.h"
#include "../common/Orthanc.h"
#include "phantom/Generator.h"

#include <dcmtk/dcmdata/dctk.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;
using testutil::run;

namespace {

const fs::path kSource = RELUTH_SOURCE_DIR;
const fs::path kBin = fs::path(RELUTH_BINARY_DIR) / "bin";

std::string sopUid(const fs::path& f) {
    DcmFileFormat ff;
    OFString uid;
    if (ff.loadFile(f.c_str()).bad() || ff.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, uid).bad()) return {};
    return uid.c_str();
}

std::vector<fs::path> dicomFiles(const fs::path& root, bool onlyDcm) {
    std::vector<fs::path> out;
    for (const auto& e : fs::recursive_directory_iterator(root))
        if (e.is_regular_file() && (!onlyDcm || e.path().extension() == ".dcm")) out.push_back(e.path());
    return out;
}

std::size_t deliveredLines(const fs::path& audit, std::set<std::string>* outputs = nullptr) {
    std::ifstream in(audit);
    std::string line;
    std::size_t n = 0;
    while (std::getline(in, line)) {
        if (line.find("\"delivered\"") == std::string::npos) continue;
        ++n;
        if (outputs) outputs->insert(nlohmann::json::parse(line)["output"].get<std::string>());
    }
    return n;
}

} // namespace

TEST(Delivery, ToARealOrthancCutByKillingItAndRerunLosesNothingDuplicatesNothingAndSendsNoQuarantine) {
    testutil::Orthanc orthanc;
    if (!orthanc.load()) GTEST_SKIP() << "RELUTH_ORTHANC_STATE not set: run under ctest (tests/servers/orthanc.sh)";
    testutil::TempDir dir{"delivery"};
    phantom::Options o;
    o.out = dir.path() / "trial";
    o.seed = 900 + static_cast<unsigned>(::getpid() % 1000);
    o.subjects = 1;
    o.timepoints = 2;
    o.slices = 30;
    o.sliceThicknessMm = 8.0;
    phantom::generateTrial(o);
    const fs::path store = dir.path() / "store", quarantine = dir.path() / "quarantine", audit = dir.path() / "audit.jsonl";
    std::string out;
    ASSERT_EQ(run((kBin / "anonymize").string() + " --quiet --jobs 2 --in " + (o.out / "incoming").string() + " --out " + store.string() +
                      " --quarantine " + quarantine.string() + " --enrolment " + (o.out / "enrolment.csv").string() + " --key " +
                      (dir.path() / "key.json").string() + " --audit " + audit.string(),
                  &out),
              0)
        << out;
    const auto stored = dicomFiles(store, true);
    ASSERT_GE(stored.size(), 40u);
    const std::int64_t before = orthanc.instances();

    // deliver in the background, kill Orthanc (kill -9) a quarter of the way in
    const std::string deliver = (kBin / "anonymize-deliver").string() + " --quiet --attempts 2 --max-rate 20 --store " + store.string() +
                                " --audit " + audit.string() + " --to " + orthanc.peer();
    const fs::path rcFile = dir.path() / "rc", outFile = dir.path() / "out";
    ASSERT_EQ(run("(" + deliver + " > " + outFile.string() + " 2>&1; echo $? > " + rcFile.string() + ") >/dev/null 2>&1 &"), 0);
    const auto t0 = std::chrono::steady_clock::now();
    while (deliveredLines(audit) < stored.size() / 4 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(120))
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const std::size_t atKill = deliveredLines(audit);
    ASSERT_GE(atKill, stored.size() / 4) << "the delivery did not get going";
    ASSERT_LT(atKill, stored.size()) << "the delivery ended before Orthanc could be killed";
    ASSERT_EQ(::kill(std::stoi(orthanc.v["ORTHANC_PID"]), SIGKILL), 0);
    while (!fs::exists(rcFile) && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(180))
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::string rc;
    std::ifstream(rcFile) >> rc;
    std::stringstream firstOut;
    firstOut << std::ifstream(outFile).rdbuf();
    EXPECT_EQ(rc, "1") << firstOut.str();
    EXPECT_NE(firstOut.str().find("NOT DELIVERED"), std::string::npos) << firstOut.str();
    const std::size_t firstRun = deliveredLines(audit);
    ASSERT_LT(firstRun, stored.size());

    ASSERT_EQ(run(kSource.string() + "/tests/servers/orthanc.sh restart " + orthanc.stateFile.string(), &out), 0) << out;
    ASSERT_TRUE(orthanc.load()); // the same ports and accounts; the new PID
    ASSERT_EQ(run(deliver, &out), 0) << out;
    EXPECT_NE(out.find("delivered before: " + std::to_string(firstRun) + "\n"), std::string::npos) << out;
    EXPECT_NE(out.find("not delivered: 0\n"), std::string::npos) << out;

    // every stored instance once on the server, each delivery recorded once
    std::set<std::string> outputs;
    EXPECT_EQ(deliveredLines(audit, &outputs), stored.size());
    EXPECT_EQ(outputs.size(), stored.size());
    EXPECT_EQ(orthanc.instances() - before, static_cast<std::int64_t>(stored.size()));
    for (std::size_t i = 0; i < stored.size(); i += 7) {
        const std::string uid = sopUid(stored[i]);
        ASSERT_FALSE(uid.empty()) << stored[i];
        const auto found = orthanc.lookup(uid);
        ASSERT_EQ(found.size(), 1u) << uid;
        EXPECT_EQ(found[0]["Type"], "Instance");
    }
    // a third run sends nothing
    ASSERT_EQ(run(deliver, &out), 0) << out;
    EXPECT_NE(out.find("delivered now: 0\n"), std::string::npos) << out;
    // another server at the same address (a PACS rebuilt empty) is another peer: everything again
    ASSERT_EQ(run(deliver + " --peer-id rebuilt", &out), 0) << out;
    EXPECT_NE(out.find("delivered now: " + std::to_string(stored.size()) + "\n"), std::string::npos) << out;
    EXPECT_EQ(orthanc.instances() - before, static_cast<std::int64_t>(stored.size()));

    // nothing of the quarantine reached the server (its originals' UIDs are unknown there)
    std::size_t quarantinedDicom = 0;
    for (const auto& q : dicomFiles(quarantine, false)) {
        const std::string uid = sopUid(q);
        if (uid.empty()) continue;
        ++quarantinedDicom;
        EXPECT_TRUE(orthanc.lookup(uid).empty()) << q << " (" << uid << ") is on the server";
    }
    EXPECT_GT(quarantinedDicom, 0u) << "the phantom always plants files to quarantine";
}

TEST(Delivery, BadPeersAndStoresAreClearErrors) {
    std::string out;
    EXPECT_EQ(run((kBin / "anonymize-deliver").string() + " --store /nonexistent --to RELUTH@127.0.0.1:104", &out), 2);
    EXPECT_NE(out.find("/nonexistent: no such store"), std::string::npos) << out;
    EXPECT_EQ(run((kBin / "anonymize-deliver").string() + " --store /tmp --to 127.0.0.1:104", &out), 2);
    EXPECT_NE(out.find("not a DICOM peer (AET@host:port)"), std::string::npos) << out;
    EXPECT_EQ(run((kBin / "anonymize-deliver").string() + " --store /tmp --to X@h:99999", &out), 2);
    EXPECT_NE(out.find("the port must be a number 1-65535"), std::string::npos) << out;
    EXPECT_EQ(run((kBin / "anonymize-deliver").string() + " --to X@h:1", &out), 2);
    EXPECT_NE(out.find("--store and --to are required"), std::string::npos) << out;
    // a peer nobody listens on: each instance named, status 1, nothing recorded as delivered
    testutil::TempDir dir{"delivery-bad"};
    const fs::path store = dir.path() / "store";
    fs::create_directories(store / "a");
    DcmFileFormat ff;
    ff.getDataset()->putAndInsertString(DCM_SOPClassUID, UID_CTImageStorage);
    ff.getDataset()->putAndInsertString(DCM_SOPInstanceUID, "2.25.1234");
    ASSERT_TRUE(ff.saveFile((store / "a/x.dcm").c_str(), EXS_LittleEndianExplicit).good());
    EXPECT_EQ(run((kBin / "anonymize-deliver").string() + " --quiet --attempts 1 --store " + store.string() + " --audit " +
                      (dir.path() / "audit.jsonl").string() + " --to NOBODY@127.0.0.1:1",
                  &out),
              1);
    EXPECT_NE(out.find("NOT DELIVERED a/x.dcm: cannot associate with NOBODY@127.0.0.1:1"), std::string::npos) << out;
    EXPECT_EQ(deliveredLines(dir.path() / "audit.jsonl"), 0u);
}
