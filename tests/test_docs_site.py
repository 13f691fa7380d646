"""The documentation site works offline: nothing is fetched, and its mathematics is typeset."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("mkdocs")
    out = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    return out


def test_no_page_of_the_site_loads_anything_from_the_network(site):
    remote = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*(?:src|href)=["'](?:https?:)?//""")
    pages = list(site.rglob("*.html"))
    assert len(pages) > 10
    for page in pages:
        assert not remote.search(page.read_text(encoding="utf-8")), page.relative_to(site)


def test_the_mathematics_is_typeset_offline(site):
    from browser import CHROMIUM, chromium_tab

    if CHROMIUM is None:
        if os.environ.get("NKEST_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed: CI installs it with `make browser`")
        pytest.skip("chromium is not installed (`make browser` installs it)")
    with chromium_tab() as tab:
        tab.send("Network.enable")
        tab.open(site / "model" / "index.html")
        typeset = 0
        for _ in range(100):
            typeset = tab.evaluate("document.querySelectorAll('mjx-container').length")
            if typeset:
                break
            time.sleep(0.1)
        requested = [
            event["params"]["request"]["url"]
            for event in tab.pipe.events
            if event.get("method") == "Network.requestWillBeSent"
        ]
    assert typeset > 50  # the model page's formulas
    assert all(url.startswith(("file:", "data:")) for url in requested), requested
