"""Augment a whole table file: stream it in shards, spread the shards over joblib workers, write
each finished shard to a part file, and assemble the output with one atomic rename at the end.

Shards have a fixed size and every row draws from its own seeded generator, so the output is byte
for byte the same for any number of workers, and an interrupted run can resume from its parts.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from collections import Counter
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Callable

import torch
from joblib import Parallel, delayed, parallel_config
from tqdm import tqdm

from data import InputError, TableFormat, check_columns, format_for
from data.manifests import manifest_path, write_manifest
from data.options import setting
from data.outputs import OutputLock, finished_already
from data.paths import content_digest
from data.stopping import DiskFull, Stopped, keep, whole_writes, writing
from data.tables import check_texts_present, header_line, read_chunks, scan_table

from .augmenter import Augmenter
from .config import AugmentConfig
from .parts import PartsFolder
from .sources import Source
from .summary import AugmentSummary

log = logging.getLogger("tinydistill")


@dataclass(frozen=True)
class RunSettings:
    """How a run is carried out; none of these changes the bytes written."""

    jobs: int = setting(
        1,
        "Parallel worker processes (-1 = one per core); each uses cores/jobs threads. "
        "Output is identical for any value.",
    )
    dask: str | None = setting(
        None,
        "Run the shards on a dask.distributed cluster: a scheduler address (tcp://host:8786; its workers need "
        "the same model and vector paths), or 'local' to start a LocalCluster of --jobs worker processes here. "
        "Output is the same bytes; progress and --resume as without it.",
    )
    shard_rows: int = setting(128, "Input rows per shard (unit of work, of progress and of --resume).", minimum=1)
    resume: bool = setting(False, "Continue an interrupted run with the same settings, reusing its finished shards.")
    overwrite: bool = setting(
        False,
        "Replace the output even when it is a finished file (without it, one made with other settings, or not by "
        "augment, is refused, and one made with these settings is reported done at once).",
    )


# what a resume must not change where the source's bytes depend on batching (see Source.batch_shaped)
BATCHING_NAMES = ("shard_rows", "source.batch_size", "source.max_batch_tokens", "source.kernels")

_LOADED: dict[AugmentConfig, Augmenter] = {}  # per process, one entry: models load once, serve every shard


def augment_file(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    text_columns: list[str],
    config: AugmentConfig = AugmentConfig(),
    *,
    fmt: TableFormat | None = None,
    label_column: str | None = None,
    jobs: int = RunSettings.jobs,
    resume: bool = RunSettings.resume,
    overwrite: bool = RunSettings.overwrite,
    shard_rows: int = RunSettings.shard_rows,
    progress: bool = True,
    task: str | None = None,
    dask: str | None = RunSettings.dask,
    on_shard: Callable[[int], None] | None = None,
) -> AugmentSummary:
    """Write `output_path`: every input row followed by its augmented copies, in the input's format.

    Shards run in `jobs` joblib worker processes, or with `dask` on a dask.distributed cluster ("local"
    or a scheduler address); the bytes written are the same either way. A manifest (NAME.json) beside
    the output records how it was made. `on_shard(index)` is called here after each shard is finished
    (written, or reused on `resume`), in order: to follow a run, or to stop it.
    """
    started = time.perf_counter()
    config = config.settled()[0]
    _check_run(config, jobs, shard_rows, dask)
    input_path, output_path = Path(input_path), Path(output_path)
    fmt = fmt or format_for(input_path)
    scan, shards, columns = _opened(input_path, fmt, shard_rows, text_columns, label_column)
    workers = max(1, jobs if jobs > 0 else os.cpu_count() or 1)
    source = config.plugin
    request = _request(input_path, config, text_columns, shard_rows, fmt)
    with OutputLock(output_path, "augment"):
        made_with = _made_with(output_path)
        if finished_already(output_path, request, made_with, overwrite=overwrite, what="augmented file"):
            return AugmentSummary.unchanged(output_path, json.loads(manifest_path(output_path).read_text()))
        _load_models(config, source, keep=workers == 1 and dask is None)
        pinned = BATCHING_NAMES if source.batch_shaped(config.options) else ()
        parts = PartsFolder(output_path, {**request, "shard_rows": shard_rows}, resume=resume, pinned=pinned)
        summary = AugmentSummary(output=output_path, ragged_lines=list(scan.ragged_lines), source=config.source)
        try:
            with _backend(dask, workers) as (n_jobs, threads):
                tasks = _shard_tasks(input_path, shards, parts, config, source, list(text_columns), threads)
                results = Parallel(n_jobs=n_jobs, return_as="generator")(tasks)
                _write_parts(results, parts, fmt, summary, on_shard, rows=scan.rows, name=input_path.name, bar=progress)
            facts = partial(_facts, input_path, config, task, text_columns, label_column, summary)
            _assemble(output_path, parts, summary, header_line(columns, fmt), scan.bom, facts, request, started)
        except (Stopped, DiskFull) as error:
            keep(error, parts.kept())  # unless _assemble said first that the output was finished
            raise
        return summary


def _write_parts(results, parts: PartsFolder, fmt: TableFormat, summary: AugmentSummary, on_shard, *, rows, name, bar):
    """Write each shard the workers hand back (joblib's generator) to its part file, with a progress bar
    of `rows` rows when `bar`. Bad input found mid-run removes the parts folder (see PartsFolder)."""
    results = parts.discarded_on_bad_input(results)
    with (
        closing(results),  # a stop or a full disk here also stops the workers' tasks
        tqdm(total=rows, unit="row", desc=f"augment {name}", disable=not bar) as progress,
    ):
        _collect(results, parts, fmt, summary, progress, on_shard)


def _assemble(output: Path, parts, summary: AugmentSummary, header: str, bom, facts, request, started) -> None:
    """Write the output from its parts, then its manifest (`facts()` and `request`, once the output is
    there), both or neither, and remove the parts. A stop that came meanwhile is raised once all is written."""
    finished = False
    try:
        with whole_writes():  # the output and its manifest, or neither
            manifest_path(output).unlink(missing_ok=True)  # an old manifest never describes the new file
            parts.assemble(summary.shards, header, bom=bom)
            summary.seconds = time.perf_counter() - started
            _write_manifest(output, {**facts(), "request": request})
            parts.remove()
            finished = True
    except (Stopped, DiskFull) as error:
        if finished:
            keep(error, f"{output} was finished first")
        raise


def _opened(input_path: Path, fmt: TableFormat, shard_rows: int, text_columns, label_column):
    """The input's scan, its shards (a generator) and its columns, once the columns asked for are there:
    a missing column is refused before any model loads."""
    scan = scan_table(input_path, fmt)
    if scan.rows == 0:
        raise InputError(f"{input_path}: no rows to augment (only a header, or nothing); nothing was written")
    chunks = read_chunks(input_path, fmt, scan, shard_rows)
    first = next(chunks, None)
    columns = list(first[0].columns) if first is not None else list(scan.columns)
    check_columns(input_path, columns, list(text_columns), "--text-col")
    if label_column:
        check_columns(input_path, columns, [label_column], "--label-col")
    return scan, _prepend(first, chunks), columns


def _write_manifest(output_path: Path, manifest: dict) -> None:
    """The finished output's manifest; without it the output is not finished, so a full disk here removes
    the output (its parts make it again)."""
    try:
        with writing(manifest_path(output_path), "the output's manifest"):
            write_manifest(output_path, manifest)
    except DiskFull:
        output_path.unlink()
        raise


def _made_with(output: Path) -> dict | None:
    """The request recorded with a finished output (see `finished_already`): None when there is no
    output, {} when its manifest is missing or describes other bytes (a file not written by this run)."""
    if not output.exists():
        return None
    manifest = manifest_path(output)
    if not manifest.is_file():
        return {}
    record = json.loads(manifest.read_text())
    if record.get("output", {}).get("sha256") != content_digest(output):
        return {}
    return record.get("request", {})


def _check_run(config: AugmentConfig, jobs: int, shard_rows: int, dask: str | None) -> None:
    config.validate()
    if jobs == 0 or jobs < -1:
        raise InputError(f"--jobs must be a number of worker processes (1 or more), or -1 for one per core; got {jobs}")
    if shard_rows < 1:
        raise InputError(f"--shard-rows must be at least 1, got {shard_rows}")
    if dask not in (None, "local") and jobs != 1:
        raise InputError(f"--jobs sets the workers of --dask local; the cluster at {dask} has its own: drop --jobs")


def _collect(results, parts: PartsFolder, fmt: TableFormat, summary: AugmentSummary, bar, on_shard) -> None:
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
        if on_shard is not None:
            on_shard(index)
    summary.rows_in, summary.rows_out = counts.pop("rows_in", 0), counts.pop("rows_out", 0)
    summary.ragged_lines, summary.counts = sorted(summary.ragged_lines), dict(counts)


def _facts(input_path: Path, config: AugmentConfig, task, text_columns, label_column, summary) -> dict:
    """How an augmented file was made, for its manifest: the input by content, the source and every
    setting with what `auto` resolved to, the models and files the source read, the counts, the
    package version and the date."""
    source, options = config.plugin, config.options
    return {
        "source": {
            "path": str(input_path.resolve()),
            "size": input_path.stat().st_size,
            "sha256": content_digest(input_path),
        },
        "task": task,
        "text_columns": list(text_columns),
        "label_column": label_column,
        "settings": {**config.general(), **asdict(options), **source.resolved(options)},
        # True: these bytes also depend on --shard-rows, the batch settings and the kernels (request.source.kernels)
        "batching_decides_bytes": source.batch_shaped(options),
        **source.facts(options),
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
        with parallel_config(backend="loky", initializer=_parent_answers_ctrl_c):
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


def _load_models(config: AugmentConfig, source: Source, keep: bool) -> None:
    """Load the models here first: a bad model folder fails before anything is written, and the vector
    cache is built once before workers memory-map it. One worker keeps them; several load their own."""
    augmenter = Augmenter(config, source)
    _LOADED.clear()
    if keep:
        _LOADED[config] = augmenter


def _prepend(first, rest):
    if first is not None:
        yield first
        yield from rest


def _shard_tasks(input_path: Path, chunks, parts, config, source, text_columns: list[str], threads: int | None):
    """One joblib task per shard: a finished part (on --resume) only hands back its counts. Nothing here
    counts or reports: joblib may run this generator from its own thread. Workers get the source object
    itself, so that one registered outside the package needs no registration in them."""
    row = 0
    for index, (chunk, skipped) in enumerate(chunks):
        check_texts_present(input_path, chunk, text_columns, row)
        if parts.done(index):
            yield delayed(_finished_shard)(index, parts.stats(index), skipped)
        else:
            yield delayed(_augment_shard)(config, source, chunk, text_columns, row, index, threads, skipped)
        row += len(chunk)


def _finished_shard(index, stats, skipped):
    return index, None, stats, skipped


def _augment_shard(config: AugmentConfig, source: Source, chunk, text_columns, first_row, index, threads, skipped):
    """Runs in a worker: load the models on first use (kept for later shards), augment one shard."""
    if threads == "worker":  # a dask worker: the threads it was started with, not the client's cores
        from dask.distributed import get_worker

        threads = get_worker().state.nthreads
    if threads and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    if config not in _LOADED:
        _LOADED.clear()
        _LOADED[config] = Augmenter(config, source)
        _models_are_no_leak()
    frame, stats = _LOADED[config].augment_frame(chunk, text_columns, first_row)
    return index, frame, dict(stats), skipped


def _parent_answers_ctrl_c() -> None:
    """Ctrl-C reaches the whole process group. The parent answers it (keeps the finished shards, ends the
    workers, says what it kept); a worker that also raised KeyboardInterrupt would print its own
    traceback from wherever it was, loky's housekeeping included. Workers ignore SIGINT from the start."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _models_are_no_leak() -> None:
    """joblib's loky workers restart themselves when their memory grows by 300 MB after their first task,
    taking it for a leak, and the parent then warns "A worker stopped while some jobs were given to the
    executor". Models kept for every shard (and the pages of memory-mapped vectors) are no leak, and a
    restart would load them again: lift that limit in this worker process (loky reads it at each check)."""
    from joblib.externals.loky import process_executor

    process_executor._MAX_MEMORY_LEAK_SIZE = max(process_executor._MAX_MEMORY_LEAK_SIZE, 1 << 40)


def _request(input_path: Path, config: AugmentConfig, text_columns, shard_rows: int, fmt: TableFormat) -> dict:
    """Everything that decides the output's bytes: the input by content, the shared settings, the
    source's own fingerprint (its files and models by content, what `auto` resolved to), the columns and
    how the input is read, and the shard size where the source's bytes depend on batching. A finished
    output made with another is not silently replaced."""
    request = {
        "input": content_digest(input_path),
        "settings": config.general(),
        "source": config.plugin.fingerprint(config.options),
        "text_columns": list(text_columns),
        "format": asdict(fmt),
    }
    if config.plugin.batch_shaped(config.options):
        request["shard_rows"] = shard_rows
    return json.loads(json.dumps(request, default=str))
