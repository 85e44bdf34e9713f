"""Host, Origin and token checks through the real app: other sites, rebinding names and tokenless callers are refused
on every route family and change nothing on disk; the app's own pages and scripts on this machine keep working."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from bullet_dashboard.security import AccessGuard, AccessPolicy
from bullet_dashboard.settings import Settings, parse_args

from .conftest import BASE_URL, make_client, story_text

EVIL = "http://evil.example.com"
TOKEN = "s3cret-Token_value"
# One route of each family: API reads, the event stream, text and file downloads, the original routes, the UI, the docs.
ROUTES = [("GET", "/api/datasets"), ("GET", "/api/sessions/missing/events"), ("GET", "/api/datasets/children_stories/text"),
          ("GET", "/api/models/missing/download"), ("POST", "/train"), ("GET", "/logs"), ("GET", "/download/missing"),
          ("GET", "/"), ("GET", "/train"), ("GET", "/assets/missing.js"), ("GET", "/docs"), ("GET", "/openapi.json"),
          ("GET", "/v1/models")]


def on_disk(data_dir: Path) -> dict[str, int]:
    """Every file under the data folder with its size."""
    return {str(p.relative_to(data_dir)): p.stat().st_size for p in sorted(data_dir.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("method,path", ROUTES)
@pytest.mark.parametrize("host", ["evil.example.com", "127.0.0.1.nip.io:8000", "localhost.evil.example.com"])
def test_a_foreign_host_is_refused_on_every_route_family(client, method, path, host):
    r = client.request(method, path, headers={"Host": host})
    assert r.status_code == 403
    message = r.json()["error"]["message"] if path.startswith("/v1/") else r.json()["detail"]
    assert repr(host.split(":")[0]) in message and "--allowed-host" in message
    assert client.request(method, path).status_code != 403


@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1:8000", "[::1]:8000", "127.0.0.2", "LOCALHOST"])
def test_the_machines_own_names_are_answered(client, host):
    assert client.get("/api/datasets", headers={"Host": host}).status_code == 200


def test_allowed_host_adds_a_name(data_dir):
    with make_client(data_dir, allowed_hosts=("dash.lan",)) as client:
        assert client.get("/api/datasets", headers={"Host": "dash.lan:8000"}).status_code == 200
        assert client.get("/api/datasets", headers={"Host": "other.lan:8000"}).status_code == 403


@pytest.mark.parametrize("source", [{"Origin": EVIL}, {"Origin": "null"}, {"Origin": "http://127.0.0.1:9999"},
                                    {"Referer": f"{EVIL}/page.html"}, {"Sec-Fetch-Site": "cross-site"}])
def test_cross_origin_writes_are_refused_and_change_nothing(client, data_dir, trained, source):
    before = on_disk(data_dir)
    multipart = {"data": {"model_config": json.dumps({"preset": "tiny"})}, "files": {"training_text": ("t.txt", story_text().encode())}}
    refused = [
        client.post("/train", headers=source, **multipart),
        client.post("/api/datasets/text", headers={**source, "Content-Type": "text/plain"},
                    content=json.dumps({"name": "planted", "text": story_text()})),
        client.post("/api/datasets/text", headers=source, json={"name": "planted", "text": story_text()}),
        client.delete(f"/api/models/{trained}", headers=source),
        client.get("/api/sessions", headers=source),
        client.get("/logs", headers=source),
        client.get(f"/api/models/{trained}/download", headers=source),
        client.get("/api/datasets/children_stories/text", headers=source),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert "--allowed-origin" in refused[0].json()["detail"]
    assert on_disk(data_dir) == before
    session = client.get("/api/sessions").json()[0]["id"]
    assert client.get(f"/api/sessions/{session}/events", headers=source).status_code == 403


@pytest.mark.parametrize("source", [{}, {"Origin": BASE_URL}, {"Referer": f"{BASE_URL}/train"}, {"Sec-Fetch-Site": "same-origin"},
                                    {"Sec-Fetch-Site": "none"}])
def test_the_apps_own_pages_and_scripts_still_work(client, trained, source):
    r = client.post("/api/datasets/text", headers=source, json={"name": "mine", "text": story_text()})
    assert r.status_code == 201, r.text
    assert client.get("/api/datasets/mine/text", headers=source).status_code == 200
    assert client.get(f"/api/models/{trained}/download", headers=source).status_code == 200
    assert client.delete(f"/api/models/{trained}", headers=source).status_code == 204


def test_a_page_from_another_site_may_still_link_to_the_ui(client):
    """Following a link to the dashboard is a page load, not a use of the API."""
    r = client.get("/train", headers={"Referer": f"{EVIL}/", "Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 200


def test_allowed_origin_lets_another_sites_pages_in(data_dir):
    with make_client(data_dir, allowed_origins=("https://notebook.example.com",)) as client:
        ok = client.post("/api/datasets/text", headers={"Origin": "https://notebook.example.com"}, json={"name": "a", "text": story_text()})
        assert ok.status_code == 201
        assert client.post("/api/datasets/text", headers={"Origin": EVIL}, json={"name": "b", "text": story_text()}).status_code == 403


def test_no_cors_headers(client):
    preflight = client.options("/api/datasets/text", headers={"Origin": EVIL, "Access-Control-Request-Method": "POST",
                                                              "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 403
    own = client.post("/api/datasets/text", headers={"Origin": BASE_URL}, json={"name": "a", "text": story_text()})
    for r in (preflight, own, client.get("/api/datasets", headers={"Origin": BASE_URL})):
        assert not [h for h in r.headers if h.lower().startswith("access-control-")]


@pytest.fixture
def guarded(data_dir):
    with make_client(data_dir, token=TOKEN) as client:
        yield client


@pytest.mark.parametrize("method,path", ROUTES)
def test_with_a_token_every_route_needs_it(guarded, method, path):
    r = guarded.request(method, path)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    message = r.json()["error"]["message"] if path.startswith("/v1/") else r.json()["detail"]
    assert "?token=" in message and "Authorization: Bearer" in message
    assert guarded.request(method, path, headers={"Authorization": f"Bearer {TOKEN}"}).status_code != 401
    assert guarded.request(method, path, headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_the_token_in_a_page_url_becomes_a_cookie_and_leaves_the_url(guarded):
    r = guarded.get(f"/train?dataset=poetry&token={TOKEN}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/train?dataset=poetry"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"bullet_dashboard_token_8000={TOKEN};")
    assert {"httponly", "samesite=strict", "path=/"} <= {part.strip().lower() for part in cookie.split(";")}
    # The client keeps the cookie, as a browser does: the UI, the API and the event stream now answer.
    assert guarded.get("/train").status_code == 200
    assert guarded.get("/api/datasets").status_code == 200
    assert guarded.get("/api/datasets/children_stories/text").status_code == 200


def test_a_cookie_from_another_port_or_an_old_token_is_refused(guarded):
    guarded.cookies.set("bullet_dashboard_token_9000", TOKEN)
    guarded.cookies.set("bullet_dashboard_token_8000", "from-the-last-run")
    assert guarded.get("/api/datasets").status_code == 401


def test_the_token_query_parameter_works_once_for_scripts_and_not_from_other_sites(guarded):
    assert guarded.get(f"/api/datasets?token={TOKEN}", follow_redirects=False).status_code == 200
    assert guarded.get("/api/datasets?token=wrong").status_code == 401
    assert guarded.get(f"/api/datasets?token={TOKEN}", headers={"Origin": EVIL}).status_code == 403
    assert guarded.get("/api/datasets").status_code == 401   # no cookie was set by an API call


def test_a_page_load_without_the_token_gets_a_page_asking_for_it(guarded):
    r = guarded.get("/", headers={"Accept": "text/html,application/xhtml+xml"})
    assert r.status_code == 401 and r.headers["content-type"].startswith("text/html")
    assert 'name="token"' in r.text and "?token=" in r.text


def test_openai_routes_answer_with_openai_error_objects(guarded):
    r = guarded.get("/v1/models", headers={"Authorization": "Bearer sk-wrong"})
    assert r.status_code == 401
    assert r.json() == {"error": {"message": r.json()["error"]["message"], "type": "invalid_request_error", "param": None,
                                  "code": "invalid_api_key"}}
    assert "wrong" in r.json()["error"]["message"]
    r = guarded.post("/v1/chat/completions", headers={"Authorization": f"Bearer {TOKEN}", "Origin": EVIL}, json={})
    assert r.status_code == 403 and set(r.json()["error"]) == {"message", "type", "param", "code"}


def test_the_token_is_removed_before_routes_and_access_logs_see_the_request():
    seen = []

    async def app(scope, receive, send):
        seen.append(scope["query_string"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    client = TestClient(AccessGuard(app, Settings(token=TOKEN)), base_url=BASE_URL)
    assert client.get(f"/api/sessions/a/log?after=3&token={TOKEN}&types=metrics").status_code == 200
    assert seen == [b"after=3&types=metrics"]


def test_a_websocket_from_a_foreign_host_is_closed_as_a_policy_violation(client):
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect("/ws", headers={"Host": "evil.example.com"}):
            pass
    assert refused.value.code == 1008
    with pytest.raises(WebSocketDisconnect) as unrouted:
        with client.websocket_connect("/ws", headers={"Host": "127.0.0.1:8000"}):
            pass
    assert unrouted.value.code == 1000   # let through, and closed by the router: there is no WebSocket route


def test_beyond_loopback_a_token_is_made_or_taken_from_the_environment(monkeypatch):
    monkeypatch.delenv("BULLET_DASHBOARD_TOKEN", raising=False)
    assert parse_args([]).token is None and parse_args(["--host", "localhost"]).token is None
    made = parse_args(["--host", "0.0.0.0"]).token
    assert made and len(made) >= 32 and made != parse_args(["--host", "0.0.0.0"]).token
    assert parse_args(["--token", "mine"]).token == "mine"   # loopback may opt in
    monkeypatch.setenv("BULLET_DASHBOARD_TOKEN", "from-env")
    assert parse_args(["--host", "0.0.0.0"]).token == "from-env"
    assert "from-env" not in repr(parse_args([]))


def test_host_and_origin_flags_are_checked(monkeypatch, capsys):
    monkeypatch.setenv("BULLET_DASHBOARD_ALLOWED_HOSTS", "a.lan, B.lan")
    settings = parse_args(["--allowed-host", "c.lan", "--allowed-origin", "https://x.example.com/"])
    assert settings.allowed_hosts == ("a.lan", "b.lan", "c.lan") and settings.allowed_origins == ("https://x.example.com",)
    for bad in (["--allowed-host", "c.lan:8000"], ["--allowed-origin", "x.example.com"], ["--allowed-origin", "https://x/path"],
                ["--token", " "]):
        with pytest.raises(SystemExit):
            parse_args(bad)
    assert "not an origin" in capsys.readouterr().err


def test_no_server_beyond_loopback_without_a_token(tmp_path):
    with pytest.raises(ValueError, match="needs a token"):
        AccessPolicy.of(Settings(data_dir=tmp_path, host="0.0.0.0"))
    policy = AccessPolicy.of(Settings(data_dir=tmp_path, host="192.0.2.7", token=TOKEN))
    assert policy.host_allowed("192.0.2.7") and policy.host_allowed("10.1.2.3") and not policy.host_allowed("evil.example.com")
    loopback = AccessPolicy.of(Settings(data_dir=tmp_path))
    assert loopback.token is None and not loopback.host_allowed("10.1.2.3")
