"""Shared fixtures: a real PostgreSQL for the whole session, a fresh database per test that needs one."""
from __future__ import annotations

import importlib
import os
import shutil
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from lienthong.ports import free_port
from lienthong.warehouse import ensure_ready
from lienthong.warehouse.embedded import EmbeddedPostgres

# pytest-xdist's workers run in a `__main__` with neither a file nor a spec, which pyspark's Spark Connect
# import (reached through Great Expectations' Spark compatibility module) takes for a doctest run of its
# own, and exits from. Great Expectations is imported once here with a file lent to `__main__`, then kept
# (a lasting file would send spawned children to run it as their main script).
_main = sys.modules["__main__"]
if getattr(_main, "__spec__", None) is None and not hasattr(_main, "__file__"):
    _main.__file__ = __file__
    try:
        importlib.import_module("great_expectations")
    finally:
        del _main.__file__


# The files whose tests read the session's one nightly run (tests/integration/conftest.py's `nightly`).
NIGHTLY_READERS = {"tests/integration/test_nightly.py", "tests/integration/test_site.py"}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under pytest-xdist (`make test` runs two workers) a file's tests run in one worker, in order, so
    its module fixtures (a built warehouse, a linked sample) are built once, and so do the files that read
    the nightly run, which then runs once. (xdist's own `loadgroup` marks do not reach pytest 9.2's test
    ids, so the grouping is this scheduler's.)"""
    from xdist.scheduler import LoadScopeScheduling

    class ByFile(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "nightly" if path in NIGHTLY_READERS else path

    return ByFile(config, log)


@pytest.fixture(scope="session")
def server_url(tmp_path_factory) -> str:
    """The test session's server: LIENTHONG_TEST_WAREHOUSE_URL, else an embedded one it starts."""
    configured = os.environ.get("LIENTHONG_TEST_WAREHOUSE_URL")
    if configured:
        yield configured
        return
    # Throwaway: no flush to disk per commit (the suite never survives a crash of the machine).
    # Not under pytest's tmp folder: pytest resets that folder to 0700 whenever another session
    # starts, and the server's own OS user (when tests run as root) must keep reaching its data.
    base = Path(tempfile.mkdtemp(prefix="lienthong-test-pg-"))
    server = EmbeddedPostgres(base / "pgdata", free_port(), throwaway=True)
    url = server.start()
    yield url
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


@contextmanager
def _fresh_database(server_url: str, prefix: str):
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = server_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = server_url.rsplit("/", 1)[0] + f"/{name}"
    ensure_ready(url)
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="session")
def fresh_database(server_url):
    """`with fresh_database("prefix") as url:` an empty database on the session's server, dropped
    afterwards; for fixtures of any scope."""
    return lambda prefix="test": _fresh_database(server_url, prefix)


@pytest.fixture
def warehouse_url(fresh_database) -> str:
    """A fresh, empty database on the session's server, dropped afterwards."""
    with fresh_database() as url:
        yield url


@pytest.fixture
def project_env(tmp_path, warehouse_url, monkeypatch) -> Path:
    """Point every project setting at this test's folders and database; returns the test folder."""
    monkeypatch.setenv("LIENTHONG_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("LIENTHONG_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("LIENTHONG_SAMPLE_DIR", str(tmp_path / "sample"))
    monkeypatch.setenv("LIENTHONG_DROP_DIR", str(tmp_path / "drop"))
    monkeypatch.setenv("LIENTHONG_OUTPUT_DIR", str(tmp_path / "output"))
    return tmp_path


WOMEN_HEADER = "STT,Họ và tên,Ngày sinh,Giới tính,Số CCCD,Số điện thoại,Ấp/Khu phố,Xã/Phường,Chi hội,Ngày vào hội"


@pytest.fixture
def women_roster(tmp_path):
    """Write a Women's Union (hoi_lhpn) roster delivery for one day into tmp_path/drop."""

    def write(day: str, lines: list[str], header: str = WOMEN_HEADER, encoding: str = "utf-8-sig") -> Path:
        path = tmp_path / "drop" / "hoi_lhpn" / day / "hoi_vien.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join([header, *lines]) + "\n", encoding=encoding)
        return path

    return write


@pytest.fixture(scope="session")
def airflow_env(server_url, tmp_path_factory) -> dict[str, str]:
    """An environment for real Airflow processes: own AIRFLOW_HOME with migrated SQLite metadata.

    Airflow reads its configuration once per process, so DAG runs happen in subprocesses."""
    from lienthong.config.settings import load_settings
    from lienthong.pipeline.airflow_env import airflow_environment
    from lienthong.pipeline.nightly import ensure_airflow_metadata

    state = tmp_path_factory.mktemp("airflow_state")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LIENTHONG_STATE_DIR", str(state))
        settings = load_settings()
    env = airflow_environment(settings, server_url)
    ensure_airflow_metadata(settings, env)
    return env


# -- a real browser ------------------------------------------------------------------------------------
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class Chromium:
    """Headless Chromium (Debian's; CI installs it), each launch with a new empty profile."""

    def __init__(self, binary: str, tmp: Path):
        self.binary, self.tmp = binary, tmp

    def _flags(self, width: int, height: int, profile: Path | None = None) -> list[str]:
        profile = profile or Path(tempfile.mkdtemp(prefix="profile-", dir=self.tmp))
        return [*CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"]

    def dump_dom(self, url: str, width: int = 412, height: int = 2400) -> str:
        """The DOM after the page's scripts ran."""
        import subprocess

        return subprocess.run([self.binary, *self._flags(width, height), "--dump-dom", url], capture_output=True,
                              text=True, timeout=120).stdout

    def screenshot(self, url: str, path: Path, width: int = 412, height: int = 2400) -> Path:
        import subprocess

        subprocess.run([self.binary, *self._flags(width, height), f"--screenshot={path}", url], capture_output=True,
                       timeout=120)
        return path

    @contextmanager
    def session(self, width: int, height: int = 900, mobile: bool = False):
        """One browser driven over the DevTools protocol, for many pages: see DevToolsPage."""
        import subprocess

        profile = Path(tempfile.mkdtemp(prefix="profile-", dir=self.tmp))
        process = subprocess.Popen([self.binary, *self._flags(width, height, profile), "--remote-debugging-port=0",
                                    "about:blank"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            page = DevToolsPage.attach(profile, process)
            with page:
                page.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                          deviceScaleFactor=1, mobile=mobile)
                yield page
        finally:
            process.terminate()
            process.wait(timeout=30)


class DevToolsPage:
    """The browser's first tab over the DevTools protocol: open pages, read their console and errors
    (console calls, uncaught exceptions, failed loads), evaluate JavaScript, take screenshots."""

    def __init__(self, socket):
        self.socket, self.next_id, self.events = socket, 0, []

    @classmethod
    def attach(cls, profile: Path, process) -> "DevToolsPage":
        import json
        import time
        import urllib.request

        from websockets.sync.client import connect

        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text().strip():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as answer:
            tab = next(t for t in json.load(answer) if t["type"] == "page")
        page = cls(connect(tab["webSocketDebuggerUrl"], max_size=None, open_timeout=30))
        for domain in ("Page", "Runtime", "Log"):
            page.call(f"{domain}.enable")
        return page

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.socket.close()

    def call(self, method: str, **params) -> dict:
        import json

        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=120))
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def open(self, url: str) -> list[str]:
        """Load the page and wait for its load event; return what it reported: console messages,
        uncaught exceptions and browser log errors (e.g. a missing stylesheet)."""
        import json

        self.events.clear()
        self.call("Page.navigate", url=url)
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self.events.append(json.loads(self.socket.recv(timeout=120)))
        self.evaluate("0")  # let messages the load produced arrive
        problems = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled":
                problems.append(f"console.{params['type']}: " + " ".join(str(a.get("value", a.get("description")))
                                                                          for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                problems.append("exception: " + params["exceptionDetails"].get("exception", {}).get(
                    "description", params["exceptionDetails"].get("text", "")))
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                problems.append(f"log {params['entry']['level']}: {params['entry']['text']} {params['entry'].get('url', '')}")
        return problems

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path) -> Path:
        import base64

        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        path.write_bytes(base64.b64decode(data))
        return path


@pytest.fixture(scope="session")
def chromium(tmp_path_factory) -> Chromium:
    """Headless Chromium, or a skip where none is installed (CI installs Debian's chromium)."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if not binary:
        pytest.skip("no chromium on this machine (CI installs Debian's chromium)")
    return Chromium(binary, tmp_path_factory.mktemp("chromium"))
