#pragma once
// The de-identified store's layout, owned here and nowhere else:
//   STORE/<pseudonym>/<YYYYMMDD>_<last 8 of the study UID>/<modality>_<series number>_<last 8 of the series UID>/<SOP UID>.dcm
// The anonymizer writes paths made by seriesFolder(); the queue's import and the workstation
// list subjects and studies with subjects()/studiesOf(). Names are made safe for any file
// system (letters, digits, '-', '_', '.'); a folder whose name starts with '.' is not data.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace store {

/// Letters, digits, '-', '_' and '.' kept, everything else '_' ("_" for an empty name).
std::string safeName(std::string s);
/// Modalities of images a reader may open (CT, MR, PT, ...): never reports (SR), key objects,
/// presentation states or segmentations - what the image gate and the workstation's fetch share.
bool isImageModality(const std::string& modality);
/// "<date>_<uid tail>" ("nodate_..." without a date).
std::string studyFolderName(const std::string& studyDate, const std::string& studyUid);
std::string seriesFolderName(const std::string& modality, const std::string& seriesNumber, const std::string& seriesUid);
/// Where a de-identified series goes.
std::filesystem::path seriesFolder(const std::filesystem::path& store, const std::string& pseudonym, const std::string& studyDate,
                                   const std::string& studyUid, const std::string& modality, const std::string& seriesNumber,
                                   const std::string& seriesUid);

/// One study folder of a subject.
struct StudyFolder {
    std::string relative; ///< "<pseudonym>/<date>_<uid>", relative to the store (what the queue records)
    std::string date;     ///< YYYYMMDD; empty when the study had no date
    int series = 0;       ///< series folders inside
};
struct SubjectFolder {
    std::string pseudonym;
    std::filesystem::path path;
    std::vector<StudyFolder> studies; ///< by name, i.e. by date
};

/// The study folder a name describes, or nothing when the name is not one of the store's.
std::optional<std::string> studyDateOfFolder(const std::string& name);
/// The subjects of a store, by pseudonym, each with its study folders. A store that does not
/// exist is an error (std::runtime_error naming it).
std::vector<SubjectFolder> subjects(const std::filesystem::path& store);
/// The study folders of one subject folder.
std::vector<StudyFolder> studiesOf(const std::filesystem::path& store, const std::string& pseudonym);

} // namespace store
