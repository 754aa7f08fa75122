"""The workbench in a real browser: a live server and a headless Chromium page driven by Playwright.

- ``live_server``: the app (``api.main.create_app`` on the session's settings, engine and
  Temporal client, with the session's worker running) served by uvicorn on 127.0.0.1 at a free
  port, as a task on the test's own event loop (the Temporal client is bound to that loop);
  yields the base URL and stops the server afterwards.
- ``page``: a Playwright page in Debian's Chromium (``/usr/bin/chromium``, never a browser that
  Playwright downloads) with the flags this closed network needs and a fresh profile in the
  test's temporary directory, its ``base_url`` the live server's, so ``page.goto("/workbench")``.
- ``sign_in(page, who)`` through the real sign-in form with ``token_for(who)``;
  ``screenshot(page, name)`` into ``var/test-artifacts/workbench/`` (git-ignored).
- Checks a page can be held to: ``unlabelled_fields``, ``overflow``, ``clipped_text``,
  ``focused``, ``first_focusable``.

Without Chromium the browser tests are skipped naming the install command, and fail instead when
``CI`` or ``JIUZHU_REQUIRE_BROWSER`` is set (``.ci/run`` sets the latter).

A test module uses the fixtures by name after binding them at module level
(``live_server = browser.live_server``, ``page = browser.page``)."""

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import uvicorn
from playwright.async_api import Page, async_playwright, expect
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from api.main import create_app
from jiuzhu.settings import Settings
from tests.conftest import token_for

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "var" / "test-artifacts" / "workbench"
CHROMIUM = Path(os.environ.get("JIUZHU_CHROMIUM", "/usr/bin/chromium"))
INSTALL = "scripts/browser.sh install (apt-get install -y chromium chromium-driver)"
# Headless, and nothing that reaches for the network on its own: on this closed network
# Chromium's background connections are refused and it misbehaves.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
TIMEOUT_MS = 15_000
SERVER_START_S = 20.0


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def require_chromium() -> Path:
    """Chromium's path; skips the test without it (fails under CI / JIUZHU_REQUIRE_BROWSER)."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    message = f"{CHROMIUM} is missing: install it with {INSTALL}"
    if _flag("CI") or _flag("JIUZHU_REQUIRE_BROWSER"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: Ctrl-C stays pytest's."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@pytest.fixture
def chromium() -> Path:
    return require_chromium()


@pytest_asyncio.fixture
async def live_server(
    settings: Settings, engine: Engine, client: Client, worker: Worker
) -> AsyncIterator[str]:
    """The app over real HTTP on 127.0.0.1:<free port>, on this test's event loop."""
    app = create_app(settings=settings, engine=engine, client=client)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # bound here and handed over: no race for the port
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="on",
        log_config=None,  # the suite's logging stays as configured
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name=f"uvicorn-{port}")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SERVER_START_S
    while not server.started:
        if task.done():
            sock.close()
            raise RuntimeError("the live server stopped during start-up") from task.exception()
        if loop.time() > deadline:
            task.cancel()
            sock.close()
            raise RuntimeError(f"the live server did not start within {SERVER_START_S:.0f} s")
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=15)
        sock.close()


@pytest_asyncio.fixture
async def page(chromium: Path, live_server: str, tmp_path: Path) -> AsyncIterator[Page]:
    """A page of a fresh headless Chromium (its own profile in ``tmp_path``) at the server."""
    async with async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            tmp_path / "chromium-profile",
            executable_path=str(chromium),
            headless=True,
            args=CHROMIUM_ARGS,
            base_url=live_server,
            viewport={"width": VIEWPORT["width"], "height": VIEWPORT["height"]},
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            service_workers="block",
        )
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context.pages[0] if context.pages else await context.new_page()
        finally:
            await context.close()


async def sign_in(page: Page, who: str) -> None:
    """Sign in as ``who`` through the sign-in form; lands on the worklist."""
    await page.context.clear_cookies()
    await page.goto("/workbench")
    await page.get_by_label("经办人令牌").fill(token_for(who))
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("待办案件")


async def screenshot(page: Page, name: str) -> Path:
    """A full-page PNG in ``var/test-artifacts/workbench/`` (made on demand); its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / (name if name.endswith(".png") else f"{name}.png")
    await page.screenshot(path=str(path), full_page=True)
    return path


# --- checks ------------------------------------------------------------------------------------
_DESCRIBE = """
el => {
  const name = el.tagName.toLowerCase();
  const id = el.id ? '#' + el.id : '';
  const cls = typeof el.className === 'string' && el.className
    ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
  const text = (el.getAttribute('aria-label') || el.innerText || el.value || '').trim();
  return name + id + cls + (text ? ' "' + text.slice(0, 30) + '"' : '');
}
"""


async def unlabelled_fields(page: Page) -> list[str]:
    """Every visible input, select and textarea without a label: neither a ``label[for]`` with
    text nor an ``aria-label`` (hidden inputs are not fields)."""
    found: list[str] = await page.evaluate(
        f"""() => {{
      const describe = {_DESCRIBE};
      const out = [];
      for (const el of document.querySelectorAll('input, select, textarea')) {{
        if (el.type === 'hidden') continue;
        const aria = (el.getAttribute('aria-label') || '').trim();
        const label = el.id ? document.querySelector('label[for="' + CSS.escape(el.id) + '"]')
          : null;
        if (aria || (label && label.textContent.trim())) continue;
        out.push(describe(el));
      }}
      return out;
    }}"""
    )
    return found


async def overflow(page: Page) -> dict[str, int]:
    """The document's scroll width against the window's inner width (CSS pixels)."""
    sizes: dict[str, int] = await page.evaluate(
        """() => ({scrollWidth: document.documentElement.scrollWidth,
                   innerWidth: window.innerWidth})"""
    )
    return sizes


async def clipped_text(page: Page) -> list[str]:
    """Elements whose own text is cut off: a box narrower than its content (hidden or spilling
    over), or text beyond the window's left or right edge. The skip link, parked off-screen until
    it is focused, is not text on the page."""
    found: list[str] = await page.evaluate(
        f"""() => {{
      const describe = {_DESCRIBE};
      const width = document.documentElement.clientWidth;
      const out = [];
      for (const el of document.body.querySelectorAll('*')) {{
        if (el.matches('a.skip:not(:focus), input, select, textarea, option, script, style'))
          continue;
        const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
        if (!own) continue;
        const st = getComputedStyle(el);
        if (st.display === 'none' || st.visibility === 'hidden') continue;
        const r = el.getBoundingClientRect();
        if (r.width === 0 && r.height === 0) continue;
        if (r.left < -1 || r.right > width + 1) {{
          out.push(describe(el) + ' outside the window: ' + Math.round(r.left) + '..'
            + Math.round(r.right) + ' of ' + width);
          continue;
        }}
        if (st.display === 'inline') continue;  // an inline box has no width of its own
        if (el.scrollWidth > el.clientWidth + 1) {{
          out.push(describe(el) + ' wider than its box: ' + el.scrollWidth + ' > '
            + el.clientWidth);
        }} else if (st.overflowY !== 'visible' && el.scrollHeight > el.clientHeight + 1) {{
          out.push(describe(el) + ' taller than its box: ' + el.scrollHeight + ' > '
            + el.clientHeight);
        }}
      }}
      return out;
    }}"""
    )
    return found


async def focused(page: Page) -> dict[str, Any]:
    """The focused element: a description, whether it is inside ``main``, whether it is the skip
    link, whether it shows a focus outline and whether it lies inside the window."""
    info: dict[str, Any] = await page.evaluate(
        f"""() => {{
      const describe = {_DESCRIBE};
      const el = document.activeElement;
      if (!el || el === document.body) return {{what: 'body', inMain: false, skip: false,
        isMain: false, outline: false, visible: false, href: null}};
      const st = getComputedStyle(el);
      const r = el.getBoundingClientRect();
      return {{
        what: describe(el),
        href: el.getAttribute('href'),
        isMain: el.tagName === 'MAIN',
        inMain: !!el.closest('main'),
        skip: el.matches('a.skip'),
        outline: st.outlineStyle !== 'none' && parseFloat(st.outlineWidth) > 0,
        visible: r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0
          && r.left < window.innerWidth && r.top < window.innerHeight,
      }};
    }}"""
    )
    return info


async def first_focusable(page: Page, within: str = "main") -> str:
    """The first element inside ``within`` that Tab stops at (described as ``focused`` does)."""
    what: str = await page.evaluate(
        f"""within => {{
      const describe = {_DESCRIBE};
      const stops = 'a[href], button, input:not([type=hidden]), select, textarea, '
        + 'summary, [tabindex]:not([tabindex="-1"])';
      for (const el of document.querySelector(within).querySelectorAll(stops)) {{
        const r = el.getBoundingClientRect();
        if (!el.disabled && r.width > 0 && r.height > 0) return describe(el);
      }}
      return '';
    }}""",
        within,
    )
    return what
