"""The category model in service: training versions of it and serving the current one.

    train(labels="auto") -> SuggesterModel     a new version, trained and stored (or failed)
    current_model() -> Predictor | None        the latest ready version, cached per process
    Predictor.version: int
    Predictor.thresholds: dict[str, float]     per category, for clauses
    Predictor.predict(texts) -> list[list[tuple[str, float]]]
        for each clause text, the (category slug, score in 0..1) pairs at or above the
        category's threshold, best first
    maybe_train() -> bool                      enqueue training when enough new tags exist

The previous version serves until the new one is ready: a version is written as "training"
first, then becomes "ready" with its fitted model in one update, or "failed" with the error;
`current_model` only ever loads the latest ready one. What is learnt from: `examples.py`; how:
`classifier.py`.

`current_model()` costs one indexed query per call (the latest ready version number) and, when
that version is not the one this process holds, one more to load it (tens of milliseconds).
"""

from __future__ import annotations

import logging
import pickle  # nosec B403 -- only our own trainer's output is unpickled, see _load
import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from annotations.models import Category, SuggesterModel
from annotations.suggesting.examples import accepted_tags, training_data
from policies.pagecache import site_changed

if TYPE_CHECKING:
    from annotations.suggesting.classifier import Predictor

# scikit-learn, scipy and numpy (classifier.py) are imported when a model is trained or loaded,
# not with this module: the URLs import it (the page, the task), and every process that loads
# them would otherwise pay for them (seconds, and tens of megabytes).

__all__ = [
    "NEW_TAGS_TO_TRAIN",
    "Predictor",
    "TrainingError",
    "current_model",
    "maybe_train",
    "new_tags_since_last_model",
    "train",
]

logger = logging.getLogger(__name__)

# maybe_train enqueues a training once this many accepted tags were made since the last one.
NEW_TAGS_TO_TRAIN = 50
# A version still "training" after this long is taken to have died with its process.
TRAINING_TIMEOUT = timedelta(hours=1)

_lock = threading.Lock()
_loaded: Predictor | None = None


class TrainingError(RuntimeError):
    """There is nothing to train on."""


def _new_version(labels: str, user) -> SuggesterModel:
    """A new "training" row with the next version number (committed at once, so the history
    shows it while it trains); two trainings started together get different versions."""
    for _ in range(5):
        try:
            with transaction.atomic():
                latest = SuggesterModel.objects.aggregate(v=Max("version"))["v"] or 0
                return SuggesterModel.objects.create(
                    version=latest + 1, labels=labels, requested_by=user
                )
        except IntegrityError:
            continue
    raise TrainingError("could not allocate a model version")


def _fit(row: SuggesterModel) -> bytes:
    """Train on the labels the row names, fill in its counts and evaluation; the pickled
    predictor."""
    from annotations.suggesting import classifier

    data = training_data(row.labels)
    if not data.tags:
        raise TrainingError("no accepted tags to train on")
    categories = list(Category.objects.order_by("order", "slug").values_list("slug", flat=True))
    predictor = classifier.fit_predictor(data.corpus, categories)
    predictor.version = row.version
    corpus = data.corpus
    row.gold_captures, row.active_captures, row.tags = (
        data.gold_captures,
        data.active_captures,
        data.tags,
    )
    row.clauses, row.sections, row.negatives = (
        len(corpus.clauses),
        len(corpus.sections),
        len(corpus.negatives),
    )
    row.positives = corpus.positives()
    row.evaluation = {
        unit: head.evaluation | {"thresholds": head.thresholds}
        for unit, head in (("clause", predictor.clause), ("section", predictor.section))
    }
    return pickle.dumps(predictor, protocol=pickle.HIGHEST_PROTOCOL)


def train(labels: str = "auto", user=None) -> SuggesterModel:
    """Train a new version on the project's accepted tags (`examples.training_data`) and store
    it. On any error the version is stored as failed with the error, and the previous ready
    version keeps serving. Returns the new version's row."""
    row = _new_version(labels, user)
    started = time.perf_counter()
    try:
        blob = _fit(row)
    except Exception as exc:  # any failure must be recorded, not leave a "training" row
        logger.exception("training suggester v%s failed", row.version)
        row.status = SuggesterModel.Status.FAILED
        row.error = f"{type(exc).__name__}: {exc}"
        row.seconds = time.perf_counter() - started
        row.save()
        return row
    row.fitted, row.size = blob, len(blob)
    row.status = SuggesterModel.Status.READY
    row.seconds = time.perf_counter() - started
    row.trained_at = timezone.now()
    row.save()
    site_changed()  # taggers' stored pages show the new version's suggestions
    return row


def __getattr__(name: str):
    # `from annotations.suggesting.model import Predictor` works, importing scikit-learn then.
    if name == "Predictor":
        from annotations.suggesting.classifier import Predictor

        return Predictor
    raise AttributeError(name)


def _load(version: int) -> Predictor | None:
    fitted = (
        SuggesterModel.objects.ready()
        .filter(version=version)
        .values_list("fitted", flat=True)
        .first()
    )
    if fitted is None:
        return None
    # The bytes were written by `train` above into our own database (a BinaryField no form,
    # view or import writes): unpickling them is as safe as the database itself.
    predictor = pickle.loads(bytes(fitted))  # nosec B301
    predictor.version = version
    return predictor


def current_model() -> Predictor | None:
    """The latest ready version's predictor, or None before any. Loaded once per process and
    version; a newer ready version replaces it at the next call."""
    global _loaded
    latest = (
        SuggesterModel.objects.ready()
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    )
    if latest is None:
        return None
    loaded = _loaded
    if loaded is not None and loaded.version == latest:
        return loaded
    with _lock:
        if _loaded is None or _loaded.version != latest:
            try:
                _loaded = _load(latest) or _loaded
            except (
                Exception
            ):  # an unreadable version (e.g. another scikit-learn) must not break pages
                logger.exception("could not load suggester v%s", latest)
        return _loaded


def forget_loaded_model() -> None:
    """Drop this process's cached predictor (tests, and after deleting versions)."""
    global _loaded
    with _lock:
        _loaded = None


def new_tags_since_last_model() -> int:
    """Accepted tags made since the latest version (of any status) was started."""
    last = SuggesterModel.objects.order_by("-version").values_list("created_at", flat=True).first()
    tags = accepted_tags()
    if last is not None:
        tags = tags.filter(created_at__gt=last)
    return tags.count()


def training_running() -> bool:
    """Whether a version is training (and started within `TRAINING_TIMEOUT`)."""
    since = timezone.now() - TRAINING_TIMEOUT
    return SuggesterModel.objects.filter(
        status=SuggesterModel.Status.TRAINING, created_at__gte=since
    ).exists()


def maybe_train(threshold: int = NEW_TAGS_TO_TRAIN) -> bool:
    """Enqueue `train_suggester_task` when at least `threshold` accepted tags were made since
    the latest version and no training is running; True when it did. Cheap (two queries):
    call it after tagging, e.g. at the end of accepting suggestions."""
    from annotations.suggesting.tasks import train_suggester_task

    if training_running() or new_tags_since_last_model() < threshold:
        return False
    transaction.on_commit(lambda: train_suggester_task.enqueue())
    return True
