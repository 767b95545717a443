"""The annotation page's speed in a real Chromium: the label filter per keystroke at 1,000
labels, and Enter to the next record on a 5-label and a 77-label task.

Each server runs in its own process (``bench/_page_server.py``) over its own fresh project:
this tree, and the anchor, the previous version of the page (commit ``--anchor-commit``,
default ``bd84f50``, unpacked with ``git archive`` into ``--anchor-dir`` unless it is there),
served side by side in the same run.

* **filter**: for each typed query, each keystroke's time from ``keydown`` to the frame after
  it was painted (``requestAnimationFrame``, then a task after the frame). Anchor: the 16 ms
  budget of one frame at 60 Hz (the previous page had no filter). Printed with the floor, a
  key that does no work measured the same way (the wait for the next frame alone), and the
  filter's own work per typed character (``keydown`` to the end of the picker's ``input``
  handler, forced style and layout included), against the same budget.
* **enter**: from the ``keydown`` of Enter to the frame after the next record is on screen
  (``#record-meta[data-record]`` changes), label key "1" pressed before each Enter. Anchor:
  the previous page, same task, same browser. Target: median under 50 ms.

Prints ``name: ours X, anchor Y, ratio Z`` with medians (p95 after).

    .venv/bin/python bench/page_speed.py [--records 40] [--queries 30]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CHROMIUM = os.environ.get("GOLDSMITH_TEST_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "bench password 1234"
BUDGET_MS = 16.0

# the 77 intents of the banking77 data set
# the 77 intent names of the banking77 dataset (the browser tests use the same list)
BANKING77 = (
    (Path(__file__).parents[1] / "tests" / "server" / "browser" / "banking77_labels.txt")
    .read_text(encoding="utf-8")
    .split()
)
WORDS = ["card", "payment", "transfer", "refund", "cash", "top", "up", "pin", "exchange", "rate"]
THOUSAND = [
    f"{WORDS[n % 10]}_{WORDS[(n // 10) % 10]}_{BANKING77[n % 77]}_{n:04d}" for n in range(1000)
]

# In the page: the time from each keydown to the frame after it ("paint"), in window.__lat.
PROBE = """
window.__lat = [];
const painted = (t0) => requestAnimationFrame(() => {
  const ch = new MessageChannel();
  ch.port1.onmessage = () => window.__lat.push(performance.now() - t0);
  ch.port2.postMessage(0);
});
document.addEventListener("keydown", (e) => {
  if (e.key === "Enter") window.__enterAt = performance.now();
  else if (window.__filtering) {
    window.__keyAt = performance.now();
    (window.__keys ||= []).push(e.key);
    painted(window.__keyAt);
  }
}, true);
// the filter's own work: from the keydown to the end of the picker's input handler (it runs on
// the box, before this listener on the document), forced style and layout included
document.addEventListener("input", () => {
  if (window.__filtering) (window.__work ||= []).push(performance.now() - window.__keyAt);
});
new MutationObserver(() => {
  if (window.__enterAt != null) { painted(window.__enterAt); window.__enterAt = null; }
}).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-record"] });
"""


# the next record is on screen and its latency measured
NEXT_SHOWN = """([before, k]) =>
  document.querySelector('#record-meta')?.dataset.record !== before && window.__lat.length > k"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(src: Path, labels: list[str], records: int, tmp: Path, name: str) -> Iterator[str]:
    """A server process over a fresh project, with the goldsmith of ``src``; yields its URL."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(src)}
    cmd = [
        *(sys.executable, str(HERE / "_page_server.py"), "--root", str(tmp / name)),
        *("--port", str(port), "--labels", ",".join(labels), "--records", str(records)),
    ]
    proc = subprocess.Popen(cmd, env=env, cwd=tmp)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/login", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the {name} server did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _open(browser: Browser, url: str) -> Page:
    page = browser.new_context(viewport={"width": 1366, "height": 850}).new_page()
    page.add_init_script(PROBE)
    page.goto(f"{url}/login")
    page.fill("input[name=username]", "bench")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    page.goto(f"{url}/annotate")
    page.wait_for_selector("#record-meta[data-record]")
    page.wait_for_selector('#app[aria-busy="false"]')
    return page


def enter_to_next(browser: Browser, url: str, n: int) -> list[float]:
    """Enter-to-next latencies (ms) over ``n`` records, label key 1 before each Enter."""
    page = _open(browser, url)
    for k in range(n):
        before = page.get_attribute("#record-meta", "data-record")
        page.keyboard.press("1")
        page.keyboard.press("Enter")
        page.wait_for_function(
            NEXT_SHOWN,
            arg=[before, k],
        )
        page.wait_for_selector('#app[aria-busy="false"]')
        page.wait_for_timeout(30)
    lat = page.evaluate("window.__lat")
    page.context.close()
    return [float(x) for x in lat]


def filter_latency(
    browser: Browser, url: str, queries: list[str]
) -> tuple[list[float], list[float], list[float], list[float]]:
    """Per-keystroke filter latencies (ms) at 1,000 labels over the typed ``queries`` (every
    key, then the typed characters alone: no "/" to open nor Esc to clear), the filter's own
    work per typed character, and the latencies of a key that does nothing (the floor of the
    measure: the wait for the next frame)."""
    page = _open(browser, url)
    page.evaluate("window.__filtering = true")
    for q in queries:  # one key at a time, a frame apart: a key pressed before the last
        for key in ["/", *q, "Escape", "Escape"]:  # one's frame would wait for it too
            page.keyboard.press(key)
            page.wait_for_timeout(25)
    lat = page.evaluate("window.__lat")  # "/", each character and both Esc
    keys = page.evaluate("window.__keys")
    typed = [x for x, k in zip(lat, keys, strict=True) if k not in ("/", "Escape")]
    work = page.evaluate("window.__work")
    page.evaluate("window.__lat = []")
    for _ in range(40):  # the floor: a key nothing listens to (F7), the same way to the frame
        page.keyboard.press("F7")
        page.wait_for_timeout(25)
    floor = page.evaluate("window.__lat")
    page.context.close()
    return (
        [float(x) for x in lat],
        [float(x) for x in typed],
        [float(x) for x in work],
        [float(x) for x in floor],
    )


def _stats(xs: list[float]) -> tuple[float, float]:
    xs = sorted(xs)
    return statistics.median(xs), xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]


def _anchor_src(commit: str, where: Path) -> Path:
    src = where / "src"
    if not (src / "goldsmith").is_dir():
        where.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", commit, "src"], check=True, capture_output=True
        )
        subprocess.run(["tar", "-x", "-C", str(where)], input=archive.stdout, check=True)
    return src


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=40, help="Enter presses per task and version")
    ap.add_argument("--queries", type=int, default=30, help="typed queries at 1,000 labels")
    ap.add_argument("--anchor-commit", default="bd84f50")
    ap.add_argument("--anchor-dir", type=Path, default=Path("/tmp/prev"))
    args = ap.parse_args()
    ours_src, prev_src = REPO / "src", _anchor_src(args.anchor_commit, args.anchor_dir)
    pool = [lab.replace("_", " ") for lab in THOUSAND]
    queries = [
        " ".join(pool[(k * 37) % 1000].split()[:2])[: 6 + k % 8] for k in range(args.queries)
    ]
    with tempfile.TemporaryDirectory() as d, sync_playwright() as p:
        tmp = Path(d)
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        with served(ours_src, THOUSAND, 5, tmp, "ours-1000") as url:
            filt, typed, work, floor = filter_latency(browser, url, queries)
        results = {}
        for name, labels in (("5 labels", BANKING77[:5]), ("77 labels", BANKING77)):
            n = args.records
            with served(ours_src, labels, n + 4, tmp, f"ours-{len(labels)}") as ours, \
                 served(prev_src, labels, n + 4, tmp, f"prev-{len(labels)}") as prev:  # fmt: skip
                # interleave the two, twice each half, so that machine noise hits both alike
                a, b = [], []
                for _ in range(2):
                    a += enter_to_next(browser, ours, n // 2)
                    b += enter_to_next(browser, prev, n // 2)
                results[name] = (a, b)
        browser.close()
    med, p95 = _stats(filt)
    fmed, fp95 = _stats(floor)
    ratio = med / BUDGET_MS
    print(f"filter keystroke at 1000 labels (ms, n={len(filt)}): ours {med:.1f}, "
          f"anchor {BUDGET_MS:.1f} (budget), ratio {ratio:.2f}; p95 {p95:.1f}; "
          f"floor (a key with no work) {fmed:.1f}, p95 {fp95:.1f}")  # fmt: skip
    tmed, tp95 = _stats(typed)
    print(f"filter, typed characters only (ms, n={len(typed)}): ours {tmed:.1f}, "
          f"anchor {BUDGET_MS:.1f} (budget), ratio {tmed / BUDGET_MS:.2f}; "
          f"p95 {tp95:.1f}")  # fmt: skip
    wmed, wp95 = _stats(work)
    print(f"filter work per typed character, keydown to the end of its handler (ms, "
          f"n={len(work)}): ours {wmed:.1f}, anchor {BUDGET_MS:.1f} (budget), "
          f"ratio {wmed / BUDGET_MS:.2f}; p95 {wp95:.1f}")  # fmt: skip
    for name, (a, b) in results.items():
        (ma, pa), (mb, pb) = _stats(a), _stats(b)
        print(f"enter to next record, {name} (ms, n={len(a)}): ours {ma:.1f}, anchor {mb:.1f}, "
              f"ratio {ma / mb:.2f}; p95 ours {pa:.1f}, anchor {pb:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
