"""Logging in: throttling per user name and client with a back-off, the proxy's client address, what is kept
of a failed login, and a disabled account or an ended session refused at once by every route."""

from __future__ import annotations

import re
import urllib.parse

import pytest
import sqlalchemy as sa

from transcribe.security.accounts import (
    FIRST_LOGIN_DELAY_S,
    FREE_FAILED_LOGINS,
    MAX_LOGIN_DELAY_S,
    Accounts,
    LoginRefused,
    client_address,
    login_delay,
)
from transcribe.store.schema import audit_log, login_attempts

from .test_security import ACCESS, Client
from .web_site import PASSWORD, Site

KEY = b"k" * 32


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def accounts(store):
    clock = Clock()
    accounts = Accounts(store, key=KEY, clock=clock)
    accounts.add_user("anne", PASSWORD, "secretary")
    accounts.clock = clock
    return accounts


def _fail(accounts: Accounts, username: str, client: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(LoginRefused) as refused:
            accounts.login(username, "wrong password!!", client)
        assert refused.value.code == "login.wrong"


def test_failures_from_one_client_do_not_lock_the_user_out_elsewhere(accounts) -> None:
    _fail(accounts, "anne", "10.0.0.66", FREE_FAILED_LOGINS)
    with pytest.raises(LoginRefused) as refused:
        accounts.login("anne", PASSWORD, "10.0.0.66")
    assert refused.value.code == "login.throttled"
    token, session = accounts.login("anne", PASSWORD, "10.0.0.7")  # her own desk is not locked out
    assert session.user.username == "anne" and token


def test_the_wait_doubles_after_each_failure_up_to_a_ceiling(accounts) -> None:
    clock = accounts.clock
    _fail(accounts, "anne", "10.0.0.66", FREE_FAILED_LOGINS)
    with pytest.raises(LoginRefused) as refused:
        accounts.login("anne", PASSWORD, "10.0.0.66")
    assert refused.value.params["seconds"] == int(FIRST_LOGIN_DELAY_S) + 1
    clock.now += FIRST_LOGIN_DELAY_S + 1
    _fail(accounts, "anne", "10.0.0.66", 1)  # one more try allowed, and it fails
    with pytest.raises(LoginRefused) as refused:
        accounts.login("anne", PASSWORD, "10.0.0.66")
    assert refused.value.params["seconds"] == int(2 * FIRST_LOGIN_DELAY_S) + 1
    clock.now += 2 * FIRST_LOGIN_DELAY_S + 1
    accounts.login("anne", PASSWORD, "10.0.0.66")  # the right password after the wait: in, counter reset
    _fail(accounts, "anne", "10.0.0.66", FREE_FAILED_LOGINS - 1)
    accounts.login("anne", PASSWORD, "10.0.0.66")
    assert [login_delay(n) for n in range(FREE_FAILED_LOGINS)] == [0.0] * FREE_FAILED_LOGINS
    assert login_delay(100) == MAX_LOGIN_DELAY_S


def test_the_typed_user_name_of_a_failed_login_is_never_stored(accounts, store) -> None:
    typed = "Tr0ub4dor&3-her-password"  # a password typed in the user name field
    _fail(accounts, typed, "10.0.0.7", 2)
    with store.reading() as conn:
        keys = [row.key for row in conn.execute(sa.select(login_attempts))]
    assert keys and all(typed.lower() not in key and typed not in key for key in keys)
    assert accounts.typed_name_hash(typed) == accounts.typed_name_hash(typed.upper())  # one hash per name
    assert typed.lower() not in accounts.typed_name_hash(typed)
    other = Accounts(store, key=b"another site key 32 bytes long..")
    assert other.typed_name_hash(typed) != accounts.typed_name_hash(typed)  # keyed: no dictionary across sites


@pytest.mark.parametrize(
    ("peer", "header", "expected"),
    [
        ("10.0.0.7", None, "10.0.0.7"),  # no proxy
        ("10.0.0.7", "6.6.6.6", "10.0.0.7"),  # a client sending the header itself is not believed
        ("192.168.1.1", "10.0.0.7", "10.0.0.7"),  # the trusted proxy says who the client is
        ("192.168.1.1", "6.6.6.6, 10.0.0.7", "10.0.0.7"),  # a forged first hop is ignored
        ("192.168.1.1", "10.0.0.7, 192.168.1.2", "10.0.0.7"),  # two trusted proxies in a row
        ("192.168.1.1", "", "192.168.1.1"),
        (None, None, "unknown"),
    ],
)
def test_the_client_address_comes_from_a_trusted_proxy_only(peer, header, expected) -> None:
    assert client_address(peer, header, frozenset({"192.168.1.1", "192.168.1.2"})) == expected


def test_the_web_login_throttles_per_client_behind_the_proxy_and_audits_a_hash(app_site: Site) -> None:
    settings = app_site.settings
    app = app_site.server.config.app
    # the site puts the app behind a proxy on this machine: its header names the client
    import dataclasses

    review = dataclasses.replace(settings.review, trusted_proxies="127.0.0.1")
    app.state.site = dataclasses.replace(app.state.site, settings=dataclasses.replace(settings, review=review))

    def attempt(password: str, client: str) -> int:
        browser = Client(app_site)
        _, _, page = browser.request("GET", "/login")
        token = re.search(rb'name="login_csrf" value="([^"]+)"', page).group(1).decode()
        form = urllib.parse.urlencode({"username": "bea", "password": password, "login_csrf": token, "next": "/"})
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": client}
        return browser.request("POST", "/login", form.encode(), headers)[0]

    for _ in range(FREE_FAILED_LOGINS):
        assert attempt("wrong password!!", "10.1.1.1") == 401
    assert attempt(PASSWORD, "10.1.1.1") == 401  # this client must wait
    assert attempt(PASSWORD, "10.1.1.2") == 303  # bea at another desk behind the same proxy gets in
    with app_site.store.reading() as conn:
        refused = [row.username for row in conn.execute(sa.select(audit_log).where(audit_log.c.action == "login-refused"))]
    assert refused and all(name.startswith("typed:") and "bea" not in name for name in refused)


def test_a_disabled_account_and_an_ended_session_are_refused_at_once_by_every_route(app_site: Site) -> None:
    job_id = app_site.dictate("fr-mg-001")
    admin = Client(app_site)
    admin.login("root")
    anne, bea = Client(app_site), Client(app_site)
    anne.login("anne")
    bea.login("bea")
    assert anne.request("GET", "/queue")[0] == 200 and bea.request("GET", "/queue")[0] == 200
    assert admin.post_json("/admin/users/anne/disable", {})[0] in (200, 303)
    assert admin.post_json("/admin/users/bea/sessions", {})[0] in (200, 303)
    for gone in (anne, bea):
        for method, path in ACCESS:
            concrete = path.replace("{job_id}", str(job_id)).replace("{proposal_id}", "1").replace("{action}", "replay")
            concrete = concrete.replace("{username}", "anne")
            if method == "GET":
                status, headers, _ = gone.request("GET", concrete)
            else:
                status, headers, _ = gone.post_json(concrete, {})
            assert status in (401, 303), (method, path, status)
            if status == 303:
                assert headers["location"].startswith("/login")
