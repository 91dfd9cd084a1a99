"""Security of the review app: every route refuses anonymous requests and wrong roles; CSRF, session
fixation, open redirects, path traversal and HTML injection are tried and must fail."""

from __future__ import annotations

import http.client
import json
import re
import urllib.parse

import pytest

from transcribe.records import JobState

from .web_site import PASSWORD, Site, _login, _open_review, _report_text

# For each route: which roles may use it. "any" = every logged-in user; a new route must be added here.
ACCESS = {
    ("GET", "/"): {"doctor", "secretary", "admin"},
    ("GET", "/queue"): {"secretary", "admin"},
    ("GET", "/api/queue"): {"secretary", "admin"},
    ("GET", "/review/{job_id}"): {"secretary", "admin"},
    ("GET", "/api/review/{job_id}"): {"secretary", "admin"},
    ("POST", "/api/review/{job_id}/save"): {"secretary", "admin"},
    ("POST", "/api/review/{job_id}/revert"): {"secretary", "admin"},
    ("POST", "/api/review/{job_id}/resolve"): {"secretary", "admin"},
    ("POST", "/api/review/{job_id}/reading"): {"secretary", "admin"},
    ("POST", "/api/review/{job_id}/validate"): {"secretary", "admin"},
    ("POST", "/api/review/{job_id}/return"): {"secretary", "admin"},
    ("POST", "/api/review/{job_id}/release"): {"secretary", "admin"},
    ("POST", "/api/review/{job_id}/suggestion"): {"secretary", "admin"},
    ("POST", "/api/review/{job_id}/replace"): {"secretary", "admin"},
    ("POST", "/api/review/{job_id}/takeover"): {"secretary", "admin"},
    ("POST", "/api/review/{job_id}/reopen"): {"secretary", "admin"},
    ("GET", "/api/review/{job_id}/lock"): {"secretary", "admin"},
    ("GET", "/api/review/{job_id}/preview"): {"secretary", "admin"},
    ("GET", "/review/{job_id}/docx"): {"secretary", "admin"},
    ("GET", "/review/{job_id}/next"): {"secretary", "admin"},
    ("GET", "/api/autotext"): {"secretary", "admin"},
    ("GET", "/api/patients"): {"secretary", "admin"},
    ("GET", "/api/review/{job_id}/codes"): {"secretary", "admin"},
    ("POST", "/api/review/{job_id}/codes"): {"secretary", "admin"},
    ("GET", "/api/codes"): {"secretary", "admin"},
    ("GET", "/audio/{job_id}"): {"secretary", "admin", "doctor"},
    ("GET", "/mine"): {"doctor", "admin"},
    ("GET", "/mine/{job_id}"): {"doctor", "admin"},
    ("POST", "/mine/{job_id}/resubmit"): {"doctor", "admin"},
    ("POST", "/mine/{job_id}/reply"): {"doctor", "admin"},
    ("POST", "/mine/{job_id}/sign"): {"doctor", "admin"},
    ("GET", "/admin"): {"admin"},
    ("POST", "/admin/users"): {"admin"},
    ("POST", "/admin/users/{username}/disable"): {"admin"},
    ("POST", "/admin/users/{username}/enable"): {"admin"},
    ("POST", "/admin/users/{username}/password"): {"admin"},
    ("POST", "/admin/users/{username}/role"): {"admin"},
    ("POST", "/admin/users/{username}/sessions"): {"admin"},
    ("GET", "/admin/patients"): {"admin"},
    ("POST", "/admin/patients"): {"admin"},
    ("POST", "/admin/patients/{patient_id}/export"): {"admin"},
    ("POST", "/admin/vocabulary"): {"admin"},
    ("GET", "/stats"): {"doctor", "admin"},
    ("GET", "/admin/proposals"): {"admin"},
    ("POST", "/admin/proposals/{proposal_id}/{action}"): {"admin"},
    ("POST", "/logout"): {"doctor", "secretary", "admin"},
    ("POST", "/language"): {"doctor", "secretary", "admin"},
}
PUBLIC = {("GET", "/login"), ("POST", "/login")}


class Client:
    """A small HTTP client with cookies, redirects not followed."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.site.port, timeout=30)
        all_headers = dict(headers or {})
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                content = rest.split(";")[0]
                if content in ("", '""') or "Max-Age=0" in value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = content
        connection.close()
        return response.status, dict(response.getheaders()), data

    def login(self, username: str) -> None:
        _, _, page = self.request("GET", "/login")
        token = re.search(rb'name="login_csrf" value="([^"]+)"', page).group(1).decode()
        form = urllib.parse.urlencode({"username": username, "password": PASSWORD, "login_csrf": token, "next": "/"})
        status, _, _ = self.request("POST", "/login", form.encode(), {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 303
        _, _, page = self.request("GET", "/mine" if username == "martin" else "/queue")
        match = re.search(rb'name="csrf-token" content="([^"]+)"', page)
        self.csrf = match.group(1).decode() if match else ""

    def post_json(self, path: str, payload: dict, csrf: str | None = None):
        headers = {"Content-Type": "application/json", "X-CSRF-Token": self.csrf if csrf is None else csrf}
        return self.request("POST", path, json.dumps(payload).encode(), headers)


def _routes(site: Site) -> set[tuple[str, str]]:
    app = site.server.config.app
    found = set()
    for route in app.routes:
        path = getattr(route, "path", "")
        if path.startswith("/static"):
            continue
        for method in getattr(route, "methods", set()) - {"HEAD"}:
            found.add((method, path))
    return found


def test_every_route_is_in_the_access_table(app_site: Site) -> None:
    assert _routes(app_site) == set(ACCESS) | PUBLIC


def test_every_route_refuses_anonymous_requests_and_wrong_roles(app_site: Site) -> None:
    job_id = app_site.dictate("fr-mg-001")
    anonymous = Client(app_site)
    for (method, path) in ACCESS:
        concrete = path.replace("{job_id}", str(job_id)).replace("{proposal_id}", "1").replace("{action}", "replay")
        status, headers, _ = anonymous.request(method, concrete, b"{}" if method == "POST" else None,
                                               {"Content-Type": "application/json"} if method == "POST" else {})
        assert status in (401, 303), (method, path, status)
        if status == 303:
            assert headers["location"].startswith("/login")
    users = {"martin": "doctor", "anne": "secretary", "root": "admin"}
    for username, role in users.items():
        client = Client(app_site)
        client.login(username)
        for (method, path), allowed in ACCESS.items():
            if path in ("/logout",) or path.endswith(("/validate", "/return", "/resubmit")):
                continue  # would end the session or the job; their refusal is checked by role below
            concrete = path.replace("{job_id}", str(job_id)).replace("{proposal_id}", "1").replace("{action}", "replay")
            if method == "GET":
                status, _, _ = client.request("GET", concrete)
            else:
                status, _, _ = client.post_json(concrete, {})
            if role in allowed:
                assert status not in (401, 403), (username, method, path, status)
            else:
                assert status == 403, (username, method, path, status)
    doctor = Client(app_site)
    doctor.login("martin")
    assert doctor.post_json(f"/api/review/{job_id}/validate", {})[0] == 403
    assert doctor.post_json(f"/api/review/{job_id}/return", {"comment": "x"})[0] == 403
    secretary = Client(app_site)
    secretary.login("anne")
    assert secretary.request("POST", f"/mine/{job_id}/resubmit", b"csrf_token=" + secretary.csrf.encode(),
                             {"Content-Type": "application/x-www-form-urlencoded"})[0] == 403


def test_csrf_is_required_on_every_state_change(app_site: Site) -> None:
    job_id = app_site.dictate("fr-mg-001")
    client = Client(app_site)
    client.login("root")
    for (method, path) in ACCESS:
        if method != "POST":
            continue
        concrete = path.replace("{job_id}", str(job_id)).replace("{proposal_id}", "1").replace("{action}", "reject")
        assert client.post_json(concrete, {}, csrf="")[0] == 403, path
        assert client.post_json(concrete, {}, csrf="a-forged-token")[0] == 403, path
    status, _, _ = client.request("POST", "/login", b"username=anne&password=x&login_csrf=forged",
                                  {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 403
    assert app_site.store.jobs.get(job_id).state is JobState.DRAFTED


def test_a_session_cookie_planted_before_login_is_never_used(app_site: Site) -> None:
    client = Client(app_site)
    client.cookies["transcribe_session"] = "planted-by-an-attacker"
    client.login("anne")
    assert client.cookies["transcribe_session"] != "planted-by-an-attacker"
    attacker = Client(app_site)
    attacker.cookies["transcribe_session"] = "planted-by-an-attacker"
    assert attacker.request("GET", "/api/queue")[0] == 401
    # logging out ends the session for good
    token = client.cookies["transcribe_session"]
    client.request("POST", "/logout", f"csrf_token={client.csrf}".encode(),
                   {"Content-Type": "application/x-www-form-urlencoded"})
    replay = Client(app_site)
    replay.cookies["transcribe_session"] = token
    assert replay.request("GET", "/api/queue")[0] == 401


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"])
def test_no_open_redirect_after_login(app_site: Site, target: str) -> None:
    client = Client(app_site)
    _, _, page = client.request("GET", "/login")
    token = re.search(rb'name="login_csrf" value="([^"]+)"', page).group(1).decode()
    form = urllib.parse.urlencode({"username": "anne", "password": PASSWORD, "login_csrf": token, "next": target})
    status, headers, _ = client.request("POST", "/login", form.encode(), {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 303 and headers["location"] == "/"


@pytest.mark.parametrize("path", ["/audio/..%2F..%2F..%2Fetc%2Fpasswd", "/audio/1%2F..%2F..%2Ftranscribe.toml",
                                  "/static/..%2F..%2F..%2Ftranscribe.toml", "/static/../../store.py",
                                  "/audio/-1", "/audio/99999"])
def test_no_path_traversal_in_file_routes(app_site: Site, path: str) -> None:
    client = Client(app_site)
    client.login("anne")
    status, _, body = client.request("GET", path)
    assert status in (404, 422), (path, status)
    assert b"root:" not in body and b"[asr]" not in body and b"import" not in body


def test_transcript_text_and_file_names_cannot_inject_html(app_site: Site, browser) -> None:
    job_id = app_site.dictate("fr-mg-001", name='<img src=x onerror="window.pwned=1">.opus')
    page = _login(browser, app_site, "anne")
    page.goto(f"{app_site.url}/queue")
    _open_review(page, app_site, job_id)
    page.evaluate("window.pwned = 0")
    token = page.locator("meta[name='csrf-token']").get_attribute("content")
    injected = '<script>window.pwned=2</script><img src=x onerror="window.pwned=3"> <b>gras</b>'
    response = page.context.request.post(f"{app_site.url}/api/review/{job_id}/save",
                                         data=json.dumps({"blocks": [{"key": "body", "heading": "", "text": injected}]}),
                                         headers={"Content-Type": "application/json", "X-CSRF-Token": token})
    assert response.status == 200
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert page.evaluate("window.pwned || 0") == 0
    assert _report_text(page) == injected  # shown as text, never run
    assert page.locator("main img").count() == 0 and page.locator("main b").count() == 0
