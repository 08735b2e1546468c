#!/usr/bin/python3
"""Independent check of a de-identified phantom store (shares no code with the anonymizer).

Reads every stored file with pydicom and looks, in every element at every depth (file meta,
sequences, private and unknown elements) and in the raw header bytes, for the planted patient
identifiers, the charter's arm words and the original UIDs listed in the phantom's
ground-truth.json. Checks the trial identity attributes, that pixel data is byte-identical to
the input, and that every file the ground truth lists for quarantine is in the quarantine
folder with a reason and its original bytes. Exit status 1 on any finding.

usage: scan_store.py --trial DIR --store DIR --quarantine DIR --audit FILE --charter FILE
"""
import argparse, hashlib, json, os, re, sys, unicodedata

import pydicom
from pydicom.multival import MultiValue
from pydicom.valuerep import PersonName


def fold(text):
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"([a-z])([0-9])", r"\1 \2", text)
    text = re.sub(r"([0-9])([a-z])", r"\1 \2", text)
    return " " + re.sub(r"[^a-z0-9]+", " ", text).strip() + " "


def needles_for_phi(value):
    out = set()
    if "^" in value:
        for comp in re.split(r"[\^=]", value):
            if len(fold(comp).strip()) >= 3:
                out.add(fold(comp))
    elif len(fold(value).strip()) >= 2:
        out.add(fold(value))
    return out


def texts_of(elem):
    v = elem.value
    if v is None:
        return []
    if isinstance(v, (bytes, bytearray)):
        if elem.tag == 0x7FE00010:
            return []
        return [bytes(v).decode("latin-1")]
    if isinstance(v, (str, PersonName)):
        return [str(v)]
    if isinstance(v, MultiValue):
        return [str(x) for x in v]
    return []


def walk(ds, path=""):
    for elem in ds:
        here = f"{path}{elem.tag}"
        if elem.VR == "SQ":
            for i, item in enumerate(elem.value or []):
                yield from walk(item, f"{here}[{i}].")
        else:
            yield here, elem


def main():
    ap = argparse.ArgumentParser()
    for a in ("--trial", "--store", "--quarantine", "--audit", "--charter"):
        ap.add_argument(a, required=True)
    args = ap.parse_args()
    truth = json.load(open(os.path.join(args.trial, "ground-truth.json")))
    charter = json.load(open(args.charter))
    arm_words = {fold(w) for w in charter["deidentification"]["arm_words"]}
    phi, raw_phi, uids, pseudonyms = set(), set(), set(), set()
    for s in truth["subjects"]:
        pseudonyms.add(s["pseudonym"])
        for v in s["phi"]:
            phi |= needles_for_phi(v)
            if len(v) >= 4:
                raw_phi.add(v.encode("utf-8"))
        for tp in s.get("timepoints", []):
            for se in tp.get("series", []):
                for k in ("series_uid", "study_uid", "frame_of_reference_uid"):
                    if se.get(k):
                        uids.add(se[k])
    # The sponsor and protocol are written identically into every file: they identify no one,
    # even where a recruiting site bears the sponsor's name.
    for constant in (charter["trial"]["sponsor"], charter["trial"]["study_id"], charter["trial"]["protocol_name"]):
        phi.discard(fold(constant))
        raw_phi.discard(constant.encode("utf-8"))
    problems = []
    stored_files = []
    for root, _, files in os.walk(args.store):
        for f in files:
            p = os.path.abspath(os.path.join(root, f))
            if not f.endswith(".dcm") or f.startswith("."):
                problems.append(f"{p}: unexpected file in the store")
                continue
            stored_files.append(p)

    audit = [json.loads(l) for l in open(args.audit)]
    input_of = {a["output"]: a["input"] for a in audit if a["outcome"] == "stored"}
    audit_of = {a["output"]: a for a in audit if a["outcome"] == "stored"}
    for p in stored_files:
        try:
            ds = pydicom.dcmread(p)
        except Exception as e:
            problems.append(f"{p}: pydicom cannot read it: {e}")
            continue
        elems = list(walk(ds.file_meta)) + list(walk(ds))
        for where, elem in elems:
            for t in texts_of(elem):
                ft = fold(t)
                for n in phi:
                    if n in ft:
                        problems.append(f"{p}: {where} holds identifier{n.rstrip()!r}: {t!r}")
                for w in arm_words:
                    if w in ft:
                        problems.append(f"{p}: {where} holds arm word{w.rstrip()!r}: {t!r}")
                for u in uids:
                    if u in t:
                        problems.append(f"{p}: {where} holds original UID {u}")
        raw = open(p, "rb").read()
        header = raw.replace(ds.PixelData, b"") if "PixelData" in ds else raw
        for v in raw_phi:
            for m in re.finditer(re.escape(v), header):
                before = header[m.start() - 1:m.start()]
                after = header[m.end():m.end() + 1]
                if not (before.isalnum() and v[:1].isalnum()) and not (after.isalnum() and v[-1:].isalnum()):
                    problems.append(f"{p}: raw bytes contain {v!r}")
        if ds.get("PatientIdentityRemoved") != "YES":
            problems.append(f"{p}: PatientIdentityRemoved is not YES")
        if str(ds.get("PatientName", "")) not in pseudonyms or ds.get("PatientID") not in pseudonyms:
            problems.append(f"{p}: PatientName/PatientID is not a trial pseudonym")
        codes = [i.CodeValue for i in ds.get("DeidentificationMethodCodeSequence", [])]
        if "113100" not in codes:
            problems.append(f"{p}: no 113100 in DeidentificationMethodCodeSequence")
        src = input_of.get(p)
        if src is None:
            problems.append(f"{p}: not in the audit log")
        elif hashlib.sha256(open(src, "rb").read()).hexdigest() != audit_of[p]["input_sha256"]:
            problems.append(f"{p}: the audit log's input_sha256 is not the SHA-256 of {src}")
        elif "PixelData" in ds:
            if pydicom.dcmread(src).PixelData != ds.PixelData:
                problems.append(f"{p}: pixel data differs from {src}")

    # every file the ground truth lists for quarantine must be there, with a reason and its bytes
    quarantined = {a["input"]: a for a in audit if a["outcome"] == "quarantined"}
    expected = 0
    for q in truth["quarantine"]:
        target = os.path.abspath(os.path.join(args.trial, q["path"]))
        files = [target] if os.path.isfile(target) else [os.path.join(r, f) for r, _, fs in os.walk(target) for f in fs]
        cat = q["reason"].split(":")[0].split(" ")[0]
        want = {"arm": {"arm-series"}, "burned-in": {"burned-in", "secondary-capture"}, "corrupt": {"corrupt"}}[cat]
        for f in files:
            expected += 1
            a = quarantined.get(f)
            if a is None:
                problems.append(f"{f}: expected in quarantine ({q['reason']}), not quarantined")
                continue
            got = a["quarantine_reasons"][0].split(":")[0]
            if got not in want:
                problems.append(f"{f}: quarantined as {got}, expected {sorted(want)}")
            out = a["output"]
            if not os.path.isfile(out) or not os.path.isfile(out + ".reason.json"):
                problems.append(f"{f}: quarantine copy or reason file missing ({out})")
            elif hashlib.sha256(open(out, "rb").read()).digest() != hashlib.sha256(open(f, "rb").read()).digest():
                problems.append(f"{f}: quarantine copy is not the original bytes")
    print(f"scan_store: {len(stored_files)} stored files scanned for {len(phi)} identifiers, "
          f"{len(arm_words)} arm words, {len(uids)} original UIDs; {expected} expected quarantined files checked; "
          f"{len(problems)} problems")
    for pr in problems[:50]:
        print("  " + pr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
