"""The role table: what every URL answers to every kind of visitor.

One row per route and method, one column per role. Every named route of the site is walked from
the URL resolver (`routes.site_routes`), so a URL added to any urls.py without a row here fails
`test_role_table` with the line to add. A route is requested with GET (a row is required) and
with an empty POST (a row is needed only when the route accepts POST; otherwise every role must
get 405). An empty POST is enough to tell "refused" (302 to sign in, 403) from "allowed" (the
form's 400, or the page).

Covered: the site's own URLs and the `accounts/` URLs Django's auth app adds (sign-in, sign-out,
password pages). Not covered route by route: `admin/`, which Django's admin site guards itself
(every page needs is_staff); its index and login rows prove that guard.

Cells: an HTTP status, `LOGIN` (302 to the sign-in page with ?next=), `ADMIN` (302 to the
admin's sign-in page) or `MOVED` (302 anywhere else). Roles: `conftest.ROLES`; "staff" is a
staff user with no group, allowed wherever a role is checked.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from config.tests.conftest import ROLES
from config.tests.routes import sample_url, site_routes

LOGIN = "login"
ADMIN = "admin login"
MOVED = "redirect"

Cell = int | str

# fmt: off
ROLE_TABLE: dict[tuple[str, str], tuple[Cell, ...]] = {
    # (route, method):                   anon     Reviewer Curator  Research Importer staff
    # Reading: public.
    ("company_list", "GET"):            (200,     200,     200,     200,     200,     200),
    ("company_detail", "GET"):          (200,     200,     200,     200,     200,     200),
    ("snapshot_detail", "GET"):         (200,     200,     200,     200,     200,     200),
    ("compare", "GET"):                 (200,     200,     200,     200,     200,     200),
    # The compare form without two captures chosen: "choose two captures".
    ("compare_form", "GET"):            (400,     400,     400,     400,     400,     400),
    ("taxonomy_css", "GET"):            (200,     200,     200,     200,     200,     200),
    ("search", "GET"):                  (200,     200,     200,     200,     200,     200),
    # Trends across the corpus and their CSV: public, like search.
    ("trends", "GET"):                  (200,     200,     200,     200,     200,     200),
    ("trends_csv", "GET"):              (200,     200,     200,     200,     200,     200),
    # Change feeds (Atom): public, like the pages they summarise.
    ("company_feed", "GET"):            (200,     200,     200,     200,     200,     200),
    ("changes_feed", "GET"):            (200,     200,     200,     200,     200,     200),
    # The JSON API reads as the site does; a signed-in session counts as its user. Tags need
    # the export's roles: anonymous callers get 401 (send a token), others without it 403.
    ("api:api-root", "GET"):            (404,     404,     404,     404,     404,     404),
    ("api:openapi-json", "GET"):        (200,     200,     200,     200,     200,     200),
    ("api:openapi-view", "GET"):        (200,     200,     200,     200,     200,     200),
    ("api:companies", "GET"):           (200,     200,     200,     200,     200,     200),
    ("api:company", "GET"):             (200,     200,     200,     200,     200,     200),
    ("api:company_captures", "GET"):    (200,     200,     200,     200,     200,     200),
    ("api:policy", "GET"):              (200,     200,     200,     200,     200,     200),
    ("api:capture", "GET"):             (200,     200,     200,     200,     200,     200),
    ("api:comparison", "GET"):          (200,     200,     200,     200,     200,     200),
    ("api:tags", "GET"):                (401,     403,     200,     200,     403,     200),
    # Search without `q` names the missing parameter.
    ("api:search", "GET"):              (400,     400,     400,     400,     400,     400),
    ("api:trends", "GET"):              (200,     200,     200,     200,     200,     200),
    # Agreement figures: the Curator role, as the agreement page.
    ("api:campaign_agreement", "GET"):  (401,     403,     200,     403,     403,     200),
    # Any other path under /api/: a JSON 404, whatever the method.
    ("api_not_found", "GET"):           (404,     404,     404,     404,     404,     404),
    ("api_not_found", "POST"):          (404,     404,     404,     404,     404,     404),
    # The account page: everyone signed in; making API tokens: Researchers and Curators;
    # revoking: one's own tokens (none here, so the page says so).
    ("account", "GET"):                 (LOGIN,   200,     200,     200,     200,     200),
    ("api_token_create", "GET"):        (405,     405,     405,     405,     405,     405),
    ("api_token_create", "POST"):       (LOGIN,   403,     201,     201,     403,     201),
    ("api_token_revoke", "GET"):        (405,     405,     405,     405,     405,     405),
    ("api_token_revoke", "POST"):       (LOGIN,   MOVED,   MOVED,   MOVED,   MOVED,   MOVED),
    # Tagging and review: Reviewers and Curators (an empty form is a 400 once allowed).
    ("tag_create", "GET"):              (405,     405,     405,     405,     405,     405),
    ("tag_create", "POST"):             (LOGIN,   400,     400,     403,     403,     400),
    ("tag_detail", "GET"):              (LOGIN,   200,     200,     403,     403,     200),
    ("tag_edit", "GET"):                (405,     405,     405,     405,     405,     405),
    ("tag_edit", "POST"):               (LOGIN,   400,     400,     403,     403,     400),
    ("tag_delete", "GET"):              (405,     405,     405,     405,     405,     405),
    ("tag_delete", "POST"):             (LOGIN,   400,     400,     403,     403,     400),
    ("review_list", "GET"):             (LOGIN,   200,     200,     403,     403,     200),
    ("review_action", "GET"):           (405,     405,     405,     405,     405,     405),
    ("review_action", "POST"):          (LOGIN,   400,     400,     403,     403,     400),
    ("review_undo", "GET"):             (405,     405,     405,     405,     405,     405),
    ("review_undo", "POST"):            (LOGIN,   400,     400,     403,     403,     400),
    # Campaigns: annotators (Reviewers, Curators) see them; Curators create them. Marking a
    # capture done needs an assignment on it, which none of these users has: 404.
    ("campaign_list", "GET"):           (LOGIN,   200,     200,     403,     403,     200),
    ("campaign_new", "GET"):            (LOGIN,   403,     200,     403,     403,     200),
    ("campaign_new", "POST"):           (LOGIN,   403,     400,     403,     403,     400),
    ("campaign_detail", "GET"):         (LOGIN,   200,     200,     403,     403,     200),
    # Editing (and closing) is the Curators'; an empty form names what is missing.
    ("campaign_edit", "GET"):           (LOGIN,   403,     200,     403,     403,     200),
    ("campaign_edit", "POST"):          (LOGIN,   403,     400,     403,     403,     400),
    ("campaign_work", "GET"):           (LOGIN,   200,     200,     403,     403,     200),
    ("campaign_agreement", "GET"):      (LOGIN,   403,     200,     403,     403,     200),
    ("campaign_agreement_csv", "GET"):  (LOGIN,   403,     200,     403,     403,     200),
    ("campaign_adjudicate", "GET"):     (LOGIN,   403,     200,     403,     403,     200),
    # An empty decision names what is missing.
    ("campaign_adjudicate", "POST"):    (LOGIN,   403,     400,     403,     403,     400),
    ("campaign_capture_done", "GET"):   (405,     405,     405,     405,     405,     405),
    ("campaign_capture_done", "POST"):  (LOGIN,   404,     404,     403,     403,     404),
    # Suggestions: accepting and rejecting is tagging (an empty form names what is missing).
    ("suggestion_accept", "GET"):       (405,     405,     405,     405,     405,     405),
    ("suggestion_accept", "POST"):      (LOGIN,   400,     400,     403,     403,     400),
    ("suggestion_reject", "GET"):       (405,     405,     405,     405,     405,     405),
    ("suggestion_reject", "POST"):      (LOGIN,   400,     400,     403,     403,     400),
    ("suggestion_accept_all", "GET"):   (405,     405,     405,     405,     405,     405),
    ("suggestion_accept_all", "POST"):  (LOGIN,   400,     400,     403,     403,     400),
    # Where a capture's wording also appears: public, like the capture.
    ("shared_wording", "GET"):          (200,     200,     200,     200,     200,     200),
    ("wording_detail", "GET"):          (200,     200,     200,     200,     200,     200),
    # The suggestion model's page: everyone with a role; training from it: Curators.
    ("suggester", "GET"):               (LOGIN,   200,     200,     200,     200,     200),
    ("suggester_train", "GET"):         (405,     405,     405,     405,     405,     405),
    ("suggester_train", "POST"):        (LOGIN,   403,     MOVED,   403,     403,     MOVED),
    # Export: Researchers and Curators.
    ("export_page", "GET"):             (LOGIN,   403,     200,     200,     403,     200),
    # The picker's suggestions are an htmx fragment; a plain GET goes to the export page.
    ("export_companies", "GET"):        (LOGIN,   403,     MOVED,   MOVED,   403,     MOVED),
    ("export_annotations", "GET"):      (LOGIN,   403,     200,     200,     403,     200),
    # Imports from the browser: Importers.
    ("import_list", "GET"):             (LOGIN,   403,     403,     403,     200,     200),
    ("import_new", "GET"):              (LOGIN,   403,     403,     403,     200,     200),
    ("import_new", "POST"):             (LOGIN,   403,     403,     403,     400,     400),
    ("import_detail", "GET"):           (LOGIN,   403,     403,     403,     200,     200),
    ("import_report_csv", "GET"):       (LOGIN,   403,     403,     403,     200,     200),
    ("import_again", "GET"):            (405,     405,     405,     405,     405,     405),
    # The sample run succeeded, so "again" is refused with a message on the run's page.
    ("import_again", "POST"):           (LOGIN,   403,     403,     403,     MOVED,   MOVED),
    # Accounts (django.contrib.auth.urls). Sign-out is POST only.
    ("login", "GET"):                   (200,     200,     200,     200,     200,     200),
    ("login", "POST"):                  (200,     200,     200,     200,     200,     200),
    ("logout", "GET"):                  (405,     405,     405,     405,     405,     405),
    ("logout", "POST"):                 (MOVED,   MOVED,   MOVED,   MOVED,   MOVED,   MOVED),
    ("password_change", "GET"):         (LOGIN,   200,     200,     200,     200,     200),
    ("password_change", "POST"):        (LOGIN,   200,     200,     200,     200,     200),
    ("password_change_done", "GET"):    (LOGIN,   200,     200,     200,     200,     200),
    ("password_change_done", "POST"):   (LOGIN,   405,     405,     405,     405,     405),
    # The admin guards itself; these rows prove only staff get in.
    ("admin:index", "GET"):             (ADMIN,   ADMIN,   ADMIN,   ADMIN,   ADMIN,   200),
    ("admin:index", "POST"):            (ADMIN,   ADMIN,   ADMIN,   ADMIN,   ADMIN,   200),
    ("admin:login", "GET"):             (200,     200,     200,     200,     200,     MOVED),
    ("admin:login", "POST"):            (200,     200,     200,     200,     200,     200),
}
# fmt: on

ALL_405 = (405,) * len(ROLES)
ADMIN_ROUTES = ["admin:index", "admin:login"]


def _answer(response) -> Cell:
    """The response as a table cell."""
    if response.status_code != 302:
        return response.status_code
    location = response["Location"]
    if location.startswith(reverse("login") + "?next="):
        return LOGIN
    if location.startswith(reverse("admin:login") + "?next="):
        return ADMIN
    return MOVED


def _answers(url: str, method: str, role_users) -> tuple[Cell, ...]:
    cells = []
    for role in ROLES:
        client = Client()  # a fresh client per role: a sign-out must not leak into the next
        if role_users[role] is not None:
            client.force_login(role_users[role])
        response = client.get(url) if method == "GET" else client.post(url, {})
        cells.append(_answer(response))
    return tuple(cells)


def _row(name: str, method: str, cells: tuple[Cell, ...]) -> str:
    names = {LOGIN: "LOGIN", ADMIN: "ADMIN", MOVED: "MOVED"}
    shown = ", ".join(str(c) if isinstance(c, int) else names[c] for c in cells)
    return f'    ("{name}", "{method}"): ({shown}),'


@pytest.mark.parametrize("name", [route.name for route in site_routes()] + ADMIN_ROUTES)
def test_role_table(name, site_data, role_users):
    url = sample_url(name, site_data)
    for method in ("GET", "POST"):
        actual = _answers(url, method, role_users)
        expected = ROLE_TABLE.get((name, method))
        if expected is None and method == "GET":
            pytest.fail(
                f"{url} ({name}) has no row in ROLE_TABLE (config/tests/test_permissions.py). "
                f"Decide who may see it and add a row; today it answers:\n"
                f"{_row(name, method, actual)}"
            )
        if expected is None and actual != ALL_405:
            pytest.fail(
                f"{url} ({name}) accepts POST but ROLE_TABLE has no POST row; today it "
                f"answers (check this is what each role should get):\n"
                f"{_row(name, method, actual)}"
            )
        assert actual == (expected or ALL_405), (
            f"{method} {url} ({name}), roles {ROLES}:\n"
            f"  expected {expected or ALL_405}\n  got      {actual}"
        )


def test_every_row_names_a_route():
    routes = {route.name for route in site_routes()} | set(ADMIN_ROUTES)
    stale = sorted({name for name, _ in ROLE_TABLE} - routes)
    assert not stale, f"ROLE_TABLE rows for routes that no longer exist: {stale}"
