#include "Geometry2d.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace assist::plane {

double area(const std::vector<V2>& p) {
    double a = 0;
    for (std::size_t i = 0, n = p.size(); i < n; ++i) {
        const V2& u = p[i];
        const V2& v = p[(i + 1) % n];
        a += u[0] * v[1] - v[0] * u[1];
    }
    return std::abs(a) / 2;
}

std::vector<V2> convexHull(std::vector<V2> pts) {
    std::sort(pts.begin(), pts.end());
    pts.erase(std::unique(pts.begin(), pts.end()), pts.end());
    if (pts.size() < 3) return pts;
    auto cross = [](const V2& o, const V2& a, const V2& b) { return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]); };
    std::vector<V2> h(2 * pts.size());
    std::size_t k = 0;
    for (const V2& p : pts) {
        while (k >= 2 && cross(h[k - 2], h[k - 1], p) <= 0) --k;
        h[k++] = p;
    }
    for (std::size_t i = pts.size() - 1, t = k + 1; i-- > 0;) {
        while (k >= t && cross(h[k - 2], h[k - 1], pts[i]) <= 0) --k;
        h[k++] = pts[i];
    }
    h.resize(k - 1);
    return h;
}

bool contains(const std::vector<V2>& poly, const V2& p) {
    bool in = false;
    for (std::size_t i = 0, j = poly.size() - 1; i < poly.size(); j = i++) {
        const V2& a = poly[i];
        const V2& b = poly[j];
        if ((a[1] > p[1]) != (b[1] > p[1]) && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0]) in = !in;
    }
    return in;
}

Axes recistAxes(const std::vector<V2>& poly) {
    Axes r;
    if (poly.size() < 3) return r;
    // Long axis: the farthest pair of outline vertices (the Feret maximum lies on the hull).
    const std::vector<V2> hull = convexHull(poly);
    double best = -1;
    for (std::size_t i = 0; i < hull.size(); ++i) {
        for (std::size_t j = i + 1; j < hull.size(); ++j) {
            const double d = std::hypot(hull[i][0] - hull[j][0], hull[i][1] - hull[j][1]);
            if (d > best) {
                best = d;
                r.longA = hull[i];
                r.longB = hull[j];
            }
        }
    }
    r.longMm = best;
    if (best <= 0) return r;
    const V2 u{(r.longB[0] - r.longA[0]) / best, (r.longB[1] - r.longA[1]) / best};
    const V2 v{-u[1], u[0]};
    // Short axis: the longest chord perpendicular to u. Along each line t = const, the
    // outline's crossings; the chord spans from the lowest to the highest crossing.
    std::vector<double> ts;
    ts.reserve(poly.size() * 2);
    for (std::size_t i = 0, n = poly.size(); i < n; ++i) {
        const double t0 = poly[i][0] * u[0] + poly[i][1] * u[1];
        const double t1 = poly[(i + 1) % n][0] * u[0] + poly[(i + 1) % n][1] * u[1];
        ts.push_back(t0);
        ts.push_back((t0 + t1) / 2);
    }
    double bestChord = -1;
    for (double t : ts) {
        double lo = std::numeric_limits<double>::max(), hi = std::numeric_limits<double>::lowest();
        for (std::size_t i = 0, n = poly.size(); i < n; ++i) {
            const V2& a = poly[i];
            const V2& b = poly[(i + 1) % n];
            const double ta = a[0] * u[0] + a[1] * u[1], tb = b[0] * u[0] + b[1] * u[1];
            if ((ta - t) * (tb - t) > 0 || ta == tb) continue;
            const double f = (t - ta) / (tb - ta);
            const double s = (a[0] + f * (b[0] - a[0])) * v[0] + (a[1] + f * (b[1] - a[1])) * v[1];
            lo = std::min(lo, s);
            hi = std::max(hi, s);
        }
        if (hi > lo && hi - lo > bestChord) {
            bestChord = hi - lo;
            r.shortA = {t * u[0] + lo * v[0], t * u[1] + lo * v[1]};
            r.shortB = {t * u[0] + hi * v[0], t * u[1] + hi * v[1]};
        }
    }
    r.shortMm = std::max(0.0, bestChord);
    return r;
}

} // namespace assist::plane
