"""The one exception type of the text package.

Every parser raises a subclass of ``ParseError`` (itself a ``ValueError``) that carries a
stable, machine-readable ``code``: ingestion writes that code into the quarantine table, so the
codes are part of the public contract and must not be renamed casually.
"""

from __future__ import annotations


class ParseError(ValueError):
    """A value that cannot be normalised; ``code`` says why, ``value`` is the raw input."""

    def __init__(self, code: str, value: object = None, detail: str = "") -> None:
        self.code = code
        self.value = value
        self.detail = detail
        message = f"{code}: {value!r}"
        super().__init__(f"{message} ({detail})" if detail else message)


class DateParseError(ParseError):
    """A date that cannot be read or cannot exist."""


class IdParseError(ParseError):
    """A CCCD / CMND number that is not well formed."""


class PhoneParseError(ParseError):
    """A phone number that is not a Vietnamese mobile number."""


class AddressParseError(ParseError):
    """A commune that cannot be found in the provinces resolved in (the deployed ones)."""
