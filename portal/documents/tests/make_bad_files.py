"""Regenerates the corpus of bad evidence files in bad_files/ (committed; run from the project root:
`.venv/bin/python portal/documents/tests/make_bad_files.py`). Each file breaks one rule."""

import io
import zipfile
from pathlib import Path

HERE = Path(__file__).parent / "bad_files"


def write_zip(path: Path, entries: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression, compresslevel=9) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())


def main() -> None:
    HERE.mkdir(exist_ok=True)
    executable = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(200)
    (HERE / "executable-renamed.pdf").write_bytes(executable)
    (HERE / "executable-renamed.docx").write_bytes(executable)
    (HERE / "empty.pdf").write_bytes(b"")
    (HERE / "jpeg-named.png").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(100))
    (HERE / "binary-named.csv").write_bytes(b"id,name\n1,\x00\x01\x02\x03\xff\xfe")
    (HERE / "program.exe").write_bytes(executable)
    write_zip(HERE / "plain-zip-named.xlsx", {"readme.txt": b"not a workbook"})
    write_zip(HERE / "path-traversal.zip", {"../../etc/passwd": b"root:x:0:0"})
    write_zip(HERE / "too-many-entries.zip", {f"f{i}.txt": b"x" for i in range(1001)})
    # 210 MB of zeros packs into a few hundred KB: more than the 200 MB unpacked limit.
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("zeros.bin", "w", force_zip64=True) as member,
    ):
        block = bytes(1024 * 1024)
        for _ in range(210):
            member.write(block)
    (HERE / "zip-bomb.zip").write_bytes(buffer.getvalue())
    (HERE / "truncated.zip").write_bytes(b"PK\x03\x04" + bytes(60))


if __name__ == "__main__":
    main()
