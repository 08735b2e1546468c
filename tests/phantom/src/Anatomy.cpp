#include "Anatomy.h"

#include "Random.h"

#include <algorithm>
#include <cmath>

namespace phantom {
namespace {

constexpr double kPi = 3.14159265358979323846;

/// Profile of an organ along z: 1 at zc, 0 at zc +- h (an ellipsoidal organ).
double profile(double z, double zc, double h) {
    const double u = (z - zc) / h;
    return u * u >= 1.0 ? 0.0 : std::sqrt(1.0 - u * u);
}

Shape ellipse(double cx, double cy, double a, double b, double angleDeg, Tissue t) {
    return {Shape::Ellipse, cx, cy, a, b, angleDeg * kPi / 180.0, t};
}

Tissue lesionTissue(LesionSite s) {
    switch (s) {
    case LesionSite::Liver: return Tissue::LiverLesion;
    case LesionSite::Lung: return Tissue::LungLesion;
    case LesionSite::LymphNode: return Tissue::Node;
    }
    return Tissue::Node;
}

/// x-interval of a rotated ellipse on the row y; false if the row misses it.
bool ellipseSpan(const Shape& e, double y, double& x0, double& x1) {
    const double c = std::cos(e.angleRad), s = std::sin(e.angleRad);
    const double ia = 1.0 / (e.a * e.a), ib = 1.0 / (e.b * e.b);
    const double dy = y - e.cy;
    // (dx c + dy s)^2 ia + (-dx s + dy c)^2 ib <= 1, a quadratic in dx.
    const double A = c * c * ia + s * s * ib;
    const double B = 2.0 * dy * c * s * (ia - ib);
    const double C = dy * dy * (s * s * ia + c * c * ib) - 1.0;
    const double disc = B * B - 4.0 * A * C;
    if (disc < 0) return false;
    const double r = std::sqrt(disc);
    x0 = e.cx + (-B - r) / (2.0 * A);
    x1 = e.cx + (-B + r) / (2.0 * A);
    return true;
}

/// Gaussian samples with unit sigma, in 1/16 units, indexed by 16 random bits.
const std::array<std::int16_t, 65536>& gaussTable() {
    static const std::array<std::int16_t, 65536> table = [] {
        std::array<std::int16_t, 65536> t{};
        Rng rng(0x5eed);
        for (auto& v : t) {
            // Box-Muller; deterministic because the stream is ours.
            const double u1 = std::max(rng.uniform(), 1e-12), u2 = rng.uniform();
            const double g = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
            v = static_cast<std::int16_t>(std::lround(std::clamp(g, -6.0, 6.0) * 16.0));
        }
        return t;
    }();
    return table;
}

} // namespace

TissueValues ctValues() {
    TissueValues v{};
    auto set = [&v](Tissue t, int hu) { v[static_cast<std::size_t>(t)] = hu + 1024; };
    set(Tissue::Air, -1000);
    set(Tissue::Table, 250);
    set(Tissue::Fat, -95);
    set(Tissue::Muscle, 55);
    set(Tissue::Liver, 105);
    set(Tissue::Spleen, 115);
    set(Tissue::Kidney, 170);
    set(Tissue::Lung, -860);
    set(Tissue::Heart, 130);
    set(Tissue::Blood, 170);
    set(Tissue::Bone, 650);
    set(Tissue::Marrow, 220);
    set(Tissue::Csf, 8);
    set(Tissue::Marker, 2500);
    set(Tissue::LiverLesion, 45);
    set(Tissue::LungLesion, 30);
    set(Tissue::Node, 38);
    set(Tissue::FaintLesion, 88);
    set(Tissue::NodeVessel, 38);
    return v;
}

TissueValues mrValues() {
    TissueValues v{};
    auto set = [&v](Tissue t, int s) { v[static_cast<std::size_t>(t)] = s; };
    set(Tissue::Air, 0);
    set(Tissue::Table, 0);
    set(Tissue::Fat, 320);
    set(Tissue::Muscle, 90);
    set(Tissue::Liver, 140);
    set(Tissue::Spleen, 300);
    set(Tissue::Kidney, 380);
    set(Tissue::Lung, 25);
    set(Tissue::Heart, 60);
    set(Tissue::Blood, 30);
    set(Tissue::Bone, 40);
    set(Tissue::Marrow, 260);
    set(Tissue::Csf, 900);
    set(Tissue::Marker, 600);
    set(Tissue::LiverLesion, 520);
    set(Tissue::LungLesion, 300);
    set(Tissue::Node, 250);
    set(Tissue::FaintLesion, 175);
    set(Tissue::NodeVessel, 250);
    return v;
}

std::vector<Shape> sliceShapes(const TrialPlan& plan, const Subject& subject, int timepoint, double zScanner) {
    // The exam's pose: the body is drawn in its own coordinates, then rotated and shifted into
    // the scanner's; organs (and their lesions) move cranio-caudally with breathing.
    const Pose& pose = subject.timepoints.at(static_cast<std::size_t>(timepoint)).pose;
    const double z = zScanner - pose.dzMm;  // body z of this slice (the rotation is about z)
    const double zo = z - pose.breathingMm; // organ z
    std::vector<Shape> s;
    s.reserve(40);
    s.push_back({Shape::Rect, -210, 140, 420, 7, 0, Tissue::Table});
    // Body: skin/subcutaneous fat, abdominal wall muscle, then the cavity (fat).
    s.push_back(ellipse(0, 10, 165, 115, 0, Tissue::Fat));
    s.push_back(ellipse(0, 10, 150, 100, 0, Tissue::Muscle));
    s.push_back(ellipse(0, 10, 140, 90, 0, Tissue::Fat));
    // Lungs and heart above the diaphragm.
    if (zo > 20 && zo < 250) {
        const double g = std::sqrt(std::min(1.0, (zo - 20) / 40.0));
        s.push_back(ellipse(-75, 15, 60 * g, 85 * g, 0, Tissue::Lung));
        s.push_back(ellipse(75, 15, 60 * g, 85 * g, 0, Tissue::Lung));
    }
    if (const double h = profile(zo, 65, 45); h > 0) s.push_back(ellipse(15, -25, 55 * h, 45 * h, -20, Tissue::Heart));
    // Solid organs below it.
    if (const double f = profile(zo, -30, 60); f > 0) s.push_back(ellipse(-55, -5, 80 * f, 75 * f, 0, Tissue::Liver));
    if (const double f = profile(zo, -20, 40); f > 0) s.push_back(ellipse(85, 30, 35 * f, 28 * f, 30, Tissue::Spleen));
    if (const double f = profile(zo, -85, 45); f > 0) {
        s.push_back(ellipse(-70, 55, 28 * f, 22 * f, -30, Tissue::Kidney));
        s.push_back(ellipse(70, 55, 28 * f, 22 * f, 30, Tissue::Kidney));
    }
    // Great vessels, spine and back muscles along the whole range.
    s.push_back(ellipse(15, 50, 12, 12, 0, Tissue::Blood));
    if (z < 40) s.push_back(ellipse(-25, 45, 11, 11, 0, Tissue::Blood));
    s.push_back(ellipse(-35, 92, 22, 14, 0, Tissue::Muscle));
    s.push_back(ellipse(35, 92, 22, 14, 0, Tissue::Muscle));
    s.push_back(ellipse(0, 72, 20, 20, 0, Tissue::Bone));
    s.push_back(ellipse(0, 72, 17, 17, 0, Tissue::Marrow));
    s.push_back(ellipse(0, 97, 8, 8, 0, Tissue::Csf));
    // A radio-opaque skin marker on the patient's left (+x): left/right can be checked.
    s.push_back(ellipse(plan.leftMarkerXMm, 10, 2.5, 2.5, 0, Tissue::Marker));
    // Vessels touching lesions (phantom --hard-lesions): tubes along z, under the lesions.
    for (const Lesion& l : subject.lesions) {
        if (l.vesselRadiusMm <= 0) continue;
        const double lz = z - pose.breathingMm * breathingShare(l);
        // a node's vessel runs on along the retroperitoneum; a hepatic vein stays in the liver
        if (std::abs(lz - l.centerMm.z) > (l.kind == "liver_by_vein" ? 25 : 60)) continue;
        s.push_back(ellipse(l.centerMm.x + l.vesselOffsetMm.x, l.centerMm.y + l.vesselOffsetMm.y, l.vesselRadiusMm, l.vesselRadiusMm, 0,
                            l.kind == "node_by_vessel" ? Tissue::NodeVessel : Tissue::Blood));
    }
    // Lesions: ellipsoids, the axial cross-section shrinks away from the centre slice.
    for (const Lesion& l : subject.lesions) {
        const LesionState& st = l.states[static_cast<std::size_t>(timepoint)];
        if (!st.present || st.longTenthsMm <= 0) continue;
        const double c = st.ccTenthsMm / 20.0;
        const double f = profile(z - pose.breathingMm * breathingShare(l), l.centerMm.z, c);
        if (f <= 0) continue;
        s.push_back(ellipse(l.centerMm.x, l.centerMm.y, st.longTenthsMm / 20.0 * f, st.shortTenthsMm / 20.0 * f, l.angleDeg,
                            l.kind == "low_contrast" ? Tissue::FaintLesion : lesionTissue(l.site)));
    }
    if (pose.rotationDeg != 0 || pose.dxMm != 0 || pose.dyMm != 0) {
        const double a = pose.rotationDeg * kPi / 180, ca = std::cos(a), sa = std::sin(a);
        for (Shape& sh : s) {
            if (sh.kind == Shape::Rect) { // the table: only its height follows
                sh.cy += pose.dyMm;
                continue;
            }
            const double x = sh.cx, y = sh.cy;
            sh.cx = ca * x - sa * y + pose.dxMm;
            sh.cy = sa * x + ca * y + pose.dyMm;
            sh.angleRad += a;
        }
    }
    return s;
}

void rasterize(const std::vector<Shape>& shapes, const RasterGeometry& g, const TissueValues& values, double noiseSigma,
               std::uint64_t noiseKey, int minValue, int maxValue, std::uint16_t* out, bool partialVolume) {
    std::vector<std::int32_t> row(static_cast<std::size_t>(g.columns));
    std::vector<double> sub(partialVolume ? static_cast<std::size_t>(g.columns) : 0), acc(sub.size());
    const auto& gauss = gaussTable();
    const std::int32_t sigma16 = static_cast<std::int32_t>(std::lround(noiseSigma * 16.0)); // gauss is x16
    Rng rng(noiseKey);
    auto span = [](const Shape& sh, double y, double& x0, double& x1) {
        if (sh.kind == Shape::Rect) {
            if (y < sh.cy || y > sh.cy + sh.b) return false;
            x0 = sh.cx;
            x1 = sh.cx + sh.a;
            return true;
        }
        return ellipseSpan(sh, y, x0, x1);
    };
    constexpr int kSubRows = 4;
    for (int j = 0; j < g.rows; ++j) {
        const double y = g.originYMm + j * g.spacingYMm;
        if (!partialVolume) {
            std::fill(row.begin(), row.end(), values[static_cast<std::size_t>(Tissue::Air)]);
            for (const Shape& sh : shapes) {
                double x0, x1;
                if (!span(sh, y, x0, x1)) continue;
                // Pixels whose centre lies inside the span.
                const int i0 = std::max(0, static_cast<int>(std::ceil((x0 - g.originXMm) / g.spacingXMm)));
                const int i1 = std::min(g.columns - 1, static_cast<int>(std::floor((x1 - g.originXMm) / g.spacingXMm)));
                if (i0 > i1) continue;
                std::fill(row.begin() + i0, row.begin() + i1 + 1, values[static_cast<std::size_t>(sh.tissue)]);
            }
        } else {
            std::fill(acc.begin(), acc.end(), 0.0);
            for (int r = 0; r < kSubRows; ++r) {
                const double ys = y + ((r + 0.5) / kSubRows - 0.5) * g.spacingYMm;
                std::fill(sub.begin(), sub.end(), double(values[static_cast<std::size_t>(Tissue::Air)]));
                for (const Shape& sh : shapes) {
                    double x0, x1;
                    if (!span(sh, ys, x0, x1)) continue;
                    // In pixel units, pixel i covers [i - 0.5, i + 0.5].
                    const double u0 = (x0 - g.originXMm) / g.spacingXMm, u1 = (x1 - g.originXMm) / g.spacingXMm;
                    const int i0 = std::max(0, static_cast<int>(std::floor(u0 + 0.5)));
                    const int i1 = std::min(g.columns - 1, static_cast<int>(std::floor(u1 + 0.5)));
                    const double v = values[static_cast<std::size_t>(sh.tissue)];
                    for (int i = i0; i <= i1; ++i) {
                        const double cover = std::min(u1, i + 0.5) - std::max(u0, i - 0.5);
                        if (cover <= 0) continue;
                        double& px = sub[static_cast<std::size_t>(i)];
                        px = cover >= 1 ? v : px + cover * (v - px);
                    }
                }
                for (std::size_t i = 0; i < sub.size(); ++i) acc[i] += sub[i];
            }
            for (std::size_t i = 0; i < acc.size(); ++i) row[i] = static_cast<std::int32_t>(std::lround(acc[i] / kSubRows));
        }
        std::uint16_t* o = out + static_cast<std::size_t>(j) * static_cast<std::size_t>(g.columns);
        for (int i = 0; i < g.columns; i += 4) {
            std::uint64_t r = rng.next();
            for (int k = 0; k < 4 && i + k < g.columns; ++k, r >>= 16) {
                const std::int32_t noise = (gauss[r & 0xFFFF] * sigma16) / 256; // (g*16)*(sigma*16)/256
                o[i + k] = static_cast<std::uint16_t>(std::clamp(row[static_cast<std::size_t>(i + k)] + noise, minValue, maxValue));
            }
        }
    }
}

} // namespace phantom
