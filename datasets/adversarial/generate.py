"""Writes suite.jsonl: every sentence of clean.jsonl and fresh.jsonl under each spelling transform.

    python3 datasets/adversarial/generate.py

Deterministic (no randomness): rerunning gives the same file. Each output row has `text`, `clean` (the
original), `category` (what the clean form is flagged for), `transform` and `set` (the file it came from). The Rust test
`crates/safespace/tests/adversarial.rs` scores both forms and reports detection per transform.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent

LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "$", "t": "7", "l": "1"}
CYRILLIC = {"a": "а", "c": "с", "e": "е", "i": "і", "o": "о", "p": "р", "x": "х", "y": "у", "s": "ѕ"}
GREEK = {"a": "α", "i": "ι", "k": "κ", "n": "η", "o": "ο", "u": "υ", "v": "ν", "t": "τ"}
EMOJI = {"o": "⭕", "i": "ℹ️", "a": "🅰️", "x": "❌", "b": "🅱️"}


def per_letter(text: str, table: dict[str, str], every: int = 1) -> str:
    """Replaces mapped letters; with `every` = 2 only every second eligible one (how people write)."""
    out, seen = [], 0
    for ch in text:
        if ch in table:
            seen += 1
            out.append(table[ch] if seen % every == 0 else ch)
        else:
            out.append(ch)
    return "".join(out)


def shift(text: str, upper_a: int, lower_a: int) -> str:
    """Maps ASCII letters into another Unicode alphabet (fullwidth, mathematical bold...)."""
    return "".join(
        chr(lower_a + ord(c) - 97) if "a" <= c <= "z" else chr(upper_a + ord(c) - 65) if "A" <= c <= "Z" else c
        for c in text
    )


def inside_words(text: str, joiner: str) -> str:
    return " ".join(joiner.join(word) for word in text.split(" "))


def repeat_vowels(text: str) -> str:
    return "".join(c * 3 if c in "aeiou" else c for c in text)


TRANSFORMS = {
    "leetspeak": lambda t: per_letter(t, LEET, every=2),
    "leetspeak_full": lambda t: per_letter(t, LEET),
    "cyrillic_homoglyphs": lambda t: per_letter(t, CYRILLIC),
    "greek_homoglyphs": lambda t: per_letter(t, GREEK),
    "fullwidth": lambda t: shift(t, 0xFF21, 0xFF41),
    "math_bold": lambda t: shift(t, 0x1D400, 0x1D41A),
    "math_script_bold": lambda t: shift(t, 0x1D4D0, 0x1D4EA),
    "zero_width_space": lambda t: inside_words(t, "\u200b"),
    "zero_width_joiner": lambda t: inside_words(t, "\u200d"),
    "bidi_controls": lambda t: " ".join(f"\u202d{w}\u202c" for w in t.split(" ")) + "\u2066\u2069",
    "inserted_dots": lambda t: inside_words(t, "."),
    "inserted_dashes": lambda t: inside_words(t, "-"),
    "spaced_letters": lambda t: "   ".join(" ".join(word) for word in t.split(" ")),
    "repeated_letters": repeat_vowels,
    "emoji_letters": lambda t: per_letter(t, EMOJI),
    "upper_case": str.upper,
}


def main() -> None:
    sets = {"clean": HERE / "clean.jsonl", "fresh": HERE / "fresh.jsonl"}
    with (HERE / "suite.jsonl").open("w") as out:
        for name, transform in TRANSFORMS.items():
            for set_name, path in sets.items():
                for line in path.open():
                    row = json.loads(line)
                    record = {"text": transform(row["text"]), "clean": row["text"], "category": row["category"], "transform": name, "set": set_name}
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
