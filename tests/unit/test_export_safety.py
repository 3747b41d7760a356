"""CSV cells a spreadsheet shows and never runs, for any text (storage/export.csv_cell)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from storage.export import csv_cell

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


@given(st.text(max_size=30))
def test_no_text_cell_starts_a_formula_and_nothing_is_lost(text: str) -> None:
    cell = csv_cell(text)
    if cell != text:
        assert cell == "'" + text
    try:
        float(text)
        number = text.strip() == text and text.isascii() and "_" not in text
    except ValueError:
        number = False
    if cell.startswith(DANGEROUS):
        assert number, f"{text!r} would be evaluated"


@given(st.integers() | st.floats(allow_nan=False) | st.none())
def test_numbers_and_empty_cells_are_never_touched(value: int | float | None) -> None:
    assert csv_cell(value) is value


def test_plain_negative_numbers_in_text_stay_numbers() -> None:
    assert csv_cell("-1.5") == "-1.5"
    assert csv_cell("+3") == "+3"
    assert csv_cell("-1+2") == "'-1+2"
    assert csv_cell("-inf") == "'-inf"
