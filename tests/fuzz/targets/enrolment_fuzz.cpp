// The enrolment list (anonymizer: Enrolment::parse, on the one CSV reader recist/Csv.h): any
// text is a list or an Error that names the file - never a crash or another exception.
#include "Harness.h"
#include "anonymizer/Anonymizer.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        const anon::Enrolment e = anon::Enrolment::parse(text, "fuzz.csv");
        (void)e.find("x");
        (void)e.size();
    } catch (const anon::Error& e) {
        fuzz::require(std::string(e.what()).find("fuzz.csv") != std::string::npos,
                      std::string("an error not naming the file: ") + e.what());
    }
    return 0;
}
