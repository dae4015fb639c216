"""Windows of long texts, cut as the Rust side cuts them, and the later windows of long negative posts
that training shows the model.

The Rust side cuts a text longer than one window into overlapping, sentence-aware windows and takes,
per category, the maximum of their probabilities (`crates/safespace/src/model/window.rs`). A window
that starts mid-post is text that training on the first tokens of every row never shows the model,
and such windows of long negative posts scored too high (`long_posts.py`); so the recipe adds every
window but the first of RMHD's self-harm-negative posts to the training rows
(`later_negative_windows`). `needle_windows` builds the rows of an A/B that did not ship: a crisis
sentence placed inside such a post (`long_posts.py recipe`).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

import data as datasets_module

# As in crates/safespace/src/model/mod.rs: what the tokenizer reads, and the windows kept.
MAX_MODEL_BYTES = 64 * 1024
MAX_WINDOWS = 64


def window_spans(ids: list[int], size: int, ends: set[int]) -> list[tuple[int, int]]:
    """`window::windows`, as (start, end) token indices: at most `size` tokens each, overlapping by a
    quarter, each ending after the last sentence end in its second half when there is one.

    >>> window_spans(list(range(10)), 4, {5})
    [(0, 4), (3, 6), (5, 9), (8, 10)]
    """
    size = max(size, 4)
    if len(ids) <= size:
        return [(0, len(ids))]
    overlap, out, start = size // 4, [], 0
    while True:
        hard_end = min(start + size, len(ids))
        if hard_end == len(ids):
            return out + [(start, hard_end)]
        end = next((i + 1 for i in range(hard_end - 1, start + size // 2 - 1, -1) if ids[i] in ends), hard_end)
        out.append((start, end))
        start = max(end - overlap, start + 1)


def sentence_ends(token_id) -> set[int]:
    """The ids (`token_id` of a token) of `.`, `!` and `?`, after which a window prefers to end."""
    return {token_id(t) for t in ".!?"}


def text_windows(ids_of, text: str, size: int, ends: set[int]) -> list[list[int]]:
    """The token ids of a text's windows as the Rust side scores them: its first 64 KiB (cut at a
    character boundary) tokenized by `ids_of`, cut by `window_spans`, at most `MAX_WINDOWS`."""
    ids = ids_of(text.encode()[:MAX_MODEL_BYTES].decode(errors="ignore"))
    return [ids[start:end] for start, end in window_spans(ids, size, ends)[:MAX_WINDOWS]]


def window_characters(text: str, tokenizer, size: int, ends: set[int]) -> list[tuple[int, int]]:
    """The character spans in `text` of its windows, `window_spans` of `size` tokens (the Rust side
    scores the first `MAX_WINDOWS` of them, of the first 64 KiB)."""
    encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    offsets = encoding["offset_mapping"]
    return [(offsets[start][0], offsets[end - 1][1]) for start, end in window_spans(encoding["input_ids"], size, ends)]


def needle_material(table: pd.DataFrame, split: str) -> tuple[list[str], pd.DataFrame]:
    """`(posts, sentences)` of `split`: the texts of RMHD's self-harm-negative posts over 1,200
    characters, and the self-harm positives of 30-200 characters (rows, in table order), from which
    a crisis sentence is placed inside a long post."""
    rows = table[table["split"] == split]
    posts = list(rows[(rows["source"] == "rmhd") & (rows["self_harm"] == 0) & (rows["text"].str.len() > 1200)]["text"])
    return posts, rows[(rows["self_harm"] == 1) & rows["text"].str.len().between(30, 200)]


def later_negative_windows(table: pd.DataFrame, tokenizer, data: Path, size: int) -> pd.DataFrame:
    """Every window but the first (`window_spans` of `size` tokens, of the first 64 KiB, at most
    `MAX_WINDOWS`, as the Rust side reads them) of RMHD's training-split posts that are self-harm
    negatives, as text rows of their post (its source, split and labels). A window that holds a
    Suicide Risk Lexicon phrase is left unknown for self-harm (only the control subreddits' posts,
    negatives whatever they say, have such windows). As text, a window is tokenized again when it
    trains: one that starts inside a word starts with a whole word piece."""
    ends = sentence_ends(tokenizer.convert_tokens_to_ids)
    negatives = (table["source"] == "rmhd") & (table["self_harm"] == 0) & (table["split"] == "train")
    rows = []
    for post in table[negatives].to_dict("records"):
        text = post["text"].encode()[:MAX_MODEL_BYTES].decode(errors="ignore")
        for start, end in window_characters(text, tokenizer, size, ends)[1:MAX_WINDOWS]:
            rows.append({**post, "text": text[start:end]})
    later = pd.DataFrame(rows, columns=table.columns)
    later.loc[datasets_module.mentions_risk(later["text"], data), "self_harm"] = np.nan
    return later


def with_later_windows(table: pd.DataFrame, tokenizer, data: Path, size: int) -> pd.DataFrame:
    """The table followed by its `later_negative_windows` of `size` tokens: the recipe's rows. The
    table's own rows keep their positions; the column `later_window` tells the two apart."""
    later = later_negative_windows(table, tokenizer, data, size)
    unknown = int(later["self_harm"].isna().sum())
    print(f"{len(later)} later windows of RMHD's negative training posts ({unknown} unknown: a lexicon phrase)", flush=True)
    return pd.concat([table.assign(later_window=False), later.assign(later_window=True)], ignore_index=True)


def needle_windows(table: pd.DataFrame, tokenizer, size: int, count: int, seed: int) -> pd.DataFrame:
    """`count` short self-harm positives of the training split (`needle_material`, public sources),
    each put after a sentence end drawn at random in one of its long negative posts, as a window
    (`window_characters` of `size` tokens) that holds the whole sentence, drawn where two do: a row of
    the sentence's source and labels. What the maximum over a post's windows has to find, and what
    training on the first tokens of every row never shows: a crisis statement among sentences that
    are not."""
    ends = sentence_ends(tokenizer.convert_tokens_to_ids)
    hay, positives = needle_material(table, "train")
    positives = positives[positives["source"] != "team"]
    rng = np.random.default_rng(seed)
    rows = []
    for needle in positives.sample(min(count, len(positives)), random_state=seed).to_dict("records"):
        post = hay[rng.integers(len(hay))].encode()[:MAX_MODEL_BYTES].decode(errors="ignore")
        cuts = [m.end() for m in re.finditer(r"[.!?] ", post)] or [len(post) // 2]
        cut = cuts[rng.integers(len(cuts))]
        text = post[:cut] + needle["text"] + " " + post[cut:]
        holding = [(a, b) for a, b in window_characters(text, tokenizer, size, ends) if a <= cut and cut + len(needle["text"]) <= b]
        if holding:
            a, b = holding[rng.integers(len(holding))]
            rows.append({**needle, "text": text[a:b]})
    return pd.DataFrame(rows, columns=table.columns)
