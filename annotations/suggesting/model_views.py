"""The category model's page (`/suggestions/`): the version serving, its figures, the
training history; and "Train now" for curators."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from annotations.suggesting.model import training_running
from annotations.suggesting.overview import model_overview
from annotations.suggesting.tasks import train_suggester_task
from policies.permissions import can_train_suggester, permission_required


@require_GET
@permission_required("see_suggester")
def suggester(request: HttpRequest) -> HttpResponse:
    context = {"overview": model_overview(), "can_train": can_train_suggester(request.user)}
    return render(request, "annotations/suggesting/suggester.html", context)


@require_POST
@permission_required("train_suggester")
def suggester_train(request: HttpRequest) -> HttpResponse:
    if training_running():
        messages.info(request, "A version is training already; it appears below when ready.")
    else:
        train_suggester_task.enqueue(labels="auto", user_id=request.user.pk)
        messages.success(request, "Training started; the new version serves once it is ready.")
    return redirect("suggester")
