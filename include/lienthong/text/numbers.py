"""Numbers as Vietnamese readers write them: dot thousands, comma decimals (1.234,5)."""
from __future__ import annotations


def vn_number(value) -> str:
    """Vietnamese number format: dot thousands, comma decimals; booleans as có/không, None as ''."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else ("có" if value else "không")
    if hasattr(value, "as_tuple") and value == value.to_integral_value():
        value = int(value)  # PostgreSQL sums come back as Decimal
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    if isinstance(value, float) or hasattr(value, "as_tuple"):
        return f"{float(value):,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    return str(value)


def vn_percent(part, whole=1) -> str:
    """part / whole as a percentage with one decimal (12,3%); '–' when whole is 0 or missing."""
    return f"{100 * part / whole:.1f}%".replace(".", ",") if whole else "–"
