"""bullet_native.convert_document: .jsonl and .docx to UTF-8 text through the native library, errors as BulletError."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from bullet_native import BulletError, convert_document

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def test_jsonl_texts_joined_by_blank_lines(tmp_path: Path):
    source = tmp_path / "r.jsonl"
    source.write_bytes('{"text": "Pip hopped."}\n\n{"id": 2, "text": "Caf\\u00e9 🙂"}\n'.encode())
    report = convert_document(source, "jsonl", tmp_path / "out.txt")
    assert (tmp_path / "out.txt").read_text(encoding="utf-8") == "Pip hopped.\n\nCafé 🙂"
    assert report == {"kind": "jsonl", "bytes": len("Pip hopped.\n\nCafé 🙂".encode()), "characters": 19, "lines": 3, "records": 2}


def test_docx_paragraphs_become_lines(tmp_path: Path):
    xml = (f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>Name</w:t><w:tab/><w:t>Fern</w:t></w:r></w:p>'
           '<w:p><w:r><w:t>the fox</w:t><w:br/><w:t>hid</w:t></w:r></w:p></w:body></w:document>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", xml)
    (tmp_path / "letter.docx").write_bytes(buffer.getvalue())
    report = convert_document(tmp_path / "letter.docx", "docx", tmp_path / "out.txt")
    assert (tmp_path / "out.txt").read_text(encoding="utf-8") == "Name\tFern\nthe fox\nhid"
    assert (report["paragraphs"], report["lines"]) == (2, 3)


def test_errors_name_the_line_and_leave_nothing_behind(tmp_path: Path):
    source = tmp_path / "bad.jsonl"
    source.write_bytes(b'{"text": "ok"}\n{"text": 5}\n')
    with pytest.raises(BulletError, match='line 2 of the .jsonl file must be an object with a "text" string field'):
        convert_document(source, "jsonl", tmp_path / "out.txt")
    long = tmp_path / "long.jsonl"
    long.write_bytes(b'{"text": "' + b"a" * 50 + b'"}\n')
    with pytest.raises(BulletError, match="larger than the limit of 10 bytes"):
        convert_document(long, "jsonl", tmp_path / "out.txt", max_output_bytes=10)
    with pytest.raises(BulletError, match="line 1 of the .jsonl file is longer than the limit of 20 bytes"):
        convert_document(long, "jsonl", tmp_path / "out.txt", max_part_bytes=20)
    with pytest.raises(BulletError, match="use jsonl or docx"):
        convert_document(source, "pdf", tmp_path / "out.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl", "long.jsonl"]
