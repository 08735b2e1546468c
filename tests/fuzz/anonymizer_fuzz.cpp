// libFuzzer target over the anonymizer's parse-and-de-identify path: any byte string given to
// Anonymizer::process() is stored de-identified or quarantined, never a crash, a hang or a leak
// of memory (AddressSanitizer, UndefinedBehaviorSanitizer).
#include "anonymizer/Anonymizer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>

namespace fs = std::filesystem;

namespace {

struct Harness {
    fs::path dir;
    std::unique_ptr<anon::KeyStore> key;
    std::unique_ptr<anon::Anonymizer> anonymizer;
    anon::SeriesVerdicts verdicts;

    Harness() {
        dir = fs::temp_directory_path() / ("reluth-fuzz-" + std::to_string(::getpid()));
        fs::create_directories(dir);
        const fs::path source = RELUTH_SOURCE_DIR;
        anon::Config cfg;
        cfg.charter = charter::loadCharter(source / "assets/charters/reluth.json");
        cfg.charter.deidentification.quarantine.allowedModalities.clear(); // let every modality through
        cfg.charter.deidentification.quarantine.secondaryCapture = false;
        cfg.profile = anon::Profile::load(source / "assets/deid/ps3.15-E.1-1.tsv");
        cfg.text = anon::TextPolicy::load(source / "assets/deid/text-allow-list.tsv", source / "assets/deid/descriptor-vocabulary.txt");
        // the IDs of pydicom's test files and of the phantom's first subjects, so that seeds go deep
        cfg.enrolment = anon::Enrolment::parse("original_patient_id,pseudonym\n4MR1,F-1\n1CT1,F-2\nTest1101,F-3\n12345,F-4\n"
                                               "19220272,F-5\n10974902,F-6\n25278671,F-7\nID1,F-8\n",
                                               "fuzz-enrolment.csv");
        cfg.store = dir / "store";
        cfg.quarantine = dir / "quarantine";
        cfg.auditLog.clear();
        cfg.durable = false;
        key = std::make_unique<anon::KeyStore>(dir / "key.json", std::string(32, 'f'));
        anonymizer = std::make_unique<anon::Anonymizer>(std::move(cfg), *key);
    }
    ~Harness() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Harness h;
    const fs::path input = h.dir / "input.dcm";
    {
        const int fd = ::open(input.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0) std::abort();
        std::size_t off = 0;
        while (off < size) {
            const ssize_t n = ::write(fd, data + off, size - off);
            if (n <= 0) std::abort();
            off += static_cast<std::size_t>(n);
        }
        ::close(fd);
    }
    anon::FileResult r = h.anonymizer->process(input, "input.dcm", h.verdicts);
    if (r.outcome == anon::Outcome::Quarantined && r.reasons.empty()) std::abort(); // a quarantine names its reason
    std::error_code ec;
    if (!r.output.empty()) {
        fs::remove(r.output, ec);
        fs::remove(r.output.string() + ".reason.json", ec);
    }
    return 0;
}
