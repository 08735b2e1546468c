#pragma once
// One series from a DICOMweb server straight into a volume, decoded while it streams in: what the
// workstation does with a timepoint the queue opened (and what dicomweb-bench measures). The
// network thread only copies each arriving instance (and writes it to the session cache when a
// folder is given); a decoding thread parses its header and decodes its pixels in Hounsfield
// units at once; when the series is in, the slices are put in order along the normal into one
// volume (vc::analyze decides, exactly as for the local store). The first image is handed out
// as soon as it is decoded, while the rest still arrives.
#include "viewercore/Series.h"
#include "viewerweb/DicomWeb.h"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace vw {

struct StreamedSeries {
    vc::Series series;                   ///< every instance's header, in arrival order (path: its cache file, if any)
    vc::Geometry geometry;               ///< !ok: why it is not a volume (the pane says so; volume is null)
    std::shared_ptr<vc::Volume> volume;  ///< in HU, ordered along the normal as vc::load orders it
    FetchStats stats;
    double firstImageSeconds = -1;       ///< from the start to the first image decoded
    double seconds = 0;                  ///< from the start to the whole volume in memory
};

struct StreamCallbacks {
    /// The first instance decoded (rows x columns values in HU), from the decoding thread, while
    /// the rest still streams in. The pixels are valid during the call only.
    std::function<void(const vc::SliceHeader& header, const std::int16_t* pixels)> firstImage;
    /// After each instance has arrived (done, expected - 0 when the server did not say), from the
    /// calling thread; may run an event loop (a progress dialog).
    std::function<void(std::size_t done, std::size_t expected)> progress;
    /// Set to stop: the fetch then throws WebError "cancelled".
    const std::atomic<bool>* cancel = nullptr;
};

/// Fetches study/series by WADO-RS and decodes it while it streams. `expected`: the number of
/// instances the server's QIDO said (0: unknown). `cacheFolder` (may be empty): each instance is
/// also written there, as Client::fetchSeries does. Throws WebError (network, server) or
/// vc::LoadError (an instance that cannot be decoded), naming it.
StreamedSeries streamSeries(Client& client, const std::string& study, const std::string& series, std::size_t expected,
                            const std::filesystem::path& cacheFolder, const StreamCallbacks& callbacks = {});

} // namespace vw
