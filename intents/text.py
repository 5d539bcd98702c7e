"""Tokens of an utterance: normalised words for matching, with offsets back into what was written.

Matching works on lower-case, shorthand-expanded words ("w/" -> "with"); free-text slots are cut from
the original text, so every token keeps its span in the raw string.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from intents.datafiles import read_json

MAX_CHARS = 600  # longer input is read only this far: a chat turn is never longer, and latency stays bounded
_CHUNK = re.compile(r"\S+")
_EDGE_PUNCT = "\"'“”‘’()[]{}<>,.!?;:…*_~`"
_POSSESSIVE = re.compile(r"^(.+?)['’]s$|^(.+s)['’]$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029]")
_ASCII_ARROW = re.compile(r"[-=~—–]+>")  # "->", "=>", "-->", "—>": a move, read as "to"
_EMOJI_CODE = re.compile(r":([a-z0-9_+-]*[a-z+][a-z0-9_+-]*):", re.IGNORECASE)  # Slack's ":tada:", ":+1:"
_EMOJI_MARKS = {0x200D, 0x20E3, 0xFE0E, 0xFE0F}  # joiners, keycaps and variation selectors inside an emoji
_GLUED_COLON = re.compile(r"^([^\W\d_]{2,}):((?:[^\W_]|\$).*)$")  # "acme:won", "re:pricing", "acme:60k"


@dataclass(frozen=True)
class Token:
    norm: str  # lower case, shorthand expanded; "" never occurs
    start: int  # span in the raw text
    end: int
    possessive: bool = False
    punct: bool = False


@cache
def shorthand() -> dict[str, str]:
    raw = read_json("shorthand.json")
    return {k: v for k, v in raw.items() if not k.startswith("_")}


@cache
def _emoji() -> tuple[dict[str, str], dict[str, str]]:
    raw = read_json("emoji.json")
    return raw["words"], raw["alone"]


@cache
def _glued_prefixes() -> tuple[str, ...]:
    """Shorthand written onto the next word: "w/acme", "re:pricing"."""
    return tuple(
        sorted((k for k in shorthand() if k.endswith(("/", ":")) and len(k) > 1), key=len, reverse=True)
    )


def _is_arrow(char: str) -> bool:
    return "RIGHTWARDS" in unicodedata.name(char, "") and "ARROW" in unicodedata.name(char, "")


def _is_emoji(char: str) -> bool:
    """A pictograph, symbol or emoji modifier: read as a word (data/emoji.json) or dropped."""
    code = ord(char)
    return (
        code in _EMOJI_MARKS
        or 0x1F000 <= code <= 0x1FAFF
        or 0xE0020 <= code <= 0xE007F  # tag characters of flag sequences
        or (unicodedata.category(char) in ("So", "Sk") and code > 0x7F)
    )


def _pieces(raw: str, start: int, end: int) -> list[tuple[int, int, str]]:
    """A whitespace chunk split into (start, end, kind) pieces: 'text', 'arrow' or 'emoji'
    (a pictograph or a Slack emoji code). "globex->won" is three pieces, "won🎉" two."""
    pieces: list[tuple[int, int, str]] = []
    text_start = i = start
    while i < end:
        char = raw[i]
        arrow = _ASCII_ARROW.match(raw, i, end)
        code = (
            _EMOJI_CODE.match(raw, i, end)
            if char == ":" and (i == start or not raw[i - 1].isalnum())
            else None
        )
        if arrow is not None and not (i > start and raw[i - 1] in "<-="):
            width, kind = arrow.end() - i, "arrow"
        elif code is not None:
            width, kind = code.end() - i, "emoji"
        elif ord(char) > 0x7F and _is_arrow(char):
            width, kind = 1, "arrow"
        elif ord(char) > 0x7F and _is_emoji(char):
            width, kind = 1, "emoji"
        else:
            i += 1
            continue
        if text_start < i:
            pieces.append((text_start, i, "text"))
        pieces.append((i, i + width, kind))
        i = text_start = i + width
    if text_start < end:
        pieces.append((text_start, end, "text"))
    return pieces


def _split_glued(raw: str, start: int, end: int) -> list[tuple[int, int]]:
    """ "w/acme" -> "w/", "acme"; "acme:negotiation" -> "acme:", "negotiation" (a time like 10:30 stays)."""
    word = fold(raw[start:end])
    if word in shorthand():
        return [(start, end)]
    for prefix in _glued_prefixes():
        if word.startswith(prefix) and len(word) > len(prefix) and word[len(prefix)].isalnum():
            return [(start, start + len(prefix)), *_split_glued(raw, start + len(prefix), end)]
    match = _GLUED_COLON.match(raw, start, end)
    if match is not None:
        cut = match.start(2)
        return [(start, cut), *_split_glued(raw, cut, end)]
    return [(start, end)]


def fold(text: str) -> str:
    """Lower case without accents, apostrophes or dots: how names and words are compared."""
    if text.isascii():  # the common case, and the hot one when 100,000 names are indexed
        return text.lower()
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.replace("’", "'")


def clean(text: str) -> str:
    return _CONTROL.sub(" ", text[:MAX_CHARS])


def tokenize(raw: str) -> list[Token]:
    """Words and edge punctuation of `raw` (already cleaned), shorthand expanded, arrows read as "to",
    emoji read as their word (data/emoji.json) or dropped."""
    tokens: list[Token] = []
    emoji_words, alone = _emoji()
    from_emoji = 0
    for chunk in _CHUNK.finditer(raw):
        for start, end, kind in _pieces(raw, chunk.start(), chunk.end()):
            if kind == "arrow":
                tokens.append(Token("to", start, end))
            elif kind == "emoji":
                name = raw[start:end].strip(":").lower()
                word = emoji_words.get(name)
                if word is not None:
                    tokens.append(Token(word, start, end))
                    from_emoji += 1
            else:
                for first, last in _split_glued(raw, start, end):
                    _add_word(raw, first, last, tokens)
    if tokens and from_emoji == len(tokens):
        tokens = [Token(alone.get(t.norm, t.norm), t.start, t.end) for t in tokens]
    return tokens


def _add_word(raw: str, start: int, end: int, tokens: list[Token]) -> None:
    """The tokens of one word as written: edge punctuation, the word (shorthand expanded), punctuation."""
    expand = shorthand()
    word = raw[start:end]
    lead = len(word) - len(word.lstrip(_EDGE_PUNCT))
    trail = len(word) - len(word.rstrip(_EDGE_PUNCT))
    folded = fold(word)
    if folded in expand:  # a shorthand with its own punctuation, like "re:" or "w/"
        lead = trail = 0
    elif lead == len(word):
        tokens.extend(Token(word[i], start + i, start + i + 1, punct=True) for i in range(len(word)))
        return
    for i in range(lead):
        tokens.append(Token(word[i], start + i, start + i + 1, punct=True))
    core_start, core_end = start + lead, end - trail
    core = fold(raw[core_start:core_end])
    possessive = False
    match = _POSSESSIVE.match(core)
    if match and core not in expand and core not in ("it's", "let's"):
        core = match.group(1) or match.group(2)
        possessive = True
    words = expand.get(core, core).split()
    tokens.extend(
        Token(w, core_start, core_end, possessive and i == len(words) - 1) for i, w in enumerate(words)
    )
    for i in range(trail):
        pos = core_end + i
        tokens.append(Token(raw[pos], pos, pos + 1, punct=True))


def joined(tokens: list[Token]) -> tuple[str, list[int]]:
    """The tokens as one normalised string, and where each token starts in it."""
    offsets: list[int] = []
    parts: list[str] = []
    position = 0
    for token in tokens:
        offsets.append(position)
        parts.append(token.norm)
        position += len(token.norm) + 1
    return " ".join(parts), offsets
