"""Firmware 3.x: production from the gateway's HTML page `/production`, the only figures 3.7 gives.

The page holds a small table, in English by default:
    Currently 6.63 kW | Today 53.6 kWh | Past Week 405 kWh | Since Installation 133 MWh
Each value is found by its row's label, never by position (a missing row must not shift the others), and
converted exactly (decimal arithmetic: "6.63 kW" is 6630 W, not 6629.999...). Pure, and never raises: a
row that is missing, doubled, in another unit or language, or with an absurd number gives None.
"""
import re
from typing import Dict, Optional, Union

from .endpoints import PRODUCTION_PAGE
from .limits import decode_json
from .readings import Energy

# Answers that are HTML pages, kept as bytes for this module; every other endpoint answers JSON.
PAGES = frozenset({PRODUCTION_PAGE})

MAX_PAGE_BYTES = 256 * 1024  # the real page is 0.5 to 17 KB (with its navigation and style sheet)
MAX_WATTS = 10 ** 7  # 10 MW: far beyond any site one gateway serves
MAX_WH = 10 ** 11  # 100 GWh: 10 MW for more than a lifetime

_FIELDS = {"currently": "watts_now", "today": "wh_today", "past week": "wh_last_7_days",
           "since installation": "wh_lifetime"}
_POWER_UNITS = {"W": 1, "kW": 1000, "MW": 1000000}
_ENERGY_UNITS = {"Wh": 1, "kWh": 1000, "MWh": 1000000}
# A plain decimal number, a space, a unit: nothing longer than a gateway writes.
_VALUE = re.compile(r"(\d{1,9}(?:\.\d{1,6})?) ?([kM]?Wh?)")


def decoded(path: str, body: bytes) -> Optional[object]:
    """An HTTP 200 answer as the parsers take it: the bytes of an HTML page this module reads, the decoded
    JSON of any other endpoint; None when it is neither."""
    if path in PAGES:
        return body if body else None
    try:
        return decode_json(body)
    except ValueError:  # not JSON (an HTML error page, a cut answer), not UTF-8, or beyond envoy/limits.py
        return None


def _quantity(text: str, units: Dict[str, int], ceiling: int) -> Optional[Union[int, float]]:
    from decimal import Decimal  # loaded only on the old gateways that need it (0.3 MB of memory)

    match = _VALUE.fullmatch(" ".join(text.split()))
    if match is None or match.group(2) not in units:
        return None
    value = Decimal(match.group(1)) * units[match.group(2)]
    if value > ceiling:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _rows(page: bytes) -> Dict[str, str]:
    """label (lower case) -> value text of every two-cell row; a label seen twice is dropped (ambiguous)."""
    from lxml import etree, html  # loaded only on the old gateways that need it

    parser = html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)
    try:
        root = html.fromstring(page, parser=parser)
    except (etree.LxmlError, ValueError, TypeError):
        return {}
    rows: Dict[str, str] = {}
    doubled = set()
    for row in root.iter("tr"):
        cells = [cell for cell in row if cell.tag == "td"]
        if len(cells) != 2:
            continue
        label = " ".join(cells[0].text_content().split()).lower()
        if label in rows:
            doubled.add(label)
        rows[label] = cells[1].text_content()
    return {label: value for label, value in rows.items() if label not in doubled}


def production_from_page(page) -> Optional[Energy]:
    """GET /production (HTML): power now, today, past week and lifetime. None when no value is readable."""
    if not isinstance(page, bytes) or not page or len(page) > MAX_PAGE_BYTES:
        return None
    values = {}
    for label, text in _rows(page).items():
        field = _FIELDS.get(label)
        if field == "watts_now":
            values[field] = _quantity(text, _POWER_UNITS, MAX_WATTS)
        elif field is not None:
            values[field] = _quantity(text, _ENERGY_UNITS, MAX_WH)
    energy = Energy(**values)
    return None if energy == Energy() else energy
