"""A secretary's screen as a plain HTTP client of the review app: login, pages, the API, timed.

Used by bench/load.py (twenty review sessions at once) and bench/soak.py (validating reports
through the app while the outbox is read-only). Standard library only (``http.client``): one
keep-alive connection per client, cookies kept like a browser does, the CSRF token read from
the page as review.js reads it.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import time
from dataclasses import dataclass, field
from typing import Any

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
LOGIN_CSRF = re.compile(r'name="login_csrf" value="([^"]+)"')


@dataclass
class Answer:
    """One request's outcome: status, body, and how long it took (seconds, first byte sent to last byte read)."""

    status: int
    body: bytes
    seconds: float
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


class RequestFailed(Exception):
    """The app answered with an unexpected status, or the connection failed."""


class ReviewClient:
    """One user's session on the review app at ``host:port``."""

    def __init__(self, host: str, port: int, *, timeout_s: float = 120.0) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self._connection: http.client.HTTPConnection | None = None

    def close(self) -> None:
        """Close the connection."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Answer:
        """Send one request on the kept connection (opened again once if the server closed it)."""
        sent = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **(headers or {})}
        if not self.cookies:
            del sent["Cookie"]
        for attempt in (1, 2):
            if self._connection is None:
                self._connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
            started = time.perf_counter()
            try:
                self._connection.request(method, path, body=body, headers=sent)
                response = self._connection.getresponse()
                data = response.read()
            except (TimeoutError, ConnectionError, http.client.HTTPException, OSError) as e:
                self.close()
                if attempt == 2 or isinstance(e, socket.timeout):
                    raise RequestFailed(f"{method} {path}: {type(e).__name__} {e}") from e
                continue
            seconds = time.perf_counter() - started
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    self._take_cookie(value)
            if response.getheader("connection", "").lower() == "close":
                self.close()
            return Answer(response.status, data, seconds, {k.lower(): v for k, v in response.getheaders()})
        raise AssertionError("unreachable")

    def _take_cookie(self, header: str) -> None:
        name, _, rest = header.partition("=")
        value = rest.split(";", 1)[0]
        if "max-age=0" in header.lower() or value in ('""', ""):
            self.cookies.pop(name.strip(), None)
        else:
            self.cookies[name.strip()] = value

    def get(self, path: str, *, expect: tuple[int, ...] = (200,), headers: dict[str, str] | None = None) -> Answer:
        """GET a path; an unexpected status raises ``RequestFailed``."""
        answer = self.request("GET", path, headers=headers)
        if answer.status not in expect:
            raise RequestFailed(f"GET {path}: HTTP {answer.status} {answer.body[:200]!r}")
        found = CSRF_META.search(answer.body[:4000].decode("utf-8", "replace"))
        if found:
            self.csrf = found.group(1)
        return answer

    def post_json(self, path: str, data: dict[str, Any], *, expect: tuple[int, ...] = (200,)) -> Answer:
        """POST a JSON body with the session's CSRF token, as review.js does."""
        headers = {"Content-Type": "application/json", "X-CSRF-Token": self.csrf}
        answer = self.request("POST", path, json.dumps(data).encode(), headers)
        if answer.status not in expect:
            raise RequestFailed(f"POST {path}: HTTP {answer.status} {answer.body[:200]!r}")
        return answer

    def login(self, username: str, password: str) -> Answer:
        """Log in through the login form (its CSRF cookie and field); the answer of the POST."""
        page = self.get("/login")
        token = LOGIN_CSRF.search(page.body.decode("utf-8", "replace"))
        if token is None:
            raise RequestFailed("the login page has no login_csrf field")
        from urllib.parse import urlencode

        form = urlencode({"username": username, "password": password, "login_csrf": token.group(1), "next": "/queue"})
        answer = self.request("POST", "/login", form.encode(), {"Content-Type": "application/x-www-form-urlencoded"})
        if answer.status != 303 or "transcribe_session" not in self.cookies:
            raise RequestFailed(f"login as {username}: HTTP {answer.status} {answer.body[:200]!r}")
        return answer


def typed_blocks(review: dict[str, Any], extra: str = "") -> list[dict[str, str]]:
    """The report's blocks as the review screen sends them back (key, heading, text), ``extra`` typed at the end."""
    blocks = []
    for block in review.get("blocks", []):
        blocks.append(
            {"key": block.get("key", "body"), "heading": block.get("heading", ""), "text": block.get("text", "")}
        )
    if blocks and extra:
        blocks[-1]["text"] += extra
    return blocks


def validate_through_app(client: ReviewClient, job_id: int) -> tuple[int, dict[str, Any]]:
    """Tick every point to check of a draft, then validate (and file) it as the review screen does.

    Returns the validate route's status (200 filed, 202 validated but not filed) and its answer.
    """
    client.get(f"/review/{job_id}")
    review = client.get(f"/api/review/{job_id}").json()
    for flag in review.get("flags", []):
        if flag.get("choices"):
            review = client.post_json(
                f"/api/review/{job_id}/reading", {"flag": flag["index"], "reading": flag["choices"][0]}
            )
        if not flag.get("resolved"):
            review = client.post_json(f"/api/review/{job_id}/resolve", {"flag": flag["index"], "resolved": True}).json()
    answer = client.post_json(
        f"/api/review/{job_id}/validate",
        {"blocks": typed_blocks(review), "typed_at": time.time() * 1000},
        expect=(200, 202),
    )
    return answer.status, answer.json()
