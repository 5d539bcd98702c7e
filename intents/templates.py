"""Sentence templates (intents/templates/<intent>.txt), hassil style, and the sampler that expands them.

`(a|b)` is a choice, `[x]` is optional, `{slot}` is filled from templates/values.json. Expansion is
sampled with a fixed seed, so training sentences (and so the trained model) are deterministic.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import TypeAlias

SHAPES_CAP = 256  # a template with more wordings than this is only sampled


@dataclass(frozen=True)
class Slot:
    name: str


@dataclass(frozen=True)
class Choice:
    options: tuple[Nodes, ...]  # each option is a sequence of nodes


@dataclass(frozen=True)
class Optional_:
    choice: Choice


Node: TypeAlias = "str | Slot | Choice | Optional_"
Nodes: TypeAlias = "tuple[Node, ...]"  # a template, or one option of a choice: nodes in a row


class TemplateError(ValueError):
    pass


def parse_template(line: str) -> Nodes:
    """A template line as a sequence of nodes; raises TemplateError on unbalanced brackets."""
    (sequence,), position = _options(line, 0, closer=None)
    if position != len(line):
        raise TemplateError(f"unexpected {line[position]!r} at {position} in {line!r}")
    return sequence


def _options(line: str, i: int, closer: str | None) -> tuple[tuple[Nodes, ...], int]:
    """The options of a choice up to `closer`, and the position after it; at the top level (no closer)
    "|" is plain text, so the line is one option."""
    options: list[Nodes] = []
    current: list[Node] = []
    text = ""
    while i < len(line):
        c = line[i]
        if c in "([":
            if text:
                current.append(text)
                text = ""
            inner, i = _options(line, i + 1, ")" if c == "(" else "]")
            choice = Choice(inner)
            current.append(choice if c == "(" else Optional_(choice))
            continue
        if c == "{":
            end = line.find("}", i)
            if end < 0:
                raise TemplateError(f"unclosed {{ in {line!r}")
            if text:
                current.append(text)
                text = ""
            current.append(Slot(line[i + 1 : end].strip()))
            i = end + 1
            continue
        if c == "|" and closer is not None:
            if text:
                current.append(text)
                text = ""
            options.append(tuple(current))
            current = []
            i += 1
            continue
        if c in ")]":
            if c != closer:
                raise TemplateError(f"unbalanced {c!r} in {line!r}")
            if text:
                current.append(text)
            options.append(tuple(current))
            return tuple(options), i + 1
        text += c
        i += 1
    if closer is not None:
        raise TemplateError(f"missing {closer!r} in {line!r}")
    if text:
        current.append(text)
    return (tuple(current),), i


def sample(sequence: Nodes, rng: random.Random, values: dict[str, list[str]]) -> str:
    parts: list[str] = []
    for node in sequence:
        if isinstance(node, str):
            parts.append(node)
        elif isinstance(node, Slot):
            parts.append(rng.choice(values[node.name]))
        elif isinstance(node, Optional_):
            if rng.random() < 0.5:
                parts.append(sample(rng.choice(node.choice.options), rng, values))
        else:
            parts.append(sample(rng.choice(node.options), rng, values))
    return " ".join("".join(parts).split())


def shapes(sequence: Nodes, values: dict[str, list[str]], cap: int) -> list[str]:
    """Every sentence of a template with each slot at its first value, or none past `cap` sentences:
    a short template's every wording is learnt ("show {account}" too), not only those the sampler drew."""
    sentences = [""]
    for node in sequence:
        if isinstance(node, str):
            parts = [node]
        elif isinstance(node, Slot):
            parts = [values[node.name][0]]
        else:
            choice = node.choice if isinstance(node, Optional_) else node
            parts = [p for option in choice.options for p in shapes(option, values, cap)]
            parts += [""] if isinstance(node, Optional_) else []
        if len(sentences) * len(parts) > cap:
            return []
        sentences = [a + b for a in sentences for b in parts]
    return [" ".join(s.split()) for s in sentences]


def slots_of(sequence: Nodes) -> set[str]:
    found: set[str] = set()
    for node in sequence:
        if isinstance(node, Slot):
            found.add(node.name)
        elif isinstance(node, Optional_):
            for option in node.choice.options:
                found |= slots_of(option)
        elif isinstance(node, Choice):
            for option in node.options:
                found |= slots_of(option)
    return found


def template_files() -> Traversable:
    return resources.files("intents").joinpath("templates")


@cache
def load_templates() -> dict[str, tuple[Nodes, ...]]:
    """intent -> its parsed templates."""
    out: dict[str, tuple[Nodes, ...]] = {}
    for entry in sorted(template_files().iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".txt"):
            continue
        lines = [line.strip() for line in entry.read_text("utf-8").splitlines()]
        out[entry.name.removesuffix(".txt")] = tuple(
            parse_template(line) for line in lines if line and not line.startswith("#")
        )
    return out


@cache
def load_values() -> dict[str, list[str]]:
    raw = json.loads(template_files().joinpath("values.json").read_text("utf-8"))
    return {k: v for k, v in raw.items() if isinstance(v, list)}


def expand(
    intent_templates: dict[str, tuple[Nodes, ...]], per_intent: int, seed: int = 0
) -> list[tuple[str, str]]:
    """About `per_intent` distinct sentences for each intent, drawn evenly from its templates, and every
    wording of its short templates (`shapes`)."""
    values = load_values()
    out: list[tuple[str, str]] = []
    for intent, templates in intent_templates.items():
        rng = random.Random(f"{seed}:{intent}")
        seen: set[str] = set()
        tries = 0
        while len(seen) < per_intent and tries < per_intent * 4 and templates:
            template = templates[tries % len(templates)]
            tries += 1
            seen.add(sample(template, rng, values))
        seen.update(s for template in templates for s in shapes(template, values, SHAPES_CAP))
        out.extend((sentence, intent) for sentence in sorted(seen))
    return out
