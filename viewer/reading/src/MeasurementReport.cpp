#include "viewerreading/MeasurementReport.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmsr/cmr/tid1500.h>
#include <dcmtk/dcmsr/codes/dcm.h>
#include <dcmtk/dcmsr/dsrdoc.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <system_error>

namespace vr {

namespace {

/// Finding sites: SNOMED CT where the code is certain, else a local (99RELUTH) code with the TULOC text.
DSRCodedEntryValue siteOf(const std::string& location) {
    static const std::map<std::string, std::pair<const char*, const char*>> sct{
        {"LIVER", {"10200004", "Liver"}},       {"LUNG", {"39607008", "Lung"}},
        {"PANCREAS", {"15776009", "Pancreas"}}, {"KIDNEY", {"64033007", "Kidney"}},
        {"SPLEEN", {"78961009", "Spleen"}},     {"BONE", {"272673000", "Bone"}},
        {"BRAIN", {"12738006", "Brain"}},       {"ADRENAL GLAND", {"23451007", "Adrenal gland"}}};
    if (const auto it = sct.find(location); it != sct.end()) return DSRCodedEntryValue(it->second.first, "SCT", it->second.second);
    if (isNodal(location)) return DSRCodedEntryValue("59441001", "SCT", "Lymph node");
    std::string value;
    for (char c : location) value += (c == ' ' || c == ',') ? '_' : c;
    return DSRCodedEntryValue(value.substr(0, 16).c_str(), "99RELUTH", location.c_str());
}

std::string mm(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", std::round(v * 10.0) / 10.0);
    return buf;
}

struct ImageHeader {
    DcmFileFormat file;
    bool ok = false;
    std::array<double, 3> ipp{}, row{}, col{};
    double spacingRow = 1, spacingCol = 1; ///< between rows, between columns
};

bool loadHeader(const std::filesystem::path& path, ImageHeader& h) {
    if (path.empty() || h.file.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, 4096).bad()) return false;
    DcmDataset* ds = h.file.getDataset();
    for (int i = 0; i < 3; ++i)
        ds->findAndGetFloat64(DCM_ImagePositionPatient, h.ipp[static_cast<std::size_t>(i)], static_cast<unsigned long>(i));
    for (int i = 0; i < 3; ++i) {
        ds->findAndGetFloat64(DCM_ImageOrientationPatient, h.row[static_cast<std::size_t>(i)], static_cast<unsigned long>(i));
        ds->findAndGetFloat64(DCM_ImageOrientationPatient, h.col[static_cast<std::size_t>(i)], static_cast<unsigned long>(i + 3));
    }
    ds->findAndGetFloat64(DCM_PixelSpacing, h.spacingRow, 0);
    ds->findAndGetFloat64(DCM_PixelSpacing, h.spacingCol, 1);
    h.ok = true;
    return true;
}

/// (column, row) image coordinates of a patient point on the image (SCOORD: pixel centre of
/// the top left pixel is 0.5, 0.5).
std::array<float, 2> pixelOf(const ImageHeader& h, const vc::Point3& p) {
    const std::array<double, 3> d{p[0] - h.ipp[0], p[1] - h.ipp[1], p[2] - h.ipp[2]};
    const double u = (d[0] * h.row[0] + d[1] * h.row[1] + d[2] * h.row[2]) / (h.spacingCol > 0 ? h.spacingCol : 1);
    const double v = (d[0] * h.col[0] + d[1] * h.col[1] + d[2] * h.col[2]) / (h.spacingRow > 0 ? h.spacingRow : 1);
    return {static_cast<float>(u + 0.5), static_cast<float>(v + 0.5)};
}

#define CHECK(expr)                                                                                                                        \
    do {                                                                                                                                   \
        const OFCondition c_ = (expr);                                                                                                     \
        if (c_.bad()) {                                                                                                                    \
            if (error) *error = std::string(#expr) + ": " + c_.text();                                                                     \
            return false;                                                                                                                  \
        }                                                                                                                                  \
    } while (0)

} // namespace

std::string trackingUid(const std::string& subject, const std::string& reader, const std::string& lesion) {
    // two FNV-1a 64-bit hashes of the key: a stable 128-bit number under the 2.25 root (ISO/IEC 9834-8)
    const std::string key = "reluth|" + subject + "|" + reader + "|" + lesion;
    auto fnv = [&](std::uint64_t h) {
        for (unsigned char c : key) h = (h ^ c) * 1099511628211ULL;
        return h;
    };
    unsigned __int128 n = (static_cast<unsigned __int128>(fnv(1469598103934665603ULL)) << 64) | fnv(0x84222325cbf29ce4ULL);
    std::string digits;
    do {
        digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(n % 10)));
        n /= 10;
    } while (n > 0);
    return "2.25." + digits;
}

bool writeMeasurementReport(const ReportInput& in, const std::filesystem::path& out, std::string* error) {
    if (!in.model) {
        if (error) *error = "no read to report";
        return false;
    }
    const ReadModel& model = *in.model;
    const Draft& draft = model.draft();
    TID1500_MeasurementReport report(CID7021_MeasurementReportDocumentTitles::ImagingMeasurementReport);
    CHECK(report.getObservationContext().addPersonObserver((in.reader == "Reader 2" ? "READER^2" : "READER^1"), "ReLUTH central review"));
    CHECK(report.addProcedureReported(CID100_QuantitativeDiagnosticImagingProcedures::ImagingProcedure));

    // the study the report belongs to and the images of its library
    ImageHeader any;
    if (!loadHeader(in.anyImage, any)) {
        if (error) *error = "cannot read the timepoint's image " + in.anyImage.string();
        return false;
    }
    std::map<std::string, std::unique_ptr<ImageHeader>> headers;
    auto headerOf = [&](const std::string& sop) -> ImageHeader* {
        auto& slot = headers[sop];
        if (!slot) {
            slot = std::make_unique<ImageHeader>();
            if (in.fileOf) loadHeader(in.fileOf(sop), *slot);
        }
        return slot->ok ? slot.get() : nullptr;
    };
    bool libraryGroup = false;
    std::set<std::string> inLibrary;

    bool firstGroup = true;
    for (const KnownLesion& l : model.lesions()) {
        if (l.role != "TARGET") continue;
        const AnswerEntry* a = draft.answer(l.id);
        if (!a) continue;
        recist::Length value;
        if (!recist::Length::parseMm(a->result, value)) continue; // states are qualitative evaluations below
        CMR_TID1501_in_TID1500& group = report.getIndividualMeasurements();
        if (!firstGroup) CHECK(report.addIndividualMeasurements(OFFalse));
        firstGroup = false;
        CMR_TID1501_in_TID1500& g = report.getIndividualMeasurements();
        (void)group;
        CHECK(g.setTrackingIdentifier(l.id.c_str()));
        CHECK(g.setTrackingUniqueIdentifier(trackingUid(model.subject(), in.reader, l.id).c_str()));
        CHECK(g.setFinding(DSRCodedEntryValue("108369006", "SCT", "Neoplasm")));
        CHECK(g.addFindingSite(siteOf(l.location)));
        const vc::Measurement* m = a->measurement ? draft.measurement(a->measurement) : nullptr;
        ImageHeader* img = m ? headerOf(m->sopUid) : nullptr;
        auto addValue = [&](CID7469_GenericIntensityAndSizeMeasurements::EnumType what, double valueMm, const vc::Point3* p,
                            const vc::Point3* q, bool first) -> bool {
            CHECK(g.addMeasurement(what,
                                   CMR_SRNumericMeasurementValueWithUnits<CID7181_AbstractMultiDimensionalImageModelComponentUnits>(
                                       mm(valueMm).c_str(), CID7181_AbstractMultiDimensionalImageModelComponentUnits::Millimeter),
                                   first ? OFTrue : OFFalse));
            if (m) {
                // How the caliper was made (TID 300 row 2, a modifier): by hand, or the one-click
                // proposal accepted unchanged or edited. Local codes: no standard code says it.
                const char* code = m->origin == vc::Measurement::Origin::Proposed         ? "PROPOSED"
                                   : m->origin == vc::Measurement::Origin::ProposedEdited ? "PROPOSED_EDITED"
                                                                                          : "MANUAL";
                const char* meaning = m->origin == vc::Measurement::Origin::Proposed ? "Semi-automatic proposal accepted unchanged"
                                      : m->origin == vc::Measurement::Origin::ProposedEdited
                                          ? "Semi-automatic proposal edited by the reader"
                                          : "Manual caliper";
                CHECK(g.getMeasurement().addModifier(DSRCodedEntryValue("PROVENANCE", "99RELUTH", "Measurement provenance"),
                                                     DSRCodedEntryValue(code, "99RELUTH", meaning)));
            }
            if (img && p && q) {
                DcmDataset* ds = img->file.getDataset();
                OFString sopClass, sopInstance;
                ds->findAndGetOFString(DCM_SOPClassUID, sopClass);
                ds->findAndGetOFString(DCM_SOPInstanceUID, sopInstance);
                const DSRImageReferenceValue ref(sopClass, sopInstance);
                DSRSpatialCoordinatesValue line(DSRTypes::GT_Polyline);
                const auto pp = pixelOf(*img, *p), qq = pixelOf(*img, *q);
                line.getGraphicDataList().addItem(pp[0], pp[1]);
                line.getGraphicDataList().addItem(qq[0], qq[1]);
                CHECK(g.getMeasurement().addSpatialCoordinates(CODE_DCM_ImageRegion, line, ref));
                CHECK(g.getMeasurement().addImage(CODE_DCM_SourceOfMeasurement, ref));
            }
            return true;
        };
        const bool bidimensional = m && m->kind == vc::Measurement::Kind::Bidimensional;
        if (l.nodal && bidimensional) {
            // a node: the short axis is the RECIST value, the long axis is kept beside it
            if (!addValue(CID7469_GenericIntensityAndSizeMeasurements::ShortAxis, value.mm(), &m->c, &m->d, true)) return false;
            if (!addValue(CID7469_GenericIntensityAndSizeMeasurements::LongAxis, m->longMm(), &m->a, &m->b, false)) return false;
        } else {
            if (!addValue(l.nodal ? CID7469_GenericIntensityAndSizeMeasurements::ShortAxis
                                  : CID7469_GenericIntensityAndSizeMeasurements::LongAxis,
                          value.mm(), m ? &m->a : nullptr, m ? &m->b : nullptr, true))
                return false;
            if (bidimensional && !addValue(CID7469_GenericIntensityAndSizeMeasurements::ShortAxis, m->shortMm(), &m->c, &m->d, false))
                return false;
        }
        if (img && inLibrary.insert(m->sopUid).second) {
            if (!libraryGroup) {
                if (report.getImageLibrary().isEmpty()) CHECK(report.getImageLibrary().createNewImageLibrary());
                CHECK(report.getImageLibrary().addImageGroup());
            }
            libraryGroup = true;
            CHECK(report.getImageLibrary().addImageEntry(*img->file.getDataset(), TID1600_ImageLibrary::withAllDescriptors));
        }
    }
    // lesion states and the engine's responses, as text a reader of the report can check
    const DSRCodedEntryValue finding("121071", "DCM", "Finding");
    for (const KnownLesion& l : model.lesions()) {
        const AnswerEntry* a = draft.answer(l.id);
        if (!a) continue;
        recist::Length value;
        if (l.role == "TARGET" && recist::Length::parseMm(a->result, value)) continue;
        const std::string text =
            l.id + " (" + l.role + ", " + l.location + "): " + a->result + (a->reason.empty() ? "" : " (" + a->reason + ")");
        CHECK(report.addQualitativeEvaluation(finding, text.c_str()));
    }
    if (const auto& r = model.evaluation().result; r && !r->visits.empty()) {
        const recist::VisitResult& v = r->visits.back();
        std::string text = in.visit + ":";
        if (v.sum) text += " sum of diameters " + v.sum->formatMm() + " mm;";
        if (v.overall) text += " overall response " + std::string(recist::toString(*v.overall)) + " (" + v.overallReason + ")";
        CHECK(report.addQualitativeEvaluation(DSRCodedEntryValue("126081", "DCM", "RECIST 1.1"), text.substr(0, 1024).c_str()));
    }
    if (!report.isValid()) {
        if (error) *error = "the TID 1500 report is incomplete";
        return false;
    }

    DSRDocument doc(DSRTypes::DT_EnhancedSR);
    CHECK(doc.setTreeFromRootTemplate(report, OFTrue /* expand the included templates */));
    // where each non-target and new lesion is: its Finding gets the reader's point as an SCOORD
    // POINT (INFERRED FROM), on the image it was placed on (SELECTED FROM)
    for (const KnownLesion& l : model.lesions()) {
        if (l.role == "TARGET") continue;
        const vc::Measurement* at = nullptr;
        for (const vc::Measurement& m : draft.measurements)
            if (m.label == l.id && m.kind == vc::Measurement::Kind::Point) at = &m;
        ImageHeader* img = at ? headerOf(at->sopUid) : nullptr;
        if (!img) continue;
        DSRDocumentTree& tree = doc.getTree();
        const std::string prefix = l.id + " (";
        bool found = false;
        if (tree.gotoRoot() > 0) do {
                const DSRContentItem& item = tree.getCurrentContentItem();
                if (item.getValueType() == DSRTypes::VT_Text && std::string(item.getStringValue().c_str()).rfind(prefix, 0) == 0) {
                    found = true;
                    break;
                }
            } while (tree.iterate() > 0);
        if (!found) continue;
        OFString sopClass, sopInstance;
        img->file.getDataset()->findAndGetOFString(DCM_SOPClassUID, sopClass);
        img->file.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, sopInstance);
        DSRSpatialCoordinatesValue point(DSRTypes::GT_Point);
        const auto pp = pixelOf(*img, at->a);
        point.getGraphicDataList().addItem(pp[0], pp[1]);
        if (tree.addContentItem(DSRTypes::RT_inferredFrom, DSRTypes::VT_SCoord, DSRTypes::AM_belowCurrent) == 0) {
            if (error) *error = "the report cannot hold " + l.id + "'s point";
            return false;
        }
        CHECK(tree.getCurrentContentItem().setConceptName(CODE_DCM_ImageRegion));
        CHECK(tree.getCurrentContentItem().setSpatialCoordinates(point));
        if (tree.addContentItem(DSRTypes::RT_selectedFrom, DSRTypes::VT_Image, DSRTypes::AM_belowCurrent) == 0) {
            if (error) *error = "the report cannot refer to the image of " + l.id + "'s point";
            return false;
        }
        CHECK(tree.getCurrentContentItem().setImageReference(DSRImageReferenceValue(sopClass, sopInstance)));
    }
    OFString studyUid, patientId, patientName, sex, birth, studyDate, studyTime, accession, studyId, sponsor, protocol, protocolName,
        siteId, siteName, subjectId, tpId, tpDesc, referring;
    DcmDataset* src = any.file.getDataset();
    src->findAndGetOFString(DCM_StudyInstanceUID, studyUid);
    CHECK(doc.createNewSeriesInStudy(studyUid));
    src->findAndGetOFString(DCM_PatientID, patientId);
    src->findAndGetOFString(DCM_PatientName, patientName);
    src->findAndGetOFString(DCM_PatientSex, sex);
    src->findAndGetOFString(DCM_PatientBirthDate, birth);
    src->findAndGetOFString(DCM_StudyDate, studyDate);
    src->findAndGetOFString(DCM_StudyTime, studyTime);
    src->findAndGetOFString(DCM_AccessionNumber, accession);
    src->findAndGetOFString(DCM_StudyID, studyId);
    doc.setPatientID(patientId);
    doc.setPatientName(patientName);
    doc.setPatientSex(sex);
    doc.setPatientBirthDate(birth, OFFalse);
    doc.setStudyDate(studyDate, OFFalse);
    doc.setStudyTime(studyTime, OFFalse);
    doc.setAccessionNumber(accession);
    doc.setStudyID(studyId);
    doc.setManufacturer("ReLUTH central review workstation");
    doc.setSeriesDescription(("RECIST 1.1 measurements " + in.reader + " " + in.visit).c_str());
    doc.setSeriesNumber("9000");
    // every image the measurements refer to is evidence of the procedure reported
    for (const auto& [sop, h] : headers)
        if (h && h->ok) CHECK(doc.getCurrentRequestedProcedureEvidence().addItem(*h->file.getDataset()));
    CHECK(doc.completeDocument());
    CHECK(doc.verifyDocument((in.reader == "Reader 2" ? "READER^2" : "READER^1"), "ReLUTH central review"));

    DcmFileFormat file;
    DcmDataset* ds = file.getDataset();
    CHECK(doc.write(*ds));
    // the report is as de-identified as the images it refers to, and in the same trial context
    const DcmTagKey copied[] = {DCM_PatientIdentityRemoved,    DCM_DeidentificationMethod,
                                DCM_ClinicalTrialSponsorName,  DCM_ClinicalTrialProtocolID,
                                DCM_ClinicalTrialProtocolName, DCM_ClinicalTrialSiteID,
                                DCM_ClinicalTrialSiteName,     DCM_ClinicalTrialSubjectID,
                                DCM_ClinicalTrialTimePointID,  DCM_ClinicalTrialTimePointDescription,
                                DCM_ReferringPhysicianName};
    for (const DcmTagKey& t : copied) {
        OFString v;
        if (src->findAndGetOFStringArray(t, v).good()) ds->putAndInsertOFStringArray(t, v);
    }
    std::error_code ec;
    std::filesystem::create_directories(out.parent_path(), ec);
    const std::filesystem::path tmp = out.string() + ".part";
    CHECK(file.saveFile(tmp.c_str(), EXS_LittleEndianExplicit));
    std::filesystem::rename(tmp, out, ec);
    if (ec) {
        if (error) *error = "cannot move the report into place: " + ec.message();
        std::filesystem::remove(tmp, ec);
        return false;
    }
    return true;
}

} // namespace vr
