"""METRC package tags ("Label"): 24 upper-case letters and digits.

Real tags are ``1A4`` + 21 hex characters, but METRC's own examples and sandboxes use other
24-character strings, so the strict pattern is a setting (``strict_tags``).
"""

from __future__ import annotations

import re

from backoffice.errors import ValidationError

TAG_LENGTH = 24
_LOOSE = re.compile(r"^[A-Z0-9]{24}$")
_STRICT = re.compile(r"^1A4[0-9A-F]{21}$")


def normalize_tag(raw: str) -> str:
    """Strip scanner noise (whitespace, GS1 symbology prefix) without changing the tag."""
    text = raw.strip()
    if text.startswith("]C1"):  # AIM symbology identifier some scanners prepend for GS1-128
        text = text[3:]
    return text.replace("\x1d", "")


def tag_problem(tag: str, *, strict: bool = False) -> str | None:
    """Why ``tag`` is not a valid METRC tag, or None when it is."""
    if len(tag) != TAG_LENGTH:
        return f"a METRC tag has {TAG_LENGTH} characters, this one has {len(tag)}"
    if not _LOOSE.match(tag):
        if _LOOSE.match(tag.upper()):
            return "a METRC tag is upper-case; this one has lower-case letters"
        return "a METRC tag holds only letters A–Z and digits 0–9"
    if strict and not _STRICT.match(tag):
        return "strict tag check is on: a tag must be 1A4 followed by 21 hex characters"
    return None


def validate_tag(raw: str, *, strict: bool = False) -> str:
    """Return the normalized tag or raise ValidationError saying what is wrong."""
    tag = normalize_tag(raw)
    problem = tag_problem(tag, strict=strict)
    if problem:
        raise ValidationError(f"{tag!r} is not a METRC tag: {problem}.")
    return tag


def is_tag(raw: str, *, strict: bool = False) -> bool:
    return tag_problem(normalize_tag(raw), strict=strict) is None
