"""Check that a written report reads well at a desktop's and at a phone's width.

Run ``python -m browser.report_layout results/dprk/report.html --out results/layout``
(``make layout`` fits the bundled data quickly and runs it; CI runs it and keeps the
screenshots). The report is opened in headless Chromium at each width and checked:

- **no word broken mid-word**: every word (a run of characters without a space)
  stays on one line, unless it breaks just after a hyphen, a dash or a slash;
- **no horizontal scrolling** at the phone's width: neither the page nor any
  element in it (a table, a code block) is wider than the screen;
- **figure text at least 11 px**: each figure says, in its PNG metadata, how
  tall its smallest text is in its own pixels (``nkest.results.report``); scaled
  by the width the figure is shown at, that must be at least 11 CSS pixels.

A full-page screenshot is saved for each width. The exit status is 1 when any
check fails, and every failure is printed.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from browser import chromium_tab

WIDTHS = {"desktop": 1280, "phone": 420}
"""The widths the report is checked at, in CSS pixels."""
MIN_FIGURE_TEXT_PX = 11.0
"""The smallest figure text a reader can read, in CSS pixels."""
FONT_KEY = "nkest:smallest-text-px"
"""The PNG text key under which nkest writes a figure's smallest text height."""

_MEASURE = r"""
(() => {
  const out = {viewport: window.innerWidth, pageWidth: document.documentElement.scrollWidth,
               broken: [], wide: [], images: []};
  const range = document.createRange();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const lineOf = (node, i) => {
    range.setStart(node, i); range.setEnd(node, i + 1);
    const rect = Array.from(range.getClientRects()).find(r => r.width > 0);
    return rect ? rect.top : null;
  };
  let node;
  while ((node = walker.nextNode())) {
    const text = node.textContent;
    const words = /\S{2,}/g;
    let match;
    while ((match = words.exec(text))) {
      range.setStart(node, match.index); range.setEnd(node, match.index + match[0].length);
      const tops = new Set(Array.from(range.getClientRects()).filter(r => r.width > 0)
                           .map(r => Math.round(r.top)));
      if (tops.size < 2) continue;
      let previous = null;
      for (let i = 0; i < match[0].length; i++) {
        const top = lineOf(node, match.index + i);
        if (top === null) continue;
        const after = "-\u2013\u2014/".includes(match[0][i - 1]);
        if (previous !== null && top > previous + 2 && !after) {
          out.broken.push(match[0].slice(0, i) + "|" + match[0].slice(i));
        }
        previous = top;
      }
    }
  }
  for (const element of document.body.querySelectorAll("*")) {
    const style = getComputedStyle(element);
    const scrolls = ["auto", "scroll"].includes(style.overflowX)
                    && element.scrollWidth > element.clientWidth + 1;
    const right = element.getBoundingClientRect().right;
    if (scrolls || right > window.innerWidth + 1) {
      out.wide.push(element.tagName.toLowerCase() + (scrolls ? " scrolls sideways" :
                    ` reaches ${Math.round(right)} px`));
    }
  }
  for (const image of document.images) {
    out.images.push({alt: image.alt, src: image.currentSrc, natural: image.naturalWidth,
                     shown: image.getBoundingClientRect().width});
  }
  return out;
})()
"""


@dataclass
class WidthResult:
    """What the checks found at one width."""

    name: str
    width: int
    screenshot: Path
    problems: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)


def smallest_figure_text(src: str) -> float | None:
    """Return the smallest text height a report figure records, in its own pixels."""
    if not src.startswith("data:image/png;base64,"):
        return None
    data = base64.b64decode(src.split(",", 1)[1])
    with Image.open(io.BytesIO(data)) as image:
        value = image.text.get(FONT_KEY)  # type: ignore[attr-defined]
    return None if value is None else float(value)


def check_width(tab, report: Path, name: str, width: int, out: Path) -> WidthResult:
    """Open the report at ``width`` CSS pixels, measure it and save a screenshot."""
    tab.set_viewport(width, 900, mobile=width < 600)
    tab.open(report)
    page = tab.evaluate(_MEASURE)
    result = WidthResult(name, width, out / f"report-{width}px.png")
    tab.screenshot(result.screenshot)
    for word in page["broken"]:
        result.problems.append(f"word broken mid-word: {word!r}")
    if name == "phone":
        if page["pageWidth"] > page["viewport"]:
            result.problems.append(
                f"the page scrolls sideways: {page['pageWidth']} px wide in {page['viewport']}"
            )
        for element in dict.fromkeys(page["wide"]):
            result.problems.append(f"wider than the screen: {element}")
    for image in page["images"]:
        smallest = smallest_figure_text(image["src"])
        label = image["alt"] or "a figure"
        if smallest is None:
            result.problems.append(f"{label}: no record of its smallest text ({FONT_KEY})")
            continue
        shown = smallest * image["shown"] / image["natural"]
        result.figures.append(f"{label}: smallest text {shown:.1f} px")
        if shown < MIN_FIGURE_TEXT_PX:
            result.problems.append(
                f"{label}: smallest text {shown:.1f} px, below {MIN_FIGURE_TEXT_PX:.0f} px"
            )
    return result


def check_report(report: Path, out: Path) -> list[WidthResult]:
    """Check ``report`` at every width of ``WIDTHS``; screenshots go to ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    with chromium_tab() as tab:
        return [check_width(tab, report, name, width, out) for name, width in WIDTHS.items()]


def main(argv: list[str] | None = None) -> int:
    """Check a report's layout; print what was found; return 1 if any check fails."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path, help="the report.html to check")
    parser.add_argument("--out", type=Path, default=Path("results/layout"), help="screenshots")
    args = parser.parse_args(argv)
    results = check_report(args.report, args.out)
    failed = False
    for result in results:
        verdict = "FAIL" if result.problems else "pass"
        print(f"{result.name} ({result.width} px): {verdict}; screenshot {result.screenshot}")
        for line in result.figures:
            print(f"  {line}")
        for problem in result.problems:
            print(f"  problem: {problem}")
        failed |= bool(result.problems)
    summary = {r.name: {"width": r.width, "problems": r.problems} for r in results}
    (args.out / "layout.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
