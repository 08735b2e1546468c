#include "recist/Statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace recist::stats {

namespace {

/// Continued fraction of the incomplete beta (modified Lentz), as in Press et al., Numerical Recipes §6.4.
double betaFraction(double a, double b, double x) {
    constexpr double tiny = 1e-300, eps = 1e-15;
    const double qab = a + b, qap = a + 1, qam = a - 1;
    double c = 1, d = 1 - qab * x / qap;
    if (std::fabs(d) < tiny) d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 1000; ++m) {
        const int m2 = 2 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1 + aa * d;
        if (std::fabs(d) < tiny) d = tiny;
        c = 1 + aa / c;
        if (std::fabs(c) < tiny) c = tiny;
        d = 1 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1 + aa * d;
        if (std::fabs(d) < tiny) d = tiny;
        c = 1 + aa / c;
        if (std::fabs(c) < tiny) c = tiny;
        d = 1 / d;
        const double del = d * c;
        h *= del;
        if (std::fabs(del - 1) < eps) break;
    }
    return h;
}

/// x with I_x(a, b) = p, by bisection (I is increasing in x).
double betaQuantile(double p, double a, double b) {
    double lo = 0, hi = 1;
    for (int i = 0; i < 200; ++i) {
        const double mid = (lo + hi) / 2;
        (incompleteBeta(a, b, mid) < p ? lo : hi) = mid;
    }
    return (lo + hi) / 2;
}

} // namespace

double incompleteBeta(double a, double b, double x) {
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
    if (x < (a + 1) / (a + b + 2)) return front * betaFraction(a, b, x) / a;
    return 1 - front * betaFraction(b, a, 1 - x) / b;
}

std::pair<double, double> clopperPearson(int k, int n, double alpha) {
    if (n <= 0 || k < 0 || k > n) return {0, 1};
    const double lo = k == 0 ? 0.0 : betaQuantile(alpha / 2, k, n - k + 1);
    const double hi = k == n ? 1.0 : betaQuantile(1 - alpha / 2, k + 1, n - k);
    return {lo, hi};
}

double normalQuantile(double p) {
    // Acklam's rational approximation, refined by one Newton step on erfc (error < 1e-12)
    if (p <= 0) return -std::numeric_limits<double>::infinity();
    if (p >= 1) return std::numeric_limits<double>::infinity();
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                               1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                               -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00};
    double x;
    if (p < 0.02425) {
        const double q = std::sqrt(-2 * std::log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p <= 1 - 0.02425) {
        const double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    } else {
        const double q = std::sqrt(-2 * std::log(1 - p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
    const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

double KaplanMeier::Step::se() const {
    if (survival <= 0 || !std::isfinite(greenwood)) return 0;
    return survival * std::sqrt(greenwood);
}

KaplanMeier kaplanMeier(const std::vector<std::pair<double, bool>>& data) {
    KaplanMeier km;
    km.subjects = static_cast<int>(data.size());
    std::map<double, std::pair<int, int>> at; // time -> events, censored
    for (const auto& [t, event] : data) (event ? at[t].first : at[t].second)++;
    int n = km.subjects;
    double s = 1, gw = 0;
    for (const auto& [t, ec] : at) {
        const auto [d, c] = ec;
        KaplanMeier::Step step;
        step.time = t;
        step.atRisk = n;
        step.events = d;
        step.censored = c;
        if (d > 0) {
            s *= static_cast<double>(n - d) / n;
            gw = n - d > 0 ? gw + static_cast<double>(d) / (static_cast<double>(n) * (n - d)) : std::numeric_limits<double>::infinity();
        }
        step.survival = s;
        step.greenwood = gw;
        km.events += d;
        km.steps.push_back(step);
        n -= d + c;
    }
    return km;
}

double KaplanMeier::survivalAt(double t) const {
    double s = 1;
    for (const Step& st : steps) {
        if (st.time > t) break;
        s = st.survival;
    }
    return s;
}

int KaplanMeier::atRisk(double t) const {
    int n = subjects;
    for (const Step& st : steps) {
        if (st.time >= t) break;
        n -= st.events + st.censored;
    }
    return n;
}

std::optional<double> KaplanMeier::median() const {
    for (const Step& st : steps)
        if (st.events > 0 && st.survival <= 0.5) return st.time;
    return std::nullopt;
}

std::pair<std::optional<double>, std::optional<double>> KaplanMeier::medianInterval(double alpha) const {
    const double z = normalQuantile(1 - alpha / 2);
    std::optional<double> lo, hi;
    for (const Step& st : steps) {
        if (st.events == 0) continue; // the curve only moves at events
        if (!lo && st.survival - z * st.se() <= 0.5) lo = st.time;
        if (!hi && st.survival + z * st.se() <= 0.5) hi = st.time;
    }
    return {lo, hi};
}

} // namespace recist::stats
