// makePlan(): the whole trial decided from the seed. No pixels and no DICOM here, so the
// plan (and with it the ground truth) can be tested on its own.
#include "phantom/Plan.h"

#include "Random.h"

#include <cmath>
#include <stdexcept>

namespace phantom {

const char* courseName(Course c) {
    switch (c) {
    case Course::PartialResponse: return "partial response";
    case Course::StableDisease: return "stable disease";
    case Course::ProgressionByGrowth: return "progression by growth";
    case Course::EquivocalNewLesionConfirmed: return "equivocal new lesion confirmed later";
    case Course::UnequivocalNewLesion: return "unequivocal new lesion";
    }
    return "?";
}

namespace {

constexpr double kCtPixelMm = 0.78125; // 400 mm field of view on 512 pixels
constexpr int kCtSize = 512;
constexpr int kMrSize = 256;
constexpr double kMrPixelMm = 1.5625;

const char* const kLastNames[] = {"DUPONT",   "MARTIN", "BERNARD", "THOMAS",   "PETIT",    "ROBERT", "RICHARD", "DURAND",
                                  "LEROY",    "MOREAU", "SIMON",   "LAURENT",  "LEFEBVRE", "MICHEL", "GARCIA",  "DAVID",
                                  "BERTRAND", "ROUX",   "VINCENT", "FOURNIER", "MOREL",    "GIRARD", "ANDRE",   "MERCIER"};
const char* const kFemale[] = {"MARIE",     "NATHALIE",  "ISABELLE", "SYLVIE",  "CATHERINE",
                               "FRANCOISE", "CHRISTINE", "MONIQUE",  "VALERIE", "SANDRINE"};
const char* const kMale[] = {"JEAN", "PHILIPPE", "MICHEL", "ALAIN", "PATRICK", "NICOLAS", "CHRISTOPHE", "PIERRE", "DANIEL", "BERNARD"};
const char* const kStreets[] = {"rue des Lilas",        "avenue Jean Jaures", "boulevard Victor Hugo", "rue de la Paix",
                                "impasse des Tilleuls", "chemin du Moulin",   "place de la Republique"};
const char* const kDoctors[] = {"LEGRAND^SOPHIE^^DR", "FAURE^OLIVIER^^DR", "ROUSSEL^CLAIRE^^DR",
                                "BLANC^ANTOINE^^DR",  "GUERIN^HELENE^^DR", "MULLER^THOMAS^^DR"};

std::vector<Site> makeSites() {
    return {
        {"01", "CHU de Nantes - Hotel Dieu", "1 place Alexis Ricordeau, 44093 Nantes", "Nantes", "SIEMENS", "SOMATOM Definition AS+",
         "NTS-CT-02", "84512", "NANTES_CT2"},
        {"02", "Institut du Cancer de Montpellier", "208 avenue des Apothicaires, 34298 Montpellier", "Montpellier", "GE MEDICAL SYSTEMS",
         "Revolution CT", "ICM-CT1", "RCT00731", "ICM_CT1"},
        {"03", "Hospices Civils de Lyon - Edouard Herriot", "5 place d'Arsonval, 69003 Lyon", "Lyon", "Philips", "iCT 256", "HEH-SCAN3",
         "PH-44021", "HCL_SCAN3"},
        {"04", "Gustave Roussy", "114 rue Edouard Vaillant, 94805 Villejuif", "Villejuif", "Canon Medical Systems", "Aquilion ONE",
         "GR-CT-A", "CN-7781", "GR_CTA"},
    };
}

int tenths(double mm) { return static_cast<int>(std::lround(mm * 10.0)); }

LesionState scaled(const LesionState& base, double factor) {
    LesionState s = base;
    s.longTenthsMm = std::max(0, static_cast<int>(std::lround(base.longTenthsMm * factor)));
    s.shortTenthsMm = std::max(0, static_cast<int>(std::lround(base.shortTenthsMm * factor)));
    s.ccTenthsMm = std::max(0, static_cast<int>(std::lround(base.ccTenthsMm * factor)));
    s.present = s.longTenthsMm > 0;
    return s;
}

LesionState ellipsoid(int longT, int shortT) { return {true, longT, shortT, shortT, false}; }

/// The semi-axis of an ellipse (a, b, long axis at alpha) in the direction phi.
double radiusToward(double a, double b, double alpha, double phi) {
    const double c = std::cos(phi - alpha), d = std::sin(phi - alpha);
    return a * b / std::sqrt(b * b * c * c + a * a * d * d);
}

/// phantom --hard-lesions: stable non-target lesions that make segmentation hard - a node
/// against a vessel of its own density, a low-contrast liver lesion, a liver lesion against an
/// enhanced vein. Their own random stream, so the scripted lesions do not change.
void addHardLesions(Subject& s, std::uint64_t key, int followups) {
    Rng rng(key);
    struct Hard {
        const char* id;
        const char* kind;
        LesionSite site;
        const char* location;
        Vec3 center;
        int minLongT, maxLongT;
    };
    const Hard hard[] = {
        {"NT03", "node_by_vessel", LesionSite::LymphNode, "LYMPH NODE", {25, -35, -110}, 140, 200},
        {"NT04", "low_contrast", LesionSite::Liver, "LIVER", {-10, -45, -25}, 100, 200},
        {"NT05", "liver_by_vein", LesionSite::Liver, "LIVER", {-85, -10, 15}, 120, 200},
    };
    for (const Hard& h : hard) {
        Lesion l;
        l.id = h.id;
        l.kind = h.kind;
        l.site = h.site;
        l.role = LesionRole::NonTarget;
        l.location = h.location;
        l.centerMm = {h.center.x + rng.uniform(-3, 3), h.center.y + rng.uniform(-3, 3), h.center.z + rng.uniform(-3, 3)};
        const int longT = rng.integer(h.minLongT, h.maxLongT);
        const int shortT = tenths(longT * rng.uniform(0.65, 0.9) / 10.0);
        l.angleDeg = rng.uniform(0, 180);
        if (l.kind != "low_contrast") {
            // The vessel touches the lesion's widest cross-section, overlapping it by 0-1 mm.
            l.vesselRadiusMm = rng.uniform(3.5, 5.5);
            const double phi = rng.uniform(0, 2 * 3.14159265358979323846);
            const double d = radiusToward(longT / 20.0, shortT / 20.0, l.angleDeg * 3.14159265358979323846 / 180, phi) + l.vesselRadiusMm -
                             rng.uniform(0, 1);
            l.vesselOffsetMm = {d * std::cos(phi), d * std::sin(phi), 0};
        }
        for (int k = 0; k <= followups; ++k) l.states.push_back(ellipsoid(longT, shortT));
        s.lesions.push_back(l);
    }
}

/// Factor applied to every target at follow-up k (1-based) for each course.
double courseFactor(Course c, int k, int followups) {
    switch (c) {
    case Course::PartialResponse: return k == 1 ? 0.62 : 0.50;
    case Course::StableDisease: return k % 2 == 1 ? 0.95 : 1.05;
    case Course::ProgressionByGrowth: {
        const int pdAt = std::min(2, followups);
        return k < pdAt ? 1.08 : (k == pdAt ? 1.35 : 1.50);
    }
    case Course::EquivocalNewLesionConfirmed: return k % 2 == 1 ? 0.97 : 1.02;
    case Course::UnequivocalNewLesion: return 0.96;
    }
    return 1.0;
}

struct Placement {
    const char* id;
    LesionSite site;
    LesionRole role;
    const char* location;
    Vec3 center;
};

} // namespace

TrialPlan makePlan(const Options& options) {
    if (options.subjects < 1 || options.subjects > 10000) throw std::invalid_argument("--subjects must be 1..10000");
    if (options.timepoints < 1 || options.timepoints > 20) throw std::invalid_argument("--timepoints must be 1..20");
    if (options.slices < 2 || options.slices > 2000) throw std::invalid_argument("--slices must be 2..2000");
    if (!(options.sliceThicknessMm >= 0.5 && options.sliceThicknessMm <= 10.0)) {
        throw std::invalid_argument("--thickness must be 0.5..10 mm");
    }
    const double coverage = options.slices * options.sliceThicknessMm;
    if (coverage + 1e-9 < kMinCoverageMm) {
        throw std::invalid_argument("--slices " + std::to_string(options.slices) + " x --thickness " +
                                    std::to_string(options.sliceThicknessMm) + " mm covers " + std::to_string(static_cast<int>(coverage)) +
                                    " mm; the lesion layout needs at least " + std::to_string(static_cast<int>(kMinCoverageMm)) +
                                    " mm (use more slices or thicker slices)");
    }

    TrialPlan plan;
    plan.options = options;
    plan.sites = makeSites();
    plan.leftMarkerXMm = 169.0;
    const std::uint64_t seed = options.seed;
    const double t = options.sliceThicknessMm;
    // Global slice grid: z = zTop - k t. Lesion centres sit on even k, so that they fall on
    // a CT slice of every timepoint (shifts are even) and on every MR slice (2 t spacing).
    // The scan range is centred 15 mm below the origin, where the lesion layout is centred.
    const double zTop = -15.0 + std::floor((options.slices - 1) / 2.0) * t;
    auto snapZ = [&](double z) {
        const double k = std::round((zTop - z) / (2 * t)) * 2;
        return zTop - k * t;
    };
    const int followups = options.timepoints - 1;
    const Date firstRandomization = Date::fromCivil(2024, 1, 8);

    std::vector<int> perSite(plan.sites.size(), 0);
    for (int i = 0; i < options.subjects; ++i) {
        Rng rng(mix(seed, "subject") + static_cast<std::uint64_t>(i));
        Subject s;
        s.index = i;
        s.site = static_cast<int>(rng.next() % plan.sites.size());
        const Site& site = plan.sites[static_cast<std::size_t>(s.site)];
        char buf[128];
        std::snprintf(buf, sizeof buf, "RELUTH-%s-%03d", site.code.c_str(), ++perSite[static_cast<std::size_t>(s.site)]);
        s.pseudonym = buf;
        std::snprintf(buf, sizeof buf, "%08d", 10000000 + static_cast<int>(rng.next() % 89999999));
        s.patientId = buf;
        std::snprintf(buf, sizeof buf, "NIP%011llu", static_cast<unsigned long long>(rng.next() % 100000000000ull));
        s.otherPatientId = buf;
        const bool female = rng.next() % 2 == 0;
        s.sex = female ? "F" : "M";
        s.patientName = std::string(rng.pick(kLastNames)) + "^" + (female ? rng.pick(kFemale) : rng.pick(kMale));
        s.birthDate = Date::fromCivil(rng.integer(1942, 1976), rng.integer(1, 12), rng.integer(1, 28)).dicom();
        std::snprintf(buf, sizeof buf, "%d %s, %s", rng.integer(1, 120), rng.pick(kStreets), site.city.c_str());
        s.address = buf;
        std::snprintf(buf, sizeof buf, "+336%08d", rng.integer(0, 99999999)); // SH: 16 characters at most
        s.phone = buf;
        s.referringPhysician = rng.pick(kDoctors);
        s.performingPhysician = rng.pick(kDoctors);
        s.operatorName = std::string(rng.pick(kLastNames)) + "^" + rng.pick(kFemale);
        // 1:1 randomization in permuted blocks of two.
        const bool firstOfBlockExperimental = (mix(seed, "block") + static_cast<std::uint64_t>(i / 2)) % 2 == 0;
        const bool experimental = (i % 2 == 0) == firstOfBlockExperimental;
        s.arm = experimental ? "LUTATHERA" : "SURVEILLANCE";
        s.randomization = firstRandomization.plusDays(i * 9 + rng.integer(0, 6));
        s.course = static_cast<Course>(i % 5);
        s.hasMr = i % 2 == 1;

        // Timepoints.
        for (int k = 0; k <= followups; ++k) {
            TimepointPlan tp;
            tp.index = k;
            tp.visitNum = k + 1;
            tp.label = k == 0 ? "BASELINE" : "WEEK " + std::to_string(8 * k);
            tp.scanDate = k == 0 ? s.randomization.plusDays(-rng.integer(5, 20)) : s.randomization.plusDays(56 * k + rng.integer(-3, 3));
            tp.dayFromRandomization = tp.scanDate - s.randomization;
            // Patients never lie at the same table position twice: shift the scan range by an
            // even number of slices (lesion centres stay on slices), at most 10 mm.
            const int maxShift = static_cast<int>(std::floor(10.0 / (2 * t) + 1e-9));
            tp.tableShiftSlices = 2 * rng.integer(-maxShift, maxShift);
            if (options.motion) {
                // Its own stream: without --motion the trial keeps every byte.
                Rng pose(mix(mix(seed, "pose"), static_cast<std::uint64_t>(i * 1000 + k)));
                tp.pose.dxMm = pose.uniform(-20, 20);
                tp.pose.dyMm = pose.uniform(-20, 20);
                tp.pose.dzMm = pose.uniform(-60, 60);
                tp.pose.rotationDeg = pose.uniform(-5, 5);
                tp.pose.breathingMm = pose.uniform(0, 10);
            }
            s.timepoints.push_back(tp);
        }

        // Lesions at baseline, then their course.
        auto jitter = [&](Vec3 c) { return Vec3{c.x + rng.uniform(-5, 5), c.y + rng.uniform(-5, 5), snapZ(c.z + rng.uniform(-4, 4))}; };
        const Placement layout[] = {
            {"T01", LesionSite::Liver, LesionRole::Target, "LIVER", {-70, -15, -30}},
            {"T02", LesionSite::Liver, LesionRole::Target, "LIVER", {-30, 25, 0}},
            {"T03", LesionSite::Lung, LesionRole::Target, "LUNG", {-80, 10, 50}},
            {"T04", LesionSite::LymphNode, LesionRole::Target, "LYMPH NODE", {10, 0, -80}},
            {"NT01", LesionSite::LymphNode, LesionRole::NonTarget, "LYMPH NODE", {45, 15, -80}},
            {"NT02", LesionSite::Liver, LesionRole::NonTarget, "LIVER", {-95, 20, -50}},
        };
        for (const Placement& p : layout) {
            Lesion l;
            l.id = p.id;
            l.site = p.site;
            l.role = p.role;
            l.location = p.location;
            l.centerMm = jitter(p.center);
            LesionState base;
            if (l.id == "T01") {
                const int lt = rng.integer(320, 450);
                base = ellipsoid(lt, tenths(lt * rng.uniform(0.6, 0.8) / 10.0));
            } else if (l.id == "T02") {
                const int lt = rng.integer(180, 260);
                base = ellipsoid(lt, tenths(lt * rng.uniform(0.6, 0.85) / 10.0));
            } else if (l.id == "T03") {
                const int lt = rng.integer(140, 220);
                base = ellipsoid(lt, tenths(lt * rng.uniform(0.7, 0.9) / 10.0));
            } else if (l.id == "T04") {
                const int st = rng.integer(160, 220); // nodal target: short axis >= 15 mm
                base = ellipsoid(tenths(st * rng.uniform(1.3, 1.5) / 10.0), st);
            } else if (l.id == "NT01") {
                const int st = rng.integer(110, 135); // pathological but non-measurable node: 10 to <15 mm
                base = ellipsoid(tenths(st * rng.uniform(1.3, 1.4) / 10.0), st);
            } else {
                const int lt = rng.integer(70, 90); // < 10 mm: non-measurable
                base = ellipsoid(lt, tenths(lt * 0.8 / 10.0));
            }
            // Nodes lie roughly left-right; others anywhere.
            l.angleDeg = l.site == LesionSite::LymphNode ? rng.uniform(-20, 20) : rng.uniform(0, 180);
            l.states.push_back(base);
            for (int k = 1; k <= followups; ++k) {
                LesionState st = base;
                if (l.role == LesionRole::Target) st = scaled(base, courseFactor(s.course, k, followups));
                if (s.course == Course::PartialResponse && k >= 2) {
                    if (l.id == "T02") st = {false, 0, 0, 0, false};                        // disappears
                    if (l.id == "T04") st = ellipsoid(tenths(rng.uniform(11.5, 13.0)), 85); // node < 10 mm
                    if (l.id == "NT01") st = ellipsoid(95, 75);                             // node back to normal
                }
                l.states.push_back(st);
            }
            s.lesions.push_back(l);
        }
        if (s.course == Course::EquivocalNewLesionConfirmed || s.course == Course::UnequivocalNewLesion) {
            Lesion l;
            l.id = "NEW01";
            l.role = LesionRole::New;
            const bool liver = s.course == Course::EquivocalNewLesionConfirmed;
            l.site = liver ? LesionSite::Liver : LesionSite::Lung;
            l.location = liver ? "LIVER" : "LUNG";
            l.centerMm = jitter(liver ? Vec3{-45, -45, -15} : Vec3{75, 20, 55});
            l.angleDeg = rng.uniform(0, 180);
            l.states.push_back({});
            for (int k = 1; k <= followups; ++k) {
                LesionState st;
                if (liver) {
                    st = k == 1 ? ellipsoid(60, 50) : ellipsoid(k == 2 ? 140 : 180, k == 2 ? 110 : 140);
                    st.equivocal = k == 1;
                } else {
                    st = ellipsoid(k == 1 ? 120 : 150, k == 1 ? 100 : 120);
                }
                l.states.push_back(st);
            }
            s.lesions.push_back(l);
        }

        if (options.hardLesions) addHardLesions(s, mix(mix(seed, "hard"), static_cast<std::uint64_t>(i)), followups);

        // Expected results: the script's truth, stated per course.
        int nadir = 0;
        bool progressed = false;
        for (int k = 0; k <= followups; ++k) {
            TimepointPlan& tp = s.timepoints[static_cast<std::size_t>(k)];
            int sum = 0;
            for (const Lesion& l : s.lesions) {
                if (l.role != LesionRole::Target) continue;
                const LesionState& st = l.states[static_cast<std::size_t>(k)];
                sum += l.site == LesionSite::LymphNode ? st.shortTenthsMm : (st.present ? st.longTenthsMm : 0);
            }
            tp.sumTenthsMm = sum;
            if (k == 0) {
                nadir = sum;
                continue;
            }
            tp.nonTargetResponse = "NON-CR/NON-PD";
            tp.newLesion = "N";
            switch (s.course) {
            case Course::PartialResponse: tp.targetResponse = "PR"; break;
            case Course::StableDisease: tp.targetResponse = "SD"; break;
            case Course::ProgressionByGrowth: tp.targetResponse = courseFactor(s.course, k, followups) > 1.2 ? "PD" : "SD"; break;
            case Course::EquivocalNewLesionConfirmed:
                tp.targetResponse = "SD";
                tp.newLesion = k == 1 ? "EQUIVOCAL" : "Y";
                break;
            case Course::UnequivocalNewLesion:
                tp.targetResponse = "SD";
                tp.newLesion = "Y";
                break;
            }
            tp.overallResponse = (tp.targetResponse == "PD" || tp.newLesion == "Y") ? "PD" : tp.targetResponse;
            if (tp.overallResponse == "PD" && !progressed) {
                progressed = true;
                // RECIST 1.1 4.3.5: an equivocal new lesion later confirmed dates PD to its first detection.
                const Date pd = s.course == Course::EquivocalNewLesionConfirmed ? s.timepoints[1].scanDate : tp.scanDate;
                s.expectedProgressionDate = pd.iso();
            }
            nadir = std::min(nadir, sum);
        }
        // Best overall response without confirmation (randomized trial), SD >= 42 days.
        std::string best = followups == 0 ? "NE" : "";
        for (int k = 1; k <= followups && best.empty(); ++k) {
            if (s.timepoints[static_cast<std::size_t>(k)].overallResponse == "PR") best = "PR";
        }
        if (best.empty()) {
            for (int k = 1; k <= followups; ++k) {
                const TimepointPlan& tp = s.timepoints[static_cast<std::size_t>(k)];
                if (tp.overallResponse == "PD") break;
                if (tp.overallResponse == "SD" && tp.dayFromRandomization >= 42) {
                    best = "SD";
                    break;
                }
            }
        }
        if (best.empty()) best = progressed ? "PD" : "NE";
        s.expectedBestResponse = best;
        // rPFS from the course: every follow-up here has a response (none is NE), so the last
        // adequate assessment is the last scan before progression, or the last scan
        {
            Date lastBefore = s.randomization, last = s.randomization;
            recist::Date parsed{};
            const bool hasPd = progressed && recist::Date::parse(s.expectedProgressionDate, parsed);
            const Date pd{parsed.days};
            for (int k = 1; k <= followups; ++k) {
                const TimepointPlan& tp = s.timepoints[static_cast<std::size_t>(k)];
                if (hasPd && tp.scanDate.days < pd.days) lastBefore = tp.scanDate;
                if (!hasPd) last = tp.scanDate;
            }
            if (hasPd && pd - lastBefore <= 126) {
                s.expectedRpfsCensored = 0;
                s.expectedRpfsDate = pd.iso();
                s.expectedRpfsDescription = "RADIOLOGICAL PROGRESSION";
            } else if (hasPd) {
                s.expectedRpfsDate = lastBefore.iso();
                s.expectedRpfsDescription = "PD AFTER MISSED ASSESSMENTS";
            } else if (followups == 0) {
                s.expectedRpfsDate = s.randomization.iso();
                s.expectedRpfsDescription = "NO ADEQUATE POST-BASELINE ASSESSMENT";
            } else {
                s.expectedRpfsDate = last.iso();
                s.expectedRpfsDescription = "NO PROGRESSION";
            }
        }
        plan.subjects.push_back(std::move(s));
    }

    // Studies and series, with UIDs derived from the seed.
    auto uid = [&](std::string_view kind, std::uint64_t a, std::uint64_t b, std::uint64_t c) {
        const std::uint64_t k = mix(mix(mix(mix(seed, kind), a), b), c);
        return uid225(splitmix64(k) & 0x7FFFFFFFFFFFFFFFull, splitmix64(k + 1));
    };
    for (Subject& s : plan.subjects) {
        const Site& site = plan.sites[static_cast<std::size_t>(s.site)];
        Rng rng(mix(seed, "studies") + static_cast<std::uint64_t>(s.index));
        const bool experimental = s.arm == "LUTATHERA";
        const std::filesystem::path subjectDir = std::filesystem::path("incoming") / ("site-" + site.code) / s.patientId;
        int studyNo = 0;
        auto newStudy = [&](Date date, int timepoint, std::string description) {
            StudyPlan st;
            st.uid = uid("study", static_cast<std::uint64_t>(s.index), static_cast<std::uint64_t>(studyNo), 0);
            char buf[32];
            std::snprintf(buf, sizeof buf, "A%09llu", static_cast<unsigned long long>(rng.next() % 1000000000ull));
            st.accessionNumber = buf;
            st.date = date;
            std::snprintf(buf, sizeof buf, "%02d%02d%02d", rng.integer(8, 17), rng.integer(0, 59), rng.integer(0, 59));
            st.time = buf;
            st.timepoint = timepoint;
            st.description = std::move(description);
            ++studyNo;
            return st;
        };
        auto seriesDir = [&](const StudyPlan& st, const SeriesPlan& se) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "S%03d_%s", se.number, se.modality.c_str());
            return subjectDir / (st.date.dicom() + "_" + st.accessionNumber) / buf;
        };
        auto sopUids = [&](SeriesPlan& se, const StudyPlan& st) {
            for (int i = 0; i < se.slices; ++i) {
                se.sopInstanceUids.push_back(uid("sop", static_cast<std::uint64_t>(s.index),
                                                 mix(mix(0, st.uid), static_cast<std::uint64_t>(se.number)),
                                                 static_cast<std::uint64_t>(i)));
            }
        };
        // the portal-venous CT series of an exam: UIDs keyed by (subject, key, 2), the exam's table shift
        auto ctSeries = [&](std::uint64_t key, int tableShiftSlices, double poseDzMm) {
            SeriesPlan se;
            se.modality = "CT";
            se.number = 2;
            se.uid = uid("series", static_cast<std::uint64_t>(s.index), key, 2);
            se.frameOfReferenceUid = uid("for", static_cast<std::uint64_t>(s.index), key, 2);
            se.rows = se.columns = kCtSize;
            se.slices = options.slices;
            se.pixelSpacingMm[0] = se.pixelSpacingMm[1] = kCtPixelMm;
            se.sliceThicknessMm = t;
            se.firstSliceZMm = zTop + tableShiftSlices * t + poseDzMm; // the range follows the patient
            se.originXMm = se.originYMm = -(kCtSize - 1) / 2.0 * kCtPixelMm;
            return se;
        };
        for (const TimepointPlan& tp : s.timepoints) {
            const bool leakHere = tp.index == 1 || (tp.index == 3 && experimental);
            StudyPlan ct = newStudy(tp.scanDate, tp.index, tp.index == 0 ? "TDM THORAX-ABDOMEN-PELVIS" : "TDM TAP INJECTE");
            SeriesPlan se = ctSeries(static_cast<std::uint64_t>(tp.index), tp.tableShiftSlices, tp.pose.dzMm);
            char buf[64];
            std::snprintf(buf, sizeof buf, "TAP PORTAL %gmm", options.sliceThicknessMm);
            se.description = buf;
            if (leakHere && experimental) {
                ct.description = "TDM TAP post LUTATHERA C3";
                ct.armLeaks.push_back({"StudyDescription", ct.description});
                se.description = "TAP PV apres cure 3 Lu-177";
                se.armLeaks.push_back({"SeriesDescription", se.description});
                se.armLeaks.push_back({"ProtocolName", "RELUTH bras A"});
                se.armLeaks.push_back({"ImageComments", "Controle apres 177Lu-DOTATATE (Lutathéra), bras expérimental"});
                se.armLeaks.push_back({"RequestAttributesSequence[0].RequestedProcedureDescription", "Bilan PRRT cycle 3"});
                se.armLeaks.push_back({"(0011,\"SITEPACS 1.0\",12)", "Lutathéra C3 J+56"});
                se.armLeaks.push_back({"PatientComments", "Randomisé bras A (Lutathera)"});
            } else if (leakHere) {
                ct.description = "TDM TAP surveillance active";
                ct.armLeaks.push_back({"StudyDescription", ct.description});
                se.armLeaks.push_back({"ImageComments", "RELUTH bras B - surveillance"});
            }
            se.dir = seriesDir(ct, se);
            sopUids(se, ct);
            ct.series.push_back(se);
            s.studies.push_back(ct);

            if (s.hasMr) {
                StudyPlan mr = newStudy(tp.scanDate.plusDays(options.mrOffsetDays), tp.index, "IRM ABDOMEN");
                SeriesPlan m;
                m.modality = "MR";
                m.number = 5;
                m.description = "T2 HASTE AX";
                m.uid = uid("series", static_cast<std::uint64_t>(s.index), static_cast<std::uint64_t>(tp.index), 5);
                m.frameOfReferenceUid = uid("for", static_cast<std::uint64_t>(s.index), static_cast<std::uint64_t>(tp.index), 5);
                m.rows = m.columns = kMrSize;
                m.slices = (options.slices + 1) / 2;
                m.pixelSpacingMm[0] = m.pixelSpacingMm[1] = kMrPixelMm;
                m.sliceThicknessMm = 2 * t; // every other CT slice position: lesion centres stay on a slice
                m.firstSliceZMm = se.firstSliceZMm;
                m.originXMm = m.originYMm = -(kMrSize - 1) / 2.0 * kMrPixelMm;
                m.dir = seriesDir(mr, m);
                sopUids(m, mr);
                mr.series.push_back(m);
                s.studies.push_back(mr);
            }
        }
        if (options.unscheduled && s.timepoints.size() >= 2) {
            // An unscheduled CT four weeks after follow-up 1 (clinical suspicion): follow-up 1's
            // anatomy on a day outside every visit window - its own timepoint for the queue.
            StudyPlan un = newStudy(s.randomization.plusDays(56 + 28), 1, "TDM TAP CONTROLE");
            un.unscheduled = true;
            SeriesPlan se = ctSeries(900, s.timepoints[1].tableShiftSlices, s.timepoints[1].pose.dzMm);
            se.description = "TAP PORTAL";
            se.dir = seriesDir(un, se);
            sopUids(se, un);
            un.series.push_back(se);
            s.studies.push_back(un);
        }
        if (experimental) {
            // Post-therapy scintigraphy the day after the third Lutathera injection.
            StudyPlan nm = newStudy(s.randomization.plusDays(2), -1, "Scintigraphie post-therapeutique J1");
            nm.armLeaks.push_back({"StudyDescription", nm.description});
            SeriesPlan n;
            n.modality = "NM";
            n.number = 1;
            n.description = "CORPS ENTIER 177Lu ANT";
            n.uid = uid("series", static_cast<std::uint64_t>(s.index), 1000, 1);
            n.frameOfReferenceUid = uid("for", static_cast<std::uint64_t>(s.index), 1000, 1);
            n.rows = 256;
            n.columns = 128;
            n.slices = 1;
            n.pixelSpacingMm[0] = n.pixelSpacingMm[1] = 4.42;
            n.armLeaks.push_back({"RadiopharmaceuticalInformationSequence[0].Radiopharmaceutical", "Lu-177 DOTATATE (Lutathera)"});
            n.dir = seriesDir(nm, n);
            n.quarantineReason = "arm: NM series with a Lu-177 radiopharmaceutical (post-therapy scintigraphy)";
            sopUids(n, nm);
            nm.series.push_back(n);
            plan.quarantine.push_back({n.dir, n.quarantineReason});
            s.studies.push_back(nm);
        }
    }

    // One secondary capture with burned-in PHI (first subject, baseline study) and one
    // truncated CT file per trial.
    {
        Subject& s = plan.subjects.front();
        StudyPlan& st = s.studies.front();
        SeriesPlan sc;
        sc.modality = "SC";
        sc.number = 900;
        sc.description = "Capture ecran mesures";
        sc.uid = uid("series", 0, 0, 900);
        sc.rows = sc.columns = 512;
        sc.slices = 1;
        sc.dir = st.series.front().dir.parent_path() / "S900_SC";
        sc.sopInstanceUids.push_back(uid("sop", 0, mix(0, st.uid), 900));
        sc.quarantineReason = "burned-in annotation: secondary capture with patient name and birth date in the pixels";
        plan.burnedInFile = sc.dir / "IM00001.dcm";
        plan.quarantine.push_back({plan.burnedInFile, sc.quarantineReason});
        st.series.push_back(sc);
    }
    {
        // In the last CT series of the second subject: a site drop that broke in transfer.
        const Subject& s = plan.subjects[plan.subjects.size() > 1 ? 1 : 0];
        const SeriesPlan* ct = nullptr;
        for (const StudyPlan& st : s.studies) {
            if (st.timepoint >= 0 && st.series.front().modality == "CT") ct = &st.series.front();
        }
        plan.corruptFile = ct->dir / "IM_TRUNC.dcm";
        plan.quarantine.push_back({plan.corruptFile, "corrupt: truncated DICOM file (pixel data cut short)"});
    }
    // Every lesion, whole, inside every image series of its timepoint.
    for (const Subject& s : plan.subjects) {
        for (const StudyPlan& st : s.studies) {
            if (st.timepoint < 0) continue;
            for (const SeriesPlan& se : st.series) {
                if (se.modality != "CT" && se.modality != "MR") continue;
                const double top = se.firstSliceZMm, bottom = se.zOfSlice(se.slices - 1);
                for (const Lesion& l : s.lesions) {
                    const double half = l.states[static_cast<std::size_t>(st.timepoint)].ccTenthsMm / 20.0;
                    const double cz = lesionCenterAt(s, l, st.timepoint).z;
                    if (cz + half > top - t || cz - half < bottom + t) {
                        throw std::invalid_argument("--slices " + std::to_string(options.slices) + " x --thickness " + std::to_string(t) +
                                                    " mm does not cover lesion " + l.id + " of " + s.pseudonym +
                                                    " (use more slices or thicker slices; at least " +
                                                    std::to_string(static_cast<int>(kMinCoverageMm)) + " mm are needed)");
                    }
                }
            }
        }
    }
    return plan;
}

double breathingShare(const Lesion& l) { return l.site == LesionSite::LymphNode ? 0.3 : 1.0; }

Vec3 toScanner(const Pose& pose, const Vec3& b) {
    const double a = pose.rotationDeg * 3.14159265358979323846 / 180, c = std::cos(a), s = std::sin(a);
    return {c * b.x - s * b.y + pose.dxMm, s * b.x + c * b.y + pose.dyMm, b.z + pose.dzMm};
}

Vec3 lesionCenterAt(const Subject& subject, const Lesion& l, int timepoint) {
    const Pose& pose = subject.timepoints.at(static_cast<std::size_t>(timepoint)).pose;
    return toScanner(pose, {l.centerMm.x, l.centerMm.y, l.centerMm.z + pose.breathingMm * breathingShare(l)});
}

} // namespace phantom
