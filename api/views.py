"""The account page: who you are, your roles, and your API tokens (made and revoked here)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from api.models import ApiToken
from api.tokens import issue_token, revoke_token
from policies.permissions import can_create_api_tokens, permission_required


def _account_page(request: HttpRequest, new_secret: str = "", status: int = 200) -> HttpResponse:
    context = {
        "tokens": ApiToken.objects.for_account(request.user),
        "new_secret": new_secret,
        "may_create": can_create_api_tokens(request.user),
    }
    return render(request, "api/account.html", context, status=status)


@require_GET
@login_required
def account(request: HttpRequest) -> HttpResponse:
    return _account_page(request)


@require_POST
@permission_required("api_tokens")
def token_create(request: HttpRequest) -> HttpResponse:
    """Make a token and show it once, on this response only (it is never stored)."""
    _, secret = issue_token(request.user, request.POST.get("name", ""))
    return _account_page(request, new_secret=secret, status=201)


@require_POST
@login_required
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of your own tokens (whatever your roles now)."""
    if revoke_token(request.user, pk):
        messages.success(request, "Token revoked: requests signed with it now get 401.")
    else:
        messages.error(request, "You have no such token in use.")
    return redirect("account")
