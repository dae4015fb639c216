"""Loads the nineteen public labeled sets and the team-written training sets into one table.

Every row has `text`, `source`, `key` (the de-duplication key) and one column per category holding
1, 0 or NaN (the source does not annotate that category, so its loss is masked). Each source's mapping
to our three labels, and why, is the table in README.md; the loader functions below implement it.

    table = load(Path("../shared/data"), Path("datasets"))

Splits come from a hash of the de-duplication key, so a text lands in the same split on every run and
in every experiment. `sampling_weights` gives the per-row probabilities the training sampler draws
from: sources are balanced against each other, and labels within a source.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import html
import json
import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

CATEGORIES = ("self_harm", "harassment", "misinformation")
NAN = float("nan")

csv.field_size_limit(1 << 30)


# --- text clean-up -----------------------------------------------------------------------------------

# Every user placeholder the sources use (`@USER`, `[USER]`, `<user>`, real handles) becomes "@user";
# every link placeholder or link becomes "http://link". HateXplain's other ekphrasis tags lose their
# brackets ("<number>" -> "0").
_USER = re.compile(r"@\w+|\[user\]|<user>", re.IGNORECASE)
_URL = re.compile(r"https?://\S+|www\.\S+|\[url\]|<url>|\bURL\b", re.IGNORECASE)
_TAGS = {"number": "0", "percent": "0%", "money": "$0", "time": "0:00", "date": "1/1", "phone": "0"}
_TAG = re.compile(r"<(number|percent|money|time|date|phone|hashtag|/hashtag|allcaps|/allcaps|elongated|repeated|emphasis|censored)>")


def clean(text: str) -> str:
    """One form for HTML entities, line breaks, placeholders, retweet prefixes and white space."""
    text = html.unescape(str(text))
    text = re.sub(r"<br\s*/?>", " ", text)
    text = _URL.sub("http://link", text)
    text = _USER.sub("@user", text)
    text = _TAG.sub(lambda m: _TAGS.get(m.group(1), ""), text)
    text = re.sub(r"^(RT\s+)+", "", text)
    return re.sub(r"\s+", " ", text).strip()


def dedup_key(text: str) -> str:
    """The text as de-duplication sees it: lower case (the model's tokenizer is uncased), placeholders
    and ASCII punctuation dropped, white space folded. Emoji and other symbols stay, so Hatemoji's
    contrast twins, which differ only in an emoji, stay apart."""
    text = text.lower().replace("@user", " ").replace("http://link", " ")
    text = re.sub(r"[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def crop(text: str, rng: np.random.Generator, low: int = 8, high: int = 40) -> str:
    """The first 8-40 words of a long post, so that length alone cannot reveal the label (the
    suicidal-intention set's positives are long Reddit posts, its negatives short tweets)."""
    words = text.split()
    return " ".join(words[: int(rng.integers(low, high + 1))])


def _frame(texts, source: str, **labels) -> pd.DataFrame:
    """A source's rows; `labels` maps a category to a sequence of 1 / 0 / NaN or to one scalar."""
    frame = pd.DataFrame({"text": [clean(t) for t in texts], "source": source})
    for c in CATEGORIES:
        value = labels.get(c, NAN)
        frame[c] = np.asarray(value, dtype=float) if np.ndim(value) else float(value)
    return frame


def _csv(path: Path, **kw) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8", encoding_errors="replace", **kw)


# --- harassment ---------------------------------------------------------------------------------------

# "Offensive" in Davidson and HateXplain: mostly profanity and slurs used casually. Those rows are
# loaded as harassment and marked in the `offensive` column; `read_offensive` decides per experiment
# whether they stay positives or are left out. Both readings were measured by leave-one-source-out
# (README.md).
OFFENSIVE_READINGS = ("excluded", "positive")


def davidson(root: Path, rng) -> pd.DataFrame:
    rows = _csv(root / "t-davidson__hate-speech-and-offensive-language/data/labeled_data.csv")
    frame = _frame(rows["tweet"], "davidson", harassment=rows["class"].map({0: 1.0, 1: 1.0, 2: 0.0}))
    return frame.assign(offensive=(rows["class"] == 1).to_numpy())


def olid(root: Path, rng) -> pd.DataFrame:
    rows = _csv(root / "olid2019__via__victoriyayeotobo__NLP-CW1/olid-training-v1.0.tsv", sep="\t", quoting=csv.QUOTE_NONE)
    # Targeted offence (TIN) is harassment; untargeted profanity (UNT) and NOT are not.
    label = ((rows["subtask_a"] == "OFF") & (rows["subtask_b"] == "TIN")).astype(float)
    return _frame(rows["tweet"], "olid", harassment=label)


def formspring(root: Path, rng) -> pd.DataFrame:
    path = root / "formspring-reynolds2011__via__tanyagarg2509__Virago_MLProject/formspring_data.csv"
    rows = pd.read_csv(path, sep="\t", on_bad_lines="skip", quoting=csv.QUOTE_NONE, dtype=str)
    votes = sum((rows[f"ans{i}"].str.strip().str.lower() == "yes").astype(int) for i in (1, 2, 3))
    return _frame(rows["ques"].fillna(""), "formspring", harassment=(votes >= 2).astype(float))


def edos(root: Path, rng) -> pd.DataFrame:
    rows = _csv(root / "rewire-online__edos/edos_labelled_aggregated.csv")
    return _frame(rows["text"], "edos", harassment=(rows["label_sexist"] == "sexist").astype(float))


def stormfront(root: Path, rng) -> pd.DataFrame:
    rows = _csv(root / "Vicomtech__hate-speech-dataset/stormfront_sentences.csv")
    # `relation` is hateful only together with neighbouring sentences, `idk/skip` undecided: unknown.
    label = rows["label"].map({"hate": 1.0, "noHate": 0.0})
    return _frame(rows["text"], "stormfront", harassment=label)


# Toxic Spans span types that attack a person or group; "Profane/Obscene" and "Other Toxicity" alone
# are not harassment.
_ATTACK_SPANS = {"Insult", "Identity based Attack", "Threat"}


def toxic_spans(root: Path, rng) -> pd.DataFrame:
    base = root / "ipavlopoulos__toxic_spans"
    comments = _csv(base / "comments.csv")
    annotations = _csv(base / "annotations.csv")
    spans = _csv(base / "spans.csv")
    attacking = set(spans.loc[spans["type"].isin(_ATTACK_SPANS), "annotation"])
    annotations["attack"] = annotations["annotation"].isin(attacking)
    annotations["clean"] = annotations["not toxic"].astype(str).eq("True") & ~annotations["attack"]
    votes = annotations.groupby("comment_id")[["attack", "clean"]].mean()
    # A majority marking an insult, identity attack or threat is harassment; a majority calling the
    # comment not toxic is a borderline negative; the rest (profanity only, split votes) is unknown.
    label = np.where(votes["attack"] > 0.5, 1.0, np.where(votes["clean"] > 0.5, 0.0, NAN))
    votes = votes.assign(label=label)
    rows = comments.merge(votes[["label"]], left_on="comment_id", right_index=True)
    return _frame(rows["comment_text"], "toxic_spans", harassment=rows["label"])


def conda(root: Path, rng) -> pd.DataFrame:
    base = root / "usydnlp__CONDA"
    rows = pd.concat([_csv(base / "CONDA_train.csv"), _csv(base / "CONDA_valid.csv")])
    # Explicit (E) and implicit (I) toxicity are harassment; game actions (A) and other talk (O) not.
    label = rows["intentClass"].map({"E": 1.0, "I": 1.0, "A": 0.0, "O": 0.0})
    return _frame(rows["utterance"].fillna(""), "conda", harassment=label)


def hatexplain(root: Path, rng) -> pd.DataFrame:
    rows = _csv(root / "hatexplain__via__netGed__WebScience24/final_hateXplain.csv")
    frame = _frame(rows["comment"], "hatexplain", harassment=rows["label"].map({"hatespeech": 1.0, "offensive": 1.0, "normal": 0.0}))
    return frame.assign(offensive=(rows["label"] == "offensive").to_numpy())


def hatemoji(root: Path, rng) -> pd.DataFrame:
    base = root / "HannahKirk__Hatemoji"
    rows = pd.concat(_csv(base / f"hatemojibuild_{s}.csv") for s in ("train", "validation", "test"))
    return _frame(rows["text"], "hatemoji", harassment=rows["label_gold"].astype(float))


def toxigen(root: Path, rng) -> pd.DataFrame:
    rows = _csv(root / "microsoft__TOXIGEN/toxigen_seeds.csv")
    return _frame(rows["text"], "toxigen", harassment=(rows["label"] == "hate").astype(float))


# --- self-harm ----------------------------------------------------------------------------------------


def suicidal_intention(root: Path, rng) -> pd.DataFrame:
    rows = _csv(root / "laxmimerit__twitter-suicidal-intention-dataset/twitter-suicidal_data.csv").dropna()
    text = [crop(clean(t), rng) if y == 1 else t for t, y in zip(rows["tweet"], rows["intention"])]
    return _frame(text, "suicidal_intention", self_harm=rows["intention"].astype(float))


def _sdcnl_rows(root: Path) -> pd.DataFrame:
    rows = pd.concat(_csv(root / "ayaanzhaque__SDCNL/data" / n) for n in ("training-set.csv", "testing-set.csv"))
    return rows.assign(text=rows["title"].fillna("") + ". " + rows["selftext"].fillna(""))


def sdcnl(root: Path, rng) -> pd.DataFrame:
    """r/SuicideWatch posts as positives. r/depression posts are not safe negatives (many state
    ideation): they are only read for the leave-one-source-out test (`sdcnl_test`)."""
    rows = _sdcnl_rows(root)
    rows = rows[rows["is_suicide"] == 1]
    return _frame(rows["text"], "sdcnl", self_harm=1.0)


def sdcnl_test(root: Path) -> pd.DataFrame:
    """r/SuicideWatch (1) against r/depression (0): the held-out test for SDCNL."""
    rows = _sdcnl_rows(root)
    return _frame(rows["text"], "sdcnl", self_harm=rows["is_suicide"].astype(float))


def irf(root: Path, rng) -> pd.DataFrame:
    """The annotators' explanation spans for perceived burdensomeness ("everyone would be better off
    without me"), a core construct of suicidal ideation, as short positives. The posts themselves come
    from r/SuicideWatch and r/depression and are not labeled for self-harm; thwarted belongingness
    (loneliness) alone is not self-harm either, so neither is used."""
    base = root / "drmuskangarg__Irf"
    rows = pd.concat(_csv(base / f"{s}_data.csv") for s in ("train", "val", "test"))
    spans = rows.loc[rows["burden"] == 1, "burden_exp"].dropna().astype(str)
    spans = spans[spans.str.split().str.len() >= 3]
    return _frame(spans, "irf", self_harm=1.0)


# Reddit Mental Health Dataset subreddits: the label is the subreddit (weak).
RMHD_POSITIVE = {"suicidewatch", "EDAnonymous"}
RMHD_CONTROLS = {"UKPersonalFinance", "personalfinance", "legaladvice", "teaching", "divorce", "guns",
                 "conspiracy", "ukpolitics", "unitedkingdom"}
# Controls where abuse or false claims are common enough that "not harassment" / "not misinformation"
# cannot be assumed.
RMHD_HEATED = {"conspiracy", "ukpolitics", "unitedkingdom", "guns"}
# Suicide Risk Lexicon constructs whose phrases mark a post as stating ideation, a plan or self-injury.
RISK_CONSTRUCTS = ("Passive suicidal ideation", "Active suicidal ideation & suicidal planning", "Direct self-injury")


@functools.cache
def risk_phrases(root: Path) -> re.Pattern:
    """The lexicon's multi-word phrases for the risk constructs (single words such as "cutting" or
    "bridge" are too ambiguous), plus the stems "suicid" and "kill myself", as one pattern."""
    lexicon = json.loads(next((root / "construct-tracker__pypi/suicide_risk_lexicon").glob("suicide_risk_lexicon_validated_2*.json")).read_text())
    phrases = {t.lower() for c in RISK_CONSTRUCTS for t in lexicon[c]["tokens"] if len(t.split()) >= 2}
    alternatives = sorted((re.escape(p) for p in phrases | {"kill myself"}), key=len, reverse=True)
    return re.compile(r"\bsuicid|\b(?:" + "|".join(alternatives) + r")\b")


def mentions_risk(texts: pd.Series, root: Path) -> np.ndarray:
    """Whether each text holds a risk phrase (risk_phrases), case-insensitively."""
    return texts.str.lower().str.contains(risk_phrases(root)).to_numpy()


def rmhd(root: Path, rng) -> pd.DataFrame:
    """r/suicidewatch and r/EDAnonymous (disordered eating) are self-harm; posts from the other
    mental-health subreddits are negatives unless a Suicide Risk Lexicon phrase marks them as stating
    ideation, a plan or self-injury (then unknown: r/depression is full of ideation); the non-mental-
    health controls are negatives for self-harm. No subreddit is harassment or misinformation, except
    the heated controls, which stay unknown there."""
    rows = _csv(root / "construct-tracker__pypi/rmhd_27subreddits_260posts.csv")
    subreddit = rows["subreddit"]
    risk = mentions_risk(rows["post"], root)
    self_harm = np.where(subreddit.isin(RMHD_POSITIVE), 1.0,
                         np.where(subreddit.isin(RMHD_CONTROLS) | ~risk, 0.0, NAN))
    heated = np.where(subreddit.isin(RMHD_HEATED), NAN, 0.0)
    frame = _frame(rows["post"], "rmhd", self_harm=self_harm, harassment=heated, misinformation=heated)
    return frame.assign(subreddit=subreddit.to_numpy())


def not_self_harm_unless_risk(frame: pd.DataFrame, root: Path) -> pd.DataFrame:
    """A harassment source's rows as self-harm negatives, except those where a Suicide Risk Lexicon
    phrase (mentions_risk) marks ideation, which stay unknown (as in RMHD). Abuse, hate speech, game
    chat and news comments are about others; left unknown, the model never learned that "push mid"
    or "can you guys finish?" is not ideation, and flagged such chat lines (leave-one-source-out on
    held-out CONDA and Formspring in the README)."""
    unknown = frame["self_harm"].isna() & ~mentions_risk(frame["text"], root)
    return frame.assign(self_harm=frame["self_harm"].mask(unknown, 0.0))


def rmhd_test(root: Path) -> pd.DataFrame:
    """r/suicidewatch (1) against every other mental-health subreddit (0), whatever the post says;
    r/EDAnonymous and the controls are left out: the held-out test for RMHD."""
    rows = _csv(root / "construct-tracker__pypi/rmhd_27subreddits_260posts.csv")
    rows = rows[~rows["subreddit"].isin(RMHD_CONTROLS | {"EDAnonymous"})]
    return _frame(rows["post"], "rmhd", self_harm=(rows["subreddit"] == "suicidewatch").astype(float))


# --- misinformation -------------------------------------------------------------------------------------

# News headlines and public-health posts: not self-harm (clearly negative for that category).
_NEWS = {"self_harm": 0.0}


def constraint(root: Path, rng) -> pd.DataFrame:
    base = root / "diptamath__covid_fake_news/data"
    rows = pd.concat(_csv(base / n) for n in ("Constraint_Train.csv", "Constraint_Val.csv", "english_test_with_labels.csv"))
    return _frame(rows["tweet"], "constraint", misinformation=(rows["label"] == "fake").astype(float), **_NEWS)


def coaid(root: Path, rng) -> pd.DataFrame:
    texts, labels = [], []
    for path in sorted((root / "cuilimeng__CoAID").glob("*/*.csv")):
        titles = _csv(path).get("title", pd.Series(dtype=str)).dropna()
        texts += [str(t).strip('"') for t in titles]
        labels += [float("Fake" in path.name)] * len(titles)
    return _frame(texts, "coaid", misinformation=labels, **_NEWS)


def rumor(root: Path, rng) -> pd.DataFrame:
    path = root / "MickeysClubhouse__COVID-19-rumor-dataset/Data/news/news.csv"
    rows = pd.read_csv(path, header=None, names=["id", "label", "text", "sentiment"], encoding="utf-8-sig")
    # Unverified (U) rumours are unknown.
    label = rows["label"].map({"F": 1.0, "T": 0.0})
    return _frame(rows["text"], "rumor", misinformation=label, **_NEWS)


def reddit_health_misinfo(root: Path, rng) -> pd.DataFrame:
    """Positives only; the negatives that share its Reddit style come from RMHD (every subreddit but
    the heated ones is "not misinformation")."""
    rows = _csv(root / "AnirbanSahaAnik__health-misinformation-reddit-dataset/Health_Misinformation_reddit_Dataset.csv")
    return _frame(rows["text"].dropna(), "reddit_health_misinfo", misinformation=1.0)


def covidlies(root: Path, rng) -> pd.DataFrame:
    rows = _csv(root / "ucinlp__covid19-data/misconceptions.csv")
    return _frame(rows["text"].dropna(), "covidlies", misinformation=1.0, **_NEWS)


# --- the team's sets ----------------------------------------------------------------------------------


def team(datasets: Path) -> pd.DataFrame:
    """Every `datasets/training/*.jsonl` file. The team judged each of its texts on all three
    categories, so a category a row does not name is a 0 (a misinformation example is not self-harm),
    unlike the public sets, which only annotate their own category."""
    rows = [json.loads(line) for path in sorted((datasets / "training").glob("*.jsonl")) for line in path.open()]
    return _frame([r["text"] for r in rows], "team", **{c: [float(r.get(c, 0)) for r in rows] for c in CATEGORIES})


@dataclass(frozen=True)
class Source:
    """A public set: its loader, the category it annotates and its license (recorded in the manifest
    of every model trained on it)."""

    load: Callable[..., pd.DataFrame]
    category: str
    license: str


SOURCES = {
    "davidson": Source(davidson, "harassment", "MIT"),
    "olid": Source(olid, "harassment", "none in copy"),
    "formspring": Source(formspring, "harassment", "none stated"),
    "edos": Source(edos, "harassment", "CC0"),
    "stormfront": Source(stormfront, "harassment", "CC BY-SA 3.0"),
    "toxic_spans": Source(toxic_spans, "harassment", "CC0"),
    "conda": Source(conda, "harassment", "none stated (research use)"),
    "hatexplain": Source(hatexplain, "harassment", "MIT"),
    "hatemoji": Source(hatemoji, "harassment", "CC BY 4.0"),
    "toxigen": Source(toxigen, "harassment", "MIT"),
    "suicidal_intention": Source(suicidal_intention, "self_harm", "none stated"),
    "sdcnl": Source(sdcnl, "self_harm", "none stated"),
    "irf": Source(irf, "self_harm", "none stated"),
    "rmhd": Source(rmhd, "self_harm", "PDDL 1.0 (data), Apache-2.0 (lexicon)"),
    "constraint": Source(constraint, "misinformation", "MIT (repository)"),
    "coaid": Source(coaid, "misinformation", "none stated"),
    "rumor": Source(rumor, "misinformation", "MIT"),
    "reddit_health_misinfo": Source(reddit_health_misinfo, "misinformation", "CC BY 4.0"),
    "covidlies": Source(covidlies, "misinformation", "Apache-2.0"),
}

# Held-out tests that differ from the source's training rows (weak labels used as they come).
HELD_OUT_TESTS = {"sdcnl": sdcnl_test, "rmhd": rmhd_test}


def held_out_test(data: Path, table: pd.DataFrame, source: str, category: str) -> tuple[np.ndarray | None, list[str], np.ndarray]:
    """The leave-one-source-out test of `source` for `category`: `(rows, texts, labels)`, where `rows`
    are the table's rows of that source with a known label (None for a dedicated test: r/SuicideWatch
    against r/depression for SDCNL, r/suicidewatch against the other mental-health subreddits for
    RMHD). Tests leave Davidson's and HateXplain's "offensive" rows out, whichever reading trains."""
    if source in HELD_OUT_TESTS:
        frame = HELD_OUT_TESTS[source](data)
        return None, list(frame["text"]), frame[category].to_numpy()
    labels = read_offensive(table, "excluded")[category].to_numpy()
    rows = np.flatnonzero((table["source"].to_numpy() == source) & ~np.isnan(labels))
    return rows, list(table["text"].iloc[rows]), labels[rows]


def split_of(key: str) -> str:
    """80 / 10 / 10 train / val / test from a hash of the de-duplication key."""
    bucket = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 10
    return "test" if bucket == 0 else "val" if bucket == 1 else "train"


def deduplicate(table: pd.DataFrame) -> pd.DataFrame:
    """One row per de-duplication key (the first source in SOURCES order keeps it), then near-
    duplicates across sources removed (near_duplicates). Labels of rows that share a key are merged:
    agreeing labels stay, disagreeing ones (one source says 1, another 0) become unknown."""
    table = table.assign(key=table["text"].map(dedup_key))
    table = table[table["key"].str.len() > 0]
    groups = table.groupby("key", sort=False)[list(CATEGORIES)]
    low, high = groups.min(), groups.max()
    first = table.groupby("key", sort=False).head(1).set_index("key")
    first[list(CATEGORIES)] = low.where(low == high).loc[first.index]
    first = first.reset_index()
    drop = near_duplicates(first["key"].tolist(), first["source"].tolist())
    return first.drop(index=drop).reset_index(drop=True)


def _shingles(key: str, n: int = 3) -> set[int]:
    words = key.split()
    grams = [" ".join(words[i : i + n]) for i in range(max(1, len(words) - n + 1))]
    return {int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "little") >> 1 for g in grams}


def near_duplicates(keys: list[str], sources: list[str], threshold: float = 0.8, seed: int = 0) -> list[int]:
    """Indices of rows whose word-3-gram Jaccard similarity to an earlier row of another source is at
    least `threshold` (MinHash, 16 bands of 4, candidates verified exactly). Rows of one source are
    never compared: within a source only exact duplicates go (Hatemoji's contrast twins differ in one
    word on purpose). Texts of fewer than four words are left to exact de-duplication."""
    rng = np.random.default_rng(seed)
    prime = np.uint64((1 << 61) - 1)
    a = rng.integers(1, int(prime), 64, dtype=np.uint64)
    b = rng.integers(0, int(prime), 64, dtype=np.uint64)
    shingles = [_shingles(k) for k in keys]
    sizes = np.array([len(g) for g in shingles])
    values = np.fromiter((v for g in shingles for v in g), dtype=np.uint64, count=int(sizes.sum()))
    hashed = (values[:, None] * a + b) % prime
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    signatures = np.minimum.reduceat(hashed, starts, axis=0)
    buckets: dict[bytes, int] = {}
    drop = []
    for i in np.flatnonzero(sizes >= 2):
        bands = [bytes([band]) + signatures[i, band * 4 : band * 4 + 4].tobytes() for band in range(16)]
        if any(
            (j := buckets.get(band)) is not None and sources[j] != sources[i] and _jaccard(shingles[i], shingles[j]) >= threshold
            for band in bands
        ):
            drop.append(int(i))
            continue
        for band in bands:
            buckets.setdefault(band, int(i))
    return drop


def _jaccard(x: set, y: set) -> float:
    return len(x & y) / max(1, len(x | y))


def load(data: Path, datasets: Path, seed: int = 7) -> pd.DataFrame:
    """Every source and the team's sets, cleaned, de-duplicated across sources, with a `split` column
    and an `offensive` column (see read_offensive)."""
    rng = np.random.default_rng(seed)
    frames = []
    for source in SOURCES.values():
        frame = source.load(data, rng)
        if source.category == "harassment":
            frame = not_self_harm_unless_risk(frame, data)
        frames.append(frame[frame[list(CATEGORIES)].notna().any(axis=1)])
    frames.append(team(datasets))
    table = pd.concat(frames, ignore_index=True)
    table["offensive"] = table["offensive"].astype("boolean").fillna(False).astype(bool)
    table = deduplicate(table)
    table["split"] = table["key"].map(split_of)
    return table


def add_table_arguments(parser, root: Path) -> None:
    """`--data`, `--datasets`, `--cache` and `--seed`: what `cached_table` reads, for the scripts that
    load the table (`root` is the repository's root)."""
    parser.add_argument("--data", type=Path, default=Path("../shared/data"), help="the public labeled sets")
    parser.add_argument("--datasets", type=Path, default=root / "datasets", help="the team's sets")
    parser.add_argument("--cache", type=Path, default=root / "models/training/.cache", help="where the table pickle is kept")
    parser.add_argument("--seed", type=int, default=7)


def table_key(datasets: Path, seed: int) -> str:
    """16 hex digits that change with data.py, the team's sets or the seed: the name of the cached
    table, and of results computed on it."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for path in sorted((datasets / "training").glob("*.jsonl")):
        digest.update(path.read_bytes())
    digest.update(str(seed).encode())
    return digest.hexdigest()[:16]


def cached_table(data: Path, datasets: Path, seed: int, cache: Path):
    """data.load's table, cached under `cache` (keyed by `table_key`)."""
    path = cache / f"table-{table_key(datasets, seed)}.pkl"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(load(data, datasets, seed)))
    return pickle.loads(path.read_bytes())


def labels(table):
    """Labels (NaN as 0) and the mask of known labels, [n, 3] float32 each."""
    y = table[list(CATEGORIES)].to_numpy(dtype=np.float32)
    return np.nan_to_num(y), (~np.isnan(y)).astype(np.float32)


def read_offensive(table: pd.DataFrame, reading: str) -> pd.DataFrame:
    """The table with Davidson's and HateXplain's "offensive" rows as harassment ("positive") or with
    their harassment label unknown ("excluded")."""
    if reading not in OFFENSIVE_READINGS:
        raise ValueError(f"unknown reading {reading!r}: one of {OFFENSIVE_READINGS}")
    if reading == "excluded":
        table = table.copy()
        table.loc[table["offensive"], "harassment"] = NAN
    return table


def main_category(table: pd.DataFrame) -> np.ndarray:
    """The category each row's source annotates (the team's rows: the first category they flag, else
    self_harm)."""
    flagged = table[list(CATEGORIES)].to_numpy() == 1
    return np.array([
        SOURCES[s].category if s in SOURCES else CATEGORIES[int(np.argmax(f))] if f.any() else "self_harm"
        for s, f in zip(table["source"], flagged)
    ])


# Each category's share of the public rows an epoch draws (after the team's share).
EVEN_CATEGORY_SHARES = {category: 1 / 3 for category in CATEGORIES}


def sampling_weights(table: pd.DataFrame, source_power: float = 0.5, label_power: float = 0.5, team_share: float = 0.04,
                     category_shares: dict[str, float] = EVEN_CATEGORY_SHARES) -> np.ndarray:
    """Per-row probabilities for the training sampler (they sum to 1).

    Each category's sources share `category_shares` of every epoch (a third each by default, after
    the team's fixed `team_share`), so ten harassment sets do not crowd out self-harm. Within a category a source's share grows with the
    square root of its size (`source_power`), so the 23k CONDA chat lines do not drown ToxiGen's 668
    statements, nor the reverse; within a source, its positive and negative rows share that mass in
    proportion to the square root of their counts (`label_power`: 0 would be 50/50, 1 the source's
    own rate)."""
    sources = table["source"].to_numpy()
    category = main_category(table)
    values = table[list(CATEGORIES)].to_numpy()
    label = np.nan_to_num(values[np.arange(len(table)), [CATEGORIES.index(c) for c in category]], nan=-1)
    cells = pd.DataFrame({"source": sources, "category": category, "label": label})
    cell_size = cells.groupby(["source", "label"])["label"].transform("size").to_numpy(dtype=float)
    per_source = cells.drop_duplicates("source").assign(m=lambda f: f["source"].map(cells["source"].value_counts()) ** source_power)
    category_mass = per_source.groupby("category")["m"].transform("sum")
    category_share = per_source["category"].map(category_shares)
    source_share = dict(zip(per_source["source"], per_source["m"] / category_mass * category_share * (1 - team_share)))
    per_row = cell_size**label_power / cell_size  # a cell's rows share size ** label_power
    within = per_row / pd.Series(per_row).groupby(sources).transform("sum").to_numpy()
    weight = np.array([source_share.get(s, 0.0) for s in sources]) * within
    team = sources == "team"
    weight[team] = team_share / max(1, team.sum())
    return weight / weight.sum()
