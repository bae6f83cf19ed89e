"""Stored pages: a company's pages (history, captures, comparisons) rendered once per audience
and served again, byte for byte, until something they show changes.

Archived captures never change; only what is shown around them does (tags, reviews, new
captures, a text refresh). Every such change calls `Company.objects.pages_changed(ids)`, the
one place that bumps `Company.page_version` (and deletes the company's stored pages). A stored
page's key holds the URL, that version and the audience, so a request needs only the
company's id and version (one indexed row; none while this process listens for changes, see
`_Versions`) and then either answers 304 (the browser's ETag is the key) or sends the stored
bytes (from this process's memory, else the `StoredPage` table), without rendering.

Audiences: anonymous visitors share one copy (Cache-Control public: a shared cache may keep it,
and nothing in it is personal: no CSRF cookie is set for them). A signed-in user gets their
own copy (private), keyed by their id, name, roles and `overlay().viewer_state(user)`, so
nothing personal is ever served to anyone else. Their forms' CSRF token is stored as a
placeholder and made afresh from their own CSRF cookie for every response (masked anew each
time, as Django does), and their ETag also names that cookie, so a page kept by the browser
never outlives the token in it. Pages that show what any company's change may change (a
tagger's suggestions draw on every company's tags; a reviewer's header counts the whole review
queue: `overlay().viewer_sees_every_company(user)`) are keyed by the site version as well,
which every `pages_changed` bumps when its transaction commits (`site_changed`), and are kept
in memory only. A request with a message waiting, an htmx request or an unexpected query
parameter is rendered as before, never stored.

`StoredPageMiddleware` answers before sessions, CSRF, authentication and URL dispatch run:
anonymous requests, and signed-in ones whose session this process has already seen
authenticated by Django while it listens (`_Versions.viewer`: forgotten whenever a session,
user, group or membership row changes, which PostgreSQL triggers announce, and after
`VIEWER_SECONDS` at most, so an expired session is honoured that long at most).

The version is read before the page's data, so a page rendered from newer data than its key
says is the worst that can happen (never older data under a newer key). A page's CSP nonce is
stored as a placeholder and replaced with the response's own nonce on every response.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache, wraps
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, router, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.middleware.csp import get_nonce
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.urls import Resolver404, ResolverMatch, resolve
from django.utils.cache import patch_vary_headers
from django.utils.crypto import constant_time_compare
from django.utils.http import parse_etags

from policies.extensions import overlay
from policies.models import Company, SiteVersion, StoredPage
from policies.permissions import can_use_admin, role_names

logger = logging.getLogger(__name__)

NONCE_PLACEHOLDER = b"\x00csp-nonce\x00"
CSRF_PLACEHOLDER = b"\x00csrf-token\x00"
# PostgreSQL notification channels: company page versions (or the site version) changed; a
# session, user, group or group membership changed (triggers of migration policies 0013).
CHANNEL = "palimpsest_pages_changed"
VIEWERS_CHANNEL = "palimpsest_viewers_changed"
# How long this process trusts a session it saw authenticated (its expiry is not re-read).
VIEWER_SECONDS = 60
_VIEWERS_MAX = 10_000
# Django's message storage: a cookie, or the session when the cookie would be too big.
MESSAGE_COOKIE, MESSAGE_SESSION_KEY = "messages", "_messages"
LOGIN_REQUIRED_MIDDLEWARE = "django.contrib.auth.middleware.LoginRequiredMiddleware"
# A masked CSRF token as Django writes it into forms (64 letters and digits).
_TOKEN = re.compile(rb"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")


@dataclass(frozen=True)
class _Audience:
    """Whom a page is rendered for, as a key part."""

    text: str
    every_company: bool = False  # keyed by the site version too, kept in memory only

    @property
    def public(self) -> bool:
        return self is ANONYMOUS


ANONYMOUS = _Audience("anonymous")


@dataclass(frozen=True)
class _Page:
    company_id: int
    version: int
    key: str
    public: bool
    durable: bool  # kept in the StoredPage table as well as in memory
    etag: str


def stored_page(*, query: tuple[str, ...] = ()) -> Callable:
    """Serve the decorated company view (its first argument after the request is `slug`)
    from storage; `query` lists the query strings its stored pages may have besides none (any
    other is rendered and not stored, so made-up parameters cannot fill the table)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def serve(request: HttpRequest, slug: str, **kwargs) -> HttpResponse:
            page = getattr(request, "_stored_page_missed", None)  # StoredPageMiddleware's
            if page is None:
                page = _page_for(request, slug, query, _audience(request))
                if page is None:
                    return _kept_private(request, view(request, slug, **kwargs))
                response = _stored_response(request, page)
                if response is not None:
                    return response
            current = _reads_at_version(page)  # before the page's data, as the version was
            response = view(request, slug, **kwargs)
            if not current or not _storable(response):
                return response
            _store(page, response, request)
            return _stored_response(request, page) or response

        serve.stored_page_query = query
        return serve

    return decorate


class StoredPageMiddleware:
    """Stored pages answered before sessions, CSRF, authentication and URL dispatch run: for
    anonymous visitors (a request without a session cookie is anonymous), and for signed-in
    users whose session this process already saw authenticated (see the module's docstring).
    Everything else goes on to the views, whose `stored_page` decorator stores pages and
    serves the other audiences. It sits after the middleware that add headers to every
    response (security, framing, CSP), so its answers carry them too."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        # Where every page asks for sign-in (LOGIN_REQUIRED), anonymous visitors get none.
        self.anonymous_may_read = LOGIN_REQUIRED_MIDDLEWARE not in settings.MIDDLEWARE
        self.csrf = CsrfViewMiddleware(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Before anything reads the session or the user (see `_Versions.remember_viewer`).
        request._stored_page_viewers = _versions.viewer_generation
        response = _served_early(request, self)
        return response if response is not None else self.get_response(request)


def _served_early(request: HttpRequest, middleware: StoredPageMiddleware) -> HttpResponse | None:
    if "HX-Request" in request.headers:
        return None
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if session_key is None:
        if not middleware.anonymous_may_read:
            return None
        audience = ANONYMOUS
    else:
        audience = _versions.viewer(session_key)
        if audience is None:
            return None
    match = _resolve(request.path_info)
    query = getattr(match.func, "stored_page_query", None) if match else None
    if query is None:
        return None
    request.get_host()  # refuses a Host that ALLOWED_HOSTS does not list, as Django would
    if audience is not ANONYMOUS:
        middleware.csrf.process_request(request)  # the CSRF cookie's secret, as Django reads it
        if not request.META.get("CSRF_COOKIE"):
            return None
    page = _page_for(request, match.kwargs["slug"], query, audience)
    if page is None:
        return None
    response = _stored_response(request, page)
    if response is None:
        request._stored_page_missed = page  # the view renders and stores it
        return None
    return middleware.csrf.process_response(request, response)  # refreshes the cookie


@lru_cache(maxsize=4096)
def _resolve(path: str) -> ResolverMatch | None:
    try:
        return resolve(path)
    except Resolver404:
        return None


def _stored_response(request: HttpRequest, page: _Page) -> HttpResponse | None:
    """304 when the browser holds the page, the stored page, or None when none is stored."""
    if page.etag in parse_etags(request.headers.get("If-None-Match", "")):
        return _with_cache_headers(HttpResponseNotModified(), page)
    found = _memory.get(page.key) or (_load(page) if page.durable else None)
    if found is None:
        return None
    content_type, body = found
    if NONCE_PLACEHOLDER in body:
        body = body.replace(NONCE_PLACEHOLDER, str(get_nonce(request)).encode())
    if CSRF_PLACEHOLDER in body:
        body = body.replace(CSRF_PLACEHOLDER, get_token(request).encode())
    return _with_cache_headers(HttpResponse(body, content_type), page)


def _page_for(
    request: HttpRequest, slug: str, query: tuple[str, ...], audience: _Audience | None
) -> _Page | None:
    """The stored page this request asks for, or None when it must be rendered as usual."""
    if not settings.STORED_PAGES or request.method != "GET" or getattr(request, "htmx", False):
        return None
    if request.META.get("QUERY_STRING", "") not in ("", *query):
        return None
    if MESSAGE_COOKIE in request.COOKIES:
        return None
    if audience is None:
        return None
    # Before anything the page shows is read (see the module's docstring).
    found = _versions.lookup(slug)
    if found is None:
        return None
    company_id, version, site = found
    parts = [_code_stamp(), str(company_id), str(version), request.get_full_path(), audience.text]
    if audience.every_company:
        parts.append(f"site {site}")
    key = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    etag = key
    if not audience.public:  # the browser's copy holds a token of this CSRF cookie
        secret = request.META.get("CSRF_COOKIE", "")
        etag = hashlib.sha256(f"{key}\x1f{secret}".encode()).hexdigest()
    return _Page(
        company_id,
        version,
        key,
        public=audience.public,
        durable=not audience.every_company,
        etag=f'W/"{etag[:40]}"',
    )


def _reads_at_version(page: _Page) -> bool:
    """Whether this request reads the company at (at least) the version the page's key holds:
    always from the primary; from a read replica (config/replica.py) only once it has replayed
    that version's change. A page rendered from a replica behind it is served, not stored."""
    alias = router.db_for_read(Company)
    if alias in (None, DEFAULT_DB_ALIAS):
        return True
    replayed = Company.objects.using(alias).filter(pk=page.company_id)
    version = replayed.values_list("page_version", flat=True).first()
    return version is not None and version >= page.version


def _company_version(slug: str) -> tuple[int, int, int] | None:
    """The company's id and page version, and the site version."""
    # Plain SQL: on a stored page this is the request's only query, and compiling it through
    # the ORM took longer than running it.
    table = connection.ops.quote_name(Company._meta.db_table)
    site = connection.ops.quote_name(SiteVersion._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, page_version, (SELECT version FROM {site} WHERE id = 1) "  # nosec B608
            f"FROM {table} WHERE slug = %s",
            [slug],
        )
        found = cursor.fetchone()
    return None if found is None else (found[0], found[1], found[2] or 0)


def _audience(request: HttpRequest) -> _Audience | None:
    """Who the page is rendered for; None when it must not be stored."""
    user = request.user
    if not user.is_authenticated:
        return ANONYMOUS
    if MESSAGE_SESSION_KEY in request.session:
        return None
    state = overlay().viewer_state(user)
    if state is None:
        return None
    text = "\x1e".join(
        [
            f"user {user.pk}",
            user.get_username(),
            "admin" if can_use_admin(user) else "",
            ",".join(sorted(role_names(user))),
            repr(state),
        ]
    )
    audience = _Audience(text, every_company=overlay().viewer_sees_every_company(user))
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if session_key == request.session.session_key:  # not a session made by this request
        _versions.remember_viewer(
            session_key, audience, getattr(request, "_stored_page_viewers", None)
        )
    return audience


def _storable(response: HttpResponse) -> bool:
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not response.has_header("Cache-Control")
    )


def _kept_private(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """A signed-in user's page, rendered for them alone: no shared cache may keep it."""
    if request.user.is_authenticated and not response.has_header("Cache-Control"):
        response["Cache-Control"] = "private, no-cache"
    return response


def _with_cache_headers(response: HttpResponse, page: _Page) -> HttpResponse:
    # no-cache: a browser or shared cache may keep the page but asks again each time (a 304
    # costs one indexed read), so a new tag shows on the next request.
    response["Cache-Control"] = f"{'public' if page.public else 'private'}, no-cache"
    response["ETag"] = page.etag
    patch_vary_headers(response, ["Cookie", "HX-Request"])
    return response


def _load(page: _Page) -> tuple[str, bytes] | None:
    rows = StoredPage.objects.filter(key=page.key).values_list("content_type", "body")[:1]
    if not rows:
        return None
    found = (rows[0][0], bytes(rows[0][1]))
    _memory.put(page.key, found)
    return found


def _store(page: _Page, response: HttpResponse, request: HttpRequest) -> None:
    body = response.content
    nonce = get_nonce(request)
    if nonce:  # the page used it (a LazyNonce is false until then)
        body = body.replace(str(nonce).encode(), NONCE_PLACEHOLDER)
    if not page.public:
        body = _without_csrf_tokens(body, request.META.get("CSRF_COOKIE", ""))
    found = (response["Content-Type"], body)
    if page.durable:
        # Another request may have stored the same page meanwhile: the same bytes, so either
        # does.
        row = StoredPage(key=page.key, company_id=page.company_id, content_type=found[0], body=body)
        StoredPage.objects.bulk_create([row], ignore_conflicts=True)
    _memory.put(page.key, found)


def _without_csrf_tokens(body: bytes, secret: str) -> bytes:
    """The page with every CSRF token made from `secret` (the rendering's) replaced by a
    placeholder, which each response fills with a token of its own."""
    if not secret:
        return body

    def placeholder(match: re.Match) -> bytes:
        made_from_secret = constant_time_compare(_unmasked(match.group().decode()), secret)
        return CSRF_PLACEHOLDER if made_from_secret else match.group()

    return _TOKEN.sub(placeholder, body)


def _unmasked(token: str) -> str:
    # Django's own unmasking (django.middleware.csrf._unmask_cipher_token), which is private.
    from django.middleware.csrf import _unmask_cipher_token

    return _unmask_cipher_token(token)


@cache
def _code_stamp() -> str:
    """What the code that renders pages looks like: a deployment that changes a template, a
    view or the static files' names stores its pages anew, whatever the table holds."""
    base = Path(settings.BASE_DIR)
    digest = hashlib.sha256()
    sources = [base / "templates", *(base / app for app in ("policies", "annotations", "api"))]
    for root in sources:
        for path in sorted(root.rglob("*")):
            if path.suffix in {".py", ".html", ".css"} and "tests" not in path.parts:
                digest.update(str(path.relative_to(base)).encode() + path.read_bytes())
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if manifest.exists():
        digest.update(manifest.read_bytes())
    return digest.hexdigest()


def announce_pages_changed() -> None:
    """Company versions changed (called by `Company.objects.pages_changed`, inside the
    change's transaction): this process forgets the versions it trusted now, the others when
    the transaction commits (PostgreSQL delivers the notification then); the site version
    follows once it commits (`site_changed`)."""
    _versions.forget()
    _notify()
    site_changed()


def site_changed() -> None:
    """What pages drawing on every company show changed (any company's pages did, or, say, a
    new category model serves suggestions): bump the site version once the transaction
    commits. Not inside it: one row that every change updated would make concurrent changes
    wait for each other, or deadlock; bumped after the commit, a page rendered meanwhile is
    only ever newer than its key."""
    transaction.on_commit(_bump_site_version, robust=True)


def _bump_site_version() -> None:
    with transaction.atomic():
        if not SiteVersion.objects.filter(pk=1).update(version=F("version") + 1):
            SiteVersion.objects.bulk_create([SiteVersion(pk=1, version=1)], ignore_conflicts=True)
        _versions.forget()
        _notify()


def _notify() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [CHANNEL])


class _Versions:
    """Company page versions, and the sessions seen authenticated, that this process may use
    without asking the database.

    Both are remembered only while a connection of this process LISTENs on `CHANNEL` and
    `VIEWERS_CHANNEL`: every `pages_changed` notifies the first when its transaction commits,
    and then every remembered version is forgotten (the next request per company asks the
    database again); the triggers on sessions, users, groups and memberships notify the
    second, and every remembered session is forgotten. A value read while a notification came
    in is not remembered (`generation`, `viewer_generation`). Without a listener (SQLite,
    STORED_PAGES_LISTEN off, the connection lost) each request asks the database. Between a
    commit and its notification reaching this process (well under a millisecond when the
    machine is not saturated) a request may still get the page as it was.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.known: dict[str, tuple[int, int, int]] = {}
        self.generation = 0
        self.viewers: dict[str, tuple[_Audience, float]] = {}
        self.viewer_generation = 0
        self.listening = False
        self.pid: int | None = None
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def lookup(self, slug: str) -> tuple[int, int, int] | None:
        self._start_listening()
        with self.lock:
            found = self.known.get(slug) if self.listening else None
            generation = self.generation
        if found is not None:
            return found
        found = _company_version(slug)
        if found is not None:
            with self.lock:
                if self.listening and self.generation == generation:
                    self.known[slug] = found
        return found

    def viewer(self, session_key: str) -> _Audience | None:
        """The audience of a session Django authenticated in this process lately, or None."""
        self._start_listening()
        with self.lock:
            found = self.viewers.get(session_key) if self.listening else None
        if found is None or found[1] < time.monotonic():
            return None
        return found[0]

    def remember_viewer(self, session_key: str, audience: _Audience, generation) -> None:
        """Remember what Django's authentication made of a session, unless a session, user or
        group changed since `generation` was read (before the session was)."""
        with self.lock:
            if not self.listening or generation != self.viewer_generation:
                return
            if len(self.viewers) >= _VIEWERS_MAX:
                self.viewers.clear()
            self.viewers[session_key] = (audience, time.monotonic() + VIEWER_SECONDS)

    def forget(self, *, listening: bool | None = None) -> None:
        with self.lock:
            self.known.clear()
            self.generation += 1
            if listening is not None:
                self.listening = listening
                self._forget_viewers()

    def forget_viewers(self) -> None:
        with self.lock:
            self._forget_viewers()

    def _forget_viewers(self) -> None:
        self.viewers.clear()
        self.viewer_generation += 1

    def _start_listening(self) -> None:
        # Once per process (gunicorn forks its workers after loading the application).
        if self.pid == os.getpid():
            return
        if not settings.STORED_PAGES_LISTEN or connection.vendor != "postgresql":
            return
        with self.lock:
            if self.pid == os.getpid():
                return
            self.pid = os.getpid()
        self.forget(listening=False)
        params = connection.get_connection_params()
        self.thread = threading.Thread(
            target=self._listen, args=(params,), name="stored-pages-listener", daemon=True
        )
        self.thread.start()

    def _listen(self, params: dict) -> None:
        while not self.stop.is_set():
            try:
                with connection.get_new_connection(params) as listener:
                    listener.autocommit = True
                    listener.execute(f"LISTEN {CHANNEL}")
                    listener.execute(f"LISTEN {VIEWERS_CHANNEL}")
                    self.forget(listening=True)
                    while not self.stop.is_set():
                        for notice in listener.notifies(timeout=1.0):
                            if notice.channel == VIEWERS_CHANNEL:
                                self.forget_viewers()
                            else:
                                self.forget()
            except Exception:  # keep serving (asking the database) and try again
                logger.warning("stored pages: listening for changes failed", exc_info=True)
            finally:
                self.forget(listening=False)
            self.stop.wait(1.0)


_versions = _Versions()


class _Memory:
    """This process's most recently served pages, up to a byte budget (least recent first out);
    keys are never reused for other content, so nothing here is ever stale."""

    def __init__(self, budget: int) -> None:
        self.budget, self.size = budget, 0
        self.pages: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> tuple[str, bytes] | None:
        with self.lock:
            found = self.pages.get(key)
            if found is not None:
                self.pages.move_to_end(key)
            return found

    def put(self, key: str, page: tuple[str, bytes]) -> None:
        with self.lock:
            if key in self.pages or len(page[1]) > self.budget:
                return
            self.pages[key] = page
            self.size += len(page[1])
            while self.size > self.budget:
                _, (_, body) = self.pages.popitem(last=False)
                self.size -= len(body)

    def clear(self) -> None:
        with self.lock:
            self.pages.clear()
            self.size = 0


_memory = _Memory(settings.STORED_PAGES_MEMORY_BYTES)


def forget_in_memory() -> None:
    """Empty this process's copies and versions (tests: a rolled-back database reuses ids)."""
    _memory.clear()
    _versions.forget()
    _versions.forget_viewers()
    _resolve.cache_clear()
