"""Tag orders: single tags and FIRST-LAST ranges, hexadecimal or decimal, and the lines refused."""

from __future__ import annotations

import pytest

from backoffice.domain.tag_ranges import MAX_RANGE, TagLineError, expand_line, parse_tag_order

P = "1A406030000000000009"  # 20 characters: a prefix with a four-character serial after it


def test_a_decimal_range_counts_in_decimal_and_keeps_the_width() -> None:
    assert expand_line(f"{P}0098-{P}0102") == tuple(f"{P}{n:04d}" for n in (98, 99, 100, 101, 102))


def test_a_hex_range_counts_in_hex() -> None:
    assert expand_line(f"{P}00FE - {P}0101") == (f"{P}00FE", f"{P}00FF", f"{P}0100", f"{P}0101")
    assert expand_line(f"{P}0009–{P}000B") == (f"{P}0009", f"{P}000A", f"{P}000B")  # en dash as typed in Word


def test_single_tags_and_a_range_of_one() -> None:
    assert expand_line(f"  {P}0001 ") == (f"{P}0001",)
    assert expand_line(f"{P}0001-{P}0001") == (f"{P}0001",)
    assert len(expand_line(f"{P}0000-{P}{MAX_RANGE - 1:04d}")) == MAX_RANGE


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (f"{P}0005-{P}0001", "comes before the first"),
        (f"1A40603000000000000{0:05d}-1A40603000000000000{MAX_RANGE:05d}", "at most 10,000"),
        (f"{P}0001-1A4070300000000000090009", "do not share a prefix"),
        (f"{P}00G1-{P}00H1", "not a decimal sequence"),
        (f"{P}00A1-{P}00H1", "not a hexadecimal sequence"),
        (f"{P}0001-{P}000", "24 characters"),
        (f"{P}0001-", "not a METRC tag"),
        ("1a4060300000000000090001", "upper-case"),
        ("hello", "24 characters"),
    ],
)
def test_bad_lines_say_why(line: str, why: str) -> None:
    with pytest.raises(TagLineError, match=why):
        expand_line(line)


def test_strict_tags_apply_to_both_ends() -> None:
    with pytest.raises(TagLineError, match="strict"):
        expand_line("ABCDEF000000000000000001-ABCDEF000000000000000003", strict=True)
    assert len(expand_line("ABCDEF000000000000000001-ABCDEF000000000000000003")) == 3


def test_a_file_names_every_bad_line_and_skips_headers_comments_and_blanks() -> None:
    text = f"Tag,Note\n\n# order 4411\n{P}0001,first box\n{P}0002-{P}0004\nnot a tag\n{P}0009-{P}0007\n"
    lines, bad = parse_tag_order(text)
    assert [(ln.number, len(ln.tags)) for ln in lines] == [(4, 1), (5, 3)]
    assert [n for n, _ in bad] == [6, 7]
    assert "comes before" in bad[1][1]
