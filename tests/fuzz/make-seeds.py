"""Small DICOM seeds for the fuzz targets, made by pydicom (a tool independent of ours) from
files another program wrote: each input file is re-written with its pixel data cut to a 16x16
image (rows, columns and the pixel element follow), so that a seed is a few kB and still a
whole, valid file of that kind (CT, NM, secondary capture...). A file pydicom cannot read
is copied as it is (its first 20 kB): it is a seed too.

usage: /usr/bin/python3 make-seeds.py OUT_DIR FILE...
"""
import os
import sys

import pydicom

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for i, path in enumerate(sys.argv[2:]):
    name = os.path.join(out, "seed-%02d-%s" % (i, os.path.basename(path)))
    try:
        ds = pydicom.dcmread(path)
        if "PixelData" in ds and not ds.file_meta.TransferSyntaxUID.is_compressed:
            bytes_per = (int(ds.get("BitsAllocated", 16)) + 7) // 8 * int(ds.get("SamplesPerPixel", 1))
            ds.Rows, ds.Columns = 16, 16
            if "NumberOfFrames" in ds:
                ds.NumberOfFrames = 1
            ds.PixelData = bytes(ds.PixelData[: 16 * 16 * bytes_per]).ljust(16 * 16 * bytes_per, b"\0")
        ds.save_as(name, write_like_original=True)
    except Exception:  # noqa: BLE001 - an unreadable file is a seed as it is
        with open(path, "rb") as f, open(name, "wb") as g:
            g.write(f.read(20000))
