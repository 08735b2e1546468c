#include "readerqueue/Queue.h"

#include "store/Layout.h"
#include "store/Visit.h"

#include "States.h"

#include <sodium.h>

#include <dcmtk/dcmdata/dctk.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

namespace rq {

namespace fs = std::filesystem;
using workflow::Role;

namespace {

/// The Clinical Trial Subject Reading ID (0012,0042) the anonymizer wrote into a subject's files
/// (the first file that has one), empty when none does.
std::string readingIdInFiles(const fs::path& subjectFolder) {
    std::error_code ec;
    for (fs::recursive_directory_iterator it(subjectFolder, ec), end; !ec && it != end; it.increment(ec)) {
        if (!it->is_regular_file(ec)) continue;
        DcmFileFormat f;
        if (f.loadFile(it->path().c_str(), EXS_Unknown, EGL_noChange, 4096, ERM_autoDetect).bad()) continue;
        OFString v;
        if (f.getDataset()->findAndGetOFStringArray(DCM_ClinicalTrialSubjectReadingID, v).good() && !v.empty()) {
            std::string id(v.c_str());
            while (!id.empty() && id.back() == ' ') id.pop_back();
            if (!id.empty()) return id;
        }
    }
    return {};
}

/// The Clinical Trial Time Point ID (0012,0050) the anonymizer wrote into a study's files (the
/// first file read that has one), empty when none does.
std::string timePointIdInFiles(const fs::path& studyFolder) {
    std::error_code ec;
    for (fs::recursive_directory_iterator it(studyFolder, ec), end; !ec && it != end; it.increment(ec)) {
        if (!it->is_regular_file(ec) || it->path().filename().string().rfind(".", 0) == 0) continue;
        DcmFileFormat f;
        if (f.loadFile(it->path().c_str(), EXS_Unknown, EGL_noChange, 4096, ERM_autoDetect).bad()) continue;
        OFString v;
        if (f.getDataset()->findAndGetOFStringArray(DCM_ClinicalTrialTimePointID, v).good()) {
            std::string id(v.c_str());
            while (!id.empty() && id.back() == ' ') id.pop_back();
            return id;
        }
        return {};
    }
    return {};
}

/// The reading ID from the files, or a random one (a store written before the anonymizer wrote
/// them); never one another subject already has.
std::string uniqueReadingId(rq::Database& db, std::string id) {
    static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    auto taken = [&](const std::string& x) {
        return x.empty() || !db.query("SELECT pseudonym FROM subjects WHERE reading_id = ?", {x}).empty();
    };
    while (taken(id)) {
        unsigned char b[7];
        randombytes_buf(b, sizeof b);
        id = "Q-";
        for (unsigned char c : b) id.push_back(kAlphabet[c & 31]);
    }
    return id;
}

constexpr int kMaxFailedLogins = 5;

} // namespace

fs::path defaultCharterPath() {
    if (const char* env = std::getenv("RELUTH_CHARTER")) return env;
    std::error_code ec;
    const fs::path exe = fs::canonical("/proc/self/exe", ec);
    return (ec ? fs::current_path() : exe.parent_path()) / ".." / ".." / "assets" / "charters" / "reluth.json";
}

Role roleFromName(const std::string& n) {
    if (n == "reader") return Role::Reader;
    if (n == "adjudicator") return Role::Adjudicator;
    if (n == "manager") return Role::Manager;
    if (n == "administrator") return Role::Administrator;
    if (n == "data_manager") return Role::DataManager;
    throw Refused("BAD_ROLE", "unknown role '" + n + "' (reader, adjudicator, manager, administrator, data_manager)");
}
std::string roleKey(Role r) {
    switch (r) {
    case Role::Reader: return "reader";
    case Role::Adjudicator: return "adjudicator";
    case Role::Manager: return "manager";
    case Role::Administrator: return "administrator";
    case Role::DataManager: return "data_manager";
    }
    return "?";
}

void Queue::decideQuarantined(const Session& dm, const std::string& file, const std::string& sha256, bool release,
                              const std::string& reason, const std::function<std::string()>& act) {
    const std::string operation = release ? "release a quarantined file" : "discard a quarantined file";
    const std::string object = "quarantine:" + file;
    require(dm, {Role::DataManager}, operation);
    if (reason.find_first_not_of(" \t\n") == std::string::npos)
        refuse(dm, operation, object, "REASON_REQUIRED", "a decision about a quarantined file needs a reason");
    audited(dm, operation, object, [&] {
        std::string outcome;
        try {
            outcome = act(); // the file operation; inside the transaction, so a failure records nothing but the refusal
        } catch (const Refused&) {
            throw;
        } catch (const std::exception& e) {
            throw Refused("DECISION_FAILED", e.what());
        }
        record(dm.user, release ? "quarantine.release" : "quarantine.discard", object, "sha256:" + sha256, outcome, reason);
    });
}

Queue::Queue(std::unique_ptr<Database> db, const fs::path& charterFile) : db_(std::move(db)) {
    if (sodium_init() < 0) throw DbError("libsodium failed to initialise");
    db_->migrate();
    std::ifstream in(charterFile, std::ios::binary);
    if (!in) throw DbError(charterFile.string() + ": cannot read the trial charter");
    std::stringstream text;
    text << in.rdbuf();
    loadTrial(text.str(), charterFile.string());
}

Queue::Queue(std::unique_ptr<Database> db) : db_(std::move(db)) {
    if (sodium_init() < 0) throw DbError("libsodium failed to initialise");
    db_->migrate();
    const auto rows = db_->query("SELECT charter FROM trial");
    if (rows.empty()) throw Refused("NO_TRIAL", "the database holds no trial yet: reader-queue init --charter FILE");
    charter_ = charter::parseCharter(rows[0][0], "the charter stored in the database");
    readersPerSubject_ = charter_.reading.readersPerSubject;
}

void Queue::loadTrial(const std::string& text, const std::string& source) {
    charter_ = charter::parseCharter(text, source);
    readersPerSubject_ = charter_.reading.readersPerSubject;
    db_->write([&] {
        const auto rows = db_->query("SELECT study_id, charter_version FROM trial");
        if (rows.empty()) {
            db_->exec("INSERT INTO trial (id, study_id, charter_version, charter, loaded_at) VALUES (1, ?, ?, ?, ?)",
                      {charter_.trial.studyId, charter_.version, text, utcNow()});
            record("system", "trial.create", "trial:" + charter_.trial.studyId, {},
                   "charter " + charter_.version + " sha256:" + sha256Hex(text));
        } else if (rows[0][0] != charter_.trial.studyId || rows[0][1] != charter_.version) {
            throw Refused("CHARTER_MISMATCH", "the database holds trial " + rows[0][0] + " under charter " + rows[0][1] + "; " + source +
                                                  " is " + charter_.trial.studyId + " charter " + charter_.version);
        }
    });
}

void Queue::refuse(const Session& s, const std::string& operation, const std::string& object, const std::string& rule,
                   const std::string& message) {
    db_->write([&] { record(s.user, "refused." + operation, object, {}, rule, message); });
    throw Refused(rule, message);
}

void Queue::record(const std::string& user, const std::string& action, const std::string& object, const std::string& oldValue,
                   const std::string& newValue, const std::string& reason) {
    AuditEntry e;
    e.user = user;
    e.action = action;
    e.object = object;
    e.oldValue = oldValue;
    e.newValue = newValue;
    e.reason = reason;
    db_->appendAudit(std::move(e));
}

void Queue::audited(const Session& s, const std::string& operation, const std::string& object, const std::function<void()>& f) {
    try {
        db_->write(f);
    } catch (const Refused& r) {
        // the change was rolled back; the refusal itself is recorded
        db_->write([&] { record(s.user, "refused." + operation, object, {}, r.rule, r.what()); });
        throw;
    }
}

void Queue::require(const Session& s, std::initializer_list<Role> roles, const std::string& operation) {
    if (std::find(roles.begin(), roles.end(), s.role) != roles.end()) return;
    refuse(s, operation, "role:" + roleKey(s.role), "ROLE", "a " + roleKey(s.role) + " may not " + operation);
}

// users -------------------------------------------------------------------------------------------

void Queue::addUser(const Session* by, const std::string& name, Role role, const std::string& password) {
    const bool bootstrap = db_->query("SELECT COUNT(*) FROM users")[0][0] == "0";
    if (!bootstrap) {
        if (!by) throw Refused("ROLE", "adding a user needs an administrator's session");
        require(*by, {Role::Administrator}, "add users");
    } else if (role != Role::Administrator) {
        throw Refused("BOOTSTRAP", "the first user must be an administrator");
    }
    if (name.empty() || name.size() > 64) throw Refused("BAD_NAME", "a user name has 1 to 64 characters");
    if (password.size() < 10) throw Refused("WEAK_PASSWORD", "a password has at least 10 characters");
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(hash, password.c_str(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0)
        throw DbError("out of memory hashing the password");
    db_->write([&] {
        if (!db_->query("SELECT name FROM users WHERE name = ?", {name}).empty()) throw Refused("USER_EXISTS", "user " + name + " exists");
        db_->exec("INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)", {name, roleKey(role), hash, utcNow()});
        record(by ? by->user : name, "user.add", "user:" + name, {}, roleKey(role));
    });
}

Session Queue::login(const std::string& name, const std::string& password) {
    const auto rows = db_->query("SELECT role, password_hash, failed_logins, locked FROM users WHERE name = ?", {name});
    auto fail = [&](const std::string& rule, const std::string& message, bool count) {
        db_->write([&] {
            if (count && !rows.empty()) {
                const int failed = std::stoi(rows[0][2]) + 1;
                db_->exec("UPDATE users SET failed_logins = ?, locked = ? WHERE name = ?",
                          {std::to_string(failed), failed >= kMaxFailedLogins ? "1" : "0", name});
            }
            record(name, "login.failed", "user:" + name, {}, {}, message);
        });
        throw Refused(rule, message);
    };
    if (rows.empty()) fail("LOGIN_FAILED", "unknown user or wrong password", false);
    if (rows[0][3] == "1")
        fail("LOCKED", "the account is locked after " + std::to_string(kMaxFailedLogins) + " failed logins: ask an administrator", false);
    if (crypto_pwhash_str_verify(rows[0][1].c_str(), password.c_str(), password.size()) != 0)
        fail("LOGIN_FAILED", "unknown user or wrong password", true);
    db_->write([&] {
        db_->exec("UPDATE users SET failed_logins = 0 WHERE name = ?", {name});
        record(name, "login", "user:" + name);
    });
    return {name, roleFromName(rows[0][0])};
}

// timepoints --------------------------------------------------------------------------------------

Queue::ImportResult Queue::importStore(const Session& by, const fs::path& storeDir) {
    require(by, {Role::Manager}, "import timepoints");
    ImportResult result;
    std::vector<store::SubjectFolder> subjects;
    try {
        subjects = store::subjects(storeDir);
    } catch (const std::exception& e) {
        throw Refused("NO_STORE", e.what());
    }
    for (const store::SubjectFolder& s : subjects) {
        const std::string& pseudonym = s.pseudonym;
        std::vector<store::StudyRef> refs;
        std::map<std::string, int> seriesOf;
        for (const store::StudyFolder& st : s.studies) {
            refs.push_back({st.relative, st.date, timePointIdInFiles(storeDir / st.relative)});
            seriesOf[st.relative] = st.series;
        }
        db_->write([&] {
            const auto knownSubject = db_->query("SELECT reading_id FROM subjects WHERE pseudonym = ?", {pseudonym});
            if (knownSubject.empty()) {
                db_->exec("INSERT INTO subjects (pseudonym, registered_at, reading_id) VALUES (?, ?, ?)",
                          {pseudonym, utcNow(), uniqueReadingId(*db_, readingIdInFiles(s.path))});
                ++result.subjects;
            } else if (knownSubject[0][0].empty()) { // registered before reading IDs existed
                db_->exec("UPDATE subjects SET reading_id = ? WHERE pseudonym = ?",
                          {uniqueReadingId(*db_, readingIdInFiles(s.path)), pseudonym});
            }
            // the visits: reader-queue/store assigns studies to the charter's timepoints
            std::vector<std::string> notes;
            const auto visits = store::assessments(charter_.visits, refs, datesOf(pseudonym).randomization, &notes);
            for (const std::string& n : notes) result.notes.push_back(pseudonym + ": " + n);
            struct Registered {
                int ordinal = 0;
                std::string date, visitId;
            };
            std::vector<Registered> known;
            for (const auto& k :
                 db_->query("SELECT ordinal, study_date, visit_id FROM timepoints WHERE subject = ? ORDER BY ordinal", {pseudonym}))
                known.push_back({std::stoi(k[0]), k[1], k[2]});
            std::map<std::string, int> ordinalOfFolder;
            for (const auto& f : db_->query("SELECT store_path, ordinal FROM timepoint_studies WHERE subject = ?", {pseudonym}))
                ordinalOfFolder[f[0]] = std::stoi(f[1]);
            int ordinal = known.empty() ? 0 : known.back().ordinal;
            for (const store::Assessment& a : visits) {
                // the registered timepoint of this visit: one of its studies is registered to it,
                // or (older databases, or a study of the same visit that arrived later) the same visit
                int tp = 0;
                for (const std::string& f : a.folders)
                    if (auto it = ordinalOfFolder.find(f); it != ordinalOfFolder.end()) tp = it->second;
                if (tp == 0)
                    for (const Registered& k : known)
                        if ((!k.visitId.empty() && k.visitId == a.visit.id && a.visit.scheduled()) ||
                            (k.visitId.empty() && k.date == a.date))
                            tp = k.ordinal;
                std::vector<std::string> fresh;
                for (const std::string& f : a.folders)
                    if (!ordinalOfFolder.count(f)) fresh.push_back(f);
                if (fresh.empty()) continue;
                if (tp == 0) {
                    if (!known.empty() && a.date < known.back().date) {
                        result.problems.push_back(pseudonym + ": studies of " + a.date + " (" + a.visit.label +
                                                  ") are dated before the last registered timepoint (" + known.back().date +
                                                  "): not registered");
                        continue;
                    }
                    tp = ++ordinal;
                    db_->exec("INSERT INTO timepoints (subject, ordinal, study_date, series_count, state, registered_at, visit_id, "
                              "visit_num, visit_label) "
                              "VALUES (?, ?, ?, 0, 'registered', ?, ?, ?, ?)",
                              {pseudonym, std::to_string(tp), a.date, utcNow(), a.visit.id, a.visit.visitNum, a.visit.label});
                    for (const auto& as : db_->query("SELECT slot, reader FROM assignments WHERE subject = ?", {pseudonym}))
                        db_->exec("INSERT INTO reads (subject, slot, ordinal, reader, state, study_date) VALUES (?, ?, ?, ?, 'waiting', ?)",
                                  {pseudonym, as[0], std::to_string(tp), as[1], a.date});
                    known.push_back({tp, a.date, a.visit.id});
                    ++result.timepoints;
                } else {
                    // a study of a registered visit that arrived later: the timepoint grows; once
                    // reading has begun the manager is told (the readers' images changed)
                    const auto started =
                        db_->query("SELECT COUNT(*) FROM reads WHERE subject = ? AND ordinal = ? AND state NOT IN ('waiting', 'open')",
                                   {pseudonym, std::to_string(tp)});
                    if (!started.empty() && started[0][0] != "0")
                        result.problems.push_back(pseudonym + ": a study of timepoint " + std::to_string(tp) + " (" + a.visit.label +
                                                  ") arrived after reading began: its readers should review it");
                    if (a.date < known[static_cast<std::size_t>(tp - 1)].date)
                        db_->exec("UPDATE timepoints SET study_date = ? WHERE subject = ? AND ordinal = ?",
                                  {a.date, pseudonym, std::to_string(tp)});
                }
                int series = 0;
                std::string paths;
                for (const std::string& path : fresh) {
                    const int n = seriesOf[path];
                    db_->exec("INSERT INTO timepoint_studies (store_path, subject, ordinal, series_count) VALUES (?, ?, ?, ?)",
                              {path, pseudonym, std::to_string(tp), std::to_string(n)});
                    ordinalOfFolder[path] = tp;
                    series += n;
                    paths += (paths.empty() ? "" : ", ") + path;
                }
                db_->exec("UPDATE timepoints SET series_count = series_count + ? WHERE subject = ? AND ordinal = ?",
                          {std::to_string(series), pseudonym, std::to_string(tp)});
                record(by.user, "timepoint.register", "timepoint:" + pseudonym + "/T" + std::to_string(tp), {},
                       a.visit.label + ": " + paths + " (" + std::to_string(series) + " series)");
            }
        });
    }
    return result;
}

void Queue::qc(const Session& by, const std::string& subject, int ordinal, bool accept, const std::string& reason) {
    const std::string object = "timepoint:" + subject + "/T" + std::to_string(ordinal);
    const auto event = accept ? workflow::TimepointEvent::QcAccept : workflow::TimepointEvent::QcReject;
    require(by, {Role::Manager}, "qc");
    audited(by, "qc", object, [&] {
        const auto rows = db_->query("SELECT state FROM timepoints WHERE subject = ? AND ordinal = ?", {subject, std::to_string(ordinal)});
        if (rows.empty()) throw Refused("NO_TIMEPOINT", object + " is not registered");
        workflow::TimepointContext c;
        c.actor = by.role;
        c.reason = reason;
        const auto t = workflow::next(tpStateFrom(rows[0][0]), event, c);
        if (!t.ok) throw Refused(t.rule, t.message);
        db_->exec("UPDATE timepoints SET state = ?, qc_reason = ?, qc_at = ? WHERE subject = ? AND ordinal = ?",
                  {tpStateKey(t.state), reason, utcNow(), subject, std::to_string(ordinal)});
        record(by.user, accept ? "timepoint.qc_accept" : "timepoint.qc_reject", object, rows[0][0], tpStateKey(t.state), reason);
        refreshOffers(subject);
    });
}

// assignment --------------------------------------------------------------------------------------

int Queue::assignReaders(const Session& by) {
    require(by, {Role::Manager}, "assign readers");
    int assigned = 0;
    db_->write([&] {
        const auto readers = db_->query("SELECT name FROM users WHERE role = 'reader' AND locked = 0 ORDER BY name");
        if (static_cast<int>(readers.size()) < readersPerSubject_)
            throw Refused("TOO_FEW_READERS", "the charter asks for " + std::to_string(readersPerSubject_) + " readers per subject; " +
                                                 std::to_string(readers.size()) + " reader account(s) exist");
        std::map<std::string, int> load;
        for (const auto& r : readers) load[r[0]] = 0;
        for (const auto& a : db_->query("SELECT reader, COUNT(*) FROM assignments GROUP BY reader"))
            if (load.count(a[0])) load[a[0]] = std::stoi(a[1]);
        const auto todo =
            db_->query("SELECT pseudonym FROM subjects WHERE pseudonym NOT IN (SELECT subject FROM assignments) ORDER BY pseudonym");
        for (const auto& s : todo) {
            std::vector<std::pair<int, std::string>> order;
            for (const auto& [name, n] : load) order.emplace_back(n, name);
            std::sort(order.begin(), order.end());
            for (int slot = 1; slot <= readersPerSubject_; ++slot) {
                const std::string& reader = order[static_cast<std::size_t>(slot - 1)].second;
                db_->exec("INSERT INTO assignments (subject, slot, reader) VALUES (?, ?, ?)", {s[0], std::to_string(slot), reader});
                ++load[reader];
                for (const auto& tp : db_->query("SELECT ordinal, study_date FROM timepoints WHERE subject = ?", {s[0]}))
                    db_->exec("INSERT INTO reads (subject, slot, ordinal, reader, state, study_date) VALUES (?, ?, ?, ?, 'waiting', ?)",
                              {s[0], std::to_string(slot), tp[0], reader, tp[1]});
                record(by.user, "subject.assign", "subject:" + s[0] + "/R" + std::to_string(slot), {}, reader);
            }
            refreshOffers(s[0]);
            ++assigned;
        }
    });
    return assigned;
}

void Queue::refreshOffers(const std::string& subject) {
    const auto reads = db_->query(
        "SELECT r.slot, r.ordinal, r.state, t.state FROM reads r JOIN timepoints t ON t.subject = r.subject AND t.ordinal = r.ordinal "
        "WHERE r.subject = ? ORDER BY r.slot, r.ordinal",
        {subject});
    std::map<std::pair<int, int>, std::string> state;
    for (const auto& r : reads) state[{std::stoi(r[0]), std::stoi(r[1])}] = r[2];
    for (const auto& r : reads) {
        const int slot = std::stoi(r[0]), ordinal = std::stoi(r[1]);
        if (r[2] != "waiting") continue;
        workflow::ReadContext c;
        c.actor = Role::Manager;
        c.timepointAccepted = r[3] == "accepted";
        c.previousSigned = ordinal == 1 || state[{slot, ordinal - 1}] == "signed";
        const auto t = workflow::next(workflow::ReadState::Waiting, workflow::ReadEvent::Offer, c);
        if (!t.ok) continue;
        // due the charter's turnaround after it becomes readable (empty when the charter sets none)
        std::string due;
        recist::Date today;
        if (charter_.reading.readTurnaroundDays > 0 && recist::Date::parse(utcNow().substr(0, 10), today))
            due = today.plusDays(charter_.reading.readTurnaroundDays).iso();
        db_->exec("UPDATE reads SET state = ?, due_date = ? WHERE subject = ? AND slot = ? AND ordinal = ?",
                  {readStateKey(t.state), due, subject, r[0], r[1]});
        state[{slot, ordinal}] = readStateKey(t.state);
        record("system", "read.offer", readObject(subject, slot, ordinal), "waiting", "open");
    }
}

// reading -----------------------------------------------------------------------------------------

std::map<std::string, std::string> Queue::readingIds(const Session& who) {
    std::vector<std::vector<std::string>> rows;
    switch (who.role) {
    case Role::Reader:
        rows =
            db_->query("SELECT s.pseudonym, s.reading_id FROM subjects s JOIN assignments a ON a.subject = s.pseudonym WHERE a.reader = ?",
                       {who.user});
        break;
    case Role::Adjudicator:
        rows = db_->query("SELECT DISTINCT s.pseudonym, s.reading_id FROM subjects s JOIN adjudications j ON j.subject = s.pseudonym", {});
        break;
    default: rows = db_->query("SELECT pseudonym, reading_id FROM subjects", {});
    }
    std::map<std::string, std::string> out;
    for (const auto& r : rows) out[r[0]] = r[1];
    return out;
}

std::vector<Queue::ReadItem> Queue::worklist(const Session& reader, int limit) {
    require(reader, {Role::Reader}, "have a worklist");
    std::vector<ReadItem> out;
    for (const auto& r : db_->query("SELECT subject, slot, ordinal, study_date, state, due_date FROM reads "
                                    "WHERE reader = ? AND state IN ('open', 'draft', 'reopen_requested') ORDER BY subject, ordinal LIMIT ?",
                                    {reader.user, std::to_string(std::max(1, limit))}))
        out.push_back({r[0], std::stoi(r[1]), std::stoi(r[2]), r[3], r[4], r[5]});
    return out;
}

int Queue::ownSlot(const Session& reader, const std::string& subject, const std::string& operation) {
    const int slot = slotOf(*db_, subject, reader.user);
    if (reader.role != Role::Reader || slot == 0)
        refuse(reader, operation, "subject:" + subject, "ROLE", "this subject's reads are not yours");
    return slot;
}

std::vector<std::vector<std::string>> Queue::readRow(const std::string& subject, int slot, int ordinal, const std::string& columns) {
    auto rows = db_->query("SELECT " + columns + " FROM reads WHERE subject = ? AND slot = ? AND ordinal = ?",
                           {subject, std::to_string(slot), std::to_string(ordinal)});
    if (rows.empty()) throw Refused("NO_READ", readObject(subject, slot, ordinal) + " does not exist");
    return rows;
}

void Queue::saveDraft(const Session& reader, const std::string& subject, int ordinal, const std::string& payload) {
    const int slot = ownSlot(reader, subject, "save a draft");
    const std::string object = readObject(subject, slot, ordinal);
    audited(reader, "save a draft", object, [&] {
        const auto rows = readRow(subject, slot, ordinal, "state, draft");
        workflow::ReadContext c;
        c.actor = Role::Reader;
        c.actorIsAssignedReader = true;
        const auto t = workflow::next(readStateFrom(rows[0][0]), workflow::ReadEvent::Save, c);
        if (!t.ok) throw Refused(t.rule, t.message);
        db_->exec("UPDATE reads SET state = ?, draft = ? WHERE subject = ? AND slot = ? AND ordinal = ?",
                  {readStateKey(t.state), payload, subject, std::to_string(slot), std::to_string(ordinal)});
        record(reader.user, "read.save", object, sha256Hex(rows[0][1]), sha256Hex(payload));
    });
}

void Queue::sign(const Session& reader, const std::string& subject, int ordinal, const std::string& password, const std::string& meaning) {
    const int slot = ownSlot(reader, subject, "sign");
    const std::string object = readObject(subject, slot, ordinal);
    // the signature is the password again (a failed one counts like a failed login)
    login(reader.user, password);
    if (meaning.find_first_not_of(" \t") == std::string::npos)
        refuse(reader, "sign", object, "MEANING_REQUIRED", "a signature states its meaning");
    audited(reader, "sign", object, [&] {
        const auto rows = readRow(subject, slot, ordinal, "state, draft");
        // what is signed must be complete and pass the engine's rules (baseline selection, values)
        std::vector<TimepointRead> tps = signedTimepoints(subject, slot, ordinal - 1);
        const auto tpRow = db_->query("SELECT study_date, visit_num, visit_label FROM timepoints WHERE subject = ? AND ordinal = ?",
                                      {subject, std::to_string(ordinal)});
        tps.push_back({ordinal, tpRow[0][0], rows[0][1], tpRow[0][1], tpRow[0][2]});
        std::vector<ReadProblem> problems = checkTimepoint(tps);
        Evaluation ev;
        if (problems.empty()) {
            ev = evaluateRead(charter_, subject, "RADIOLOGIST " + std::to_string(slot), datesOf(subject), tps);
            problems = ev.problems;
        }
        workflow::ReadContext c;
        c.actor = Role::Reader;
        c.actorIsAssignedReader = true;
        c.complete = problems.empty();
        const auto t = workflow::next(readStateFrom(rows[0][0]), workflow::ReadEvent::Sign, c);
        if (!t.ok && t.rule == "INCOMPLETE" && !problems.empty()) {
            std::string all;
            for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p.rule + ": " + p.message;
            throw Refused(problems.front().rule, "cannot sign: " + all);
        }
        if (!t.ok) throw Refused(t.rule, t.message);
        const std::string signedHash = sha256Hex(rows[0][1]);
        db_->exec("UPDATE reads SET state = ?, signed_by = ?, signed_at = ?, signature_meaning = ?, signed_hash = ?, result = ? "
                  "WHERE subject = ? AND slot = ? AND ordinal = ?",
                  {readStateKey(t.state), reader.user, utcNow(), meaning, signedHash, resultJson(*ev.result), subject, std::to_string(slot),
                   std::to_string(ordinal)});
        record(reader.user, "read.sign", object, rows[0][0], "signed sha256:" + signedHash, meaning);
        refreshOffers(subject);
        evaluateAdjudication(subject);
    });
}

void Queue::requestReopen(const Session& reader, const std::string& subject, int ordinal, const std::string& reason) {
    const int slot = ownSlot(reader, subject, "request a reopen");
    const std::string object = readObject(subject, slot, ordinal);
    audited(reader, "request a reopen", object, [&] {
        const auto rows = readRow(subject, slot, ordinal, "state");
        workflow::ReadContext c;
        c.actor = Role::Reader;
        c.actorIsAssignedReader = true;
        c.reason = reason;
        c.adjudicated = !db_->query("SELECT round FROM adjudications WHERE subject = ? AND state = 'decided' AND through_ordinal >= ?",
                                    {subject, std::to_string(ordinal)})
                             .empty();
        c.laterSigned = !db_->query("SELECT ordinal FROM reads WHERE subject = ? AND slot = ? AND ordinal > ? AND state = 'signed'",
                                    {subject, std::to_string(slot), std::to_string(ordinal)})
                             .empty();
        const auto t = workflow::next(readStateFrom(rows[0][0]), workflow::ReadEvent::RequestReopen, c);
        if (!t.ok) throw Refused(t.rule, t.message);
        db_->exec("UPDATE reads SET state = ? WHERE subject = ? AND slot = ? AND ordinal = ?",
                  {readStateKey(t.state), subject, std::to_string(slot), std::to_string(ordinal)});
        record(reader.user, "read.reopen_request", object, rows[0][0], readStateKey(t.state), reason);
    });
}

void Queue::decideReopen(const Session& manager, const std::string& subject, int slot, int ordinal, bool approve,
                         const std::string& reason) {
    const std::string object = readObject(subject, slot, ordinal);
    const auto event = approve ? workflow::ReadEvent::ApproveReopen : workflow::ReadEvent::DenyReopen;
    require(manager, {Role::Manager}, approve ? "approve a reopen" : "deny a reopen");
    audited(manager, approve ? "approve a reopen" : "deny a reopen", object, [&] {
        const auto rows = readRow(subject, slot, ordinal, "state");
        workflow::ReadContext c;
        c.actor = manager.role;
        c.reason = reason;
        const auto t = workflow::next(readStateFrom(rows[0][0]), event, c);
        if (!t.ok) throw Refused(t.rule, t.message);
        db_->exec("UPDATE reads SET state = ? WHERE subject = ? AND slot = ? AND ordinal = ?",
                  {readStateKey(t.state), subject, std::to_string(slot), std::to_string(ordinal)});
        record(manager.user, approve ? "read.reopen_approve" : "read.reopen_deny", object, rows[0][0], readStateKey(t.state), reason);
        if (!approve) return;
        db_->exec("UPDATE reads SET result = '' WHERE subject = ? AND slot = ? AND ordinal = ?",
                  {subject, std::to_string(slot), std::to_string(ordinal)});
        // the subject's current adjudication waits for the reads again
        const auto round = db_->query("SELECT round, state FROM adjudications WHERE subject = ? ORDER BY round DESC LIMIT 1", {subject});
        if (!round.empty() && round[0][1] != "decided" && round[0][1] != "awaiting_reads") {
            workflow::AdjudicationContext ac;
            ac.actor = manager.role;
            const auto at = workflow::next(adjStateFrom(round[0][1]), workflow::AdjudicationEvent::ReadReopened, ac);
            if (!at.ok) throw Refused(at.rule, at.message);
            db_->exec("UPDATE adjudications SET state = ?, adjudicator = NULL, claimed_at = NULL WHERE subject = ? AND round = ?",
                      {adjStateKey(at.state), subject, round[0][0]});
            record(manager.user, "adjudication.reads_reopened", "adjudication:" + subject + "/" + round[0][0], round[0][1],
                   adjStateKey(at.state), reason);
        }
        // timepoint k is a draft again: the reader's later reads wait for its signature
        for (const auto& later : db_->query("SELECT ordinal, state FROM reads WHERE subject = ? AND slot = ? AND ordinal > ? "
                                            "AND state IN ('open', 'draft') ORDER BY ordinal",
                                            {subject, std::to_string(slot), std::to_string(ordinal)})) {
            workflow::ReadContext w;
            w.actor = Role::Manager;
            const auto back = workflow::next(readStateFrom(later[1]), workflow::ReadEvent::Withdraw, w);
            if (!back.ok) throw Refused(back.rule, back.message);
            db_->exec("UPDATE reads SET state = ? WHERE subject = ? AND slot = ? AND ordinal = ?",
                      {readStateKey(back.state), subject, std::to_string(slot), later[0]});
            record(manager.user, "read.withdraw", readObject(subject, slot, std::stoi(later[0])), later[1], readStateKey(back.state),
                   "timepoint " + std::to_string(ordinal) + " reopened: " + reason);
        }
    });
}

Queue::Backlog Queue::backlog(const Session& manager) {
    require(manager, {Role::Manager}, "see the backlog");
    Backlog b;
    for (const auto& r : db_->query("SELECT state, COUNT(*) FROM timepoints GROUP BY state")) b.timepoints[r[0]] = std::stoi(r[1]);
    for (const auto& r : db_->query("SELECT state, COUNT(*) FROM reads GROUP BY state")) b.reads[r[0]] = std::stoi(r[1]);
    for (const auto& r : db_->query("SELECT reader, state, COUNT(*) FROM reads GROUP BY reader, state"))
        b.byReader[r[0]][r[1]] = std::stoi(r[2]);
    for (const auto& r : db_->query("SELECT ordinal, state, COUNT(*) FROM reads GROUP BY ordinal, state"))
        b.byTimepoint[std::stoi(r[0])][r[1]] = std::stoi(r[2]);
    for (const auto& r : db_->query("SELECT a.state, COUNT(*) FROM adjudications a WHERE a.round = "
                                    "(SELECT MAX(b.round) FROM adjudications b WHERE b.subject = a.subject) GROUP BY a.state"))
        b.adjudications[r[0]] = std::stoi(r[1]);
    return b;
}

} // namespace rq
