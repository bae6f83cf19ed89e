"""annotations.campaigns.agreement: each statistic against arithmetic done by hand."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotations.campaigns.agreement import (
    ALL,
    Unit,
    category_agreement,
    cohen_matrix,
    disagreements,
)

C = "data-retention"
D = "do-not-track"


def unit(key: str, **ratings: str) -> Unit:
    """A unit from annotator=categories, categories one letter each: "r" = C, "d" = D."""
    names = {"r": C, "d": D}
    return Unit(key, {a: frozenset(names[c] for c in tagged) for a, tagged in ratings.items()})


def row(units, category=C, categories=(C,)):
    return next(r for r in category_agreement(units, categories) if r.category == category)


# Four units, three annotators each; how many of the three tagged C: 3, 0, 2, 1.
FOUR_BY_THREE = [
    unit("u1", a="r", b="r", c="r"),
    unit("u2", a="", b="", c=""),
    unit("u3", a="r", b="r", c=""),
    unit("u4", a="r", b="", c=""),
]


def test_fleiss_kappa_of_four_units_by_three_annotators():
    # Per unit P_i = (sum_j n_ij^2 - n) / (n(n-1)), n = 3:
    #   u1 (3 yes, 0 no): (9 + 0 - 3)/6 = 1;  u2 (0, 3): 1;  u3 (2, 1): (4 + 1 - 3)/6 = 1/3;
    #   u4 (1, 2): 1/3.  P_bar = (1 + 1 + 1/3 + 1/3)/4 = 2/3.
    # p_yes = (3 + 0 + 2 + 1)/12 = 1/2, p_no = 1/2, P_e = 1/4 + 1/4 = 1/2.
    # kappa = (2/3 - 1/2)/(1 - 1/2) = 1/3.
    assert row(FOUR_BY_THREE).fleiss_kappa == pytest.approx(1 / 3)


def test_krippendorff_alpha_of_four_units_by_three_annotators():
    # Coincidences, each unit's ordered pairs of values divided by (m_u - 1) = 2:
    #   u1: o11 += 6/2 = 3;  u2: o00 += 3;  u3 (1,1,0): o11 += 1, o10 += 1, o01 += 1;
    #   u4 (1,0,0): o00 += 1, o01 += 1, o10 += 1.
    # o00 = 4, o11 = 4, o01 = o10 = 2; n = 12, n0 = n1 = 6.
    # D_o = (o01 + o10)/n = 4/12 = 1/3;  D_e = 2 n0 n1 / (n(n-1)) = 72/132 = 6/11.
    # alpha = 1 - D_o/D_e = 1 - 11/18 = 7/18.
    assert row(FOUR_BY_THREE).krippendorff_alpha == pytest.approx(7 / 18)


def test_percent_agreement_is_the_mean_share_of_agreeing_pairs():
    # Pairs agreeing per unit: 3/3, 3/3, 1/3 (only the two yeses), 1/3 -> mean 2/3.
    result = row(FOUR_BY_THREE)
    assert result.percent_agreement == pytest.approx(2 / 3)
    assert (result.units, result.annotators, result.note) == (4, 3, "")


# Varying annotator sets: u2 was rated by two annotators, u4 by one (so it is no unit at all).
UNEVEN = [
    unit("u1", a="r", b="r", c="r"),
    unit("u2", a="", b=""),
    unit("u3", a="r", b="", c=""),
    unit("u4", a="r"),
]


def test_krippendorff_alpha_uses_units_with_fewer_annotators():
    # u1: o11 += 3;  u2 (0,0), m_u = 2: o00 += 2/1 = 2;  u3 (1,0,0): o00 += 1, o01 += 1,
    # o10 += 1;  u4 has one value and pairs with nothing.
    # o00 = 3, o11 = 3, o01 = o10 = 1; n = 8, n0 = n1 = 4.
    # D_o = 2/8 = 1/4;  D_e = 2*4*4/(8*7) = 4/7;  alpha = 1 - (1/4)/(4/7) = 9/16.
    assert row(UNEVEN).krippendorff_alpha == pytest.approx(9 / 16)


def test_fleiss_kappa_uses_the_units_with_the_most_common_number_of_annotators():
    # Three annotators in u1 and u3 (u2 has two and is left out): counts (3 yes, 0 no) and
    # (1, 2).  P_1 = 1, P_3 = 1/3, P_bar = 2/3;  p_yes = 4/6, p_no = 2/6,
    # P_e = 4/9 + 1/9 = 5/9;  kappa = (2/3 - 5/9)/(4/9) = 1/4.
    result = row(UNEVEN)
    assert result.fleiss_kappa == pytest.approx(1 / 4)
    assert result.note == "Fleiss' kappa over the 2 units with 3 annotators (1 left out)"
    # Percent agreement over u1, u2, u3: (1 + 1 + 1/3)/3 = 7/9; u4 is not a unit.
    assert result.percent_agreement == pytest.approx(7 / 9)
    assert (result.units, result.annotators) == (3, 3)


def test_agreement_everywhere_with_variation_across_units_is_one():
    units = [unit("u1", a="r", b="r"), unit("u2", a="", b=""), unit("u3", a="r", b="r")]
    result = row(units)
    assert result.fleiss_kappa == pytest.approx(1.0)
    assert result.krippendorff_alpha == pytest.approx(1.0)
    assert result.percent_agreement == 1.0


def test_a_category_nobody_used_has_undefined_kappa_and_full_agreement():
    result = row(FOUR_BY_THREE, category=D, categories=(C, D))
    assert result.fleiss_kappa is None
    assert result.krippendorff_alpha is None
    assert result.percent_agreement == 1.0
    assert result.note == "undefined: no variation, no annotator tagged it in any unit"
    assert result.units == 4


def test_a_category_everybody_used_everywhere_is_undefined_too():
    units = [unit("u1", a="r", b="r"), unit("u2", a="r", b="r")]
    result = row(units)
    assert (result.fleiss_kappa, result.krippendorff_alpha) == (None, None)
    assert "every annotator tagged it in every unit" in result.note


def test_no_unit_with_two_annotators_gives_an_empty_row():
    result = row([unit("u1", a="r")])
    assert (result.units, result.annotators, result.percent_agreement) == (0, 0, None)
    assert result.note == "no unit with two annotators"


def test_rows_follow_the_categories_then_all_and_ignore_other_categories():
    units = [unit("u1", a="rd", b="r"), unit("u2", a="", b="d")]
    assert [r.category for r in category_agreement(units, [D, C])] == [D, C, ALL]
    assert row(units, C) == row(units, C, categories=(C, D))


def expand(units, categories):
    """Each (unit, category) as a unit of its own with the single category C."""
    return [
        Unit(
            f"{u.key}/{category}",
            {
                a: frozenset([C]) if category in tagged else frozenset()
                for a, tagged in u.ratings.items()
            },
        )
        for u in units
        for category in categories
    ]


def test_all_pools_every_unit_and_category_pair_as_one_item():
    # Two categories over FOUR_BY_THREE plus D in two units: the pooled row equals the row of
    # eight single-category units, one per (unit, category).
    units = [*FOUR_BY_THREE[:2], unit("u3", a="rd", b="r", c="d"), unit("u4", a="r", b="d", c="")]
    pooled = row(units, ALL, categories=(C, D))
    single = row(expand(units, (C, D)), C)
    assert pooled.fleiss_kappa == pytest.approx(single.fleiss_kappa)
    assert pooled.krippendorff_alpha == pytest.approx(single.krippendorff_alpha)
    assert pooled.percent_agreement == pytest.approx(single.percent_agreement)
    assert (pooled.units, single.units) == (4, 8)


def test_cohen_kappa_between_two_annotators_by_hand():
    # a: 1 1 0 0 1 0,  b: 1 0 0 0 1 1 over six units.  Observed agreement 4/6 = 2/3.
    # Each says yes three times of six: p_e = (1/2)(1/2) + (1/2)(1/2) = 1/2.
    # kappa = (2/3 - 1/2)/(1 - 1/2) = 1/3.
    a, b = "rr  r ", "r   rr"
    units = [unit(f"u{n}", a=a[n].strip(), b=b[n].strip()) for n in range(6)]
    assert cohen_matrix(units, [C]) == {
        ("a", "b"): pytest.approx(1 / 3),
        ("b", "a"): pytest.approx(1 / 3),
    }


def test_cohen_matrix_covers_categories_and_only_shared_units():
    units = [
        unit("u1", a="r", b="r", c="d"),
        unit("u2", a="d", b="d"),
        unit("u3", b="", c=""),
    ]
    matrix = cohen_matrix(units, [C, D])
    # a and b agree on all four (unit, category) items with variation: 1.
    assert matrix[("a", "b")] == pytest.approx(1.0)
    # a and c share u1 only: a (C=1, D=0), c (C=0, D=1): p_o = 0, p_e = 1/2, kappa = -1.
    assert matrix[("c", "a")] == pytest.approx(-1.0)
    assert set(matrix) == {(x, y) for x in "abc" for y in "abc" if x != y}


def test_cohen_kappa_is_none_without_shared_units_or_variation():
    units = [unit("u1", a="r", b="r"), unit("u2", c="", d=""), unit("u3", a="r", b="r")]
    matrix = cohen_matrix(units, [C])
    assert matrix[("a", "b")] is None  # both said yes to everything: 0/0
    assert matrix[("a", "c")] is None  # never rated the same unit


def test_disagreements_come_most_disputed_first():
    units = [
        unit("u1", a="r", b="r", c="r"),
        unit("u2", a="r", b="", c="", d=""),  # C: 3 of 6 pairs disagree = 1/2
        unit("u3", a="r", b="d"),  # C and D: 1 of 1 pair disagrees
        unit("u4", a="d", b="", c=""),  # D: 2 of 3 pairs
        unit("u5", a="r", b="", c=""),  # C: 2 of 3 pairs
    ]
    found = [(u.key, category, score) for u, category, score in disagreements(units, [C, D], 10)]
    assert found == [
        ("u3", C, 1.0),
        ("u3", D, 1.0),
        ("u4", D, pytest.approx(2 / 3)),
        ("u5", C, pytest.approx(2 / 3)),
        ("u2", C, 0.5),
    ]
    assert [u.key for u, _, _ in disagreements(units, [C, D], 2)] == ["u3", "u3"]
    assert disagreements(units, [C, D], 0) == []


def test_more_disputed_units_come_first_among_equal_scores():
    units = [unit("u1", a="r", b="", c=""), unit("u2", a="r", b="d", c="")]
    assert [(u.key, c) for u, c, _ in disagreements(units, [C, D], 5)] == [
        ("u2", C),
        ("u2", D),
        ("u1", C),
    ]


ratings = st.dictionaries(
    st.sampled_from("abcde"), st.frozensets(st.sampled_from([C, D])), min_size=0, max_size=5
)


@given(st.lists(ratings, max_size=12))
def test_statistics_stay_in_range_and_undefined_only_without_variation(rated):
    units = [Unit(f"u{n}", r) for n, r in enumerate(rated)]
    for result in category_agreement(units, [C, D]):
        if result.percent_agreement is not None:
            assert 0.0 <= result.percent_agreement <= 1.0
        if result.krippendorff_alpha is not None:
            assert -1.0 - 1e-9 <= result.krippendorff_alpha <= 1.0 + 1e-9
        if result.fleiss_kappa is not None:
            assert -1.0 - 1e-9 <= result.fleiss_kappa <= 1.0 + 1e-9
        if result.units and result.krippendorff_alpha is None:
            assert result.percent_agreement == 1.0
    for _, _, score in disagreements(units, [C, D], 100):
        assert 0.0 < score <= 1.0
