// The trial charter loader (reader-queue/charter): any text is a charter or a CharterError whose
// findings name the field - never a crash or another exception.
#include "Harness.h"
#include "charter/Charter.h"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        (void)charter::parseCharter(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
    } catch (const charter::CharterError& e) {
        fuzz::require(e.what()[0] != '\0', "a charter refusal without a finding");
    }
    return 0;
}
