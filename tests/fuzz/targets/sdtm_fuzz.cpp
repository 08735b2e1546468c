// The engine's SDTM reader (recist/src/Sdtm.cpp: TU, TR, SUBJ CSV and config.json) and, when
// the input is valid, the engine itself. The input is the four texts separated by lines of
// "=====" (the seeds are the worked cases of shared/examples/recist). Bad input must come back
// as errors naming file, line and rule - never a crash; a valid input must evaluate.
#include "Harness.h"
#include "recist/Evaluate.h"
#include "recist/Sdtm.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view all(reinterpret_cast<const char*>(data), size);
    std::vector<std::string_view> parts;
    std::size_t from = 0;
    while (parts.size() < 3) {
        const std::size_t at = all.find("\n=====\n", from);
        if (at == std::string_view::npos) break;
        parts.push_back(all.substr(from, at - from));
        from = at + 7;
    }
    parts.push_back(all.substr(from));
    while (parts.size() < 4) parts.push_back({});
    recist::sdtm::Files f;
    f.tu = parts[0];
    f.tr = parts[1];
    f.subj = parts[2];
    f.config = parts[3];
    const recist::sdtm::Input input = recist::sdtm::parse(f);
    for (const auto& e : input.errors) fuzz::require(!e.format().empty() && !e.message.empty(), "an error without a message");
    if (!input.errors.empty()) return 0;
    for (const recist::Read& r : input.reads) (void)recist::evaluate(r, input.options);
    return 0;
}
