r"""Text from data and options, made safe for every format nkest writes.

Every string that comes from the reports or from an option (a source name, a
citation, a note, an exclusion reason, the subject, the identification
assumption) is written through one of these functions, so that it reads as
the text it is and never as markup:

- **Markdown** (``markdown_text``, ``markdown_cell``): the characters that
  make links, images, emphasis, code and table cells are escaped, ``<`` and
  ``&`` become entities (no raw HTML, no autolink), line breaks become
  spaces. Only ``http(s)`` addresses found in the text become links.
- **HTML** (``safe_html``): the HTML made from the Markdown is cleaned again
  with an allow-list (nh3): no script, no event attribute, no link other
  than ``http(s)`` or relative, no image other than nkest's own figures.
- **LaTeX** (``latex_text``, ``latex_cell``): every special character is
  escaped; an address goes in ``\url{}`` only when it holds none.
- **Spreadsheets** (``spreadsheet_cell``): a CSV cell that starts with
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
  ``'``, as OWASP recommends against formula injection. The data formats
  (JSON, netCDF, zarr) keep the raw value.
- **Plots**: ``nkest.results.plots._style.literal`` (a ``$`` is not mathtext).
"""

from __future__ import annotations

import re

__all__ = [
    "latex_cell",
    "latex_text",
    "markdown_cell",
    "markdown_text",
    "safe_html",
    "spreadsheet_cell",
]

URL = re.compile(r"https?://[^\s<>\"'`|\\\[\]{}]+")
"""An ``http(s)`` address in free text."""

# Escaped with a backslash: what makes emphasis, code, links, images and table cells
# (CommonMark and Python-Markdown both read a backslash before these as the character).
_MARKDOWN_BACKSLASHED = set("\\`*_[]|")
_MARKDOWN_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


def _markdown_escape(text: str) -> str:
    out = []
    for i, char in enumerate(text):
        if (
            char == "_"
            and 0 < i < len(text) - 1
            and text[i - 1].isalnum()
            and text[i + 1].isalnum()
        ):
            out.append(char)  # inside a word ("report_id") an underscore is never emphasis
        elif char in _MARKDOWN_BACKSLASHED:
            out.append("\\" + char)
        elif char in _MARKDOWN_ENTITIES:
            out.append(_MARKDOWN_ENTITIES[char])
        elif char in "\r\n":
            out.append(" ")
        else:
            out.append(char)
    return "".join(out)


def markdown_text(text: object) -> str:
    """Return free text that Markdown renders as exactly that text, with no markup."""
    return _markdown_escape(str(text))


def split_urls(text: str) -> list[tuple[str, bool]]:
    """Split text into (piece, is_url), leaving trailing punctuation out of addresses."""
    pieces: list[tuple[str, bool]] = []
    position = 0
    for match in URL.finditer(text):
        url = match.group(0)
        while url and (url[-1] in ".,;:!?" or (url[-1] == ")" and url.count(")") > url.count("("))):
            url = url[:-1]
        start, end = match.start(), match.start() + len(url)
        if start > position:
            pieces.append((text[position:start], False))
        if url:
            pieces.append((url, True))
        position = end
    if position < len(text):
        pieces.append((text[position:], False))
    return pieces


def markdown_cell(text: object) -> str:
    """Return a Markdown table cell: escaped text, ``http(s)`` addresses as autolinks."""
    out = []
    for piece, is_url in split_urls(str(text)):
        out.append(f"<{piece}>" if is_url else _markdown_escape(piece))
    return "".join(out)


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    # after \\ or \midrule, a cell starting "[" is read as an optional length, and one
    # starting "*" as \\*: braced, they are plain characters anywhere
    "[": "{[}",
    "]": "{]}",
    "*": "{*}",
    "∞": r"$\infty$",
    "\n": " ",
    "\r": " ",
}
_LATEX_UNSAFE_IN_URL = set("\\{}%#&^~$")


def latex_text(text: object) -> str:
    """Return text with every character special to LaTeX escaped."""
    return "".join(_LATEX_SPECIAL.get(char, char) for char in str(text))


def latex_cell(text: object) -> str:
    r"""Return a LaTeX table cell; an address without special characters goes in ``\url{}``."""
    out = []
    for piece, is_url in split_urls(str(text)):
        if is_url and not set(piece) & _LATEX_UNSAFE_IN_URL:
            out.append(rf"\url{{{piece}}}")
        else:
            out.append(latex_text(piece))
    return "".join(out)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(text: str) -> str:
    """Return a CSV text cell that a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


_HTML_TAGS = {
    "a",
    "blockquote",
    "br",
    "code",
    "details",
    "div",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "hr",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "span",
    "strong",
    "summary",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
_HTML_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"style"},
    "td": {"style"},
}
_LOCAL_FILE = re.compile(r"(?![a-zA-Z][a-zA-Z0-9+.-]*:)(?!//)(?!\\)[^\s]+")
"""A relative address: no scheme, not protocol-relative."""


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if _LOCAL_FILE.fullmatch(value) else None
    return value


def safe_html(html: str) -> str:
    """Return HTML with only the elements and attributes a report needs.

    No script or style element (dropped with their content), no event
    attribute, links only to ``http(s)`` or relative addresses, images only
    from relative paths (nkest's own figures): nothing that runs or loads
    from the network.
    """
    import nh3

    return nh3.clean(
        html,
        tags=_HTML_TAGS,
        clean_content_tags={"script", "style"},
        attributes=_HTML_ATTRIBUTES,
        attribute_filter=_keep_attribute,
        url_schemes={"http", "https"},
        filter_style_properties={"text-align"},
        allowed_classes={"blockquote": {"warning"}},
        link_rel="noopener noreferrer",
    )
