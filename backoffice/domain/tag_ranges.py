"""Tag orders: package tags written one per line or as ``FIRST-LAST`` ranges.

METRC delivers a tag order as a sequence: the tags share a prefix (``1A4`` and the
facility's part) and end in a serial number, counted in hexadecimal or in decimal. A range
is expanded by counting from FIRST's serial to LAST's, keeping the serial's width. The
serial is what follows the tags' common prefix; it is counted in hexadecimal when either
end has a letter A–F in it, in decimal otherwise (a store whose serials are hexadecimal but
happen to be all digits at both ends writes the tags one per line, or splits the range).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from backoffice.domain.tags import TAG_LENGTH, normalize_tag, tag_problem

MAX_RANGE = 10_000
PREFIX_LENGTH = 14  # 1A4 and the facility's part: the tags of one order agree on these
_RANGE = re.compile(r"^\s*([^\s\-–]+)\s*[-–]\s*([^\s\-–]+)\s*$")
_HEX_LETTERS = set("ABCDEF")


class TagLineError(ValueError):
    """A line of a tag order that is not a tag or a range; the message says why."""


@dataclass(frozen=True)
class TagLine:
    number: int  # 1-based line number in the file
    tags: tuple[str, ...]


def expand_line(text: str, *, strict: bool = False) -> tuple[str, ...]:
    """The tags a line stands for: one tag, or every tag of a ``FIRST-LAST`` range."""
    match = _RANGE.match(text)
    if match is None:
        return (_tag(text, strict),)
    first, last = _tag(match.group(1), strict), _tag(match.group(2), strict)
    return expand_range(first, last)


def expand_range(first: str, last: str) -> tuple[str, ...]:
    common = 0
    while common < TAG_LENGTH and first[common] == last[common]:
        common += 1
    if common == TAG_LENGTH:
        return (first,)
    if common < PREFIX_LENGTH:
        raise TagLineError(
            f"{first} and {last} do not share a prefix (they differ from character {common + 1}); "
            "a range is one tag order: tags that differ only in their last characters"
        )
    low, high = first[common:], last[common:]
    base = 16 if _HEX_LETTERS & set(low + high) else 10
    try:
        start, stop = int(low, base), int(high, base)
    except ValueError:
        raise TagLineError(
            f"{first}-{last}: the tags' last characters ({low}, {high}) are not a "
            f"{'hexadecimal' if base == 16 else 'decimal'} sequence"
        ) from None
    if stop < start:
        raise TagLineError(f"{first}-{last}: the last tag comes before the first; write FIRST-LAST")
    count = stop - start + 1
    if count > MAX_RANGE:
        raise TagLineError(f"{first}-{last} is {count:,} tags; a range holds at most {MAX_RANGE:,}: split it")
    width, prefix = len(low), first[:common]
    spec = f"0{width}{'X' if base == 16 else 'd'}"
    return tuple(prefix + format(n, spec) for n in range(start, stop + 1))


def _tag(raw: str, strict: bool) -> str:
    tag = normalize_tag(raw)
    problem = tag_problem(tag, strict=strict)
    if problem:
        raise TagLineError(f"{tag!r} is not a METRC tag: {problem}")
    return tag


def parse_tag_order(text: str, *, strict: bool = False) -> tuple[list[TagLine], list[tuple[int, str]]]:
    """Every line of a tag order, and the bad lines as (line number, why).

    A line holds a tag or a range; in a CSV file the first cell counts and the rest is
    ignored. Blank lines, ``#`` comments and a header line (``Tag``, ``Label``) are skipped."""
    lines: list[TagLine] = []
    bad: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        cell = raw.split(",", 1)[0].strip().strip('"').strip()
        if not cell or cell.startswith("#"):
            continue
        if not lines and not bad and cell.lower() in ("tag", "tags", "label", "labels", "package tag"):
            continue
        try:
            lines.append(TagLine(number, expand_line(cell, strict=strict)))
        except TagLineError as exc:
            bad.append((number, str(exc)))
    return lines, bad
