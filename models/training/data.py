"""Loads the public labeled sets and the team-written training sets into one table.

Every row has `text`, `source` and one column per category holding 1, 0 or NaN (the source does not
annotate that category; its loss is masked). Splits are assigned from a hash of the text, so a text
lands in the same split on every run and in every experiment.
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

CATEGORIES = ("self_harm", "harassment", "misinformation")
PER_SOURCE_CAP = 3000

csv.field_size_limit(1 << 30)


def _frame(texts, labels, category: str, source: str) -> pd.DataFrame:
    frame = pd.DataFrame({"text": list(texts), "source": source})
    for c in CATEGORIES:
        frame[c] = np.nan
    frame[category] = np.asarray(list(labels), dtype=float)
    return frame


def _clean(text: str) -> str:
    text = html.unescape(str(text))
    text = re.sub(r"<br\s*/?>", " ", text)
    text = re.sub(r"https?://\S+|\bURL\b", " ", text)
    text = re.sub(r"@\w+|@USER", "@user", text)
    text = re.sub(r"^(RT\s+)+", "", text)
    return re.sub(r"\s+", " ", text).strip()


def _crop(text: str, rng: np.random.Generator, low: int = 8, high: int = 40) -> str:
    """Crops a long post to its first 8-40 words, so that length alone cannot reveal the label (the
    suicidal-intention set's positives are long Reddit posts, its negatives short tweets)."""
    words = text.split()
    return " ".join(words[: int(rng.integers(low, high + 1))])


def davidson(root: Path, rng) -> pd.DataFrame:
    rows = pd.read_csv(root / "t-davidson__hate-speech-and-offensive-language/data/labeled_data.csv")
    # Hate speech is harassment; "neither" is not. "Offensive" is left out: it is mostly profanity,
    # which is not harassment by itself, and labelling it either way teaches the wrong lesson.
    rows = rows[rows["class"].isin([0, 2])]
    return _frame(rows["tweet"].map(_clean), (rows["class"] == 0).astype(int), "harassment", "davidson")


def olid(root: Path, rng) -> pd.DataFrame:
    path = root / "olid2019__via__victoriyayeotobo__NLP-CW1/olid-training-v1.0.tsv"
    rows = pd.read_csv(path, sep="\t", encoding="utf-8", encoding_errors="replace", quoting=csv.QUOTE_NONE)
    # Targeted offence (TIN) is harassment; untargeted profanity (UNT) and NOT are not.
    label = ((rows["subtask_a"] == "OFF") & (rows["subtask_b"] == "TIN")).astype(int)
    return _frame(rows["tweet"].map(_clean), label, "harassment", "olid")


def formspring(root: Path, rng) -> pd.DataFrame:
    path = root / "formspring-reynolds2011__via__tanyagarg2509__Virago_MLProject/formspring_data.csv"
    rows = pd.read_csv(path, sep="\t", on_bad_lines="skip", quoting=csv.QUOTE_NONE, dtype=str)
    votes = sum((rows[f"ans{i}"].str.strip().str.lower() == "yes").astype(int) for i in (1, 2, 3))
    text = rows["ques"].fillna("").map(_clean)
    keep = text.str.len() > 3
    return _frame(text[keep], (votes[keep] >= 2).astype(int), "harassment", "formspring")


def suicidal_intention(root: Path, rng) -> pd.DataFrame:
    rows = pd.read_csv(root / "laxmimerit__twitter-suicidal-intention-dataset/twitter-suicidal_data.csv")
    rows = rows.dropna().drop_duplicates("tweet")
    text = [_crop(_clean(t), rng) if y == 1 else _clean(t) for t, y in zip(rows["tweet"], rows["intention"])]
    return _frame(text, rows["intention"].astype(int), "self_harm", "suicidal_intention")


def sdcnl(root: Path, rng, negatives: bool = False) -> pd.DataFrame:
    """r/SuicideWatch posts as positives. r/depression posts are not safe negatives, so they are only
    loaded for the cross-source test (`negatives=True`)."""
    frames = []
    for name in ("training-set.csv", "testing-set.csv"):
        frames.append(pd.read_csv(root / "ayaanzhaque__SDCNL/data" / name))
    rows = pd.concat(frames)
    if not negatives:
        rows = rows[rows["is_suicide"] == 1]
    text = (rows["title"].fillna("") + ". " + rows["selftext"].fillna("")).map(_clean).map(lambda t: _crop(t, rng))
    return _frame(text, rows["is_suicide"].astype(int), "self_harm", "sdcnl")


def constraint(root: Path, rng) -> pd.DataFrame:
    base = root / "diptamath__covid_fake_news/data"
    rows = pd.concat(pd.read_csv(base / n) for n in ("Constraint_Train.csv", "Constraint_Val.csv", "english_test_with_labels.csv"))
    return _frame(rows["tweet"].map(_clean), (rows["label"] == "fake").astype(int), "misinformation", "constraint")


def coaid(root: Path, rng) -> pd.DataFrame:
    texts, labels = [], []
    for path in sorted((root / "cuilimeng__CoAID").glob("*/*.csv")):
        fake = "Fake" in path.name
        rows = pd.read_csv(path, encoding="utf-8", encoding_errors="replace")
        for title in rows.get("title", pd.Series(dtype=str)).dropna():
            texts.append(_clean(title).strip('"'))
            labels.append(int(fake))
    return _frame(texts, labels, "misinformation", "coaid")


def rumor(root: Path, rng) -> pd.DataFrame:
    path = root / "MickeysClubhouse__COVID-19-rumor-dataset/Data/news/news.csv"
    rows = pd.read_csv(path, header=None, names=["id", "label", "text", "sentiment"], encoding="utf-8-sig")
    rows = rows[rows["label"].isin(["F", "T"])]
    return _frame(rows["text"].map(_clean), (rows["label"] == "F").astype(int), "misinformation", "rumor")


def team(datasets: Path) -> pd.DataFrame:
    """Every `datasets/training/*.jsonl` file. The team judged each of its texts on all three
    categories, so a category a row does not name is a 0 (a misinformation example is not self-harm),
    unlike the public sets, which only annotate their own category."""
    rows = [json.loads(line) for path in sorted((datasets / "training").glob("*.jsonl")) for line in path.open()]
    frame = pd.DataFrame({"text": [r["text"] for r in rows], "source": "team"})
    for c in CATEGORIES:
        frame[c] = [float(r.get(c, 0)) for r in rows]
    return frame


PUBLIC = {
    "davidson": davidson,
    "olid": olid,
    "formspring": formspring,
    "suicidal_intention": suicidal_intention,
    "sdcnl": sdcnl,
    "constraint": constraint,
    "coaid": coaid,
    "rumor": rumor,
}


def split_of(text: str) -> str:
    bucket = int(hashlib.sha256(text.lower().encode()).hexdigest()[:8], 16) % 10
    return "test" if bucket == 0 else "val" if bucket == 1 else "train"


def load(data: Path, datasets: Path, seed: int) -> pd.DataFrame:
    """All sources, each capped at PER_SOURCE_CAP rows (stratified by label), deduplicated by text."""
    rng = np.random.default_rng(seed)
    frames = []
    for name, loader in PUBLIC.items():
        frame = loader(data, rng)
        frame = frame[frame["text"].str.len() > 0]
        category = next(c for c in CATEGORIES if frame[c].notna().any())
        if len(frame) > PER_SOURCE_CAP:
            share = PER_SOURCE_CAP / len(frame)
            frame = pd.concat(
                frame[frame[category] == value].pipe(
                    lambda g: g.sample(max(1, int(round(len(g) * share))), random_state=seed)
                )
                for value in (0.0, 1.0)
            )
        frames.append(frame)
    frames.append(team(datasets))
    table = pd.concat(frames, ignore_index=True)
    table = table.drop_duplicates("text").reset_index(drop=True)
    table["split"] = table["text"].map(split_of)
    return table
