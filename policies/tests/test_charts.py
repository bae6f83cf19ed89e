"""Chart geometry (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from policies.reading.charts import TimeAxis, history_chart, nice_ceiling, sparkline


def test_one_capture_is_a_dot_not_a_flat_line():
    spark = sparkline([2222])
    assert spark.path == ""
    assert (spark.last_x, spark.last_y) == (spark.width / 2, spark.height / 2)
    assert spark.label == "1 capture, 2,222 words"


def test_several_captures_are_a_line_ending_in_a_dot():
    spark = sparkline([10, 20, 15])
    assert spark.path.startswith("M2.0,")
    assert spark.path.count("L") == 2
    assert spark.label.startswith("3 captures, from 10 to 15 words")


def _captures(*rows):
    return [(datetime(y, m, d, tzinfo=UTC), words, changed) for (y, m, d), words, changed in rows]


def test_a_two_year_history_gets_ticks_per_season():
    chart = history_chart(
        _captures(((2018, 5, 18), 2222, None), ((2019, 1, 5), 2300, 120), ((2019, 12, 9), 2400, 80))
    )
    labels = [label for _, label, _ in chart.x_ticks]
    assert labels == ["Jul 2018", "Oct", "2019", "Apr", "Jul", "Oct"]
    xs = [x for x, _, _ in chart.x_ticks]
    assert xs == sorted(xs)
    assert all(chart.left <= x <= chart.right for x in xs)


def test_a_long_history_gets_ticks_per_year_or_more():
    axis = TimeAxis(
        [datetime(1999, 3, 1, tzinfo=UTC), datetime(2019, 3, 1, tzinfo=UTC)], 760, 66, 12
    )
    labels = [label for _, label in axis.ticks()]
    assert labels == ["2000", "2005", "2010", "2015"]
    short = TimeAxis(
        [datetime(2018, 1, 10, tzinfo=UTC), datetime(2018, 4, 20, tzinfo=UTC)], 760, 66, 12
    )
    assert [label for _, label in short.ticks()] == ["Feb 2018", "Mar", "Apr"]


def test_both_scales_are_round_and_start_at_their_panels_foot():
    chart = history_chart(
        _captures(((2018, 1, 1), 2222, None), ((2019, 1, 1), 1900, 321), ((2020, 1, 1), 2100, 95))
    )
    assert [label for _, label in chart.y_ticks] == ["0", "1,250", "2,500"]
    assert chart.y_ticks[0][0] == chart.plot_bottom  # 0 is the length panel's foot
    assert [label for _, label in chart.bar_ticks] == ["0", "500"]
    assert chart.bar_ticks[0][0] == chart.bar_baseline
    assert chart.bar_ticks[1][0] == chart.bar_top
    # The change panel sits wholly below the length panel, under its own title.
    assert chart.plot_bottom < chart.changes_title_y < chart.bar_top < chart.bar_baseline
    assert all(chart.bar_top <= bar.y <= chart.bar_baseline for bar in chart.bars)


def test_nice_ceiling_rounds_up_to_a_readable_number():
    assert [nice_ceiling(v) for v in (0, 1, 7, 10, 11, 321, 2222, 4800)] == [
        1,
        1,
        10,
        10,
        20,
        500,
        2500,
        5000,
    ]


def test_the_description_counts_one_change_in_the_singular():
    chart = history_chart(_captures(((2018, 1, 1), 10, None), ((2019, 1, 1), 12, 2)))
    assert "1 capture changed the text, the largest change 2 words." in chart.description


def test_the_first_and_last_bars_and_dots_stay_inside_the_plot():
    """The last capture's bar used to be centred on the plot's right edge, half of it past it."""
    for rows in (
        [((2018, 1, 1), 2000, None), ((2019, 12, 31), 2100, 900)],
        [((2018, 1, 1), 2000, 50), ((2018, 1, 2), 2100, 900)],  # a first capture with a change
        [((2010 + n // 12, n % 12 + 1, 1), 2000 + n, 10 + n) for n in range(120)],  # thin bars
    ):
        chart = history_chart(_captures(*rows))
        assert chart.bars[-1].height > 0
        for bar in chart.bars:
            assert chart.left <= bar.x
            assert bar.x + bar.width <= chart.right
        for point in chart.points:
            assert chart.left + 3 <= point.x <= chart.right - 3  # a dot's radius


def test_time_labels_near_the_plot_edges_are_aligned_inside_it():
    chart = history_chart(
        _captures(((2018, 1, 1), 2222, None), ((2019, 1, 1), 1900, 321), ((2020, 1, 1), 2100, 9))
    )
    ticks = {label: (x, anchor) for x, label, anchor in chart.x_ticks}
    assert ticks["2018"][1] == "start"  # at the left edge: drawn rightwards from its tick
    assert ticks["2019"][1] == "middle"
    assert ticks["2020"][1] == "end"  # at the right edge: drawn leftwards from its tick
    assert all(chart.left <= x <= chart.right for x, _ in ticks.values())
