"""Training rows held flat: the batches they make are the tokenizer's own, subsets pick the right rows,
and a large training set costs a few bytes per word piece, not hundreds (measured in a fresh process)."""

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from data import SHARED_DIR, read_table
from distill import glue_task_data, load_tokenizer
from distill.examples.encoding import LabelScheme, encode_frame
from tests.conftest import DEMO_MLM

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def mrpc():
    table = read_table(SHARED_DIR / "data" / "glue" / "MRPC" / "dev.tsv").head(50)
    return table, load_tokenizer(DEMO_MLM)


@pytest.mark.parametrize("side", ["right", "left"])
def test_a_batch_is_what_the_tokenizer_pads_itself(mrpc, side):
    table, tokenizer = mrpc
    tokenizer = copy.deepcopy(tokenizer)  # the module's own stays as loaded
    tokenizer.padding_side = side
    examples = encode_frame(table, ["#1 String", "#2 String"], "Quality", LabelScheme(("0", "1")), tokenizer, 40, "dev")
    rows = [3, 17, 0, 42]
    batch = examples.collate([examples[i] for i in rows])
    texts = [table["#1 String"].iloc[rows].tolist(), table["#2 String"].iloc[rows].tolist()]
    expected = tokenizer(*texts, truncation=True, max_length=40, padding=True, return_tensors="pt")
    assert batch.keys() == {*expected.keys(), "labels", "index"}
    for name in expected:
        assert torch.equal(batch[name], expected[name]), name
    assert batch["labels"].tolist() == table["Quality"].iloc[rows].astype(int).tolist()
    assert batch["index"].tolist() == rows


def test_a_subset_holds_the_rows_it_names_in_its_order(mrpc):
    table, tokenizer = mrpc
    examples = encode_frame(table, ["#1 String"], "Quality", LabelScheme(("0", "1")), tokenizer, 64, "dev")
    part = examples.subset([9, 2, 9])
    for i, row in enumerate([9, 2, 9]):
        assert part.row(i)["input_ids"].tolist() == examples.row(row)["input_ids"].tolist()
    assert part.labels.tolist() == examples.labels[[9, 2, 9]].tolist()
    assert part.lengths().tolist() == examples.lengths()[[9, 2, 9]].tolist()


MEASURE = """
import json, sys, psutil
from distill import glue_task_data, load_tokenizer
from tests.conftest import DEMO_MLM
task, tokenizer = glue_task_data("SST-2"), load_tokenizer(DEMO_MLM)
before = psutil.Process().memory_info().rss
examples = task.encode(task.train_path, tokenizer, 64)
print(json.dumps({"rows": len(examples), "pieces": int(examples.lengths().sum()),
                  "grown": psutil.Process().memory_info().rss - before}))
"""


def test_a_large_training_set_is_held_in_a_few_bytes_per_piece():
    """SST-2's 67,349 training phrases (897,033 pieces): as Python lists of ints they held 295 MB (about 330
    bytes per piece); flat, the process grows by less than a third of that (61 MB here, of which 7 MB are
    the pieces: the rest is what reading the table leaves)."""
    done = subprocess.run([sys.executable, "-c", MEASURE], cwd=ROOT, capture_output=True, text=True, check=True)
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    assert measured["rows"] == 67_349
    assert measured["grown"] < 100 * measured["pieces"], measured  # 100 bytes per piece: 90 MB


def test_the_examples_of_a_task_file_are_its_rows():
    task, tokenizer = glue_task_data("MRPC"), load_tokenizer(DEMO_MLM)
    examples = task.encode(task.dev_paths[0], tokenizer, 128)
    first = read_table(task.dev_paths[0]).iloc[0]
    expected = tokenizer(first["#1 String"], first["#2 String"], truncation=True, max_length=128)
    assert len(examples) == 408 and examples.row(0)["input_ids"].tolist() == expected["input_ids"]
    assert examples.row(0)["token_type_ids"].tolist() == expected["token_type_ids"]
