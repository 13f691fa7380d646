"""Open a page in headless Chromium and record what it did: requests, console, errors.

A minimal client of the Chrome DevTools Protocol over ``--remote-debugging-pipe``
(no dependency beyond the Debian ``chromium`` package, which ``make browser``
installs). Used by the tests that open the written report as a reader would,
and by ``python -m browser.report_layout``, which checks how the report reads at
a desktop's and a phone's width.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
"""The browser, if installed."""

# As the machine's probe starts it: no sandbox as root, and no background traffic of
# the browser's own (updates, sync), so that every request seen is the page's.
_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
]


@dataclass
class PageVisit:
    """What a page did while it loaded."""

    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    scripts: int = -1
    title: str = ""


class _Pipe:
    def __init__(self, process: subprocess.Popen, send_fd: int, receive_fd: int) -> None:
        self.process = process
        self.send_fd = send_fd
        self.receive_fd = receive_fd
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.send_fd, json.dumps(message).encode() + b"\0")
        while True:
            reply = self.receive()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def receive(self, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.receive_fd], [], [], left)[0]:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self.receive_fd, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def wait_for(self, method: str, timeout: float = 30.0) -> dict:
        for index, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(index)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self.receive(deadline - time.monotonic())
            if event.get("method") == method:
                return event
            self.events.append(event)
        raise TimeoutError(f"chromium sent no {method}")


class Tab:
    """A page in a running headless Chromium, driven over the DevTools protocol."""

    def __init__(self, pipe: _Pipe, session: str) -> None:
        self.pipe = pipe
        self.session = session

    def send(self, method: str, params: dict | None = None) -> dict:
        """Send a protocol command to the page and return its result."""
        return self.pipe.send(method, params, session=self.session)

    def set_viewport(self, width: int, height: int, *, mobile: bool = False) -> None:
        """Show the page in a window ``width`` CSS pixels wide, as a phone if ``mobile``."""
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )

    def open(self, path: Path) -> None:
        """Load a file and wait until it has loaded."""
        self.send("Page.navigate", {"url": path.resolve().as_uri()})
        self.pipe.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """Return the value of a JavaScript expression (JSON-serialisable) in the page."""
        reply = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in reply:
            raise RuntimeError(json.dumps(reply["exceptionDetails"])[:500])
        return reply["result"].get("value")

    def screenshot(self, path: Path) -> None:
        """Save the whole page, not only the window, as a PNG."""
        size = self.send("Page.getLayoutMetrics")["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = self.send(
            "Page.captureScreenshot",
            {"format": "png", "clip": clip, "captureBeyondViewport": True},
        )
        path.write_bytes(base64.b64decode(shot["data"]))


@contextlib.contextmanager
def chromium_tab() -> Iterator[Tab]:
    """Start headless Chromium and yield one blank tab; close the browser after."""
    if CHROMIUM is None:
        raise RuntimeError("chromium is not installed: run `make browser`")
    to_browser_read, to_browser_write = os.pipe()
    from_browser_read, from_browser_write = os.pipe()

    def plumbing() -> None:  # the browser reads commands on fd 3 and answers on fd 4
        commands, answers = os.dup(to_browser_read), os.dup(from_browser_write)
        os.dup2(commands, 3)
        os.dup2(answers, 4)

    with tempfile.TemporaryDirectory() as profile:
        process = subprocess.Popen(
            [CHROMIUM, *_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(3, 4),  # kept open in the browser once plumbing has set them
            preexec_fn=plumbing,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        pipe = _Pipe(process, to_browser_write, from_browser_read)
        try:
            target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
                "sessionId"
            ]
            pipe.send("Page.enable", session=session)
            yield Tab(pipe, session)
        finally:
            with contextlib.suppress(RuntimeError, OSError, TimeoutError):
                pipe.send("Browser.close")
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
            os.close(to_browser_write)
            os.close(from_browser_read)


def visit(path: Path, *, settle: float = 1.0) -> PageVisit:
    """Load ``path`` in headless Chromium and return what the page requested and logged."""
    with chromium_tab() as tab:
        for domain in ("Network", "Runtime", "Log"):
            tab.send(f"{domain}.enable")
        return _visit(tab, path, settle)


def _visit(tab: Tab, path: Path, settle: float) -> PageVisit:
    pipe = tab.pipe
    tab.open(path)
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline:  # late requests, console messages
        try:
            pipe.events.append(pipe.receive(max(deadline - time.monotonic(), 0.01)))
        except TimeoutError:
            break
    result = PageVisit()
    result.scripts = tab.evaluate("document.scripts.length")
    result.title = tab.evaluate("document.title")
    for event in pipe.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            result.requests.append(params["request"]["url"])
        elif method == "Runtime.consoleAPICalled":
            text = " ".join(
                str(arg.get("value", arg.get("description", ""))) for arg in params["args"]
            )
            result.console.append(f"{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            result.errors.append(json.dumps(params["exceptionDetails"])[:500])
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            entry = params["entry"]
            result.errors.append(f"{entry['source']}: {entry['text']}")
    return result
