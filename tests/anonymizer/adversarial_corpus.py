#!/usr/bin/python3
"""An adversarial trial for the anonymizer, made without any of its code (issue 14).

generate: writes a small trial (3 subjects x 3 timepoints: a CT and an MR that references it at
each visit, an NM post-therapy scan, and a CT whose only problem is its text: "Lutathera C3",
"TAP portal post-therapy") where a unique marker QZMARK<n> is planted in every attribute of
DCMTK's data dictionary (/usr/share/libdcmtk17/dicom.dic) that has a text-bearing VR, at top level
and inside sequences two deep; in private blocks (a known and an unknown creator, a private
sequence, UN values); in file meta; in OB/UN blobs, overlays and curves; and in folder and file
names. Arm words go in mixed case and with accents into every descriptor.

scan: reads every file of the store with pydicom (nothing shared with the anonymizer) and
reports any marker or arm word (raw bytes, decoded text at every depth, file meta, paths), any
CT/MR input whose pixel bytes are not in the store byte for byte, any reference that does not
resolve inside the store, and any NM that was delivered. Prints a JSON summary; exit 1 on findings.

usage: adversarial_corpus.py generate --out DIR
       adversarial_corpus.py scan --corpus DIR --store DIR --quarantine DIR --charter FILE
"""
import argparse, hashlib, json, os, re, sys, unicodedata

import random
from array import array
import pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scan_store import fold, texts_of, walk  # the other independent scanner's folding and element walk

TEXT_VRS = {"AE", "AS", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UT", "UR"}
BLOB_VRS = {"OB", "UN"}
MARK = "QZMARK"
# what the images need to be images: never overwritten with a marker
STRUCTURAL = {
    0x00080005, 0x00080016, 0x00080018, 0x00080060, 0x00100020, 0x0020000D, 0x0020000E, 0x00200052,
    0x00280004, 0x00080008, 0x00280301, 0x7FE00010, 0x00020010, 0x00020002, 0x00020003, 0x00080020,
    0x0020000D, 0x00200032, 0x00200037,
}
ARM_TEXTS = ["LuTaThÉrA C3", "lutécium-177 cure 3", "BRAS expérimental", "177Lu-DOTATATE", "Post-Thérapie",
             "randomisé bras A", "Dosimétrie J1", "PRRT cycle 4"]
DICT = "/usr/share/libdcmtk17/dicom.dic"


class Markers:
    def __init__(self):
        self.n = 0
        self.where = {}

    def new(self, where):
        self.n += 1
        m = f"{MARK}{self.n:05d}"
        self.where[m] = where
        return m


def dictionary():
    """(tag, VR) of every public attribute of DCMTK's dictionary with one fixed tag."""
    out = []
    for line in open(DICT, encoding="latin-1"):
        if line.startswith("#") or not line.strip():
            continue
        f = line.rstrip("\n").split("\t")
        if len(f) < 3:
            continue
        tag, vr = f[0].strip(), f[1].strip()
        m = re.fullmatch(r"\(([0-9A-Fa-f]{4}),([0-9A-Fa-f]{4})\)", tag)
        if not m:
            continue
        g, e = int(m.group(1), 16), int(m.group(2), 16)
        if g & 1 or g in (0x0000, 0x0002, 0xFFFE) or e == 0:
            continue
        out.append(((g << 16) | e, vr))
    return out


def text_value(vr, marker):
    if vr == "AS":
        return marker[:4]  # AS holds 4 characters: "QZMA", looked for as such
    if vr in ("AE", "CS", "SH"):
        return marker[:16]
    if vr == "PN":
        return f"{marker}^DOE"
    if vr == "UR":
        return f"http://{marker.lower()}.example/x"
    return f"{marker} typed by a technologist"


def plant_attributes(ds, attrs, markers, where):
    for tag, vr in attrs:
        if tag in STRUCTURAL or tag in ds:
            continue
        m = markers.new(f"{where}({tag >> 16:04X},{tag & 0xFFFF:04X}) {vr}")
        if vr in TEXT_VRS:
            ds.add_new(tag, vr, text_value(vr, m))
        elif vr in BLOB_VRS:
            ds.add_new(tag, "OB" if vr == "OB" else "UN", (m + " blob ").encode("ascii") * 2)


def build_image(modality, rows, k, z, series_uid, study_uid, frame_uid, pseudo_orig, study_date, number,
                text_attrs, seq_attrs, markers, arm_text=False):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2" if modality == "CT" else (
        "1.2.840.10008.5.1.4.1.1.4" if modality == "MR" else "1.2.840.10008.5.1.4.1.1.20")
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.SourceApplicationEntityTitle = markers.new("meta SourceApplicationEntityTitle")[:16]
    meta.add_new(0x00020017, "AE", markers.new("meta SendingApplicationEntityTitle")[:16])
    meta.add_new(0x00020018, "AE", markers.new("meta ReceivingApplicationEntityTitle")[:16])
    meta.add_new(0x00020102, "OB", markers.new("meta PrivateInformation").encode())
    meta.add_new(0x00020100, "UI", "1.2.826.0.1.3680043.99.777")
    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.PatientID = pseudo_orig
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = frame_uid
    ds.StudyDate = study_date
    ds.SeriesDate = study_date
    ds.SeriesNumber = number
    ds.InstanceNumber = k + 1
    ds.ImagePositionPatient = [-100.0, -100.0, z]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.PixelSpacing = [3.125, 3.125]
    ds.SliceThickness = 5.0
    ds.Rows = ds.Columns = rows
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.RescaleIntercept = -1024 if modality == "CT" else 0
    ds.RescaleSlope = 1
    ds.BurnedInAnnotation = "NO"
    rng = random.Random(f"{series_uid}/{k}")
    px = array("H", (rng.randrange(4000) for _ in range(rows * rows)))
    if sys.byteorder != "little":
        px.byteswap()
    ds.PixelData = px.tobytes()
    # descriptors: arm words in mixed case and with accents
    ds.StudyDescription = "Lutathéra C3 TAP" if arm_text else ARM_TEXTS[k % len(ARM_TEXTS)] + " " + markers.new("StudyDescription")
    ds.SeriesDescription = "TAP portal post-therapy" if arm_text else "T2 FS AX " + ARM_TEXTS[(k + 1) % len(ARM_TEXTS)]
    ds.ProtocolName = ARM_TEXTS[(k + 2) % len(ARM_TEXTS)] + " RIV " + markers.new("ProtocolName")
    ds.ContrastBolusAgent = "iode " + ARM_TEXTS[(k + 3) % len(ARM_TEXTS)]
    code = Dataset()
    code.CodeValue = "T-D4000"
    code.CodingSchemeDesignator = "SRT"
    code.CodeMeaning = "Abdomen " + ARM_TEXTS[(k + 4) % len(ARM_TEXTS)] + " " + markers.new("CodeMeaning")
    ds.AnatomicRegionSequence = Sequence([code])
    # every text attribute of the dictionary at top level
    plant_attributes(ds, text_attrs, markers, "top ")
    # ...and inside sequences two deep: each sequence gets a slice of the attributes and a nested one
    for i, (sq_tag, _) in enumerate(seq_attrs):
        if sq_tag in ds:
            continue
        item = Dataset()
        chunk = text_attrs[(i * 7) % len(text_attrs):(i * 7) % len(text_attrs) + 7]
        plant_attributes(item, chunk, markers, f"in ({sq_tag >> 16:04X},{sq_tag & 0xFFFF:04X}) ")
        inner = Dataset()
        plant_attributes(inner, text_attrs[(i * 5 + 3) % len(text_attrs):(i * 5 + 3) % len(text_attrs) + 5], markers,
                         f"two deep in ({sq_tag >> 16:04X},{sq_tag & 0xFFFF:04X}) ")
        item.add_new(0x0040A730, "SQ", Sequence([inner]))  # Content Sequence inside
        ds.add_new(sq_tag, "SQ", Sequence([item]))
    # private blocks: a known creator, an unknown one, a private sequence, UN values
    ds.add_new(0x00290010, "LO", "SIEMENS CSA HEADER")
    ds.add_new(0x00291008, "CS", markers.new("private SIEMENS CS")[:16])
    ds.add_new(0x00291010, "OB", (markers.new("private SIEMENS OB") + " csa").encode() * 4)
    ds.add_new(0x00330010, "LO", markers.new("private creator"))
    ds.add_new(0x00331001, "LO", markers.new("private LO"))
    ds.add_new(0x00331002, "UN", markers.new("private UN").encode() * 2)
    pitem = Dataset()
    pitem.add_new(0x00330010, "LO", "QZVENDOR")
    pitem.add_new(0x00331005, "LT", markers.new("private sequence LT"))
    ds.add_new(0x00331003, "SQ", Sequence([pitem]))
    # overlays and curves
    ds.add_new(0x60000010, "US", 8)
    ds.add_new(0x60000011, "US", 8)
    ds.add_new(0x60000022, "LO", markers.new("OverlayDescription"))
    ds.add_new(0x60000040, "CS", "G")
    ds.add_new(0x60000050, "SS", [1, 1])
    ds.add_new(0x60000100, "US", 1)
    ds.add_new(0x60000102, "US", 0)
    ds.add_new(0x60003000, "OW", markers.new("OverlayData").encode()[:8])
    ds.add_new(0x50000022, "LO", markers.new("CurveDescription"))
    ds.add_new(0x50003000, "OB", markers.new("CurveData").encode())
    return ds


def generate(out):
    os.makedirs(out, exist_ok=True)
    attrs = dictionary()
    text_attrs = [(t, vr) for t, vr in attrs if vr in TEXT_VRS | BLOB_VRS]
    seq_attrs = [(t, vr) for t, vr in attrs if vr == "SQ"][:120]
    markers = Markers()
    incoming = os.path.join(out, "incoming")
    enrol = ["original_patient_id,pseudonym,randomization_date"]
    inputs = []  # (path, modality, arm_text)
    for s in range(3):
        orig = f"QZPID{s}"  # the site's patient ID: never in the store either
        enrol.append(f"{orig},RELUTH-05-{s + 1:03d},2024-01-10")
        site_dir = os.path.join(incoming, f"site-05 {markers.new('site folder name')}", f"{orig} {markers.new('patient folder')}")
        for t in range(3):
            date = ["20240108", "20240306", "20240503"][t]
            study_uid, frame = generate_uid(), generate_uid()
            ct_uid, mr_uid = generate_uid(), generate_uid()
            ct_sops = []
            for modality, series_uid, n, number in (("CT", ct_uid, 6, 2), ("MR", mr_uid, 4, 5)):
                sdir = os.path.join(site_dir, f"{date} {markers.new('study folder')}", f"S{number} {modality}")
                os.makedirs(sdir, exist_ok=True)
                for k in range(n):
                    ds = build_image(modality, 32, k, -10.0 + 5 * k, series_uid, study_uid, frame, orig, date, number,
                                     text_attrs, seq_attrs, markers)
                    if modality == "CT":
                        ct_sops.append(ds.SOPInstanceUID)
                    else:  # the MR references the visit's CT
                        ref = Dataset()
                        ref.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
                        ref.ReferencedSOPInstanceUID = ct_sops[k % len(ct_sops)]
                        ds.ReferencedImageSequence = Sequence([ref])
                    p = os.path.join(sdir, f"{markers.new('file name')} {k}.dcm")
                    ds.save_as(p, write_like_original=False)
                    inputs.append({"path": p, "modality": modality, "arm_text": False})
            if t == 2:
                # a CT whose only problem is its text: the subject's RECIST scan, to be delivered
                series = generate_uid()
                sdir = os.path.join(site_dir, f"{date} {markers.new('study folder')}", "S7 CT")
                os.makedirs(sdir, exist_ok=True)
                for k in range(4):
                    ds = build_image("CT", 32, k, -5.0 + 5 * k, series, study_uid, frame, orig, date, 7, text_attrs,
                                     seq_attrs, markers, arm_text=True)
                    p = os.path.join(sdir, f"armtext {k}.dcm")
                    ds.save_as(p, write_like_original=False)
                    inputs.append({"path": p, "modality": "CT", "arm_text": True})
        # an NM post-therapy scan: reveals the arm by what it is, quarantined
        sdir = os.path.join(site_dir, "20240120 NM", "S1 NM")
        os.makedirs(sdir, exist_ok=True)
        ds = build_image("NM", 32, 0, 0.0, generate_uid(), generate_uid(), generate_uid(), orig, "20240120", 1, text_attrs[:50],
                         [], markers)
        rp = Dataset()
        rp.Radiopharmaceutical = "Lu-177 DOTATATE"
        ds.RadiopharmaceuticalInformationSequence = Sequence([rp])
        p = os.path.join(sdir, "nm.dcm")
        ds.save_as(p, write_like_original=False)
        inputs.append({"path": p, "modality": "NM", "arm_text": True})
    with open(os.path.join(out, "enrolment.csv"), "w") as f:
        f.write("\n".join(enrol) + "\n")
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({"markers": markers.n, "where": markers.where, "inputs": inputs,
                   "text_attributes": len(text_attrs), "sequences": len(seq_attrs)}, f)
    print(json.dumps({"markers": markers.n, "files": len(inputs), "text_attributes": len(text_attrs)}))


def texts(ds):
    """Every text of a data set at every depth, with where it is (scan_store.py's walk)."""
    for where, elem in walk(ds):
        for t in texts_of(elem):
            yield where, t


def refs(ds):
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value or []:
                yield from refs(item)
        elif elem.tag == 0x00081155 and elem.value:
            yield str(elem.value)


def scan(corpus, store, quarantine, charter_file):
    manifest = json.load(open(os.path.join(corpus, "manifest.json")))
    charter = json.load(open(charter_file))
    arm = sorted({fold(w) for w in charter["deidentification"]["arm_words"]})
    problems, files, sops, references, pixels = [], [], set(), [], set()
    for root, dirs, names in os.walk(store):
        for n in dirs + names:
            if MARK.lower() in (root + "/" + n).lower():
                problems.append(f"path holds a marker: {os.path.join(root, n)}")
        for n in names:
            files.append(os.path.join(root, n))
    modalities = {}
    for p in files:
        raw = open(p, "rb").read()
        try:
            ds = pydicom.dcmread(p)
        except Exception as e:
            problems.append(f"{p}: pydicom cannot read it: {e}")
            continue
        header = raw.replace(ds.PixelData, b"") if "PixelData" in ds else raw
        for m in re.finditer(rb"(?i)qzma(rk\d*)?", header):
            problems.append(f"{p}: raw bytes hold {m.group().decode()} (planted at {manifest['where'].get(m.group().decode().upper(), '?')})")
        for m in re.finditer(rb"(?i)qz(pid|vendor)", header):
            problems.append(f"{p}: raw bytes hold {m.group().decode()}")
        folded_raw = fold(header.decode("latin-1"))
        for w in arm:
            if w in folded_raw:
                problems.append(f"{p}: raw bytes hold the arm word{w.rstrip()!r}")
        for where, t in list(texts(ds.file_meta)) + list(texts(ds)):
            if "qzma" in t.lower():
                problems.append(f"{p}: {where} holds {t!r}")
            ft = fold(t)
            for w in arm:
                if w in ft:
                    problems.append(f"{p}: {where} holds the arm word{w.rstrip()!r}: {t!r}")
        sops.add(str(ds.SOPInstanceUID))
        references.extend((p, r) for r in refs(ds))
        modalities[ds.Modality] = modalities.get(ds.Modality, 0) + 1
        if "PixelData" in ds:
            pixels.add(hashlib.sha256(ds.PixelData).hexdigest())
    delivered_ct_mr = 0
    for i in manifest["inputs"]:
        if i["modality"] not in ("CT", "MR"):
            continue
        px = hashlib.sha256(pydicom.dcmread(i["path"]).PixelData).hexdigest()
        if px in pixels:
            delivered_ct_mr += 1
        else:
            problems.append(f"{i['path']}: this {i['modality']}{' (arm words in its text only)' if i['arm_text'] else ''} is not in the store byte for byte")
    for p, r in references:
        if r not in sops:
            problems.append(f"{p}: references {r}, which is not in the store")
    if modalities.get("NM"):
        problems.append(f"{modalities['NM']} NM files were delivered: a post-therapy scan reveals the arm")
    quarantined = sum(1 for _, _, n in os.walk(quarantine) for f in n if f.endswith(".reason.json"))
    summary = {"store_files": len(files), "markers_planted": manifest["markers"], "ct_mr_inputs":
               sum(1 for i in manifest["inputs"] if i["modality"] in ("CT", "MR")), "ct_mr_delivered": delivered_ct_mr,
               "references_checked": len(references), "quarantined": quarantined, "modalities": modalities,
               "findings": len(problems)}
    for p in problems[:60]:
        print("FINDING", p)
    print(json.dumps(summary))
    return 1 if problems or not files else 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--out", required=True)
    s = sub.add_parser("scan")
    for a in ("--corpus", "--store", "--quarantine", "--charter"):
        s.add_argument(a, required=True)
    a = ap.parse_args()
    if a.cmd == "generate":
        generate(a.out)
        return 0
    return scan(a.corpus, a.store, a.quarantine, a.charter)


if __name__ == "__main__":
    sys.exit(main())
