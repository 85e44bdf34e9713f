"""The UI at /: the built frontend when present (any page path is the app), else a page that says it is not built."""
from __future__ import annotations

import re
from pathlib import Path

import bullet_dashboard.app
import bullet_dashboard.static


def test_not_built_page_links_the_docs(client, tmp_path: Path, monkeypatch):
    # ./build.sh builds the real UI before pytest runs: point the app at an empty folder to see the unbuilt page.
    monkeypatch.setattr(bullet_dashboard.static, "STATIC_DIR", tmp_path / "static")
    monkeypatch.setattr(bullet_dashboard.app, "STATIC_DIR", tmp_path / "static")
    page = client.get("/")
    assert page.status_code == 200 and "not built" in page.text and 'href="/docs"' in page.text
    assert client.get("/train/some-session").status_code == 404


def test_built_frontend_is_served_with_page_paths_falling_back_to_index(client, tmp_path: Path, monkeypatch):
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text("<!doctype html><title>app</title>")
    (static / "assets" / "app.js").write_text("console.log(1)")
    monkeypatch.setattr(bullet_dashboard.static, "STATIC_DIR", static)
    monkeypatch.setattr(bullet_dashboard.app, "STATIC_DIR", static)
    assert client.get("/").text == "<!doctype html><title>app</title>"
    assert client.get("/train/20260101-000000-abcdef").text == "<!doctype html><title>app</title>"
    assert client.get("/assets/app.js").text == "console.log(1)"
    assert client.get("/api/nothing-here").status_code == 404
    assert client.get("/api/status").json()["ui_built"] is True
    (tmp_path / "outside.txt").write_text("secret")
    escaped = client.get("/assets/..%2F..%2Foutside.txt")
    assert escaped.status_code == 404 and "secret" not in escaped.text
    assert client.get("/download/..%2Fdata").status_code == 404


def test_api_docs_page_loads_nothing_from_other_hosts(client):
    # The real build (./build.sh runs before the tests): the app works offline, so /docs runs the package's Swagger UI.
    page = client.get("/docs")
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text
    sources = re.findall(r'(?:src|href)=["\']([^"\']+)', page.text) + re.findall(r"url: '([^']+)'", page.text)
    assert "/openapi.json" in sources and all(source.startswith("/") and "//" not in source for source in sources), sources
    for source in sources:
        assert client.get(source).status_code == 200, source
    assert client.get("/redoc").status_code == 404


def test_api_docs_page_without_the_build_points_at_the_schema(client, tmp_path: Path, monkeypatch):
    monkeypatch.setattr(bullet_dashboard.static, "STATIC_DIR", tmp_path / "static")
    monkeypatch.setattr(bullet_dashboard.app, "STATIC_DIR", tmp_path / "static")
    page = client.get("/docs")
    assert page.status_code == 200 and 'href="/openapi.json"' in page.text and "./build.sh" in page.text
