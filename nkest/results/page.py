"""The report's HTML as a page that reads on a desktop and on a phone.

These steps run on HTML that ``markup.safe_html`` has already cleaned, and only
add what nkest itself controls: a short text for long links, a label on every
table cell (a phone shows each row of a wide table as a card of "label: value"
lines instead of scrolling sideways) and, beside each figure, the version drawn
for a narrow screen.
"""

from __future__ import annotations

import re
from html import escape, unescape
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["NARROW_SUFFIX", "label_table_cells", "narrow_figures", "shorten_link_texts"]

NARROW_SUFFIX = "_narrow"
"""A figure drawn for a phone: ``figures/<name>_narrow.png`` beside ``figures/<name>.png``."""
NARROW_SCREEN = "(max-width: 40rem)"
"""The media query under which the narrow figures and the cards are shown."""
CARD_COLUMNS = 4
"""Tables with more columns than this become cards on a narrow screen."""

_LINK = re.compile(r'<a href="(https?://[^"]+)"([^>]*)>([^<]*)</a>')
_TABLE = re.compile(r"<table>(.*?)</table>", re.S)
_HEADER_CELL = re.compile(r"<th[^>]*>(.*?)</th>", re.S)
_ROW = re.compile(r"<tr>(.*?)</tr>", re.S)
_TAG = re.compile(r"<[^>]+>")
_IMAGE = re.compile(r'<img ([^>]*?)src="(figures/[a-z_]+)\.png"([^>]*)>')


def link_text(url: str) -> str:
    """Return a short text for an address: its host, and "…" when a path follows.

    Examples
    --------
    >>> link_text("https://www.reuters.com/world/asia-pacific/story-2025-04-30/")
    'reuters.com/…'
    """
    parts = urlsplit(url)
    host = parts.hostname or url
    host = host.removeprefix("www.")
    rest = parts.path.strip("/") or parts.query
    return f"{host}/…" if rest else host


def shorten_link_texts(html: str) -> str:
    """Show a link whose text is its own address by its host: a long address is one word.

    The address stays in the link (and in the tables' CSV, JSON and LaTeX files).
    """

    def shorten(match: re.Match[str]) -> str:
        href, attributes, text = match.groups()
        if unescape(text) != unescape(href):
            return match.group(0)
        return (
            f'<a href="{href}"{attributes} title="{escape(unescape(href))}">'
            f"{escape(link_text(unescape(href)))}</a>"
        )

    return _LINK.sub(shorten, html)


def label_table_cells(html: str) -> str:
    """Give every body cell of a table its column's name, and mark wide tables as cards.

    The label is the header cell's text, escaped for an attribute. A table of
    more than ``CARD_COLUMNS`` columns gets the class ``cards``: the page's
    style shows each of its rows as a card on a narrow screen.
    """

    def label(match: re.Match[str]) -> str:
        inner = match.group(1)
        head, has_head, body = inner.partition("</thead>")
        if not has_head:  # a table without a header has no names to give
            return match.group(0)
        names = [
            escape(unescape(_TAG.sub("", cell)).strip()) for cell in _HEADER_CELL.findall(head)
        ]

        def label_row(row: re.Match[str]) -> str:
            cells = iter(names)
            labelled = re.sub(
                r"<td(?=[ >])", lambda _: f'<td data-label="{next(cells, "")}"', row.group(1)
            )
            return f"<tr>{labelled}</tr>"

        body = _ROW.sub(label_row, body)
        kind = ' class="cards"' if len(names) > CARD_COLUMNS else ""
        return f"<table{kind}>{head}</thead>{body}</table>"

    return _TABLE.sub(label, html)


def narrow_figures(html: str, directory: Path) -> str:
    """Offer each figure's narrow version, where it exists, to narrow screens."""

    def offer(match: re.Match[str]) -> str:
        before, stem, after = match.groups()
        narrow = f"{stem}{NARROW_SUFFIX}.png"
        if not (directory / narrow).is_file():
            return match.group(0)
        return (
            f'<picture><source media="{NARROW_SCREEN}" srcset="{narrow}">'
            f'<img {before}src="{stem}.png"{after}></picture>'
        )

    return _IMAGE.sub(offer, html)
