// What a reader of the phantom's files finds: valid DICOM (dciodvfy), the planned geometry
// through ITK's series reader and through DCMTK, and lesions whose size in the voxels is
// the ground truth's.
#include "TrialFixture.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <gtest/gtest.h>
#include <gdcmTrace.h>
#include <itkGDCMImageIO.h>
#include <itkImage.h>
#include <itkImageSeriesReader.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <queue>
#include <set>

namespace fs = std::filesystem;
using nlohmann::json;
using testutil::SmallTrial;

namespace {

/// Files of a series folder in slice order (instance number = file name order).
std::vector<std::string> seriesFiles(const fs::path& dir) {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().filename() != "IM_TRUNC.dcm") files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
    return files;
}

/// The series files sorted along the slice normal, as ITK's GDCMSeriesFileNames sorts
/// them (not used directly: it gives up on the folder that holds the truncated file).
std::vector<std::string> itkSortedFiles(const fs::path& dir) {
    std::vector<std::pair<double, std::string>> byPosition;
    for (const std::string& f : seriesFiles(dir)) {
        DcmFileFormat ff;
        EXPECT_TRUE(ff.loadFile(f.c_str()).good()) << f;
        double z = 0;
        ff.getDataset()->findAndGetFloat64(DCM_ImagePositionPatient, z, 2); // normal is +z (axial)
        byPosition.emplace_back(z, f);
    }
    std::sort(byPosition.begin(), byPosition.end());
    std::vector<std::string> files;
    for (auto& [z, f] : byPosition) files.push_back(f);
    return files;
}

itk::Image<float, 3>::Pointer itkRead(const fs::path& dir) {
    gdcm::Trace::WarningOff(); // the site's private tags are not in GDCM's dictionary: expected
    auto reader = itk::ImageSeriesReader<itk::Image<float, 3>>::New();
    reader->SetImageIO(itk::GDCMImageIO::New());
    reader->SetFileNames(itkSortedFiles(dir));
    reader->Update();
    return reader->GetOutput();
}

/// Every CT/MR series of the small trial with its ground truth.
std::vector<json> imageSeries() {
    std::vector<json> out;
    for (const auto& s : SmallTrial::get().truth["subjects"]) {
        for (const auto& tp : s["timepoints"]) {
            for (const auto& se : tp["series"]) {
                if (se["modality"] == "CT" || se["modality"] == "MR") out.push_back(se);
            }
        }
    }
    return out;
}

std::string run(const std::string& command) {
    std::string output;
    FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    if (!p) return "<popen failed>";
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p)) output += buf;
    ::pclose(p);
    return output;
}

/// A slice as stored values (rescaled to HU for CT), with its geometry from the header.
struct Slice {
    int rows = 0, columns = 0;
    double spacingRow = 0, spacingCol = 0;
    std::array<double, 3> position{};
    std::vector<double> values;
    double at(int col, int row) const { return values[static_cast<std::size_t>(row * columns + col)]; }
};

Slice readSlice(const std::string& file) {
    DcmFileFormat ff;
    EXPECT_TRUE(ff.loadFile(file.c_str()).good()) << file;
    DcmDataset& d = *ff.getDataset();
    Slice s;
    Uint16 rows = 0, cols = 0;
    d.findAndGetUint16(DCM_Rows, rows);
    d.findAndGetUint16(DCM_Columns, cols);
    s.rows = rows;
    s.columns = cols;
    d.findAndGetFloat64(DCM_PixelSpacing, s.spacingRow, 0);
    d.findAndGetFloat64(DCM_PixelSpacing, s.spacingCol, 1);
    for (unsigned long i = 0; i < 3; ++i) d.findAndGetFloat64(DCM_ImagePositionPatient, s.position[i], i);
    // MR has no rescale; DCMTK zeroes the output when an element is absent.
    double slope = 1, intercept = 0;
    if (d.findAndGetFloat64(DCM_RescaleSlope, slope).bad()) slope = 1;
    if (d.findAndGetFloat64(DCM_RescaleIntercept, intercept).bad()) intercept = 0;
    const Uint16* px = nullptr;
    EXPECT_TRUE(d.findAndGetUint16Array(DCM_PixelData, px).good());
    s.values.resize(static_cast<std::size_t>(rows) * cols);
    for (std::size_t i = 0; i < s.values.size(); ++i) s.values[i] = px[i] * slope + intercept;
    return s;
}

struct Measured {
    double longMm = 0, shortMm = 0;
    std::size_t pixels = 0;
};

/// Region-grows the lesion from its centre pixel (values within tolerance of the lesion's
/// value) and measures it as a reader would: the longest diameter, then the longest
/// diameter perpendicular to it, between pixel centres.
Measured measureLesion(const Slice& s, int col, int row, double lesionValue, double tolerance) {
    std::vector<char> seen(s.values.size(), 0);
    std::vector<std::array<double, 2>> pts;
    std::queue<std::pair<int, int>> q;
    q.push({col, row});
    seen[static_cast<std::size_t>(row * s.columns + col)] = 1;
    while (!q.empty()) {
        auto [c, r] = q.front();
        q.pop();
        pts.push_back({c * s.spacingCol, r * s.spacingRow});
        const int dc[] = {1, -1, 0, 0}, dr[] = {0, 0, 1, -1};
        for (int k = 0; k < 4; ++k) {
            const int nc = c + dc[k], nr = r + dr[k];
            if (nc < 0 || nr < 0 || nc >= s.columns || nr >= s.rows) continue;
            const std::size_t i = static_cast<std::size_t>(nr * s.columns + nc);
            if (seen[i] || std::abs(s.values[i] - lesionValue) > tolerance) continue;
            seen[i] = 1;
            q.push({nc, nr});
        }
    }
    Measured m;
    m.pixels = pts.size();
    // Longest chord between pixel centres.
    double best = 0;
    std::array<double, 2> u{1, 0};
    for (std::size_t i = 0; i < pts.size(); ++i) {
        for (std::size_t j = i + 1; j < pts.size(); ++j) {
            const double dx = pts[j][0] - pts[i][0], dy = pts[j][1] - pts[i][1];
            const double d2 = dx * dx + dy * dy;
            if (d2 > best) {
                best = d2;
                const double d = std::sqrt(d2);
                u = {dx / d, dy / d};
            }
        }
    }
    // Caliper tips on the outermost lesion pixel centres fall short of the true edge by
    // about a quarter pixel at each end on average: add half a pixel spacing.
    const double halfPixel = 0.5 * std::min(s.spacingCol, s.spacingRow);
    m.longMm = std::sqrt(best) + halfPixel;
    // Perpendicular extent.
    const double vx = -u[1], vy = u[0];
    double lo = 1e9, hi = -1e9;
    for (const auto& p : pts) {
        const double t = p[0] * vx + p[1] * vy;
        lo = std::min(lo, t);
        hi = std::max(hi, t);
    }
    m.shortMm = hi - lo + halfPixel;
    return m;
}

double lesionValue(const std::string& modality, const std::string& location) {
    if (modality == "CT") return location == "LIVER" ? 45 : location == "LUNG" ? 30 : 38;
    return location == "LIVER" ? 520 : location == "LUNG" ? 300 : 250;
}

} // namespace

TEST(PhantomDicom, DciodvfyFindsNoErrorsInCtAndMr) {
    ASSERT_EQ(std::system("command -v dciodvfy >/dev/null"), 0) << "dciodvfy (Debian dicom3tools) is required";
    std::size_t checked = 0;
    for (const json& se : imageSeries()) {
        const auto files = seriesFiles(SmallTrial::get().path() / se["dir"].get<std::string>());
        for (const std::string& f : {files.front(), files[files.size() / 2], files.back()}) {
            const std::string out = run("dciodvfy '" + f + "'");
            EXPECT_EQ(out.find("Error"), std::string::npos) << f << "\n" << out;
            EXPECT_NE(out.find(se["modality"] == "CT" ? "CTImage" : "MRImage"), std::string::npos) << out;
            ++checked;
        }
    }
    EXPECT_GE(checked, 15u * 3);
}

TEST(PhantomDicom, ItkSeriesReaderSeesThePlannedGeometry) {
    using Image = itk::Image<float, 3>;
    for (const json& se : imageSeries()) {
        Image::Pointer img;
        ASSERT_NO_THROW(img = itkRead(SmallTrial::get().path() / se["dir"].get<std::string>())) << se["dir"];
        const auto size = img->GetLargestPossibleRegion().GetSize();
        EXPECT_EQ(size[0], se["columns"].get<unsigned>());
        EXPECT_EQ(size[1], se["rows"].get<unsigned>());
        EXPECT_EQ(size[2], se["files"].get<unsigned>());
        // Sorted along the normal (+z), ITK's origin is the most caudal slice: the last instance.
        const auto origin = img->GetOrigin();
        for (unsigned i = 0; i < 3; ++i) EXPECT_NEAR(origin[i], se["last_slice_position_mm"][i].get<double>(), 1e-3) << se["dir"];
        const auto spacing = img->GetSpacing();
        EXPECT_NEAR(spacing[0], se["pixel_spacing_mm"][1].get<double>(), 1e-6);
        EXPECT_NEAR(spacing[1], se["pixel_spacing_mm"][0].get<double>(), 1e-6);
        EXPECT_NEAR(spacing[2], se["slice_spacing_mm"].get<double>(), 1e-3) << "spacing from positions";
        const auto dir = img->GetDirection();
        for (unsigned r = 0; r < 3; ++r) {
            for (unsigned c = 0; c < 3; ++c) EXPECT_NEAR(dir[r][c], r == c ? 1.0 : 0.0, 1e-6) << "axial, LPS";
        }
    }
}

TEST(PhantomDicom, ItkFindsTheLesionCentreValue) {
    using Image = itk::Image<float, 3>;
    std::size_t checked = 0;
    for (const auto& s : SmallTrial::get().truth["subjects"]) {
        for (std::size_t k = 0; k < s["timepoints"].size(); ++k) {
            for (const auto& se : s["timepoints"][k]["series"]) {
                if (se["modality"] != "CT" && se["modality"] != "MR") continue;
                const Image::Pointer img = itkRead(SmallTrial::get().path() / se["dir"].get<std::string>());
                const std::string modality = se["modality"] == "CT" ? "ct" : "mr";
                for (const auto& l : s["lesions"]) {
                    const auto& st = l["timepoints"][k];
                    if (!st["present"].get<bool>() || st["short_axis_mm"].get<double>() < 6) continue;
                    const auto& cs = st["largest_cross_section"][modality];
                    // From the patient position, as a reader's tool would: physical point -> index.
                    Image::PointType p;
                    for (unsigned i = 0; i < 3; ++i) p[i] = l["center_mm"][i].get<double>();
                    Image::IndexType idx;
                    ASSERT_TRUE(img->TransformPhysicalPointToIndex(p, idx));
                    EXPECT_EQ(se["files"].get<long>() - 1 - idx[2], cs["slice_index"].get<long>()) << "instance order";
                    EXPECT_NEAR(idx[0], cs["pixel"][0].get<double>(), 0.51);
                    EXPECT_NEAR(idx[1], cs["pixel"][1].get<double>(), 0.51);
                    const double v = img->GetPixel(idx);
                    EXPECT_NEAR(v, lesionValue(se["modality"], l["location"]), 30)
                        << s["pseudonym"] << " " << l["id"] << " tp " << k << " " << modality;
                    ++checked;
                }
            }
        }
    }
    EXPECT_GT(checked, 40u);
}

TEST(PhantomDicom, DcmtkReadsGeometryAndSortsBySlicePosition) {
    for (const json& se : imageSeries()) {
        const auto files = seriesFiles(SmallTrial::get().path() / se["dir"].get<std::string>());
        double previousZ = 1e9;
        for (std::size_t i = 0; i < files.size(); i += files.size() / 4) {
            const Slice s = readSlice(files[i]);
            EXPECT_EQ(s.rows, se["rows"].get<int>());
            const auto& first = se["first_slice_position_mm"];
            EXPECT_NEAR(s.position[0], first[0].get<double>(), 1e-3);
            EXPECT_NEAR(s.position[1], first[1].get<double>(), 1e-3);
            EXPECT_NEAR(s.position[2], first[2].get<double>() - i * se["slice_spacing_mm"].get<double>(), 1e-3);
            EXPECT_LT(s.position[2], previousZ) << "instances go from head to feet";
            previousZ = s.position[2];
        }
    }
}

TEST(PhantomDicom, AirAndFatHaveTheirHounsfieldUnits) {
    const json se = imageSeries().front();
    const auto files = seriesFiles(SmallTrial::get().path() / se["dir"].get<std::string>());
    const Slice s = readSlice(files[files.size() / 2]);
    double air = 0;
    for (int c = 0; c < 20; ++c) air += s.at(c, 5) / 20;
    EXPECT_NEAR(air, -1000, 5);
    // Subcutaneous fat just inside the body outline at the patient's right (-x).
    const int col = static_cast<int>((-158.0 - s.position[0]) / s.spacingCol);
    const int row = static_cast<int>((10.0 - s.position[1]) / s.spacingRow);
    EXPECT_NEAR(s.at(col, row), -95, 30);
}

TEST(PhantomDicom, LeftMarkerIsOnThePatientsLeft) {
    // The bead is at +x (patient's left): in a standard axial display it is on the screen's
    // right, at a column greater than the body centre's.
    const auto& t = SmallTrial::get();
    const json se = imageSeries().front();
    const Slice s = readSlice(seriesFiles(t.path() / se["dir"].get<std::string>())[10]);
    const double x = t.truth["trial"]["left_marker"]["x_mm"];
    const int col = static_cast<int>(std::lround((x - s.position[0]) / s.spacingCol));
    const int row = static_cast<int>(std::lround((10.0 - s.position[1]) / s.spacingRow));
    EXPECT_GT(s.at(col, row), 2000);
    EXPECT_GT(col, s.columns / 2);
    const int mirrored = s.columns - 1 - col;
    EXPECT_LT(s.at(mirrored, row), 0) << "nothing radio-opaque on the right";
}

TEST(PhantomDicom, LesionDiametersInTheVoxelsMatchTheGroundTruth) {
    const auto& t = SmallTrial::get();
    std::size_t measured = 0;
    for (const auto& s : t.truth["subjects"]) {
        for (const auto& l : s["lesions"]) {
            for (std::size_t k = 0; k < l["timepoints"].size(); ++k) {
                const auto& st = l["timepoints"][k];
                if (!st["present"].get<bool>()) continue;
                for (const char* modality : {"ct", "mr"}) {
                    if (!st["largest_cross_section"].contains(modality)) continue;
                    const auto& cs = st["largest_cross_section"][modality];
                    std::string dir;
                    for (const auto& se : s["timepoints"][k]["series"]) {
                        if (se["series_uid"] == cs["series_uid"]) dir = se["dir"];
                    }
                    const auto files = seriesFiles(t.path() / dir);
                    const Slice slice = readSlice(files.at(cs["slice_index"].get<std::size_t>()));
                    const int col = static_cast<int>(std::lround(cs["pixel"][0].get<double>()));
                    const int row = static_cast<int>(std::lround(cs["pixel"][1].get<double>()));
                    const bool ct = std::string(modality) == "ct";
                    const Measured m = measureLesion(slice, col, row, lesionValue(ct ? "CT" : "MR", l["location"]), ct ? 30 : 45);
                    const double tolerance = slice.spacingCol; // one pixel spacing
                    const std::string what =
                        s["pseudonym"].get<std::string>() + " " + l["id"].get<std::string>() + " tp " + std::to_string(k) + " " + modality;
                    if (std::getenv("PHANTOM_MEASURE_LOG"))
                        std::printf("ERR %s %.3f %.3f %.4f\n", modality, m.longMm - st["long_axis_mm"].get<double>(),
                                    m.shortMm - st["short_axis_mm"].get<double>(), tolerance);
                    EXPECT_NEAR(m.longMm, st["long_axis_mm"].get<double>(), tolerance) << what;
                    EXPECT_NEAR(m.shortMm, st["short_axis_mm"].get<double>(), tolerance) << what;
                    ++measured;
                }
            }
        }
    }
    EXPECT_GT(measured, 60u);
}

// phantom --motion --hard-lesions --partial-volume: the truth says where each lesion is at each
// timepoint in the scanner's coordinates, read back with ITK (an independent reader).
TEST(PhantomDicom, WithMotionTheTruthSaysWhereEachLesionIsAtEachTimepoint) {
    using Image = itk::Image<float, 3>;
    testutil::TempDir dir("phantom-hard");
    phantom::Options o;
    o.out = dir.path();
    o.seed = 9;
    o.subjects = 1;
    o.timepoints = 3;
    o.slices = 60;
    o.sliceThicknessMm = 5.0;
    o.motion = o.hardLesions = o.partialVolume = true;
    phantom::generateTrial(o);
    std::ifstream in(dir.path() / "ground-truth.json");
    const json truth = json::parse(in);
    const auto& s = truth["subjects"][0];
    std::size_t checked = 0, moved = 0, vessels = 0;
    std::set<std::string> kinds;
    for (std::size_t k = 0; k < s["timepoints"].size(); ++k) {
        const auto& tp = s["timepoints"][k];
        ASSERT_TRUE(tp.contains("pose"));
        for (const auto& se : tp["series"]) {
            if (se["modality"] != "CT") continue;
            const Image::Pointer img = itkRead(dir.path() / se["dir"].get<std::string>());
            auto valueAt = [&](double x, double y, double z) {
                Image::PointType p;
                p[0] = x, p[1] = y, p[2] = z;
                Image::IndexType idx;
                return img->TransformPhysicalPointToIndex(p, idx) ? double(img->GetPixel(idx)) : std::nan("");
            };
            for (const auto& l : s["lesions"]) {
                const auto& st = l["timepoints"][k];
                if (!st["present"].get<bool>() || st["short_axis_mm"].get<double>() < 8) continue;
                const std::string kind = l.value("kind", std::string());
                const double expected = kind == "low_contrast"          ? 88
                                        : l["location"] == "LUNG"       ? 30
                                        : l["location"] == "LYMPH NODE" ? 38
                                                                        : 45;
                const auto c = st["center_mm"];
                // the nearest slice may lie up to 2.5 mm off the centre: still inside the lesion
                EXPECT_NEAR(valueAt(c[0], c[1], c[2]), expected, 25) << l["id"] << " timepoint " << k;
                ++checked;
                if (!kind.empty()) kinds.insert(kind);
                // the body's coordinates are not the scanner's: the pose moved the lesion
                const auto b = l["center_mm"];
                if (std::hypot(b[0].get<double>() - c[0].get<double>(), b[1].get<double>() - c[1].get<double>(),
                               b[2].get<double>() - c[2].get<double>()) > 5)
                    ++moved;
                // a node's vessel of its own density runs on 40 mm above the node
                if (kind == "node_by_vessel") {
                    const double a = tp["pose"]["rotation_deg"].get<double>() * 3.14159265358979 / 180;
                    const double ox = l["vessel"]["offset_mm"][0], oy = l["vessel"]["offset_mm"][1];
                    EXPECT_NEAR(valueAt(c[0].get<double>() + std::cos(a) * ox - std::sin(a) * oy,
                                        c[1].get<double>() + std::sin(a) * ox + std::cos(a) * oy, c[2].get<double>() + 40),
                                38, 25)
                        << "the vessel beside " << l["id"];
                    ++vessels;
                }
            }
        }
    }
    EXPECT_GE(checked, 20u);
    EXPECT_GE(moved, checked / 2) << "the poses hardly moved anything";
    EXPECT_EQ(vessels, 3u);
    EXPECT_EQ(kinds, (std::set<std::string>{"node_by_vessel", "low_contrast", "liver_by_vein"}));
}
