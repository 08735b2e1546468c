#include "viewercore/Series.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include <gdcmImageReader.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

namespace vc {

namespace fs = std::filesystem;

namespace {

std::string str(DcmItem& d, const DcmTagKey& key) {
    OFString v;
    return d.findAndGetOFString(key, v).good() ? std::string(v.c_str()) : std::string();
}
int integer(DcmItem& d, const DcmTagKey& key, int fallback = 0) {
    Uint16 v = 0;
    if (d.findAndGetUint16(key, v).good()) return v;
    OFString s;
    if (d.findAndGetOFString(key, s).good() && !s.empty()) return std::atoi(s.c_str());
    return fallback;
}
template <std::size_t N>
bool numbers(DcmItem& d, const DcmTagKey& key, std::array<double, N>& out) {
    for (std::size_t i = 0; i < N; ++i) {
        Float64 v = 0;
        if (d.findAndGetFloat64(key, v, static_cast<unsigned long>(i)).bad()) return false;
        out[i] = v;
    }
    return true;
}

std::string fmt(double v) {
    std::ostringstream os;
    os.precision(3);
    os << std::fixed << v;
    return os.str();
}

void registerDecoders() {
    static std::once_flag once;
    std::call_once(once, [] {
        DJDecoderRegistration::registerCodecs();
        DJLSDecoderRegistration::registerCodecs();
        DcmRLEDecoderRegistration::registerCodecs();
    });
}

} // namespace

namespace {

/// The header fields from a dataset DCMTK read (from a file or from memory).
void fillHeader(DcmFileFormat& ff, SliceHeader& h) {
    DcmDataset& d = *ff.getDataset();
    h = SliceHeader{};
    h.seriesUid = str(d, DCM_SeriesInstanceUID);
    h.sopUid = str(d, DCM_SOPInstanceUID);
    h.modality = str(d, DCM_Modality);
    h.patientId = str(d, DCM_PatientID);
    h.studyDate = str(d, DCM_StudyDate);
    h.timepointId = str(d, DCM_ClinicalTrialTimePointID);
    h.timepointDescription = str(d, DCM_ClinicalTrialTimePointDescription);
    h.identityRemoved = str(d, DCM_PatientIdentityRemoved) == "YES";
    h.seriesNumber = std::atoi(str(d, DCM_SeriesNumber).c_str());
    h.sliceThickness = std::strtod(str(d, DCM_SliceThickness).c_str(), nullptr);
    h.frameOfReference = str(d, DCM_FrameOfReferenceUID);
    h.transferSyntax = str(*ff.getMetaInfo(), DCM_TransferSyntaxUID);
    if (h.transferSyntax.empty()) h.transferSyntax = DcmXfer(d.getOriginalXfer()).getXferID();
    h.rows = integer(d, DCM_Rows);
    h.columns = integer(d, DCM_Columns);
    h.bitsAllocated = integer(d, DCM_BitsAllocated);
    h.bitsStored = integer(d, DCM_BitsStored, h.bitsAllocated);
    h.pixelRepresentation = integer(d, DCM_PixelRepresentation);
    h.samplesPerPixel = integer(d, DCM_SamplesPerPixel, 1);
    h.frames = integer(d, DCM_NumberOfFrames, 1);
    h.hasPosition = numbers(d, DCM_ImagePositionPatient, h.position);
    h.hasOrientation = numbers(d, DCM_ImageOrientationPatient, h.orientation);
    h.hasSpacing = numbers(d, DCM_PixelSpacing, h.pixelSpacing);
    Float64 v = 0;
    if (d.findAndGetFloat64(DCM_RescaleSlope, v).good() && v != 0) h.slope = v;
    if (d.findAndGetFloat64(DCM_RescaleIntercept, v).good()) h.intercept = v;
    // as the fast reader does (found by header_fuzz: NumberOfFrames 0)
    if (h.bitsStored == 0) h.bitsStored = h.bitsAllocated;
    if (h.frames <= 0) h.frames = 1;
}

void acceptUnknownVr() {
    // elements written as UN (e.g. by gdcmconv) are read with their dictionary VR, as the fast reader does
    static std::once_flag unknownVr;
    std::call_once(unknownVr, [] { dcmEnableUnknownVRConversion.set(OFTrue); });
}

/// DCMTK reading a whole file (or its start, up to stopAt) from memory.
OFCondition readFromMemory(DcmFileFormat& ff, const std::uint8_t* data, std::size_t size, const DcmTagKey& stopAt) {
    DcmInputBufferStream in;
    in.setBuffer(data, static_cast<offile_off_t>(size));
    in.setEos();
    ff.transferInit();
    const OFCondition c = ff.readUntilTag(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength, stopAt);
    ff.transferEnd();
    return c;
}

} // namespace

bool readHeaderDcmtk(const fs::path& f, SliceHeader& h, std::string& why) {
    acceptUnknownVr();
    DcmFileFormat ff;
    const OFCondition c = ff.loadFileUntilTag(f.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect, DCM_PixelData);
    if (c.bad()) {
        why = std::string("not readable as DICOM: ") + c.text();
        return false;
    }
    fillHeader(ff, h);
    h.path = f;
    return true;
}

bool parseHeaderDcmtk(const std::uint8_t* data, std::size_t size, SliceHeader& h, std::string& why) {
    acceptUnknownVr();
    DcmFileFormat ff;
    const OFCondition c = readFromMemory(ff, data, size, DCM_PixelData);
    if (c.bad()) {
        why = std::string("not readable as DICOM: ") + c.text();
        return false;
    }
    fillHeader(ff, h);
    return true;
}

std::vector<std::string> headerDifferences(const SliceHeader& a, const SliceHeader& b) {
    std::vector<std::string> out;
    auto shown = [](const std::string& v) { // printable: a difference in an invisible byte must be seen
        std::string o;
        for (const unsigned char c : v) {
            if (c >= 0x20 && c < 0x7F && c != '\\') {
                o += static_cast<char>(c);
            } else {
                static const char* hex = "0123456789abcdef";
                o += "\\x";
                o += hex[c >> 4];
                o += hex[c & 15];
            }
        }
        return o;
    };
    auto text = [&](const char* name, const std::string& x, const std::string& y) {
        if (x != y) out.push_back(std::string(name) + " '" + shown(x) + "' != '" + shown(y) + "'");
    };
    auto number = [&](const char* name, double x, double y, double tolerance) {
        if (!(std::abs(x - y) <= tolerance) && !(std::isnan(x) && std::isnan(y)))
            out.push_back(std::string(name) + " " + std::to_string(x) + " != " + std::to_string(y));
    };
    text("SeriesInstanceUID", a.seriesUid, b.seriesUid);
    text("SOPInstanceUID", a.sopUid, b.sopUid);
    text("Modality", a.modality, b.modality);
    text("PatientID", a.patientId, b.patientId);
    text("StudyDate", a.studyDate, b.studyDate);
    text("TransferSyntaxUID", a.transferSyntax, b.transferSyntax);
    text("FrameOfReferenceUID", a.frameOfReference, b.frameOfReference);
    text("ClinicalTrialTimePointID", a.timepointId, b.timepointId);
    text("ClinicalTrialTimePointDescription", a.timepointDescription, b.timepointDescription);
    number("PatientIdentityRemoved", a.identityRemoved, b.identityRemoved, 0);
    number("Rows", a.rows, b.rows, 0);
    number("Columns", a.columns, b.columns, 0);
    number("BitsAllocated", a.bitsAllocated, b.bitsAllocated, 0);
    number("BitsStored", a.bitsStored, b.bitsStored, 0);
    number("PixelRepresentation", a.pixelRepresentation, b.pixelRepresentation, 0);
    number("SamplesPerPixel", a.samplesPerPixel, b.samplesPerPixel, 0);
    number("NumberOfFrames", a.frames, b.frames, 0);
    number("SeriesNumber", a.seriesNumber, b.seriesNumber, 0);
    number("SliceThickness", a.sliceThickness, b.sliceThickness, 1e-9);
    number("RescaleSlope", a.slope, b.slope, 1e-9);
    number("RescaleIntercept", a.intercept, b.intercept, 1e-9);
    number("has ImagePositionPatient", a.hasPosition, b.hasPosition, 0);
    number("has ImageOrientationPatient", a.hasOrientation, b.hasOrientation, 0);
    number("has PixelSpacing", a.hasSpacing, b.hasSpacing, 0);
    for (std::size_t i = 0; i < 3 && a.hasPosition && b.hasPosition; ++i)
        number("ImagePositionPatient", a.position[i], b.position[i], 1e-6);
    for (std::size_t i = 0; i < 6 && a.hasOrientation && b.hasOrientation; ++i)
        number("ImageOrientationPatient", a.orientation[i], b.orientation[i], 1e-9);
    for (std::size_t i = 0; i < 2 && a.hasSpacing && b.hasSpacing; ++i) number("PixelSpacing", a.pixelSpacing[i], b.pixelSpacing[i], 1e-9);
    return out;
}

Scan scanFolder(const fs::path& folder) {
    // reading headers only: DCMTK would warn once per file that it stopped at the pixel data
    static std::once_flag quiet;
    std::call_once(quiet, [] { OFLog::getLogger("dcmtk.dcmdata").setLogLevel(OFLogger::ERROR_LOG_LEVEL); });
    Scan scan;
    std::map<std::string, Series> bySeries;
    std::error_code ec;
    std::vector<fs::path> files;
    for (auto it = fs::recursive_directory_iterator(folder, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file(ec)) files.push_back(it->path());
    }
    if (ec) scan.skipped.emplace_back(folder.string(), ec.message());
    std::sort(files.begin(), files.end());
    // headers on two threads (fast reader first, DCMTK when it declines), grouped afterwards in file order
    std::vector<SliceHeader> headers(files.size());
    std::vector<std::string> why(files.size());
    std::vector<char> good(files.size(), 0);
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        for (std::size_t i = next++; i < files.size(); i = next++) {
            const std::string name = files[i].filename().string();
            if (name == "DICOMDIR" || (!name.empty() && name[0] == '.')) continue;
            if (readHeaderFast(files[i], headers[i]) || readHeaderDcmtk(files[i], headers[i], why[i])) good[i] = 1;
        }
    };
    std::thread helper(work);
    work();
    helper.join();
    for (std::size_t i = 0; i < files.size(); ++i) {
        const fs::path& f = files[i];
        if (!good[i]) {
            if (!why[i].empty()) scan.skipped.emplace_back(f.string(), why[i]);
            continue;
        }
        SliceHeader& h = headers[i];
        if (h.seriesUid.empty() || h.rows == 0 || h.columns == 0) {
            scan.skipped.emplace_back(f.string(), "no image (no series UID, rows or columns)");
            continue;
        }
        if (h.transferSyntax == "1.2.840.10008.1.2.1" || h.transferSyntax == "1.2.840.10008.1.2" ||
            h.transferSyntax == "1.2.840.10008.1.2.2") {
            const std::uintmax_t need = static_cast<std::uintmax_t>(h.rows) * static_cast<std::uintmax_t>(h.columns) *
                                        static_cast<std::uintmax_t>(std::max(1, h.bitsAllocated / 8)) *
                                        static_cast<std::uintmax_t>(std::max(1, h.samplesPerPixel)) *
                                        static_cast<std::uintmax_t>(std::max(1, h.frames));
            std::error_code sizeError;
            const std::uintmax_t size = fs::file_size(f, sizeError);
            if (sizeError || size < need) {
                scan.skipped.emplace_back(f.string(),
                                          "truncated: the file is shorter than its " + std::to_string(need) + " bytes of pixels");
                continue;
            }
        }
        Series& s = bySeries[h.seriesUid];
        if (s.uid.empty()) {
            s.uid = h.seriesUid;
            s.modality = h.modality;
            s.patientId = h.patientId;
            s.studyDate = h.studyDate;
            s.timepointId = h.timepointId;
            s.timepointDescription = h.timepointDescription;
            s.seriesNumber = h.seriesNumber;
            s.sliceThickness = h.sliceThickness;
            s.identityRemoved = true;
        }
        s.identityRemoved = s.identityRemoved && h.identityRemoved;
        s.slices.push_back(std::move(h));
    }
    for (auto& [uid, s] : bySeries) scan.series.push_back(std::move(s));
    std::stable_sort(scan.series.begin(), scan.series.end(), [](const Series& a, const Series& b) { return a.studyDate < b.studyDate; });
    return scan;
}

Geometry analyze(const Series& series) {
    Geometry g;
    auto fail = [&](std::string why) {
        g.ok = false;
        g.problem = std::move(why);
        return g;
    };
    if (series.slices.empty()) return fail("the series has no images");
    const SliceHeader& first = series.slices.front();
    for (const SliceHeader& s : series.slices) {
        if (s.frames != 1)
            return fail("multi-frame images (" + std::to_string(s.frames) + " frames in " + s.path.filename().string() +
                        ") are not shown as a volume");
        if (s.samplesPerPixel != 1) return fail("colour images (" + s.path.filename().string() + ") are not shown as a volume");
        if (s.rows != first.rows || s.columns != first.columns)
            return fail("mixed image sizes: " + std::to_string(first.columns) + "x" + std::to_string(first.rows) + " and " +
                        std::to_string(s.columns) + "x" + std::to_string(s.rows) + " (" + s.path.filename().string() + ")");
        // (found by series_fuzz: an image of 0 rows was accepted as a volume of 0 voxels)
        if (s.rows <= 0 || s.columns <= 0 || s.rows > 16384 || s.columns > 16384)
            return fail("an image of " + std::to_string(s.columns) + " x " + std::to_string(s.rows) + " pixels (" +
                        s.path.filename().string() + ") is not shown");
        if (s.bitsAllocated != 8 && s.bitsAllocated != 16)
            return fail(std::to_string(s.bitsAllocated) + "-bit pixels are not supported (" + s.path.filename().string() + ")");
        if (!s.hasPosition || !s.hasOrientation || !s.hasSpacing)
            return fail("no image position, orientation or pixel spacing in " + s.path.filename().string() +
                        ": the slices cannot be placed");
        const bool finite = std::all_of(s.position.begin(), s.position.end(), [](double v) { return std::isfinite(v); }) &&
                            std::all_of(s.orientation.begin(), s.orientation.end(), [](double v) { return std::isfinite(v); }) &&
                            std::isfinite(s.pixelSpacing[0]) && std::isfinite(s.pixelSpacing[1]);
        if (!finite || s.pixelSpacing[0] <= 0 || s.pixelSpacing[1] <= 0)
            return fail("the image position, orientation or pixel spacing of " + s.path.filename().string() + " is not a usable number");
        {
            const auto& o = s.orientation;
            const double row = o[0] * o[0] + o[1] * o[1] + o[2] * o[2], column = o[3] * o[3] + o[4] * o[4] + o[5] * o[5],
                         dot = o[0] * o[3] + o[1] * o[4] + o[2] * o[5];
            if (std::abs(row - 1) > 0.02 || std::abs(column - 1) > 0.02 || std::abs(dot) > 0.02)
                return fail("the image orientation of " + s.path.filename().string() + " is not two perpendicular unit directions");
        }
        for (int i = 0; i < 6; ++i)
            if (std::abs(s.orientation[static_cast<std::size_t>(i)] - first.orientation[static_cast<std::size_t>(i)]) > 1e-4)
                return fail("the slices have different orientations (" + s.path.filename().string() + ")");
        if (std::abs(s.pixelSpacing[0] - first.pixelSpacing[0]) > 1e-4 || std::abs(s.pixelSpacing[1] - first.pixelSpacing[1]) > 1e-4)
            return fail("the slices have different pixel spacings (" + s.path.filename().string() + ")");
    }
    g.row = {first.orientation[0], first.orientation[1], first.orientation[2]};
    g.column = {first.orientation[3], first.orientation[4], first.orientation[5]};
    g.normal = {g.row[1] * g.column[2] - g.row[2] * g.column[1], g.row[2] * g.column[0] - g.row[0] * g.column[2],
                g.row[0] * g.column[1] - g.row[1] * g.column[0]};
    const std::size_t n = series.slices.size();
    std::vector<double> along(n);
    for (std::size_t i = 0; i < n; ++i) {
        const auto& p = series.slices[i].position;
        along[i] = p[0] * g.normal[0] + p[1] * g.normal[1] + p[2] * g.normal[2];
    }
    g.order.resize(n);
    for (std::size_t i = 0; i < n; ++i) g.order[i] = i;
    std::sort(g.order.begin(), g.order.end(), [&](std::size_t a, std::size_t b) { return along[a] < along[b]; });
    double step = 0;
    if (n > 1) {
        std::vector<double> gaps;
        for (std::size_t k = 0; k + 1 < n; ++k) {
            const SliceHeader& a = series.slices[g.order[k]];
            const SliceHeader& b = series.slices[g.order[k + 1]];
            const double gap = along[g.order[k + 1]] - along[g.order[k]];
            if (gap < 1e-3)
                return fail("two slices at the same position (" + a.path.filename().string() + ", " + b.path.filename().string() + ")");
            // the step between slices must be along the normal: anything in the slice plane is a gantry tilt or a shifted slice
            double inPlane = 0;
            for (int i = 0; i < 3; ++i) {
                const double d = b.position[static_cast<std::size_t>(i)] - a.position[static_cast<std::size_t>(i)] -
                                 gap * g.normal[static_cast<std::size_t>(i)];
                inPlane += d * d;
            }
            inPlane = std::sqrt(inPlane);
            if (inPlane > 0.01 * std::max(1.0, gap))
                return fail("gantry tilt or shifted slices: consecutive slices are offset by " + fmt(inPlane) + " mm in the slice plane (" +
                            a.path.filename().string() + ", " + b.path.filename().string() + ")");
            gaps.push_back(gap);
        }
        const double smallest = *std::min_element(gaps.begin(), gaps.end());
        for (std::size_t k = 0; k < gaps.size(); ++k) {
            if (std::abs(gaps[k] - smallest) <= std::max(0.01, 0.01 * smallest)) continue;
            const double ratio = gaps[k] / smallest;
            const std::string between = " between " + series.slices[g.order[k]].path.filename().string() + " and " +
                                        series.slices[g.order[k + 1]].path.filename().string();
            if (std::abs(ratio - std::round(ratio)) < 0.02)
                return fail("missing slices: a gap of " + fmt(gaps[k]) + " mm" + between + " where the spacing is " + fmt(smallest) +
                            " mm");
            return fail("uneven slice spacing: " + fmt(gaps[k]) + " mm" + between + ", " + fmt(smallest) + " mm elsewhere");
        }
        step = (along[g.order[n - 1]] - along[g.order[0]]) / static_cast<double>(n - 1);
    }
    g.ok = true;
    g.nx = first.columns;
    g.ny = first.rows;
    g.nz = static_cast<int>(n);
    const auto& o = series.slices[g.order[0]].position;
    g.origin = {o[0], o[1], o[2]};
    g.spacing = {first.pixelSpacing[1], first.pixelSpacing[0], n > 1 ? step : 1.0};
    return g;
}

namespace {

std::int16_t toHu(double v) {
    v = std::round(v);
    return static_cast<std::int16_t>(std::clamp(v, -32768.0, 32767.0));
}

/// Stored value -> HU for one pixel, honouring BitsStored and signedness.
inline double stored(std::uint32_t raw, int bitsStored, bool isSigned) {
    const std::uint32_t mask = bitsStored >= 32 ? 0xFFFFFFFFu : ((1u << bitsStored) - 1u);
    raw &= mask;
    if (isSigned && bitsStored > 0 && (raw & (1u << (bitsStored - 1))))
        return static_cast<double>(static_cast<std::int64_t>(raw) - (std::int64_t{1} << bitsStored));
    return static_cast<double>(raw);
}

/// The uncompressed little-endian path: the pixel element is the last one in the file. Its tag
/// and length are checked just before the last rows*columns*2 bytes, which are read straight
/// into the volume and converted there. False when the file is laid out otherwise (the caller
/// then asks DCMTK). (pread rather than mmap: unmapping in a threaded process costs TLB
/// shootdowns on every core.)
/// Whether the direct path applies to the header at all (uncompressed little endian, 16 bits).
bool directSyntax(const SliceHeader& h) {
    static_assert(sizeof(std::int16_t) == 2);
    const std::uint16_t probe = 1;
    if (*reinterpret_cast<const std::uint8_t*>(&probe) != 1) return false; // big-endian host: DCMTK
    if (h.transferSyntax != "1.2.840.10008.1.2.1" && h.transferSyntax != "1.2.840.10008.1.2") return false;
    return h.bitsAllocated == 16 && h.rows > 0 && h.columns > 0;
}

/// The 12 bytes before the last rows*columns*2 bytes: a pixel element of exactly that length.
bool pixelElementBefore(const SliceHeader& h, const std::uint8_t* e, std::size_t bytes) {
    auto le32 = [](const std::uint8_t* p) {
        return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
    };
    if (h.transferSyntax == "1.2.840.10008.1.2.1")
        return e[0] == 0xE0 && e[1] == 0x7F && e[2] == 0x10 && e[3] == 0x00 && e[4] == 'O' && (e[5] == 'W' || e[5] == 'B') &&
               le32(e + 8) == bytes;
    return e[4] == 0xE0 && e[5] == 0x7F && e[6] == 0x10 && e[7] == 0x00 && le32(e + 8) == bytes;
}

/// Stored little-endian values already in out -> HU, in place.
void storedToHu(const SliceHeader& h, std::int16_t* out, std::size_t count) {
    const bool isSigned = h.pixelRepresentation == 1;
    const int icept = static_cast<int>(std::lround(std::clamp(h.intercept, -1e9, 1e9)));
    if (h.slope == 1 && h.bitsStored >= 1 && h.bitsStored <= 16 && std::abs(h.intercept - icept) < 1e-9) {
        // the common CT case (slope 1, integer intercept): integer arithmetic only, honouring
        // BitsStored (CT: 12 of 16) and the sign, in a loop the compiler vectorises
        const int shift = 16 - h.bitsStored;
        const std::uint16_t mask = static_cast<std::uint16_t>(0xFFFFu >> shift);
        auto* u = reinterpret_cast<std::uint16_t*>(out);
        if (isSigned) {
            for (std::size_t i = 0; i < count; ++i) {
                const int v = static_cast<std::int16_t>(static_cast<std::uint16_t>(u[i] << shift)) >> shift; // sign-extend from BitsStored
                out[i] = static_cast<std::int16_t>(std::clamp(v + icept, -32768, 32767));
            }
        } else {
            for (std::size_t i = 0; i < count; ++i)
                out[i] = static_cast<std::int16_t>(std::clamp(static_cast<int>(u[i] & mask) + icept, -32768, 32767));
        }
        return;
    }
    const auto* u = reinterpret_cast<const std::uint16_t*>(out);
    for (std::size_t i = 0; i < count; ++i) out[i] = toHu(stored(u[i], h.bitsStored, isSigned) * h.slope + h.intercept);
}

/// The uncompressed little-endian path: the pixel element is the last one in the file. Its tag
/// and length are checked just before the last rows*columns*2 bytes, which are read straight
/// into the volume and converted there. False when the file is laid out otherwise (the caller
/// then asks DCMTK). (pread rather than mmap: unmapping in a threaded process costs TLB
/// shootdowns on every core.)
bool loadDirect(const SliceHeader& h, std::int16_t* out) {
    if (!directSyntax(h)) return false;
    const std::size_t count = static_cast<std::size_t>(h.rows) * static_cast<std::size_t>(h.columns);
    const std::size_t bytes = count * 2;
    const int fd = ::open(h.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || static_cast<std::size_t>(st.st_size) < bytes + 12) {
        ::close(fd);
        return false;
    }
    const std::size_t at = static_cast<std::size_t>(st.st_size) - bytes;
    std::uint8_t e[12];
    bool ok = ::pread(fd, e, 12, static_cast<off_t>(at - 12)) == 12 && pixelElementBefore(h, e, bytes);
    std::size_t done = 0;
    while (ok && done < bytes) {
        const ssize_t n = ::pread(fd, reinterpret_cast<char*>(out) + done, bytes - done, static_cast<off_t>(at + done));
        if (n <= 0)
            ok = false;
        else
            done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    if (!ok) return false;
    storedToHu(h, out, count);
    return true;
}

/// The pixels of a dataset DCMTK read (any transfer syntax it decodes), to HU. `name` names
/// the file in errors.
void decodeDataset(DcmFileFormat& ff, const SliceHeader& h, std::int16_t* out, const std::string& name) {
    DcmDataset& d = *ff.getDataset();
    OFCondition c = d.chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
    if (c.bad() || !d.canWriteXfer(EXS_LittleEndianExplicit))
        throw LoadError(name + ": the transfer syntax " + DcmXfer(d.getOriginalXfer()).getXferName() + " cannot be decoded here (" +
                        c.text() + ")");
    const std::size_t count = static_cast<std::size_t>(h.rows) * static_cast<std::size_t>(h.columns);
    const bool isSigned = h.pixelRepresentation == 1;
    if (h.bitsAllocated == 16) {
        const Uint16* px = nullptr;
        unsigned long n = 0;
        if (d.findAndGetUint16Array(DCM_PixelData, px, &n).bad() || !px || n < count)
            throw LoadError(name + ": the pixel data is missing or shorter than " + std::to_string(count) + " pixels");
        for (std::size_t i = 0; i < count; ++i) out[i] = toHu(stored(px[i], h.bitsStored, isSigned) * h.slope + h.intercept);
    } else {
        const Uint8* px = nullptr;
        unsigned long n = 0;
        if (d.findAndGetUint8Array(DCM_PixelData, px, &n).bad() || !px || n < count)
            throw LoadError(name + ": the pixel data is missing or shorter than " + std::to_string(count) + " pixels");
        for (std::size_t i = 0; i < count; ++i) out[i] = toHu(stored(px[i], h.bitsStored, isSigned) * h.slope + h.intercept);
    }
}

/// Every other case: DCMTK loads the file and decodes it to little-endian explicit.
void loadWithDcmtk(const SliceHeader& h, std::int16_t* out) {
    registerDecoders();
    DcmFileFormat ff;
    OFCondition c = ff.loadFile(h.path.c_str());
    if (c.bad()) throw LoadError(h.path.string() + ": cannot read: " + c.text());
    decodeDataset(ff, h, out, h.path.string());
}

bool isJpeg2000(const std::string& ts) {
    return ts == "1.2.840.10008.1.2.4.90" || ts == "1.2.840.10008.1.2.4.91"; // lossless only, or lossy
}

/// JPEG 2000 (Debian's DCMTK has no decoder for it): GDCM with OpenJPEG decodes it.
void loadWithGdcm(const SliceHeader& h, std::int16_t* out) {
    gdcm::ImageReader reader;
    reader.SetFileName(h.path.c_str());
    if (!reader.Read()) throw LoadError(h.path.string() + ": GDCM cannot read this JPEG 2000 file");
    const gdcm::Image& image = reader.GetImage();
    const gdcm::PixelFormat& pf = image.GetPixelFormat();
    if (pf.GetSamplesPerPixel() != 1) throw LoadError(h.path.string() + ": colour JPEG 2000 images are not shown as a volume");
    std::vector<char> buffer(image.GetBufferLength());
    if (!image.GetBuffer(buffer.data())) throw LoadError(h.path.string() + ": the JPEG 2000 pixel data cannot be decoded");
    const std::size_t count = static_cast<std::size_t>(h.rows) * static_cast<std::size_t>(h.columns);
    const bool isSigned = pf.GetPixelRepresentation() == 1; // as decoded (the codestream may disagree with the header)
    const int bitsStored = pf.GetBitsStored();
    if (pf.GetBitsAllocated() == 16) {
        if (buffer.size() < count * 2) throw LoadError(h.path.string() + ": the decoded JPEG 2000 image is smaller than its header says");
        std::vector<std::uint16_t> px(count);
        std::memcpy(px.data(), buffer.data(), count * 2);
        for (std::size_t i = 0; i < count; ++i) out[i] = toHu(stored(px[i], bitsStored, isSigned) * h.slope + h.intercept);
    } else if (pf.GetBitsAllocated() == 8) {
        if (buffer.size() < count) throw LoadError(h.path.string() + ": the decoded JPEG 2000 image is smaller than its header says");
        for (std::size_t i = 0; i < count; ++i)
            out[i] = toHu(stored(static_cast<std::uint8_t>(buffer[i]), bitsStored, isSigned) * h.slope + h.intercept);
    } else {
        throw LoadError(h.path.string() + ": " + std::to_string(pf.GetBitsAllocated()) + "-bit JPEG 2000 images are not supported");
    }
}

} // namespace

void decodeSlice(const SliceHeader& h, const std::uint8_t* data, std::size_t size, std::int16_t* out) {
    if (h.rows <= 0 || h.columns <= 0) throw LoadError("the image has no rows or columns");
    const std::size_t count = static_cast<std::size_t>(h.rows) * static_cast<std::size_t>(h.columns);
    const std::size_t bytes = count * 2;
    if (directSyntax(h) && size >= bytes + 12 && pixelElementBefore(h, data + size - bytes - 12, bytes)) {
        std::memcpy(out, data + size - bytes, bytes);
        storedToHu(h, out, count);
        return;
    }
    if (isJpeg2000(h.transferSyntax)) throw LoadError("JPEG 2000 is decoded from files only");
    registerDecoders();
    acceptUnknownVr();
    DcmFileFormat ff;
    const OFCondition c = readFromMemory(ff, data, size, DcmTagKey(0xFFFF, 0xFFFF));
    if (c.bad()) throw LoadError(std::string("cannot read: ") + c.text());
    decodeDataset(ff, h, out, "(in memory)");
}

Volume load(const Series& series, const Geometry& geometry, const LoadCallbacks& callbacks, int threads) {
    Volume v;
    loadInto(v, series, geometry, callbacks, threads);
    return v;
}

void loadInto(Volume& v, const Series& series, const Geometry& geometry, const LoadCallbacks& callbacks, int threads) {
    if (!geometry.ok) throw LoadError("cannot load as a volume: " + geometry.problem);
    v.geometry = geometry;
    const std::size_t sliceVoxels = static_cast<std::size_t>(geometry.nx) * static_cast<std::size_t>(geometry.ny);
    const int nz = geometry.nz;
    v.voxels.resize(sliceVoxels * static_cast<std::size_t>(nz));
    // the middle slice first (what the viewer shows at once), then the rest in order
    std::vector<int> queue;
    queue.reserve(static_cast<std::size_t>(nz));
    queue.push_back(nz / 2);
    for (int z = 0; z < nz; ++z)
        if (z != nz / 2) queue.push_back(z);
    if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    threads = std::min(threads, nz);
    std::atomic<int> next{0}, done{0};
    std::mutex errorMutex;
    std::string error;
    auto work = [&] {
        for (;;) {
            if (callbacks.cancel && callbacks.cancel->load()) return;
            {
                std::lock_guard<std::mutex> lock(errorMutex);
                if (!error.empty()) return;
            }
            const int k = next.fetch_add(1);
            if (k >= nz) return;
            const int z = queue[static_cast<std::size_t>(k)];
            const SliceHeader& h = series.slices[geometry.order[static_cast<std::size_t>(z)]];
            std::int16_t* out = v.voxels.data() + sliceVoxels * static_cast<std::size_t>(z);
            try {
                if (loadDirect(h, out)) {
                } else if (isJpeg2000(h.transferSyntax)) {
                    loadWithGdcm(h, out);
                } else {
                    loadWithDcmtk(h, out);
                }
            } catch (const std::exception& e) {
                std::lock_guard<std::mutex> lock(errorMutex);
                if (error.empty()) error = e.what();
                return;
            }
            if (k == 0 && callbacks.middleReady) callbacks.middleReady(z);
            const int d = done.fetch_add(1) + 1;
            if (callbacks.progress) callbacks.progress(d, nz);
        }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    if (!error.empty()) throw LoadError(error);
    if (callbacks.cancel && callbacks.cancel->load()) throw LoadError("cancelled");
}

void adviseHugePages(void* p, std::size_t bytes) noexcept {
#ifdef MADV_HUGEPAGE
    ::madvise(p, bytes, MADV_HUGEPAGE); // a hint: where it is refused the pages are ordinary
#else
    (void)p;
    (void)bytes;
#endif
}

} // namespace vc
