// Enrolment list and the re-identification key.
#include "recist/Csv.h"
#include "anonymizer/Anonymizer.h"

#include <nlohmann/json.hpp>
#include <sodium.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

namespace anon {

namespace fs = std::filesystem;

namespace {

std::string trim(std::string s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return {};
    const auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

void writeFileAtomically(const fs::path& path, const std::string& data) {
    const fs::path tmp = path.parent_path() / ("." + path.filename().string() + ".tmp");
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw Error(tmp.string() + ": cannot create: " + std::strerror(errno));
    std::size_t off = 0;
    while (off < data.size()) {
        const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n <= 0) {
            ::close(fd);
            throw Error(tmp.string() + ": write failed: " + std::strerror(errno));
        }
        off += static_cast<std::size_t>(n);
    }
    ::fsync(fd);
    ::close(fd);
    fs::rename(tmp, path);
}

void initSodium() {
    if (sodium_init() < 0) throw Error("libsodium failed to initialise");
}

} // namespace

Enrolment Enrolment::load(const fs::path& csv) {
    std::ifstream in(csv, std::ios::binary);
    if (!in) throw Error(csv.string() + ": cannot open the enrolment list");
    std::stringstream ss;
    ss << in.rdbuf();
    return parse(ss.str(), csv.string());
}

Enrolment Enrolment::parse(const std::string& text, const std::string& file) {
    Enrolment e;
    std::vector<std::string> f;
    int lineNo = 0;
    int idCol = -1, pseudoCol = -1, randCol = -1;
    std::size_t columns = 0;
    std::map<std::string, int> pseudonyms;
    auto fail = [&](const std::string& msg) { throw Error(file + ":" + std::to_string(lineNo) + ": " + msg); };
    recist::csv::Reader reader(text); // the project's one CSV reader: quoted fields may hold line breaks
    std::vector<std::string_view> fields;
    while (reader.next(fields, lineNo)) {
        if (reader.unterminated()) fail("unterminated quoted field");
        f.clear();
        for (std::string_view v : fields) f.push_back(trim(std::string(v)));
        if (idCol < 0) {
            for (std::size_t i = 0; i < f.size(); ++i) {
                if (f[i] == "original_patient_id")
                    idCol = static_cast<int>(i);
                else if (f[i] == "pseudonym")
                    pseudoCol = static_cast<int>(i);
                else if (f[i] == "randomization_date")
                    randCol = static_cast<int>(i);
            }
            if (idCol < 0 || pseudoCol < 0) fail("the header must name the columns original_patient_id and pseudonym");
            columns = f.size();
            continue;
        }
        if (f.size() != columns)
            fail("expected " + std::to_string(columns) + " fields as in the header, found " + std::to_string(f.size()));
        EnrolledPatient p;
        p.originalId = f[static_cast<std::size_t>(idCol)];
        p.pseudonym = f[static_cast<std::size_t>(pseudoCol)];
        if (p.originalId.empty()) fail("empty original_patient_id");
        if (p.pseudonym.empty()) fail("empty pseudonym");
        if (p.pseudonym.size() > 64) fail("pseudonym longer than 64 characters (DICOM LO)");
        for (char c : p.pseudonym) {
            if (static_cast<unsigned char>(c) < 0x20 || c == '\\' || c == '^' || static_cast<unsigned char>(c) > 0x7E)
                fail("pseudonym '" + p.pseudonym + "' must be printable ASCII without '\\' or '^'");
        }
        if (randCol >= 0 && !f[static_cast<std::size_t>(randCol)].empty()) {
            recist::Date d;
            if (!recist::Date::parse(f[static_cast<std::size_t>(randCol)], d)) fail("randomization_date is not YYYY-MM-DD");
            p.randomization = d;
        }
        if (e.byId_.count(p.originalId)) fail("original_patient_id '" + p.originalId + "' listed twice");
        if (pseudonyms.count(p.pseudonym)) fail("pseudonym '" + p.pseudonym + "' given to two patients");
        pseudonyms[p.pseudonym] = lineNo;
        e.byId_[p.originalId] = e.patients_.size();
        e.patients_.push_back(std::move(p));
    }
    if (idCol < 0) throw Error(file + ": empty enrolment list (no header)");
    return e;
}

const EnrolledPatient* Enrolment::find(std::string_view id) const {
    auto it = byId_.find(id);
    return it == byId_.end() ? nullptr : &patients_[it->second];
}

KeyStore::KeyStore(fs::path file, std::string secret) : file_(std::move(file)), secret_(std::move(secret)) {
    initSodium();
    if (secret_.size() < crypto_generichash_KEYBYTES_MIN) throw Error("key secret too short");
}

std::unique_ptr<KeyStore> KeyStore::openOrCreate(const fs::path& file) {
    initSodium();
    if (fs::exists(file)) {
        std::ifstream in(file, std::ios::binary);
        nlohmann::json j;
        try {
            in >> j;
        } catch (const std::exception& e) {
            throw Error(file.string() + ": not a valid key file: " + e.what());
        }
        if (!j.contains("secret") || !j["secret"].is_string()) throw Error(file.string() + ": key file has no secret");
        const std::string hex = j["secret"].get<std::string>();
        std::string secret(hex.size() / 2, '\0');
        std::size_t len = 0;
        if (sodium_hex2bin(reinterpret_cast<unsigned char*>(secret.data()), secret.size(), hex.c_str(), hex.size(), nullptr, &len,
                           nullptr) != 0)
            throw Error(file.string() + ": secret is not hex");
        secret.resize(len);
        auto k = std::make_unique<KeyStore>(file, secret);
        if (j.contains("uids")) {
            for (auto& [o, n] : j["uids"].items()) k->uids_[o] = n.get<std::string>();
        }
        if (j.contains("subjects")) {
            for (auto& [o, s] : j["subjects"].items())
                k->subjects_[o] = {s.value("pseudonym", ""), s.value("date_shift_days", 0), s.value("reading_id", "")};
        }
        return k;
    }
    std::string secret(32, '\0');
    randombytes_buf(secret.data(), secret.size());
    auto k = std::make_unique<KeyStore>(file, secret);
    if (!file.parent_path().empty()) fs::create_directories(file.parent_path());
    k->save(); // the secret must exist before any UID derived from it is written
    return k;
}

std::string KeyStore::keyedHashHex(std::string_view what, std::size_t bytes) const {
    std::vector<unsigned char> h(bytes);
    crypto_generichash(h.data(), h.size(), reinterpret_cast<const unsigned char*>(what.data()), what.size(),
                       reinterpret_cast<const unsigned char*>(secret_.data()), secret_.size());
    std::string hex(bytes * 2 + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), h.data(), h.size());
    hex.pop_back();
    return hex;
}

std::string KeyStore::remapUid(std::string_view uid) {
    unsigned char h[16];
    const std::string msg = "uid:" + std::string(uid);
    crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
                       reinterpret_cast<const unsigned char*>(secret_.data()), secret_.size());
    unsigned __int128 v = 0;
    for (unsigned char b : h) v = (v << 8) | b;
    char digits[48];
    int n = 0;
    do {
        digits[n++] = static_cast<char>('0' + static_cast<int>(v % 10));
        v /= 10;
    } while (v != 0);
    std::string out = "2.25.";
    while (n > 0) out.push_back(digits[--n]);
    std::lock_guard<std::mutex> lock(mutex_);
    uids_.emplace(std::string(uid), out);
    return out;
}

int KeyStore::dateShiftDays(std::string_view originalPatientId) const {
    unsigned char h[8];
    const std::string msg = "date-shift:" + std::string(originalPatientId);
    crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
                       reinterpret_cast<const unsigned char*>(secret_.data()), secret_.size());
    std::uint64_t v = 0;
    for (unsigned char b : h) v = (v << 8) | b;
    return -static_cast<int>(1 + v % 1095); // 1 day to 3 years back, whole days
}

std::string KeyStore::readingId(const std::string& originalId, const std::function<bool(std::string_view)>& refused) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = subjects_.find(originalId);
    // A recorded ID stays - unless it reads as what the leak scan refuses (a key made before the
    // IDs were letters only, or before an arm word was added): no file of the subject can have
    // been stored under it then, so a new draw replaces it.
    if (it != subjects_.end() && !it->second.readingId.empty() && !(refused && refused(it->second.readingId)))
        return it->second.readingId;
    // Letters only - Crockford's base32 letters, without I, L, O, U: nothing a reader could
    // misread or take for a site number. One word of seven letters after "R-": it never reads as
    // a number a site sends (a study ID "12") or as a short arm word ("C3": with digits in the
    // alphabet one subject in 200 got an ID holding one and was quarantined whole as a leak).
    static constexpr char kAlphabet[] = "ABCDEFGHJKMNPQRSTVWXYZ";
    constexpr std::uint64_t kLetters = sizeof kAlphabet - 1;
    std::string id;
    for (int attempt = 0; attempt < 10000; ++attempt) {
        unsigned char h[8];
        const std::string msg = "reading-id:" + std::to_string(attempt) + ":" + originalId;
        crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
                           reinterpret_cast<const unsigned char*>(secret_.data()), secret_.size());
        std::uint64_t v = 0;
        for (unsigned char b : h) v = (v << 8) | b;
        id = "R-";
        for (int i = 0; i < 7; ++i, v /= kLetters) id.push_back(kAlphabet[v % kLetters]);
        bool taken = false;
        for (const auto& [o, s] : subjects_) taken = taken || (o != originalId && s.readingId == id);
        if (taken || (refused && refused(id))) continue;
        break;
    }
    // (after 10,000 refused draws the last one is kept: the leak scan then quarantines the file
    // with the reason, which is safe and says what to change)
    subjects_[originalId].readingId = id;
    return id;
}

void KeyStore::noteSubject(const std::string& originalId, const std::string& pseudonym, int shiftDays) {
    std::lock_guard<std::mutex> lock(mutex_);
    SubjectKey& k = subjects_[originalId];
    k.pseudonym = pseudonym;
    k.shift = shiftDays;
}

void KeyStore::save() {
    std::lock_guard<std::mutex> lock(mutex_);
    nlohmann::json j;
    j["format"] = 1;
    j["note"] = "RELUTH re-identification key: trial manager only, never inside the image store";
    std::string hex(secret_.size() * 2 + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(secret_.data()), secret_.size());
    hex.pop_back();
    j["secret"] = hex;
    nlohmann::json subjects = nlohmann::json::object();
    for (const auto& [o, s] : subjects_)
        subjects[o] = {{"pseudonym", s.pseudonym}, {"date_shift_days", s.shift}, {"reading_id", s.readingId}};
    j["subjects"] = subjects;
    nlohmann::json uids = nlohmann::json::object();
    for (const auto& [o, n] : uids_) uids[o] = n;
    j["uids"] = uids;
    writeFileAtomically(file_, j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    ::chmod(file_.c_str(), 0600);
}

fs::path defaultKeyPath(const fs::path& store) {
    fs::path s = fs::absolute(store).lexically_normal();
    if (!s.has_filename()) s = s.parent_path();
    return s.parent_path() / (s.filename().string() + ".key.json");
}

fs::path defaultAuditPath(const fs::path& store) {
    fs::path s = fs::absolute(store).lexically_normal();
    if (!s.has_filename()) s = s.parent_path();
    return s.parent_path() / (s.filename().string() + ".audit.jsonl");
}

} // namespace anon
