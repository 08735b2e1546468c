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
    FetchStats stats;                    ///< its instances and bytes (seconds: the whole fetch's)
    double firstImageSeconds = -1;       ///< from the start to the first image decoded
    double seconds = 0;                  ///< from the start to the whole volume in memory
};

struct StreamCallbacks {
    /// Each series' first instance decoded (rows x columns values in HU), from a decoding thread,
    /// while the rest still streams in; `series` indexes the request. Pixels valid during the call.
    std::function<void(std::size_t series, const vc::SliceHeader& header, const std::int16_t* pixels)> firstImage;
    /// After each instance has arrived (done, expected: over every series; expected 0 when the
    /// server did not say), from the calling thread; may run an event loop (a progress dialog).
    std::function<void(std::size_t done, std::size_t expected)> progress;
    /// Set to stop: the fetch then throws WebError "cancelled".
    const std::atomic<bool>* cancel = nullptr;
};

struct SeriesToStream {
    std::string study, series;
    std::size_t expected = 0;          ///< the instances the server's QIDO said (0: unknown)
    std::filesystem::path cacheFolder; ///< each instance also written there (empty: none), as Client::fetchSeries does
};

/// Fetches the series by WADO-RS, `inFlight` requests at once, and decodes them while they
/// stream (one decoding thread beside the network; the calling thread joins it at the end).
/// Results in the order asked. Throws WebError (network, server, cancel) or vc::LoadError (an
/// instance that cannot be decoded), naming it.
std::vector<StreamedSeries> streamSeries(Client& client, const std::vector<SeriesToStream>& wanted,
                                         const StreamCallbacks& callbacks = {}, int inFlight = 4);
/// One series.
StreamedSeries streamSeries(Client& client, const std::string& study, const std::string& series, std::size_t expected,
                            const std::filesystem::path& cacheFolder, const StreamCallbacks& callbacks = {});

} // namespace vw
