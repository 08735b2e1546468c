// De-identification of one file: profile actions at every depth, trial identity, UID remap,
// arm blinding, quarantine, atomic write and the leak scan of the written file.
#include "Dicom.h"
#include "store/Hash.h"
#include "store/Layout.h"
#include "store/Visit.h"

#include <nlohmann/json.hpp>
#include <sodium.h>
#include <sys/uio.h>

#include <dcmtk/dcmdata/dcostrmb.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <set>
#include <thread>

namespace anon {

namespace fs = std::filesystem;
using namespace detail;

namespace {

/// UIDs that name classes, syntaxes and coding schemes, never an instance: left alone.
bool isClassUidTag(const DcmTagKey& k) {
    static const DcmTagKey keep[] = {DCM_MediaStorageSOPClassUID,
                                     DCM_TransferSyntaxUID,
                                     DCM_ImplementationClassUID,
                                     DCM_SOPClassUID,
                                     DCM_RelatedGeneralSOPClassUID,
                                     DCM_OriginalSpecializedSOPClassUID,
                                     DCM_CodingSchemeUID,
                                     DCM_ContextGroupExtensionCreatorUID,
                                     DCM_ContextUID,
                                     DCM_MappingResourceUID,
                                     DCM_ReferencedSOPClassUID,
                                     DCM_ReferencedSOPClassUIDInFile,
                                     DCM_ReferencedTransferSyntaxUIDInFile,
                                     DCM_SOPClassesInStudy,
                                     DCM_ReferencedRelatedGeneralSOPClassUIDInFile,
                                     DCM_PrivateInformationCreatorUID};
    return std::find(std::begin(keep), std::end(keep), k) != std::end(keep);
}

/// A growable byte buffer that is never zero-filled (one per thread, reused file after file).
struct Bytes {
    std::unique_ptr<char[]> data;
    std::size_t size = 0, capacity = 0;
    void reserve(std::size_t n) {
        if (n <= capacity) return;
        capacity = std::max(n, capacity * 2);
        data.reset(new char[capacity]);
    }
    std::string_view view() const { return {data.get(), size}; }
};

/// An input file mapped read-only (page-cache pages, no copy); small files are read instead.
struct InputFile {
    int fd = -1;
    const char* data = nullptr;
    std::size_t size = 0;
    void* map = nullptr;
    Bytes* fallback = nullptr;
    ~InputFile() {
        if (map) ::munmap(map, size);
        if (fd >= 0) ::close(fd);
    }
    bool open(const fs::path& p, Bytes& small, std::string& error) {
        fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            error = std::strerror(errno);
            return false;
        }
        struct stat st {};
        if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            error = "not a regular file";
            return false;
        }
        size = static_cast<std::size_t>(st.st_size);
        if (size >= (64u << 10)) {
            map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
            if (map == MAP_FAILED) map = nullptr;
            if (map) {
                data = static_cast<const char*>(map);
                return true;
            }
        }
        small.reserve(size);
        std::size_t off = 0;
        while (off < size) {
            const ssize_t n = ::pread(fd, small.data.get() + off, size - off, static_cast<off_t>(off));
            if (n < 0) {
                error = std::strerror(errno);
                return false;
            }
            if (n == 0) break;
            off += static_cast<std::size_t>(n);
        }
        size = small.size = off;
        data = small.data.get();
        return true;
    }
    std::string_view view() const { return {data, size}; }
};

bool readWholeFile(const fs::path& p, Bytes& out, std::string& error, std::size_t limit = SIZE_MAX) {
    const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error = std::strerror(errno);
        return false;
    }
    struct stat st {};
    ::fstat(fd, &st);
    const std::size_t want = std::min(static_cast<std::size_t>(st.st_size), limit);
    out.reserve(want);
    std::size_t off = 0;
    while (off < want) {
        const ssize_t n = ::read(fd, out.data.get() + off, want - off);
        if (n < 0) {
            error = std::strerror(errno);
            ::close(fd);
            return false;
        }
        if (n == 0) break;
        off += static_cast<std::size_t>(n);
    }
    out.size = off;
    ::close(fd);
    return true;
}

bool writeAll(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n <= 0) return false;
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

/// Whether two files hold the same bytes.
bool sameContent(const fs::path& a, const fs::path& b) {
    std::error_code ec;
    if (fs::file_size(a, ec) != fs::file_size(b, ec) || ec) return false;
    Bytes x, y;
    std::string err;
    return readWholeFile(a, x, err) && readWholeFile(b, y, err) && x.view() == y.view();
}

/// SHA-256 of the input bytes for the audit log and the quarantine record.
using store::sha256Hex; // the project's one SHA-256

/// Writes the header (DCMTK) into memory: meta information made anew for the de-identified data set.
bool encodeHeader(DcmFileFormat& ff, E_TransferSyntax xfer, std::string& out, std::string& error) {
    out.clear();
    char chunk[65536];
    DcmOutputBufferStream stream(chunk, sizeof chunk);
    ff.transferInit();
    OFCondition c;
    do {
        c = ff.write(stream, xfer, EET_ExplicitLength, nullptr, EGL_recalcGL, EPD_noChange, 0, 0, 0, EWM_createNewMeta);
        void* p = nullptr;
        offile_off_t n = 0;
        stream.flushBuffer(p, n);
        out.append(static_cast<const char*>(p), static_cast<std::size_t>(n));
    } while (c == EC_StreamNotifyClient);
    ff.transferEnd();
    if (c.bad()) {
        error = c.text();
        return false;
    }
    return true;
}

using store::safeName;

bool shiftDicomDate(std::string& v, int days) {
    // DA (YYYYMMDD) or the date part of DT; values may be multi-valued or ranges: shift each date
    std::string out;
    std::size_t i = 0;
    bool any = false;
    while (i < v.size()) {
        if (i + 8 <= v.size() && std::all_of(v.begin() + static_cast<long>(i), v.begin() + static_cast<long>(i + 8), ::isdigit) &&
            (i == 0 || v[i - 1] == '\\' || v[i - 1] == '-')) {
            const int y = std::stoi(v.substr(i, 4)), m = std::stoi(v.substr(i + 4, 2)), d = std::stoi(v.substr(i + 6, 2));
            const recist::Date date = recist::Date::fromCivil(y, m, d).plusDays(days);
            int yy, mm, dd;
            date.toCivil(yy, mm, dd);
            char buf[16];
            std::snprintf(buf, sizeof buf, "%04d%02d%02d", yy, mm, dd);
            out += buf;
            i += 8;
            // skip the rest of a DT value up to the next separator
            while (i < v.size() && v[i] != '\\' && v[i] != '-') out.push_back(v[i++]);
            any = true;
        } else {
            out.push_back(v[i++]);
        }
    }
    v = out;
    return any;
}

// A value found in raw bytes only counts where it is not part of a longer word or number
// (a short ID must not be reported inside the digits of a remapped 2.25 UID).
bool containsDelimited(std::string_view hay, std::string_view v) {
    auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
    for (std::size_t pos = hay.find(v); pos != std::string_view::npos; pos = hay.find(v, pos + 1)) {
        const bool before = pos > 0 && alnum(hay[pos - 1]) && alnum(v.front());
        const bool after = pos + v.size() < hay.size() && alnum(hay[pos + v.size()]) && alnum(v.back());
        if (!before && !after) return true;
    }
    return false;
}

/// Time spent per phase of process(), summed over jobs; printed at exit when
/// RELUTH_ANON_PHASES is set (how the benchmark's figures were broken down).
struct Phases {
    enum Id { Open, Hash, Parse, Rules, Deidentify, Encode, Write, LeakScan, Sync, Rename, Count };
    std::atomic<long long> ns[Count] = {};
    bool enabled = std::getenv("RELUTH_ANON_PHASES") != nullptr;
    ~Phases() {
        if (!enabled) return;
        static const char* names[Count] = {"open+map", "sha256", "parse",     "rules",     "de-identify",
                                           "encode",   "write",  "leak scan", "fdatasync", "rename"};
        for (int i = 0; i < Count; ++i) std::fprintf(stderr, "phase %-12s %8.3f s\n", names[i], ns[i].load() / 1e9);
    }
};
Phases phases;

struct PhaseTimer {
    std::chrono::steady_clock::time_point t = std::chrono::steady_clock::now();
    void mark(Phases::Id id) {
        if (!phases.enabled) return;
        const auto now = std::chrono::steady_clock::now();
        phases.ns[id] += std::chrono::duration_cast<std::chrono::nanoseconds>(now - t).count();
        t = now;
    }
};

} // namespace

struct Anonymizer::Impl {
    const Config& cfg;
    KeyStore& key;
    ProfileOptions options;
    PhraseSet armWords;
    PhraseSet radiopharmaceuticalWords;
    PhraseSet seriesWords;
    std::mutex auditMutex;
    int auditFd = -1;
    mutable std::mutex storedMutex;
    struct StoredFile {
        fs::path output, input, relative;
    };
    std::map<std::string, std::vector<StoredFile>> storedBySeries; // original series UID -> files
    std::map<std::string, std::size_t> retracted;                  // by category, under storedMutex

    Impl(const Config& c, KeyStore& k) : cfg(c), key(k) {
        const auto& d = c.charter.deidentification;
        options.fullDates = d.temporal == charter::TemporalOption::FullDates;
        options.modifiedDates = !options.fullDates;
        options.cleanDescriptors = d.cleanDescriptors;
        options.cleanStructuredContent = false;
        options.retainPatientCharacteristics = d.retainPatientCharacteristics;
        armWords = PhraseSet(d.armWords);
        radiopharmaceuticalWords = PhraseSet(d.quarantine.radiopharmaceuticalWords);
        seriesWords = PhraseSet(d.quarantine.seriesWords);
    }

    bool safePrivate(std::uint16_t group, const std::string& creator, std::uint8_t element) const {
        for (const auto& t : cfg.charter.deidentification.safePrivateTags) {
            if (t.group == group && t.creator == creator && t.element == element) return true;
        }
        return false;
    }

    struct Ctx {
        Actions& acts;
        const Identifiers& ids;
        Charset cs;
        int shiftDays = 0;
    };

    // Cleans arm words and patient identifiers out of a text element; removes it if the
    // charter says so for arm words. Returns false if the element was removed.
    bool cleanText(DcmItem& item, DcmElement* el, Ctx& ctx, bool descriptor) {
        std::string value;
        const bool opaque = !el->isaString();
        if (opaque) {
            Uint8* bytes = nullptr;
            if (el->getUint8Array(bytes).good() && bytes) value.assign(reinterpret_cast<char*>(bytes), el->getLength());
        } else {
            OFString v;
            if (el->getOFStringArray(v).good()) value.assign(v.c_str(), v.length());
        }
        if (value.empty()) return true;
        thread_local Tokens tokens;
        tokenize(value, ctx.cs, tokens);
        if (tokens.toks.empty()) return true;
        auto armHits = armWords.find(tokens);
        auto phiHits = ctx.ids.phrases.find(tokens);
        if (armHits.empty() && phiHits.empty()) return true;
        const bool removeForArm = !armHits.empty() && cfg.charter.deidentification.armTextAction == charter::ArmTextAction::Remove;
        if (removeForArm || opaque) {
            delete item.remove(el);
            if (!armHits.empty()) ++ctx.acts.armCleaned;
            if (!phiHits.empty()) ++ctx.acts.phiCleaned;
            ++ctx.acts.removed;
            return false;
        }
        std::vector<PhraseSet::Hit> all = armHits;
        all.insert(all.end(), phiHits.begin(), phiHits.end());
        const std::string cleaned = removeHits(value, all);
        el->putString(cleaned.c_str(), static_cast<Uint32>(cleaned.size()));
        if (!armHits.empty()) ++ctx.acts.armCleaned;
        if (!phiHits.empty()) ++ctx.acts.phiCleaned;
        if (descriptor) ++ctx.acts.cleaned;
        return true;
    }

    static bool isBinaryVr(DcmEVR vr) {
        switch (vr) {
        case EVR_OB:
        case EVR_OW:
        case EVR_OF:
        case EVR_OD:
        case EVR_OL:
        case EVR_OV:
        case EVR_UN:
        case EVR_UNKNOWN:
        case EVR_UNKNOWN2B:
        case EVR_ox:
        case EVR_px: return true;
        default: return false;
        }
    }

    static bool numberLike(DcmElement* el) {
        OFString v;
        if (el->getOFStringArray(v).bad()) return false;
        return std::all_of(v.begin(), v.end(), [](char c) {
            return std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' || c == 'E' || c == 'e' || c == '\\' ||
                   c == ' ';
        });
    }

    /// The allow-list applied to a text or binary element the profile leaves in place. Returns
    /// false when the element was removed.
    bool applyTextPolicy(DcmItem& item, DcmElement* el, Ctx& ctx) {
        const DcmTagKey k = el->getTag();
        const AllowRule* rule = cfg.text.find(k.getGroup(), k.getElement());
        auto removeIt = [&] {
            delete item.remove(el);
            ++ctx.acts.removed;
            return false;
        };
        // not named, or written by us after de-identification (trial identity): what the site put there goes
        if (!rule || rule->kind == AllowRule::Kind::Written) return removeIt();
        if (isBinaryVr(el->getVR()) || rule->kind == AllowRule::Kind::Binary)
            return isBinaryVr(el->getVR()) && rule->kind == AllowRule::Kind::Binary ? true : removeIt();
        switch (rule->kind) {
        case AllowRule::Kind::Empty:
            if (el->getLength() > 0) {
                el->clear();
                ++ctx.acts.emptied;
            }
            return true;
        case AllowRule::Kind::Code: {
            OFString v;
            if (el->getOFStringArray(v).bad()) return removeIt();
            std::string kept;
            bool dropped = false;
            std::size_t b = 0, values = 0;
            const std::string all(v.c_str(), v.length());
            for (;;) {
                const std::size_t bs = all.find('\\', b);
                std::string one = all.substr(b, bs == std::string::npos ? std::string::npos : bs - b);
                one.erase(0, one.find_first_not_of(' '));
                while (!one.empty() && (one.back() == ' ' || one.back() == '\0')) one.pop_back();
                if (!one.empty() && cfg.text.codeAllowed(*rule, one)) {
                    kept += (values++ ? "\\" : "") + one;
                } else if (!one.empty()) {
                    dropped = true;
                }
                if (bs == std::string::npos) break;
                b = bs + 1;
            }
            if (values == 0 && dropped) return removeIt();
            if (dropped) {
                el->putString(kept.c_str());
                ++ctx.acts.cleaned;
            }
            return true;
        }
        case AllowRule::Kind::Vocabulary: {
            OFString v;
            if (el->getOFStringArray(v).bad()) return removeIt();
            const std::string value(v.c_str(), v.length());
            if (armWords.matches(value, ctx.cs)) {
                ++ctx.acts.armCleaned;
                // the charter may ask for descriptors that named the arm to go altogether
                if (cfg.charter.deidentification.armTextAction == charter::ArmTextAction::Remove) return removeIt();
            }
            const std::string rebuilt = cfg.text.rebuild(value, ctx.cs, armWords);
            if (rebuilt != value) {
                el->putString(rebuilt.c_str(), static_cast<Uint32>(rebuilt.size()));
                ++ctx.acts.cleaned;
            }
            return true;
        }
        default: return removeIt();
        }
    }

    void dummy(DcmElement* el) {
        switch (el->getVR()) {
        case EVR_DA: el->putString("19000101"); break;
        case EVR_TM: el->putString("000000"); break;
        case EVR_DT: el->putString("19000101000000"); break;
        case EVR_PN: el->putString("ANONYMIZED"); break;
        case EVR_DS:
        case EVR_IS: el->putString("0"); break;
        case EVR_US:
        case EVR_SS:
        case EVR_UL:
        case EVR_SL:
        case EVR_FL:
        case EVR_FD: el->putString("0"); break;
        case EVR_UI: break; // handled as U
        default: el->putString("ANONYMIZED"); break;
        }
    }

    void remapUids(DcmElement* el, Ctx& ctx) {
        OFString v;
        if (el->getOFStringArray(v).bad() || v.empty()) return;
        std::string out;
        std::string one;
        const std::string all(v.c_str());
        for (std::size_t i = 0; i <= all.size(); ++i) {
            if (i == all.size() || all[i] == '\\') {
                if (!out.empty() || i != one.size()) out.push_back('\\');
                if (!one.empty()) out += key.remapUid(one);
                one.clear();
            } else {
                one.push_back(all[i]);
            }
        }
        if (!out.empty() && out[0] == '\\') out.erase(0, 1);
        el->putString(out.c_str());
        ++ctx.acts.uids;
    }

    void walk(DcmItem& item, Ctx& ctx) {
        // private creators per (group, block)
        std::map<std::pair<std::uint16_t, std::uint8_t>, std::string> creators;
        for (unsigned long i = 0; i < item.card(); ++i) {
            DcmElement* el = item.getElement(i);
            const DcmTagKey k = el->getTag();
            if ((k.getGroup() & 1) && k.getElement() >= 0x10 && k.getElement() <= 0xFF)
                creators[{k.getGroup(), static_cast<std::uint8_t>(k.getElement())}] = getString(item, k);
        }
        std::set<std::pair<std::uint16_t, std::uint8_t>> keptBlocks;
        for (unsigned long i = 0; i < item.card();) {
            DcmElement* el = item.getElement(i);
            const DcmTagKey k = el->getTag();
            const std::uint16_t g = k.getGroup(), e = k.getElement();
            const bool isSeq = el->ident() == EVR_SQ;
            auto removeIt = [&](int* counter) {
                delete item.remove(el);
                if (counter) ++*counter;
            };
            if (k == DCM_PixelData) {
                ++i;
                continue;
            }
            // group lengths are recomputed on write
            if (e == 0x0000) {
                removeIt(nullptr);
                continue;
            }
            if (g & 1) {
                if (e >= 0x10 && e <= 0xFF) {
                    ++i;
                    continue;
                } // creators: decided below
                if (e < 0x10) {
                    removeIt(&ctx.acts.privateRemoved);
                    continue;
                }
                const auto block = static_cast<std::uint8_t>(e >> 8);
                auto it = creators.find({g, block});
                const std::string creator = it == creators.end() ? std::string() : it->second;
                if (!safePrivate(g, creator, static_cast<std::uint8_t>(e & 0xFF))) {
                    removeIt(&ctx.acts.privateRemoved);
                    continue;
                }
                keptBlocks.insert({g, block});
                if (isSeq) {
                    auto* sq = static_cast<DcmSequenceOfItems*>(el);
                    for (unsigned long n = 0; n < sq->card(); ++n) walk(*sq->getItem(n), ctx);
                    ++i;
                    continue;
                }
                // a safe private attribute keeps numbers and binary values; its text is never copied
                if (isTextVrForCleaning(el->getVR()) && el->getVR() != EVR_UN && !numberLike(el)) {
                    removeIt(&ctx.acts.privateRemoved);
                    continue;
                }
                ++i;
                continue;
            }
            if ((g >= 0x5000 && g <= 0x501E) || (g >= 0x6000 && g <= 0x601E)) {
                removeIt(&ctx.acts.removed); // curves and overlays
                continue;
            }
            const ProfileRow* row = cfg.profile.find(g, e);
            Action a = row ? cfg.profile.action(*row, options, isSeq) : Action::Keep;
            if (!row && el->getVR() == EVR_UI && !isClassUidTag(k)) {
                OFString v;
                el->getOFStringArray(v);
                if (!v.empty() && std::strncmp(v.c_str(), "1.2.840.10008.", 14) != 0) a = Action::Uid;
            }
            switch (a) {
            case Action::Remove: removeIt(&ctx.acts.removed); continue;
            case Action::Zero:
                if (isSeq) {
                    auto* sq = static_cast<DcmSequenceOfItems*>(el);
                    while (sq->card() > 0) delete sq->remove(0UL);
                } else {
                    el->clear();
                }
                ++ctx.acts.emptied;
                break;
            case Action::Dummy:
                dummy(el);
                ++ctx.acts.dummies;
                break;
            case Action::Uid:
                if (el->getVR() == EVR_UI) {
                    remapUids(el, ctx);
                    break;
                }
                removeIt(&ctx.acts.removed); // el is gone: do not touch it again
                continue;
            case Action::Shift: {
                if (el->getVR() == EVR_DA || el->getVR() == EVR_DT) {
                    std::string v = getString(item, k);
                    if (shiftDicomDate(v, ctx.shiftDays)) {
                        el->putString(v.c_str());
                        ++ctx.acts.shifted;
                    }
                }
                break;
            }
            case Action::Recurse:
            case Action::Clean:
            case Action::Keep:
                if (isSeq) {
                    auto* sq = static_cast<DcmSequenceOfItems*>(el);
                    for (unsigned long n = 0; n < sq->card(); ++n) walk(*sq->getItem(n), ctx);
                    break;
                }
                // text and binary values reach the store only as the allow-list says
                if (isTextVrForCleaning(el->getVR()) || isBinaryVr(el->getVR())) {
                    if (!applyTextPolicy(item, el, ctx)) continue;
                }
                break;
            }
            ++i;
        }
        // drop private creators whose blocks lost every element
        for (unsigned long i = 0; i < item.card();) {
            DcmElement* el = item.getElement(i);
            const DcmTagKey k = el->getTag();
            if ((k.getGroup() & 1) && k.getElement() >= 0x10 && k.getElement() <= 0xFF &&
                !keptBlocks.count({k.getGroup(), static_cast<std::uint8_t>(k.getElement())})) {
                delete item.remove(el);
                ++ctx.acts.privateRemoved;
                continue;
            }
            ++i;
        }
    }

    static bool isTextVrForCleaning(DcmEVR vr) {
        switch (vr) {
        case EVR_AE:
        case EVR_AS:
        case EVR_CS:
        case EVR_LO:
        case EVR_LT:
        case EVR_PN:
        case EVR_SH:
        case EVR_ST:
        case EVR_UC:
        case EVR_UR:
        case EVR_UT:
        case EVR_UN:
        case EVR_UNKNOWN:
        case EVR_UNKNOWN2B: return true;
        default: return false;
        }
    }

    // The visit of a study date under the charter's schedule (store/Visit.h owns the rule), if
    // randomization is known: written as the Clinical Trial Time Point ID and description.
    std::pair<std::string, std::string> timePoint(const EnrolledPatient& p, const std::string& studyDate) const {
        if (!p.randomization || studyDate.size() < 8) return {};
        const int y = std::atoi(studyDate.substr(0, 4).c_str()), m = std::atoi(studyDate.substr(4, 2).c_str()),
                  d = std::atoi(studyDate.substr(6, 2).c_str());
        if (y < 1900 || m < 1 || m > 12 || d < 1 || d > 31) return {};
        const store::Visit v = store::visitOfDay(cfg.charter.visits, recist::Date::fromCivil(y, m, d) - *p.randomization);
        return {v.id, v.label};
    }

    void putTrialIdentity(DcmDataset& d, const EnrolledPatient& p, const std::string& origStudyDate, const std::string& readingId) {
        const auto& trial = cfg.charter.trial;
        const auto& deid = cfg.charter.deidentification;
        d.putAndInsertString(DCM_PatientName, p.pseudonym.c_str());
        d.putAndInsertString(DCM_PatientID, p.pseudonym.c_str());
        d.putAndInsertString(DCM_ClinicalTrialSponsorName, trial.sponsor.c_str());
        d.putAndInsertString(DCM_ClinicalTrialProtocolID, trial.studyId.c_str());
        d.putAndInsertString(DCM_ClinicalTrialProtocolName, trial.protocolName.c_str());
        d.putAndInsertString(DCM_ClinicalTrialSiteID, ""); // the site is blinded
        d.putAndInsertString(DCM_ClinicalTrialSiteName, "");
        d.putAndInsertString(DCM_ClinicalTrialSubjectID, p.pseudonym.c_str());
        // what readers see instead of the subject ID (which carries the site number)
        d.putAndInsertString(DCM_ClinicalTrialSubjectReadingID, readingId.c_str());
        const auto [tpId, tpLabel] = timePoint(p, origStudyDate);
        d.putAndInsertString(DCM_ClinicalTrialTimePointID, tpId.c_str());
        if (!tpLabel.empty()) d.putAndInsertString(DCM_ClinicalTrialTimePointDescription, tpLabel.c_str());
        d.putAndInsertString(DCM_ClinicalTrialCoordinatingCenterName, "");
        d.putAndInsertString(DCM_PatientIdentityRemoved, "YES");
        std::string method = "Basic Application Confidentiality Profile";
        if (deid.cleanDescriptors) method += "\\Clean Descriptors Option";
        method += options.fullDates ? "\\Retain Longitudinal Temporal Information Full Dates Option"
                                    : "\\Retain Longitudinal Temporal Information Modified Dates Option";
        if (deid.retainPatientCharacteristics) method += "\\Retain Patient Characteristics Option";
        method += "\\" + cfg.profile.version() + " + trial arm blinding";
        d.putAndInsertString(DCM_DeidentificationMethod, method.c_str());
        d.findAndDeleteElement(DCM_DeidentificationMethodCodeSequence);
        auto code = [&](const char* value, const char* meaning) {
            DcmItem* it = nullptr;
            d.findOrCreateSequenceItem(DCM_DeidentificationMethodCodeSequence, it, -2);
            it->putAndInsertString(DCM_CodeValue, value);
            it->putAndInsertString(DCM_CodingSchemeDesignator, "DCM");
            it->putAndInsertString(DCM_CodeMeaning, meaning);
        };
        code("113100", "Basic Application Confidentiality Profile");
        if (deid.cleanDescriptors) code("113105", "Clean Descriptors Option");
        if (options.fullDates)
            code("113106", "Retain Longitudinal Temporal Information Full Dates Option");
        else
            code("113107", "Retain Longitudinal Temporal Information Modified Dates Option");
        if (deid.retainPatientCharacteristics) code("113108", "Retain Patient Characteristics Option");
        d.putAndInsertString(DCM_LongitudinalTemporalInformationModified, options.fullDates ? "UNMODIFIED" : "MODIFIED");
    }

    void writeReason(const fs::path& quarantined, const FileResult& r) {
        store::QuarantineRecord rec;
        rec.input = r.input.string();
        rec.inputHash = r.inputHash;
        rec.time = isoNow();
        rec.reasons = r.reasons;
        store::writeRecord(quarantined, rec);
    }

    FileResult& quarantine(FileResult& r, std::string_view original, const fs::path& relative) {
        r.outcome = Outcome::Quarantined;
        fs::path dest = cfg.quarantine / relative;
        std::error_code ec;
        fs::create_directories(dest.parent_path(), ec);
        const fs::path tmp = dest.parent_path() / (".tmp-" + dest.filename().string());
        const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || !writeAll(fd, original.data(), original.size())) {
            if (fd >= 0) ::close(fd);
            r.reasons.push_back({"write-error", "cannot write the quarantine copy " + dest.string()});
            return r;
        }
        if (cfg.durable) ::fdatasync(fd);
        ::close(fd);
        fs::rename(tmp, dest, ec);
        r.output = dest;
        writeReason(dest, r);
        return r;
    }
};

Anonymizer::Anonymizer(Config config, KeyStore& key) : config_(std::move(config)), key_(key) {
    silenceDcmtk();
    // the charter names the profile table it was approved with; another table is another profile
    if (!config_.charter.deidentification.dicomEdition.empty() &&
        config_.charter.deidentification.dicomEdition != config_.profile.version())
        throw Error("the charter's deidentification.dicom_edition '" + config_.charter.deidentification.dicomEdition +
                    "' is not the profile table's version '" + config_.profile.version() + "'");
    config_.store = fs::absolute(config_.store).lexically_normal();
    config_.quarantine = fs::absolute(config_.quarantine).lexically_normal();
    if (sodium_init() < 0) throw Error("libsodium failed to initialise");
    if (config_.text.rules().empty())
        throw Error("no text allow-list: the anonymizer needs assets/deid/text-allow-list.tsv and its vocabulary");
    config_.text.addVocabulary(config_.charter.deidentification.vocabularyAdditions, "the charter's deidentification.vocabulary_additions");
    config_.text.addVocabularyAttributes(config_.charter.deidentification.vocabularyAttributes,
                                         "the charter's deidentification.vocabulary_attributes");
    config_.text.refuseWords(PhraseSet(config_.charter.deidentification.armWords),
                             "one of the charter's arm words: arm words are never in the vocabulary of descriptors");
    impl_ = std::make_unique<Impl>(config_, key_);
    auto inside = [](const fs::path& a, const fs::path& b) {
        const fs::path aa = fs::weakly_canonical(a), bb = fs::weakly_canonical(b);
        auto [ia, ib] = std::mismatch(aa.begin(), aa.end(), bb.begin(), bb.end());
        return ib == bb.end();
    };
    if (inside(config_.quarantine, config_.store)) throw Error("the quarantine folder must not be inside the store");
    if (inside(key_.file(), config_.store)) throw Error("the key file must not be inside the store");
    if (!config_.auditLog.empty() && inside(config_.auditLog, config_.store)) throw Error("the audit log must not be inside the store");
    fs::create_directories(config_.store);
    fs::create_directories(config_.quarantine);
    if (!config_.auditLog.empty()) {
        if (config_.auditLog.has_parent_path()) fs::create_directories(config_.auditLog.parent_path());
        impl_->auditFd = ::open(config_.auditLog.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (impl_->auditFd < 0) throw Error(config_.auditLog.string() + ": cannot open the audit log");
    }
}

Anonymizer::~Anonymizer() {
    if (impl_ && impl_->auditFd >= 0) ::close(impl_->auditFd);
}

namespace {

/// Why a series reveals the arm by its nature, from one of its instances' header.
std::optional<QuarantineReason> armSeriesReason(DcmDataset& d, const PhraseSet& radiopharmaceuticals, const PhraseSet& seriesWords,
                                                const PhraseSet& armWords) {
    const Charset cs = datasetCharset(d);
    const std::string modality = getString(d, DCM_Modality);
    if (modality == "NM" || modality == "PT") {
        DcmItem* it = nullptr;
        for (long i = 0; d.findAndGetSequenceItem(DCM_RadiopharmaceuticalInformationSequence, it, i).good(); ++i) {
            std::vector<std::string> texts{getString(*it, DCM_Radiopharmaceutical)};
            for (const DcmTagKey& seq : {DCM_RadionuclideCodeSequence, DCM_RadiopharmaceuticalCodeSequence}) {
                DcmItem* c = nullptr;
                for (long k = 0; it->findAndGetSequenceItem(seq, c, k).good(); ++k) {
                    texts.push_back(getString(*c, DCM_CodeMeaning));
                    texts.push_back(getString(*c, DCM_CodeValue));
                }
            }
            for (const std::string& t : texts) {
                auto hits = radiopharmaceuticals.find(t, cs);
                if (!hits.empty())
                    return QuarantineReason{"arm-series", modality + " series with radiopharmaceutical '" + t + "' (matches '" +
                                                              radiopharmaceuticals.phrase(hits[0].phrase) + "')"};
            }
        }
    }
    // A CT or MR whose only problem is its text is the subject's RECIST scan: it is delivered with
    // the text rebuilt from the vocabulary (arm words never in it). Other series described with
    // arm words (an NM or PT post-therapy scan, a dosimetry series) reveal the arm by what they are.
    if (modality == "CT" || modality == "MR") return std::nullopt;
    for (const DcmTagKey& k : {DCM_SeriesDescription, DCM_ProtocolName, DCM_StudyDescription}) {
        const std::string text = getString(d, k);
        for (const PhraseSet* words : {&seriesWords, &armWords}) {
            auto hits = words->find(text, cs);
            if (!hits.empty())
                return QuarantineReason{"arm-series", modality + " series described as '" + words->phrase(hits[0].phrase) + "'"};
        }
    }
    return std::nullopt;
}

} // namespace

FileResult Anonymizer::process(const fs::path& input, const fs::path& relative, SeriesVerdicts& verdicts) {
    static const std::set<std::string> none;
    return process(input, relative, verdicts, none);
}

Deidentified Anonymizer::deidentify(std::string_view in, SeriesVerdicts& verdicts, const std::set<std::string>& overrides) {
    PhaseTimer timer;
    return deidentifyTimed(in, verdicts, overrides, &timer);
}

Deidentified Anonymizer::deidentifyTimed(std::string_view in, SeriesVerdicts& verdicts, const std::set<std::string>& overrides,
                                         void* phaseTimer) {
    Impl& im = *impl_;
    PhaseTimer& timer = *static_cast<PhaseTimer*>(phaseTimer);
    Deidentified r;
    std::string err;
    ParsedHeader h = parseHeader(in.data(), in.size());
    if (!h.ok) {
        const bool dicm = in.size() >= 132 && std::memcmp(in.data() + 128, "DICM", 4) == 0;
        r.reasons.push_back({dicm ? "corrupt" : "not-dicom", "DCMTK: " + h.error});
        return r;
    }
    std::unique_ptr<DcmFileFormat> full;
    DcmFileFormat* ff = h.file.get();
    const bool fast = h.pixelElementStart > 0 && h.pixelToEnd;
    if (!fast) {
        full = parseFull(in.data(), in.size(), err);
        if (!full) {
            r.reasons.push_back({"corrupt", "DCMTK: " + err});
            return r;
        }
        ff = full.get();
    }
    r.fastPath = fast;
    timer.mark(Phases::Parse);
    DcmDataset& d = *ff->getDataset();
    const E_TransferSyntax xfer = d.getOriginalXfer();

    // --- rules that quarantine the file -------------------------------------------------
    const std::string seriesUid = getString(d, DCM_SeriesInstanceUID);
    r.originalSeriesUid = seriesUid;
    if (auto why =
            overrides.count("arm-series") ? std::nullopt : armSeriesReason(d, im.radiopharmaceuticalWords, im.seriesWords, im.armWords)) {
        // this instance condemns its series: whatever of it is already stored goes too (process())
        r.reasons.push_back(*why);
        r.condemnsSeries = true;
    } else {
        std::lock_guard<std::mutex> lock(verdicts.mutex);
        auto it = verdicts.bySeriesUid.find(seriesUid);
        if (it != verdicts.bySeriesUid.end()) r.reasons.push_back(it->second);
    }
    const auto& rules = config_.charter.deidentification.quarantine;
    if (r.reasons.empty()) {
        const std::string sopClass = getString(d, DCM_SOPClassUID);
        const std::string modality = getString(d, DCM_Modality);
        std::string burned = getString(d, DCM_BurnedInAnnotation);
        // every rule that applies is named (not only the first): the data manager decides about all of them at once
        if (rules.burnedInAnnotation && burned.find("YES") != std::string::npos && !overrides.count("burned-in"))
            r.reasons.push_back({"burned-in", "BurnedInAnnotation is YES"});
        if (rules.secondaryCapture && sopClass.rfind("1.2.840.10008.5.1.4.1.1.7", 0) == 0 && !overrides.count("secondary-capture"))
            r.reasons.push_back({"secondary-capture", "secondary capture image (SOP class " + sopClass + ")"});
        if (!rules.allowedModalities.empty() && !overrides.count("modality") &&
            std::find(rules.allowedModalities.begin(), rules.allowedModalities.end(), modality) == rules.allowedModalities.end())
            r.reasons.push_back({"modality", "modality '" + modality + "' is not allowed by the charter"});
    }
    std::string patientId = getString(d, DCM_PatientID);
    while (!patientId.empty() && patientId.back() == ' ') patientId.pop_back();
    const EnrolledPatient* patient = config_.enrolment.find(patientId);
    if (r.reasons.empty() && !patient) r.reasons.push_back({"not-enrolled", "PatientID '" + patientId + "' is not on the enrolment list"});
    if (r.reasons.empty() && seriesUid.empty()) r.reasons.push_back({"corrupt", "no SeriesInstanceUID"});
    if (r.reasons.empty() && getString(d, DCM_SOPInstanceUID).empty()) r.reasons.push_back({"corrupt", "no SOPInstanceUID"});
    // one instance, one series, one study (found by deidentify_fuzz: a SOP Instance UID of two
    // values was stored under both joined, while readers take the first)
    for (const auto& [key, name] : {std::pair{DCM_SOPInstanceUID, "SOPInstanceUID"},
                                    {DCM_SeriesInstanceUID, "SeriesInstanceUID"},
                                    {DCM_StudyInstanceUID, "StudyInstanceUID"}})
        if (r.reasons.empty() && getString(d, key).find('\\') != std::string::npos)
            r.reasons.push_back({"corrupt", std::string(name) + " has more than one value"});
    if (!r.reasons.empty()) return r;

    timer.mark(Phases::Rules);
    // --- de-identify ------------------------------------------------------------------------
    const auto& trial = config_.charter.trial;
    const Identifiers ids = collectIdentifiers(d, patient->originalId, {trial.sponsor, trial.studyId, trial.protocolName});
    const std::string origStudyDate = getString(d, DCM_StudyDate);
    Impl::Ctx ctx{r.actions, ids, datasetCharset(d), 0};
    ctx.shiftDays = im.options.modifiedDates ? key_.dateShiftDays(patient->originalId) : 0;
    key_.noteSubject(patient->originalId, patient->pseudonym, ctx.shiftDays);
    im.walk(d, ctx);
    // the reading ID is written after the walk, so it must not read as what the leak scan looks for
    const std::string readingId = key_.readingId(patient->originalId, [&](std::string_view id) {
        return im.armWords.matches(id, Charset::Ascii) || ids.phrases.matches(id, Charset::Ascii);
    });
    im.putTrialIdentity(d, *patient, origStudyDate, readingId);
    ff->getMetaInfo()->clear();
    r.pseudonym = patient->pseudonym;
    r.sopUid = getString(d, DCM_SOPInstanceUID);
    r.seriesUid = getString(d, DCM_SeriesInstanceUID);
    r.studyUid = getString(d, DCM_StudyInstanceUID);
    r.studyDate = getString(d, DCM_StudyDate);
    r.seriesNumber = getString(d, DCM_SeriesNumber);
    r.modality = getString(d, DCM_Modality);
    // found by deidentify_fuzz: an instance UID the profile's action left empty (it was not a
    // UID to begin with) would be stored under no name, in no series
    for (const auto& [uid, name] :
         {std::pair{&r.sopUid, "SOPInstanceUID"}, {&r.seriesUid, "SeriesInstanceUID"}, {&r.studyUid, "StudyInstanceUID"}})
        if (uid->empty())
            r.reasons.push_back({"corrupt", std::string("no ") + name + " after de-identification (the original is not a UID)"});
    if (!r.reasons.empty()) return r;

    // --- encode: header by DCMTK, pixel element to be copied byte for byte ----------------------
    timer.mark(Phases::Deidentify);
    if (!encodeHeader(*ff, xfer, r.header, err)) {
        r.reasons.push_back({"write-error", "DCMTK cannot encode the de-identified file: " + err});
        return r;
    }
    if (fast) r.pixels = in.substr(h.pixelElementStart);
    timer.mark(Phases::Encode);

    // --- leak scan: parse the encoded bytes again and look for anything of this patient or the arm ---
    // (the header and the pixel element's tag and length: the pixel bytes are the input's, copied
    // from the same buffer - the tests compare them independently)
    std::vector<std::string> findings;
    {
        std::string encoded = r.header;
        encoded.append(r.pixels.substr(0, 12));
        ParsedHeader back = parseHeader(encoded.data(), encoded.size());
        if (!back.ok) {
            findings.push_back("the encoded file does not parse: " + back.error);
        } else {
            findings = scanDataset(*back.file->getDataset(), im.armWords, ids, datasetCharset(*back.file->getDataset()));
            auto meta = scanDataset(*back.file->getMetaInfo(), im.armWords, ids, Charset::Ascii);
            findings.insert(findings.end(), meta.begin(), meta.end());
            const std::string_view raw(r.header);
            for (const std::string& v : ids.raw)
                if (containsDelimited(raw, v)) findings.push_back("raw bytes contain identifier '" + v + "'");
            for (const std::string& u : ids.uids)
                if (raw.find(u) != std::string_view::npos) findings.push_back("raw bytes contain original UID " + u);
        }
    }
    timer.mark(Phases::LeakScan);
    if (!findings.empty()) {
        std::string detail;
        for (std::size_t i = 0; i < findings.size() && i < 5; ++i) detail += (i ? "; " : "") + findings[i];
        r.reasons.push_back({"leak", detail});
    }
    return r;
}

FileResult Anonymizer::process(const fs::path& input, const fs::path& relative, SeriesVerdicts& verdicts,
                               const std::set<std::string>& overrides) {
    Impl& im = *impl_;
    PhaseTimer timer;
    FileResult r;
    r.input = input;
    thread_local Bytes small;
    InputFile file;
    std::string err;
    if (!file.open(input, small, err)) {
        r.reasons.push_back({"corrupt", "cannot read: " + err});
        return r;
    }
    const std::string_view in = file.view();
    r.bytes = in.size();
    timer.mark(Phases::Open);
    r.inputHash = sha256Hex(in);
    timer.mark(Phases::Hash);
    Deidentified dd = deidentifyTimed(in, verdicts, overrides, &timer);
    r.actions = dd.actions;
    r.fastPath = dd.fastPath;
    if (dd.condemnsSeries) retractSeries(dd.originalSeriesUid, dd.reasons.front(), verdicts);
    if (!dd.clean()) {
        r.reasons = std::move(dd.reasons);
        return im.quarantine(r, in, relative);
    }

    // --- where it goes ------------------------------------------------------------------------
    const fs::path dir =
        store::seriesFolder(config_.store, dd.pseudonym, dd.studyDate, dd.studyUid, dd.modality, dd.seriesNumber, dd.seriesUid);
    const fs::path out = dir / (safeName(dd.sopUid) + ".dcm");
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) fs::create_directories(dir, ec);
    // unique per write: two inputs may claim the same SOP Instance UID (commit() refuses the second)
    static std::atomic<std::uint64_t> writes{0};
    const fs::path tmp =
        dir / (".tmp-" + safeName(dd.sopUid) + "-" + std::to_string(::getpid()) + "-" + std::to_string(writes.fetch_add(1)));

    // --- write: the scanned bytes, the pixel element straight from the mapped input -----------------
    // (measured here: copy_file_range made the following file creations several times slower on ext4)
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && writeAll(fd, dd.header.data(), dd.header.size());
    if (ok && !dd.pixels.empty()) ok = writeAll(fd, dd.pixels.data(), dd.pixels.size());
    if (!ok) {
        if (fd >= 0) ::close(fd);
        fs::remove(tmp, ec);
        r.reasons.push_back({"write-error", std::string("writing ") + tmp.string() + ": " + std::strerror(errno)});
        return im.quarantine(r, in, relative);
    }
    // a batch's write-back starts now, while the next files are de-identified (commit() waits for it)
    if (config_.durable && config_.batchCommit) ::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    timer.mark(Phases::Write);
    {
        const bool synced = !config_.durable || config_.batchCommit || ::fdatasync(fd) == 0;
        const int syncErrno = errno;
        ::close(fd);
        if (!synced) {
            fs::remove(tmp, ec);
            r.reasons.push_back({"write-error", std::string("fdatasync failed: ") + std::strerror(syncErrno)});
            return im.quarantine(r, in, relative);
        }
    }
    timer.mark(Phases::Sync);
    r.output = out;
    r.temporary = tmp;
    r.relative = relative;
    r.originalSeriesUid = dd.originalSeriesUid;
    r.outcome = Outcome::Pending;
    if (config_.batchCommit) return r;
    std::vector<FileResult> one;
    one.push_back(std::move(r));
    commit(one, verdicts);
    timer.mark(Phases::Rename);
    return std::move(one.front());
}

void Anonymizer::commit(std::vector<FileResult>& batch, SeriesVerdicts& verdicts) {
    Impl& im = *impl_;
    if (batch.empty()) return;
    PhaseTimer timer;
    if (config_.durable && config_.batchCommit) {
        // one journal commit and device flush for the whole batch, before any of it is renamed
        const int fd = ::open(config_.store.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            ::syncfs(fd);
            ::close(fd);
        }
    }
    timer.mark(Phases::Sync);
    for (FileResult& r : batch) {
        if (r.outcome != Outcome::Pending) continue;
        std::error_code ec;
        {
            // the series may have been condemned by another job meanwhile: decide and rename under the lock
            std::lock_guard<std::mutex> lock(im.storedMutex);
            std::optional<QuarantineReason> late;
            {
                std::lock_guard<std::mutex> vlock(verdicts.mutex);
                auto it = verdicts.bySeriesUid.find(r.originalSeriesUid);
                if (it != verdicts.bySeriesUid.end()) late = it->second;
            }
            std::optional<QuarantineReason> clash;
            if (!late && fs::exists(r.output, ec)) {
                // the same SOP Instance UID is already stored: a re-run writes the same bytes;
                // different bytes are another instance claiming the UID, which must not replace it
                if (!sameContent(r.temporary, r.output))
                    clash = QuarantineReason{"duplicate-uid", "SOP Instance UID already in the store with different content (" +
                                                                  r.output.filename().string() + ")"};
            }
            if (!late && !clash) {
                fs::rename(r.temporary, r.output, ec);
                if (!ec) im.storedBySeries[r.originalSeriesUid].push_back({r.output, r.input, r.relative});
            }
            if (late || clash || ec) {
                std::error_code ec2;
                fs::remove(r.temporary, ec2);
                r.reasons.push_back(late    ? *late
                                    : clash ? *clash
                                            : QuarantineReason{"write-error", "rename into the store failed: " + ec.message()});
            }
        }
        if (r.reasons.empty()) {
            r.outcome = Outcome::Stored;
            r.temporary.clear();
            continue;
        }
        thread_local Bytes small;
        InputFile original;
        std::string err;
        r.output.clear();
        if (original.open(r.input, small, err))
            im.quarantine(r, original.view(), r.relative);
        else
            r.outcome = Outcome::Quarantined;
    }
    timer.mark(Phases::Rename);
}

void Anonymizer::retractSeries(const std::string& originalSeriesUid, const QuarantineReason& why, SeriesVerdicts& verdicts) {
    Impl& im = *impl_;
    std::vector<Impl::StoredFile> files;
    {
        std::lock_guard<std::mutex> lock(im.storedMutex);
        {
            std::lock_guard<std::mutex> vlock(verdicts.mutex);
            if (!verdicts.bySeriesUid.emplace(originalSeriesUid, why).second) return; // already condemned
        }
        auto it = im.storedBySeries.find(originalSeriesUid);
        if (it == im.storedBySeries.end()) return;
        files = std::move(it->second);
        im.storedBySeries.erase(it);
        im.retracted[why.category] += files.size();
    }
    for (const auto& f : files) {
        std::error_code ec;
        FileResult r;
        r.input = f.input;
        r.reasons.push_back({why.category, why.detail + " (retracted from the store: a later instance of the series revealed it)"});
        thread_local Bytes original;
        std::string err;
        if (readWholeFile(f.input, original, err)) {
            // the site's file is still there (folder import): quarantine its original bytes
            fs::remove(f.output, ec);
            r.inputHash = sha256Hex(original.view());
            r.bytes = original.size;
            im.quarantine(r, original.view(), f.relative);
        } else {
            // the spooled original is gone (receive node): keep the de-identified copy, out of the store
            const fs::path dest = config_.quarantine / "retracted" / fs::relative(f.output, config_.store);
            fs::create_directories(dest.parent_path(), ec);
            fs::rename(f.output, dest, ec);
            r.output = dest;
            im.writeReason(dest, r);
        }
        audit(r);
    }
}

std::map<std::string, std::size_t> Anonymizer::retracted() const {
    std::lock_guard<std::mutex> lock(impl_->storedMutex);
    return impl_->retracted;
}

void Anonymizer::audit(const FileResult& r) {
    if (impl_->auditFd < 0) return;
    nlohmann::json j;
    j["time"] = isoNow();
    j["input"] = r.input.string();
    j["input_sha256"] = r.inputHash;
    j["bytes"] = r.bytes;
    j["outcome"] = r.outcome == Outcome::Stored ? "stored" : "quarantined";
    j["output"] = r.output.string();
    const Actions& a = r.actions;
    j["actions"] = {{"removed", a.removed},
                    {"emptied", a.emptied},
                    {"dummy", a.dummies},
                    {"uid_remapped", a.uids},
                    {"descriptors_cleaned", a.cleaned},
                    {"dates_shifted", a.shifted},
                    {"private_removed", a.privateRemoved},
                    {"arm_text_cleaned", a.armCleaned},
                    {"identifier_text_cleaned", a.phiCleaned},
                    {"pixel_bytes_copied_verbatim", r.fastPath}};
    nlohmann::json reasons = nlohmann::json::array();
    for (const auto& q : r.reasons) reasons.push_back(q.text());
    j["quarantine_reasons"] = reasons;
    const std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::lock_guard<std::mutex> lock(impl_->auditMutex);
    writeAll(impl_->auditFd, line.data(), line.size());
}

std::size_t Anonymizer::removeStaleTemporaries(const fs::path& store) {
    std::size_t n = 0;
    std::error_code ec;
    if (!fs::exists(store, ec)) return 0;
    std::vector<fs::path> stale;
    for (auto it = fs::recursive_directory_iterator(store, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        if (it->is_regular_file() && it->path().filename().string().rfind(".tmp-", 0) == 0) stale.push_back(it->path());
    }
    for (const auto& p : stale) n += fs::remove(p, ec) ? 1 : 0;
    return n;
}

} // namespace anon
