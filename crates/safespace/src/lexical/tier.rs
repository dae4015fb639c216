//! The lexical tier: one calibrated logistic-regression head per category over [`lexical_features`],
//! with int8 weights on a few thousand feature indices each.
//!
//! `models/training/lexical.py` trains it and writes `weights.bin`; its module doc has the format.
//! The built-in tier is `models/safespace-lexical/weights.bin`, embedded in the library.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use super::{ngrams, LexicalFeatures};
use crate::normalize::{NormalizedText, Normalizer};
use crate::Category;

const MAGIC: &[u8; 4] = b"SSLX";
const VERSION: u8 = 1;
const BUILTIN: &[u8] = include_bytes!("../../../../models/safespace-lexical/weights.bin");
/// Weights are integers in `[-WEIGHT_LEVELS, WEIGHT_LEVELS]` times a scale per category: 63 levels, as
/// `models/training/lexical.py --levels 31` writes them (they compress better than 255).
const WEIGHT_LEVELS: f32 = 31.0;
include!(concat!(env!("OUT_DIR"), "/lexical_id.rs"));

/// A trained lexical tier: calibrated per-category probabilities from the hashed n-grams of a text.
///
/// The built-in one ([`LexicalTier::builtin`]) is trained on the public sets the model learns from;
/// [`LexicalTier::from_file`] loads another, written by `models/training/lexical.py`.
///
/// ```
/// use safespace::{Category, LexicalTier};
/// let tier = LexicalTier::builtin();
/// let p = tier.probabilities("you are a worthless idiot, nobody likes you");
/// let calm = tier.probabilities("see you at practice on tuesday");
/// assert!(p[Category::Harassment.index()] > calm[Category::Harassment.index()]);
/// ```
#[derive(Debug)]
pub struct LexicalTier {
    id: String,
    /// Per category: `sigmoid(bias + unit × Σ weight × value)`.
    bias: [f32; 3],
    unit: [f32; 3],
    table: WeightTable,
}

/// Why a lexical tier could not be loaded: its id, the byte where reading stopped, and why.
///
/// ```
/// let error = safespace::LexicalTier::from_bytes("mine", b"SSLX").unwrap_err();
/// assert_eq!(error.to_string(), "lexical tier mine: byte 4: the file ends early");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LexicalTierError(String);

impl LexicalTier {
    /// The tier built into the library (`models/safespace-lexical`), parsed once per process.
    ///
    /// ```
    /// assert!(safespace::LexicalTier::builtin().id().starts_with("safespace-lexical@"));
    /// ```
    pub fn builtin() -> Arc<LexicalTier> {
        static BUILT_IN: OnceLock<Arc<LexicalTier>> = OnceLock::new();
        BUILT_IN
            .get_or_init(|| {
                // The embedded bytes are checked by a unit test; they cannot differ at run time.
                let tier = LexicalTier::from_bytes(BUILTIN_ID, BUILTIN)
                    .expect("the embedded lexical tier parses");
                Arc::new(tier)
            })
            .clone()
    }

    /// Reads a tier folder: `weights.bin` and `manifest.json`, whose `name` and `version` make the
    /// id (what `safespace fit` and `models/training/lexical.py` write).
    ///
    /// ```
    /// let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/safespace-lexical");
    /// let tier = safespace::LexicalTier::from_dir(&dir).unwrap();
    /// assert_eq!(tier.id(), safespace::LexicalTier::builtin().id());
    /// let missing = safespace::LexicalTier::from_dir("no/such/tier").unwrap_err();
    /// assert!(missing.to_string().contains("manifest.json"));
    /// ```
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<LexicalTier, LexicalTierError> {
        /// The fields of `manifest.json` a tier needs; others are kept for people.
        #[derive(serde::Deserialize)]
        struct Manifest {
            name: String,
            version: String,
        }
        let dir = dir.as_ref();
        let path = dir.join("manifest.json");
        let manifest: Manifest = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()))
            .map_err(|e| LexicalTierError(format!("cannot read {}: {e}", path.display())))?;
        let id = format!("{}@{}", manifest.name, manifest.version);
        LexicalTier::from_file(id, dir.join("weights.bin"))
    }

    /// [`from_dir`](Self::from_dir) with the error as text, as the builder reports it.
    pub(crate) fn load_dir(dir: &Path) -> Result<LexicalTier, String> {
        LexicalTier::from_dir(dir).map_err(|e| e.to_string())
    }

    /// Writes the tier as a folder [`from_dir`](Self::from_dir) reads: `weights.bin`, and
    /// `manifest.json` holding `about`'s fields (an object) with the name and version from the id
    /// (`name@version`; a plain id is the name, version `0`) and the size of the weights.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join("safespace-doc-write-dir");
    /// let tier = safespace::LexicalTier::builtin();
    /// tier.write_dir(&dir, serde_json::json!({"note": "a copy"})).unwrap();
    /// assert_eq!(safespace::LexicalTier::from_dir(&dir).unwrap().id(), tier.id());
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn write_dir(
        &self,
        dir: impl AsRef<Path>,
        about: serde_json::Value,
    ) -> std::io::Result<()> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir)?;
        let bytes = self.to_bytes();
        let (name, version) = self.id.split_once('@').unwrap_or((&self.id, "0"));
        let mut manifest = match about {
            serde_json::Value::Object(fields) => fields,
            _ => serde_json::Map::new(),
        };
        manifest.insert("name".into(), name.into());
        manifest.insert("version".into(), version.into());
        manifest.insert("weights_bytes".into(), bytes.len().into());
        std::fs::write(dir.join("weights.bin"), bytes)?;
        let text = serde_json::to_string_pretty(&manifest).map_err(std::io::Error::other)?;
        std::fs::write(dir.join("manifest.json"), text + "\n")
    }

    /// Reads a tier from a `weights.bin` file; its id is `id`.
    ///
    /// ```
    /// let error = safespace::LexicalTier::from_file("mine", "no/such/weights.bin").unwrap_err();
    /// assert!(error.to_string().contains("cannot read"));
    /// ```
    pub fn from_file(
        id: impl Into<String>,
        path: impl AsRef<Path>,
    ) -> Result<LexicalTier, LexicalTierError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| {
            LexicalTierError(format!("cannot read lexical tier {}: {e}", path.display()))
        })?;
        LexicalTier::from_bytes(id, &bytes)
    }

    /// Parses the bytes of a `weights.bin` file; its id is `id`.
    ///
    /// ```
    /// let error = safespace::LexicalTier::from_bytes("mine", b"SSLX\x09").unwrap_err();
    /// assert!(error.to_string().contains("version 9"));
    /// ```
    pub fn from_bytes(
        id: impl Into<String>,
        bytes: &[u8],
    ) -> Result<LexicalTier, LexicalTierError> {
        let id = id.into();
        let mut reader = Reader {
            id: &id,
            bytes,
            at: 0,
        };
        if reader.take(4)? != MAGIC {
            return Err(reader.error("not a lexical tier (no SSLX header)"));
        }
        let version = reader.u8()?;
        if version != VERSION {
            return Err(reader.error(&format!(
                "version {version}; this library reads version {VERSION}"
            )));
        }
        let categories = reader.u8()?;
        let features = reader.u32()?;
        if categories != 3 || features != LexicalFeatures::N_FEATURES {
            return Err(reader.error(&format!(
                "{categories} categories over {features} features; expected 3 over {}",
                LexicalFeatures::N_FEATURES
            )));
        }
        let mut bias = [0.0; 3];
        let mut unit = [0.0; 3];
        let mut entries = Vec::new();
        for c in 0..3 {
            bias[c] = reader.f32()?;
            unit[c] = reader.f32()?;
            let count = reader.u32()? as usize;
            let mut buckets = Vec::with_capacity(count.min(LexicalFeatures::N_FEATURES as usize));
            let mut bucket = 0u64;
            for _ in 0..count {
                bucket += reader.leb128()?;
                if bucket >= u64::from(LexicalFeatures::N_FEATURES) {
                    return Err(reader.error("a feature index is out of range"));
                }
                buckets.push(bucket as u32);
            }
            let weights = reader.take(count)?;
            for (&bucket, &weight) in buckets.iter().zip(weights) {
                entries.push((bucket, c, weight as i8));
            }
        }
        if reader.at != bytes.len() {
            return Err(reader.error("trailing bytes"));
        }
        if !bias.iter().chain(&unit).all(|x| x.is_finite()) {
            return Err(reader.error("a calibration constant is not finite"));
        }
        Ok(LexicalTier {
            id,
            bias,
            unit,
            table: WeightTable::new(entries),
        })
    }

    /// The tier's name and version, as reports give it in `engine.lexical`.
    ///
    /// ```
    /// let id = safespace::LexicalTier::builtin().id().to_owned();
    /// assert!(id.starts_with("safespace-lexical@"));
    /// ```
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Calibrated probabilities per category ([`Category::index`] order) of a text, normalized
    /// first as [`lexical_features`](crate::lexical_features) does.
    ///
    /// ```
    /// let p = safespace::LexicalTier::builtin().probabilities("");
    /// assert!(p.iter().all(|&x| x > 0.0 && x < 0.5));
    /// ```
    pub fn probabilities(&self, text: &str) -> [f32; 3] {
        self.score(Normalizer::default().normalize(text).as_str())
            .probabilities
    }

    /// Runs the tier on a normalized text.
    pub(crate) fn run(&self, normalized: &NormalizedText) -> Option<LexicalRun> {
        Some(self.score(normalized.as_str()))
    }

    /// Calibrated probabilities of a text already normalized: the dot product of its features
    /// ([`super::features`]) with the weights, taken while the n-gram counts are read back (only the
    /// indices with weights are kept), in the same order and arithmetic as over the vector.
    fn score(&self, text: &str) -> LexicalRun {
        // Room for the n-grams with weights, usually in one allocation: a text has at most about
        // five distinct n-grams per byte, and a small share of them has weights.
        let mut weighted: Vec<([i8; 3], f64)> = Vec::with_capacity(text.len().min(1 << 12));
        let norm = super::log_counts(text, |index, log_count| {
            if let Some(weights) = self.table.get(index) {
                weighted.push((*weights, log_count));
            }
        });
        let mut sums = [0.0f32; 3];
        for (weights, log_count) in weighted {
            let value = super::scaled(log_count, norm);
            for c in 0..3 {
                sums[c] += f32::from(weights[c]) * value;
            }
        }
        LexicalRun {
            probabilities: [0, 1, 2].map(|c| sigmoid(self.bias[c] + self.unit[c] * sums[c])),
            norm,
        }
    }

    /// Where in `normalized` the tier finds `category`: spans of the words that raise its score
    /// most (byte ranges in the normalized text), at most `limit` words, in text order, adjacent
    /// words merged into one span, each with its share of the raise in `[0, 1]`. Each n-gram's part
    /// of the logit is split evenly over its occurrences and over the words it covers (a character
    /// n-gram lies in one word, a bigram in two). Linear in the text's length. `run` must be this
    /// tier's run on `normalized`: the values come from its norm.
    pub(crate) fn explain(
        &self,
        normalized: &NormalizedText,
        run: &LexicalRun,
        category: Category,
        limit: usize,
    ) -> Vec<(Range<usize>, f32)> {
        let c = category.index();
        let text = normalized.as_str();
        let words: Vec<Range<usize>> = ngrams::words(text).collect();
        let mut occurrences: Vec<(u32, Range<usize>)> = Vec::new();
        ngrams::for_each_ngram(text, |_, _, bucket, range| {
            if self.table.get(bucket).is_some_and(|w| w[c] > 0) {
                occurrences.push((bucket, range));
            }
        });
        // Every occurrence of a bucket with a weight is here: the bucket's count in the text.
        let mut repeats: HashMap<u32, u32> = HashMap::new();
        for (bucket, _) in &occurrences {
            *repeats.entry(*bucket).or_default() += 1;
        }
        let mut raise = vec![0.0f32; words.len()];
        for (bucket, range) in &occurrences {
            let value = super::value_of(repeats[bucket], run.norm);
            let weight = self.table.get(*bucket).map_or(0, |w| w[c]);
            let first = words.partition_point(|w| w.end <= range.start);
            let last = words.partition_point(|w| w.start < range.end);
            let share = self.unit[c] * f32::from(weight) * value
                / repeats[bucket] as f32
                / (last - first).max(1) as f32;
            raise[first..last].iter_mut().for_each(|r| *r += share);
        }
        let total: f32 = raise.iter().sum();
        let mut strongest: Vec<usize> = (0..words.len()).filter(|&w| raise[w] > 0.0).collect();
        strongest.sort_by(|&a, &b| raise[b].total_cmp(&raise[a]));
        strongest.truncate(limit);
        strongest.sort_unstable();
        let mut spans: Vec<(Range<usize>, f32, usize)> = Vec::new();
        for w in strongest {
            let share = raise[w] / total.max(f32::MIN_POSITIVE);
            match spans.last_mut() {
                Some((range, total, last)) if *last + 1 == w => {
                    range.end = words[w].end;
                    *total += share;
                    *last = w;
                }
                _ => spans.push((words[w].clone(), share, w)),
            }
        }
        spans
            .into_iter()
            .map(|(range, share, _)| (range, share))
            .collect()
    }
}

/// One category's head in logit units: `z = bias + Σ weight × value` over `(bucket, weight)`
/// pairs in ascending bucket order.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Head {
    pub bias: f32,
    pub weights: Vec<(u32, f32)>,
}

impl LexicalTier {
    /// A tier from one head per category, its weights rounded to integers in
    /// `[-WEIGHT_LEVELS, WEIGHT_LEVELS]` (one scale per category), as `models/training/lexical.py`
    /// rounds the shipped tier's: a head taken from such a tier comes back unchanged.
    pub(super) fn from_heads(id: impl Into<String>, heads: [Head; 3]) -> LexicalTier {
        let mut entries = Vec::new();
        let mut bias = [0.0; 3];
        let mut unit = [0.0; 3];
        for (c, head) in heads.iter().enumerate() {
            let largest = head
                .weights
                .iter()
                .map(|(_, w)| w.abs())
                .fold(0.0, f32::max);
            let scale = if largest > 0.0 {
                largest / WEIGHT_LEVELS
            } else {
                1.0
            };
            bias[c] = head.bias;
            unit[c] = scale;
            for &(bucket, weight) in &head.weights {
                let q = (weight / scale)
                    .round()
                    .clamp(-WEIGHT_LEVELS, WEIGHT_LEVELS) as i8;
                if q != 0 {
                    entries.push((bucket, c, q));
                }
            }
        }
        LexicalTier {
            id: id.into(),
            bias,
            unit,
            table: WeightTable::new(entries),
        }
    }

    /// Category `c`'s head in logit units.
    pub(super) fn head(&self, c: usize) -> Head {
        Head {
            bias: self.bias[c],
            weights: self
                .table
                .entries()
                .filter(|(_, w)| w[c] != 0)
                .map(|(bucket, w)| (bucket, self.unit[c] * f32::from(w[c])))
                .collect(),
        }
    }

    /// The tier as a `weights.bin` file, which [`from_bytes`](Self::from_bytes) reads back.
    ///
    /// ```
    /// use safespace::LexicalTier;
    /// let tier = LexicalTier::builtin();
    /// let copy = LexicalTier::from_bytes("copy", &tier.to_bytes()).unwrap();
    /// assert_eq!(copy.probabilities("you absolute clown"), tier.probabilities("you absolute clown"));
    /// ```
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend([VERSION, 3]);
        out.extend(LexicalFeatures::N_FEATURES.to_le_bytes());
        for c in 0..3 {
            let entries: Vec<(u32, i8)> = self
                .table
                .entries()
                .filter(|(_, w)| w[c] != 0)
                .map(|(bucket, w)| (bucket, w[c]))
                .collect();
            out.extend(self.bias[c].to_le_bytes());
            out.extend(self.unit[c].to_le_bytes());
            out.extend((entries.len() as u32).to_le_bytes());
            let mut previous = 0;
            for &(bucket, _) in &entries {
                push_leb128(&mut out, bucket - previous);
                previous = bucket;
            }
            out.extend(entries.iter().map(|&(_, q)| q as u8));
        }
        out
    }
}

/// Appends `value` as LEB128: seven bits a byte, low bits first, the high bit set on all but the last.
pub(super) fn push_leb128(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7F) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// What the tier found in one text.
#[derive(Debug, Clone)]
pub(crate) struct LexicalRun {
    probabilities: [f32; 3],
    /// The length of the text's `1 + ln(count)` weights: what scales them to feature values.
    norm: f64,
}

impl LexicalRun {
    /// Calibrated probabilities per category.
    pub(crate) fn probabilities(&self) -> [f32; 3] {
        self.probabilities
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Int8 weights of the three categories per feature index, for the indices any category uses: a
/// bitmap of those indices with a running count per 64 of them, so a look-up is two reads and a
/// popcount (about 56 KiB for the index over 2^18 features).
#[derive(Debug)]
struct WeightTable {
    present: Vec<u64>,
    rank: Vec<u32>,
    weights: Vec<[i8; 3]>,
}

impl WeightTable {
    /// The table of `(index, category, weight)` entries, in any order (one index may carry weights
    /// of several categories).
    fn new(mut entries: Vec<(u32, usize, i8)>) -> WeightTable {
        let words = LexicalFeatures::N_FEATURES as usize / 64;
        entries.sort_unstable_by_key(|&(index, _, _)| index);
        let mut present = vec![0u64; words];
        let mut weights: Vec<[i8; 3]> = Vec::new();
        let mut last = None;
        for (index, category, weight) in entries {
            if last != Some(index) {
                weights.push([0; 3]);
                present[index as usize / 64] |= 1 << (index % 64);
                last = Some(index);
            }
            let slot = &mut weights.last_mut().expect("an entry for this index")[category];
            *slot = slot.saturating_add(weight);
        }
        let mut rank = Vec::with_capacity(words);
        let mut running = 0u32;
        for word in &present {
            rank.push(running);
            running += word.count_ones();
        }
        WeightTable {
            present,
            rank,
            weights,
        }
    }

    /// Every index in use with its weights, ascending.
    fn entries(&self) -> impl Iterator<Item = (u32, [i8; 3])> + '_ {
        let indices = self.present.iter().enumerate().flat_map(|(word, &bits)| {
            (0..64u32)
                .filter(move |bit| bits >> bit & 1 == 1)
                .map(move |bit| word as u32 * 64 + bit)
        });
        indices.zip(self.weights.iter().copied())
    }

    fn get(&self, index: u32) -> Option<&[i8; 3]> {
        let (word, bit) = (index as usize / 64, index % 64);
        let bits = *self.present.get(word)?;
        if bits >> bit & 1 == 0 {
            return None;
        }
        let below = (bits & ((1u64 << bit) - 1)).count_ones();
        self.weights.get((self.rank[word] + below) as usize)
    }
}

/// Reads `weights.bin` front to back; errors name the byte where they stopped.
struct Reader<'a> {
    id: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn error(&self, message: &str) -> LexicalTierError {
        LexicalTierError(format!(
            "lexical tier {}: byte {}: {message}",
            self.id, self.at
        ))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], LexicalTierError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| self.error("the file ends early"))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, LexicalTierError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, LexicalTierError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn f32(&mut self) -> Result<f32, LexicalTierError> {
        Ok(f32::from_bits(self.u32()?))
    }

    fn leb128(&mut self) -> Result<u64, LexicalTierError> {
        let mut value = 0u64;
        for shift in (0..35).step_by(7) {
            let byte = self.u8()?;
            value |= u64::from(byte & 0x7F) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.error("a feature index delta is too long"))
    }
}
