// One click, two axes. On the clicked slice, a region around the click is smoothed (ITK's
// recursive Gaussian, sigma one pixel); the lesion's value is the median around the click and
// its surroundings are sampled along 32 rays where the value first leaves the lesion's; the
// lesion is the connected region (ITK's ConnectedThreshold) between the half-way levels to the
// darker and the brighter surroundings, less the partial-volume rims of brighter neighbours in a
// darker surrounding (pixels of the band near both; see segmentSlice). A neighbour of the same
// density that is joined by a neck (a vessel touching a node) is cut off by an opening whose
// radius is half the lesion's inscribed radius; only the large pieces the opening removes are
// dropped, so the lesion's own border is untouched. The outline is ITK's sub-pixel iso-contour
// (marching squares) of the membership at the half-way level; the long axis is its maximum Feret
// diameter, the short axis its longest perpendicular chord. The same band then follows the lesion slice by slice
// (seeded at the previous slice's deepest point) to find the slice where it is longest.
#include "assist/Assist.h"

#include "Geometry2d.h"

#include <itkBinaryDilateImageFilter.h>
#include <itkBinaryMorphologicalOpeningImageFilter.h>
#include <itkConnectedComponentImageFilter.h>
#include <itkConnectedThresholdImageFilter.h>
#include <itkContourExtractor2DImageFilter.h>
#include <itkFlatStructuringElement.h>
#include <itkImage.h>
#include <itkSignedMaurerDistanceMapImageFilter.h>
#include <itkSmoothingRecursiveGaussianImageFilter.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <cstdio>
#include <map>

namespace assist {

P3 toIndex(const vc::Geometry& g, const P3& p) {
    const P3 d{p[0] - g.origin[0], p[1] - g.origin[1], p[2] - g.origin[2]};
    auto dot = [&d](const std::array<double, 3>& a) { return d[0] * a[0] + d[1] * a[1] + d[2] * a[2]; };
    return {dot(g.row) / g.spacing[0], dot(g.column) / g.spacing[1], dot(g.normal) / g.spacing[2]};
}

P3 toPatient(const vc::Geometry& g, const P3& ijk) {
    P3 p = g.origin;
    for (int a = 0; a < 3; ++a) {
        p[a] += ijk[0] * g.spacing[0] * g.row[a] + ijk[1] * g.spacing[1] * g.column[a] + ijk[2] * g.spacing[2] * g.normal[a];
    }
    return p;
}

int nearestSlice(const vc::Geometry& g, const P3& p) { return static_cast<int>(std::lround(toIndex(g, p)[2])); }

namespace {

using Img2 = itk::Image<float, 2>;
using Mask2 = itk::Image<unsigned char, 2>;
using Label2 = itk::Image<unsigned, 2>;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kSmoothingSigmaPx = 1.0;
// The outline's position comes from a lighter smoothing: a wider kernel pulls the half-way
// level inward at the lesion's ends (by about sigma^2 / 2 x the curvature).
constexpr double kOutlineSigmaPx = 0.5;
// Above this tolerance (4 x the smoothed noise, HU) an outline that fails says that the image is
// too noisy to see weaker edges (the phantom's CT: 7 HU; a low-dose CT with 30 HU noise: 34 HU).
constexpr double kNoisyBlindHu = 15.0;
// A blob whose disc-minus-ring difference is this many standard errors from zero is there (the
// faint-lesion message names its contrast); below it nothing stands out from the noise.
constexpr double kBlobZ = 5.0;
// A pixel of the band this close (px) to both darker and brighter surroundings is a neighbour's rim.
constexpr int kRimRadiusPx = 2;
// Noise of a Gaussian-smoothed white-noise image: sigma / (2 sqrt(pi) s) for a kernel of s px.
const double kSmoothedNoiseFactor = 1.0 / (2.0 * std::sqrt(3.14159265358979323846) * kSmoothingSigmaPx);

struct Roi {
    int i0 = 0, j0 = 0, w = 0, h = 0;
    int at(int i, int j) const { return j * w + i; }
};

Img2::Pointer makeImage(int w, int h) {
    auto img = Img2::New();
    Img2::RegionType region;
    region.SetSize({{static_cast<itk::SizeValueType>(w), static_cast<itk::SizeValueType>(h)}});
    img->SetRegions(region);
    img->Allocate();
    return img;
}

/// The slice's region, smoothed.
Img2::Pointer smoothedRoi(const vc::Volume& v, int k, const Roi& r, double sigmaPx = kSmoothingSigmaPx) {
    auto raw = makeImage(r.w, r.h);
    float* o = raw->GetBufferPointer();
    for (int j = 0; j < r.h; ++j) {
        for (int i = 0; i < r.w; ++i) o[r.at(i, j)] = v.at(r.i0 + i, r.j0 + j, k);
    }
    using Smooth = itk::SmoothingRecursiveGaussianImageFilter<Img2, Img2>;
    auto s = Smooth::New();
    s->SetNumberOfWorkUnits(1); // small images: threads cost more than they save
    s->SetInput(raw);
    s->SetSigma(sigmaPx);
    s->Update();
    Img2::Pointer out = s->GetOutput();
    out->DisconnectPipeline();
    return out;
}

/// Robust noise of the raw slice region (neighbour differences; edges are few).
double rawNoise(const vc::Volume& v, int k, const Roi& r) {
    std::vector<double> d;
    d.reserve(static_cast<std::size_t>(r.w * r.h));
    for (int j = 0; j < r.h; ++j) {
        for (int i = 0; i + 1 < r.w; ++i) d.push_back(std::abs(double(v.at(r.i0 + i + 1, r.j0 + j, k)) - v.at(r.i0 + i, r.j0 + j, k)));
    }
    if (d.empty()) return 1;
    std::nth_element(d.begin(), d.begin() + static_cast<long>(d.size() / 2), d.end());
    return std::max(0.5, 1.4826 * d[d.size() / 2] / std::sqrt(2.0));
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
    return v[v.size() / 2];
}

struct Band {
    double inside = 0, lo = -kInf, hi = kInf;
    double cnr = 0;
    double sigma = 1;     ///< smoothed noise
    double tolerance = 4; ///< how far (HU) a value may stray from `inside` and still be the lesion
    int raysEscaped = 0, rays = 0;
};

/// The lesion's value around the seed and the half-way levels to its surroundings.
Band estimateBand(const Img2* s, const Roi& r, int si, int sj, double radiusPx, double sigmaRaw) {
    Band b;
    b.sigma = std::max(0.3, sigmaRaw * kSmoothedNoiseFactor);
    const float* px = s->GetBufferPointer();
    std::vector<double> disc;
    const int rr = std::max(1, static_cast<int>(std::ceil(radiusPx)));
    for (int dj = -rr; dj <= rr; ++dj) {
        for (int di = -rr; di <= rr; ++di) {
            const int i = si + di, j = sj + dj;
            if (di * di + dj * dj > radiusPx * radiusPx || i < 0 || j < 0 || i >= r.w || j >= r.h) continue;
            disc.push_back(px[r.at(i, j)]);
        }
    }
    b.inside = median(disc);
    b.tolerance = std::max(4.0 * b.sigma, 4.0);
    const double t = b.tolerance;
    auto sample = [&](double x, double y) {
        const int i = static_cast<int>(std::lround(x)), j = static_cast<int>(std::lround(y));
        if (i < 0 || j < 0 || i >= r.w || j >= r.h) return std::numeric_limits<double>::quiet_NaN();
        return double(px[r.at(i, j)]);
    };
    std::vector<double> below, above;
    constexpr int kRays = 32;
    b.rays = kRays;
    for (int a = 0; a < kRays; ++a) {
        const double ang = 2 * 3.14159265358979323846 * a / kRays, dx = std::cos(ang), dy = std::sin(ang);
        bool found = false;
        for (double d = 0.5;; d += 0.5) {
            const double val = sample(si + d * dx, sj + d * dy);
            if (std::isnan(val)) break;
            if (std::abs(val - b.inside) <= t) continue;
            // Past the edge's ramp: the median of the next few pixels is the surroundings.
            std::vector<double> beyond;
            for (double e = d + 3.0; e <= d + 6.0; e += 0.5) {
                const double w = sample(si + e * dx, sj + e * dy);
                if (!std::isnan(w)) beyond.push_back(w);
            }
            if (beyond.empty()) break;
            const double bg = median(beyond);
            if (std::abs(bg - b.inside) <= t) continue; // a noise spike inside the lesion
            (bg < b.inside ? below : above).push_back(bg);
            found = true;
            break;
        }
        if (!found) ++b.raysEscaped;
    }
    double cnr = kInf;
    const std::size_t n = below.size() + above.size();
    if (!below.empty()) {
        const double m = median(below);
        b.lo = (b.inside + m) / 2;
        if (below.size() * 4 >= n) cnr = std::min(cnr, (b.inside - m) / b.sigma);
    }
    if (!above.empty()) {
        const double m = median(above);
        b.hi = (b.inside + m) / 2;
        if (above.size() * 4 >= n) cnr = std::min(cnr, (m - b.inside) / b.sigma);
    }
    b.cnr = n == 0 ? 0 : cnr;
    return b;
}

/// How much a round blob at (ci, cj) differs from its surroundings: the mean of a disc minus the
/// mean of the ring around it (radius r to 2r), at the radius where that difference stands out
/// most from the noise - the first such peak outward from the click. What a faint lesion's
/// refusal names ("about 12 HU"; a little less than the truth, as the ring of an elongated lesion
/// holds some of it): the band's own estimate cannot see an edge weaker than its tolerance.
struct BlobContrast {
    double hu = 0; ///< disc minus ring (signed)
    double z = 0;  ///< |hu| in standard errors of the difference
};

BlobContrast blobContrast(const vc::Volume& v, int k, const Roi& roi, int ci, int cj, double sx, double sy, double sigmaRaw) {
    BlobContrast best;
    const int maxRing = std::min({ci - roi.i0, roi.i0 + roi.w - 1 - ci, cj - roi.j0, roi.j0 + roi.h - 1 - cj});
    for (double rMm = 3.0;; rMm += 1.0) {
        const int outer = static_cast<int>(std::ceil(2 * rMm / std::min(sx, sy)));
        if (outer > maxRing) break;
        double sumIn = 0, sumRing = 0;
        std::size_t nIn = 0, nRing = 0;
        for (int dj = -outer; dj <= outer; ++dj) {
            for (int di = -outer; di <= outer; ++di) {
                const double d2 = (di * sx) * (di * sx) + (dj * sy) * (dj * sy); // mm^2
                if (d2 > 4 * rMm * rMm) continue;
                const double val = v.at(ci + di, cj + dj, k);
                if (d2 <= rMm * rMm) {
                    sumIn += val;
                    ++nIn;
                } else {
                    sumRing += val;
                    ++nRing;
                }
            }
        }
        if (nIn == 0 || nRing == 0) continue;
        const double hu = sumIn / nIn - sumRing / nRing;
        const double z = std::abs(hu) / (sigmaRaw * std::sqrt(1.0 / nIn + 1.0 / nRing));
        // The first blob that stands out, outward from the click: past the lesion's edge the
        // ring reaches other structures (fat, bowel), whose contrast is not the lesion's.
        if (best.z >= kBlobZ) {
            if (z <= best.z || (hu < 0) != (best.hu < 0)) break;
            best = {hu, z};
        } else if (z > best.z) {
            best = {hu, z};
        }
    }
    return best;
}

struct SliceSeg {
    bool ok = false;
    std::string why;
    bool touchesBorder = false, leakCut = false;
    double areaPx = 0;
    int deepI = 0, deepJ = 0; ///< the pixel farthest inside (next slice's seed)
    std::vector<plane::V2> outlinePx;
    std::vector<unsigned char> mask; ///< the lesion's pixels in the region of interest
    plane::Axes axesMm;
    double solidity = 1;
};

/// Keeps only the connected part of the mask holding the seed; false when the seed is not in it
/// (the mask is then empty).
bool keepSeedPart(Mask2* mask, const Roi& r, int si, int sj) {
    auto cc = itk::ConnectedComponentImageFilter<Mask2, Label2>::New();
    cc->SetNumberOfWorkUnits(1); // small images: threads cost more than they save
    cc->SetInput(mask);
    cc->SetFullyConnected(false);
    cc->Update();
    const unsigned* lab = cc->GetOutput()->GetBufferPointer();
    const unsigned keep = lab[r.at(si, sj)];
    unsigned char* m = mask->GetBufferPointer();
    for (std::size_t q = 0, n = static_cast<std::size_t>(r.w * r.h); q < n; ++q) m[q] = keep != 0 && lab[q] == keep;
    return keep != 0;
}

/// Pixels of the region of interest on slice k whose smoothed value is in the band.
std::vector<unsigned char> inBandPixels(const vc::Volume& v, int k, const Roi& r, const Band& band);

SliceSeg segmentSlice(const vc::Volume& v, int k, const Roi& r, int si, int sj, const Band& band,
                      const std::vector<unsigned char>* exclude = nullptr) {
    SliceSeg out;
    Img2::Pointer s = smoothedRoi(v, k, r);
    const float* px = s->GetBufferPointer();
    auto inBand = [&](double val) { return val > band.lo && val < band.hi; };
    if (si < 0 || sj < 0 || si >= r.w || sj >= r.h || !inBand(px[r.at(si, sj)])) {
        out.why = "the click is not inside the lesion on this slice";
        return out;
    }
    const std::size_t npx = static_cast<std::size_t>(r.w * r.h);
    // The partial-volume rim of a brighter neighbour lying in a darker surrounding (the aorta in
    // fat) passes through the lesion's band: a thin ring that joins the lesion where they touch.
    // A pixel of the band with both a darker and a brighter pixel of the surroundings within
    // kRimRadiusPx is on such a rim (the lesion's own edge has only one of them, except where the
    // three meet) and is kept out of the region.
    Img2::Pointer growInput = s;
    if (std::isfinite(band.lo) && std::isfinite(band.hi)) {
        auto darker = Mask2::New(), brighter = Mask2::New();
        for (auto* b : {darker.GetPointer(), brighter.GetPointer()}) {
            b->SetRegions(s->GetLargestPossibleRegion());
            b->Allocate();
        }
        unsigned char* dk = darker->GetBufferPointer();
        unsigned char* br = brighter->GetBufferPointer();
        for (std::size_t q = 0; q < npx; ++q) {
            dk[q] = px[q] <= band.lo;
            br[q] = px[q] >= band.hi;
        }
        using Kernel = itk::FlatStructuringElement<2>;
        using Dilate = itk::BinaryDilateImageFilter<Mask2, Mask2, Kernel>;
        Kernel::RadiusType rad;
        rad.Fill(kRimRadiusPx);
        const Kernel ball = Kernel::Ball(rad);
        auto near = [&](Mask2* in) {
            auto d = Dilate::New();
            d->SetNumberOfWorkUnits(1); // small images: threads cost more than they save
            d->SetInput(in);
            d->SetKernel(ball);
            d->SetForegroundValue(1);
            d->Update();
            Mask2::Pointer o = d->GetOutput();
            o->DisconnectPipeline();
            return o;
        };
        const Mask2::Pointer nearDark = near(darker), nearBright = near(brighter);
        const unsigned char* nd = nearDark->GetBufferPointer();
        const unsigned char* nb = nearBright->GetBufferPointer();
        bool any = false;
        for (std::size_t q = 0; q < npx && !any; ++q) any = nd[q] && nb[q] && inBand(px[q]);
        if (any) {
            growInput = makeImage(r.w, r.h);
            float* g = growInput->GetBufferPointer();
            for (std::size_t q = 0; q < npx; ++q) g[q] = nd[q] && nb[q] && inBand(px[q]) ? -std::numeric_limits<float>::max() : px[q];
        }
    }
    using Grow = itk::ConnectedThresholdImageFilter<Img2, Mask2>;
    auto grow = Grow::New();
    grow->SetNumberOfWorkUnits(1); // small images: threads cost more than they save
    grow->SetInput(growInput);
    grow->SetLower(static_cast<float>(std::max(band.lo, -1e30)));
    grow->SetUpper(static_cast<float>(std::min(band.hi, 1e30)));
    grow->SetReplaceValue(1);
    grow->AddSeed({{si, sj}});
    grow->Update();
    Mask2::Pointer region = grow->GetOutput();
    region->DisconnectPipeline();
    unsigned char* m = region->GetBufferPointer();
    if (exclude) {
        // A tube running through the slice (see measureAt): out, then the part holding the seed.
        for (std::size_t q = 0; q < npx; ++q) m[q] = m[q] && !(*exclude)[q];
        if (!keepSeedPart(region.GetPointer(), r, si, sj)) {
            out.why = "the click lies in a vessel running through the slice";
            return out;
        }
    }

    // The lesion's inscribed radius, then an opening of half of it: large pieces the opening
    // removes are a neighbour joined by a neck.
    using Dist = itk::SignedMaurerDistanceMapImageFilter<Mask2, Img2>;
    auto dist = Dist::New();
    dist->SetNumberOfWorkUnits(1); // small images: threads cost more than they save
    dist->SetInput(region);
    dist->SetInsideIsPositive(true);
    dist->SetSquaredDistance(false);
    dist->SetUseImageSpacing(false);
    dist->Update();
    const float* dm = dist->GetOutput()->GetBufferPointer();
    float inscribed = 0;
    for (std::size_t q = 0; q < npx; ++q) inscribed = std::max(inscribed, m[q] ? dm[q] : 0.f);
    double area = 0;
    for (std::size_t q = 0; q < npx; ++q) area += m[q];
    // Openings of growing radius (2 px up to 0.8 x the inscribed radius): the first that
    // leaves two or more real pieces (each at least half the opening disc) shows neighbours
    // joined by necks. Every pixel of the region then goes to the nearest piece (the neck is
    // split half-way) and the piece holding the seed (or nearest to it) is the lesion. Tips the
    // opening rounds off go back to the lesion, so its own border is untouched.
    using CC = itk::ConnectedComponentImageFilter<Mask2, Label2>;
    using Kernel = itk::FlatStructuringElement<2>;
    using Open = itk::BinaryMorphologicalOpeningImageFilter<Mask2, Mask2, Kernel>;
    // Only a region with a dent can hide a neck: its pixel count against the lattice area of
    // its convex hull (Pick: interior + boundary / 2 + 1).
    double solidityPx = 1;
    {
        std::vector<plane::V2> centres;
        for (int j = 0; j < r.h; ++j) {
            for (int i = 0; i < r.w; ++i) {
                if (m[r.at(i, j)]) centres.push_back({double(i), double(j)});
            }
        }
        const auto hull = plane::convexHull(centres);
        double perimeter = 0;
        for (std::size_t q = 0; q < hull.size(); ++q) {
            const auto& a = hull[q];
            const auto& b = hull[(q + 1) % hull.size()];
            perimeter += std::max(std::abs(a[0] - b[0]), std::abs(a[1] - b[1])); // lattice points on the edge
        }
        const double lattice = plane::area(hull) + perimeter / 2 + 1;
        solidityPx = lattice > 0 ? area / lattice : 1;
    }
    const int maxR = solidityPx >= 0.97 ? 0 : static_cast<int>(std::floor(0.8 * inscribed));
    for (int openR = 2; openR <= maxR && !out.leakCut; ++openR) {
        Kernel::RadiusType rad;
        rad.Fill(static_cast<itk::SizeValueType>(openR));
        auto open = Open::New();
        open->SetNumberOfWorkUnits(1); // small images: threads cost more than they save
        open->SetInput(region);
        open->SetKernel(Kernel::Ball(rad));
        open->SetForegroundValue(1);
        open->SetBackgroundValue(0);
        auto occ = CC::New();
        occ->SetNumberOfWorkUnits(1); // small images: threads cost more than they save
        occ->SetInput(open->GetOutput());
        occ->SetFullyConnected(false);
        occ->Update();
        const unsigned* ol = occ->GetOutput()->GetBufferPointer();
        std::map<unsigned, double> pieceArea;
        for (std::size_t q = 0; q < npx; ++q) {
            if (ol[q]) pieceArea[ol[q]] += 1;
        }
        const double minPiece = std::max(8.0, 0.5 * 3.14159 * openR * openR);
        int real = 0;
        for (const auto& [lab, a] : pieceArea) real += a >= minPiece;
        if (real < 2) {
            // One piece: what the opening removed is either the lesion's own rounded-off tips
            // (thin crescents) or a round neighbour smaller than the disc (a vessel in cross-
            // section, as thick as a third of the lesion): the latter is dropped.
            auto removed = Mask2::New();
            removed->SetRegions(region->GetLargestPossibleRegion());
            removed->Allocate(true);
            unsigned char* rm = removed->GetBufferPointer();
            const unsigned char* o = open->GetOutput()->GetBufferPointer();
            bool any = false;
            for (std::size_t q = 0; q < npx; ++q) {
                rm[q] = m[q] && !o[q];
                any = any || rm[q];
            }
            if (!any) continue;
            auto cc = CC::New();
            cc->SetNumberOfWorkUnits(1); // small images: threads cost more than they save
            cc->SetInput(removed);
            cc->SetFullyConnected(false);
            auto dd = Dist::New();
            dd->SetNumberOfWorkUnits(1); // small images: threads cost more than they save
            dd->SetInput(removed);
            dd->SetInsideIsPositive(true);
            dd->SetSquaredDistance(false);
            dd->SetUseImageSpacing(false);
            cc->Update();
            dd->Update();
            const unsigned* lab = cc->GetOutput()->GetBufferPointer();
            const float* dr = dd->GetOutput()->GetBufferPointer();
            std::map<unsigned, float> thick;
            for (std::size_t q = 0; q < npx; ++q) {
                if (lab[q]) thick[lab[q]] = std::max(thick[lab[q]], dr[q]);
            }
            const float minThick = std::max(2.5f, 0.35f * inscribed);
            for (std::size_t q = 0; q < npx; ++q) {
                if (lab[q] && thick[lab[q]] >= minThick) {
                    m[q] = 0;
                    out.leakCut = true;
                }
            }
            continue;
        }
        std::vector<std::array<int, 3>> edge; // boundary pixels of the real pieces: i, j, label
        for (int j = 0; j < r.h; ++j) {
            for (int i = 0; i < r.w; ++i) {
                const unsigned lab = ol[r.at(i, j)];
                if (!lab || pieceArea[lab] < minPiece) continue;
                const bool border = i == 0 || j == 0 || i == r.w - 1 || j == r.h - 1 || ol[r.at(i - 1, j)] != lab ||
                                    ol[r.at(i + 1, j)] != lab || ol[r.at(i, j - 1)] != lab || ol[r.at(i, j + 1)] != lab;
                if (border) edge.push_back({i, j, static_cast<int>(lab)});
            }
        }
        auto nearest = [&](int i, int j) {
            const unsigned own = ol[r.at(i, j)];
            if (own && pieceArea[own] >= minPiece) return own;
            long best = std::numeric_limits<long>::max();
            unsigned lab = 0;
            for (const auto& e : edge) {
                const long d = long(e[0] - i) * (e[0] - i) + long(e[1] - j) * (e[1] - j);
                if (d < best) {
                    best = d;
                    lab = static_cast<unsigned>(e[2]);
                }
            }
            return lab;
        };
        const unsigned keep = nearest(si, sj);
        for (int j = 0; j < r.h; ++j) {
            for (int i = 0; i < r.w; ++i) {
                const std::size_t q = static_cast<std::size_t>(r.at(i, j));
                if (m[q] && nearest(i, j) != keep) {
                    m[q] = 0;
                    out.leakCut = true;
                }
            }
        }
    }
    if (out.leakCut) {
        keepSeedPart(region.GetPointer(), r, si, sj);
    }
    area = 0;
    float deepest = -1;
    for (int j = 0; j < r.h; ++j) {
        for (int i = 0; i < r.w; ++i) {
            const std::size_t q = static_cast<std::size_t>(r.at(i, j));
            if (!m[q]) continue;
            area += 1;
            if (i == 0 || j == 0 || i == r.w - 1 || j == r.h - 1) out.touchesBorder = true;
            if (dm[q] > deepest) {
                deepest = dm[q];
                out.deepI = i;
                out.deepJ = j;
            }
        }
    }
    out.areaPx = area;
    if (area < 4) {
        out.why = "too small to outline (fewer than 4 pixels)";
        return out;
    }
    if (out.touchesBorder) {
        out.why = "no closed edge: the region reaches the border of the search area";
        return out;
    }
    // Membership at the half-way levels; pixels outside the region (cut-off neighbours, other
    // objects of the same value) are outside.
    auto mem = makeImage(r.w, r.h);
    float* mv = mem->GetBufferPointer();
    Img2::Pointer light = smoothedRoi(v, k, r, kOutlineSigmaPx);
    const float* lp = light->GetBufferPointer();
    for (std::size_t q = 0; q < npx; ++q) {
        const double val = lp[q];
        double f = 1;
        if (std::isfinite(band.lo)) f = std::min(f, 0.5 + 0.5 * (val - band.lo) / (band.inside - band.lo));
        if (std::isfinite(band.hi)) f = std::min(f, 0.5 + 0.5 * (band.hi - val) / (band.hi - band.inside));
        f = std::clamp(f, 0.0, 1.0);
        mv[q] = static_cast<float>(m[q] ? std::max(f, 0.5001) : std::min(f, 0.4999));
    }
    using Contour = itk::ContourExtractor2DImageFilter<Img2>;
    auto contour = Contour::New();
    contour->SetNumberOfWorkUnits(1); // small images: threads cost more than they save
    contour->SetInput(mem);
    contour->SetContourValue(0.5);
    contour->Update();
    const plane::V2 seed{double(si), double(sj)};
    double bestArea = -1;
    for (unsigned c = 0; c < contour->GetNumberOfIndexedOutputs(); ++c) {
        const auto* vertices = contour->GetOutput(c)->GetVertexList();
        std::vector<plane::V2> poly;
        poly.reserve(vertices->Size());
        for (unsigned q = 0; q < vertices->Size(); ++q) poly.push_back({vertices->ElementAt(q)[0], vertices->ElementAt(q)[1]});
        if (poly.size() < 3 || !plane::contains(poly, seed)) continue;
        const double a = plane::area(poly);
        if (a > bestArea) {
            bestArea = a;
            out.outlinePx = std::move(poly);
        }
    }
    if (out.outlinePx.empty()) {
        out.why = "no closed outline around the click";
        return out;
    }
    std::vector<plane::V2> mm;
    mm.reserve(out.outlinePx.size());
    for (const auto& p : out.outlinePx) mm.push_back({p[0] * v.geometry.spacing[0], p[1] * v.geometry.spacing[1]});
    out.axesMm = plane::recistAxes(mm);
    const double hullArea = plane::area(plane::convexHull(mm));
    out.solidity = hullArea > 0 ? plane::area(mm) / hullArea : 0;
    out.mask.assign(m, m + npx);
    out.ok = true;
    return out;
}

std::vector<unsigned char> inBandPixels(const vc::Volume& v, int k, const Roi& r, const Band& band) {
    Img2::Pointer s = smoothedRoi(v, k, r);
    const float* px = s->GetBufferPointer();
    std::vector<unsigned char> out(static_cast<std::size_t>(r.w * r.h));
    for (std::size_t q = 0; q < out.size(); ++q) out[q] = px[q] > band.lo && px[q] < band.hi;
    return out;
}

P3 roiToPatient(const vc::Geometry& g, const Roi& r, int k, const plane::V2& mm) {
    return toPatient(g, {r.i0 + mm[0] / g.spacing[0], r.j0 + mm[1] / g.spacing[1], double(k)});
}

} // namespace

Proposal measureAt(const vc::Volume& volume, const P3& click, const MeasureOptions& options) {
    const auto t0 = std::chrono::steady_clock::now();
    Proposal p;
    auto done = [&]() -> Proposal {
        p.millis = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        return p;
    };
    const vc::Geometry& g = volume.geometry;
    if (!g.ok || volume.voxels.size() < static_cast<std::size_t>(g.nx) * g.ny * g.nz || g.nx < 8 || g.ny < 8) {
        p.why = "the series is not a loaded volume";
        return done();
    }
    const P3 idx = toIndex(g, click);
    const int ci = static_cast<int>(std::lround(idx[0])), cj = static_cast<int>(std::lround(idx[1]));
    const int k0 = static_cast<int>(std::lround(idx[2]));
    if (ci < 0 || cj < 0 || k0 < 0 || ci >= g.nx || cj >= g.ny || k0 >= g.nz) {
        p.why = "the point is outside the series";
        return done();
    }
    const double sx = g.spacing[0], sy = g.spacing[1], sz = g.spacing[2];
    double half = std::max(options.roiHalfMm, options.hintLengthMm * 1.2);
    Roi roi;
    Band band;
    SliceSeg first;
    double sigmaRaw = 1;
    for (;;) {
        const int hx = static_cast<int>(std::ceil(half / sx)), hy = static_cast<int>(std::ceil(half / sy));
        roi.i0 = std::max(0, ci - hx);
        roi.j0 = std::max(0, cj - hy);
        roi.w = std::min(g.nx, ci + hx + 1) - roi.i0;
        roi.h = std::min(g.ny, cj + hy + 1) - roi.j0;
        Img2::Pointer s = smoothedRoi(volume, k0, roi);
        sigmaRaw = rawNoise(volume, k0, roi);
        const double seedRadiusPx = std::max(1.0, std::min(2.0, options.hintLengthMm > 0 ? options.hintLengthMm / 6 : 2.0) / sx);
        band = estimateBand(s.GetPointer(), roi, ci - roi.i0, cj - roi.j0, seedRadiusPx, sigmaRaw);
        first = segmentSlice(volume, k0, roi, ci - roi.i0, cj - roi.j0, band);
        const bool atImageEdge = roi.i0 == 0 || roi.j0 == 0 || roi.i0 + roi.w == g.nx || roi.j0 + roi.h == g.ny;
        if (first.touchesBorder && half < options.maxRoiHalfMm && !atImageEdge) {
            half = std::min(options.maxRoiHalfMm, half * 1.6);
            continue;
        }
        break;
    }
    p.cnr = std::isfinite(band.cnr) ? band.cnr : 0;
    p.slicesSearched = 1;
    // Contrast first: in a faint lesion the region also runs out into its surroundings, and
    // "too faint" is what the reader needs to hear then, not "no closed edge".
    if (!std::isfinite(band.cnr) || band.cnr < options.minCnr) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "contrast too low to outline reliably (%.1f x the noise; at least %.1f needed)", p.cnr,
                      options.minCnr);
        p.why = buf;
        return done();
    }
    // On a noisy image (a low-dose CT) the band must be wide to hold the lesion's own noise, and
    // an edge weaker than its half-width is not seen: a failure there says so, since a faint
    // lesion then fails as a region that runs on into its surroundings. When what was clicked
    // does stand out from the noise as a blob, but by less than that, the lesion is named as too
    // faint first, with its contrast.
    auto noiseNote = [&](std::string why) {
        if (band.tolerance < kNoisyBlindHu) return why;
        char buf[320];
        const BlobContrast blob = blobContrast(volume, k0, roi, ci, cj, sx, sy, sigmaRaw);
        if (blob.z >= kBlobZ && std::abs(blob.hu) < band.tolerance) {
            std::snprintf(buf, sizeof buf,
                          "too faint to outline on this noisy image: it differs from its surroundings by about %.0f HU, and "
                          "the outline cannot follow an edge weaker than %.0f HU here; ",
                          std::abs(blob.hu), band.tolerance);
            return buf + why;
        }
        std::snprintf(buf, sizeof buf, "; on this noisy image the outline cannot follow an edge weaker than %.0f HU", band.tolerance);
        return why + buf;
    };
    if (!first.ok) {
        p.why = noiseNote(first.why);
        return done();
    }
    // The slice search: follow the lesion up and down with the same band.
    auto score = [&](const SliceSeg& s) { return options.node ? s.axesMm.shortMm : s.axesMm.longMm; };
    int bestK = k0;
    SliceSeg best = first;
    const int maxSteps = static_cast<int>(std::floor(options.searchHalfMm / sz));
    for (int dir : {+1, -1}) {
        SliceSeg prev = first;
        const double maxArea = first.areaPx;
        double peak = maxArea;
        for (int step = 1; step <= maxSteps; ++step) {
            const int k = k0 + dir * step;
            if (k < 0 || k >= g.nz) break;
            SliceSeg s = segmentSlice(volume, k, roi, prev.deepI, prev.deepJ, band);
            ++p.slicesSearched;
            // Stops where the lesion ends (the seed leaves it, or it shrinks below a fifth of its
            // largest section) or at a jump no ellipsoid makes between two slices (a leak).
            if (!s.ok || s.areaPx < 0.2 * peak || s.areaPx > 4.0 * prev.areaPx + 50) break;
            peak = std::max(peak, s.areaPx);
            if (score(s) > score(best) + 1e-9) {
                best = s;
                bestK = k;
            }
            prev = std::move(s);
        }
    }
    // A vessel of the lesion's density joined to it on this slice runs on far above and below,
    // where the lesion has ended: pixels in the band both 0.75 x the long axis (at least 8 mm)
    // above and below are a tube, not the lesion. Taken out unless they are most of it (a lesion
    // longer cranio-caudally than across).
    {
        const int d = static_cast<int>(std::lround(std::max(8.0, 0.75 * best.axesMm.longMm) / sz));
        if (bestK - d >= 0 && bestK + d < g.nz) {
            const auto above = inBandPixels(volume, bestK + d, roi, band), below = inBandPixels(volume, bestK - d, roi, band);
            std::vector<unsigned char> tube(best.mask.size());
            std::size_t nTube = 0, nLesion = 0;
            for (std::size_t q = 0; q < tube.size(); ++q) {
                tube[q] = best.mask[q] && above[q] && below[q];
                nTube += tube[q];
                nLesion += best.mask[q];
            }
            if (nTube >= 4 && nTube * 2 < nLesion) {
                const auto deep = best;
                SliceSeg cut = segmentSlice(volume, bestK, roi, deep.deepI, deep.deepJ, band, &tube);
                ++p.slicesSearched;
                if (cut.ok) best = std::move(cut);
            }
        }
    }
    if (best.solidity < 0.8) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "the outline is not compact (solidity %.2f): it likely runs into a neighbouring structure",
                      best.solidity);
        p.why = noiseNote(buf);
        return done();
    }
    p.slice = bestK;
    p.longMm = best.axesMm.longMm;
    p.shortMm = best.axesMm.shortMm;
    p.longAxis = {roiToPatient(g, roi, bestK, best.axesMm.longA), roiToPatient(g, roi, bestK, best.axesMm.longB)};
    p.shortAxis = {roiToPatient(g, roi, bestK, best.axesMm.shortA), roiToPatient(g, roi, bestK, best.axesMm.shortB)};
    p.outline.reserve(best.outlinePx.size());
    for (const auto& q : best.outlinePx) p.outline.push_back(toPatient(g, {roi.i0 + q[0], roi.j0 + q[1], double(bestK)}));
    p.confident = true;
    return done();
}

Proposal measureAlong(const vc::Volume& volume, const P3& a, const P3& b, MeasureOptions options) {
    const double len = std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
    options.hintLengthMm = len;
    return measureAt(volume, {(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2}, options);
}

} // namespace assist
