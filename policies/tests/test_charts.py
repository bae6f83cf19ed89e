"""Chart geometry (pure)."""

from __future__ import annotations

from policies.reading.charts import sparkline


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
