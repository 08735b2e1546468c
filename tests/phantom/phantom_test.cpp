// The phantom's plan, determinism, ground truth and planted problems.
#include "TrialFixture.h"
#include "phantom/Render.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

namespace fs = std::filesystem;
using testutil::SmallTrial;
using testutil::TempDir;

namespace {

std::map<std::string, std::string> readTree(const fs::path& root) {
    std::map<std::string, std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (!e.is_regular_file()) continue;
        std::ifstream in(e.path(), std::ios::binary);
        files[fs::relative(e.path(), root).generic_string()] = std::string(std::istreambuf_iterator<char>(in), {});
    }
    return files;
}

phantom::Options tiny(const fs::path& out, std::uint64_t seed, int threads) {
    phantom::Options o;
    o.out = out;
    o.seed = seed;
    o.subjects = 2;
    o.timepoints = 2;
    o.slices = 40;
    o.sliceThicknessMm = 6.0;
    o.threads = threads;
    return o;
}

std::string element(const fs::path& file, const DcmTagKey& tag) {
    DcmFileFormat ff;
    if (ff.loadFile(file.c_str()).bad()) return "<unreadable>";
    OFString v;
    ff.getDataset()->findAndGetOFStringArray(tag, v, OFTrue);
    return v.c_str();
}

const phantom::Subject* subjectWithCourse(const phantom::TrialPlan& plan, phantom::Course c) {
    for (const auto& s : plan.subjects) {
        if (s.course == c) return &s;
    }
    return nullptr;
}

} // namespace

TEST(PhantomDeterminism, SameSeedSameBytes) {
    TempDir a("det-a"), b("det-b");
    phantom::generateTrial(tiny(a.path(), 42, 2));
    phantom::generateTrial(tiny(b.path(), 42, 1)); // thread count must not matter either
    const auto ta = readTree(a.path()), tb = readTree(b.path());
    ASSERT_GT(ta.size(), 150u);
    ASSERT_EQ(ta.size(), tb.size());
    for (const auto& [name, bytes] : ta) {
        auto it = tb.find(name);
        ASSERT_NE(it, tb.end()) << name;
        ASSERT_TRUE(bytes == it->second) << name << " differs";
    }
}

TEST(PhantomDeterminism, OtherSeedOtherTrial) {
    TempDir a("seed-a"), b("seed-b");
    phantom::generateTrial(tiny(a.path(), 1, 0));
    phantom::generateTrial(tiny(b.path(), 2, 0));
    const auto ta = readTree(a.path()), tb = readTree(b.path());
    EXPECT_NE(ta.at("ground-truth.json"), tb.at("ground-truth.json"));
    EXPECT_NE(ta.at("enrolment.csv"), tb.at("enrolment.csv"));
}

TEST(PhantomDeterminism, RegeneratingReplacesAnOlderTrial) {
    TempDir a("regen");
    phantom::Options big = tiny(a.path(), 3, 0);
    big.subjects = 3;
    phantom::generateTrial(big);
    const auto smaller = phantom::generateTrial(tiny(a.path(), 3, 0));
    std::size_t dicom = 0;
    for (const auto& e : fs::recursive_directory_iterator(a.path() / "incoming")) dicom += e.is_regular_file();
    EXPECT_EQ(dicom, smaller.files);
}

TEST(PhantomPlan, RejectsBadOptionsWithAReason) {
    phantom::Options o;
    o.out = "/tmp/unused";
    o.slices = 20; // 20 x 2.5 mm = 50 mm: the lesions would fall outside
    try {
        phantom::makePlan(o);
        FAIL() << "accepted";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("220 mm"), std::string::npos) << e.what();
    }
    o.slices = 120;
    o.subjects = 0;
    EXPECT_THROW(phantom::makePlan(o), std::invalid_argument);
}

TEST(PhantomPlan, EveryScriptedCourseAndBothArms) {
    const auto& plan = SmallTrial::get().result.plan;
    std::set<phantom::Course> courses;
    std::set<std::string> arms, sites;
    for (const auto& s : plan.subjects) {
        courses.insert(s.course);
        arms.insert(s.arm);
        sites.insert(plan.sites[static_cast<std::size_t>(s.site)].code);
        EXPECT_EQ(s.timepoints.size(), 3u);
        EXPECT_LT(s.timepoints[0].scanDate - s.randomization, 0) << "baseline precedes randomization";
        for (std::size_t k = 1; k < s.timepoints.size(); ++k) {
            EXPECT_NEAR(s.timepoints[k].dayFromRandomization, 56 * static_cast<int>(k), 3) << "every 8 weeks";
        }
    }
    EXPECT_EQ(courses.size(), 5u);
    EXPECT_EQ(arms, (std::set<std::string>{"LUTATHERA", "SURVEILLANCE"}));
    EXPECT_GE(sites.size(), 2u);
}

TEST(PhantomPlan, BaselineLesionsFollowRecistMeasurability) {
    for (const auto& s : SmallTrial::get().result.plan.subjects) {
        for (const auto& l : s.lesions) {
            const auto& b = l.states.front();
            if (l.role == phantom::LesionRole::Target && l.site == phantom::LesionSite::LymphNode) {
                EXPECT_GE(b.shortTenthsMm, 150) << s.pseudonym << " " << l.id << ": nodal target short axis >= 15 mm";
            } else if (l.role == phantom::LesionRole::Target) {
                EXPECT_GE(b.longTenthsMm, 100) << l.id;
            } else if (l.site == phantom::LesionSite::LymphNode) {
                EXPECT_GE(b.shortTenthsMm, 100) << l.id << ": pathological node";
                EXPECT_LT(b.shortTenthsMm, 150) << l.id << ": non-measurable node";
            }
            EXPECT_LE(b.shortTenthsMm, b.longTenthsMm);
        }
    }
}

TEST(PhantomPlan, ExpectedResponsesMatchTheSums) {
    // The script's labels must sit clearly on their side of the RECIST thresholds.
    for (const auto& s : SmallTrial::get().result.plan.subjects) {
        const int base = s.timepoints.front().sumTenthsMm;
        int nadir = base;
        for (std::size_t k = 1; k < s.timepoints.size(); ++k) {
            const auto& tp = s.timepoints[k];
            const double fromBase = 100.0 * (tp.sumTenthsMm - base) / base;
            const double fromNadir = 100.0 * (tp.sumTenthsMm - nadir) / nadir;
            if (tp.targetResponse == "PR") {
                EXPECT_LT(fromBase, -33.0) << s.pseudonym;
            }
            if (tp.targetResponse == "PD") {
                EXPECT_GT(fromNadir, 25.0) << s.pseudonym;
                EXPECT_GE(tp.sumTenthsMm - nadir, 50) << s.pseudonym;
            }
            if (tp.targetResponse == "SD") {
                EXPECT_GT(fromBase, -27.0) << s.pseudonym;
                EXPECT_LT(fromNadir, 17.0) << s.pseudonym;
            }
            nadir = std::min(nadir, tp.sumTenthsMm);
        }
    }
}

TEST(PhantomPlan, CoursesHaveTheirEvents) {
    const auto& plan = SmallTrial::get().result.plan;
    const auto* pr = subjectWithCourse(plan, phantom::Course::PartialResponse);
    ASSERT_NE(pr, nullptr);
    for (const auto& l : pr->lesions) {
        if (l.id == "T02") {
            EXPECT_FALSE(l.states[2].present) << "a lesion disappears";
        }
        if (l.id == "T04") {
            EXPECT_LT(l.states[2].shortTenthsMm, 100) << "a node shrinks under 10 mm";
        }
    }
    EXPECT_EQ(pr->expectedBestResponse, "PR");

    const auto* eq = subjectWithCourse(plan, phantom::Course::EquivocalNewLesionConfirmed);
    ASSERT_NE(eq, nullptr);
    EXPECT_EQ(eq->timepoints[1].newLesion, "EQUIVOCAL");
    EXPECT_EQ(eq->timepoints[1].overallResponse, "SD");
    EXPECT_EQ(eq->timepoints[2].overallResponse, "PD");
    EXPECT_EQ(eq->expectedProgressionDate, eq->timepoints[1].scanDate.iso()) << "PD dates back to first detection";

    const auto* growth = subjectWithCourse(plan, phantom::Course::ProgressionByGrowth);
    ASSERT_NE(growth, nullptr);
    EXPECT_EQ(growth->timepoints[2].targetResponse, "PD");
    EXPECT_EQ(growth->expectedProgressionDate, growth->timepoints[2].scanDate.iso());
    EXPECT_EQ(growth->expectedBestResponse, "SD");

    const auto* fresh = subjectWithCourse(plan, phantom::Course::UnequivocalNewLesion);
    ASSERT_NE(fresh, nullptr);
    EXPECT_EQ(fresh->timepoints[1].overallResponse, "PD");
    EXPECT_EQ(fresh->expectedBestResponse, "PD");
}

TEST(PhantomTruth, DescribesEveryFile) {
    const auto& t = SmallTrial::get();
    const auto& truth = t.truth;
    ASSERT_EQ(truth["subjects"].size(), 5u);
    std::size_t files = 0;
    for (const auto& s : truth["subjects"]) {
        for (const auto& tp : s["timepoints"]) {
            for (const auto& se : tp["series"]) {
                const fs::path dir = t.path() / se["dir"].get<std::string>();
                ASSERT_TRUE(fs::is_directory(dir)) << dir;
                std::size_t n = 0;
                for (const auto& e : fs::directory_iterator(dir)) n += e.path().filename() != "IM_TRUNC.dcm";
                EXPECT_EQ(n, se["files"].get<std::size_t>()) << dir;
                files += n;
            }
        }
        for (const auto& se : s["other_series"]) files += se["files"].get<std::size_t>();
        EXPECT_FALSE(s["phi"].empty());
        EXPECT_TRUE(s["expected"].contains("best_overall_response"));
    }
    EXPECT_EQ(files + 1, t.result.files); // + the corrupt file
    EXPECT_TRUE(fs::exists(t.path() / "enrolment.csv"));
}

TEST(PhantomTruth, EnrolmentListMapsEveryPatient) {
    const auto& t = SmallTrial::get();
    std::ifstream in(t.path() / "enrolment.csv");
    std::string header, line;
    std::getline(in, header);
    EXPECT_EQ(header, "original_patient_id,pseudonym,site,randomization_date");
    std::set<std::string> rows;
    while (std::getline(in, line)) rows.insert(line);
    for (const auto& s : t.result.plan.subjects) {
        EXPECT_TRUE(rows.count(s.patientId + "," + s.pseudonym + "," + t.result.plan.sites[static_cast<std::size_t>(s.site)].code + "," +
                               s.randomization.iso()));
    }
}

TEST(PhantomProblems, QuarantineListNamesEveryPlantedProblem) {
    const auto& t = SmallTrial::get();
    std::size_t experimental = 0;
    for (const auto& s : t.result.plan.subjects) experimental += s.arm == "LUTATHERA";
    std::size_t nm = 0, burned = 0, corrupt = 0;
    for (const auto& q : t.truth["quarantine"]) {
        const std::string reason = q["reason"];
        ASSERT_TRUE(fs::exists(t.path() / q["path"].get<std::string>())) << q["path"];
        nm += reason.rfind("arm:", 0) == 0;
        burned += reason.rfind("burned-in", 0) == 0;
        corrupt += reason.rfind("corrupt", 0) == 0;
    }
    EXPECT_EQ(nm, experimental) << "one post-therapy NM scan per experimental-arm subject";
    EXPECT_EQ(burned, 1u);
    EXPECT_EQ(corrupt, 1u);
}

TEST(PhantomProblems, CorruptFileDoesNotLoad) {
    const auto& t = SmallTrial::get();
    DcmFileFormat ff;
    const fs::path file = t.path() / t.result.plan.corruptFile;
    ASSERT_TRUE(fs::exists(file));
    const OFCondition c = ff.loadFile(file.c_str());
    EXPECT_TRUE(c.bad() || ff.getDataset()->tagExists(DCM_PixelData) == OFFalse) << "truncated file loaded cleanly";
}

TEST(PhantomProblems, BurnedInCaptureSaysSo) {
    const auto& t = SmallTrial::get();
    const fs::path file = t.path() / t.result.plan.burnedInFile;
    EXPECT_EQ(element(file, DCM_BurnedInAnnotation), "YES");
    EXPECT_EQ(element(file, DCM_SOPClassUID), UID_SecondaryCaptureImageStorage);
}

TEST(PhantomProblems, NmScanNamesLutetium) {
    const auto& t = SmallTrial::get();
    for (const auto& q : t.truth["quarantine"]) {
        if (q["reason"].get<std::string>().rfind("arm:", 0) != 0) continue;
        const fs::path file = t.path() / q["path"].get<std::string>() / "IM00001.dcm";
        DcmFileFormat ff;
        ASSERT_TRUE(ff.loadFile(file.c_str()).good()) << file;
        OFString radiopharmaceutical;
        ff.getDataset()->findAndGetOFString(DCM_Radiopharmaceutical, radiopharmaceutical, 0, OFTrue);
        EXPECT_NE(std::string(radiopharmaceutical.c_str()).find("Lu-177"), std::string::npos);
        EXPECT_EQ(element(file, DCM_Modality), "NM");
    }
}

TEST(PhantomProblems, HeadersCarryPhiAndArmLeaks) {
    const auto& t = SmallTrial::get();
    ASSERT_FALSE(t.truth["arm_leaks"].empty());
    std::size_t checked = 0;
    for (const auto& leak : t.truth["arm_leaks"]) {
        if (!leak.contains("series_dir") || leak["where"] != "ImageComments") continue;
        const fs::path file = t.path() / leak["series_dir"].get<std::string>() / "IM00001.dcm";
        EXPECT_EQ(element(file, DCM_ImageComments), leak["text"].get<std::string>());
        ++checked;
    }
    EXPECT_GT(checked, 0u);
    // PHI as a site sends it: the real name and ID, in the main dataset and a private block.
    const auto& s = t.result.plan.subjects.front();
    const fs::path first = t.path() / s.studies.front().series.front().dir / "IM00001.dcm";
    EXPECT_EQ(element(first, DCM_PatientName), s.patientName);
    EXPECT_EQ(element(first, DCM_PatientID), s.patientId);
    EXPECT_EQ(element(first, DCM_PatientBirthDate), s.birthDate);
    EXPECT_EQ(element(first, DcmTagKey(0x0011, 0x1010)), s.patientName);
    EXPECT_EQ(element(first, DCM_InstitutionName), t.result.plan.sites[static_cast<std::size_t>(s.site)].institution);
}

TEST(PhantomProblems, ExperimentalArmLeaksOnlyInItsOwnSubjects) {
    const auto& t = SmallTrial::get();
    std::map<std::string, std::string> armOf;
    for (const auto& s : t.result.plan.subjects) armOf[s.pseudonym] = s.arm;
    for (const auto& leak : t.truth["arm_leaks"]) {
        const std::string text = leak["text"];
        const bool namesLutathera = text.find("Lu") != std::string::npos || text.find("bras A") != std::string::npos ||
                                    text.find("PRRT") != std::string::npos || text.find("C3") != std::string::npos;
        if (namesLutathera) {
            EXPECT_EQ(armOf.at(leak["subject"]), "LUTATHERA") << text;
        }
    }
}

TEST(PhantomPlan, CtNoiseSetsTheNoiseOfTheCtAndNothingElse) {
    // One CT slice rendered with no noise, the default 6 HU and --ct-noise 30: the differences
    // to the noiseless slice have those standard deviations (inside the body, where nothing is
    // clipped), and the anatomy is the same (the mean difference is ~0).
    auto slice = [](int noise) {
        phantom::Options o;
        o.seed = 4;
        o.subjects = 1;
        o.timepoints = 2;
        o.ctNoiseHu = noise;
        const phantom::TrialPlan plan = phantom::makePlan(o);
        const phantom::Subject& s = plan.subjects.front();
        for (const auto& st : s.studies)
            for (const auto& se : st.series)
                if (se.modality == "CT" && st.timepoint >= 0) {
                    std::vector<std::uint16_t> px;
                    phantom::renderSlice(plan, s, st.timepoint, se, se.slices / 2, px);
                    return px;
                }
        ADD_FAILURE() << "no CT in the plan";
        return std::vector<std::uint16_t>{};
    };
    const auto clean = slice(0), normal = slice(6), noisy = slice(30);
    ASSERT_FALSE(clean.empty());
    ASSERT_EQ(clean.size(), noisy.size());
    auto stats = [&](const std::vector<std::uint16_t>& px) {
        double sum = 0, sum2 = 0;
        int n = 0;
        for (std::size_t i = 0; i < clean.size(); ++i) {
            if (clean[i] < 1024 - 500 || clean[i] > 1024 + 500) continue; // soft tissue and fat: never clipped
            const double d = double(px[i]) - clean[i];
            sum += d;
            sum2 += d * d;
            ++n;
        }
        EXPECT_GT(n, 10000) << "too few body pixels";
        const double mean = sum / n;
        return std::pair{mean, std::sqrt(sum2 / n - mean * mean)};
    };
    const auto [m6, s6] = stats(normal);
    const auto [m30, s30] = stats(noisy);
    EXPECT_NEAR(m6, 0, 0.5);
    EXPECT_NEAR(s6, 6, 0.5);
    EXPECT_NEAR(m30, 0, 1.0);
    EXPECT_NEAR(s30, 30, 2.0);
}
