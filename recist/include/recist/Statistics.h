// The pooled endpoint statistics the trial manager sees (never by arm): exact binomial (Clopper-
// Pearson) intervals for the disease control and objective response rates, and the Kaplan-Meier
// estimate of rPFS with Greenwood's variance, the median and its Brookmeyer-Crowley interval.
// Pure functions, standard library only.
#pragma once

#include <optional>
#include <utility>
#include <vector>

namespace recist::stats {

/// Exact two-sided (1 - alpha) interval for k successes in n trials (Clopper & Pearson 1934):
/// the beta quantiles B(alpha/2; k, n-k+1) and B(1-alpha/2; k+1, n-k); 0 and 1 at the ends.
std::pair<double, double> clopperPearson(int k, int n, double alpha = 0.05);

/// The regularized incomplete beta function I_x(a, b) (continued fraction).
double incompleteBeta(double a, double b, double x);

struct KaplanMeier {
    struct Step {
        double time = 0;
        int atRisk = 0, events = 0, censored = 0;
        double survival = 1;  ///< S(t) just after this time
        double greenwood = 0; ///< sum d / (n (n - d)) up to this time (infinite once S = 0)
        double se() const;    ///< Greenwood's standard error of S(t): S sqrt(sum)
    };
    std::vector<Step> steps; ///< one per distinct time with an event or a censoring, in order
    int subjects = 0, events = 0;
    double survivalAt(double t) const; ///< S(t), right-continuous
    int atRisk(double t) const;        ///< subjects with a time >= t
    /// Median survival: the first time S(t) <= 0.5 (none when the curve stays above).
    std::optional<double> median() const;
    /// Brookmeyer-Crowley (1982) (1 - alpha) interval for the median: the times t whose
    /// |S(t) - 0.5| <= z se(t) (plain Greenwood interval): from the first time S - z se <= 0.5
    /// to the first time S + z se <= 0.5; either end empty when not reached.
    std::pair<std::optional<double>, std::optional<double>> medianInterval(double alpha = 0.05) const;
};

/// Kaplan-Meier from (time, event) pairs: event true = the endpoint happened at time, false =
/// censored then. At tied times events come before censorings (the usual convention).
KaplanMeier kaplanMeier(const std::vector<std::pair<double, bool>>& data);

/// The standard normal quantile (for z = 1.96 at alpha 0.05).
double normalQuantile(double p);

} // namespace recist::stats
