#pragma once
// The viewer's imaging core without a GUI: find the DICOM series in a folder, work out a
// series' volume geometry from the slice positions (never from SliceThickness), say why a
// series cannot be shown as a volume, and load its voxels in Hounsfield units (rescale
// applied) with a callback for the middle slice first and progress. DCMTK stays inside.
#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <cstdlib>
#include <new>
#include <utility>
#include <stdexcept>
#include <string>
#include <vector>

namespace vc {

/// What the viewer needs from one file's header (read without its pixels).
struct SliceHeader {
    std::filesystem::path path;
    std::string seriesUid, sopUid, modality, transferSyntax, patientId, studyDate, frameOfReference;
    std::string timepointId, timepointDescription; ///< Clinical Trial Time Point (filled by our anonymizer)
    bool identityRemoved = false;                  ///< PatientIdentityRemoved is YES (a de-identified file)
    int seriesNumber = 0;
    double sliceThickness = 0; ///< as the scanner states it (0: not given); spacing comes from positions
    int rows = 0, columns = 0, bitsAllocated = 0, bitsStored = 0, pixelRepresentation = 0, samplesPerPixel = 1, frames = 1;
    bool hasPosition = false, hasOrientation = false, hasSpacing = false;
    std::array<double, 3> position{};     ///< ImagePositionPatient (mm)
    std::array<double, 6> orientation{};  ///< ImageOrientationPatient (row, column direction cosines)
    std::array<double, 2> pixelSpacing{}; ///< PixelSpacing: row spacing (between rows), column spacing
    double slope = 1, intercept = 0;
};

struct Series {
    std::string uid;
    std::string modality, patientId, studyDate, timepointId, timepointDescription;
    bool identityRemoved = false; ///< every file says PatientIdentityRemoved YES
    int seriesNumber = 0;
    double sliceThickness = 0;
    std::vector<SliceHeader> slices; ///< file order
};

struct Scan {
    std::vector<Series> series;                               ///< by study date, then UID
    std::vector<std::pair<std::string, std::string>> skipped; ///< path, why (not DICOM, no pixels...)
};

/// Header of one file: the fast reader for little-endian files (false when it cannot), or DCMTK.
bool readHeaderFast(const std::filesystem::path& path, SliceHeader& out);
/// DCMTK's reading of the same header; false (with why) when the file is not a usable image.
bool readHeaderDcmtk(const std::filesystem::path& path, SliceHeader& out, std::string& why);

/// The same two readers on bytes held in memory (what the fuzz targets call): the fast reader
/// on a file's first bytes (readHeaderFast reads a 64 KiB window), DCMTK on them up to the
/// pixel data. `out.path` is left empty.
bool parseHeaderFast(const std::uint8_t* data, std::size_t size, SliceHeader& out);
bool parseHeaderDcmtk(const std::uint8_t* data, std::size_t size, SliceHeader& out, std::string& why);
/// Where two readings of one header disagree ("rows 512 != 256"), empty when they agree: the
/// fast reader must give exactly DCMTK's fields whenever it accepts a file.
std::vector<std::string> headerDifferences(const SliceHeader& fast, const SliceHeader& dcmtk);

/// Reads every file's header below folder (recursively) and groups files into series.
Scan scanFolder(const std::filesystem::path& folder);

/// A series' volume geometry in patient coordinates (LPS), or why there is none.
struct Geometry {
    bool ok = false;
    std::string problem; ///< why the series cannot be shown as a volume (ok == false)
    int nx = 0, ny = 0, nz = 0;
    std::array<double, 3> origin{};  ///< position of the first voxel (first slice along the normal)
    std::array<double, 3> spacing{}; ///< column spacing, row spacing, distance between slice positions
    std::array<double, 3> row{}, column{}, normal{};
    std::vector<std::size_t> order; ///< slice index along the normal -> index into Series::slices
};

/// Sorts the slices along the slice normal and checks that they make a volume: one
/// orientation and size, positions on a line along the normal (no gantry tilt), even spacing
/// (none missing), single-frame, greyscale.
Geometry analyze(const Series& series);

/// madvise(MADV_HUGEPAGE) where the system offers it (a hint: ignored elsewhere).
void adviseHugePages(void* p, std::size_t bytes) noexcept;

/// Leaves new elements uninitialised: a 300 MB volume is not zeroed before it is filled (that
/// alone took ~0.1 s, before the first slice could be shown).
template <class T>
struct UninitialisedAllocator : std::allocator<T> {
    template <class U>
    struct rebind {
        using other = UninitialisedAllocator<U>;
    };
    UninitialisedAllocator() = default;
    /// Large buffers (a volume) are 2 MB aligned and asked for as transparent huge pages: a
    /// 300 MB volume touched page by page took 77,000 page faults, a visible share of its load.
    T* allocate(std::size_t n) {
        const std::size_t bytes = n * sizeof(T);
        if (bytes < (std::size_t{64} << 20)) return std::allocator<T>::allocate(n);
        constexpr std::size_t huge = std::size_t{2} << 20;
        void* p = std::aligned_alloc(huge, (bytes + huge - 1) / huge * huge);
        if (!p) throw std::bad_alloc();
        adviseHugePages(p, (bytes + huge - 1) / huge * huge);
        return static_cast<T*>(p);
    }
    void deallocate(T* p, std::size_t n) noexcept {
        if (n * sizeof(T) < (std::size_t{64} << 20))
            std::allocator<T>::deallocate(p, n);
        else
            std::free(p);
    }
    template <class U>
    UninitialisedAllocator(const UninitialisedAllocator<U>&) noexcept {}
    template <class U>
    void construct(U* p) noexcept {
        ::new (static_cast<void*>(p)) U;
    }
    template <class U, class... A>
    void construct(U* p, A&&... a) {
        ::new (static_cast<void*>(p)) U(std::forward<A>(a)...);
    }
};

using VoxelBuffer = std::vector<std::int16_t, UninitialisedAllocator<std::int16_t>>;

/// Voxels in HU (rescale applied), x fastest, then y, then z along Geometry::order.
struct Volume {
    Geometry geometry;
    VoxelBuffer voxels;
    std::int16_t at(int x, int y, int z) const {
        return voxels[(static_cast<std::size_t>(z) * static_cast<std::size_t>(geometry.ny) + static_cast<std::size_t>(y)) *
                          static_cast<std::size_t>(geometry.nx) +
                      static_cast<std::size_t>(x)];
    }
};

struct LoadCallbacks {
    /// The middle slice is decoded first; called once it is in the volume (from a worker thread).
    std::function<void(int z)> middleReady;
    /// Called as slices arrive (done, total), from worker threads.
    std::function<void(int done, int total)> progress;
    /// Set to stop early (the load then throws LoadError "cancelled").
    const std::atomic<bool>* cancel = nullptr;
};

struct LoadError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Loads a series whose geometry is ok, with `threads` decoding threads (0: hardware).
/// Uncompressed little-endian pixel data is copied straight from the mapped file; every other
/// transfer syntax DCMTK can decode (JPEG, JPEG-LS, RLE, big endian) goes through DCMTK.
/// Throws LoadError naming the file for anything else.
Volume load(const Series& series, const Geometry& geometry, const LoadCallbacks& callbacks = {}, int threads = 0);
/// One slice's pixels, in HU, from a whole file held in memory (rows x columns values into
/// out), decoded by the same code as load(): the direct little-endian path, else DCMTK (JPEG
/// 2000 is not decoded from memory). Throws LoadError with the reason.
void decodeSlice(const SliceHeader& h, const std::uint8_t* data, std::size_t size, std::int16_t* out);
/// The same into a volume the caller holds (a viewer shows its middle slice while the rest
/// arrives): the voxels are allocated before the first callback and never move afterwards.
void loadInto(Volume& volume, const Series& series, const Geometry& geometry, const LoadCallbacks& callbacks = {}, int threads = 0);

} // namespace vc
