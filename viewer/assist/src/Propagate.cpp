// The prior lesion found on the new scan. The global stage registers the current series
// (moving) to the prior one (fixed) on images shrunk to about 4 mm (ITK's BinShrink): a coarse
// start from the body's centroid and a cranio-caudal shift found by correlating per-slice
// profiles (body area and mean value), then a rigid (Euler) and an affine stage with ITK's
// RegistrationMethodsv4 (mean squares, regular-step gradient descent, two levels). The local
// stage resamples the current scan into the prior's geometry around one lesion through the
// global transform, searches a translation exhaustively (3 mm steps, +-12 mm: breathing moves
// organs against the skeleton) and refines it by gradient descent.
#include "assist/Assist.h"

#include <itkAffineTransform.h>
#include <itkBinShrinkImageFilter.h>
#include <itkBinaryDilateImageFilter.h>
#include <itkBinaryThresholdImageFilter.h>
#include <itkConnectedComponentImageFilter.h>
#include <itkFlatStructuringElement.h>
#include <itkImageMaskSpatialObject.h>
#include <itkRelabelComponentImageFilter.h>
#include <itkEuler3DTransform.h>
#include <itkExhaustiveOptimizerv4.h>
#include <itkImage.h>
#include <itkImageRegistrationMethodv4.h>
#include <itkImportImageFilter.h>
#include <itkLinearInterpolateImageFunction.h>
#include <itkMeanSquaresImageToImageMetricv4.h>
#include <itkRegionOfInterestImageFilter.h>
#include <itkRegularStepGradientDescentOptimizerv4.h>
#include <itkResampleImageFilter.h>
#include <itkTranslationTransform.h>

#include <chrono>
#include <limits>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace assist {
namespace {

using Short3 = itk::Image<short, 3>;
using Float3 = itk::Image<float, 3>;
using Affine = itk::AffineTransform<double, 3>;

double nowMs() { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

/// The volume as an ITK image, without copying its voxels.
Short3::Pointer wrap(const vc::Volume& v) {
    const vc::Geometry& g = v.geometry;
    using Import = itk::ImportImageFilter<short, 3>;
    auto imp = Import::New();
    Import::SizeType size;
    size[0] = static_cast<itk::SizeValueType>(g.nx);
    size[1] = static_cast<itk::SizeValueType>(g.ny);
    size[2] = static_cast<itk::SizeValueType>(g.nz);
    Import::RegionType region;
    region.SetSize(size);
    imp->SetRegion(region);
    double origin[3] = {g.origin[0], g.origin[1], g.origin[2]};
    imp->SetOrigin(origin);
    double spacing[3] = {g.spacing[0], g.spacing[1], g.spacing[2]};
    imp->SetSpacing(spacing);
    Short3::DirectionType dir;
    for (int a = 0; a < 3; ++a) {
        dir[a][0] = g.row[a];
        dir[a][1] = g.column[a];
        dir[a][2] = g.normal[a];
    }
    imp->SetDirection(dir);
    imp->SetImportPointer(const_cast<short*>(v.voxels.data()), v.voxels.size(), false);
    imp->Update();
    Short3::Pointer out = imp->GetOutput();
    out->DisconnectPipeline();
    return out;
}

Float3::Pointer shrink(const Short3* img, double targetMm, double targetZMm) {
    using Shrink = itk::BinShrinkImageFilter<Short3, Float3>;
    auto s = Shrink::New();
    s->SetInput(img);
    const auto sp = img->GetSpacing();
    Shrink::ShrinkFactorsType f;
    f[0] = std::max(1u, static_cast<unsigned>(std::lround(targetMm / sp[0])));
    f[1] = std::max(1u, static_cast<unsigned>(std::lround(targetMm / sp[1])));
    f[2] = std::max(1u, static_cast<unsigned>(std::lround(targetZMm / sp[2])));
    s->SetShrinkFactors(f);
    s->Update();
    Float3::Pointer out = s->GetOutput();
    out->DisconnectPipeline();
    return out;
}

constexpr float kBody = -500.f;

struct Profile {
    std::vector<double> z, area, mean;
};

/// Per slice (along the normal): patient z of the slice, body area and mean value in the body.
Profile profile(const Float3* img) {
    Profile p;
    const auto size = img->GetLargestPossibleRegion().GetSize();
    const float* v = img->GetBufferPointer();
    for (unsigned k = 0; k < size[2]; ++k) {
        double n = 0, sum = 0;
        for (unsigned q = 0; q < size[0] * size[1]; ++q) {
            const float x = v[k * size[0] * size[1] + q];
            if (x > kBody) {
                n += 1;
                sum += x;
            }
        }
        Float3::PointType pt;
        img->TransformIndexToPhysicalPoint({{0, 0, static_cast<itk::IndexValueType>(k)}}, pt);
        p.z.push_back(pt[2]);
        p.area.push_back(n);
        p.mean.push_back(n > 0 ? sum / n : 0);
    }
    return p;
}

/// Linear interpolation of a profile on a 1 mm grid starting at z0.
std::vector<double> onGrid(const std::vector<double>& z, const std::vector<double>& val, double z0, int n) {
    std::vector<double> out(static_cast<std::size_t>(n), std::numeric_limits<double>::quiet_NaN());
    // z may run either way along the normal.
    std::vector<std::pair<double, double>> pts;
    for (std::size_t i = 0; i < z.size(); ++i) pts.push_back({z[i], val[i]});
    std::sort(pts.begin(), pts.end());
    for (int i = 0; i < n; ++i) {
        const double zz = z0 + i;
        auto it = std::lower_bound(pts.begin(), pts.end(), std::make_pair(zz, -1e300));
        if (it == pts.begin() || it == pts.end()) continue;
        const auto& b = *it;
        const auto& a = *(it - 1);
        const double f = (zz - a.first) / (b.first - a.first);
        out[static_cast<std::size_t>(i)] = a.second + f * (b.second - a.second);
    }
    return out;
}

double ncc(const std::vector<double>& a, const std::vector<double>& b, int shift, int& overlap) {
    double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    int n = 0;
    for (int i = 0; i < static_cast<int>(a.size()); ++i) {
        const int j = i + shift;
        if (j < 0 || j >= static_cast<int>(b.size())) continue;
        const double x = a[static_cast<std::size_t>(i)], y = b[static_cast<std::size_t>(j)];
        if (std::isnan(x) || std::isnan(y)) continue;
        sa += x;
        sb += y;
        saa += x * x;
        sbb += y * y;
        sab += x * y;
        ++n;
    }
    overlap = n;
    if (n < 10) return -1;
    const double va = saa - sa * sa / n, vb = sbb - sb * sb / n;
    if (va <= 0 || vb <= 0) return -1;
    return (sab - sa * sb / n) / std::sqrt(va * vb);
}

/// The cranio-caudal shift (current z - prior z, mm) that best lines up the two profiles.
double zShift(const Profile& prior, const Profile& current) {
    auto range = [](const std::vector<double>& z) {
        return std::make_pair(*std::min_element(z.begin(), z.end()), *std::max_element(z.begin(), z.end()));
    };
    const auto [p0, p1] = range(prior.z);
    const auto [c0, c1] = range(current.z);
    const int np = static_cast<int>(p1 - p0) + 1, nc = static_cast<int>(c1 - c0) + 1;
    const auto pa = onGrid(prior.z, prior.area, p0, np), pm = onGrid(prior.z, prior.mean, p0, np);
    const auto ca = onGrid(current.z, current.area, c0, nc), cm = onGrid(current.z, current.mean, c0, nc);
    const int minOverlap = std::min(np, nc) / 2;
    double best = -1e9;
    int bestS = 0;
    // Prior grid index i (z = p0 + i) matches current index i + s (z = c0 + i + s).
    for (int s = -np; s <= nc; ++s) {
        int o1 = 0, o2 = 0;
        const double score = ncc(pa, ca, s, o1) + ncc(pm, cm, s, o2);
        if (std::min(o1, o2) < minOverlap) continue;
        if (score > best) {
            best = score;
            bestS = s;
        }
    }
    if (best <= -1e9) throw std::runtime_error("the two series do not overlap along the body");
    return c0 - p0 + bestS;
}

using Mask3 = itk::Image<unsigned char, 3>;
using MaskObject = itk::ImageMaskSpatialObject<3>;

/// The body: the largest connected part above -500, slightly dilated - without the table,
/// which stays with the scanner while the patient moves and would pin the registration.
Mask3::Pointer bodyMask(const Float3* img) {
    using Threshold = itk::BinaryThresholdImageFilter<Float3, Mask3>;
    auto th = Threshold::New();
    th->SetInput(img);
    th->SetLowerThreshold(kBody);
    th->SetInsideValue(1);
    th->SetOutsideValue(0);
    using Label3 = itk::Image<unsigned, 3>;
    auto cc = itk::ConnectedComponentImageFilter<Mask3, Label3>::New();
    cc->SetInput(th->GetOutput());
    cc->SetFullyConnected(false);
    auto relabel = itk::RelabelComponentImageFilter<Label3, Label3>::New();
    relabel->SetInput(cc->GetOutput());
    auto largest = itk::BinaryThresholdImageFilter<Label3, Mask3>::New();
    largest->SetInput(relabel->GetOutput());
    largest->SetLowerThreshold(1);
    largest->SetUpperThreshold(1);
    largest->SetInsideValue(1);
    largest->SetOutsideValue(0);
    using Kernel = itk::FlatStructuringElement<3>;
    Kernel::RadiusType rad;
    rad.Fill(1);
    auto dilate = itk::BinaryDilateImageFilter<Mask3, Mask3, Kernel>::New();
    dilate->SetInput(largest->GetOutput());
    dilate->SetKernel(Kernel::Box(rad));
    dilate->SetForegroundValue(1);
    dilate->Update();
    Mask3::Pointer out = dilate->GetOutput();
    out->DisconnectPipeline();
    return out;
}

/// Body centroid (voxels above -500) over the slab zLo..zHi of patient z.
itk::Point<double, 3> centroid(const Float3* img, const Mask3* body, double zLo, double zHi) {
    const auto size = img->GetLargestPossibleRegion().GetSize();
    const float* v = img->GetBufferPointer();
    double n = 0, s[3] = {0, 0, 0};
    itk::Index<3> idx;
    for (unsigned k = 0; k < size[2]; ++k) {
        for (unsigned j = 0; j < size[1]; ++j) {
            for (unsigned i = 0; i < size[0]; ++i) {
                const std::size_t q = (k * size[1] + j) * size[0] + i;
                if (v[q] <= kBody || !body->GetBufferPointer()[q]) continue;
                idx = {{static_cast<itk::IndexValueType>(i), static_cast<itk::IndexValueType>(j), static_cast<itk::IndexValueType>(k)}};
                Float3::PointType pt;
                img->TransformIndexToPhysicalPoint(idx, pt);
                if (pt[2] < zLo || pt[2] > zHi) continue;
                n += 1;
                for (int a = 0; a < 3; ++a) s[a] += pt[a];
            }
        }
    }
    if (n == 0) throw std::runtime_error("no body (nothing above -500) in the overlapping slab");
    itk::Point<double, 3> c;
    for (int a = 0; a < 3; ++a) c[a] = s[a] / n;
    return c;
}

template <class Transform>
void runRegistration(const Float3* fixed, const Float3* moving, Transform* transform, int iterations, double step, bool twoLevels,
                     double sampling = 0.3, const MaskObject* fixedMask = nullptr) {
    using Metric = itk::MeanSquaresImageToImageMetricv4<Float3, Float3>;
    using Optimizer = itk::RegularStepGradientDescentOptimizerv4<double>;
    using Method = itk::ImageRegistrationMethodv4<Float3, Float3, Transform>;
    auto metric = Metric::New();
    if (fixedMask) metric->SetFixedImageMask(fixedMask);
    auto optimizer = Optimizer::New();
    optimizer->SetLearningRate(step);
    optimizer->SetMinimumStepLength(0.01);
    optimizer->SetRelaxationFactor(0.6);
    optimizer->SetNumberOfIterations(static_cast<itk::SizeValueType>(iterations));
    optimizer->SetGradientMagnitudeTolerance(1e-6);
    // Scales by hand (ITK's estimator samples the whole domain and took most of the time):
    // rotation and matrix parameters move points by about their value times the body's radius
    // (150 mm), translations by their value in mm.
    const unsigned np = transform->GetNumberOfParameters();
    typename Optimizer::ScalesType scales(np);
    scales.Fill(1.0);
    if (np > 3) {
        for (unsigned q = np - 3; q < np; ++q) scales[q] = 1.0 / (150.0 * 150.0);
    }
    optimizer->SetScales(scales);
    auto method = Method::New();
    method->SetFixedImage(fixed);
    method->SetMovingImage(moving);
    method->SetMetric(metric);
    method->SetOptimizer(optimizer);
    method->SetInitialTransform(transform);
    method->InPlaceOn();
    method->SetMetricSamplingStrategy(Method::MetricSamplingStrategyEnum::REGULAR);
    method->SetMetricSamplingPercentage(sampling);
    typename Method::ShrinkFactorsArrayType shrinkFactors;
    typename Method::SmoothingSigmasArrayType sigmas;
    if (twoLevels) {
        shrinkFactors.SetSize(2);
        shrinkFactors[0] = 2;
        shrinkFactors[1] = 1;
        sigmas.SetSize(2);
        sigmas[0] = 1;
        sigmas[1] = 0;
    } else {
        shrinkFactors.SetSize(1);
        shrinkFactors[0] = 1;
        sigmas.SetSize(1);
        sigmas[0] = 0;
    }
    method->SetNumberOfLevels(shrinkFactors.Size());
    method->SetShrinkFactorsPerLevel(shrinkFactors);
    method->SetSmoothingSigmasPerLevel(sigmas);
    method->Update();
}

} // namespace

struct Registration::Impl {
    const vc::Volume* prior = nullptr;
    const vc::Volume* current = nullptr;
    Short3::Pointer priorImg, currentImg;
    Affine::Pointer affine;
    double globalMs = 0;
    std::string summary;
};

Registration::Registration(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Registration::~Registration() = default;
Registration::Registration(Registration&&) noexcept = default;
Registration& Registration::operator=(Registration&&) noexcept = default;
double Registration::globalMillis() const { return impl_->globalMs; }
std::string Registration::summary() const { return impl_->summary; }

Registration Registration::global(const vc::Volume& prior, const vc::Volume& current) {
    const double t0 = nowMs();
    for (const vc::Volume* v : {&prior, &current}) {
        const auto& g = v->geometry;
        if (!g.ok || v->voxels.size() < static_cast<std::size_t>(g.nx) * g.ny * g.nz || g.nz < 4) {
            throw std::runtime_error("a series is not a loaded volume of at least 4 slices");
        }
    }
    auto impl = std::make_unique<Impl>();
    impl->prior = &prior;
    impl->current = &current;
    impl->priorImg = wrap(prior);
    impl->currentImg = wrap(current);
    Float3::Pointer fixed = shrink(impl->priorImg, 6.0, 6.0);
    Float3::Pointer moving = shrink(impl->currentImg, 6.0, 6.0);

    // Coarse start: the z shift from the profiles (axial series), then the centroids of the
    // body over the slab both scans cover.
    const bool axial = std::abs(prior.geometry.normal[2]) > 0.9 && std::abs(current.geometry.normal[2]) > 0.9;
    const Profile pp = profile(fixed), cp = profile(moving);
    const double dz = axial ? zShift(pp, cp) : 0.0;
    auto zr = [](const Profile& p) {
        return std::make_pair(*std::min_element(p.z.begin(), p.z.end()), *std::max_element(p.z.begin(), p.z.end()));
    };
    const auto [pz0, pz1] = zr(pp);
    const auto [cz0, cz1] = zr(cp);
    const double lo = std::max(pz0, cz0 - dz), hi = std::min(pz1, cz1 - dz);
    const Mask3::Pointer priorBody = bodyMask(fixed), currentBody = bodyMask(moving);
    const auto cPrior = centroid(fixed, priorBody, lo, hi);
    const auto cCurrent = centroid(moving, currentBody, lo + dz, hi + dz);
    auto fixedMask = MaskObject::New();
    fixedMask->SetImage(priorBody);
    fixedMask->Update();

    auto euler = itk::Euler3DTransform<double>::New();
    euler->SetCenter(cPrior);
    itk::Euler3DTransform<double>::OutputVectorType tr;
    tr[0] = cCurrent[0] - cPrior[0];
    tr[1] = cCurrent[1] - cPrior[1];
    tr[2] = axial ? dz : cCurrent[2] - cPrior[2];
    euler->SetTranslation(tr);
    // Patients lie a few degrees rotated: the coarse start also tries rotations about z
    // (-10..10 degrees by 1) on the shrunken images and keeps the best.
    {
        using Metric = itk::MeanSquaresImageToImageMetricv4<Float3, Float3>;
        auto metric = Metric::New();
        metric->SetFixedImage(fixed);
        metric->SetMovingImage(moving);
        auto probe = itk::Euler3DTransform<double>::New();
        probe->SetCenter(cPrior);
        probe->SetTranslation(tr);
        metric->SetMovingTransform(probe);
        metric->SetFixedImageMask(fixedMask);
        metric->Initialize();
        double best = std::numeric_limits<double>::max(), bestAngle = 0;
        for (int deg = -10; deg <= 10; ++deg) {
            probe->SetRotation(0, 0, deg * 3.14159265358979323846 / 180);
            const double v = metric->GetValue();
            if (v < best) {
                best = v;
                bestAngle = deg * 3.14159265358979323846 / 180;
            }
        }
        euler->SetRotation(0, 0, bestAngle);
    }
    const double t1 = nowMs();
    runRegistration(fixed.GetPointer(), moving.GetPointer(), euler.GetPointer(), 60, 2.0, true, 0.1, fixedMask.GetPointer());
    const double t2 = nowMs();
    auto affine = Affine::New();
    affine->SetCenter(euler->GetCenter());
    affine->SetMatrix(euler->GetMatrix());
    affine->SetTranslation(euler->GetTranslation());
    runRegistration(fixed.GetPointer(), moving.GetPointer(), affine.GetPointer(), 20, 1.0, false, 0.1, fixedMask.GetPointer());
    impl->affine = affine;
    impl->globalMs = nowMs() - t0;
    std::ostringstream s;
    s.precision(4);
    s << "coarse shift (" << tr[0] << ", " << tr[1] << ", " << tr[2] << ") mm in " << (t1 - t0) << " ms; rigid rotation ("
      << euler->GetAngleX() * 57.2958 << ", " << euler->GetAngleY() * 57.2958 << ", " << euler->GetAngleZ() * 57.2958 << ") deg, shift ("
      << euler->GetTranslation()[0] << ", " << euler->GetTranslation()[1] << ", " << euler->GetTranslation()[2] << ") mm in " << (t2 - t1)
      << " ms; affine in " << (nowMs() - t2) << " ms";
    impl->summary = s.str();
    return Registration(std::move(impl));
}

P3 Registration::mapGlobal(const P3& p) const {
    Affine::InputPointType in;
    for (int a = 0; a < 3; ++a) in[a] = p[a];
    const auto out = impl_->affine->TransformPoint(in);
    return {out[0], out[1], out[2]};
}

P3 Registration::mapLocal(const P3& p, double radiusMm) const {
    const P3 g = mapGlobal(p);
    // The prior's block around the lesion, shrunk in-plane to about 1.5 mm.
    const Short3* prior = impl_->priorImg.GetPointer();
    const double zRadius = std::max(15.0, 0.6 * radiusMm);
    Short3::PointType lo, hi;
    Short3::IndexType i0, i1;
    for (int a = 0; a < 3; ++a) {
        lo[a] = p[a] - (a == 2 ? zRadius : radiusMm);
        hi[a] = p[a] + (a == 2 ? zRadius : radiusMm);
    }
    prior->TransformPhysicalPointToIndex(lo, i0);
    prior->TransformPhysicalPointToIndex(hi, i1);
    Short3::RegionType block;
    const auto whole = prior->GetLargestPossibleRegion();
    for (unsigned a = 0; a < 3; ++a) {
        const auto a0 = std::max<itk::IndexValueType>(whole.GetIndex(a), std::min(i0[a], i1[a]));
        const auto a1 = std::min<itk::IndexValueType>(whole.GetIndex(a) + static_cast<itk::IndexValueType>(whole.GetSize(a)) - 1,
                                                      std::max(i0[a], i1[a]));
        if (a1 - a0 < 4) return g; // the lesion's block is (almost) outside the prior series
        block.SetIndex(a, a0);
        block.SetSize(a, static_cast<itk::SizeValueType>(a1 - a0 + 1));
    }
    using Roi = itk::RegionOfInterestImageFilter<Short3, Short3>;
    auto roi = Roi::New();
    roi->SetInput(prior);
    roi->SetRegionOfInterest(block);
    roi->Update();
    Float3::Pointer fixed = shrink(roi->GetOutput(), 2.0, 0.0);
    // The current scan in the prior block's geometry (with a margin for the search), through
    // the global transform.
    using Resample = itk::ResampleImageFilter<Short3, Float3>;
    auto rs = Resample::New();
    rs->SetInput(impl_->currentImg);
    rs->SetTransform(impl_->affine);
    const double margin = 15.0;
    Float3::PointType origin = fixed->GetOrigin();
    auto size = fixed->GetLargestPossibleRegion().GetSize();
    const auto sp = fixed->GetSpacing();
    const auto& dir = fixed->GetDirection();
    unsigned extra[3];
    for (unsigned a = 0; a < 3; ++a) extra[a] = static_cast<unsigned>(std::ceil(margin / sp[a]));
    for (unsigned a = 0; a < 3; ++a) {
        for (unsigned r = 0; r < 3; ++r) origin[r] -= dir[r][a] * sp[a] * extra[a];
        size[a] += 2 * extra[a];
    }
    rs->SetOutputOrigin(origin);
    rs->SetOutputSpacing(sp);
    rs->SetOutputDirection(dir);
    rs->SetSize(size);
    rs->SetDefaultPixelValue(-1024);
    rs->Update();
    Float3::Pointer moving = rs->GetOutput();

    using Metric = itk::MeanSquaresImageToImageMetricv4<Float3, Float3>;
    using Translation = itk::TranslationTransform<double, 3>;
    auto t = Translation::New();
    t->SetIdentity();
    auto metric = Metric::New();
    metric->SetFixedImage(fixed);
    metric->SetMovingImage(moving);
    metric->SetMovingTransform(t);
    metric->Initialize();
    // Exhaustive: 3 mm steps.
    using Exhaustive = itk::ExhaustiveOptimizerv4<double>;
    auto ex = Exhaustive::New();
    Exhaustive::StepsType steps(3);
    steps[0] = steps[1] = 3; // +-9 mm in-plane
    steps[2] = 4;            // +-12 mm cranio-caudally (breathing)
    ex->SetNumberOfSteps(steps);
    ex->SetStepLength(3.0);
    Exhaustive::ScalesType scales(3);
    scales.Fill(1.0);
    ex->SetScales(scales);
    ex->SetMetric(metric);
    ex->StartOptimization();
    t->SetParameters(ex->GetMinimumMetricValuePosition());
    // Refinement.
    runRegistration(fixed.GetPointer(), moving.GetPointer(), t.GetPointer(), 40, 1.0, false, 0.5);
    const auto off = t->GetOffset();
    return mapGlobal({p[0] + off[0], p[1] + off[1], p[2] + off[2]});
}

} // namespace assist
