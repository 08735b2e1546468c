// The signed reports' outbox (see Queue::queueReport).
#include "readerqueue/Queue.h"

#include "store/Hash.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <sodium.h>

namespace rq {

std::string Queue::queueReport(const Session& reader, const std::string& subject, int ordinal, const std::string& dicom) {
    const int slot = ownSlot(reader, subject, "queue a report");
    const std::string object = "subject:" + subject + "/slot:" + std::to_string(slot) + "/timepoint:" + std::to_string(ordinal);
    DcmInputBufferStream stream;
    stream.setBuffer(dicom.data(), static_cast<offile_off_t>(dicom.size()));
    stream.setEos();
    DcmFileFormat ff;
    ff.transferInit();
    const bool parsed = ff.read(stream, EXS_Unknown, EGL_noChange, DCM_MaxReadLength).good();
    ff.transferEnd();
    OFString sop, modality, patient;
    if (!parsed || ff.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, sop).bad() || sop.empty() ||
        ff.getDataset()->findAndGetOFString(DCM_Modality, modality).bad() || modality != "SR")
        refuse(reader, "queue a report", object, "NOT_A_REPORT", "not a DICOM structured report with a SOP Instance UID");
    ff.getDataset()->findAndGetOFString(DCM_PatientID, patient);
    if (std::string(patient.c_str()) != subject)
        refuse(reader, "queue a report", object, "NOT_A_REPORT", "the report is about another subject");
    const std::string uid = sop.c_str(), sha = store::sha256Hex(dicom);
    std::string b64(sodium_base64_encoded_len(dicom.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(b64.data(), b64.size(), reinterpret_cast<const unsigned char*>(dicom.data()), dicom.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    b64.resize(b64.find('\0'));
    audited(reader, "queue a report", object, [&] {
        const auto state = db_->query("SELECT state FROM reads WHERE subject = ? AND slot = ? AND ordinal = ?",
                                      {subject, std::to_string(slot), std::to_string(ordinal)});
        if (state.empty() || state[0][0] != "signed") throw Refused("NOT_SIGNED", "only a signed timepoint's report goes to the PACS");
        const auto had = db_->query("SELECT sha256 FROM report_outbox WHERE sop_uid = ?", {uid});
        if (!had.empty()) {
            if (had[0][0] != sha) throw Refused("NOT_A_REPORT", "another report with SOP Instance UID " + uid + " is queued already");
            return;
        }
        db_->exec("INSERT INTO report_outbox (sop_uid, subject, slot, ordinal, sha256, dicom_base64, queued_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                  {uid, subject, std::to_string(slot), std::to_string(ordinal), sha, b64, utcNow()});
        record(reader.user, "report.queued", object, {}, uid + " sha256:" + sha);
    });
    return uid;
}

} // namespace rq
