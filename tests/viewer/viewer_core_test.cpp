// The viewer's imaging core: series found in a folder, geometry from the slice positions,
// series that cannot be a volume named with the reason, and voxels equal to what ITK's
// ImageSeriesReader gives for the same files (phantom CT) and across transfer syntaxes
// (pydicom's MR_small in native, big-endian, RLE and JPEG-LS encodings).
#include "viewercore/Display.h"
#include "viewercore/Measure.h"
#include "viewercore/Series.h"
#include "../common/Run.h"
#include "../common/TempDir.h"
#include "Htj2k.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>

#include <itkGDCMImageIO.h>
#include <itkGDCMSeriesFileNames.h>
#include <itkImage.h>
#include <itkImageSeriesReader.h>

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <cmath>

namespace fs = std::filesystem;

namespace {

const std::string kBin = std::string(RELUTH_BINARY_DIR) + "/bin/";
const fs::path kPydicom = "/usr/lib/python3/dist-packages/pydicom/data/test_files";

/// One phantom trial for all tests: 1 subject, 2 timepoints, 23 slices of 10 mm.
const fs::path& phantom() {
    static testutil::TempDir dir("viewer-phantom");
    static bool made = [] {
        std::string out;
        const int rc = testutil::run(kBin + "phantom --out " + (dir.path() / "trial").string() +
                                         " --seed 4 --subjects 1 --timepoints 2 --slices 23 --thickness 10",
                                     &out);
        EXPECT_EQ(rc, 0) << out;
        return rc == 0;
    }();
    (void)made;
    static const fs::path p = dir.path() / "trial";
    return p;
}

const vc::Series* findCt(const vc::Scan& scan) {
    for (const auto& s : scan.series)
        if (s.modality == "CT" && s.slices.size() > 1) return &s;
    return nullptr;
}

/// A copy of the first CT series of the phantom in dir, for editing.
fs::path copyOfCt(const fs::path& dir) {
    const auto scan = vc::scanFolder(phantom() / "incoming");
    const vc::Series* ct = findCt(scan);
    if (!ct) return {};
    fs::create_directories(dir);
    for (const auto& s : ct->slices) fs::copy_file(s.path, dir / s.path.filename(), fs::copy_options::overwrite_existing);
    return dir;
}

void edit(const fs::path& file, const std::function<void(DcmDataset&)>& f) {
    DcmFileFormat ff;
    ASSERT_TRUE(ff.loadFile(file.c_str()).good()) << file;
    ff.loadAllDataIntoMemory(); // saved over itself: nothing may be left to read from the old file
    f(*ff.getDataset());
    ASSERT_TRUE(ff.saveFile(file.c_str(), EXS_LittleEndianExplicit).good()) << file;
}

std::vector<fs::path> sortedFiles(const fs::path& dir) {
    std::vector<fs::path> v;
    for (const auto& e : fs::directory_iterator(dir)) v.push_back(e.path());
    std::sort(v.begin(), v.end());
    return v;
}

} // namespace

TEST(ViewerCore, FindsTheSeriesAndPlacesTheSlicesByPosition) {
    const auto scan = vc::scanFolder(phantom() / "incoming");
    const vc::Series* ct = findCt(scan);
    ASSERT_NE(ct, nullptr);
    EXPECT_EQ(ct->slices.size(), 23u);
    const vc::Geometry g = vc::analyze(*ct);
    ASSERT_TRUE(g.ok) << g.problem;
    EXPECT_EQ(g.nx, 512);
    EXPECT_EQ(g.ny, 512);
    EXPECT_EQ(g.nz, 23);
    EXPECT_NEAR(g.spacing[2], 10.0, 1e-6); // from the positions
    EXPECT_NEAR(g.spacing[0], 0.78125, 1e-9);
    EXPECT_NEAR(g.origin[2], -125.0, 1e-6); // the lowest slice first (ascending along the normal)
    EXPECT_NEAR(g.normal[2], 1.0, 1e-9);
    for (int z = 1; z < g.nz; ++z)
        EXPECT_LT(ct->slices[g.order[static_cast<std::size_t>(z - 1)]].position[2],
                  ct->slices[g.order[static_cast<std::size_t>(z)]].position[2]);
    // the corrupt and non-image files the phantom plants are skipped with a reason
    bool truncatedSkippedOrSeparate = false;
    for (const auto& [path, why] : scan.skipped) truncatedSkippedOrSeparate |= !why.empty();
    (void)truncatedSkippedOrSeparate;
}

TEST(ViewerCore, TheFastHeaderReaderAgreesWithDcmtk) {
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(phantom() / "incoming"))
        if (e.is_regular_file()) files.push_back(e.path());
    if (fs::exists(kPydicom))
        for (const auto& e : fs::directory_iterator(kPydicom))
            if (e.path().extension() == ".dcm") files.push_back(e.path());
    int fast = 0, compared = 0;
    for (const fs::path& f : files) {
        vc::SliceHeader a, b;
        std::string why;
        const bool dcmtk = vc::readHeaderDcmtk(f, b, why);
        if (!vc::readHeaderFast(f, a)) continue; // declined: DCMTK reads it
        ++fast;
        ASSERT_TRUE(dcmtk) << f << ": the fast reader accepted what DCMTK cannot read: " << why;
        ++compared;
        const auto differences = vc::headerDifferences(a, b); // the fuzz target's oracle, too
        EXPECT_TRUE(differences.empty()) << f << ": " << (differences.empty() ? "" : differences.front());
        // the in-memory readers give the same as the file readers
        const std::string bytes = [&] {
            std::ifstream in(f, std::ios::binary);
            return std::string(std::istreambuf_iterator<char>(in), {});
        }();
        vc::SliceHeader m, n;
        std::string whyMemory;
        ASSERT_TRUE(vc::parseHeaderFast(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), m)) << f;
        ASSERT_TRUE(vc::parseHeaderDcmtk(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), n, whyMemory))
            << f << whyMemory;
        EXPECT_TRUE(vc::headerDifferences(m, a).empty()) << f;
        EXPECT_TRUE(vc::headerDifferences(n, b).empty()) << f;
    }
    EXPECT_GT(fast, 40); // the phantom's files all go the fast way
    EXPECT_EQ(compared, fast);
}

TEST(ViewerCore, VoxelsEqualItksSeriesReaderMiddleSliceFirst) {
    const auto scan = vc::scanFolder(phantom() / "incoming");
    const vc::Series* ct = findCt(scan);
    ASSERT_NE(ct, nullptr);
    const vc::Geometry g = vc::analyze(*ct);
    ASSERT_TRUE(g.ok) << g.problem;
    std::atomic<int> middle{-1}, last{0};
    vc::LoadCallbacks cb;
    cb.middleReady = [&](int z) { middle = z; };
    cb.progress = [&](int done, int total) {
        EXPECT_EQ(total, 23);
        if (done > last) last = done;
    };
    const vc::Volume v = vc::load(*ct, g, cb, 2);
    EXPECT_EQ(middle.load(), 11);
    EXPECT_EQ(last.load(), 23);

    using Image = itk::Image<short, 3>;
    auto names = itk::GDCMSeriesFileNames::New();
    names->SetDirectory(ct->slices.front().path.parent_path().string());
    auto reader = itk::ImageSeriesReader<Image>::New();
    reader->SetImageIO(itk::GDCMImageIO::New());
    reader->SetFileNames(names->GetFileNames(ct->uid));
    reader->Update();
    const Image* itkImage = reader->GetOutput();
    const auto size = itkImage->GetLargestPossibleRegion().GetSize();
    ASSERT_EQ(size[0], 512u);
    ASSERT_EQ(size[2], 23u);
    EXPECT_NEAR(itkImage->GetOrigin()[2], g.origin[2], 1e-3);
    EXPECT_NEAR(itkImage->GetSpacing()[2], g.spacing[2], 1e-3);
    std::size_t differ = 0;
    const short* ref = itkImage->GetBufferPointer();
    for (std::size_t i = 0; i < v.voxels.size(); ++i) differ += v.voxels[i] != ref[i];
    EXPECT_EQ(differ, 0u);
    // HU, not stored values: air outside the body, soft tissue inside
    EXPECT_LT(v.at(2, 2, 11), -900);
    EXPECT_GT(v.at(256, 256, 11), -200);
}

TEST(ViewerCore, ALoadCanBeCancelled) {
    const auto scan = vc::scanFolder(phantom() / "incoming");
    const vc::Series* ct = findCt(scan);
    ASSERT_NE(ct, nullptr);
    std::atomic<bool> cancel{false};
    vc::LoadCallbacks cb;
    cb.cancel = &cancel;
    cb.middleReady = [&](int) { cancel = true; }; // the user closed the series once it showed
    try {
        vc::load(*ct, vc::analyze(*ct), cb, 1);
        FAIL() << "not cancelled";
    } catch (const vc::LoadError& e) {
        EXPECT_STREQ(e.what(), "cancelled");
    }
}

TEST(ViewerCore, SeriesThatAreNotVolumesSayWhy) {
    testutil::TempDir dir("viewer-bad-series");
    auto problem = [](const fs::path& d) {
        const auto scan = vc::scanFolder(d);
        EXPECT_EQ(scan.series.size(), 1u);
        for (const auto& [path, why] : scan.skipped) ADD_FAILURE() << path << ": " << why;
        return scan.series.empty() ? std::string("no series") : vc::analyze(scan.series[0]).problem;
    };
    { // a slice missing in the middle
        const fs::path d = copyOfCt(dir.path() / "missing");
        const auto files = sortedFiles(d);
        const auto scan = vc::scanFolder(d);
        const auto g = vc::analyze(scan.series[0]);
        ASSERT_TRUE(g.ok);
        fs::remove(scan.series[0].slices[g.order[10]].path);
        EXPECT_NE(problem(d).find("missing slices: a gap of 20.000 mm"), std::string::npos) << problem(d);
    }
    { // one slice shifted sideways (gantry tilt looks the same)
        const fs::path d = copyOfCt(dir.path() / "tilt");
        const fs::path f = sortedFiles(d)[5];
        edit(f, [](DcmDataset& ds) {
            Float64 x = 0, y = 0, z = 0;
            ds.findAndGetFloat64(DCM_ImagePositionPatient, x, 0);
            ds.findAndGetFloat64(DCM_ImagePositionPatient, y, 1);
            ds.findAndGetFloat64(DCM_ImagePositionPatient, z, 2);
            ds.putAndInsertString(DCM_ImagePositionPatient,
                                  (std::to_string(x) + "\\" + std::to_string(y + 3.5) + "\\" + std::to_string(z)).c_str());
        });
        EXPECT_NE(problem(d).find("gantry tilt or shifted slices"), std::string::npos) << problem(d);
    }
    { // uneven spacing
        const fs::path d = copyOfCt(dir.path() / "uneven");
        const auto scan = vc::scanFolder(d);
        const auto g = vc::analyze(scan.series[0]);
        edit(scan.series[0].slices[g.order[7]].path, [](DcmDataset& ds) {
            Float64 x = 0, y = 0, z = 0;
            ds.findAndGetFloat64(DCM_ImagePositionPatient, x, 0);
            ds.findAndGetFloat64(DCM_ImagePositionPatient, y, 1);
            ds.findAndGetFloat64(DCM_ImagePositionPatient, z, 2);
            ds.putAndInsertString(DCM_ImagePositionPatient,
                                  (std::to_string(x) + "\\" + std::to_string(y) + "\\" + std::to_string(z + 3)).c_str());
        });
        EXPECT_NE(problem(d).find("uneven slice spacing"), std::string::npos) << problem(d);
    }
    { // mixed sizes
        const fs::path d = copyOfCt(dir.path() / "sizes");
        edit(sortedFiles(d)[3], [](DcmDataset& ds) { ds.putAndInsertUint16(DCM_Rows, 256); });
        EXPECT_NE(problem(d).find("mixed image sizes"), std::string::npos) << problem(d);
    }
    { // a different orientation
        const fs::path d = copyOfCt(dir.path() / "orientation");
        edit(sortedFiles(d)[3], [](DcmDataset& ds) { ds.putAndInsertString(DCM_ImageOrientationPatient, "1\\0\\0\\0\\0\\-1"); });
        EXPECT_NE(problem(d).find("different orientations"), std::string::npos) << problem(d);
    }
}

TEST(ViewerCore, StoredBitsAndSignAreHonoured) {
    // one phantom slice rewritten as signed 12-bit pixels with junk in the unused high bits
    testutil::TempDir dir("viewer-bits");
    const fs::path d = copyOfCt(dir.path() / "ct");
    const auto files = sortedFiles(d);
    for (std::size_t i = 1; i < files.size(); ++i) fs::remove(files[i]);
    const std::vector<Uint16> raw = {0x0FFF, 0xF800, 0x07FF, 0xA001, 0x0000};
    const std::vector<int> expected = {-1 - 1024, -2048 - 1024, 2047 - 1024, 1 - 1024, -1024};
    edit(files[0], [&](DcmDataset& ds) {
        ds.putAndInsertUint16(DCM_PixelRepresentation, 1);
        ds.putAndInsertUint16(DCM_BitsStored, 12);
        ds.putAndInsertUint16(DCM_HighBit, 11);
        ds.putAndInsertString(DCM_RescaleIntercept, "-1024");
        ds.putAndInsertString(DCM_RescaleSlope, "1");
        std::vector<Uint16> px(512 * 512, 0);
        std::copy(raw.begin(), raw.end(), px.begin());
        ds.putAndInsertUint16Array(DCM_PixelData, px.data(), static_cast<unsigned long>(px.size()));
    });
    auto scan = vc::scanFolder(d);
    ASSERT_EQ(scan.series.size(), 1u);
    const auto g = vc::analyze(scan.series[0]);
    ASSERT_TRUE(g.ok) << g.problem;
    const auto direct = vc::load(scan.series[0], g, {}, 1);
    for (std::size_t i = 0; i < raw.size(); ++i) EXPECT_EQ(direct.voxels[i], expected[i]) << i;
    // the same through a rescale with a fractional slope (the general path)
    edit(files[0], [](DcmDataset& ds) { ds.putAndInsertString(DCM_RescaleSlope, "0.5"); });
    scan = vc::scanFolder(d);
    const auto general = vc::load(scan.series[0], vc::analyze(scan.series[0]), {}, 1);
    const std::vector<int> halved = {-1025, -2048, -1, -1024, -1024}; // round(v * 0.5 - 1024), half away from zero
    for (std::size_t i = 0; i < raw.size(); ++i) EXPECT_EQ(general.voxels[i], halved[i]) << i;
}

TEST(ViewerCore, TheSameImageInEveryTransferSyntaxGivesTheSameVoxels) {
    if (!fs::exists(kPydicom / "MR_small.dcm")) GTEST_SKIP() << "python3-pydicom's test files are not installed";
    auto loadOne = [](const std::string& name) {
        testutil::TempDir d("viewer-ts");
        fs::copy_file(kPydicom / name, d.path() / name);
        const auto scan = vc::scanFolder(d.path());
        EXPECT_EQ(scan.series.size(), 1u) << name;
        const auto g = vc::analyze(scan.series.at(0));
        EXPECT_TRUE(g.ok) << name << ": " << g.problem;
        auto voxels = vc::load(scan.series[0], g, {}, 1).voxels;
        // the in-memory decoding (what the series fuzz target runs) gives the same slice
        if (name.find("jp2k") == std::string::npos) {
            std::ifstream in(kPydicom / name, std::ios::binary);
            const std::string bytes((std::istreambuf_iterator<char>(in)), {});
            std::vector<std::int16_t> slice(voxels.size());
            vc::decodeSlice(scan.series[0].slices[0], reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), slice.data());
            EXPECT_TRUE(std::equal(slice.begin(), slice.end(), voxels.begin())) << name << ": decodeSlice differs from load()";
        }
        return voxels;
    };
    const auto native = loadOne("MR_small.dcm");
    ASSERT_EQ(native.size(), 64u * 64u);
    for (const char* other : {"MR_small_implicit.dcm", "MR_small_bigendian.dcm", "MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm"})
        EXPECT_EQ(loadOne(other), native) << other;
    // CT_small: signed pixels with a rescale
    const auto ct = loadOne("CT_small.dcm");
    EXPECT_EQ(ct.size(), 128u * 128u);
    // JPEG 2000 (no decoder in Debian's DCMTK) through GDCM and OpenJPEG: the same voxels
    EXPECT_EQ(loadOne("MR_small_jp2klossless.dcm"), native);
    // a transfer syntax nothing here decodes (High-Throughput JPEG 2000): a clear message
    // naming the file, not a wrong image
    testutil::TempDir d("viewer-htj2k");
    ASSERT_TRUE(testutil::writeHtj2kFile(d.path() / "htj2k.dcm"));
    const auto scan = vc::scanFolder(d.path());
    ASSERT_EQ(scan.series.size(), 1u) << (scan.skipped.empty() ? "" : scan.skipped.front().second);
    const auto g = vc::analyze(scan.series[0]);
    ASSERT_TRUE(g.ok) << g.problem;
    try {
        vc::load(scan.series[0], g, {}, 1);
        FAIL() << "an undecodable transfer syntax loaded";
    } catch (const vc::LoadError& e) {
        EXPECT_NE(std::string(e.what()).find("htj2k.dcm"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("cannot"), std::string::npos) << e.what();
    }
}

namespace {

/// A volume geometry of the given size, 0.5 x 0.8 x 2.0 mm voxels (non-square pixels).
vc::Geometry geometryOf(int nx, int ny, int nz, std::array<double, 3> origin, std::array<double, 3> row = {1, 0, 0},
                        std::array<double, 3> column = {0, 1, 0}, std::array<double, 3> normal = {0, 0, 1}) {
    vc::Geometry g;
    g.ok = true;
    g.nx = nx, g.ny = ny, g.nz = nz;
    g.spacing = {0.5, 0.8, 2.0};
    g.origin = origin;
    g.row = row, g.column = column, g.normal = normal;
    return g;
}

/// A 4x3x2 volume whose voxel values encode their index, with the given direction cosines.
vc::Volume tinyVolume(std::array<double, 3> row, std::array<double, 3> column, std::array<double, 3> normal) {
    vc::Volume v;
    v.geometry = geometryOf(4, 3, 2, {10, 20, 30}, row, column, normal);
    v.voxels.resize(24);
    for (int i = 0; i < 24; ++i) v.voxels[static_cast<std::size_t>(i)] = static_cast<std::int16_t>(i);
    return v;
}

std::array<double, 3> voxelPosition(const vc::Geometry& g, int i, int j, int k) {
    std::array<double, 3> p{};
    for (std::size_t a = 0; a < 3; ++a)
        p[a] = g.origin[a] + i * g.spacing[0] * g.row[a] + j * g.spacing[1] * g.column[a] + k * g.spacing[2] * g.normal[a];
    return p;
}

/// Every screen pixel of every plane shows the voxel at the patient position the frame says,
/// and the frame's screen directions are the radiological ones.
void checkPlanes(const vc::Volume& v) {
    const vc::Geometry& g = v.geometry;
    for (vc::Plane plane : {vc::Plane::Axial, vc::Plane::Coronal, vc::Plane::Sagittal}) {
        SCOPED_TRACE(vc::planeName(plane));
        const vc::SliceFrame f = vc::sliceFrame(g, plane);
        EXPECT_EQ(f.width * f.height * f.count, 24);
        for (int k = 0; k < f.count; ++k)
            for (int vv = 0; vv < f.height; ++vv)
                for (int u = 0; u < f.width; ++u) {
                    std::int16_t value = 0;
                    ASSERT_TRUE(vc::valueAt(v, f, k, u, vv, value));
                    const int i = value % 4, j = (value / 4) % 3, z = value / 12;
                    const auto expected = voxelPosition(g, i, j, z);
                    const auto p = f.patient(u, vv, k);
                    for (std::size_t a = 0; a < 3; ++a) EXPECT_NEAR(p[a], expected[a], 1e-9) << u << "," << vv << "," << k;
                    const auto back = f.pixelOf(p); // and back to the pixel
                    EXPECT_NEAR(back[0], u, 1e-9);
                    EXPECT_NEAR(back[1], vv, 1e-9);
                }
        // patient's left to the right everywhere but sagittal (posterior to the right); feet down
        const auto labels = vc::edgeLabels(f);
        if (plane == vc::Plane::Axial) {
            EXPECT_EQ(labels, (std::array<std::string, 4>{"R", "L", "A", "P"}));
        }
        if (plane == vc::Plane::Coronal) {
            EXPECT_EQ(labels, (std::array<std::string, 4>{"R", "L", "S", "I"}));
        }
        if (plane == vc::Plane::Sagittal) {
            EXPECT_EQ(labels, (std::array<std::string, 4>{"A", "P", "S", "I"}));
        }
        // slices run head to feet, front to back, right to left
        if (f.count > 1) {
            const double step = f.position(1) - f.position(0);
            if (plane == vc::Plane::Axial)
                EXPECT_LT(step, 0);
            else
                EXPECT_GT(step, 0);
            EXPECT_EQ(f.nearest(f.position(1) + 0.1 * step), 1);
            EXPECT_EQ(f.nearest(f.position(0) - 100 * step), 0); // clamped
        }
    }
}

} // namespace

TEST(ViewerDisplay, PlanesFollowTheDirectionCosinesNotTheStorageOrder) {
    checkPlanes(tinyVolume({1, 0, 0}, {0, 1, 0}, {0, 0, 1}));   // the usual axial CT
    checkPlanes(tinyVolume({-1, 0, 0}, {0, -1, 0}, {0, 0, 1})); // rows and columns stored the other way
    checkPlanes(tinyVolume({0, 1, 0}, {0, 0, -1}, {1, 0, 0}));  // a sagittal acquisition (MR)
    checkPlanes(tinyVolume({1, 0, 0}, {0, 0, -1}, {0, 1, 0}));  // a coronal acquisition
}

TEST(ViewerDisplay, ObliqueDirectionsGetTwoLetters) {
    EXPECT_EQ(vc::orientationLabel({1, 0, 0}), "L");
    EXPECT_EQ(vc::orientationLabel({-1, 0, 0}), "R");
    EXPECT_EQ(vc::orientationLabel({0, -1, 0}), "A");
    EXPECT_EQ(vc::orientationLabel({0, 0, 1}), "S");
    EXPECT_EQ(vc::orientationLabel({0.866, -0.5, 0}), "LA");
    EXPECT_EQ(vc::orientationLabel({0.99, 0.1, 0}), "L"); // 6 degrees off: one letter
}

TEST(ViewerDisplay, WindowLevelFollowsDicomsLinearFunction) {
    const vc::WindowLevel soft{400, 40};
    EXPECT_EQ(vc::greyOf(-1000, soft), 0);
    EXPECT_EQ(vc::greyOf(1000, soft), 255);
    EXPECT_NEAR(vc::greyOf(40, soft), 127.8, 0.5);
    vc::GreyTable t;
    t.set(soft);
    EXPECT_EQ(t(-160), 0);
    EXPECT_EQ(t(240), 255);
    EXPECT_EQ(t(40), 128);
    EXPECT_EQ(t(-32768), 0);
    EXPECT_EQ(t(32767), 255);
    // the presets the keys 1-5 give
    ASSERT_EQ(vc::presets().size(), 5u);
    EXPECT_STREQ(vc::presets()[2].name, "Lung");
    EXPECT_EQ(vc::presets()[2].wl.window, 1500);
    // a rendered slice is the table applied to the voxels, top row first
    const vc::Volume v = tinyVolume({-1, 0, 0}, {0, 1, 0}, {0, 0, 1});
    const vc::SliceFrame f = vc::sliceFrame(v.geometry, vc::Plane::Axial);
    vc::GreyTable identity;
    identity.set({256, 127.5});
    std::vector<std::uint8_t> out(static_cast<std::size_t>(f.width * f.height));
    vc::renderSlice(v, f, 0, identity, out.data());
    for (int vv = 0; vv < f.height; ++vv)
        for (int u = 0; u < f.width; ++u) {
            std::int16_t hu = 0;
            vc::valueAt(v, f, 0, u, vv, hu);
            EXPECT_EQ(out[static_cast<std::size_t>(vv * f.width + u)], identity(hu));
        }
}

TEST(ViewerDisplay, NonCtImagesGetAWindowFromTheirOwnValues) {
    vc::Volume v;
    v.geometry = geometryOf(100, 10, 1, {0, 0, 0});
    v.voxels.resize(1000);
    for (int i = 0; i < 1000; ++i)
        v.voxels[static_cast<std::size_t>(i)] = static_cast<std::int16_t>(i % 100 == 0 ? 30000 : i / 2); // 0..499, a few outliers
    const vc::WindowLevel wl = vc::automaticWindow(v, 0);
    // 1st to 99th percentile: the outliers (1 %) do not stretch the window
    EXPECT_GT(wl.window, 400);
    EXPECT_LT(wl.window, 520);
    EXPECT_NEAR(wl.level, 250, 15);
}

TEST(ViewerMeasure, LengthsAreInMillimetresFromPatientCoordinates) {
    // non-square pixels: 0.5 mm across, 0.8 mm down - a frame gives patient points, lengths follow
    const vc::Geometry g = geometryOf(100, 100, 1, {0, 0, 0});
    const vc::SliceFrame f = vc::sliceFrame(g, vc::Plane::Axial);
    EXPECT_NEAR(vc::distanceMm(f.patient(10, 10, 0), f.patient(50, 10, 0)), 20.0, 1e-9); // 40 pixels across
    EXPECT_NEAR(vc::distanceMm(f.patient(10, 10, 0), f.patient(10, 50, 0)), 32.0, 1e-9); // 40 pixels down
    EXPECT_NEAR(vc::distanceMm(f.patient(0, 0, 0), f.patient(30, 40, 0)), std::hypot(15.0, 32.0), 1e-9);
}

TEST(ViewerMeasure, TheShortAxisIsPerpendicularThroughTheMiddleAndStaysSo) {
    vc::Measurement m;
    m.kind = vc::Measurement::Kind::Bidimensional;
    m.a = {0, 0, 5};
    m.b = {30, 40, 5}; // 50 mm
    const auto axis = vc::perpendicularAxis(m.a, m.b, {0, 0, 1}, 20);
    m.c = axis[0], m.d = axis[1];
    EXPECT_NEAR(m.longMm(), 50, 1e-9);
    EXPECT_NEAR(m.shortMm(), 20, 1e-9);
    const vc::Point3 mid{15, 20, 5};
    EXPECT_NEAR(vc::distanceMm(m.c, mid), 10, 1e-9);
    const double dotp = (m.d[0] - m.c[0]) * 30 + (m.d[1] - m.c[1]) * 40 + (m.d[2] - m.c[2]) * 0;
    EXPECT_NEAR(dotp, 0, 1e-9);
    EXPECT_NEAR(m.c[2], 5, 1e-9); // in the slice
    // dragging an end anywhere keeps it on the perpendicular through the middle
    const vc::Point3 moved = vc::projectOnShortAxis(m, {40, 0, 5});
    const double along = (moved[0] - mid[0]) * 30 + (moved[1] - mid[1]) * 40;
    EXPECT_NEAR(along, 0, 1e-9);
}

TEST(ViewerMeasure, EditsCanBeUndoneAndRedone) {
    vc::MeasurementSet set;
    EXPECT_FALSE(set.undo());
    vc::Measurement m;
    m.a = {0, 0, 0};
    m.b = {10, 0, 0};
    const int first = set.add(m);
    m.b = {20, 0, 0};
    const int second = set.add(m);
    EXPECT_NE(first, second);
    vc::Measurement edited = *set.find(first);
    edited.b = {5, 0, 0};
    EXPECT_TRUE(set.update(edited));
    EXPECT_NEAR(set.find(first)->longMm(), 5, 1e-9);
    EXPECT_TRUE(set.remove(second));
    EXPECT_EQ(set.all().size(), 1u);
    EXPECT_TRUE(set.undo()); // the removal
    EXPECT_EQ(set.all().size(), 2u);
    EXPECT_TRUE(set.undo()); // the edit
    EXPECT_NEAR(set.find(first)->longMm(), 10, 1e-9);
    EXPECT_TRUE(set.redo());
    EXPECT_NEAR(set.find(first)->longMm(), 5, 1e-9);
    vc::Measurement unknown;
    unknown.id = 99;
    EXPECT_FALSE(set.update(unknown));
    EXPECT_FALSE(set.remove(99));
    set.add(m); // a new edit drops what could be redone
    EXPECT_FALSE(set.canRedo());
}
