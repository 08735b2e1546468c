// Writes the planned series as DICOM files with DCMTK. Each series gets a template dataset
// with everything but the per-slice attributes; slices are rendered and written by worker
// threads that pull (series, slice) jobs, each slice's noise keyed by its identity so the
// bytes do not depend on scheduling.
#include "DicomWriter.h"

#include "phantom/Render.h"

#include "Anatomy.h"
#include "Font.h"
#include "Random.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace phantom {
namespace {

/// DICOM DS: at most 16 characters.
std::string ds(double v) {
    char buf[32];
    for (int precision = 10; precision > 1; --precision) {
        std::snprintf(buf, sizeof buf, "%.*g", precision, v);
        if (std::strlen(buf) <= 16) break;
    }
    return buf;
}

void put(DcmItem& item, const DcmTagKey& tag, const std::string& value) {
    const OFCondition c = item.putAndInsertString(DcmTag(tag), value.c_str());
    if (c.bad()) throw std::runtime_error(std::string("DICOM: cannot set ") + DcmTag(tag).getTagName() + ": " + c.text());
}

void check(const OFCondition& c, const std::string& what) {
    if (c.bad()) throw std::runtime_error("DICOM: " + what + ": " + c.text());
}

std::string ageAt(const std::string& birthDa, Date on) {
    int y, m, d;
    on.toCivil(y, m, d);
    const int by = std::stoi(birthDa.substr(0, 4)), bm = std::stoi(birthDa.substr(4, 2)), bd = std::stoi(birthDa.substr(6, 2));
    int age = y - by - ((m < bm || (m == bm && d < bd)) ? 1 : 0);
    char buf[8];
    std::snprintf(buf, sizeof buf, "%03dY", age);
    return buf;
}

const std::string* leak(const std::vector<ArmLeak>& leaks, const std::string& where) {
    for (const ArmLeak& l : leaks) {
        if (l.where == where) return &l.text;
    }
    return nullptr;
}

/// Image Pixel module of a single-channel greyscale image.
void putPixelModule(DcmItem& d, int rows, int columns, Uint16 bitsAllocated, Uint16 bitsStored) {
    put(d, DCM_SamplesPerPixel, "1");
    put(d, DCM_PhotometricInterpretation, "MONOCHROME2");
    check(d.putAndInsertUint16(DCM_Rows, static_cast<Uint16>(rows)), "Rows");
    check(d.putAndInsertUint16(DCM_Columns, static_cast<Uint16>(columns)), "Columns");
    check(d.putAndInsertUint16(DCM_BitsAllocated, bitsAllocated), "BitsAllocated");
    check(d.putAndInsertUint16(DCM_BitsStored, bitsStored), "BitsStored");
    check(d.putAndInsertUint16(DCM_HighBit, static_cast<Uint16>(bitsStored - 1)), "HighBit");
    check(d.putAndInsertUint16(DCM_PixelRepresentation, 0), "PixelRepresentation");
}

} // namespace

/// Attributes shared by every file of a series: patient, study, series, equipment, PHI.
DcmDataset seriesTemplate(const TrialPlan& plan, const Subject& s, const StudyPlan& st, const SeriesPlan& se) {
    const Site& site = plan.sites[static_cast<std::size_t>(s.site)];
    DcmDataset d;
    put(d, DCM_SpecificCharacterSet, "ISO_IR 192");
    const bool image = se.modality == "CT" || se.modality == "MR";
    const char* sopClass = se.modality == "CT"   ? UID_CTImageStorage
                           : se.modality == "MR" ? UID_MRImageStorage
                           : se.modality == "NM" ? UID_NuclearMedicineImageStorage
                                                 : UID_SecondaryCaptureImageStorage;
    put(d, DCM_SOPClassUID, sopClass);
    put(d, DCM_StudyDate, st.date.dicom());
    put(d, DCM_SeriesDate, st.date.dicom());
    put(d, DCM_AcquisitionDate, st.date.dicom());
    put(d, DCM_ContentDate, st.date.dicom());
    put(d, DCM_StudyTime, st.time);
    put(d, DCM_SeriesTime, st.time);
    put(d, DCM_AcquisitionTime, st.time);
    put(d, DCM_ContentTime, st.time);
    put(d, DCM_AccessionNumber, st.accessionNumber);
    put(d, DCM_Modality, se.modality == "SC" ? "OT" : se.modality);
    put(d, DCM_Manufacturer, se.modality == "MR" ? "SIEMENS" : site.manufacturer);
    put(d, DCM_InstitutionName, site.institution);
    put(d, DCM_InstitutionAddress, site.address);
    put(d, DCM_ReferringPhysicianName, s.referringPhysician);
    put(d, DCM_StationName, site.stationName);
    put(d, DCM_StudyDescription, st.description);
    put(d, DCM_SeriesDescription, se.description);
    put(d, DCM_InstitutionalDepartmentName, "Service de Radiologie");
    put(d, DCM_PerformingPhysicianName, s.performingPhysician);
    put(d, DCM_OperatorsName, s.operatorName);
    put(d, DCM_ManufacturerModelName, se.modality == "MR" ? "MAGNETOM Aera" : site.model);
    put(d, DCM_PatientName, s.patientName);
    put(d, DCM_PatientID, s.patientId);
    put(d, DCM_IssuerOfPatientID, site.institution);
    put(d, DCM_PatientBirthDate, s.birthDate);
    put(d, DCM_PatientSex, s.sex);
    put(d, DCM_PatientAge, ageAt(s.birthDate, st.date));
    put(d, DCM_PatientSize, "1.7");
    put(d, DCM_PatientWeight, "68");
    put(d, DCM_PatientAddress, s.address);
    put(d, DCM_PatientTelephoneNumbers, s.phone);
    {
        DcmItem* item = nullptr;
        check(d.findOrCreateSequenceItem(DCM_OtherPatientIDsSequence, item, 0), "OtherPatientIDsSequence");
        put(*item, DCM_PatientID, s.otherPatientId);
        put(*item, DCM_IssuerOfPatientID, "INS");
        put(*item, DCM_TypeOfPatientID, "TEXT");
    }
    const std::string* comments = leak(se.armLeaks, "PatientComments");
    put(d, DCM_PatientComments, comments ? *comments : "Suivi TNE intestinale");
    put(d, DCM_DeviceSerialNumber, site.deviceSerial);
    put(d, DCM_SoftwareVersions, "VB20A");
    const std::string* protocol = leak(se.armLeaks, "ProtocolName");
    put(d, DCM_ProtocolName, protocol ? *protocol : "TAP standard");
    put(d, DCM_StudyInstanceUID, st.uid);
    put(d, DCM_SeriesInstanceUID, se.uid);
    put(d, DCM_StudyID, st.accessionNumber.substr(1, 8));
    put(d, DCM_SeriesNumber, std::to_string(se.number));
    if (image || se.modality == "NM") {
        put(d, DCM_FrameOfReferenceUID, se.frameOfReferenceUid);
        put(d, DCM_PositionReferenceIndicator, "");
    }
    {
        DcmItem* item = nullptr;
        check(d.findOrCreateSequenceItem(DCM_RequestAttributesSequence, item, 0), "RequestAttributesSequence");
        const std::string* req = leak(se.armLeaks, "RequestAttributesSequence[0].RequestedProcedureDescription");
        put(*item, DCM_RequestedProcedureID, st.accessionNumber);
        put(*item, DCM_RequestedProcedureDescription, req ? *req : st.description);
        put(*item, DCM_ScheduledProcedureStepID, st.accessionNumber + "-1");
        put(*item, DCM_AccessionNumber, st.accessionNumber);
    }
    const std::string* imageComments = leak(se.armLeaks, "ImageComments");
    if (imageComments) put(d, DCM_ImageComments, *imageComments);
    // The site PACS's private block: it repeats the name and the ID, and sometimes the arm.
    put(d, DcmTagKey(0x0011, 0x0010), "SITEPACS 1.0");
    auto putPrivate = [&d](Uint16 element, const std::string& value) {
        DcmTag tag(0x0011, element, "SITEPACS 1.0");
        tag.setVR(EVR_LO);
        check(d.putAndInsertString(tag, value.c_str()), "private element");
    };
    putPrivate(0x1010, s.patientName);
    putPrivate(0x1011, s.patientId);
    if (const std::string* p = leak(se.armLeaks, "(0011,\"SITEPACS 1.0\",12)")) putPrivate(0x1012, *p);
    put(d, DCM_BodyPartExamined, se.modality == "NM" ? "WHOLEBODY" : "CHEST");
    return d;
}

void addImagePlane(DcmDataset& d, const SeriesPlan& se) {
    put(d, DCM_PatientPosition, "HFS");
    put(d, DCM_ImageOrientationPatient, "1\\0\\0\\0\\1\\0");
    put(d, DCM_PixelSpacing, ds(se.pixelSpacingMm[0]) + "\\" + ds(se.pixelSpacingMm[1]));
    put(d, DCM_SliceThickness, ds(se.sliceThicknessMm));
    putPixelModule(d, se.rows, se.columns, 16, 12);
    put(d, DCM_AcquisitionNumber, "1");
    put(d, DCM_PatientOrientation, "");
    if (se.modality == "CT") {
        put(d, DCM_ImageType, "ORIGINAL\\PRIMARY\\AXIAL");
        put(d, DCM_KVP, "120");
        put(d, DCM_XRayTubeCurrent, "210");
        put(d, DCM_ConvolutionKernel, "B30f");
        put(d, DCM_RescaleIntercept, "-1024");
        put(d, DCM_RescaleSlope, "1");
        put(d, DCM_RescaleType, "HU");
        put(d, DCM_WindowCenter, "40");
        put(d, DCM_WindowWidth, "400");
        put(d, DCM_ContrastBolusAgent, "IOMERON 350");
    } else {
        put(d, DCM_ImageType, "ORIGINAL\\PRIMARY\\M\\ND");
        put(d, DCM_ScanningSequence, "SE");
        put(d, DCM_SequenceVariant, "SK\\SP");
        put(d, DCM_ScanOptions, "");
        put(d, DCM_MRAcquisitionType, "2D");
        put(d, DCM_RepetitionTime, "1200");
        put(d, DCM_EchoTime, "92");
        put(d, DCM_EchoTrainLength, "128");
        put(d, DCM_MagneticFieldStrength, "1.5");
        put(d, DCM_ImagedNucleus, "1H");
        put(d, DCM_SpacingBetweenSlices, ds(se.sliceThicknessMm));
        put(d, DCM_WindowCenter, "300");
        put(d, DCM_WindowWidth, "700");
    }
}

void renderSlice(const TrialPlan& plan, const Subject& s, int timepoint, const SeriesPlan& se, int slice,
                 std::vector<std::uint16_t>& pixels) {
    const bool ct = se.modality == "CT";
    RasterGeometry g{se.rows, se.columns, se.originXMm, se.originYMm, se.pixelSpacingMm[1], se.pixelSpacingMm[0]};
    pixels.resize(static_cast<std::size_t>(se.rows) * static_cast<std::size_t>(se.columns));
    rasterize(sliceShapes(plan, s, timepoint, se.zOfSlice(slice)), g, ct ? ctValues() : mrValues(), ct ? plan.options.ctNoiseHu : 8.0,
              mix(mix(plan.options.seed, se.uid), static_cast<std::uint64_t>(slice)), 0, 4095, pixels.data(), plan.options.partialVolume);
}

void writeSlice(const TrialPlan& plan, const Subject& s, int timepoint, const SeriesPlan& se, const DcmDataset& templ, int slice,
                const std::filesystem::path& file, std::vector<std::uint16_t>& pixels, const std::string& sopUid) {
    const double z = se.zOfSlice(slice);
    renderSlice(plan, s, timepoint, se, slice, pixels);

    // DCMTK walks an item's element list with a cursor stored in the list, so even copying a
    // const dataset is not thread-safe: copy under a lock (the copy has no pixel data).
    static std::mutex copyMutex;
    std::unique_lock<std::mutex> lock(copyMutex);
    DcmFileFormat file_format(const_cast<DcmDataset*>(&templ)); // deep copy
    lock.unlock();
    DcmDataset& d = *file_format.getDataset();
    put(d, DCM_SOPInstanceUID, sopUid);
    put(d, DCM_InstanceNumber, std::to_string(slice + 1));
    put(d, DCM_ImagePositionPatient, ds(se.originXMm) + "\\" + ds(se.originYMm) + "\\" + ds(z));
    put(d, DCM_SliceLocation, ds(z));
    check(d.putAndInsertUint16Array(DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size())), "PixelData");
    put(*file_format.getMetaInfo(), DCM_SourceApplicationEntityTitle, plan.sites[static_cast<std::size_t>(s.site)].aeTitle);
    check(file_format.saveFile(file.c_str(), EXS_LittleEndianExplicit), "write " + file.string());
}

void writeNm(const TrialPlan& plan, const Subject& s, const StudyPlan& st, const SeriesPlan& se, const std::filesystem::path& file) {
    const DcmDataset templ = seriesTemplate(plan, s, st, se);
    DcmFileFormat ff(const_cast<DcmDataset*>(&templ)); // deep copy
    DcmDataset& d = *ff.getDataset();
    put(d, DCM_SOPInstanceUID, se.sopInstanceUids.front());
    put(d, DCM_InstanceNumber, "1");
    put(d, DCM_ImageType, "ORIGINAL\\PRIMARY\\WHOLE BODY\\EMISSION");
    putPixelModule(d, se.rows, se.columns, 16, 16);
    put(d, DCM_PixelSpacing, ds(se.pixelSpacingMm[0]) + "\\" + ds(se.pixelSpacingMm[1]));
    put(d, DCM_NumberOfFrames, "1");
    check(d.putAndInsertTagKey(DCM_FrameIncrementPointer, DCM_EnergyWindowVector), "FrameIncrementPointer");
    check(d.putAndInsertUint16(DCM_EnergyWindowVector, 1), "EnergyWindowVector");
    check(d.putAndInsertUint16(DCM_NumberOfEnergyWindows, 1), "NumberOfEnergyWindows");
    check(d.putAndInsertUint16(DCM_NumberOfDetectors, 1), "NumberOfDetectors");
    DcmItem* rp = nullptr;
    check(d.findOrCreateSequenceItem(DCM_RadiopharmaceuticalInformationSequence, rp, 0), "Radiopharmaceutical");
    put(*rp, DCM_Radiopharmaceutical, *leak(se.armLeaks, "RadiopharmaceuticalInformationSequence[0].Radiopharmaceutical"));
    put(*rp, DCM_RadionuclideTotalDose, "7400");
    put(*rp, DCM_RadiopharmaceuticalStartDateTime, st.date.plusDays(-1).dicom() + "100000");
    // Planar whole body: hot spots where the lesions are (x -> column, z -> row).
    std::vector<std::uint16_t> px(static_cast<std::size_t>(se.rows * se.columns));
    Rng rng(mix(plan.options.seed, se.uid));
    for (int r = 0; r < se.rows; ++r) {
        for (int c = 0; c < se.columns; ++c) {
            const double x = (c - se.columns / 2.0) * se.pixelSpacingMm[1], z = (se.rows / 2.0 - r) * se.pixelSpacingMm[0];
            double v = (std::abs(x) < 165 && std::abs(z) < 450) ? 8 : 1;
            if (std::hypot((x + 55) / 80, (z + 30) / 60) < 1) v = 25; // liver
            for (const Lesion& l : s.lesions) {
                const double rr = std::max(8.0, l.states.front().longTenthsMm / 20.0);
                if (std::hypot(x - l.centerMm.x, z - l.centerMm.z) < rr) v = 400;
            }
            px[static_cast<std::size_t>(r * se.columns + c)] = static_cast<std::uint16_t>(v + rng.integer(0, static_cast<int>(v / 4 + 1)));
        }
    }
    check(d.putAndInsertUint16Array(DCM_PixelData, px.data(), static_cast<unsigned long>(px.size())), "PixelData");
    check(ff.saveFile(file.c_str(), EXS_LittleEndianExplicit), "write " + file.string());
}

void writeBurnedIn(const TrialPlan& plan, const Subject& s, const StudyPlan& st, const SeriesPlan& se, const std::filesystem::path& file) {
    // A screen capture of the baseline CT at the first target, with the patient banner burned in.
    const SeriesPlan& ct = st.series.front();
    const Lesion& target = s.lesions.front();
    std::vector<std::uint16_t> hu(static_cast<std::size_t>(ct.rows * ct.columns));
    RasterGeometry g{ct.rows, ct.columns, ct.originXMm, ct.originYMm, ct.pixelSpacingMm[1], ct.pixelSpacingMm[0]};
    rasterize(sliceShapes(plan, s, 0, target.centerMm.z), g, ctValues(), plan.options.ctNoiseHu, mix(plan.options.seed, se.uid), 0, 4095, hu.data());
    std::vector<std::uint8_t> img(static_cast<std::size_t>(se.rows * se.columns));
    for (std::size_t i = 0; i < img.size(); ++i) {
        const double v = (static_cast<double>(hu[i]) - 1024.0 - (40 - 200)) / 400.0 * 255.0; // W400 L40
        img[i] = static_cast<std::uint8_t>(std::clamp(v, 0.0, 255.0));
    }
    std::string name = s.patientName;
    std::replace(name.begin(), name.end(), '^', ' ');
    const std::string bd = s.birthDate.substr(6, 2) + "/" + s.birthDate.substr(4, 2) + "/" + s.birthDate.substr(0, 4);
    burnText(img.data(), se.columns, se.rows, 8, 8, name, 2, 255);
    burnText(img.data(), se.columns, se.rows, 8, 26, "NE LE " + bd + "  IPP " + s.patientId, 2, 255);
    burnText(img.data(), se.columns, se.rows, 8, se.rows - 24,
             st.date.iso() + " " + plan.sites[static_cast<std::size_t>(s.site)].stationName, 2, 255);

    const DcmDataset templ = seriesTemplate(plan, s, st, se);
    DcmFileFormat ff(const_cast<DcmDataset*>(&templ)); // deep copy
    DcmDataset& d = *ff.getDataset();
    put(d, DCM_SOPInstanceUID, se.sopInstanceUids.front());
    put(d, DCM_InstanceNumber, "1");
    put(d, DCM_ConversionType, "WSD");
    put(d, DCM_BurnedInAnnotation, "YES");
    put(d, DCM_ImageType, "DERIVED\\SECONDARY");
    put(d, DCM_PatientOrientation, "");
    putPixelModule(d, se.rows, se.columns, 8, 8);
    check(d.putAndInsertUint8Array(DCM_PixelData, img.data(), static_cast<unsigned long>(img.size())), "PixelData");
    check(ff.saveFile(file.c_str(), EXS_LittleEndianExplicit), "write " + file.string());
}

} // namespace phantom
