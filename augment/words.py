"""Words of a text, which of them may be replaced, and the text rebuilt with replacements.

Texts are split with NLTK's Treebank tokenizer into character spans, and a variant is made by
substituting spans in the ORIGINAL string: everything not replaced (spacing, quotes, punctuation,
contractions) stays byte for byte as the input had it, so output reads like the input, never
"won ' t".
"""

from __future__ import annotations

from dataclasses import dataclass

from gensim.parsing.preprocessing import STOPWORDS
from nltk.tokenize import TreebankWordTokenizer

_TOKENIZER = TreebankWordTokenizer()


@dataclass(frozen=True)
class Words:
    text: str
    spans: tuple[tuple[int, int], ...]

    @property
    def tokens(self) -> list[str]:
        return [self.text[start:end] for start, end in self.spans]

    def replaceable(self) -> list[bool]:
        """Purely alphabetic words that are not stop words nor glued to a neighbouring piece of the
        same written word ("wo" of "won't", "gon" of "gonna", "PG" of "PG&E"); a glued "'s" or
        punctuation mark is fine ("John's", "evidence.")."""
        tokens, flags = self.tokens, []
        for i, token in enumerate(tokens):
            glued = (
                i + 1 < len(tokens) and self.spans[i + 1][0] == self.spans[i][1] and _joins(tokens[i + 1][:1])
            ) or (i > 0 and self.spans[i - 1][1] == self.spans[i][0] and _joins(tokens[i - 1][-1:]))
            flags.append(token.isalpha() and token.lower() not in STOPWORDS and not glued)
        return flags

    def render(self, replacements: dict[int, str], *, marked: bool = False) -> str:
        """The text with word i replaced by replacements[i], in the original word's case style;
        `marked` shows each replacement as [old→new] (for people, never for output files)."""
        if not replacements:
            return self.text
        pieces, cursor = [], 0
        for i in sorted(replacements):
            start, end = self.spans[i]
            old, new = self.text[start:end], _match_case(replacements[i], self.text[start:end])
            pieces += [self.text[cursor:start], f"[{old}→{new}]" if marked else new]
            cursor = end
        pieces.append(self.text[cursor:])
        return "".join(pieces)

    def word_count(self) -> int:
        """Words with a letter or digit (punctuation marks are not counted)."""
        return sum(any(char.isalnum() for char in token) for token in self.tokens)


def split_words(text: str) -> Words:
    return Words(text, tuple(_TOKENIZER.span_tokenize(text)))


def _joins(char: str) -> bool:
    """Whether a character glued to a word makes it part of a longer written word."""
    return char.isalnum() or (char != "" and char in "&/@_+-")


def _match_case(candidate: str, original: str) -> str:
    if len(original) > 1 and original.isupper():
        return candidate.upper()
    if original[:1].isupper() and candidate[:1].islower():
        return candidate[:1].upper() + candidate[1:]
    return candidate
