#include "phantom/Generator.h"

#include "DicomWriter.h"
#include "Random.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <memory>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

namespace phantom {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

/// One file to render: slice `slice` of a CT/MR series.
struct Job {
    const Subject* subject;
    int timepoint;
    const SeriesPlan* series;
    const DcmDataset* templ;
    int slice;
};

void writeAtomically(const fs::path& path, const std::string& text) {
    const fs::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        if (!out.flush()) throw std::runtime_error("cannot write " + tmp.string());
    }
    fs::rename(tmp, path);
}

double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

const char* roleName(LesionRole r) {
    switch (r) {
    case LesionRole::Target: return "TARGET";
    case LesionRole::NonTarget: return "NON-TARGET";
    case LesionRole::New: return "NEW";
    }
    return "?";
}

const SeriesPlan* seriesOf(const Subject& s, int timepoint, const char* modality) {
    for (const StudyPlan& st : s.studies) {
        if (st.timepoint != timepoint || st.unscheduled) continue;
        for (const SeriesPlan& se : st.series) {
            if (se.modality == modality) return &se;
        }
    }
    return nullptr;
}

Json slicePosition(const SeriesPlan& se, const Vec3& c) {
    const int slice = static_cast<int>(std::lround((se.firstSliceZMm - c.z) / se.sliceThicknessMm));
    return Json{{"series_uid", se.uid},
                {"slice_index", slice},
                {"instance_number", slice + 1},
                {"sop_instance_uid", se.sopInstanceUids.at(static_cast<std::size_t>(slice))},
                {"pixel", {round3((c.x - se.originXMm) / se.pixelSpacingMm[1]), round3((c.y - se.originYMm) / se.pixelSpacingMm[0])}}};
}

Json seriesJson(const StudyPlan& st, const SeriesPlan& se) {
    Json j{{"modality", se.modality}, {"series_number", se.number}, {"description", se.description},
           {"study_uid", st.uid},     {"series_uid", se.uid},       {"dir", se.dir.generic_string()},
           {"files", se.slices}};
    if (se.modality == "CT" || se.modality == "MR") {
        j["frame_of_reference_uid"] = se.frameOfReferenceUid;
        j["rows"] = se.rows;
        j["columns"] = se.columns;
        j["pixel_spacing_mm"] = {se.pixelSpacingMm[0], se.pixelSpacingMm[1]};
        j["slice_thickness_mm"] = se.sliceThicknessMm;
        // Instance 1 is the most cranial slice; instances go toward the feet.
        j["first_slice_position_mm"] = {se.originXMm, se.originYMm, se.firstSliceZMm};
        j["last_slice_position_mm"] = {se.originXMm, se.originYMm, se.zOfSlice(se.slices - 1)};
        j["image_orientation"] = {1, 0, 0, 0, 1, 0};
        j["slice_spacing_mm"] = se.sliceThicknessMm;
    }
    return j;
}

} // namespace

std::string groundTruthJson(const TrialPlan& plan) {
    Json root;
    root["generator"] = {{"name", "reluth-phantom"},
                         {"format", 1},
                         {"seed", plan.options.seed},
                         {"subjects", plan.options.subjects},
                         {"timepoints", plan.options.timepoints},
                         {"slices", plan.options.slices},
                         {"slice_thickness_mm", plan.options.sliceThicknessMm},
                         {"motion", plan.options.motion},
                         {"hard_lesions", plan.options.hardLesions},
                         {"partial_volume", plan.options.partialVolume}};
    Json sites = Json::array();
    for (const Site& s : plan.sites) {
        sites.push_back({{"code", s.code},
                         {"institution", s.institution},
                         {"address", s.address},
                         {"station_name", s.stationName},
                         {"device_serial", s.deviceSerial},
                         {"ae_title", s.aeTitle}});
    }
    root["trial"] = {{"study_id", plan.studyId},
                     {"sites", sites},
                     {"left_marker", {{"x_mm", plan.leftMarkerXMm}, {"y_mm", 10.0}, {"note", "radio-opaque bead on the patient's left"}}},
                     {"hu",
                      {{"liver", 105},
                       {"liver_lesion", 45},
                       {"lung", -860},
                       {"lung_lesion", 30},
                       {"fat", -95},
                       {"lymph_node", 38},
                       {"marker", 2500},
                       {"noise_sigma", plan.options.ctNoiseHu}}}};
    Json subjects = Json::array();
    Json leaks = Json::array();
    for (const Subject& s : plan.subjects) {
        const Site& site = plan.sites[static_cast<std::size_t>(s.site)];
        Json j{{"pseudonym", s.pseudonym},
               {"site", site.code},
               {"patient_id", s.patientId},
               {"patient_name", s.patientName},
               {"birth_date", s.birthDate},
               {"sex", s.sex},
               {"arm", s.arm},
               {"randomization_date", s.randomization.iso()},
               {"course", courseName(s.course)},
               {"has_mr", s.hasMr}};
        Json phi = {s.patientName, s.patientId,          s.otherPatientId,      s.birthDate,    s.address,
                    s.phone,       s.referringPhysician, s.performingPhysician, s.operatorName, site.institution,
                    site.address,  site.stationName,     site.deviceSerial,     site.aeTitle};
        for (const StudyPlan& st : s.studies) phi.push_back(st.accessionNumber);
        j["phi"] = phi;
        Json tps = Json::array();
        for (const TimepointPlan& tp : s.timepoints) {
            Json t{{"index", tp.index},
                   {"visitnum", tp.visitNum},
                   {"label", tp.label},
                   {"scan_date", tp.scanDate.iso()},
                   {"day_from_randomization", tp.dayFromRandomization}};
            if (plan.options.motion) {
                t["pose"] = {{"shift_mm", {round3(tp.pose.dxMm), round3(tp.pose.dyMm), round3(tp.pose.dzMm)}},
                             {"rotation_deg", round3(tp.pose.rotationDeg)},
                             {"breathing_mm", round3(tp.pose.breathingMm)},
                             {"note", "body -> scanner: rotate about z, then shift; organs also move +breathing_mm in z (nodes 0.3x)"}};
            }
            Json series = Json::array();
            for (const StudyPlan& st : s.studies) {
                if (st.timepoint != tp.index || st.unscheduled) continue;
                for (const SeriesPlan& se : st.series) series.push_back(seriesJson(st, se));
            }
            t["series"] = series;
            const int base = s.timepoints.front().sumTenthsMm;
            Json e{{"sum_of_diameters_mm", tp.sumTenthsMm / 10.0}};
            if (tp.index > 0) {
                e["pct_change_from_baseline"] = std::round(1000.0 * (tp.sumTenthsMm - base) / base) / 10.0;
                e["target_response"] = tp.targetResponse;
                e["non_target_response"] = tp.nonTargetResponse;
                e["new_lesion"] = tp.newLesion;
                e["overall_response"] = tp.overallResponse;
            }
            t["expected"] = e;
            tps.push_back(t);
        }
        j["timepoints"] = tps;
        Json unscheduled = Json::array(); // assessments outside every visit window (phantom --unscheduled)
        for (const StudyPlan& st : s.studies) {
            if (!st.unscheduled) continue;
            Json series = Json::array();
            for (const SeriesPlan& se : st.series) series.push_back(seriesJson(st, se));
            unscheduled.push_back({{"scan_date", st.date.iso()},
                                   {"day_from_randomization", st.date - s.randomization},
                                   {"anatomy_of_timepoint", st.timepoint},
                                   {"series", series}});
        }
        j["unscheduled"] = unscheduled;
        Json lesions = Json::array();
        for (const Lesion& l : s.lesions) {
            Json states = Json::array();
            for (std::size_t k = 0; k < l.states.size(); ++k) {
                const LesionState& st = l.states[k];
                Json x{{"present", st.present},
                       {"long_axis_mm", st.longMm()},
                       {"short_axis_mm", st.shortMm()},
                       {"cc_axis_mm", st.ccTenthsMm / 10.0}};
                if (l.role == LesionRole::New) x["equivocal"] = st.equivocal;
                if (st.present) {
                    // In the scanner's coordinates (the exam's pose and breathing; the body's
                    // own coordinates without --motion).
                    const Vec3 c = lesionCenterAt(s, l, static_cast<int>(k));
                    x["center_mm"] = {round3(c.x), round3(c.y), round3(c.z)};
                    Json cs{{"z_mm", round3(c.z)}};
                    if (const SeriesPlan* ct = seriesOf(s, static_cast<int>(k), "CT")) {
                        cs["ct"] = slicePosition(*ct, c);
                        // The axes on that slice (the centre may lie between slices with --motion).
                        const double dz = ct->zOfSlice(cs["ct"]["slice_index"].get<int>()) - c.z, h = st.ccTenthsMm / 20.0;
                        const double f = h > 0 && std::abs(dz) < h ? std::sqrt(1 - dz * dz / (h * h)) : 0.0;
                        cs["ct"]["long_axis_mm"] = round3(st.longMm() * f);
                        cs["ct"]["short_axis_mm"] = round3(st.shortMm() * f);
                    }
                    if (const SeriesPlan* mr = seriesOf(s, static_cast<int>(k), "MR")) cs["mr"] = slicePosition(*mr, c);
                    x["largest_cross_section"] = cs;
                }
                states.push_back(x);
            }
            Json extra;
            if (!l.kind.empty()) extra["kind"] = l.kind;
            if (l.vesselRadiusMm > 0) {
                extra["vessel"] = {{"offset_mm", {round3(l.vesselOffsetMm.x), round3(l.vesselOffsetMm.y)}},
                                   {"radius_mm", round3(l.vesselRadiusMm)},
                                   {"same_density", l.kind == "node_by_vessel"}};
            }
            lesions.push_back({{"id", l.id},
                               {"role", roleName(l.role)},
                               {"location", l.location},
                               {"nodal", l.site == LesionSite::LymphNode},
                               {"center_mm", {round3(l.centerMm.x), round3(l.centerMm.y), round3(l.centerMm.z)}},
                               {"angle_deg", round3(l.angleDeg)},
                               {"timepoints", states}});
            for (auto& [key, value] : extra.items()) lesions.back()[key] = value;
        }
        j["lesions"] = lesions;
        j["expected"] = {{"best_overall_response", s.expectedBestResponse},
                         {"progression_date", s.expectedProgressionDate},
                         {"rpfs", {{"cnsr", s.expectedRpfsCensored}, {"adt", s.expectedRpfsDate}, {"description", s.expectedRpfsDescription}}}};
        Json other = Json::array();
        for (const StudyPlan& st : s.studies) {
            if (st.timepoint >= 0) continue;
            for (const SeriesPlan& se : st.series) other.push_back(seriesJson(st, se));
        }
        j["other_series"] = other;
        for (const StudyPlan& st : s.studies) {
            for (const ArmLeak& l : st.armLeaks) {
                leaks.push_back({{"subject", s.pseudonym}, {"study_uid", st.uid}, {"where", l.where}, {"text", l.text}});
            }
            for (const SeriesPlan& se : st.series) {
                for (const ArmLeak& l : se.armLeaks) {
                    leaks.push_back(
                        {{"subject", s.pseudonym}, {"series_dir", se.dir.generic_string()}, {"where", l.where}, {"text", l.text}});
                }
            }
        }
        subjects.push_back(j);
    }
    root["subjects"] = subjects;
    root["arm_leaks"] = leaks;
    Json q = Json::array();
    for (const QuarantineItem& item : plan.quarantine) q.push_back({{"path", item.file.generic_string()}, {"reason", item.reason}});
    root["quarantine"] = q;
    root["enrolment_csv"] = "enrolment.csv";
    return root.dump(1) + "\n";
}

GenerateResult generateTrial(const Options& options) {
    GenerateResult result;
    result.plan = makePlan(options);
    const TrialPlan& plan = result.plan;
    const fs::path out = options.out;
    fs::create_directories(out);
    fs::remove(out / "ground-truth.json"); // its presence marks a complete trial
    fs::remove_all(out / "incoming");      // ours: a smaller trial must not inherit stale files

    // Templates first (single-threaded), then the slice jobs.
    std::vector<std::unique_ptr<DcmDataset>> templates;
    std::vector<Job> jobs;
    for (const Subject& s : plan.subjects) {
        for (const StudyPlan& st : s.studies) {
            for (const SeriesPlan& se : st.series) {
                fs::create_directories(out / se.dir);
                if (se.modality == "NM") {
                    writeNm(plan, s, st, se, out / se.dir / "IM00001.dcm");
                    ++result.files;
                } else if (se.modality == "SC") {
                    writeBurnedIn(plan, s, st, se, out / se.dir / "IM00001.dcm");
                    ++result.files;
                } else {
                    templates.push_back(std::make_unique<DcmDataset>(seriesTemplate(plan, s, st, se)));
                    addImagePlane(*templates.back(), se);
                    for (int i = 0; i < se.slices; ++i) jobs.push_back({&s, st.timepoint, &se, templates.back().get(), i});
                }
            }
        }
    }

    const unsigned threads =
        options.threads > 0 ? static_cast<unsigned>(options.threads) : std::max(1u, std::thread::hardware_concurrency());
    std::atomic<std::size_t> next{0};
    std::mutex errorMutex;
    std::string error;
    auto worker = [&] {
        std::vector<std::uint16_t> pixels;
        char name[32];
        for (std::size_t j; (j = next.fetch_add(1)) < jobs.size();) {
            const Job& job = jobs[j];
            std::snprintf(name, sizeof name, "IM%05d.dcm", job.slice + 1);
            try {
                writeSlice(plan, *job.subject, job.timepoint, *job.series, *job.templ, job.slice, out / job.series->dir / name, pixels,
                           job.series->sopInstanceUids[static_cast<std::size_t>(job.slice)]);
            } catch (const std::exception& e) {
                std::lock_guard<std::mutex> lock(errorMutex);
                if (error.empty()) error = e.what();
                next = jobs.size();
            }
        }
    };
    std::vector<std::thread> pool;
    for (unsigned i = 1; i < threads; ++i) pool.emplace_back(worker);
    worker();
    for (std::thread& t : pool) t.join();
    if (!error.empty()) throw std::runtime_error(error);
    result.files += jobs.size();

    // The corrupt file: a copy of a real slice with its own UID, cut in the middle of the pixels.
    {
        const fs::path file = out / plan.corruptFile;
        const Subject* owner = nullptr;
        const Job* source = nullptr;
        for (const Job& j : jobs) {
            if (j.series->dir == plan.corruptFile.parent_path() && j.slice == 0) {
                owner = j.subject;
                source = &j;
            }
        }
        if (!source) throw std::logic_error("phantom: no series for the corrupt file");
        std::vector<std::uint16_t> pixels;
        writeSlice(plan, *owner, source->timepoint, *source->series, *source->templ, 0, file, pixels,
                   uid225(mix(options.seed, "corrupt"), mix(options.seed, "corrupt-lo")));
        fs::resize_file(file, fs::file_size(file) * 3 / 5);
        ++result.files;
    }

    // Enrolment list for the anonymizer, then the ground truth (last: it marks completion).
    std::string csv = "original_patient_id,pseudonym,site,randomization_date\n";
    for (const Subject& s : plan.subjects)
        csv +=
            s.patientId + "," + s.pseudonym + "," + plan.sites[static_cast<std::size_t>(s.site)].code + "," + s.randomization.iso() + "\n";
    writeAtomically(out / "enrolment.csv", csv);
    writeAtomically(out / "ground-truth.json", groundTruthJson(plan));
    for (const auto& e : fs::recursive_directory_iterator(out / "incoming")) {
        if (e.is_regular_file()) result.bytes += e.file_size();
    }
    return result;
}

} // namespace phantom
