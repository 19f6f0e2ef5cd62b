"""The frontier study's choices (bench/frontier_choices.py, run in order by bench/frontier_study.py): with the
first seed, each ask's class balance, start, budget, shape and the 4x method are chosen on the held-out slice
from seed-42 runs; with all seeds, only the chosen recipe is trained. Runs are stand-ins, handed to the study
as its `make_student`, that record what was trained (a finished run is reused, not trained again) and carry a
scripted held-out accuracy; the study's record, its training sets and its runs of the library are tested
through the same seams (`results`, `library`, `clock`), never by patching the bench modules."""

import json
from dataclasses import replace

import pytest

from bench.frontier_jobs import Library
from bench.frontier_record import StudyRecord
from bench.frontier_spec import TASKS
from bench.frontier_study import FrontierStudy
from data import SHARED_DIR
from distill.runs import files

SHAPES = {"2x": "2L-384", "4x": "4L-192", "8x": "1L-264"}
WIDE = {"2x": "2L-384", "4x": "1L-384", "8x": None}  # 2x: the same shape; 8x: no teacher-width shape is fast enough
DEEP = {"2x": "3L-312", "4x": "4L-192", "8x": "2L-120"}  # the deepest shapes fast enough (4x: the same)
BALANCED = {"2x": "2L-384", "4x": "4L-192", "8x": "2L-120"}  # the most layers x width: nothing new here
HELD_OUT = {  # (method, shape, budget, balanced): accuracy on the held-out slice (MRPC's budgets: long, full)
    ("tinybert", "2L-384", "long", False): 0.76,
    ("tinybert", "2L-384", "long", True): 0.75,
    ("tinybert", "2L-384", "full", False): 0.78,
    ("tinybert", "4L-192", "long", False): 0.62,
    ("tinybert", "4L-192", "long", True): 0.66,
    ("tinybert", "4L-192", "full", True): 0.65,
    ("tinybert", "1L-384", "long", True): 0.70,
    ("tinybert", "1L-384", "full", True): 0.72,  # the budget compared again at the chosen 4x shape: full wins
    ("tinybert", "1L-264", "long", False): 0.58,
    ("tinybert", "1L-264", "long", True): 0.60,
    ("tinybert", "1L-264", "full", True): 0.59,
    ("minilm", "1L-384", "long", True): 0.71,
    ("minilm", "1L-384", "full", True): 0.73,
    ("tinybert", "3L-312", "full", False): 0.77,  # the deep 2x candidate: below 2L-384's 0.78
    ("tinybert", "2L-120", "long", True): 0.63,  # the deep 8x candidate: above 1L-264's 0.60
}
LOWEST = {  # the same, for students that start from the teacher's lowest layers
    ("tinybert", "2L-384", "long", False): 0.79,  # better than TinyBERT's own start at the long budget ...
    ("tinybert", "2L-384", "full", False): 0.80,  # ... and at the full one, which the own start chose
    ("tinybert", "4L-192", "long", True): 0.60,  # worse (0.66)
    ("tinybert", "1L-264", "long", True): 0.60,  # a tie (0.60): the method's own start stays
}


def _not_called(*args, **kwargs):
    raise AssertionError("the library was asked to make a model: every run here is scripted")


def _makes_nothing(*args, **kwargs):
    return None


def _scripted_study(tmp_path, spec) -> FrontierStudy:
    """The study with its runs scripted: a finished and exported teacher, a library whose static fit makes
    nothing and which trains and exports nothing, and `make_student` the stand-in below (the committed record:
    the test's own)."""
    asked = []

    def student(teacher, method, shape, seed, lrs=None, budget="matched", balance=False, start="auto"):
        run = tmp_path / "runs" / f"{method}-{shape}-{budget}-{balance}-{start}-{seed}-{bool(lrs)}"
        if not run.is_dir():
            asked.append((method, shape, seed, budget, balance, lrs, start))
            run.mkdir(parents=True)
        scores = HELD_OUT if start == "auto" else LOWEST
        accuracy = scores.get((method, shape, budget, balance), 0.5)
        (run / files.REPORT).write_text(json.dumps({"selection": {"kept_holdout": {"accuracy": accuracy}}}))
        return run

    teacher = tmp_path / "quality" / "teacher-lr0.0001"  # MRPC's: the quality study's, finished and exported
    for folder, name in ((teacher, files.REPORT), (teacher.parent / f"{teacher.name}-int8", files.EXPORT_RECORD)):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("{}")
    library = Library(
        finetune=_not_called, distill=_not_called, export_model=_not_called, fit_static_baseline=_makes_nothing
    )
    study = FrontierStudy(
        spec, tmp_path / "MRPC", tmp_path / "quality", lambda: True, results=tmp_path, library=library,
        make_student=student,
    )  # fmt: skip
    study.record.choices.update(shapes=SHAPES, wide_shapes=WIDE, deep_shapes=DEEP, balanced_shapes=BALANCED)
    study.asked = asked
    return study


@pytest.fixture
def study(tmp_path):
    return _scripted_study(tmp_path, replace(TASKS["MRPC"], starts=("auto", "teacher-lowest")))  # every candidate


def test_the_first_seed_chooses_balance_start_budget_shape_and_method_on_the_held_out_slice(study):
    study.run((42,))
    assert study.record.choices["balance"] == {"2L-384": False, "4L-192": True, "1L-264": True}
    assert study.record.choices["start"] == {"2L-384": "teacher-lowest", "4L-192": "auto", "1L-264": "auto"}
    # by shape: at `--speedup`'s shapes, then again at the chosen shapes that are not theirs (4x: 1L-384, 8x: 2L-120)
    assert study.record.choices["budget"] == {
        "2L-384": "full", "4L-192": "long", "1L-264": "long", "1L-384": "full", "2L-120": "long"
    }  # fmt: skip
    # 4x: 1L-384 (wide) 0.70 against 4L-192's 0.66 (picked and deep); 8x: the deep 2L-120, 0.63 against 0.60;
    # 2x: 2L-384 (picked and wide) against the deep 3L-312, at the 2x start
    assert study.record.choices["shape"] == {"4x": "1L-384", "8x": "2L-120", "2x": "2L-384"}
    assert study.record.choices["shape_holdout_acc"]["2x"] == {"2L-384": 0.80, "3L-312": 0.5}
    assert study.record.choices["method"] == "minilm"  # 0.73 against TinyBERT's 0.72, at the chosen 4x shape and budget
    assert ("tinybert", "2L-120", 42, "full", True, None, "auto") in study.asked  # 8x: compared, not chosen
    assert {seed for _, _, seed, *_ in study.asked} == {42}
    assert ("tinybert", "4L-192", 42, "matched", False, (5e-5, 3e-5), "auto") in study.asked  # published rates
    balanced_budgets = {budget for _, shape, _, budget, on, *_ in study.asked if shape == "4L-192" and on}
    assert balanced_budgets == {"long", "full"}  # the budget candidates run with the ask's chosen balance
    starts = {(shape, budget, start) for _, shape, _, budget, _, _, start in study.asked if shape == "2L-384"}
    # the budget chosen at TinyBERT's own start, then the start compared at that budget
    assert starts == {("2L-384", "long", "auto"), ("2L-384", "full", "auto"), ("2L-384", "full", "teacher-lowest")}


def test_the_other_seeds_train_only_the_chosen_recipe(study):
    study.run((42,))
    first = len(study.asked)
    study.run((42, 43, 44))
    later = study.asked[first:]
    chosen = {
        ("minilm", "2L-384", "full", False, "teacher-lowest"),
        ("minilm", "1L-384", "full", True, "auto"),  # the budget chosen at the 4x shape, not at 4L-192 (long)
        ("minilm", "2L-120", "long", True, "auto"),
    }
    assert {(method, shape, budget, on, start) for method, shape, _, budget, on, _, start in later} == chosen
    # seed 42's 4x run is the method choice's, reused
    assert sorted(seed for _, _, seed, *_ in later) == [42] * 2 + [43] * 3 + [44] * 3


def test_a_task_with_one_start_candidate_trains_no_other_start(tmp_path):
    study = _scripted_study(tmp_path, replace(TASKS["MRPC"], starts=("auto",)))
    study.run((42,))
    assert {start for *_, start in study.asked} == {"auto"}
    assert "start" not in study.record.choices
    assert study.record.choices["shape"]["2x"] == "2L-384"  # 0.78 at the full budget, against the deep 3L-312's 0.77


def test_a_budget_candidate_added_later_is_run_and_compared_with_the_finished_ones(study):
    """A resumed study whose record predates the "full" budget trains only that candidate at seed 42; the
    scores are re-read from the runs."""
    study.record.choices.update(
        balance={"2L-384": False},
        budget={"2L-384": "long"},
        budget_holdout_acc={"2L-384": {"long": 0.76}},
        lrs_holdout_acc={"published": 0.55, "study": 0.62},
    )
    study.choose.student(None, "tinybert", "2L-384", 42, budget="long")  # finished before "full" existed
    study.asked.clear()
    assert study.choose.budget(None, "2x") == "full"
    assert study.asked == [("tinybert", "2L-384", 42, "full", False, None, "auto")]
    assert study.record.choices["budget_holdout_acc"]["2L-384"] == {"long": 0.76, "full": 0.78}
    assert study.record.choices["budget"]["2L-384"] == "full"


def test_a_shape_candidate_added_later_is_run_and_compared_with_the_recorded_scores(study, monkeypatch):
    """A recorded 4x choice (1L-384 over 4L-192) meets a new candidate kind's shape: only the new one is trained
    (the recorded scores stand, their runs lost or not), and it wins on its score."""
    study.record.choices.update(
        balance={"4L-192": True},
        budget={"4L-192": "long"},
        budget_holdout_acc={"4L-192": {"long": 0.66, "full": 0.65}},
        start={"4L-192": "auto"},
        shape={"4x": "1L-384"},
        shape_holdout_acc={"4x": {"4L-192": 0.66, "1L-384": 0.70}},
    )
    study.record.choices["balanced_shapes"] = {**BALANCED, "4x": "2L-264"}
    monkeypatch.setitem(HELD_OUT, ("tinybert", "2L-264", "long", True), 0.72)
    assert study.choose.shape(None, "4x") == "2L-264"
    assert study.asked == [("tinybert", "2L-264", 42, "long", True, None, "auto")]
    assert study.record.choices["shape_holdout_acc"]["4x"] == {"4L-192": 0.66, "1L-384": 0.70, "2L-264": 0.72}
    assert study.choose.shape(None, "4x") == "2L-264" and len(study.asked) == 1  # decided: not asked again


def test_a_shape_score_from_before_the_recipe_changed_gives_way_to_the_run_at_the_new_recipe(study, monkeypatch):
    """MRPC's 4x: 4L-192's score was recorded at the long budget, then the full budget won; a new candidate at
    the full budget is compared with 4L-192's full-budget run (recorded), not with its long-budget score."""
    study.record.choices.update(
        balance={"4L-192": True},
        budget={"4L-192": "full"},
        budget_holdout_acc={"4L-192": {"long": 0.66, "full": 0.74}},
        start={"4L-192": "auto"},
        shape={"4x": "4L-192"},
        shape_holdout_acc={"4x": {"4L-192": 0.66, "1L-384": 0.58}},
    )
    made = study.jobs.run_path("tinybert", "4L-192", 42, budget="full", balance=True)
    study.record.runs[made.name] = {"holdout_acc": 0.74}  # its folder lost with an earlier machine
    study.record.choices["balanced_shapes"] = {**BALANCED, "4x": "4L-144"}
    monkeypatch.setitem(HELD_OUT, ("tinybert", "4L-144", "full", True), 0.68)
    assert study.choose.shape(None, "4x") == "4L-192"  # 0.74 against 0.68; with the stale 0.66, 4L-144 would win
    assert study.asked == [("tinybert", "4L-144", 42, "full", True, None, "auto")]
    assert study.record.choices["shape_holdout_acc"]["4x"] == {"4L-192": 0.74, "1L-384": 0.58, "4L-144": 0.68}


def test_a_budget_compared_on_every_candidate_stays_chosen_without_its_runs(study):
    """A work folder lost with its machine: the recorded comparison stands, no candidate is re-made to say it."""
    study.record.choices.update(budget={"2L-384": "full"}, budget_holdout_acc={"2L-384": {"long": 0.79, "full": 0.80}})
    study.record.choices["balance"] = {"2L-384": False}
    assert study.choose.budget(None, "2x") == "full"
    assert study.asked == []


def test_a_lost_work_folder_starts_from_the_committed_choices(tmp_path):
    committed = {"MRPC": {"choices": {"method": "minilm", "shapes": SHAPES}}, "SST-2": {"choices": {"method": "x"}}}
    (tmp_path / "frontier_runs.json").write_text(json.dumps(committed))
    lost = FrontierStudy(TASKS["MRPC"], tmp_path / "lost", tmp_path / "quality", lambda: True, results=tmp_path)
    assert lost.record.choices == {"method": "minilm", "shapes": SHAPES}
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "choices.json").write_text(json.dumps({"method": "tinybert"}))
    again = FrontierStudy(TASKS["MRPC"], kept, tmp_path / "quality", lambda: True, results=tmp_path)
    assert again.record.choices == {"method": "tinybert"}


def _finished_run(work, name: str, holdout: float, dev_acc: float):
    """A run folder as `distill` and `export` leave it: the held-out figure, the config, the int8 export."""
    run = work / name
    run.mkdir(parents=True)
    report = {"selection": {"kept_holdout": {"accuracy": holdout}}, "models": {"model": {"dev": {"accuracy": dev_acc}}}}
    (run / files.REPORT).write_text(json.dumps(report))
    (run / "config.json").write_text(json.dumps({"num_hidden_layers": 2, "hidden_size": 384}))
    int8 = work / f"{name}-int8"
    int8.mkdir()
    (int8 / files.EXPORT_RECORD).write_text(json.dumps({"dev": {"onnx": {"accuracy": dev_acc, "f1": 0.8}}}))
    (int8 / "model.onnx").write_bytes(b"0" * 2**20)
    return run


def test_a_finished_run_is_committed_and_a_lost_one_is_not_made_again(tmp_path):
    """A session's machine takes its run folders with it: each finished run's figures go into the committed
    record at once, and a later study reads its held-out score from there instead of training it again."""
    work = tmp_path / "first" / "MRPC"
    study = FrontierStudy(TASKS["MRPC"], work, tmp_path / "quality", lambda: True, results=tmp_path)
    teacher = _finished_run(tmp_path / "quality", "teacher-lr0.0001", 0.81, 0.82)
    run = _finished_run(work, "tinybert-2L-384-long-42", 0.76, 0.75)
    study.record.add(run, study.jobs.teacher_path())
    record = json.loads((tmp_path / "frontier_runs.json").read_text())["MRPC"]["runs"][run.name]
    assert record == {"holdout_acc": 0.76, "dev": {"accuracy": 0.75, "f1": 0.8}, "shape": "2L-384", "disk_mb": 1.0,
                      "teacher_dev_acc": 0.82}  # fmt: skip

    def no_training(*args, **kwargs):
        raise AssertionError("a recorded run was trained again")

    later = FrontierStudy(
        TASKS["MRPC"], tmp_path / "second" / "MRPC", tmp_path / "quality", lambda: True, results=tmp_path,
        library=Library(distill=no_training),
    )  # fmt: skip
    lost = later.jobs.student(teacher, "tinybert", "2L-384", 42, budget="long")
    assert not lost.exists() and later.record.made(lost) and later.record.held_out_acc(lost) == 0.76
    assert not later.record.made(later.jobs.run_path("tinybert", "2L-384", 43, budget="long"))


def test_a_lost_students_speed_is_timed_on_a_stand_in_of_its_shape(tmp_path, tiny_teacher):
    """The report times a student whose folder is gone as its shape with random weights, shipped as int8, beside
    the models that are here, and its row says so."""
    from bench.frontier_report import _row, _speeds

    study = FrontierStudy(TASKS["MRPC"], tmp_path / "MRPC", tmp_path / "quality", lambda: True, results=tmp_path)
    study.record.runs["tinybert-1L-32-42"] = {"shape": "1L-32"}
    speeds = _speeds(study, tiny_teacher, {"teacher": tiny_teacher, "tinybert-1L-32": study.work / "gone"})
    assert "stand_in" not in speeds["teacher"] and speeds["tinybert-1L-32"]["stand_in"]
    assert speeds["tinybert-1L-32"]["examples_per_s_batch32"] > 0 and speeds["tinybert-1L-32"]["latency_ms_batch1"] > 0
    row = _row("MRPC", "x", "student", "1L-32", "ONNX Runtime", "int8", [{"accuracy": 0.7}], [0.7], ["r-42"], 1.0,
               1.0, speeds["tinybert-1L-32"])  # fmt: skip
    assert row["speed_of"] == "a stand-in (random weights)"


def test_a_row_is_made_from_the_recorded_runs_and_names_an_earlier_teacher(tmp_path):
    """Seeds recorded by two sessions make one row (a run finished here is recorded as the report finds it); the
    table says which runs learned from a re-made teacher whose dev accuracy differs."""
    from bench.frontier_page import teacher_note
    from bench.frontier_report import _student_rows, _student_runs

    study = FrontierStudy(TASKS["MRPC"], tmp_path / "MRPC", tmp_path / "quality", lambda: True, results=tmp_path)
    _finished_run(tmp_path / "quality", "teacher-lr0.0001", 0.81, 0.82)
    dev_figures = {"accuracy": 0.74, "f1": 0.80}
    study.record.runs["tinybert-2L-384-long-42"] = {"holdout_acc": 0.70, "dev": dev_figures, "shape": "2L-384",
                                                "disk_mb": 15.0, "teacher_dev_acc": 0.80}  # fmt: skip
    _finished_run(study.work, "tinybert-2L-384-long-43", 0.72, 0.76)
    students = _student_runs(study)
    assert students == {"tinybert-2L-384-long": ["tinybert-2L-384-long-42", "tinybert-2L-384-long-43"]}
    (row,) = _student_rows(study, students, {}, {})
    assert row["seeds"] == 2 and row["acc"] == pytest.approx(0.75) and row["holdout_acc"] == pytest.approx(0.71)
    assert row["teacher_dev_acc"] == [0.80, 0.82]
    note = teacher_note([{"name": "teacher", "kind": "teacher", "acc": 0.82}, row])
    assert "tinybert-2L-384-long" in note and "0.800" in note and "0.820" in note
    same_teacher = {**row, "teacher_dev_acc": [0.80]}
    assert teacher_note([{"name": "teacher", "kind": "teacher", "acc": 0.80}, same_teacher]) == ""


def test_a_task_without_augmentation_trains_no_balance_or_budget_candidates(tmp_path):
    spec = replace(TASKS["SST-2"], budgets=("matched",))
    study = FrontierStudy(spec, tmp_path / "SST-2", tmp_path / "quality", lambda: True, results=tmp_path)  # no record
    assert study.choose.balance(None, "4x") is False
    assert study.choose.budget(None, "4x") == "matched"
    assert "budget" not in study.record.choices and "balance" not in study.record.choices


def test_the_all_rows_budget_adds_every_phrase_and_keeps_the_held_out_slice(tmp_path):
    """SST-2's "all" budget trains on every GLUE training phrase while the teacher saw a subsample: the held-out
    slice must be the subsample's examples, and no training row may carry a held-out phrase's text."""
    from data import read_table

    spec = replace(TASKS["SST-2"], train_rows=2_000)
    study = FrontierStudy(spec, tmp_path / "SST-2", tmp_path / "q", lambda: True, results=tmp_path)
    plain, everything = study.data.plain, study.data.all_rows()
    assert everything.original_train_path == plain.train_path != everything.train_path
    glue = read_table(SHARED_DIR / "data" / "glue" / "SST-2" / "train.tsv")
    rows, subsample = read_table(everything.train_path), read_table(plain.train_path)
    assert set(rows["sentence"]) == set(glue["sentence"]) and len(subsample) == 2_000
    repeated = glue["sentence"].isin(set(subsample["sentence"])).sum() - 2_000  # GLUE rows that repeat a subsample one
    assert len(rows) == len(glue) - repeated
    trained, held = everything.holdout_split(0.05, 0)
    assert held == plain.holdout_split(0.05, 0)[1] and len(held) == 100
    held_texts = set(subsample["sentence"].iloc[held])
    assert not held_texts & set(rows["sentence"].iloc[trained])
    assert len(trained) > 60_000  # the phrases the teacher never saw are trained on


def test_the_report_marks_each_row_that_lost_a_choice():
    from bench.frontier_report import candidate_label

    choices = {
        "shapes": SHAPES,
        "wide_shapes": WIDE,
        "balance": {"4L-192": True, "2L-384": False},
        "start": {"4L-192": "teacher-lowest", "2L-384": "auto"},
        "budget": {"4L-192": "long", "2L-384": "full", "1L-384": "full"},  # 1L-384: compared again at that shape
        "shape": {"4x": "4L-192"},
    }
    assert candidate_label(choices, "tinybert-4L-192-long-balanced-lowest", "tinybert") == (
        "4x (tinybert-4L-192-long-balanced-lowest)"
    )
    assert candidate_label(choices, "tinybert-4L-192-long-balanced", "tinybert").endswith("(start candidate)")
    assert candidate_label(choices, "tinybert-4L-192-long-lowest", "tinybert").endswith("(balance candidate)")
    assert candidate_label(choices, "minilm-1L-384-long-balanced-lowest", "tinybert") == (
        "4x (minilm-1L-384-long-balanced-lowest) (method candidate) (budget candidate) (shape candidate)"
    )
    assert candidate_label(choices, "minilm-1L-384-full-balanced-lowest", "tinybert") == (
        "4x (minilm-1L-384-full-balanced-lowest) (method candidate) (shape candidate)"
    )
    assert (
        candidate_label(choices, "tinybert-2L-384-long", "tinybert") == "2x (tinybert-2L-384-long) (budget candidate)"
    )


def test_a_run_name_says_its_recipe_back():
    """The report reads a run's recipe from its name: every recipe the study makes names itself uniquely and
    parses back to itself; a name the study never makes is refused rather than read as a default."""
    from itertools import product

    from bench.frontier_spec import START_NAMES, Recipe

    recipes = [
        Recipe(method, "4L-192", budget, published_lrs=lrs, balance=balance, start=start)
        for method, budget, lrs, balance, start in product(
            ("tinybert", "minilm"), ("matched", "long", "full"), (False, True), (False, True), START_NAMES
        )
    ]
    assert len({recipe.name for recipe in recipes}) == len(recipes)
    assert all(Recipe.parse(recipe.name) == recipe for recipe in recipes)
    assert Recipe(method="tinybert", shape="1L-144").name == "tinybert-1L-144"
    with pytest.raises(ValueError):
        Recipe.parse("tinybert-1L-144-lowest-long")  # the parts in another order: not a name the study makes


@pytest.mark.slow
def test_the_aug_budget_follows_each_long_phrase_with_its_copies(tmp_path):
    """SST-2's "aug" budget: `augment`'s copies of the longer training phrases (the real demo masked-LM), each
    right after its phrase, short phrases alone; the held-out slice is the subsample's, its copies left out."""
    from bench.frontier_data import _phrase
    from bench.frontier_spec import AUG_COPIES, AUG_MIN_WORDS
    from data import read_table

    spec = replace(TASKS["SST-2"], train_rows=200)
    study = FrontierStudy(spec, tmp_path / "SST-2", tmp_path / "q", lambda: True, results=tmp_path)
    plain, augmented = study.data.plain, study.data.long_augmented()
    owners, examples = augmented.example_of_each_row()
    subsample = list(read_table(plain.train_path)["sentence"])
    rows = list(read_table(augmented.train_path)["sentence"])
    copies = [owners.count(example) - 1 for example in range(examples)]
    long = [len(text.split()) >= AUG_MIN_WORDS for text in subsample]
    assert examples == 200 and sum(long) > 20
    assert all(n == 0 for n, is_long in zip(copies, long) if not is_long)
    assert all(0 < n <= AUG_COPIES for n, is_long in zip(copies, long) if is_long)
    assert [rows[row] for row in range(len(rows)) if row == 0 or owners[row] != owners[row - 1]] == subsample
    trained, held = augmented.holdout_split(0.05, 0)
    assert held == plain.holdout_split(0.05, 0)[1]
    assert not {owners[row] for row in trained} & set(held)
    assert _phrase("a fine , funny film \t1\n") == "a fine , funny film "


def test_a_step_is_timed_once_with_the_seconds_an_interrupted_invocation_carried(tmp_path):
    """A step's time (here 90 s, after 30 s an interrupted invocation checkpointed) is recorded once: a rerun of
    the step (reused work) and a step that took under a second (found made) leave the record as it was."""
    ticks = iter([0.0, 90.0, 90.0, 200.0, 300.0, 300.5])
    record = StudyRecord("MRPC", tmp_path, tmp_path, clock=lambda: next(ticks))
    record.timed("tinybert-2L-384-long-42", lambda: None, carried=30.0)
    record.timed("tinybert-2L-384-long-42", lambda: None)
    record.timed("tinybert-2L-384-long-42 int8", lambda: None)
    assert record.seconds == {"tinybert-2L-384-long-42": 120.0}
    assert json.loads((tmp_path / "seconds.json").read_text()) == record.seconds
