#include "Dicom.h"

#include <chrono>
#include <ctime>

#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/oflog/oflog.h>

#include <cstring>

namespace anon::detail {

void silenceDcmtk() {
    static std::once_flag once;
    std::call_once(once, [] { OFLog::configure(OFLogger::FATAL_LOG_LEVEL); });
}

void Identifiers::addPhrase(const std::string& v, std::size_t minChars) { phrases.add(v, minChars); }

void Identifiers::addRaw(const std::string& v) {
    if (v.size() < 4) return;
    for (const auto& r : raw) {
        if (r == v) return;
    }
    raw.push_back(v);
}

std::string getString(DcmItem& item, const DcmTagKey& key) {
    OFString v;
    if (item.findAndGetOFStringArray(key, v).good()) return std::string(v.c_str(), v.length());
    return {};
}

Charset datasetCharset(DcmItem& d) { return charsetFromDicom(getString(d, DCM_SpecificCharacterSet)); }

namespace {

std::uint32_t readU32(const char* p, bool little) {
    const auto* u = reinterpret_cast<const unsigned char*>(p);
    return little ? (std::uint32_t{u[0]} | std::uint32_t{u[1]} << 8 | std::uint32_t{u[2]} << 16 | std::uint32_t{u[3]} << 24)
                  : (std::uint32_t{u[3]} | std::uint32_t{u[2]} << 8 | std::uint32_t{u[1]} << 16 | std::uint32_t{u[0]} << 24);
}
std::uint16_t readU16(const char* p, bool little) {
    const auto* u = reinterpret_cast<const unsigned char*>(p);
    return little ? static_cast<std::uint16_t>(u[0] | u[1] << 8) : static_cast<std::uint16_t>(u[1] | u[0] << 8);
}

} // namespace

ParsedHeader parseHeader(const char* data, std::size_t size) {
    ParsedHeader h;
    h.file = std::make_unique<DcmFileFormat>();
    DcmInputBufferStream in;
    in.setBuffer(data, static_cast<offile_off_t>(size));
    in.setEos();
    h.file->transferInit();
    const OFCondition c = h.file->readUntilTag(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength, DCM_PixelData);
    h.file->transferEnd();
    if (c.bad() && c != EC_StreamNotifyClient) {
        h.error = c.text();
        return h;
    }
    DcmDataset* ds = h.file->getDataset();
    if (!ds || ds->card() == 0) {
        h.error = "no DICOM data set found";
        return h;
    }
    h.ok = true;
    const auto pos = static_cast<std::size_t>(in.tell());
    if (pos >= size) return h; // no pixel data element
    const DcmXfer xfer(ds->getOriginalXfer());
    const bool little = xfer.getByteOrder() != EBO_BigEndian;
    const bool explicitVr = xfer.isExplicitVR();
    if (xfer.getStreamCompression() != ESC_none) return h; // the whole data set is compressed: no byte offsets
    const std::size_t headerLen = explicitVr ? 12 : 8;
    if (pos < headerLen) return h;
    const char* tag = data + pos - headerLen;
    if (readU16(tag, little) != 0x7FE0 || readU16(tag + 2, little) != 0x0010) return h;
    h.pixelElementStart = pos - headerLen;
    const std::uint32_t len = readU32(data + pos - 4, little);
    std::size_t end = pos;
    if (len != 0xFFFFFFFFu) {
        end = pos + len;
    } else {
        // encapsulated: items until the sequence delimiter (always little endian per PS3.5 A.4)
        for (;;) {
            if (end + 8 > size) return h;
            const std::uint16_t g = readU16(data + end, true), e = readU16(data + end + 2, true);
            const std::uint32_t l = readU32(data + end + 4, true);
            end += 8;
            if (g == 0xFFFE && e == 0xE0DD) break;
            if (g != 0xFFFE || e != 0xE000 || l == 0xFFFFFFFFu) return h;
            end += l;
        }
    }
    if (end > size) return h; // truncated: the full parse will report it
    h.pixelElementEnd = end;
    h.pixelToEnd = end == size;
    return h;
}

std::unique_ptr<DcmFileFormat> parseFull(const char* data, std::size_t size, std::string& error) {
    auto ff = std::make_unique<DcmFileFormat>();
    DcmInputBufferStream in;
    in.setBuffer(data, static_cast<offile_off_t>(size));
    in.setEos();
    ff->transferInit();
    const OFCondition c = ff->read(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
    ff->transferEnd();
    if (c.bad()) {
        error = c.text();
        return nullptr;
    }
    return ff;
}

Identifiers collectIdentifiers(DcmDataset& d, const std::string& enrolledId, const std::vector<std::string>& trialConstants) {
    Identifiers ids;
    PhraseSet constants(trialConstants);
    auto person = [&](const DcmTagKey& key) {
        const std::string v = getString(d, key);
        if (v.empty()) return;
        ids.addRaw(v);
        // each name component (family, given, middle...) of each value and representation
        std::string comp;
        for (char c : v + "^") {
            if (c == '^' || c == '=' || c == '\\') {
                ids.addPhrase(comp, 3);
                comp.clear();
            } else {
                comp.push_back(c);
            }
        }
    };
    auto whole = [&](const DcmTagKey& key, std::size_t minChars = 3) {
        const std::string v = getString(d, key);
        if (v.empty()) return;
        for (const auto& h : constants.find(v, Charset::Utf8)) {
            if (h.begin == 0 && h.end == v.size()) return;
        }
        std::string one;
        for (char c : v + "\\") {
            if (c == '\\') {
                ids.addPhrase(one, minChars);
                ids.addRaw(one);
                one.clear();
            } else {
                one.push_back(c);
            }
        }
    };
    person(DCM_PatientName);
    person(DCM_PatientBirthName);
    person(DCM_PatientMotherBirthName);
    person(DCM_OtherPatientNames);
    person(DCM_ReferringPhysicianName);
    person(DCM_PerformingPhysicianName);
    person(DCM_OperatorsName);
    person(DCM_PhysiciansOfRecord);
    person(DCM_NameOfPhysiciansReadingStudy);
    person(DCM_RequestingPhysician);
    whole(DCM_PatientID, 2);
    whole(DCM_RETIRED_OtherPatientIDs, 2);
    whole(DCM_PatientBirthDate);
    whole(DCM_AccessionNumber, 2);
    whole(DCM_StudyID, 2);
    whole(DCM_InstitutionName);
    whole(DCM_InstitutionAddress);
    whole(DCM_PatientAddress);
    whole(DCM_PatientTelephoneNumbers);
    whole(DCM_StationName);
    whole(DCM_DeviceSerialNumber, 2);
    whole(DCM_RETIRED_MedicalRecordLocator);
    DcmItem* item = nullptr;
    for (unsigned long i = 0; d.findAndGetSequenceItem(DCM_OtherPatientIDsSequence, item, static_cast<signed long>(i)).good(); ++i) {
        const std::string v = getString(*item, DCM_PatientID);
        ids.addPhrase(v, 2);
        ids.addRaw(v);
    }
    if (!enrolledId.empty()) {
        ids.addPhrase(enrolledId, 2);
        ids.addRaw(enrolledId);
    }
    for (const DcmTagKey& k : {DCM_StudyInstanceUID, DCM_SeriesInstanceUID, DCM_SOPInstanceUID, DCM_FrameOfReferenceUID}) {
        const std::string v = getString(d, k);
        if (v.size() >= 8) ids.uids.push_back(v);
    }
    return ids;
}

namespace {

bool isTextVr(DcmEVR vr) {
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
    case EVR_OB:
    case EVR_UNKNOWN:
    case EVR_UNKNOWN2B: return true;
    default: return false;
    }
}

std::string tagText(DcmTag t) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "(%04x,%04x)", t.getGroup(), t.getElement());
    std::string s = buf;
    const char* name = t.getTagName();
    if (name && std::strcmp(name, "Unknown Tag & Data") != 0) s += std::string(" ") + name;
    return s;
}

void scanItem(DcmItem& item, const PhraseSet& arm, const Identifiers& ids, Charset cs, const std::string& path,
              std::vector<std::string>& out) {
    thread_local Tokens tokens;
    for (unsigned long i = 0; i < item.card(); ++i) {
        DcmElement* el = item.getElement(i);
        if (el->ident() == EVR_SQ) {
            const std::string where = path + tagText(el->getTag());
            auto* sq = static_cast<DcmSequenceOfItems*>(el);
            for (unsigned long k = 0; k < sq->card(); ++k)
                scanItem(*sq->getItem(k), arm, ids, cs, where + "[" + std::to_string(k) + "].", out);
            continue;
        }
        const DcmTagKey key = el->getTag();
        if (key == DCM_PixelData) continue;
        const DcmEVR vr = el->getVR();
        std::string_view value;
        if (vr == EVR_UI) {
            char* v = nullptr;
            if (el->getString(v).bad() || !v) continue;
            value = std::string_view(v, el->getLength());
            for (const std::string& u : ids.uids) {
                if (value.find(u) != std::string_view::npos) out.push_back(path + tagText(el->getTag()) + ": original UID " + u);
            }
            continue;
        }
        if (!isTextVr(vr)) continue;
        if (!el->isaString()) {
            Uint8* bytes = nullptr;
            if (el->getUint8Array(bytes).bad() || !bytes) continue;
            value = std::string_view(reinterpret_cast<char*>(bytes), el->getLength());
        } else {
            char* v = nullptr;
            if (el->getString(v).bad() || !v) continue;
            value = std::string_view(v, el->getLength());
        }
        if (value.empty()) continue;
        tokenize(value, cs, tokens);
        if (tokens.toks.empty()) continue;
        for (const auto& h : arm.find(tokens)) out.push_back(path + tagText(el->getTag()) + ": arm word '" + arm.phrase(h.phrase) + "'");
        for (const auto& h : ids.phrases.find(tokens))
            out.push_back(path + tagText(el->getTag()) + ": patient identifier '" + ids.phrases.phrase(h.phrase) + "'");
    }
}

} // namespace

std::vector<std::string> scanDataset(DcmItem& d, const PhraseSet& armWords, const Identifiers& ids, Charset cs) {
    std::vector<std::string> out;
    scanItem(d, armWords, ids, cs, "", out);
    return out;
}

std::string isoNow() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

} // namespace anon::detail
