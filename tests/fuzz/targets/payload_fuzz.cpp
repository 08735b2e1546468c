// The read payload's JSON codec (reader-queue/read/src/Payload.cpp), which reads what a
// workstation saved as a draft: any text parses or is refused with an error, and what parses
// round-trips - parse(toJson(p)) gives p's JSON again (a codec that drifts would change a read
// between save and sign).
#include "Harness.h"
#include "read/Payload.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    rq::Payload p;
    std::string error;
    std::vector<std::string> problems;
    if (!rq::Payload::parse(text, p, &error, &problems)) {
        fuzz::require(!error.empty(), "a refused payload without an error");
        return 0;
    }
    const std::string once = p.toJson();
    rq::Payload again;
    fuzz::require(rq::Payload::parse(once, again, &error), "the codec cannot read its own output: " + error);
    fuzz::require(again.toJson() == once, "the payload does not round-trip:\n" + once + "\n" + again.toJson());
    (void)p.nextMeasurementId();
    return 0;
}
