"""Augment a whole table file: stream it in shards, spread the shards over joblib workers, write
each finished shard to a part file, and assemble the output with one atomic rename at the end.

Shards have a fixed size and every row draws from its own seeded generator, so the output is byte
for byte the same for any number of workers, and an interrupted run can resume from its parts.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

import torch
from joblib import Parallel, delayed, parallel_config
from tqdm import tqdm

from data import InputError, TableFormat, check_columns, format_for
from data.hardware import resolve_device, resolve_precision
from data.manifests import write_manifest
from data.paths import content_digest
from data.tables import check_texts_present, header_line, read_chunks, scan_table, write_rows

from .augmenter import AugmentConfig, Augmenter

log = logging.getLogger("tinydistill")


@dataclass
class AugmentSummary:
    """What a run did, including what it tolerated (skipped, kept unchanged, cut, unknown)."""

    output: Path
    rows_in: int = 0
    rows_out: int = 0
    shards: int = 0
    resumed_shards: int = 0
    seconds: float = 0.0
    ragged_lines: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


_LOADED: dict[AugmentConfig, Augmenter] = {}  # per process, one entry: models load once, serve every shard


def augment_file(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    text_columns: list[str],
    config: AugmentConfig = AugmentConfig(),
    *,
    fmt: TableFormat | None = None,
    label_column: str | None = None,
    jobs: int = 1,
    resume: bool = False,
    shard_rows: int = 128,
    progress: bool = True,
    task: str | None = None,
    dask: str | None = None,
) -> AugmentSummary:
    """Write `output_path`: every input row followed by its augmented copies, in the input's format.

    Shards run in `jobs` joblib worker processes, or with `dask` on a dask.distributed cluster ("local"
    or a scheduler address); the bytes written are the same either way. A manifest (NAME.json) beside
    the output records how it was made.
    """
    started = time.perf_counter()
    config = config.with_vectors()
    _check_run(config, jobs, shard_rows, dask)
    input_path, output_path = Path(input_path), Path(output_path)
    fmt = fmt or format_for(input_path)
    scan = scan_table(input_path, fmt)
    if scan.rows == 0:
        raise InputError(f"{input_path}: no rows to augment (only a header, or nothing); nothing was written")
    chunks = read_chunks(input_path, fmt, scan, shard_rows)
    first = next(chunks, None)
    columns = list(first[0].columns) if first is not None else list(scan.columns)
    check_columns(input_path, columns, list(text_columns), "--text-col")
    if label_column:
        check_columns(input_path, columns, [label_column], "--label-col")
    workers = max(1, jobs if jobs > 0 else os.cpu_count() or 1)
    _load_models(config, keep=workers == 1 and dask is None)
    parts = _PartsFolder(output_path, _fingerprint(input_path, config, text_columns, shard_rows, fmt), resume=resume)
    summary = AugmentSummary(output=output_path, ragged_lines=list(scan.ragged_lines))
    with _backend(dask, workers) as (n_jobs, threads):
        tasks = _shard_tasks(input_path, _prepend(first, chunks), parts, config, list(text_columns), threads)
        results = parts.discarded_on_bad_input(Parallel(n_jobs=n_jobs, return_as="generator")(tasks))
        with tqdm(total=scan.rows, unit="row", desc=f"augment {input_path.name}", disable=not progress) as bar:
            _collect(results, parts, fmt, summary, bar)
    parts.assemble(summary.shards, header_line(columns, fmt), bom=scan.bom)
    summary.seconds = time.perf_counter() - started
    write_manifest(output_path, _facts(input_path, config, task, text_columns, label_column, summary))
    return summary


def _check_run(config: AugmentConfig, jobs: int, shard_rows: int, dask: str | None) -> None:
    config.validate()
    if jobs == 0 or jobs < -1:
        raise InputError(f"--jobs must be a number of worker processes (1 or more), or -1 for one per core; got {jobs}")
    if shard_rows < 1:
        raise InputError(f"--shard-rows must be at least 1, got {shard_rows}")
    if dask not in (None, "local") and jobs != 1:
        raise InputError(f"--jobs sets the workers of --dask local; the cluster at {dask} has its own: drop --jobs")


def _collect(results, parts: _PartsFolder, fmt: TableFormat, summary: AugmentSummary, bar) -> None:
    """Write each finished shard's part and count it, here in the consuming loop (never in the task
    generator, which joblib may advance from its own thread)."""
    counts = Counter()
    for index, frame, stats, skipped in results:
        if frame is None:
            summary.resumed_shards += 1
        else:
            parts.write(index, frame, fmt, stats)
        counts.update(stats)
        summary.ragged_lines += skipped
        summary.shards += 1
        bar.update(stats["rows_in"])
    summary.rows_in, summary.rows_out = counts.pop("rows_in", 0), counts.pop("rows_out", 0)
    summary.ragged_lines, summary.counts = sorted(summary.ragged_lines), dict(counts)


def _facts(source: Path, config: AugmentConfig, task, text_columns, label_column, summary) -> dict:
    """How an augmented file was made, for its manifest: source and models by content, every setting
    with what `auto` resolved to, the counts, the package version and the date."""
    device = resolve_device(config.device)

    def described(path):
        return None if path is None else {"path": str(path), "sha256": content_digest(path)}

    return {
        "source": {"path": str(source.resolve()), "size": source.stat().st_size, "sha256": content_digest(source)},
        "task": task,
        "text_columns": list(text_columns),
        "label_column": label_column,
        "settings": {
            **asdict(config),
            "dtype_resolved": resolve_precision(config.dtype, device) if config.mlm else None,
            "device_resolved": str(device),
        },
        "masked_lm": described(config.mlm),
        "vectors": described(config.glove),
        "rows_in": summary.rows_in,
        "rows_out": summary.rows_out,
        "ragged_lines": summary.ragged_lines,
        "tinydistill": version("tinydistill"),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


@contextmanager
def _backend(dask: str | None, workers: int):
    """(joblib n_jobs, torch threads per worker) for this run. Without `dask`, joblib's own processes,
    each with cores/workers threads. With `dask` ("local": a LocalCluster of `workers` processes here;
    else a scheduler address), the same shards on dask.distributed workers, each using as many
    threads as it was started with."""
    if dask is None:
        yield workers, max(1, (os.cpu_count() or 1) // workers) if workers > 1 else None  # None: leave as set
        return
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise InputError("--dask needs dask.distributed: pip install 'dask[distributed]'") from None
    cluster = None
    if dask == "local":
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=max(1, (os.cpu_count() or 1) // workers),
            processes=True,
            dashboard_address=None,
        )
    try:
        client = Client(cluster or dask, timeout=30)
    except (OSError, TimeoutError) as err:
        raise InputError(
            f"--dask {dask}: cannot reach the scheduler ({err}); give its address, e.g. "
            "tcp://scheduler:8786, or --dask local"
        ) from None
    workers_info = client.scheduler_info()["workers"].values()
    log.info(
        f"shards run on dask.distributed ({dask}): {len(workers_info)} workers, "
        f"{sum(w['nthreads'] for w in workers_info)} threads in all"
    )
    try:
        with parallel_config(backend="dask"):
            yield -1, "worker"
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _load_models(config: AugmentConfig, keep: bool) -> None:
    """Load the models here first: a bad model folder fails before anything is written, and the vector
    cache is built once before workers memory-map it. One worker keeps them; several load their own."""
    augmenter = Augmenter(config)
    _LOADED.clear()
    if keep:
        _LOADED[config] = augmenter


def _prepend(first, rest):
    if first is not None:
        yield first
        yield from rest


def _shard_tasks(source: Path, chunks, parts, config: AugmentConfig, text_columns: list[str], threads: int | None):
    """One joblib task per shard: a finished part (on --resume) only hands back its counts. Nothing here
    counts or reports: joblib may run this generator from its own thread."""
    row = 0
    for index, (chunk, skipped) in enumerate(chunks):
        check_texts_present(source, chunk, text_columns, row)
        if parts.done(index):
            yield delayed(_finished_shard)(index, parts.stats(index), skipped)
        else:
            yield delayed(_augment_shard)(config, chunk, text_columns, row, index, threads, skipped)
        row += len(chunk)


def _finished_shard(index, stats, skipped):
    return index, None, stats, skipped


def _augment_shard(config: AugmentConfig, chunk, text_columns, first_row, index, threads, skipped):
    """Runs in a worker: load the models on first use (kept for later shards), augment one shard."""
    if threads == "worker":  # a dask worker: the threads it was started with, not the client's cores
        from dask.distributed import get_worker

        threads = get_worker().state.nthreads
    if threads and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    if config not in _LOADED:
        _LOADED.clear()
        _LOADED[config] = Augmenter(config)
        _models_are_no_leak()
    frame, stats = _LOADED[config].augment_frame(chunk, text_columns, first_row)
    return index, frame, dict(stats), skipped


def _models_are_no_leak() -> None:
    """joblib's loky workers restart themselves when their memory grows by 300 MB after their first task,
    taking it for a leak, and the parent then warns "A worker stopped while some jobs were given to the
    executor". Models kept for every shard (and the pages of memory-mapped vectors) are no leak, and a
    restart would load them again: lift that limit in this worker process (loky reads it at each check)."""
    from joblib.externals.loky import process_executor

    process_executor._MAX_MEMORY_LEAK_SIZE = max(process_executor._MAX_MEMORY_LEAK_SIZE, 1 << 40)


def _fingerprint(input_path: Path, config: AugmentConfig, text_columns, shard_rows: int, fmt: TableFormat) -> str:
    """Everything that decides the parts' content; a resume only reuses parts with the same one. Files
    and models count by content, not name (a replaced vector file must not reuse old parts), and the
    precision by what `auto` resolved to on this machine."""
    settings = asdict(config)
    settings["mlm"] = config.mlm and content_digest(config.mlm)
    settings["glove"] = content_digest(config.glove)
    settings["dtype"] = resolve_precision(config.dtype, resolve_device(config.device)) if config.mlm else None
    facts = [content_digest(input_path), settings, list(text_columns), shard_rows, asdict(fmt)]
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()


class _PartsFolder:
    """`.NAME.parts/` beside the output: one finished part file (+ its counts) per shard."""

    def __init__(self, output: Path, fingerprint: str, *, resume: bool):
        self.output, self.folder = output, output.with_name(f".{output.name}.parts")
        manifest = self.folder / "fingerprint"
        reusable = resume and manifest.is_file() and manifest.read_text() == fingerprint
        if not reusable:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir(parents=True)
            manifest.write_text(fingerprint)

    def _part(self, index: int) -> Path:
        return self.folder / f"part-{index:06d}"

    def done(self, index: int) -> bool:
        return self._part(index).with_suffix(".json").is_file()

    def stats(self, index: int) -> dict:
        return json.loads(self._part(index).with_suffix(".json").read_text())

    def write(self, index: int, frame, fmt: TableFormat, stats: dict) -> None:
        """Rows first, then the counts file that marks the part as finished; both by rename."""
        part = self._part(index)
        with open(f"{part}.tmp", "w", encoding="utf-8", newline="") as handle:
            write_rows(frame, handle, fmt, header=False)
        os.replace(f"{part}.tmp", part)
        Path(f"{part}.json.tmp").write_text(json.dumps(stats))
        os.replace(f"{part}.json.tmp", part.with_suffix(".json"))

    def discarded_on_bad_input(self, results):
        """Pass the results through; bad input found mid-run makes every part useless (the input must
        change, and with it the fingerprint), so the folder goes too: nothing half-written stays."""
        try:
            yield from results
        except InputError:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    def assemble(self, shards: int, header: str, *, bom: bool) -> None:
        temporary = self.output.with_name(f".{self.output.name}.tmp")
        with open(temporary, "wb") as out:
            out.write(("\ufeff" if bom else "").encode() + header.encode())
            for index in range(shards):
                with open(self._part(index), "rb") as part:
                    shutil.copyfileobj(part, out)
        os.replace(temporary, self.output)
        shutil.rmtree(self.folder)
