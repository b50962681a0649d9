"""A tiny WebDriver client (standard library only) for driving headless Chromium.

It starts ``chromedriver`` on a free local port and speaks the W3C WebDriver
protocol to it over HTTP: open a URL, run a script, find and click an element,
take a screenshot, read an alert and the browser's console log.  Chromium runs
headless, without sandbox, GPU or any background networking, with a fresh
profile, so it works in a container with the network closed.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from typing import Any, List, Optional, Tuple

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-breakpad",
    "--disable-crash-reporter",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
]


class WebDriverError(Exception):
    """An error answer from chromedriver (``error`` is the W3C error code)."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(f"{error}: {message}")
        self.error = error


def find_chromium() -> Optional[Tuple[str, str]]:
    """(chromium, chromedriver) paths, or None when either is missing."""
    chromium = next(
        (
            path
            for path in (
                shutil.which("chromium"),
                shutil.which("chromium-browser"),
                "/usr/bin/chromium",
            )
            if path and os.path.exists(path)
        ),
        None,
    )
    driver = shutil.which("chromedriver") or (
        "/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None
    )
    if chromium is None or driver is None:
        return None
    return chromium, driver


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    """One chromedriver process and one headless Chromium session."""

    def __init__(self, chromium: str, chromedriver: str, timeout: float = 30) -> None:
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="subunit2-chromium-")
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.driver = subprocess.Popen(
            [chromedriver, f"--port={self.port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its browsers share its process group
        )
        self.session: Optional[str] = None
        try:
            self._wait_ready()
            options = {
                "binary": chromium,
                "args": [*CHROMIUM_ARGS, f"--user-data-dir={self.profile}"],
            }
            answer = self._call(
                "POST",
                "/session",
                {
                    "capabilities": {
                        "alwaysMatch": {
                            "browserName": "chrome",
                            "goog:chromeOptions": options,
                            "goog:loggingPrefs": {"browser": "ALL"},
                        }
                    }
                },
            )
            self.session = answer["sessionId"]
        except BaseException:
            self.quit()
            raise

    # -- protocol -------------------------------------------------------------------
    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            payload = json.loads(error.read().decode("utf-8") or "{}")
            value = payload.get("value") or {}
            raise WebDriverError(
                value.get("error", str(error.code)), value.get("message", "")
            ) from None
        return payload.get("value", payload)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                if self._call("GET", "/status").get("ready"):
                    return
            except (OSError, ValueError, WebDriverError):
                pass
            if self.driver.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("chromedriver did not start")
            time.sleep(0.05)

    def _session(self, method: str, path: str, body: Any = None) -> Any:
        return self._call(method, f"/session/{self.session}{path}", body)

    # -- commands -------------------------------------------------------------------
    def get(self, url: str) -> None:
        self._session("POST", "/url", {"url": url})

    def execute(self, script: str, *args: Any) -> Any:
        """Run ``script`` (a function body; ``arguments`` holds ``args``)."""
        return self._session(
            "POST", "/execute/sync", {"script": script, "args": list(args)}
        )

    def execute_async(self, script: str, *args: Any) -> Any:
        """Run ``script``; it calls ``arguments[arguments.length - 1](value)``."""
        return self._session(
            "POST", "/execute/async", {"script": script, "args": list(args)}
        )

    def find(self, css: str) -> str:
        found = self._session(
            "POST", "/element", {"using": "css selector", "value": css}
        )
        return found[ELEMENT]

    def click(self, element: str) -> None:
        self._session("POST", f"/element/{element}/click", {})

    def screenshot(self) -> bytes:
        return base64.b64decode(self._session("GET", "/screenshot"))

    def alert_text(self) -> Optional[str]:
        """The text of an open alert, or None when there is none."""
        try:
            return self._session("GET", "/alert/text")
        except WebDriverError as error:
            if error.error == "no such alert":
                return None
            raise

    def console(self) -> List[dict]:
        """The browser console entries since the last call (chromedriver's log)."""
        try:
            return self._session("POST", "/se/log", {"type": "browser"})
        except WebDriverError:
            return []

    def wait_for(self, script: str, timeout: float = 10) -> Any:
        """Poll ``script`` until it returns something truthy; return that."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.execute(script)
            if value or time.monotonic() > deadline:
                return value
            time.sleep(0.05)

    def quit(self) -> None:
        if self.session is not None:
            try:
                self._session("DELETE", "")
            except (OSError, ValueError, WebDriverError):
                pass
            self.session = None
        if self.driver.poll() is None:
            self.driver.terminate()
            try:
                self.driver.wait(10)
            except subprocess.TimeoutExpired:
                self.driver.kill()
                self.driver.wait()
        self._reap_group()
        shutil.rmtree(self.profile, ignore_errors=True)

    def _reap_group(self) -> None:
        """Wait for the browser processes of our driver's group; kill stragglers."""
        group = self.driver.pid  # the group leader we started
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(group, 0)
            except (ProcessLookupError, PermissionError):
                return
            time.sleep(0.05)
        try:
            os.killpg(group, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.quit()
