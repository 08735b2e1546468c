#pragma once
// Private: the DCMTK side of the anonymizer (dataset walking, reading, writing).
#include "anonymizer/Anonymizer.h"

#include <dcmtk/dcmdata/dctk.h>

#include <string>
#include <vector>

namespace anon::detail {

/// The identifying values of one patient, taken from the input before de-identification.
struct Identifiers {
    PhraseSet phrases;             ///< matched token-wise in text values
    std::vector<std::string> raw;  ///< searched byte-wise in the written header
    std::vector<std::string> uids; ///< original Study/Series/SOP/FoR UIDs
    void addPhrase(const std::string& v, std::size_t minChars = 3);
    void addRaw(const std::string& v);
};

/// Reads the header of a DICOM file held in memory (up to PixelData).
struct ParsedHeader {
    std::unique_ptr<DcmFileFormat> file;
    bool ok = false;
    std::string error;
    std::size_t pixelElementStart = 0; ///< byte offset of the PixelData tag, 0 if none
    std::size_t pixelElementEnd = 0;   ///< end of the PixelData element (items included)
    bool pixelToEnd = false;           ///< PixelData is the last thing in the file
};
ParsedHeader parseHeader(const char* data, std::size_t size);
/// Full parse (pixel data included) of a file held in memory.
std::unique_ptr<DcmFileFormat> parseFull(const char* data, std::size_t size, std::string& error);

std::string getString(DcmItem& item, const DcmTagKey& key);
/// trialConstants: values written identically into every file (sponsor, protocol), which
/// identify no one and are not treated as identifiers even where a site shares the name.
Identifiers collectIdentifiers(DcmDataset& d, const std::string& enrolledId, const std::vector<std::string>& trialConstants);
Charset datasetCharset(DcmItem& d);

/// Scans every element at every depth for arm words and the patient's identifiers; returns
/// findings ("(0008,103e) SeriesDescription: arm word 'PRRT'").
std::vector<std::string> scanDataset(DcmItem& d, const PhraseSet& armWords, const Identifiers& ids, Charset cs);

void silenceDcmtk();

/// The current UTC time, ISO 8601 to the second, as the audit log records it.
std::string isoNow();

} // namespace anon::detail
