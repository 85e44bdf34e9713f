"""Datasets through the real app: every upload format, pasted text, statistics, rejections, bundled texts."""
from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

from .conftest import story_text

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx_bytes(paragraphs: list[str], *, document_xml: str | None = None) -> bytes:
    """A minimal Word document: content types, package relationships and word/document.xml with one run per paragraph."""
    body = "".join(f'<w:p><w:r><w:t xml:space="preserve">{escape(p)}</w:t></w:r></w:p>' for p in paragraphs)
    parts = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                               '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                               '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" '
                               'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                       '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
                       'Target="word/document.xml"/></Relationships>',
        "word/document.xml": document_xml or f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W}"><w:body>{body}</w:body></w:document>',
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in parts.items():
            archive.writestr(name, xml)
    return buffer.getvalue()


def test_upload_each_format_and_paste(client):
    text = "Pip the rabbit hopped. Fern the fox hid!\nThe end."
    uploads = {
        "plain.txt": text.encode(),
        "notes.md": ("# Title\n\n" + text).encode(),
        "records.jsonl": b'{"text": "Pip the rabbit hopped."}\n\n{"text": "Fern the fox hid!", "id": 2}\n',
        "letter.docx": docx_bytes(["Pip the rabbit hopped.", "Fern the fox hid!"]),
    }
    for filename, data in uploads.items():
        r = client.post("/api/datasets", files={"file": (filename, data)})
        assert r.status_code == 201, (filename, r.text)
        assert r.json()["name"] == filename.split(".")[0]
    r = client.post("/api/datasets/text", json={"name": "pasted", "text": text, "title": "Pasted text"})
    assert r.status_code == 201, r.text

    plain = client.get("/api/datasets/plain").json()
    assert (plain["characters"], plain["words"], plain["lines"], plain["sentences"]) == (len(text), 10, 2, 3)
    assert plain["distinct_characters"] == len(set(text))
    assert plain["preview"] == text
    assert client.get("/api/datasets/records/text").text == "Pip the rabbit hopped.\n\nFern the fox hid!"
    assert client.get("/api/datasets/letter/text").text == "Pip the rabbit hopped.\nFern the fox hid!"
    assert client.get("/api/datasets/pasted").json()["title"] == "Pasted text"

    listed = {d["name"]: d for d in client.get("/api/datasets").json()}
    assert {"plain", "notes", "records", "letter", "pasted"} <= set(listed)
    assert listed["plain"]["bytes"] == len(text.encode()) and not listed["plain"]["bundled"]

    assert client.post("/api/datasets", files={"file": ("plain.txt", b"again")}).status_code == 409
    assert client.delete("/api/datasets/plain").status_code == 204
    assert client.get("/api/datasets/plain").status_code == 404


def test_bundled_datasets_are_listed_with_stats_and_protected(client):
    listed = {d["name"]: d for d in client.get("/api/datasets").json()}
    assert {"children_stories", "poetry", "dialogue"} <= set(listed)
    assert all(listed[n]["bundled"] and listed[n]["license"] for n in ("children_stories", "poetry", "dialogue"))
    stories = client.get("/api/datasets/children_stories").json()
    assert stories["bytes"] > 50_000 and stories["words"] > 5_000 and 0 < stories["style"]["type_token_ratio"] < 1
    r = client.delete("/api/datasets/children_stories")
    assert r.status_code == 403 and "bundled" in r.json()["detail"]
    assert client.post("/api/datasets/text", json={"name": "poetry", "text": "x y"}).status_code == 409


def test_unusable_uploads_are_rejected_with_a_message(client):
    cases = {
        "empty.txt": (b"", "empty"),
        "binary.txt": (bytes(range(256)) * 4, "binary"),
        "latin1.txt": ("caf\u00e9 cr\u00e8me".encode("latin-1"), "UTF-8"),
        "bad.jsonl": (b'{"text": "ok"}\n{"body": "no text"}\n', "line 2"),
        "broken.jsonl": (b'{"text": "ok"}\n{"text": \n', "line 2"),
        "fake.docx": (b"this is not a zip file", "cannot be read as a Word document"),
        "blank.docx": (docx_bytes(["", ""]), "the .docx file has no text"),
        "torn.docx": (docx_bytes([], document_xml=f'<w:document xmlns:w="{W}"><w:body><w:p>'), "not well-formed XML"),
        "latin1.jsonl": ('{"text": "ok"}\n{"text": "caf\u00e9"}\n'.encode("latin-1"), "line 2 of the .jsonl file is not UTF-8 text"),
        "none.jsonl": (b"\n\n", "the .jsonl file has no records"),
        "image.png": (b"\x89PNG....", "unsupported"),
    }
    for filename, (data, expected) in cases.items():
        r = client.post("/api/datasets", files={"file": (filename, data)})
        assert 400 <= r.status_code < 500, (filename, r.status_code)
        assert expected in r.json()["detail"], (filename, r.json())
    names = {d["name"] for d in client.get("/api/datasets").json()}
    assert not names & {"empty", "binary", "latin1", "bad", "broken", "fake", "blank", "torn", "none", "image"}


def test_style_metrics_come_from_the_native_library(client):
    r = client.post("/api/style/metrics", json={"text": "I can't go. We will! The committee approved the proposal."})
    assert r.status_code == 200
    body = r.json()
    assert body["sentences"] == 3 and body["words"] == 10
    style = body["style"]
    # informal markers: I, can't, We, "!" over 10 words
    assert style["formality"] == 60.0
    assert style["avg_sentence_length"] == round(10 / 3, 4)
    assert set(body["definitions"]) == set(style)
    assert client.post("/api/style/metrics", json={"text": ""}).status_code == 422
