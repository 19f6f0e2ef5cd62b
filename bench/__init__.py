"""The benchmarks and studies over the library, each run from the project's root as `python -m bench.NAME`
(bench.frontier, bench.mrpc_quality, bench.augment_bench, ...); results go to bench/results/ and docs/.
Nothing here downloads: the package sets the hub offline before any of its modules imports the library."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
