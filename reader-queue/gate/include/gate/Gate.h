#pragma once
// The gate in front of the trial's image server: nginx asks it (auth_request) about every
// request a gated account (a reader's, an adjudicator's) makes, and it says yes only to what the
// queue has opened to the token's user - read-only DICOMweb of one study folder, its image series
// and nothing else. Pure rules here; the server (reader-queue-gate) adds the HTTP and the lookups.
//
// Allowed, with a valid image token (X-Reluth-Token, Queue::checkImageToken) for folder F =
// "<pseudonym>/<date>_<uid tail>", GET only:
//   /dicom-web/studies?PatientID=<F's pseudonym>&StudyDate=<F's date>[&includefield=..][&limit=..][&offset=..]
//   /dicom-web/studies/{S}/series?Modality=<an image modality>[&includefield=..]...   S: F's study
//   /dicom-web/studies/{S}/series/{X}[/...]   X: a series of S whose modality is an image modality
// where "F's study" means the server's PatientID and StudyDate of S name F exactly as the store
// does (store::safeName, store::studyFolderName). Everything else is refused with a reason: other
// methods, Orthanc's own REST API, whole-study retrieval, study metadata, searches without the
// folder's keys or with wildcards, reports (SR), key objects, presentation states, segmentations.
#include "readerqueue/Queue.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gate {

struct Request {
    std::string method; ///< GET, POST, ...
    std::string uri;    ///< the raw request URI as the client sent it ($request_uri)
    std::string token;  ///< X-Reluth-Token
};

struct Decision {
    bool allow = false;
    std::string reason; ///< why not (or what was allowed), for the client and the log
    std::string user;   ///< the token's user, when known
};

/// What the gate asks the image server (with an open service account), cached by the caller.
struct Directory {
    struct Study {
        std::string patientId, studyDate;
    };
    virtual ~Directory() = default;
    virtual std::optional<Study> study(const std::string& studyUid) = 0;
    virtual std::optional<std::string> seriesModality(const std::string& studyUid, const std::string& seriesUid) = 0;
};

using TokenCheck = std::function<rq::Queue::ImageGrant(const std::string& token)>;

/// The request's path segments (percent-decoded) and query parameters; nothing when the URI is
/// not plain (an empty, "." or ".." segment, an encoded '/', a character outside a UID's, a
/// keyword's or a frame list's).
struct ParsedUri {
    std::vector<std::string> segments;
    std::vector<std::pair<std::string, std::string>> query;
};
std::optional<ParsedUri> parseUri(const std::string& uri);

Decision decide(const Request& request, const TokenCheck& checkToken, Directory& directory);

} // namespace gate
