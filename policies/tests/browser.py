"""What the browser tests share: the rows migrations made, and signing in through the form."""

from __future__ import annotations

from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from annotations.models import Attribute, AttributeValue, Category
from annotations.taxonomy import OPP115, install_taxonomy, read_taxonomy
from annotations.tests.factories import PASSWORD
from policies.permissions import ALL_ROLES


def restore_migrated_rows() -> None:
    """Transactional tests empty every table afterwards, including the role groups and the
    OPP-115 taxonomy that data migrations created; put them back (idempotent)."""
    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)
    install_taxonomy(read_taxonomy(OPP115), Category, Attribute, AttributeValue)


def sign_in(page: Page, username: str) -> None:
    """Sign in through the real form as a user made by `make_user`."""
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".who")).to_contain_text(username)
