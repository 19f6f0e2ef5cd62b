"""Teacher outputs kept between runs: keyed by tokens (so subsets and orders share them), only the rows
not yet known go through the teacher, the reused values match a fresh pass, and a store that cannot be
written leaves the run going."""

import logging

import pytest
import torch

from distill import glue_task_data, load_teacher, load_tokenizer
from distill.examples.encoding import LabelScheme
from distill.methods.pkd import PatientKD
from distill.training.forward import TeacherCache, run_model
from distill.training.teacher_store import TeacherStore, example_keys
from tests.conftest import DEMO_MLM


@pytest.fixture(scope="module")
def pairs_and_teacher(tiny_teacher):
    task = glue_task_data("MRPC")
    examples = task.encode(task.dev_paths[0], load_tokenizer(DEMO_MLM), 128).subset(range(24))
    return examples, load_teacher(tiny_teacher, LabelScheme(("0", "1")))


def rows_through(teacher):
    """A list that collects the batch size of every teacher forward pass."""
    seen = []
    teacher.bert.embeddings.register_forward_hook(lambda module, args, out: seen.append(out.shape[0]))
    return seen


def batches(examples, size):
    for start in range(0, len(examples), size):
        yield examples.collate([examples[i] for i in range(start, min(start + size, len(examples)))])


def test_example_keys_follow_the_tokens_not_the_position(pairs_and_teacher):
    examples, _ = pairs_and_teacher
    keys = example_keys(examples)
    assert len(set(keys.tolist())) == len(examples)  # distinct pairs, distinct keys
    assert (example_keys(examples.subset([5, 2])) == keys[[5, 2]]).all()
    changed = examples.subset([0])
    changed.fields["token_type_ids"][:] = 0  # a copy: subset never shares its arrays
    assert example_keys(changed)[0] != keys[0]  # the same pieces in other segments are another input


def test_a_second_run_reuses_the_stored_outputs_and_runs_the_teacher_on_the_rest_only(pairs_and_teacher, tmp_path):
    examples, teacher = pairs_and_teacher
    teacher.eval()
    objective = PatientKD(((1, 2),))  # caches logits and a [CLS] state
    store = TeacherStore(tmp_path / "store.pt", objective.cls_layers)
    first = TeacherCache.for_run(objective, teacher, examples.subset(range(16)), store=store)
    with torch.inference_mode():
        for batch in batches(examples.subset(range(16)), 8):
            first.outputs(teacher, batch)
    first.persist()
    assert store.path.is_file() and first.unsaved == 0

    order = [20, 3, 17, 0, 9, 22, 18, 1]  # four rows the first run saw, four it did not, in another order
    later = examples.subset(order)
    assert store.known_share(later) == 0.5  # what the run clock's estimate counts as already done
    second = TeacherCache.for_run(objective, teacher, later, store=store)
    assert second.known.tolist() == [i < 16 for i in order]
    seen = rows_through(teacher)
    with torch.inference_mode():
        batch = later.collate([later[i] for i in range(len(later))])
        cached = second.outputs(teacher, batch)
        assert seen == [4]  # only the rows no run had seen went through the teacher
        fresh = run_model(teacher, batch, frozenset({"hidden"}))
    torch.testing.assert_close(cached.logits, fresh.logits, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(cached.hidden[2][:, 0], fresh.hidden[2][:, 0], atol=1e-5, rtol=1e-5)
    second.persist()
    assert TeacherCache.for_run(objective, teacher, examples, store=store).known.sum() == 20  # 16 + 4, merged


def test_each_precision_has_its_own_store(pairs_and_teacher):
    _, teacher = pairs_and_teacher
    objective = PatientKD(((1, 2),))
    fp32 = TeacherStore.for_run(objective, teacher, "fp32", torch.device("cpu"), processes=1)
    bf16 = TeacherStore.for_run(objective, teacher, "bf16", torch.device("cpu"), processes=1)
    assert fp32.path != bf16.path and fp32.path.parent == bf16.path.parent
    assert TeacherStore.for_run(objective, teacher, "fp32", torch.device("cpu"), processes=2) is None


def test_a_store_that_cannot_be_written_is_said_once_and_the_run_goes_on(pairs_and_teacher, tmp_path, caplog):
    examples, teacher = pairs_and_teacher
    objective = PatientKD(((1, 2),))
    (tmp_path / "not-a-folder").write_text("")
    store = TeacherStore(tmp_path / "not-a-folder" / "store.pt", objective.cls_layers)
    cache = TeacherCache.for_run(objective, teacher.eval(), examples, store=store)
    with torch.inference_mode(), caplog.at_level(logging.WARNING, logger="tinydistill"):
        for batch in batches(examples, 12):
            cache.outputs(teacher, batch)
            cache.persist()
    assert store.failed and sum("not saved" in r.message for r in caplog.records) == 1
    assert cache.known.all()
