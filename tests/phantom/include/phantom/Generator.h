// The synthetic trial phantom: writes a whole ReLUTH-like trial of real DICOM files (site
// drops full of PHI and arm leaks, as the anonymizer will receive them) plus the ground truth.
//
//   DIR/incoming/site-XX/<patient id>/<date>_<accession>/S<nnn>_<modality>/IM<nnnnn>.dcm
//   DIR/ground-truth.json   the trial, every lesion's true size and position per timepoint,
//                           the expected RECIST course, the PHI and arm leaks planted, and the
//                           files that must be quarantined (written last: its presence means
//                           the trial is complete)
//   DIR/enrolment.csv       original_patient_id,pseudonym,site - the anonymizer's input
#pragma once

#include "phantom/Plan.h"

#include <cstddef>
#include <string>

namespace phantom {

struct GenerateResult {
    TrialPlan plan;
    std::size_t files = 0;
    std::size_t bytes = 0;
};

/// Generates the trial into options.out (created if needed). Throws on I/O errors.
GenerateResult generateTrial(const Options& options);

/// The ground truth document for a plan (what ground-truth.json holds), as JSON text.
std::string groundTruthJson(const TrialPlan& plan);

} // namespace phantom
