// build/bin/charter-check: validates a trial charter and prints what each module will read.
// Exit 0 when valid; 1 with every problem listed (field and reason) when not.
#include "charter/Charter.h"

#include <cstdio>
#include <string>

namespace {

const char* yesNo(bool b) { return b ? "yes" : "no"; }

std::string joined(const std::vector<std::string>& items) {
    std::string s;
    for (const auto& i : items) s += (s.empty() ? "" : ", ") + i;
    return s;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2 || std::string(argv[1]) == "--help") {
        std::fprintf(argc == 2 ? stdout : stderr, "usage: charter-check CHARTER.json\n");
        return argc == 2 ? 0 : 2;
    }
    try {
        const charter::Charter c = charter::loadCharter(argv[1]);
        const auto& v = c.visits;
        std::printf("%s: valid charter %s (format %d)\n", argv[1], c.version.c_str(), c.format);
        std::printf("  trial           %s - %s (%s), sponsor %s, %d subjects planned\n", c.trial.studyId.c_str(), c.trial.title.c_str(),
                    c.trial.registryId.c_str(), c.trial.sponsor.c_str(), c.trial.plannedSubjects);
        std::printf("  visits          %s (visit %d, up to %d days before randomization), then %d follow-ups every %d days "
                    "(+-%d): %s ... %s\n",
                    v.baselineLabel.c_str(), v.baselineVisit, v.baselineWindowBeforeRandomizationDays, v.followups, v.intervalDays,
                    v.windowDays, v.labelOfFollowup(1).c_str(), v.labelOfFollowup(v.followups).c_str());
        std::printf("  recist          confirmation %s (>= %d days), SD >= %d days, disease control at day %d +- %d\n",
                    yesNo(c.recist.confirmationRequired), c.recist.confirmationMinDays, c.recist.sdMinDaysFromBaseline,
                    c.recist.dcrLandmarkDays, c.recist.dcrWindowDays);
        const auto& t = c.reading.triggers;
        std::printf("  reading         %s, timepoints in order: %s; adjudication when: %s%s%sprogression dates > %d days "
                    "apart%s%s\n",
                    c.reading.paradigm.c_str(), yesNo(c.reading.readTimepointsInOrder),
                    t.differentTimepointResponse ? "timepoint responses differ, " : "",
                    t.differentBestOverallResponse ? "best responses differ, " : "",
                    t.progressionInOneReadOnly ? "PD in one read only, " : "", t.progressionDateDifferenceDays,
                    t.differentDiseaseControlAtLandmark ? ", disease control at the landmark differs" : "", "");
        std::printf("  blinding        arm hidden: %s, site hidden: %s, other reader hidden: %s; readers see: %s\n",
                    yesNo(c.blinding.hideTreatmentArm), yesNo(c.blinding.hideSite), yesNo(c.blinding.hideOtherReader),
                    joined(c.blinding.readerVisibleFields).c_str());
        const auto& d = c.deidentification;
        std::printf("  de-id           PS3.15 %s profile (%s), dates %s, clean descriptors %s, patient characteristics "
                    "%s; %zu arm words (%s); quarantine: radiopharmaceuticals %s, burned-in %s, secondary capture %s; "
                    "modalities %s\n",
                    d.profile.c_str(), d.dicomEdition.c_str(),
                    d.temporal == charter::TemporalOption::FullDates ? "kept" : "shifted per subject", yesNo(d.cleanDescriptors),
                    d.retainPatientCharacteristics ? "kept" : "removed", d.armWords.size(),
                    d.armTextAction == charter::ArmTextAction::Clean ? "cleaned" : "element removed",
                    joined(d.quarantine.radiopharmaceuticalWords).c_str(), yesNo(d.quarantine.burnedInAnnotation),
                    yesNo(d.quarantine.secondaryCapture), joined(d.quarantine.allowedModalities).c_str());
        return 0;
    } catch (const charter::CharterError& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
