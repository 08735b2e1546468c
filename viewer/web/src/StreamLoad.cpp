#include "viewerweb/StreamLoad.h"

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

namespace vw {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

/// An instance as it arrived, then its header and pixels once decoded.
struct Slice {
    QByteArray bytes;
    vc::SliceHeader header;
    std::unique_ptr<std::int16_t[]> pixels; ///< only when it could not go straight into the volume
    const std::int16_t* decoded = nullptr;  ///< where its pixels are
    std::string problem; ///< why it could not be read or decoded
};

vc::SliceHeader readHeader(const QByteArray& b, std::string& why) {
    vc::SliceHeader h;
    const auto* data = reinterpret_cast<const std::uint8_t*>(b.constData());
    if (!vc::parseHeaderFast(data, static_cast<std::size_t>(b.size()), h) &&
        !vc::parseHeaderDcmtk(data, static_cast<std::size_t>(b.size()), h, why) && why.empty())
        why = "not a DICOM image the workstation can read";
    return h;
}

} // namespace

namespace {

/// One series being fetched: its slices in arrival order and the volume they are decoded into.
struct Stream {
    const SeriesToStream* want = nullptr;
    std::deque<Slice> slices; // a deque never moves what it holds
    // the volume is allocated once the first header says the plane's size, for as many slices as
    // the server said, and each slice is decoded straight into its place in arrival order (the
    // pages are touched while the rest streams in; an assembly afterwards cost 0.6 s for 600);
    // ordering along the normal is then a permutation of planes, none when they came in order
    vc::VoxelBuffer planes;
    std::size_t planeSize = 0;
    std::once_flag allocated;
    std::atomic<bool> firstShown{false};
    std::size_t files = 0, bytes = 0;
    StreamedSeries out;
};

void finish(Stream& st) {
    StreamedSeries& out = st.out;
    const std::string& uid = st.want->series;
    // every instance must be an image: one that is not is named (the caller says why the series is not shown)
    for (std::size_t i = 0; i < st.slices.size(); ++i)
        if (!st.slices[i].problem.empty())
            throw vc::LoadError("instance " + std::to_string(i + 1) + " of series " + uid + ": " + st.slices[i].problem);
    out.series.uid = uid;
    out.series.slices.reserve(st.slices.size());
    for (std::size_t k = 0; k < st.slices.size(); ++k) {
        vc::SliceHeader h = st.slices[k].header;
        if (!st.want->cacheFolder.empty()) h.path = st.want->cacheFolder / (std::to_string(k) + ".dcm");
        out.series.slices.push_back(std::move(h));
    }
    if (!out.series.slices.empty()) {
        const vc::SliceHeader& f = out.series.slices.front();
        out.series.modality = f.modality;
        out.series.patientId = f.patientId;
        out.series.studyDate = f.studyDate;
        out.series.timepointId = f.timepointId;
        out.series.timepointDescription = f.timepointDescription;
        out.series.seriesNumber = f.seriesNumber;
        out.series.sliceThickness = f.sliceThickness;
        out.series.identityRemoved = true;
        for (const vc::SliceHeader& h : out.series.slices) out.series.identityRemoved = out.series.identityRemoved && h.identityRemoved;
    }
    out.stats.instances = st.slices.size();
    out.stats.bytes = st.bytes;
    out.geometry = vc::analyze(out.series);
    if (!out.geometry.ok) return;
    auto volume = std::make_shared<vc::Volume>();
    volume->geometry = out.geometry;
    const std::size_t plane = static_cast<std::size_t>(out.geometry.nx) * static_cast<std::size_t>(out.geometry.ny);
    const std::size_t nz = out.geometry.order.size();
    bool inPlace = plane == st.planeSize && nz <= st.want->expected;
    for (std::size_t k = 0; inPlace && k < nz; ++k) inPlace = st.slices[k].decoded == st.planes.data() + k * plane;
    if (inPlace) {
        // plane z must hold arrival slice order[z]: followed cycle by cycle with one spare plane
        st.planes.resize(plane * nz);
        std::vector<char> done(nz, 0);
        std::vector<std::int16_t> spare(plane);
        for (std::size_t start = 0; start < nz; ++start) {
            if (done[start] || out.geometry.order[start] == start) {
                done[start] = 1;
                continue;
            }
            std::copy_n(st.planes.data() + start * plane, plane, spare.data());
            for (std::size_t z = start;;) {
                done[z] = 1;
                const std::size_t from = out.geometry.order[z];
                if (from == start) {
                    std::copy_n(spare.data(), plane, st.planes.data() + z * plane);
                    break;
                }
                std::copy_n(st.planes.data() + from * plane, plane, st.planes.data() + z * plane);
                z = from;
            }
        }
        volume->voxels = std::move(st.planes);
    } else { // some slices have buffers of their own: the planes copied in order
        volume->voxels.resize(plane * nz);
        for (std::size_t z = 0; z < nz; ++z)
            std::copy_n(st.slices[out.geometry.order[z]].decoded, plane, volume->voxels.data() + z * plane);
    }
    out.volume = std::move(volume);
}

} // namespace

std::vector<StreamedSeries> streamSeries(Client& client, const std::vector<SeriesToStream>& wanted, const StreamCallbacks& callbacks,
                                         int inFlight) {
    const auto t0 = Clock::now();
    std::vector<std::unique_ptr<Stream>> streams;
    std::size_t expected = 0;
    for (const SeriesToStream& w : wanted) {
        streams.push_back(std::make_unique<Stream>());
        streams.back()->want = &w;
        expected += w.expected;
    }
    struct Job {
        Stream* st;
        std::size_t k;
        std::size_t series;
    };
    std::mutex m;
    std::condition_variable arrived;
    std::deque<Job> jobs;
    bool finished = false;
    // arrived bytes are copied into recycled buffers: a fresh 0.5 MB allocation per instance is
    // a fresh mapping, and its page faults cost as much as the copy
    std::vector<QByteArray> pool;
    auto decodeOne = [&](bool wait) {
        Job job{};
        Slice* s = nullptr;
        {
            std::unique_lock lock(m);
            if (wait) arrived.wait(lock, [&] { return !jobs.empty() || finished; });
            if (jobs.empty()) return false;
            job = jobs.front();
            jobs.pop_front();
            s = &job.st->slices[job.k];
        }
        Stream& st = *job.st;
        std::string why;
        s->header = readHeader(s->bytes, why);
        if (why.empty()) {
            try {
                const std::size_t plane = static_cast<std::size_t>(s->header.rows) * static_cast<std::size_t>(s->header.columns);
                if (plane == 0 || s->header.samplesPerPixel != 1 || s->header.frames != 1)
                    throw vc::LoadError("not a single-frame greyscale image");
                std::call_once(st.allocated, [&] {
                    st.planeSize = plane;
                    if (st.want->expected > 0) st.planes.resize(plane * st.want->expected); // not zeroed: every value is written
                });
                std::int16_t* into = nullptr;
                if (plane == st.planeSize && job.k < st.want->expected) {
                    into = st.planes.data() + job.k * plane;
                } else { // more than the server said, or another size: a buffer of its own
                    s->pixels.reset(new std::int16_t[plane]);
                    into = s->pixels.get();
                }
                vc::decodeSlice(s->header, reinterpret_cast<const std::uint8_t*>(s->bytes.constData()),
                                static_cast<std::size_t>(s->bytes.size()), into);
                s->decoded = into;
                if (!st.firstShown.exchange(true)) {
                    st.out.firstImageSeconds = since(t0);
                    if (callbacks.firstImage) callbacks.firstImage(job.series, s->header, into);
                }
            } catch (const std::exception& e) {
                why = e.what();
                s->pixels.reset();
                s->decoded = nullptr;
            }
        }
        s->problem = why;
        std::lock_guard lock(m);
        pool.push_back(std::move(s->bytes)); // decoded: the buffer takes the next arrival
        s->bytes = QByteArray();
        return true;
    };
    std::thread decoder([&] {
        while (decodeOne(true)) {
        }
    });
    auto stopDecoder = [&] {
        {
            std::lock_guard lock(m);
            finished = true;
        }
        arrived.notify_all();
        if (decoder.joinable()) decoder.join();
    };
    FetchStats total;
    std::atomic<std::size_t> arrivedCount{0};
    try {
        std::vector<SeriesRequest> requests;
        for (std::size_t i = 0; i < streams.size(); ++i) {
            Stream* st = streams[i].get();
            if (!st->want->cacheFolder.empty()) {
                std::error_code ec;
                fs::create_directories(st->want->cacheFolder, ec);
                if (ec) throw WebError(st->want->cacheFolder.string() + ": cannot create (" + ec.message() + ")");
            }
            requests.push_back({st->want->study, st->want->series, {}, [&, st, i](QByteArrayView bytes) {
                                    if (callbacks.cancel && callbacks.cancel->load()) throw WebError("cancelled");
                                    if (!st->want->cacheFolder.empty()) // the session cache, as Client::fetchSeries writes it
                                        writeCacheFile(st->want->cacheFolder / (std::to_string(st->files) + ".dcm"), bytes);
                                    ++st->files;
                                    ++arrivedCount;
                                    st->bytes += static_cast<std::size_t>(bytes.size());
                                    QByteArray copy;
                                    {
                                        std::lock_guard lock(m);
                                        if (!pool.empty()) {
                                            copy = std::move(pool.back());
                                            pool.pop_back();
                                        }
                                    }
                                    copy.resize(bytes.size());
                                    std::memcpy(copy.data(), bytes.data(), static_cast<std::size_t>(bytes.size()));
                                    {
                                        std::lock_guard lock(m);
                                        st->slices.emplace_back();
                                        st->slices.back().bytes = std::move(copy);
                                        jobs.push_back({st, st->slices.size() - 1, i});
                                    }
                                    arrived.notify_one();
                                }});
        }
        // the first image sooner: Orthanc takes ~0.25 s before the first byte of a series'
        // answer (it prepares every instance), ~10 ms for one instance. So the first instance
        // the server lists (a 10 ms search) is asked for on its own beside the series, and
        // shown if it comes first; it is not kept (the series brings it again).
        std::vector<std::int16_t> previewPixels;
        if (!streams.empty() && callbacks.firstImage) {
            Stream* st = streams.front().get();
            std::string first;
            try {
                const auto listed = client.qido("studies/" + st->want->study + "/series/" + st->want->series + "/instances", {{"limit", "1"}});
                if (!listed.empty() && listed[0].contains("00080018") && listed[0]["00080018"].contains("Value") &&
                    !listed[0]["00080018"]["Value"].empty() && listed[0]["00080018"]["Value"][0].is_string())
                    first = listed[0]["00080018"]["Value"][0].get<std::string>();
            } catch (const WebError&) {
                // no preview: the series itself says what is wrong
            }
            if (!first.empty())
                requests.insert(requests.begin(), SeriesRequest{st->want->study, st->want->series, {}, [&, st](QByteArrayView bytes) {
                                                                  if (st->firstShown.load()) return;
                                                                  const QByteArray b = QByteArray::fromRawData(bytes.data(), bytes.size());
                                                                  std::string why;
                                                                  const vc::SliceHeader h = readHeader(b, why);
                                                                  if (!why.empty() || h.rows <= 0 || h.columns <= 0 || h.frames != 1 ||
                                                                      h.samplesPerPixel != 1)
                                                                      return;
                                                                  previewPixels.resize(static_cast<std::size_t>(h.rows) *
                                                                                       static_cast<std::size_t>(h.columns));
                                                                  try {
                                                                      vc::decodeSlice(h, reinterpret_cast<const std::uint8_t*>(b.constData()),
                                                                                      static_cast<std::size_t>(b.size()), previewPixels.data());
                                                                  } catch (const std::exception&) {
                                                                      return; // the series' own decoding names it
                                                                  }
                                                                  if (st->firstShown.exchange(true)) return;
                                                                  st->out.firstImageSeconds = since(t0);
                                                                  callbacks.firstImage(0, h, previewPixels.data());
                                                              },
                                                              first});
        }
        total = client.fetchSeries(requests, inFlight + (requests.size() > streams.size() ? 1 : 0), [&](std::size_t) {
            if (callbacks.progress) callbacks.progress(arrivedCount.load(), expected);
        });
    } catch (...) {
        stopDecoder();
        throw;
    }
    // the transfer is done: this thread decodes what is still waiting, beside the decoder
    while (decodeOne(false)) {
    }
    stopDecoder();
    pool.clear();
    std::vector<StreamedSeries> out;
    for (auto& st : streams) {
        finish(*st);
        st->out.stats.seconds = total.seconds;
        st->out.stats.firstInstanceSeconds = total.firstInstanceSeconds;
        st->out.seconds = since(t0);
        out.push_back(std::move(st->out));
    }
    return out;
}

StreamedSeries streamSeries(Client& client, const std::string& study, const std::string& series, std::size_t expected,
                            const fs::path& cacheFolder, const StreamCallbacks& callbacks) {
    return std::move(streamSeries(client, {SeriesToStream{study, series, expected, cacheFolder}}, callbacks, 1).front());
}

} // namespace vw
