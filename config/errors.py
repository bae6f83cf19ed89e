"""Error pages that need more than Django's defaults (named in config/urls.py)."""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The 400 page. A view's `BadRequest` is written for people (it names the parameter and
    what it expected), so the page shows it; Django's own 400s (a suspicious host, a malformed
    upload) carry messages meant for the log, so the page shows none. Never a traceback."""
    reason = str(exception) if isinstance(exception, BadRequest) else ""
    return render(request, "400.html", {"reason": reason}, status=400)
