"""Suggestions: categories proposed for clauses from what the corpus already knows.

- `wording`: pure: a clause's normalised wording key, its MinHash bands, similarity.
- `index`: the wording index (every clause of every text by its wording) and the tagged
  clauses' index that suggestions are looked up in.
- `suggestions`: what a capture's reader is offered, accepting and rejecting.
- `model`: the category model trained on the project's own tags (scikit-learn).
"""
