"""GLUE task specs and table reading/writing on the real GLUE files and on GLUE-layout fixtures."""

import pandas as pd
import pytest

from data import GLUE_TASKS, InputError, compute_metrics, find_task_dir, format_for, get_task, read_table
from data.paths import augmented_train_path
from data.tables import scan_table, write_rows
from tests.conftest import GLUE


def test_all_nine_glue_tasks_are_specified():
    assert set(GLUE_TASKS) == {"CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE", "WNLI"}
    assert get_task("mnli").dev_files == ("dev_matched.tsv", "dev_mismatched.tsv")
    assert get_task("stsb").labels is None and get_task("sts-b").metrics[0] == "pearson"
    assert get_task("CoLA").column_names[-1] == "sentence" and get_task("cola").metrics == ("mcc",)
    assert get_task("qqp").is_pair and not get_task("SST2").is_pair


def test_unknown_task_names_the_known_ones():
    with pytest.raises(InputError, match="unknown task 'MRCP'.*MRPC"):
        get_task("MRCP")


@pytest.mark.parametrize("task, rows", [("MRPC", 3668), ("SST-2", 67349), ("STS-B", 5749)])
def test_real_glue_train_files_read_completely(task, rows):
    spec = get_task(task)
    frame = read_table(find_task_dir(spec, GLUE) / "train.tsv")
    assert len(frame) == rows
    assert set(spec.text_columns) | {spec.label_column} <= set(frame.columns)


def test_mrpc_keeps_bom_quotes_and_round_trips(tmp_path):
    source = GLUE / "MRPC" / "train.tsv"
    frame = read_table(source)
    assert frame.columns[0] == "Quality"  # the byte-order mark is not part of the column name
    assert frame.iloc[0]["#1 String"].count('"') == 2  # quotes inside sentences survive (quoting off)
    assert scan_table(source, format_for(source)).bom
    out = tmp_path / "copy.tsv"
    with open(out, "w", encoding="utf-8", newline="") as handle:
        write_rows(frame, handle, format_for(out), header=True)
    pd.testing.assert_frame_equal(read_table(out), frame)


def test_sts_b_float_labels_stay_exact_strings():
    frame = read_table(GLUE / "STS-B" / "train.tsv")
    assert frame["score"].iloc[0] == "5.000"


def test_cola_without_header_and_mnli_dev_files(tmp_path):
    spec = get_task("CoLA")
    (tmp_path / "CoLA").mkdir()
    (tmp_path / "CoLA" / "train.tsv").write_text(
        "gj04\t1\t\tOur friends won't buy this analysis.\ngj04\t0\t*\tThey drank the pub.\n"
    )
    path = find_task_dir(spec, tmp_path) / "train.tsv"
    frame = read_table(path, format_for(path, spec.column_names))
    assert frame["sentence"].tolist()[1] == "They drank the pub." and frame["label"].tolist() == ["1", "0"]


def test_ragged_rows_are_skipped_with_their_line_numbers(tmp_path):
    path = tmp_path / "train.tsv"  # QQP's layout: some rows miss fields, one has extra ones
    path.write_text(
        "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
        "0\t1\t2\tHow do I learn?\tWhat is learning?\t0\n"
        "1\t3\t4\tWhy is the sky blue?\n"
        "2\t5\t6\tIs it?\tIs it so?\t1\textra\n"
        "3\t7\t8\tWhere now?\tWhere then?\t1\n"
    )
    fmt = format_for(path)
    scan = scan_table(path, fmt)
    assert scan.ragged_lines == [3, 4] and scan.rows == 2
    assert read_table(path)["id"].tolist() == ["0", "3"]


def test_bytes_that_are_not_utf8_name_file_and_line(tmp_path):
    path = tmp_path / "train.tsv"
    path.write_bytes("sentence\tlabel\ngood\t1\n".encode() + "caf\xe9 au lait\t0\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"train.tsv, line 3, byte 4: not UTF-8.*iconv"):
        scan_table(path, format_for(path))


def test_csv_and_jsonl_round_trip(tmp_path):
    frame = pd.DataFrame({"review": ['He said "fine", then left.', "two,\nlines"], "stars": ["5", "1"]})
    for name in ("t.csv", "t.jsonl"):
        path = tmp_path / name
        with open(path, "w", encoding="utf-8") as handle:
            write_rows(frame, handle, format_for(path), header=True)
        assert read_table(path).astype(str).equals(frame)


def test_unknown_table_suffix():
    with pytest.raises(InputError, match=r"unknown table format '.xlsx'"):
        format_for("data.xlsx")


def test_missing_glue_data_says_where_to_put_it(tmp_path):
    with pytest.raises(InputError, match=r"no MRPC data found.*glue/MRPC/train.tsv.*--data-dir"):
        find_task_dir(get_task("MRPC"), tmp_path)


def test_augmented_path_avoids_read_only_folders(tmp_path, monkeypatch):
    assert augmented_train_path(tmp_path) == tmp_path / "train_aug.tsv"
    (tmp_path / "ro").mkdir(mode=0o555)
    assert augmented_train_path(tmp_path / "ro").parts[-3:] == ("glue", "ro", "train_aug.tsv")


def test_metrics_against_hand_computed_values():
    got = compute_metrics(("accuracy", "f1", "mcc"), [1, 1, 0, 0], [1, 0, 0, 0])
    assert got["accuracy"] == 0.75 and got["f1"] == pytest.approx(2 / 3)
    assert got["mcc"] == pytest.approx((1 * 2 - 1 * 0) / (2 * 1 * 3 * 2) ** 0.5)
    assert compute_metrics(("pearson", "spearman"), [1, 2, 3], [2, 4, 7])["spearman"] == pytest.approx(1.0)
