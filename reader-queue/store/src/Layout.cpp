#include "store/Layout.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace fs = std::filesystem;

namespace store {

namespace {
std::string tail(const std::string& uid, std::size_t n) { return uid.size() > n ? uid.substr(uid.size() - n) : uid; }
bool hidden(const fs::path& p) {
    const std::string n = p.filename().string();
    return n.empty() || n[0] == '.';
}
} // namespace

std::string safeName(std::string s) {
    for (char& c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
    return s.empty() ? std::string("_") : s;
}

bool isImageModality(const std::string& m) {
    static const char* const images[] = {"CT", "MR", "PT", "NM", "CR", "DX", "US", "XA", "RF", "MG", "OT"};
    for (const char* i : images)
        if (m == i) return true;
    return false;
}

std::string studyFolderName(const std::string& studyDate, const std::string& studyUid) {
    return safeName((studyDate.empty() ? std::string("nodate") : studyDate) + "_" + tail(studyUid, 8));
}

std::string seriesFolderName(const std::string& modality, const std::string& seriesNumber, const std::string& seriesUid) {
    return safeName(modality + "_" + (seriesNumber.empty() ? "0" : seriesNumber) + "_" + tail(seriesUid, 8));
}

fs::path seriesFolder(const fs::path& root, const std::string& pseudonym, const std::string& studyDate, const std::string& studyUid,
                      const std::string& modality, const std::string& seriesNumber, const std::string& seriesUid) {
    return root / safeName(pseudonym) / studyFolderName(studyDate, studyUid) / seriesFolderName(modality, seriesNumber, seriesUid);
}

std::optional<std::string> studyDateOfFolder(const std::string& name) {
    if (name.size() < 9 || name[8] != '_') {
        if (name.rfind("nodate_", 0) == 0) return std::string();
        return std::nullopt;
    }
    if (!std::all_of(name.begin(), name.begin() + 8, [](unsigned char c) { return std::isdigit(c); })) return std::nullopt;
    return name.substr(0, 8);
}

std::vector<StudyFolder> studiesOf(const fs::path& root, const std::string& pseudonym) {
    std::vector<StudyFolder> out;
    std::error_code ec;
    const fs::path dir = root / pseudonym;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (!it->is_directory(ec) || hidden(it->path())) continue;
        const std::string name = it->path().filename().string();
        const auto date = studyDateOfFolder(name);
        if (!date) continue;
        StudyFolder s{pseudonym + "/" + name, *date, 0};
        std::error_code ec2;
        for (fs::directory_iterator se(it->path(), ec2), e2; !ec2 && se != e2; se.increment(ec2))
            if (se->is_directory(ec2) && !hidden(se->path())) ++s.series;
        out.push_back(std::move(s));
    }
    std::sort(out.begin(), out.end(), [](const StudyFolder& a, const StudyFolder& b) { return a.relative < b.relative; });
    return out;
}

std::vector<SubjectFolder> subjects(const fs::path& root) {
    std::error_code ec;
    if (!fs::is_directory(root, ec)) throw std::runtime_error(root.string() + ": no such store folder");
    std::vector<SubjectFolder> out;
    for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
        if (!it->is_directory(ec) || hidden(it->path())) continue;
        const std::string pseudonym = it->path().filename().string();
        out.push_back({pseudonym, it->path(), studiesOf(root, pseudonym)});
    }
    std::sort(out.begin(), out.end(), [](const SubjectFolder& a, const SubjectFolder& b) { return a.pseudonym < b.pseudonym; });
    return out;
}

} // namespace store
