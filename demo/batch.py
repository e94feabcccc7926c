"""Many photos at once: what a batch upload holds (photos, or zips of photos), bounded
before anything is decoded. Nothing here knows about Gradio (demo/app.py has the tab)."""
from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from colorcore.data import IMAGE_SUFFIXES

MAX_PHOTOS = int(os.environ.get("COLORCORE_DEMO_BATCH_MAX", 24))  # photos in one batch
MAX_ZIP_ENTRIES = 1000  # a zip listing more is refused before any member is read


class BatchError(ValueError):
    """A batch that cannot be taken as a whole (too many photos, a bad zip)."""


@dataclass
class BatchItem:
    name: str  # the visitor's file name (a zip member: zip name/member path)
    source: str | bytes  # a path in the upload cache, or a zip member's bytes
    stem: str


def zip_members(path: str | Path, name: str, max_bytes: int) -> list[tuple[str, bytes]]:
    """The image files inside a zip, [(member path, bytes)], in the zip's order. Folders,
    hidden files, macOS resource forks and other suffixes are passed over; a member over
    max_bytes (as declared, and as read: a lying header cannot get past) is refused."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            if len(infos) > MAX_ZIP_ENTRIES:
                raise BatchError(f"{name}: the zip lists {len(infos):,} entries; at most {MAX_ZIP_ENTRIES:,} are read")
            members = []
            for info in infos:
                p = PurePosixPath(info.filename)
                if (info.is_dir() or p.suffix.lower() not in IMAGE_SUFFIXES or "__MACOSX" in p.parts
                        or any(part.startswith(".") for part in p.parts)):
                    continue
                if info.flag_bits & 0x1:
                    raise BatchError(f"{name}: {info.filename} is encrypted; send the photos unencrypted")
                if info.file_size > max_bytes:
                    raise BatchError(f"{name}: {info.filename} unpacks to {info.file_size:,} bytes, over the "
                                     f"limit of {max_bytes:,} for one photo")
                members.append(info)
            out = []
            for info in members:
                with z.open(info) as f:
                    data = f.read(max_bytes + 1)
                if len(data) > max_bytes:
                    raise BatchError(f"{name}: {info.filename} unpacks to more than {max_bytes:,} bytes")
                out.append((info.filename, data))
            return out
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError) as e:
        raise BatchError(f"{name}: not a readable zip file ({e})") from None


def expand(uploads: list[tuple[str, str, str]], max_bytes: int, safe_stem) -> list[BatchItem]:
    """[(path, visitor's name, stem)] of uploaded files -> the batch's photos: a zip
    contributes the images inside it, any other file is taken as a photo (a bad one is
    reported when it is decoded). BatchError past MAX_PHOTOS or for a bad zip."""
    items: list[BatchItem] = []
    for path, name, stem in uploads:
        if ".zip" in (Path(name).suffix.lower(), Path(path).suffix.lower()):
            members = zip_members(path, name, max_bytes)
            if not members:
                raise BatchError(f"{name}: the zip holds no photos ({', '.join(sorted(IMAGE_SUFFIXES))})")
            items += [BatchItem(f"{name}/{m}", data, safe_stem(PurePosixPath(m).name)) for m, data in members]
        else:
            items.append(BatchItem(name, path, stem))
        if len(items) > MAX_PHOTOS:
            raise BatchError(f"That is more than {MAX_PHOTOS} photos; send at most {MAX_PHOTOS} at once.")
    return items

