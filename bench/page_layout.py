"""What the annotate page's fixed layout costs per record, in a real Chromium (issue 20).

On a wide screen the annotate page fills the window: the record pane and the question panel
scroll on their own and the actions are a footer (``body.app`` in ``static/style.css``). This
measures what that layout adds to each record shown, on a 77-label task at 1366x850, against
the same page laid out as a plain flowing document (``body.app`` off), alternating the two
in one page so that machine load hits both alike:

* **layout**: the record and the 77-label question drawn again (their nodes replaced), then
  style and layout forced (``offsetHeight``); the time of that work. Anchor: the same with the
  flowing layout.

Enter-to-next as a whole is ``bench/page_speed.py``.

Prints ``name: ours X, anchor Y, ratio Z`` with medians (p90 after).

    .venv/bin/python bench/page_layout.py [--rounds 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from page_speed import BANKING77, CHROMIUM, REPO, _open, served  # noqa: E402

REDRAW = """(app) => {
  document.body.classList.toggle('app', app);
  const q = document.querySelector('#questions'), r = document.querySelector('#record');
  const qc = [...q.childNodes].map((n) => n.cloneNode(true));
  const rc = [...r.childNodes].map((n) => n.cloneNode(true));
  document.body.offsetHeight;
  const t0 = performance.now();
  q.replaceChildren(...qc);
  r.replaceChildren(...rc);
  document.body.offsetHeight;
  return performance.now() - t0;
}"""


def _stats(xs: list[float]) -> tuple[float, float]:
    xs = sorted(xs)
    return statistics.median(xs), xs[min(len(xs) - 1, round(0.9 * (len(xs) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=300, help="redraws, half with each layout")
    args = ap.parse_args()
    times: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        with served(REPO / "src", BANKING77, 4, Path(tmp), "layout") as url:
            page = _open(browser, url)
            for i in range(args.rounds):
                app = i % 2 == 0
                times[app].append(float(page.evaluate(REDRAW, app)))
        browser.close()
    (ours, ours90), (anchor, anchor90) = _stats(times[True]), _stats(times[False])
    print(
        f"record redraw with layout, 77 labels at 1366x850 (ms, n={len(times[True])}): "
        f"ours {ours:.2f}, anchor {anchor:.2f} (flowing page), ratio {ours / anchor:.2f}; "
        f"p90 ours {ours90:.2f}, anchor {anchor90:.2f}"
    )


if __name__ == "__main__":
    main()
