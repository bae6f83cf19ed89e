"""The category classifier: texts and their categories in, a fitted predictor out.

Pure module: texts, label sets and group names in, numbers out; no ORM, no request.

Units: sections (all their categories) and the clauses they are made of (the categories of
the tags on each clause). A predictor has a head for each: `predict` scores clauses (what
suggestions are made on), `predict_sections` whole sections (what the field's figures are
measured on).

Features (`Vectorizer`): TF-IDF over word 1-2-grams and char_wb 3-5-grams side by side,
vocabularies capped so the fitted model stays small (`WORD_FEATURES`, `CHAR_FEATURES`).
Per category a logistic regression fitted by stochastic gradient descent (scikit-learn's
`SGDClassifier(loss="log_loss")`, balanced class weights: most categories are rare), and a
threshold chosen on held-out predictions: the texts are split by group (company), each fold is
predicted by a regression fitted without it (`INNER_FOLDS` folds) and the threshold that
maximises the category's F1 on those predictions is kept. SGD rather than liblinear: on the
OPP-115-sized corpus each liblinear fit took three to four times as long, for a macro-F1 on the
three-policy excerpt that was no better (docs/benchmarks.md).

A fitted head is, per category, a weight vector and an intercept (float32 matrices, not
scikit-learn estimators): a score is sigmoid(x . w + b), the regression's `predict_proba`, so
it is in 0..1.

Explicit negatives (suggestions a reviewer rejected) are extra examples of "not this category"
for that category alone, weighted `NEGATIVE_WEIGHT` times an ordinary example: a person said no
to exactly this.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.special import expit
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import FeatureUnion
from threadpoolctl import threadpool_limits

__all__ = [
    "Corpus",
    "Head",
    "Predictor",
    "Vectorizer",
    "baseline_predict",
    "best_threshold",
    "fit_predictor",
    "prf",
]

WORD_FEATURES = 60_000
CHAR_FEATURES = 150_000
INNER_FOLDS = 3
NEGATIVE_WEIGHT = 3.0
ALPHA = 1e-5
# A threshold is never tuned outside these bounds (a handful of held-out positives can
# otherwise push it to an extreme).
THRESHOLD_RANGE = (0.05, 0.95)
DEFAULT_THRESHOLD = 0.5


@dataclass
class Corpus:
    """Sections with their categories and group (e.g. the company: related texts stay on one
    side of every held-out split), each with its clauses and theirs; `negatives` are (text,
    category) pairs: explicit "not this category" examples for that category alone."""

    sections: list[str] = field(default_factory=list)
    section_labels: list[frozenset[str]] = field(default_factory=list)
    companies: list[str] = field(default_factory=list)
    clauses: list[str] = field(default_factory=list)
    clause_labels: list[frozenset[str]] = field(default_factory=list)
    clause_section: list[int] = field(default_factory=list)  # index into sections
    negatives: list[tuple[str, str]] = field(default_factory=list)

    def add_section(self, text: str, labels, group: str, clauses) -> None:
        """A section's text, categories and group, and its clauses as (text, categories)."""
        self.sections.append(text)
        self.section_labels.append(frozenset(labels))
        self.companies.append(group)
        for clause, clause_labels in clauses:
            self.clauses.append(clause)
            self.clause_labels.append(frozenset(clause_labels))
            self.clause_section.append(len(self.sections) - 1)

    def subset(self, rows: Sequence[int]) -> Corpus:
        """The corpus of the given sections (and their clauses), negatives kept."""
        part = Corpus(negatives=list(self.negatives))
        by_section: dict[int, list[int]] = {}
        for i, k in enumerate(self.clause_section):
            by_section.setdefault(k, []).append(i)
        for k in rows:
            clauses = [(self.clauses[i], self.clause_labels[i]) for i in by_section.get(k, [])]
            part.add_section(self.sections[k], self.section_labels[k], self.companies[k], clauses)
        return part

    def positives(self) -> dict[str, dict[str, int]]:
        """Per category, how many sections and clauses have it."""
        counts: dict[str, dict[str, int]] = {}
        for unit, labels in (("sections", self.section_labels), ("clauses", self.clause_labels)):
            for label_set in labels:
                for slug in label_set:
                    counts.setdefault(slug, {"sections": 0, "clauses": 0})[unit] += 1
        return dict(sorted(counts.items()))


class Vectorizer:
    """Counts of word 1-2-grams and char_wb 3-5-grams, weighted by TF-IDF (sublinear term
    frequencies, idf from sections, each row of unit length).

    Sections are vectorised as the sum of their clauses' counts, so each text is analysed once
    (the analysers are pure Python and are most of the training time)."""

    def __init__(self) -> None:
        self.counts = FeatureUnion(
            [
                (
                    "words",
                    CountVectorizer(
                        ngram_range=(1, 2), min_df=2, max_features=WORD_FEATURES, dtype=np.float32
                    ),
                ),
                (
                    "chars",
                    CountVectorizer(
                        analyzer="char_wb",
                        ngram_range=(3, 5),
                        min_df=2,
                        max_features=CHAR_FEATURES,
                        dtype=np.float32,
                    ),
                ),
            ]
        )
        self.weights = TfidfTransformer(sublinear_tf=True)

    @property
    def width(self) -> int:
        return sum(len(part.vocabulary_) for _, part in self.counts.transformer_list)

    def fit(self, clauses: list[str], sections: list[int], count: int, extra: list[str]):
        """Fit on the clause texts (and `extra` texts), `sections[i]` being the index of clause
        i's section among `count` sections; returns the clause and section matrices."""
        counts = self.counts.fit_transform(clauses + extra)
        # scikit-learn keeps every term cut by min_df/max_features "for introspection":
        # millions of strings that would dominate the stored model and its memory.
        for _, part in self.counts.transformer_list:
            part.stop_words_ = None
        clause_counts = counts[: len(clauses)]
        membership = sparse.csr_matrix(
            (np.ones(len(sections), dtype=np.float32), (sections, np.arange(len(sections)))),
            shape=(count, len(clauses)),
        )
        section_counts = membership @ clause_counts
        self.weights.fit(section_counts)
        extra_counts = counts[len(clauses) :]
        return (
            self.weights.transform(clause_counts).astype(np.float32),
            self.weights.transform(section_counts).astype(np.float32),
            self.weights.transform(extra_counts).astype(np.float32)
            if extra
            else sparse.csr_matrix(extra_counts.shape, dtype=np.float32),
        )

    def transform(self, texts: list[str]):
        return self.weights.transform(self.counts.transform(texts)).astype(np.float32)


def _regression() -> SGDClassifier:
    return SGDClassifier(loss="log_loss", alpha=ALPHA, class_weight="balanced", random_state=0)


@dataclass
class Head:
    """One unit's regressions (clauses or sections): per category a column of `weights`, an
    intercept and the tuned threshold; `evaluation` holds the held-out figures."""

    categories: list[str]
    weights: np.ndarray  # features x categories, float32
    intercepts: np.ndarray  # categories, float32
    thresholds: dict[str, float]
    evaluation: dict = field(default_factory=dict)

    def scores(self, features) -> np.ndarray:
        """Texts x categories, each in 0..1."""
        return expit(np.asarray(features @ self.weights, dtype=np.float64) + self.intercepts)


def best_threshold(scores: np.ndarray, truth: np.ndarray) -> float:
    """The threshold in `THRESHOLD_RANGE` that maximises F1 of `scores >= t` against `truth`
    (booleans); `DEFAULT_THRESHOLD` without a positive. Ties go to the higher threshold (fewer,
    surer suggestions)."""
    positives = int(truth.sum())
    if positives == 0:
        return DEFAULT_THRESHOLD
    low, high = THRESHOLD_RANGE
    best, best_f1 = DEFAULT_THRESHOLD, -1.0
    for t in np.unique(np.clip(scores, low, high))[::-1]:
        chosen = scores >= t
        f1 = 2 * int((chosen & truth).sum()) / (int(chosen.sum()) + positives)
        if f1 > best_f1:
            best, best_f1 = float(t), f1
    return best


def prf(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float | int]:
    """Precision, recall and F1 of boolean predictions (0 where undefined), with support."""
    hits = int((predicted & truth).sum())
    chosen, positives = int(predicted.sum()), int(truth.sum())
    return {
        "precision": round(hits / chosen, 4) if chosen else 0.0,
        "recall": round(hits / positives, 4) if positives else 0.0,
        "f1": round(2 * hits / (chosen + positives), 4) if chosen + positives else 0.0,
        "support": positives,
    }


def macro_f1(figures: dict[str, dict]) -> float | None:
    """Mean F1 over the categories that have a positive example."""
    values = [f["f1"] for f in figures.values() if f["support"]]
    return round(float(np.mean(values)), 4) if values else None


@dataclass
class _Design:
    """One head's training rows: features, label sets, groups, and the explicit negatives
    (their features and categories)."""

    features: sparse.csr_matrix
    labels: list[frozenset[str]]
    companies: list[str]
    negatives: sparse.csr_matrix
    negative_labels: list[str]

    def rows(self, slug: str, keep: np.ndarray | None = None):
        """Features, targets and weights of `slug`'s regression over the rows `keep`, plus the
        category's explicit negatives."""
        keep = np.arange(self.features.shape[0]) if keep is None else keep
        y = np.fromiter((slug in self.labels[i] for i in keep), dtype=bool, count=len(keep))
        extra = [i for i, s in enumerate(self.negative_labels) if s == slug]
        features = self.features[keep]
        weight = np.ones(len(keep) + len(extra))
        if extra:
            features = sparse.vstack([features, self.negatives[extra]], format="csr")
            y = np.concatenate([y, np.zeros(len(extra), dtype=bool)])
            weight[len(keep) :] = NEGATIVE_WEIGHT
        return features, y, weight


def _fit_one(features, y, weight) -> tuple[np.ndarray, float] | None:
    if y.all() or not y.any():
        return None
    model = _regression().fit(features, y, sample_weight=weight)
    return model.coef_[0].astype(np.float32), float(model.intercept_[0])


def _folds(groups: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Held-out splits by group; by row when there are too few groups to split."""
    keys = list(groups) if len(set(groups)) >= INNER_FOLDS else [str(i) for i in range(len(groups))]
    splits = min(INNER_FOLDS, len(set(keys)))
    if splits < 2:
        return []
    return list(GroupKFold(n_splits=splits).split(np.zeros(len(keys)), groups=keys))


def _held_out(design: _Design, slug: str, folds) -> np.ndarray:
    """Each row's score for `slug` from a regression fitted without the row's fold."""
    out = np.zeros(design.features.shape[0])
    for train, test in folds:
        fitted = _fit_one(*design.rows(slug, train))
        if fitted is not None:
            w, b = fitted
            out[test] = expit(design.features[test] @ w + b)
    return out


def _fit_head(design: _Design, categories: Sequence[str]) -> Head:
    """One regression per category with both positives and negatives, its threshold tuned on
    held-out predictions, whose precision, recall and F1 at that threshold are recorded
    (optimistic by the tuning: `evaluation.py` measures without it)."""
    folds = _folds(design.companies)
    kept, columns, intercepts, thresholds, figures = [], [], [], {}, {}
    for slug in categories:
        fitted = _fit_one(*design.rows(slug))
        if fitted is None:
            continue
        kept.append(slug)
        columns.append(fitted[0])
        intercepts.append(fitted[1])
        thresholds[slug] = DEFAULT_THRESHOLD
        if folds:
            truth = np.fromiter((slug in ls for ls in design.labels), dtype=bool)
            held = _held_out(design, slug, folds)
            thresholds[slug] = round(best_threshold(held, truth), 4)
            figures[slug] = prf(held >= thresholds[slug], truth)
    width = design.features.shape[1]
    weights = np.column_stack(columns) if columns else np.zeros((width, 0))
    return Head(
        kept,
        weights.astype(np.float32),
        np.asarray(intercepts, dtype=np.float32),
        thresholds,
        {"categories": figures, "macro_f1": macro_f1(figures)},
    )


@dataclass(eq=False)
class Predictor:
    """A fitted category model: `predict` scores clauses, `predict_sections` sections.
    `version` is the stored model's version (0 for one never stored). Compared and hashed
    as itself (a fitted model never changes), so its predictions can be kept per predictor."""

    vectorizer: Vectorizer
    clause: Head
    section: Head
    version: int = 0

    @property
    def thresholds(self) -> dict[str, float]:
        """The clause thresholds: a category is suggested for a clause at or above its own."""
        return self.clause.thresholds

    def predict(self, texts: list[str]) -> list[list[tuple[str, float]]]:
        """For each clause text, the (category slug, score in 0..1) pairs at or above that
        category's threshold, best first."""
        return self._above(self.clause, texts)

    def predict_sections(self, texts: list[str]) -> list[list[tuple[str, float]]]:
        """The same for whole sections, with the section thresholds."""
        return self._above(self.section, texts)

    def scores(self, texts: list[str]) -> list[dict[str, float]]:
        """Every category's clause score for each text, thresholds ignored."""
        matrix = self.clause.scores(self.vectorizer.transform(texts)) if texts else []
        return [dict(zip(self.clause.categories, map(float, row), strict=True)) for row in matrix]

    def _above(self, head: Head, texts: list[str]) -> list[list[tuple[str, float]]]:
        if not texts or not head.categories:
            return [[] for _ in texts]
        scores = head.scores(self.vectorizer.transform(texts))
        limits = np.array([head.thresholds[s] for s in head.categories])
        out = []
        for row in scores:
            pairs = [
                (head.categories[k], round(float(row[k]), 4)) for k in np.flatnonzero(row >= limits)
            ]
            out.append(sorted(pairs, key=lambda p: (-p[1], p[0])))
        return out


def fit_predictor(corpus: Corpus, categories: Sequence[str]) -> Predictor:
    """Fit the vectorizer on the clauses and negatives, then a clause head and a section head
    (explicit negatives count for both), on one thread per process (BLAS threads fighting over
    two busy cores made it several times slower)."""
    with threadpool_limits(1):
        vectorizer = Vectorizer()
        clauses, sections, negatives = vectorizer.fit(
            corpus.clauses,
            corpus.clause_section,
            len(corpus.sections),
            [text for text, _ in corpus.negatives],
        )
        negative_labels = [slug for _, slug in corpus.negatives]
        clause_groups = [corpus.companies[k] for k in corpus.clause_section]
        heads = [
            _fit_head(_Design(x, labels, groups, negatives, negative_labels), categories)
            for x, labels, groups in (
                (clauses, corpus.clause_labels, clause_groups),
                (sections, corpus.section_labels, corpus.companies),
            )
        ]
    return Predictor(vectorizer, heads[0], heads[1])


def baseline_predict(
    train_texts: list[str],
    train_labels: list[frozenset[str]],
    test_texts: list[str],
    categories: Sequence[str],
) -> list[set[str]]:
    """The issue's reference: TF-IDF word 1-2-grams, one default logistic regression per
    category, no tuning (probability >= 0.5)."""
    with threadpool_limits(1):
        vectorizer = TfidfVectorizer(ngram_range=(1, 2))
        train = vectorizer.fit_transform(train_texts)
        test = vectorizer.transform(test_texts)
        predicted: list[set[str]] = [set() for _ in test_texts]
        for slug in categories:
            y = np.fromiter((slug in ls for ls in train_labels), dtype=bool)
            if y.all() or not y.any():
                continue
            for i in np.flatnonzero(LogisticRegression(max_iter=1000).fit(train, y).predict(test)):
                predicted[i].add(slug)
    return predicted
