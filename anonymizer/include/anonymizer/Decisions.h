#pragma once
// The data manager's decisions about quarantined files (issue 14): list them with their reasons,
// release one (its original bytes run through the whole anonymizer again with the quarantine
// rules its reasons name overridden - de-identification, the allow-list and the leak scan always
// apply, so a released file is as clean as any other) or discard one; each decision, with its
// required reason and the file's SHA-256, goes into the reading queue's hash-chained audit trail.
// Shared by the `quarantine` tool and the workstation's data-manager screen.
#include "anonymizer/Anonymizer.h"

#include <filesystem>
#include <string>
#include <vector>

namespace rq {
class Queue;
struct Session;
} // namespace rq

namespace anon {

/// A quarantined file with its reason record (the store owns the record's format).
using QuarantinedFile = store::QuarantineRecord;

/// Every quarantined file with its reasons (from the .reason.json beside it), by path; a file
/// whose reason file is missing or unreadable is listed with that as its reason.
std::vector<QuarantinedFile> listQuarantine(const std::filesystem::path& quarantine);

/// The quarantine rules a release overrides: the categories of the file's reasons that a person
/// may decide about (arm-series, burned-in, secondary-capture, modality). Others (corrupt,
/// not-dicom, not-enrolled, leak, duplicate-uid, write-error) cannot be released: the file would
/// only be quarantined again, and the release is refused saying why.
std::set<std::string> releasableOverrides(const QuarantinedFile& f, std::string* whyNot);

/// An anonymizer configured for releases outside the `anonymize` tool (the workstation): the
/// queue's charter, the project's tables, the store's key and audit log beside it.
std::unique_ptr<KeyStore> configureRelease(Config& cfg, const charter::Charter& charter, const std::filesystem::path& store,
                                           const std::filesystem::path& quarantine, const std::filesystem::path& enrolment);

/// Releases: the anonymizer stores the file (then its quarantine copy and reason file go) or the
/// release is refused and nothing changes. Recorded in the queue's audit trail. Returns where it went.
std::string release(rq::Queue& queue, const rq::Session& dataManager, Anonymizer& anonymizer, const QuarantinedFile& f,
                    const std::string& reason);
/// Discards: the quarantined copy and its reason file are deleted; recorded with its SHA-256.
void discard(rq::Queue& queue, const rq::Session& dataManager, const QuarantinedFile& f, const std::string& reason);

} // namespace anon
