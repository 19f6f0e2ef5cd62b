"""`predict` on large tables: rows/s and peak memory for 10,000 and 100,000 rows, each in a fresh
process. Memory should stay flat (the table is streamed in chunks); time should grow with the rows.

    python -m bench.predict_bench --model runs/demo/student-int8      # after make demo
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench.measure import ROOT, PeakMemory, in_child
from data import SHARED_DIR, read_table


def pairs_table(rows: int, folder: Path) -> Path:
    """`rows` real MRPC dev pairs (repeated in order) as a CSV."""
    dev = read_table(SHARED_DIR / "data" / "glue" / "MRPC" / "dev.tsv")[["#1 String", "#2 String"]]
    table = dev.iloc[[i % len(dev) for i in range(rows)]].rename(columns={"#1 String": "a", "#2 String": "b"})
    path = folder / f"pairs{rows}.csv"
    table.to_csv(path, index=False)
    return path


def worker(model: str, rows: int) -> dict:
    from distill import predict_table

    with tempfile.TemporaryDirectory() as work:
        source = pairs_table(rows, Path(work))
        memory = PeakMemory()
        started = time.perf_counter()
        summary = predict_table(model, source, ["a", "b"], Path(work) / "out.csv", progress=False)
        seconds = time.perf_counter() - started
        return {"rows": summary.rows, "rows_per_s": rows / seconds, "peak_rss_mb": memory.stop() / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(ROOT / "runs" / "demo" / "student-int8"))
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.model, args.worker)))
        return
    for rows in args.rows:
        print(json.dumps(in_child("bench.predict_bench", "--model", args.model, "--worker", str(rows))), flush=True)


if __name__ == "__main__":
    main()
