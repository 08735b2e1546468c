#include "gate/Gate.h"

#include "store/Layout.h"

#include <algorithm>

namespace gate {

namespace {

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<std::string> decode(const std::string& s, bool plusIsSpace) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            if (i + 2 >= s.size()) return std::nullopt;
            const int hi = hexValue(s[i + 1]), lo = hexValue(s[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (plusIsSpace && s[i] == '+') {
            out += ' ';
        } else {
            out += s[i];
        }
    }
    return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::size_t from = 0;
    for (;;) {
        const auto at = s.find(sep, from);
        out.push_back(s.substr(from, at == std::string::npos ? std::string::npos : at - from));
        if (at == std::string::npos) return out;
        from = at + 1;
    }
}

/// A UID, a keyword, or (after "frames") a frame list: no empty, "." or ".." segment; a comma
/// only in a frame list (a comma in a UID would be a QIDO list match in the gate's own lookup).
bool plainSegment(const std::string& s, bool frameList) {
    if (s.empty() || s == "." || s == "..") return false;
    return std::all_of(s.begin(), s.end(), [frameList](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '-' || c == '_' ||
               (frameList && c == ',');
    });
}

Decision no(std::string reason, std::string user = {}) { return {false, std::move(reason), std::move(user)}; }

/// The query's keys as the gate allows them: each at most once, from `allowed` (keyword or tag)
/// mapped to one name; includefield may repeat.
std::optional<std::map<std::string, std::string>> keys(const std::vector<std::pair<std::string, std::string>>& query,
                                                      const std::map<std::string, std::string>& allowed, std::string* why) {
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : query) {
        const auto it = allowed.find(k);
        if (it == allowed.end()) {
            *why = "the search key '" + k + "' is not allowed to this account";
            return std::nullopt;
        }
        if (it->second == "includefield") continue;
        if (out.count(it->second)) {
            *why = "the search key '" + k + "' is given twice";
            return std::nullopt;
        }
        out[it->second] = v;
    }
    return out;
}

bool plainValue(const std::string& v) { return !v.empty() && v.find_first_of("*?\\,=") == std::string::npos; }

} // namespace

std::optional<ParsedUri> parseUri(const std::string& uri) {
    const auto q = uri.find('?');
    const std::string path = uri.substr(0, q), query = q == std::string::npos ? std::string() : uri.substr(q + 1);
    if (path.empty() || path[0] != '/' || uri.find('#') != std::string::npos) return std::nullopt;
    ParsedUri out;
    auto parts = split(path.substr(1), '/');
    for (const auto& raw : parts) {
        const auto seg = decode(raw, false);
        if (!seg || !plainSegment(*seg, !out.segments.empty() && out.segments.back() == "frames")) return std::nullopt;
        out.segments.push_back(*seg);
    }
    if (!query.empty())
        for (const auto& pair : split(query, '&')) {
            if (pair.empty()) continue;
            const auto eq = pair.find('=');
            const auto k = decode(pair.substr(0, eq), true);
            const auto v = decode(eq == std::string::npos ? std::string() : pair.substr(eq + 1), true);
            if (!k || !v) return std::nullopt;
            out.query.emplace_back(*k, *v);
        }
    return out;
}

Decision decide(const Request& request, const TokenCheck& checkToken, Directory& directory) {
    if (request.method != "GET" && request.method != "HEAD") return no("this account may only read (" + request.method + " refused)");
    const auto uri = parseUri(request.uri);
    if (!uri) return no("not a plain DICOMweb path");
    const auto& s = uri->segments;
    if (s.size() < 2 || s[0] != "dicom-web" || s[1] != "studies") return no("only DICOMweb studies are open to this account");
    rq::Queue::ImageGrant grant;
    try {
        grant = checkToken(request.token);
    } catch (const rq::Refused& r) {
        return no(r.what());
    }
    const std::string& user = grant.who.user;
    const auto slash = grant.folder.find('/');
    if (slash == std::string::npos) return no("the token's folder is not a study folder", user);
    const std::string pseudonym = grant.folder.substr(0, slash), studyName = grant.folder.substr(slash + 1);
    const auto folderDate = store::studyDateOfFolder(studyName);
    std::string why;
    if (s.size() == 2) { // a study search: only for the token's folder
        const auto k = keys(uri->query,
                            {{"PatientID", "PatientID"},
                             {"00100020", "PatientID"},
                             {"StudyDate", "StudyDate"},
                             {"00080020", "StudyDate"},
                             {"includefield", "includefield"},
                             {"limit", "limit"},
                             {"offset", "offset"}},
                            &why);
        if (!k) return no(why, user);
        const auto pid = k->find("PatientID"), date = k->find("StudyDate");
        if (pid == k->end() || date == k->end()) return no("a study search names the open study's PatientID and StudyDate", user);
        if (!plainValue(pid->second) || !plainValue(date->second)) return no("no wildcards, lists or ranges in a search", user);
        if (store::safeName(pid->second) != pseudonym || !folderDate || date->second != *folderDate)
            return no("the search is not for the study the token opens", user);
        return {true, "study search for " + grant.folder, user};
    }
    // /dicom-web/studies/{S}/...: S must be the token's study
    const std::string& studyUid = s[2];
    const auto study = directory.study(studyUid);
    if (!study) return no("no such study on the server", user);
    if (store::safeName(study->patientId) + "/" + store::studyFolderName(study->studyDate, studyUid) != grant.folder)
        return no("this study is not the one the token opens", user);
    if (s.size() == 3) return no("a study is retrieved series by series (whole-study retrieval is not open to this account)", user);
    if (s[3] != "series") return no("only the study's series are open to this account", user);
    if (s.size() == 4) { // series search: image modalities only, so reports never show
        const auto k = keys(uri->query,
                            {{"Modality", "Modality"},
                             {"00080060", "Modality"},
                             {"includefield", "includefield"},
                             {"limit", "limit"},
                             {"offset", "offset"}},
                            &why);
        if (!k) return no(why, user);
        const auto m = k->find("Modality");
        if (m == k->end() || !store::isImageModality(m->second)) return no("a series search names one image modality (Modality=CT, MR, ...)", user);
        return {true, "series search (" + m->second + ") in " + grant.folder, user};
    }
    const std::string& seriesUid = s[4];
    const auto modality = directory.seriesModality(studyUid, seriesUid);
    if (!modality) return no("no such series in this study", user);
    if (!store::isImageModality(*modality)) return no("a " + *modality + " series is not open to this account", user);
    return {true, "series " + seriesUid + " of " + grant.folder, user};
}

} // namespace gate
