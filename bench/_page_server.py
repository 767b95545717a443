"""One goldsmith server for ``bench/page_speed.py``: builds a label task with ``--labels``
labels and ``--records`` records under ``--root`` with the goldsmith on ``PYTHONPATH`` (this
tree, or the previous version's ``src``), adds user ``bench``, and serves it on ``--port``.

Run in its own process, so the previous version's code never mixes with this one's.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from goldsmith import Project
from goldsmith.config import write_config
from goldsmith.server import ServerSettings, create_app

PASSWORD = "bench password 1234"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", type=Path, required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--labels", required=True, help="labels, comma-separated")
    ap.add_argument("--records", type=int, required=True)
    args = ap.parse_args()
    args.root.mkdir(parents=True, exist_ok=True)
    labels = args.labels.split(",")
    task = {
        "name": "bench",
        "fields": [{"name": "text", "kind": "text"}],
        "questions": [{"name": "intent", "kind": "label", "labels": labels}],
    }
    write_config(args.root, task)
    with Project.open(args.root) as proj:
        texts = [
            f"Record {n}: my card payment was declined twice at the shop."
            for n in range(args.records)
        ]
        proj.add_records([{"fields": {"text": t}} for t in texts])
        proj.add_user("bench", role="annotator", password=PASSWORD)
    app = create_app(ServerSettings(project_root=args.root))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", ws="none")


if __name__ == "__main__":
    main()
