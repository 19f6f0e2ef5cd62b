"""A masked-LM backend that answers one question, many times at once: "which words fit this mask?"

It knows nothing of augmentation policy. It loads any local Hugging Face masked-LM folder, splits
sentences into word pieces, and runs all masked copies of many sentences through the encoder in
length-sorted padded batches, projecting onto the vocabulary only at the masked positions.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence
from transformers import AutoModelForMaskedLM, AutoTokenizer

from data import InputError
from data.hardware import TORCH_DTYPES, resolve_device, resolve_precision
from data.memory import bound_kernel_cache, release_freed_memory
from data.paths import check_tokenizer_files

# RoBERTa-style models number positions from pad_token_id + 1, so their table holds fewer positions.
_POSITIONS_AFTER_PADDING = {"roberta", "xlm-roberta", "camembert", "roberta-prelayernorm", "xlm-roberta-xl"}


@dataclass
class Encoded:
    """One sentence as word pieces: `ids` without special tokens, `word_ids[i]` = word of piece i."""

    ids: list[int]
    word_ids: list[int]

    def pieces_per_word(self, n_words: int) -> np.ndarray:
        return np.bincount(np.asarray(self.word_ids, dtype=np.int64), minlength=n_words)


@dataclass(frozen=True)
class _Layout:
    """Where the tokenizer puts its special tokens around one or two segments, learnt by example."""

    prefix: list[int]
    middle: list[int]
    suffix: list[int]
    types: tuple[int, int, int, int, int]  # token type of prefix, segment A, middle, segment B, suffix

    @property
    def n_special(self) -> int:
        return len(self.prefix) + len(self.middle) + len(self.suffix)

    def build(self, masked: list[int], original: list[int] | None) -> tuple[list[int], list[int]]:
        parts = [self.prefix, masked, self.middle] + ([original, self.suffix] if original is not None else [])
        ids = [token for part in parts for token in part]
        types = [t for part, t in zip(parts, self.types) for _ in part]
        return ids, types


# A call holds at most max_batch_tokens x ATTENTION_WIDTH attention scores per head (those of a full call of
# rows this long): the token budget alone would let rows of 512 pieces hold 4x those of 128-piece rows.
# Measured on long pairs (bf16, AMX): 50 MB lower peak at the same speed; at 128, 120 MB for 9% more time.
ATTENTION_WIDTH = 256


class MaskedLM:
    """Top-K whole-word predictions at masked positions of a local masked-LM.

    context="pair" feeds `[CLS] masked sentence [SEP] original sentence [SEP]` (as the TinyBERT
    script does, so predictions stay close to the true word); "single" feeds the masked sentence alone.
    Sentences longer than the model's window are cut to a window centred on the masked word.
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        device: str = "auto",
        dtype: str = "auto",
        batch_size: int = 64,
        max_batch_tokens: int = 8192,
        context: str = "pair",
        max_length: int | None = None,
    ):
        bound_kernel_cache()  # calls come in many shapes
        self.folder = Path(folder)
        self.tokenizer, self.model = _load(self.folder)
        self.device = resolve_device(device)
        self.dtype = TORCH_DTYPES[resolve_precision(dtype, self.device)]
        self.model.to(self.device).eval()
        if self.device.type == "cuda" and self.dtype != torch.float32:
            self.model.to(self.dtype)
        self.batch_size, self.max_batch_tokens, self.context = batch_size, max_batch_tokens, context
        config = self.model.config
        offset = config.pad_token_id + 1 if config.model_type in _POSITIONS_AFTER_PADDING else 0
        limits = [config.max_position_embeddings - offset, max_length or 10**9]
        if self.tokenizer.model_max_length < 10**6:
            limits.append(self.tokenizer.model_max_length)
        self.max_length = min(limits)
        self.layout = self._learn_layout(pair=context == "pair")
        self.window = (self.max_length - self.layout.n_special) // (2 if context == "pair" else 1)
        if self.window < 1:
            raise InputError(f"--max-seq-length {self.max_length} leaves no room for a sentence")
        self.forms, penalty = _vocabulary_filter(self.tokenizer, self.model.config.vocab_size)
        self._penalty = torch.as_tensor(penalty, device=self.device)
        self._types = "token_type_ids" in self.tokenizer.model_input_names
        self._head = _masked_position_head(self.model)

    def _learn_layout(self, pair: bool) -> _Layout:
        example = self.tokenizer(["a"], ["b"] if pair else None, is_split_into_words=True)
        ids, seq = example["input_ids"], example.sequence_ids()
        types = example.get("token_type_ids", [0] * len(ids))
        a = [i for i, s in enumerate(seq) if s == 0]
        b = [i for i, s in enumerate(seq) if s == 1] or [len(ids)]
        return _Layout(
            prefix=ids[: a[0]],
            middle=ids[a[-1] + 1 : b[0]],
            suffix=ids[b[-1] + 1 :] if pair else [],
            types=(types[0], types[a[0]], types[min(a[-1] + 1, len(ids) - 1)], types[b[0]] if pair else 0, types[-1]),
        )

    def encode(self, sentences: list[list[str]]) -> list[Encoded]:
        """Word pieces of each sentence (a list of words), with the word each piece belongs to."""
        if not sentences:
            return []
        batch = self.tokenizer(sentences, is_split_into_words=True, add_special_tokens=False)
        return [Encoded(ids, batch.word_ids(i)) for i, ids in enumerate(batch["input_ids"])]

    def fill_masks(self, encoded: list[Encoded], queries: list[tuple[int, int]], k: int) -> tuple[list[list[str]], int]:
        """For each (sentence index, piece position): the K best whole words for a mask there.

        Returns the candidate lists (best first) and how many queries needed a cut-down window.
        """
        ids, types, positions, originals, cut = self.build_inputs(encoded, queries)
        results: list[list[str]] = [[] for _ in queries]
        for chosen in self._batches(np.asarray([len(row) for row in ids])):
            top = self._predict(
                [ids[i] for i in chosen], [types[i] for i in chosen], positions[chosen], originals[chosen], k
            )
            for i, words in zip(chosen, top):
                results[i] = words
            release_freed_memory()  # else each new shape of call adds to resident memory
        return results, cut

    def _batches(self, lengths: np.ndarray):
        """Rows in length order, cut into batches of at most `batch_size` rows, `max_batch_tokens` padded
        tokens and the attention scores of ATTENTION_WIDTH: long texts make short batches, so memory stays
        bounded whatever the data."""
        order = np.argsort(lengths, kind="stable")
        start = 0
        while start < len(order):
            end = start + 1
            while (
                end < len(order)
                and end - start < self.batch_size
                and (end - start + 1) * lengths[order[end]] <= self.max_batch_tokens
                and (end - start + 1) * lengths[order[end]] ** 2 <= self.max_batch_tokens * ATTENTION_WIDTH
            ):
                end += 1
            yield order[start:end]
            start = end

    def build_inputs(self, encoded: list[Encoded], queries: list[tuple[int, int]]):
        """One input row per query: (ids, token types, mask position, original piece id) per row, and
        how many rows needed a cut-down window. Rows of one sentence share everything but the mask
        position, so they are one repeated tensor with a scattered mask; only over-long sentences need
        windows. See `padded` and `logits_at` for running them."""
        ids_rows: list[torch.Tensor] = [torch.empty(0)] * len(queries)
        type_rows: list[torch.Tensor] = [torch.empty(0)] * len(queries)
        positions = np.empty(len(queries), dtype=np.int64)
        originals = np.empty(len(queries), dtype=np.int64)
        by_sentence: dict[int, list[int]] = {}
        for q, (sentence, _) in enumerate(queries):
            by_sentence.setdefault(sentence, []).append(q)
        cut = 0
        for sentence, members in by_sentence.items():
            pieces = encoded[sentence].ids
            targets = np.asarray([queries[q][1] for q in members])
            starts = np.clip(targets - self.window // 2, 0, max(len(pieces) - self.window, 0))
            cut += len(members) if len(pieces) > self.window else 0
            for start in np.unique(starts):
                same = starts == start
                window = pieces[start : start + self.window]
                row, row_types = self.layout.build(window, window if self.context == "pair" else None)
                local = targets[same] - start + len(self.layout.prefix)
                block = torch.as_tensor(row).repeat(len(local), 1)
                block[torch.arange(len(local)), torch.as_tensor(local)] = self.tokenizer.mask_token_id
                row_types = torch.as_tensor(row_types)
                for q, block_row, position in zip(np.asarray(members)[same], block, local):
                    ids_rows[q], type_rows[q], positions[q] = block_row, row_types, position
                originals[np.asarray(members)[same]] = np.asarray(pieces)[targets[same]]
        return ids_rows, type_rows, positions, originals, cut

    def padded(self, ids: list[torch.Tensor], types: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        """Rows of `build_inputs` as one padded batch of model inputs on the model's device."""
        pad = self.tokenizer.pad_token_id or 0
        batch = pad_sequence(ids, batch_first=True, padding_value=pad)
        lengths = torch.as_tensor([len(row) for row in ids])
        inputs = {
            "input_ids": batch.to(self.device),
            "attention_mask": (torch.arange(batch.shape[1]) < lengths[:, None]).long().to(self.device),
        }
        if self._types:
            inputs["token_type_ids"] = pad_sequence(types, batch_first=True).to(self.device)
        return inputs

    def logits_at(self, inputs: dict[str, torch.Tensor], positions: torch.Tensor) -> torch.Tensor:
        """Vocabulary logits at one position per row, computed at those positions only where the head allows."""
        return self._head(self.model, inputs, positions)

    def _predict(
        self, ids: list[torch.Tensor], types: list[torch.Tensor], positions: np.ndarray, originals: np.ndarray, k: int
    ) -> list[list[str]]:
        inputs = self.padded(ids, types)
        autocast = (
            torch.autocast(self.device.type, dtype=self.dtype)
            if self.dtype != torch.float32
            else contextlib.nullcontext()
        )
        with torch.inference_mode(), autocast:
            logits = self.logits_at(inputs, torch.as_tensor(positions, device=self.device)).float()
            logits += self._penalty
            rows = torch.arange(len(ids), device=self.device)
            logits[rows, torch.as_tensor(originals, device=self.device)] = -torch.inf  # never the word itself
            scores, top = logits.topk(min(k, logits.shape[1]), dim=1)
        top, finite = top.cpu().numpy(), torch.isfinite(scores).cpu().numpy()
        return [self.forms[row][ok].tolist() for row, ok in zip(top, finite)]


def _load(folder: Path):
    """Tokenizer and masked-LM from a local folder; refuse folders without a trained masked-LM head."""
    if not (folder / "config.json").is_file():
        raise InputError(
            f"{folder}: not a Hugging Face model folder (no config.json). Set --mlm to a local "
            "masked-LM folder (e.g. ../shared/models/minilm-mlm-demo), or --mlm none for "
            "GloVe candidates only"
        )
    check_tokenizer_files(folder)
    try:
        # Byte-level BPE tokenizers (RoBERTa) need the prefix space to split pre-split words right.
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True, add_prefix_space=True)
        model, info = AutoModelForMaskedLM.from_pretrained(folder, local_files_only=True, output_loading_info=True)
    except (OSError, ValueError, KeyError) as err:
        raise InputError(f"{folder}: cannot load a masked-LM from it: {err}") from None
    if not tokenizer.is_fast:
        raise InputError(f"{folder}: needs a fast tokenizer (tokenizer.json) to map words to pieces")
    if tokenizer.mask_token_id is None:
        raise InputError(f"{folder}: its tokenizer has no mask token, so it is not a masked-LM")
    base = model.base_model_prefix
    head_missing = [key for key in info["missing_keys"] if not key.startswith(base)]
    if head_missing:
        raise InputError(
            f"{folder}: this model folder has no masked-LM head (missing weights: "
            f"{', '.join(sorted(head_missing)[:3])}...). It looks like a plain encoder. Set --mlm to a "
            "*ForMaskedLM folder, or --mlm none to take GloVe candidates for every word"
        )
    return tokenizer, model


def _vocabulary_filter(tokenizer, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Each vocabulary entry as a plain word, and a 0/-inf score penalty that rules out sub-word
    pieces, special and unused tokens, punctuation and numbers."""
    vocabulary = [token or "" for token in tokenizer.convert_ids_to_tokens(list(range(size)))]
    model_kind = type(tokenizer.backend_tokenizer.model).__name__
    if model_kind == "WordPiece":
        continuation = tokenizer.backend_tokenizer.model.continuing_subword_prefix
        forms = [token for token in vocabulary]
        starts_word = [not token.startswith(continuation) for token in vocabulary]
    else:
        marker = "\u0120" if sum(t.startswith("\u0120") for t in vocabulary) > len(vocabulary) // 10 else "\u2581"
        forms = [token[len(marker) :] if token.startswith(marker) else token for token in vocabulary]
        starts_word = [token.startswith(marker) for token in vocabulary]
    special = set(tokenizer.all_special_ids)
    allowed = np.array(
        [ok and form.isalpha() and i not in special for i, (form, ok) in enumerate(zip(forms, starts_word))]
    )
    return np.asarray(forms, dtype=object), np.where(allowed, 0.0, -np.inf).astype(np.float32)


def _masked_position_head(model):
    """A function (model, inputs, positions) -> logits at the masked positions only.

    Known heads are applied to the gathered hidden states alone, which saves a [batch x length x
    vocabulary] projection; other masked-LMs fall back to their full output, gathered afterwards.
    """

    def gather(hidden, positions):
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), positions]

    def encoder(m, inputs):
        return m.base_model(**inputs).last_hidden_state

    if hasattr(model, "cls"):  # BERT
        return lambda m, inputs, at: m.cls(gather(encoder(m, inputs), at))
    if hasattr(model, "lm_head"):  # RoBERTa, XLM-R, CamemBERT
        return lambda m, inputs, at: m.lm_head(gather(encoder(m, inputs), at))
    if hasattr(model, "vocab_projector"):  # DistilBERT
        return lambda m, inputs, at: m.vocab_projector(
            m.vocab_layer_norm(m.activation(m.vocab_transform(gather(encoder(m, inputs), at))))
        )
    return lambda m, inputs, at: gather(m(**inputs).logits, at)
