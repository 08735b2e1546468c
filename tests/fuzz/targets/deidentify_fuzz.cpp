// The anonymizer's whole de-identification of one file, in memory (Anonymizer::deidentify): any
// byte string is de-identified or given a quarantine reason - never a crash, a hang, a leak of
// memory or undefined behaviour. A file said to be clean must parse again (DCMTK), carry its
// pseudonym as PatientID and say PatientIdentityRemoved YES.
#include "Harness.h"
#include "anonymizer/Anonymizer.h"

#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dcistrmb.h>

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <memory>

namespace fs = std::filesystem;

namespace {

struct Setup {
    fs::path dir;
    std::unique_ptr<anon::KeyStore> key;
    std::unique_ptr<anon::Anonymizer> anonymizer;
    long runs = 0;

    Setup() {
        dir = fs::temp_directory_path() / ("reluth-fuzz-deid-" + std::to_string(::getpid()));
        fs::create_directories(dir);
        renew();
    }
    /// A fresh key now and then: its UID map grows with every new UID a run invents.
    void renew() {
        anonymizer.reset();
        key.reset();
        std::error_code ec;
        fs::remove(dir / "key.json", ec);
        const fs::path source = RELUTH_SOURCE_DIR;
        anon::Config cfg;
        cfg.charter = charter::loadCharter(source / "assets/charters/reluth.json");
        cfg.charter.deidentification.quarantine.allowedModalities.clear(); // every modality goes through
        cfg.charter.deidentification.quarantine.secondaryCapture = false;
        cfg.profile = anon::Profile::load(source / "assets/deid/ps3.15-E.1-1.tsv");
        cfg.text = anon::TextPolicy::load(source / "assets/deid/text-allow-list.tsv", source / "assets/deid/descriptor-vocabulary.txt");
        // the IDs of pydicom's test files and of the phantom's first subjects, so that seeds go deep
        cfg.enrolment = anon::Enrolment::parse("original_patient_id,pseudonym\n4MR1,F-1\n1CT1,F-2\nTest1101,F-3\n12345,F-4\n"
                                               "19220272,F-5\n10974902,F-6\n25278671,F-7\nID1,F-8\nPH-0001,F-9\n",
                                               "fuzz-enrolment.csv");
        cfg.store = dir / "store";
        cfg.quarantine = dir / "quarantine";
        cfg.auditLog.clear();
        cfg.durable = false;
        key = std::make_unique<anon::KeyStore>(dir / "key.json", std::string(32, 'f'));
        anonymizer = std::make_unique<anon::Anonymizer>(std::move(cfg), *key);
    }
    ~Setup() {
        anonymizer.reset();
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

std::string text(DcmItem& d, const DcmTagKey& k) {
    OFString v;
    return d.findAndGetOFString(k, v).good() ? std::string(v.c_str()) : std::string();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Setup s;
    if (++s.runs % 20000 == 0) s.renew();
    anon::SeriesVerdicts verdicts;
    const anon::Deidentified d = s.anonymizer->deidentify(std::string_view(reinterpret_cast<const char*>(data), size), verdicts);
    if (!d.clean()) {
        for (const auto& r : d.reasons) fuzz::require(!r.category.empty(), "a quarantine reason without a category");
        return 0;
    }
    fuzz::require(!d.header.empty() && !d.pseudonym.empty() && !d.sopUid.empty(), "a clean result without its header or identity");
    // what would be stored parses again, as the pseudonym, marked de-identified
    std::string bytes = d.header;
    bytes.append(d.pixels);
    DcmInputBufferStream in;
    in.setBuffer(bytes.data(), static_cast<offile_off_t>(bytes.size()));
    in.setEos();
    DcmFileFormat ff;
    ff.transferInit();
    const OFCondition c = ff.readUntilTag(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength, DCM_PixelData);
    ff.transferEnd();
    fuzz::require(c.good(), std::string("a clean result DCMTK cannot read: ") + c.text());
    DcmDataset& ds = *ff.getDataset();
    fuzz::require(text(ds, DCM_PatientID) == d.pseudonym, "stored PatientID '" + text(ds, DCM_PatientID) + "' is not the pseudonym");
    fuzz::require(text(ds, DCM_PatientIdentityRemoved) == "YES", "stored file not marked PatientIdentityRemoved YES");
    fuzz::require(text(ds, DCM_SOPInstanceUID) == d.sopUid, "stored SOPInstanceUID differs from the store's name for it");
    return 0;
}
