// The series loader on a small in-memory series: the first bytes choose how many slices the
// series has and where each lies (position offsets, a tilt, a missing slice); the rest is one
// file whose header (fast reader, else DCMTK) every slice shares. vc::analyze() must accept
// only a real volume (every slice once in the order, spacing positive, sizes that fit) or say
// why; and the pixels are decoded from memory as load() decodes a file (vc::decodeSlice).
#include "Harness.h"
#include "viewercore/Series.h"

#include <dcmtk/oflog/oflog.h>
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    const int slices = in.ConsumeIntegralInRange<int>(1, 6);
    std::vector<std::array<double, 3>> shifts;
    for (int i = 0; i < slices; ++i)
        shifts.push_back({in.ConsumeFloatingPointInRange<double>(-3, 3), in.ConsumeFloatingPointInRange<double>(-3, 3),
                          in.ConsumeFloatingPointInRange<double>(-10, 10)});
    const bool tidy = in.ConsumeBool(); // evenly spaced along the normal (a volume), or as the bytes say
    const std::vector<std::uint8_t> file = in.ConsumeRemainingBytes<std::uint8_t>();
    vc::SliceHeader h;
    std::string why;
    if (!vc::parseHeaderFast(file.data(), file.size(), h) && !vc::parseHeaderDcmtk(file.data(), file.size(), h, why)) return 0;
    // the pixels of the file itself
    const long long voxels = static_cast<long long>(h.rows) * h.columns;
    if (voxels > 0 && voxels <= (1 << 20)) {
        std::vector<std::int16_t> out(static_cast<std::size_t>(voxels));
        try {
            vc::decodeSlice(h, file.data(), file.size(), out.data());
        } catch (const vc::LoadError& e) {
            fuzz::require(e.what()[0] != '\0', "a LoadError without a reason");
        }
    }
    // the geometry of a series of copies of it
    vc::Series s;
    s.uid = h.seriesUid;
    for (int i = 0; i < slices; ++i) {
        vc::SliceHeader c = h;
        for (std::size_t k = 0; k < 3; ++k) c.position[k] += tidy ? (k == 2 ? 2.5 * i : 0.0) : shifts[static_cast<std::size_t>(i)][k];
        s.slices.push_back(c);
    }
    const vc::Geometry g = vc::analyze(s);
    if (!g.ok) {
        fuzz::require(!g.problem.empty(), "a refused geometry without a reason");
        return 0;
    }
    fuzz::require(g.nz == slices && static_cast<int>(g.order.size()) == slices, "the volume does not hold every slice once");
    std::vector<std::size_t> order = g.order;
    std::sort(order.begin(), order.end());
    for (std::size_t i = 0; i < order.size(); ++i) fuzz::require(order[i] == i, "the slice order is not a permutation");
    fuzz::require(g.nx == h.columns && g.ny == h.rows && g.nx > 0 && g.ny > 0, "the volume's size is not the images'");
    for (double sp : g.spacing) fuzz::require(std::isfinite(sp) && sp >= 0, "a spacing that is not a finite length");
    if (slices > 1) fuzz::require(g.spacing[2] > 0, "slices at one position accepted as a volume");
    return 0;
}
