#include "viewerreading/ReportReader.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmsr/dsrdoc.h>
#include <dcmtk/oflog/oflog.h>

#include <cmath>
#include <map>
#include <memory>
#include <mutex>

namespace vr {

namespace {

std::string codeKey(const DSRCodedEntryValue& c) {
    return std::string(c.getCodeValue().c_str()) + "^" + c.getCodingSchemeDesignator().c_str();
}
std::string meaning(const DSRCodedEntryValue& c) { return c.getCodeMeaning().c_str(); }
bool is(const DSRCodedEntryValue& c, const char* value, const char* scheme) {
    return c.getCodeValue() == value && c.getCodingSchemeDesignator() == scheme;
}
const char* typeName(DSRTypes::E_ValueType t) { return DSRTypes::valueTypeToDefinedTerm(t); }

struct Walker {
    DSRDocumentTree& tree;
    ParsedReport& out;

    std::string where() const {
        OFString pos;
        return "item " + std::string(tree.getPosition(pos).c_str());
    }

    /// The children of the current node, each visited with the cursor on it; the cursor is
    /// back on the parent afterwards.
    template <class F>
    void children(F visit) {
        if (tree.gotoChild() == 0) return;
        do {
            visit(tree.getCurrentContentItem());
        } while (tree.gotoNext() != 0);
        tree.goUp();
    }

    void measurement(ReportedGroup& g, DSRContentItem& num) {
        ReportedMeasurement m;
        const DSRCodedEntryValue& c = num.getConceptName();
        m.code = is(c, "103339001", "SCT") || is(c, "G-A185", "SRT")   ? "LONG_AXIS"
                 : is(c, "103340004", "SCT") || is(c, "G-A186", "SRT") ? "SHORT_AXIS"
                                                                       : codeKey(c);
        m.conceptMeaning = meaning(c);
        if (const DSRNumericMeasurementValue* v = num.getNumericValuePtr()) {
            OFString text = v->getNumericValue();
            try {
                m.value = std::stod(text.c_str());
            } catch (const std::exception&) {
                out.notes.push_back(where() + ": the value '" + std::string(text.c_str()) + "' of " + m.conceptMeaning +
                                    " is not a number");
                return;
            }
            if (!std::isfinite(m.value)) {
                out.notes.push_back(where() + ": the value '" + std::string(text.c_str()) + "' of " + m.conceptMeaning + " is not finite");
                return;
            }
            m.units = v->getMeasurementUnit().getCodeValue().c_str();
            if (text.empty()) {
                out.notes.push_back(where() + ": " + m.conceptMeaning + " has no value");
                return;
            }
        }
        children([&](DSRContentItem& item) {
            const DSRCodedEntryValue& cn = item.getConceptName();
            if (item.getValueType() == DSRTypes::VT_Code && is(cn, "PROVENANCE", "99RELUTH")) {
                m.provenance = item.getCodeValue().getCodeValue().c_str();
            } else if (item.getValueType() == DSRTypes::VT_SCoord) {
                DSRSpatialCoordinatesValue* s = item.getSpatialCoordinatesPtr();
                if (s) {
                    DSRGraphicDataList& list = s->getGraphicDataList();
                    for (size_t i = 1; i <= list.getNumberOfItems(); ++i) {
                        const DSRGraphicDataItem& p = list.getItem(i);
                        m.polyline.push_back({p.Column, p.Row});
                    }
                }
                // the SCOORD's image (selected from)
                children([&](DSRContentItem& ref) {
                    if (const DSRImageReferenceValue* r = ref.getImageReferencePtr(); r && m.sopInstanceUid.empty()) {
                        m.sopClassUid = r->getSOPClassUID().c_str();
                        m.sopInstanceUid = r->getSOPInstanceUID().c_str();
                    }
                });
            } else if (item.getValueType() == DSRTypes::VT_Image) {
                if (const DSRImageReferenceValue* r = item.getImageReferencePtr(); r && m.sopInstanceUid.empty()) {
                    m.sopClassUid = r->getSOPClassUID().c_str();
                    m.sopInstanceUid = r->getSOPInstanceUID().c_str();
                }
            } else {
                out.notes.push_back(where() + ": " + typeName(item.getValueType()) + " '" + meaning(cn) + "' under " + m.conceptMeaning +
                                    " not understood (skipped)");
            }
        });
        g.measurements.push_back(std::move(m));
    }

    void group(DSRContentItem&) {
        ReportedGroup g;
        children([&](DSRContentItem& item) {
            const DSRCodedEntryValue& cn = item.getConceptName();
            const auto type = item.getValueType();
            if (type == DSRTypes::VT_Text && is(cn, "112039", "DCM")) {
                g.trackingId = item.getStringValue().c_str();
            } else if (type == DSRTypes::VT_UIDRef && is(cn, "112040", "DCM")) {
                g.trackingUid = item.getStringValue().c_str();
            } else if (type == DSRTypes::VT_Code && is(cn, "121071", "DCM")) {
                g.finding = meaning(item.getCodeValue());
            } else if (type == DSRTypes::VT_Code && (is(cn, "363698007", "SCT") || is(cn, "G-C0E3", "SRT"))) {
                g.findingSite = meaning(item.getCodeValue());
            } else if (type == DSRTypes::VT_Num) {
                measurement(g, item);
            } else if (type == DSRTypes::VT_Code && (is(cn, "121058", "DCM") || is(cn, "G-C036", "SRT") || is(cn, "370129005", "SCT"))) {
                // procedure reported / measurement method: context, nothing to reopen
            } else {
                out.notes.push_back(where() + ": " + typeName(type) + " '" + meaning(cn) + "' in measurement group " +
                                    (g.trackingId.empty() ? "(no tracking identifier)" : g.trackingId) + " not understood (skipped)");
            }
        });
        if (g.trackingId.empty() && g.trackingUid.empty())
            out.notes.push_back("a measurement group has neither a tracking identifier nor a tracking UID: its lesion cannot be matched "
                                "across timepoints");
        out.groups.push_back(std::move(g));
    }

    /// Any container: measurement groups anywhere below it, qualitative evaluations, the observer.
    void container() {
        children([&](DSRContentItem& item) {
            const DSRCodedEntryValue& cn = item.getConceptName();
            const auto type = item.getValueType();
            if (type == DSRTypes::VT_Container && is(cn, "125007", "DCM")) {
                group(item);
            } else if (type == DSRTypes::VT_Container) {
                container(); // imaging measurements (126010), image library (111028), ...
            } else if (type == DSRTypes::VT_PName && is(cn, "121008", "DCM")) {
                out.observer = item.getStringValue().c_str();
            } else if ((type == DSRTypes::VT_Text || type == DSRTypes::VT_Code) && tree.getLevel() <= 3 &&
                       item.getRelationshipType() == DSRTypes::RT_contains) {
                out.evaluations.push_back(
                    meaning(cn) + ": " +
                    (type == DSRTypes::VT_Text ? std::string(item.getStringValue().c_str()) : meaning(item.getCodeValue())));
            }
            // the rest (language, observer type, procedure, image library entries' descriptors) is context
        });
    }
};

std::optional<ParsedReport> parse(DcmFileFormat& ff, std::string* error) {
    static std::once_flag quiet;
    std::call_once(quiet, [] { OFLog::configure(OFLogger::FATAL_LOG_LEVEL); });
    DSRDocument doc;
    const OFCondition c = doc.read(*ff.getDataset(), DSRTypes::RF_acceptUnknownRelationshipType | DSRTypes::RF_ignoreContentItemErrors |
                                                         DSRTypes::RF_skipInvalidContentItems);
    if (c.bad()) {
        if (error) *error = std::string("not a structured report DCMTK can read: ") + c.text();
        return std::nullopt;
    }
    ParsedReport r;
    OFString s;
    doc.getSOPInstanceUID(s);
    r.sopInstanceUid = s.c_str();
    doc.getStudyInstanceUID(s);
    r.studyInstanceUid = s.c_str();
    doc.getSeriesInstanceUID(s);
    r.seriesInstanceUid = s.c_str();
    doc.getPatientID(s);
    r.patientId = s.c_str();
    DSRDocumentTree& tree = doc.getTree();
    if (tree.gotoRoot() == 0) {
        r.notes.push_back("the report has no content");
        return r;
    }
    DSRContentItem& root = tree.getCurrentContentItem();
    r.title = meaning(root.getConceptName());
    OFString templateId, mapping;
    if (tree.getCurrentNode() && tree.getCurrentNode()->getTemplateIdentification(templateId, mapping).good())
        r.tid1500 = templateId == "1500" && mapping == "DCMR";
    if (!r.tid1500)
        r.notes.push_back("the root is not TID 1500 (template '" + std::string(templateId.c_str()) + "' of '" +
                          std::string(mapping.c_str()) + "'): read as far as it goes");
    if (root.getValueType() != DSRTypes::VT_Container) {
        r.notes.push_back("the root is not a container");
        return r;
    }
    Walker w{tree, r};
    w.container();
    if (r.groups.empty()) r.notes.push_back("no measurement group (125007, DCM) found");
    return r;
}

} // namespace

std::optional<ParsedReport> readMeasurementReport(const std::filesystem::path& file, std::string* error) {
    DcmFileFormat ff;
    const OFCondition c = ff.loadFile(file.c_str());
    if (c.bad()) {
        if (error) *error = file.string() + ": not readable as DICOM (" + c.text() + ")";
        return std::nullopt;
    }
    auto r = parse(ff, error);
    if (!r && error) *error = file.string() + ": " + *error;
    return r;
}

std::optional<ParsedReport> readMeasurementReport(const std::uint8_t* data, std::size_t size, std::string* error) {
    DcmInputBufferStream in;
    in.setBuffer(data, static_cast<offile_off_t>(size));
    in.setEos();
    DcmFileFormat ff;
    ff.transferInit();
    const OFCondition c = ff.read(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
    ff.transferEnd();
    if (c.bad()) {
        if (error) *error = std::string("not readable as DICOM (") + c.text() + ")";
        return std::nullopt;
    }
    return parse(ff, error);
}

std::array<double, 3> patientPointOf(const std::array<double, 2>& pixel, const std::array<double, 3>& position,
                                     const std::array<double, 6>& orientation, const std::array<double, 2>& spacing) {
    // SCOORD (0.5, 0.5) is the centre of the first pixel, where Image Position points
    const double u = (pixel[0] - 0.5) * spacing[1], v = (pixel[1] - 0.5) * spacing[0];
    std::array<double, 3> p{};
    for (std::size_t i = 0; i < 3; ++i) p[i] = position[i] + u * orientation[i] + v * orientation[i + 3];
    return p;
}

} // namespace vr
