"""The README is tested: every ```bash block of README.md runs, in order, in one bash session
against a freshly started `make run` stack (scripts/run_stack.py), so a walkthrough that breaks
fails the suite; and every repository file the README names exists.

Only ```bash blocks run (others, e.g. ```sh for `make run`, ```text for the bank file format, are
prose). Each curl in them goes through a wrapper that fails the block on an HTTP status ≥ 400,
unless the README marks the call with a trailing `# → NNN` comment, in which case exactly that
status is required."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import ROOT, free_port

README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
EXPECTED = re.compile(r"#\s*→\s*(\d{3})\b")
PATH_EXTENSIONS = (".py", ".yml", ".yaml", ".json", ".md", ".sh", ".toml", ".ini")

# The wrapper: body to stdout (or to -o FILE), one log line per call to stderr, non-zero exit on
# an unexpected status (set -e / pipefail then stop the session).
CURL_WRAPPER = r"""
set -euo pipefail
curl() {
  local out="" args=() body status
  while (($#)); do
    if [[ $1 == -o ]]; then out=$2; shift 2; else args+=("$1"); shift; fi
  done
  body=$(mktemp)
  status=$(command curl -sS -o "$body" -w '%{http_code}' "${args[@]}") \
    || { echo "!! curl could not complete: ${args[*]}" >&2; rm -f "$body"; return 1; }
  echo ">> curl ${args[*]} -> $status" >&2
  if [[ -n ${EXPECT:-} && $status != "$EXPECT" ]]; then
    echo "!! expected HTTP $EXPECT, got $status: $(head -c 3000 "$body")" >&2
    rm -f "$body"; return 1
  elif [[ -z ${EXPECT:-} ]] && ((status >= 400)); then
    echo "!! HTTP $status: $(head -c 3000 "$body")" >&2; rm -f "$body"; return 1
  fi
  if [[ -n $out ]]; then cp "$body" "$out"; else cat "$body"; fi
  rm -f "$body"
}
"""


def fenced_blocks(text: str) -> list[tuple[str, int, str]]:
    """(language, first line number of the body, body) of every fenced block."""
    return [
        (m.group(1), text.count("\n", 0, m.start(2)) + 1, m.group(2)) for m in FENCE.finditer(text)
    ]


def mark_expected_errors(block: str) -> str:
    """`curl … # → 409` (the marker on the command's last line) runs as `EXPECT=409 curl …`."""
    lines = block.split("\n")
    for i, line in enumerate(lines):
        m = EXPECTED.search(line)
        if m is None or int(m.group(1)) < 400:
            continue
        j = i
        while j > 0 and "curl " not in lines[j]:
            j -= 1
        assert "curl " in lines[j], f"`# → {m.group(1)}` without a curl: {line}"
        lines[j] = lines[j].replace("curl ", f"EXPECT={m.group(1)} curl ", 1)
    return "\n".join(lines)


def session_script(blocks: list[tuple[int, str]]) -> str:
    parts = [CURL_WRAPPER]
    for n, (line, body) in enumerate(blocks):
        parts.append(f'echo "### README block {n} (README.md line {line})" >&2')
        parts.append(mark_expected_errors(body))
    parts.append('echo "### README done" >&2')
    return "\n".join(parts) + "\n"


def repo_paths_named(text: str) -> list[tuple[str, list[str]]]:
    """Backticked names that look like repository paths, each with the other names on its line
    (a table row `api/` … `errors.py` names api/errors.py). Runtime files under var/, routes,
    URLs and templates (`<county>`, `{id}`) are not repository files."""
    found = []
    for line in text.splitlines():
        names = re.findall(r"`([^`\s]+)`", line)
        names += re.findall(r"-d @(\S+)", line)
        for name in names:
            if (
                name.startswith(("/", "var/", "-", "."))
                or any(c in name for c in ":=<>{}()\"'$")
                or not ("/" in name or name.endswith(PATH_EXTENSIONS))
            ):
                continue
            found.append((name, [n for n in names if n != name and n.endswith("/")]))
    return found


def exists(name: str, bases: list[str]) -> bool:
    for base in ["", *bases]:
        pattern = base + name
        if any(c in pattern for c in "*?[") and any(ROOT.glob(pattern.rstrip("/"))):
            return True
        if (ROOT / pattern).exists():
            return True
    return False


def test_every_file_the_readme_names_exists() -> None:
    named = repo_paths_named(README.read_text(encoding="utf-8"))
    assert len(named) > 20
    missing = sorted({name for name, bases in named if not exists(name, bases)})
    assert not missing, f"README.md names files that are not in the repository: {missing}"


def test_every_walkthrough_with_curl_is_a_bash_block() -> None:
    blocks = fenced_blocks(README.read_text(encoding="utf-8"))
    untested = [line for lang, line, body in blocks if "curl " in body and lang != "bash"]
    assert not untested, f"curl blocks that the walkthrough test skips (lines {untested})"


def wait_healthy(base: str, seconds: float = 90) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"/health not 200 within {seconds} s")


def test_readme_walkthroughs_run_against_a_fresh_stack(tmp_path: Path, scratch_db_url: str) -> None:
    """The stack on the run's database: SQLite in ``make test`` (as ``make run``), PostgreSQL in
    ``make test-pg`` (``JIUZHU_DATABASE_URL`` at a fresh database, as in production)."""
    text = README.read_text(encoding="utf-8")
    blocks = [(line, body) for lang, line, body in fenced_blocks(text) if lang == "bash"]
    assert len(blocks) >= 5

    # bash runs in walk/: var/demo-tokens.json is the stack's tokens file and docs/ the repo's.
    walk = tmp_path / "walk"
    (walk / "var").mkdir(parents=True)
    (walk / "docs").symlink_to(ROOT / "docs")
    api_port = free_port()
    env = {
        **os.environ,
        "JIUZHU_ENVIRONMENT": "development",
        "JIUZHU_API_PORT": str(api_port),
        "JIUZHU_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "JIUZHU_TEMPORAL_UI_PORT": str(free_port()),
        "JIUZHU_TEMPORAL_DB_FILE": str(tmp_path / "temporal.db"),
        "JIUZHU_DATABASE_URL": scratch_db_url,
        "JIUZHU_BANK_DIR": str(tmp_path / "bank"),
        "JIUZHU_DEMO_TOKENS_FILE": str(walk / "var" / "demo-tokens.json"),
        "JIUZHU_TASK_QUEUE": "jiuzhu-readme-test",
        "JIUZHU_SEED_DEMO_CASES": "false",
        "JIUZHU_WORKER_METRICS_PORT": str(free_port()),
        "JIUZHU_LOG_LEVEL": "WARNING",
    }
    base = f"http://127.0.0.1:{api_port}"
    stack_log = tmp_path / "stack.log"
    with stack_log.open("wb") as log:
        stack = subprocess.Popen(
            [sys.executable, "scripts/run_stack.py"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_healthy(base)
        assert json.loads((walk / "var" / "demo-tokens.json").read_text())["demo-county"]
        script = tmp_path / "readme.sh"
        script.write_text(session_script(blocks), encoding="utf-8")
        try:
            done = subprocess.run(
                ["bash", str(script)],
                cwd=walk,
                env={**os.environ, "API": base},
                capture_output=True,
                text=True,
                timeout=240,
            )
            code, out, err = done.returncode, done.stdout, done.stderr
        except subprocess.TimeoutExpired as exc:
            code = -1
            out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        if code != 0:
            started = re.findall(r"### README block (\d+)", err)
            failing = int(started[-1]) if started else 0
            line, body = blocks[failing]
            stack_tail = stack_log.read_text(errors="replace")[-3000:]
            raise AssertionError(
                f"README bash block {failing} (README.md line {line}) failed "
                f"(exit {code}):\n{body}\n--- stderr (tail) ---\n{err[-6000:]}\n"
                f"--- stdout (tail) ---\n{out[-3000:]}\n--- stack log (tail) ---\n{stack_tail}"
            )
        assert "### README done" in err
        assert (walk / "refusal.pdf").read_bytes().startswith(b"%PDF")
    finally:
        os.killpg(stack.pid, signal.SIGINT)
        try:
            stack.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(stack.pid, signal.SIGKILL)
            stack.wait()
