//! Text normalization with an offset map back to the original.
//!
//! Writers disguise risky words to slip past filters, and so do people in distress who have learned that
//! platforms hide certain words. The normalizer undoes the common tricks so that rules can be written once
//! against plain lower-case English:
//!
//! 1. **Characters**: zero-width and bidi control characters are dropped; compatibility forms (fullwidth,
//!    mathematical alphanumerics, ligatures) are decomposed and accents stripped; text is lower-cased;
//!    homoglyphs from Cyrillic, Greek and other scripts become Latin letters; curly quotes become straight;
//!    runs of white space collapse to one space (or one newline, keeping line breaks as boundaries).
//! 2. **Words**: symbols inside words become letters (`k1ll`, `sh!t`); a token whose symbols spell a
//!    word of the `[vocabulary]` table becomes that word (`70n1gh7` → `tonight`, digits-only tokens
//!    only in a text written that way); apostrophes inside words go (`don't` → `dont`); runs of three
//!    or more identical letters collapse to one (`diiiie` → `die`).
//! 3. **Lexicon**: letters split by spaces or punctuation are joined when they spell a known word
//!    (`k y s`, `s.u.i.c.i.d.e`), and platform euphemisms become plain words (`unalive`, `kms`).
//!
//! Every character of the normalized text remembers the byte range of the original text it came from, so
//! a match in the normalized text maps back to exactly what the writer typed.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;
use std::sync::OnceLock;

use serde::Deserialize;
use unicode_normalization::char::is_combining_mark;

const DEFAULT_TABLES: &str = include_str!("../rules/normalizer.toml");

/// Separators that may be inserted between the letters of one word (`k.y.s`, `self-harm`).
/// What writers put between the letters of a word they spell out.
const SPELLING_SEPARATORS: &[char] = &[' ', '.', '-', '_', '*'];
/// The longest run of single letters read as one spelled-out word. Longer runs ("k y s k y s ...") are
/// left to the lexicon piece by piece, and the scan of a run stays short whatever the input.
const MAX_SPELLED_LETTERS: usize = 24;
const SOFT_SEPARATORS: &[char] = &[' ', '.', '-', '_', '*', '/', '~', ',', '+', '\''];

/// The normalized form of a text plus a map from each normalized character to the original bytes.
///
/// ```
/// use safespace::Normalizer;
/// let original = "I want to ᴜɴᴀʟɪᴠᴇ mysеlf";
/// let normalized = Normalizer::default().normalize(original);
/// assert_eq!(normalized.as_str(), "i want to kill myself");
/// let span = normalized.original_range(10..14);
/// assert_eq!(&original[span], "ᴜɴᴀʟɪᴠᴇ");
/// ```
#[derive(Debug, Clone)]
pub struct NormalizedText {
    text: String,
    map: Vec<Origin>,
}

/// Where one normalized character came from.
#[derive(Debug, Clone, Copy)]
struct Origin {
    /// Byte offset of the character in the normalized text.
    normalized: u32,
    /// Byte range in the original text.
    start: u32,
    end: u32,
}

impl NormalizedText {
    /// The normalized text that rules match against.
    ///
    /// ```
    /// let n = safespace::Normalizer::default().normalize("K Y S");
    /// assert_eq!(n.as_str(), "kill yourself");
    /// ```
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Maps a byte range of the normalized text to the byte range of the original text it came from.
    ///
    /// The result always lies on character boundaries of the original. An empty or out-of-range input
    /// gives an empty range at the nearest position.
    ///
    /// ```
    /// let original = "ur a l0000ser";
    /// let n = safespace::Normalizer::default().normalize(original);
    /// assert_eq!(n.as_str(), "your a loser");
    /// assert_eq!(&original[n.original_range(7..12)], "l0000ser");
    /// ```
    pub fn original_range(&self, range: Range<usize>) -> Range<usize> {
        let first = self
            .map
            .partition_point(|o| (o.normalized as usize) < range.start);
        let last = self
            .map
            .partition_point(|o| (o.normalized as usize) < range.end);
        match (
            self.map.get(first),
            last.checked_sub(1).and_then(|i| self.map.get(i)),
        ) {
            (Some(a), Some(b)) if first < last => a.start as usize..b.end as usize,
            (Some(a), _) => a.start as usize..a.start as usize,
            (None, _) => {
                let end = self.map.last().map_or(0, |o| o.end as usize);
                end..end
            }
        }
    }
}

/// Undoes spelling tricks while keeping a map back to the original text. Cheap to clone; build once.
///
/// ```
/// use safespace::Normalizer;
/// let n = Normalizer::default();
/// assert_eq!(n.normalize("s.u.i.c.i.d.e").as_str(), "suicide");
/// assert_eq!(n.normalize("K1ll mys3lf").as_str(), "kill myself");
/// assert_eq!(n.normalize("call 988").as_str(), "call 988");
/// ```
#[derive(Debug, Clone)]
pub struct Normalizer {
    tables: &'static Tables,
}

/// FNV-1a: the lexicon is hashed once per word of every text, and its keys are short.
#[derive(Debug, Clone, Copy)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type Lexicon = HashMap<String, String, BuildHasherDefault<Fnv>>;
type WordSet = HashSet<String, BuildHasherDefault<Fnv>>;

/// The tables of `rules/normalizer.toml` as written.
#[derive(Debug, Deserialize)]
struct TableFile {
    confusables: HashMap<char, String>,
    leet: HashMap<char, char>,
    words: Lexicon,
    contractions: WordList,
    vocabulary: WordList,
}

#[derive(Debug, Deserialize)]
struct WordList {
    words: Vec<String>,
}

/// The tables in the shapes lookups want.
#[derive(Debug)]
struct Tables {
    confusables: HashMap<char, String>,
    /// Letter for each ASCII look-alike symbol, indexed by byte.
    leet: [Option<char>; 128],
    words: Lexicon,
    /// Contractions written with a space for the apostrophe ("don t"), joined.
    contractions: Vec<String>,
    longest_word: usize,
    /// Bit `n` is set when some lexicon word starts with the letter `'a' + n`.
    first_letters: u32,
    /// Words a leetspeak token may be read as (the `[vocabulary]` table, lexicon and contractions).
    vocabulary: WordSet,
    /// Every start of a vocabulary word ("k", "ki", "kil", "kill"), to stop reading a token early.
    vocabulary_prefixes: WordSet,
    longest_vocabulary_word: usize,
}

impl Tables {
    fn may_start_word(&self, ch: char) -> bool {
        ch.is_ascii_lowercase() && self.first_letters & (1 << (ch as u32 - 'a' as u32)) != 0
    }

    fn leet(&self, ch: char) -> Option<char> {
        self.leet.get(ch as usize).copied().flatten()
    }
}

impl Default for Normalizer {
    fn default() -> Self {
        static TABLES: OnceLock<Tables> = OnceLock::new();
        let tables = TABLES.get_or_init(|| {
            let file: TableFile =
                toml::from_str(DEFAULT_TABLES).expect("embedded normalizer tables are valid TOML");
            let mut leet = [None; 128];
            for (&symbol, &letter) in &file.leet {
                leet[symbol as usize] = Some(letter);
            }
            let first_letters = file
                .words
                .keys()
                .filter_map(|w| w.chars().next())
                .filter(char::is_ascii_lowercase)
                .fold(0, |mask, c| mask | 1 << (c as u32 - 'a' as u32));
            let vocabulary = file
                .vocabulary
                .words
                .into_iter()
                .chain(file.contractions.words.iter().cloned())
                .chain(
                    file.words
                        .iter()
                        .flat_map(|(key, value)| [key.as_str()].into_iter().chain(value.split(' ')))
                        .map(str::to_owned),
                )
                .collect::<WordSet>();
            let vocabulary_prefixes = vocabulary
                .iter()
                .flat_map(|word| (1..=word.len()).map(|n| word[..n].to_owned()))
                .collect();
            Tables {
                first_letters,
                longest_vocabulary_word: vocabulary.iter().map(String::len).max().unwrap_or(0),
                vocabulary_prefixes,
                vocabulary,
                longest_word: file.words.keys().map(String::len).max().unwrap_or(0),
                confusables: file.confusables,
                leet,
                words: file.words,
                contractions: file.contractions.words,
            }
        });
        Normalizer { tables }
    }
}

/// One character of text in flight, with the original byte range it stands for.
#[derive(Debug, Clone, Copy)]
struct Unit {
    ch: char,
    start: u32,
    end: u32,
}

impl Normalizer {
    /// Normalizes `text`. Never fails: any Unicode input gives a (possibly empty) normalized text.
    ///
    /// ```
    /// let n = safespace::Normalizer::default().normalize("");
    /// assert_eq!(n.as_str(), "");
    /// ```
    pub fn normalize(&self, text: &str) -> NormalizedText {
        // Each step's input is dropped as soon as the next step has read it: on multi-megabyte texts
        // only two unit vectors are alive at once.
        let words = self.repair_words(&self.fold_characters(text));
        let units = self.apply_lexicon(&words);
        drop(words);
        let mut out = String::with_capacity(units.len());
        let mut map = Vec::with_capacity(units.len());
        for unit in units {
            map.push(Origin {
                normalized: out.len() as u32,
                start: unit.start,
                end: unit.end,
            });
            out.push(unit.ch);
        }
        NormalizedText { text: out, map }
    }

    /// Step 1: per-character folding and white-space collapsing.
    fn fold_characters(&self, text: &str) -> Vec<Unit> {
        let mut units: Vec<Unit> = Vec::with_capacity(text.len());
        let bytes = text.as_bytes();
        let mut offset = 0;
        while offset < bytes.len() {
            let byte = bytes[offset];
            if byte.is_ascii() {
                let start = offset as u32;
                offset += 1;
                let ch = match byte {
                    b'\n' | b'\r' | b'\x0b' | b'\x0c' => '\n',
                    b if b.is_ascii_whitespace() || b.is_ascii_control() => ' ',
                    b'`' => '\'',
                    b => char::from(b.to_ascii_lowercase()),
                };
                push_collapsing(
                    &mut units,
                    Unit {
                        ch,
                        start,
                        end: offset as u32,
                    },
                );
                continue;
            }
            let ch = text[offset..]
                .chars()
                .next()
                .expect("offset is on a char boundary");
            let (start, end) = (offset as u32, (offset + ch.len_utf8()) as u32);
            offset += ch.len_utf8();
            let mut push = |ch: char| push_collapsing(&mut units, Unit { ch, start, end });
            if is_invisible(ch) {
                continue;
            }
            match ch {
                '\u{2028}' | '\u{2029}' | '\u{85}' => push('\n'),
                c if c.is_whitespace() || c.is_control() => push(' '),
                '“' | '”' | '„' | '‟' | '«' | '»' | '〝' | '〞' | '＂' => push('"'),
                '‘' | '’' | '‚' | '‛' | '´' | '′' => push('\''),
                c => match decomposition(c) {
                    Some(parts) => parts
                        .chars()
                        .for_each(|part| self.fold_letter(part, &mut push)),
                    None => self.fold_letter(c, &mut push),
                },
            }
        }
        units
    }

    fn fold_letter(&self, ch: char, push: &mut impl FnMut(char)) {
        if let Some(letter) = emoji_letter(ch) {
            return push(letter);
        }
        for lower in ch.to_lowercase() {
            match self.tables.confusables.get(&lower) {
                Some(latin) => latin.chars().for_each(&mut *push),
                None => push(lower),
            }
        }
    }

    /// Step 2: symbols inside words, apostrophes, repeated letters.
    fn repair_words(&self, units: &[Unit]) -> Vec<Unit> {
        let leet_in_use = words(units).any(|token| self.spells_with_symbols(token));
        let mut out: Vec<Unit> = Vec::with_capacity(units.len());
        let mut i = 0;
        while i < units.len() {
            if !is_word_char(units[i].ch) {
                out.push(units[i]);
                i += 1;
                continue;
            }
            let end = word_end_by(units, i, is_word_char);
            self.repair_token(&units[i..end], leet_in_use, &mut out);
            i = end;
        }
        out
    }

    /// Whether `token` mixes letters with look-alike symbols and reads as a vocabulary word
    /// ("g01ng"): evidence that the text is written in leetspeak.
    fn spells_with_symbols(&self, token: &[Unit]) -> bool {
        token.iter().any(|u| u.ch.is_ascii_lowercase())
            && token.iter().any(|u| self.tables.leet(u.ch).is_some())
            && !is_number_with_unit(token)
            && self.vocabulary_reading(token).is_some()
    }

    /// The vocabulary word `token` spells when its look-alike symbols are read as letters, trying `i`
    /// and `l` for each `1` and `|`, and every letter for a `*` between letters (`k*ll`, `f*ck`).
    /// `None` for tokens without such symbols, with other characters, or longer than any word.
    fn vocabulary_reading(&self, token: &[Unit]) -> Option<String> {
        const ALPHABET: &str = "abcdefghijklmnopqrstuvwxyz";
        let only = |letter: char| &ALPHABET[letter as usize - 'a' as usize..][..1];
        if token.len() > self.tables.longest_vocabulary_word {
            return None;
        }
        let mut options: Vec<&str> = Vec::with_capacity(token.len());
        for (k, unit) in token.iter().enumerate() {
            let between_letters = k > 0
                && token[k - 1].ch.is_ascii_lowercase()
                && token.get(k + 1).is_some_and(|u| u.ch.is_ascii_lowercase());
            options.push(match (unit.ch, self.tables.leet(unit.ch)) {
                (c, _) if c.is_ascii_lowercase() => only(c),
                ('*', _) if between_letters => ALPHABET,
                ('1' | '|', Some('l')) => "li",
                ('1' | '|', Some(_)) => "il",
                (_, Some(letter)) => only(letter),
                _ => return None,
            });
        }
        if token.iter().all(|u| u.ch.is_ascii_lowercase()) {
            return None;
        }
        let mut reading = String::with_capacity(token.len());
        self.extend_reading(&options, &mut reading)
            .then_some(reading)
    }

    /// Depth first: appends one letter of each remaining option to `reading` while it is still the
    /// start of a vocabulary word; true once it spells a whole one.
    fn extend_reading(&self, options: &[&str], reading: &mut String) -> bool {
        let Some((letters, rest)) = options.split_first() else {
            return self.tables.vocabulary.contains(reading.as_str());
        };
        for letter in letters.chars() {
            reading.push(letter);
            if self.tables.vocabulary_prefixes.contains(reading.as_str())
                && self.extend_reading(rest, reading)
            {
                return true;
            }
            reading.pop();
        }
        false
    }

    /// Repairs one token. A token whose symbols spell a vocabulary word becomes that word, if it has
    /// letters and is not a number with a unit ("4m") or if the text is written in leetspeak
    /// (`leet_in_use`: then "70" is "to" and "4m" is "am"); other symbols become letters only next to
    /// letters.
    fn repair_token(&self, token: &[Unit], leet_in_use: bool, out: &mut Vec<Unit>) {
        let token_start = out.len();
        if token.iter().all(|u| u.ch.is_ascii_lowercase()) {
            out.extend_from_slice(token);
            if token
                .windows(3)
                .any(|w| w[0].ch == w[1].ch && w[1].ch == w[2].ch)
            {
                squash_repeated_letters(out, token_start);
            }
            return;
        }
        let has_letter = token.iter().any(|u| u.ch.is_alphabetic());
        let may_be_word = leet_in_use || (has_letter && !is_number_with_unit(token));
        if let Some(reading) = may_be_word
            .then(|| self.vocabulary_reading(token))
            .flatten()
        {
            out.extend(
                token
                    .iter()
                    .zip(reading.chars())
                    .map(|(unit, ch)| Unit { ch, ..*unit }),
            );
            squash_repeated_letters(out, token_start);
            return;
        }
        let plain_number = token
            .iter()
            .any(|u| u.ch.is_ascii_digit() && self.tables.leet(u.ch).is_none());
        let decode_leet = has_letter && !plain_number;
        for (k, unit) in token.iter().enumerate() {
            let prev_letter = out[token_start..]
                .last()
                .is_some_and(|u| u.ch.is_alphabetic());
            let next = token.get(k + 1).map(|u| u.ch);
            let next_is_letter = next.is_some_and(char::is_alphabetic);
            let next_letter = next_is_letter || next.is_some_and(|c| self.tables.leet(c).is_some());
            let ch = match unit.ch {
                '\'' if prev_letter => continue,
                c if decode_leet => match self.tables.leet(c) {
                    Some(letter) if leet_applies(c, prev_letter, next_letter) => {
                        one_as_l(c, letter, out[token_start..].last().map(|u| u.ch), next)
                    }
                    // A word may start with a look-alike digit ("1d10t", "7o") unless its letters
                    // make it a number with a unit ("5g", "4k" stay).
                    Some(letter) if k == 0 && next_is_letter && !is_number_with_unit(token) => {
                        one_as_l(c, letter, None, next)
                    }
                    _ => c,
                },
                c => c,
            };
            out.push(Unit { ch, ..*unit });
        }
        squash_repeated_letters(out, token_start);
    }

    /// Step 3: join split letters that spell a known word, and replace euphemisms.
    fn apply_lexicon(&self, units: &[Unit]) -> Vec<Unit> {
        let mut out: Vec<Unit> = Vec::with_capacity(units.len());
        let mut skeleton = String::new();
        let mut i = 0;
        let mut previous_word_numeric = false;
        let spelled_style = spelled_out_separators(units);
        while i < units.len() {
            if !units[i].ch.is_alphabetic() {
                if !units[i].ch.is_whitespace() {
                    previous_word_numeric = units[i].ch.is_ascii_digit();
                }
                out.push(units[i]);
                i += 1;
                continue;
            }
            if let Some(end) = spelled_out_word(units, i, &spelled_style) {
                skeleton.clear();
                skeleton.extend(
                    units[i..end]
                        .iter()
                        .map(|u| u.ch)
                        .filter(|c| c.is_alphabetic()),
                );
                match self.tables.words.get(skeleton.as_str()) {
                    Some(replacement) => out.extend(replacement.chars().map(|ch| Unit {
                        ch,
                        start: units[i].start,
                        end: units[end - 1].end,
                    })),
                    None => out.extend(units[i..end].iter().filter(|u| u.ch.is_alphabetic())),
                }
                i = end;
                previous_word_numeric = false;
                continue;
            }
            if let Some(end) = self.spaced_contraction(units, i) {
                out.extend(units[i..end].iter().filter(|u| u.ch != ' '));
                i = end;
                previous_word_numeric = false;
                continue;
            }
            match self.longest_known_word(units, i, &mut skeleton) {
                Some((end, replacement)) if !previous_word_numeric => {
                    let (start_byte, end_byte) = (units[i].start, units[end - 1].end);
                    out.extend(replacement.chars().map(|ch| Unit {
                        ch,
                        start: start_byte,
                        end: end_byte,
                    }));
                    i = end;
                }
                _ => {
                    let end = word_end(units, i);
                    out.extend_from_slice(&units[i..end]);
                    i = end;
                }
            }
            previous_word_numeric = false;
        }
        out
    }

    /// The end of a contraction written with a space for its apostrophe ("don t", "i m") starting at
    /// `start`, if there is one.
    fn spaced_contraction(&self, units: &[Unit], start: usize) -> Option<usize> {
        let first_end = word_end(units, start);
        if units.get(first_end)?.ch != ' ' {
            return None;
        }
        let second_end = word_end(units, first_end + 1);
        let (first, second) = (&units[start..first_end], &units[first_end + 1..second_end]);
        if !(1..=2).contains(&second.len()) || first.len() + second.len() > 8 {
            return None;
        }
        let joined = first.iter().chain(second).map(|u| u.ch);
        self.tables
            .contractions
            .iter()
            .any(|c| c.len() == first.len() + second.len() && c.chars().eq(joined.clone()))
            .then_some(second_end)
    }

    /// Finds the longest lexicon word starting at `start`, allowing soft separators between letters
    /// when every piece is one letter (`k y s`) or no piece is separated by a space (`sui-cide`).
    /// Returns the end index (exclusive) and the replacement.
    fn longest_known_word(
        &self,
        units: &[Unit],
        start: usize,
        skeleton: &mut String,
    ) -> Option<(usize, &'static str)> {
        if !self.tables.may_start_word(units[start].ch) {
            return None;
        }
        skeleton.clear();
        let mut best = None;
        let mut i = start;
        let mut pieces = 0;
        let mut spaced = false;
        let mut all_single = true;
        loop {
            let end = word_end(units, i);
            pieces += 1;
            all_single &= end - i == 1;
            skeleton.extend(units[i..end].iter().map(|u| u.ch));
            if skeleton.len() > self.tables.longest_word {
                break;
            }
            // Spaced letters join only as three or more single letters ("k y s", not "u r").
            let joinable = !spaced || (all_single && pieces >= 3);
            let next_piece = joined_piece_after(units, end);
            if joinable && next_piece.is_none_or(|sep| sep == ' ') {
                if let Some(replacement) = self.tables.words.get(skeleton.as_str()) {
                    best = Some((end, replacement.as_str()));
                }
            }
            let Some(sep) = next_piece else { break };
            spaced |= sep == ' ';
            if spaced && !all_single {
                break;
            }
            i = end + 1;
        }
        best
    }
}

/// The end of a word spelled out one letter at a time from `start` ("w.i.s.h", "h-a-v-e", "d e a d"),
/// if there is one: single letters with the same separator between each, four or more of them, or two
/// or more when the text already spells out longer words with that separator (`spelled_style`), so
/// that "t.o d.i.e" joins beside "w.a.n.t". A space must be a single one, so that "i   h a v e" (words
/// kept apart by wider gaps) gives "i have". Short runs in ordinary text are left alone ("u r a
/// loser", "a.m."); the lexicon still joins known short words ("k y s").
fn spelled_out_word(units: &[Unit], start: usize, spelled_style: &[char]) -> Option<usize> {
    let single_letter_at = |i: usize| {
        units.get(i).is_some_and(|u| u.ch.is_alphabetic()) && word_end(units, i) == i + 1
    };
    let separator = units.get(start + 1)?.ch;
    if !SPELLING_SEPARATORS.contains(&separator) || !single_letter_at(start) {
        return None;
    }
    let (mut end, mut letters) = (start + 1, 1);
    while letters <= MAX_SPELLED_LETTERS
        && units
            .get(end)
            .is_some_and(|u| u.ch == separator && u.end - u.start == 1)
        && single_letter_at(end + 1)
    {
        end += 2;
        letters += 1;
    }
    let needed = if spelled_style.contains(&separator) {
        2
    } else {
        4
    };
    (needed..=MAX_SPELLED_LETTERS)
        .contains(&letters)
        .then_some(end)
}

/// Separators with which the text spells out at least one word of four or more letters.
fn spelled_out_separators(units: &[Unit]) -> Vec<char> {
    let mut found = Vec::new();
    for i in 0..units.len() {
        let starts_word =
            units[i].ch.is_alphabetic() && (i == 0 || !units[i - 1].ch.is_alphabetic());
        if starts_word
            && spelled_out_word(units, i, &[]).is_some()
            && !found.contains(&units[i + 1].ch)
        {
            found.push(units[i + 1].ch);
        }
    }
    found
}

/// The soft separator at `end` if one letter follows it, i.e. the word may continue past it.
fn joined_piece_after(units: &[Unit], end: usize) -> Option<char> {
    let sep = units.get(end)?.ch;
    let next = units.get(end + 1)?.ch;
    (SOFT_SEPARATORS.contains(&sep) && next.is_alphabetic()).then_some(sep)
}

/// Folds each run of three or more identical letters in `out[from..]` into one unit spanning the run.
fn squash_repeated_letters(out: &mut Vec<Unit>, from: usize) {
    let mut write = from;
    let mut read = from;
    while read < out.len() {
        let unit = out[read];
        let run = out[read..].iter().take_while(|u| u.ch == unit.ch).count();
        if run >= 3 && unit.ch.is_alphabetic() {
            out[write] = Unit {
                end: out[read + run - 1].end,
                ..unit
            };
            write += 1;
        } else {
            out.copy_within(read..read + run, write);
            write += run;
        }
        read += run;
    }
    out.truncate(write);
}

fn word_end(units: &[Unit], start: usize) -> usize {
    word_end_by(units, start, char::is_alphabetic)
}

/// The end of the run of characters that `in_word` accepts starting at `start`.
fn word_end_by(units: &[Unit], start: usize, in_word: impl Fn(char) -> bool) -> usize {
    start + units[start..].iter().take_while(|u| in_word(u.ch)).count()
}

/// The tokens of `units`: runs of [`is_word_char`] characters.
fn words(units: &[Unit]) -> impl Iterator<Item = &[Unit]> {
    units
        .split(|u| !is_word_char(u.ch))
        .filter(|token| !token.is_empty())
}

/// Letters, digits and the symbols writers use in place of letters (`*` for a letter they censor).
fn is_word_char(ch: char) -> bool {
    ch.is_alphanumeric() || matches!(ch, '!' | '|' | '$' | '@' | '+' | '\'' | '*')
}

/// Whether a look-alike symbol stands for a letter here. Digits need a letter before them (`k1ll`, not
/// `100mg`); `!`, `|` and `+` need letters on both sides (`sh!t`, not `help!`); `$` and `@` need one.
fn leet_applies(symbol: char, prev_letter: bool, next_letter: bool) -> bool {
    match symbol {
        '0'..='9' => prev_letter,
        '!' | '|' | '+' => prev_letter && next_letter,
        _ => prev_letter || next_letter,
    }
}

/// Whether a token is a number followed by a unit or ordinal suffix ("5g", "4k", "3d", "2nd", "10mg").
fn is_number_with_unit(token: &[Unit]) -> bool {
    const UNITS: &[&str] = &[
        "g", "k", "m", "d", "x", "s", "h", "am", "pm", "th", "st", "nd", "rd", "mg", "ml", "kg",
        "km", "gb", "mb", "hz", "min", "hr", "hrs", "yo", "lb", "lbs", "ft", "mm", "cm",
    ];
    let letters: String = token
        .iter()
        .map(|u| u.ch)
        .filter(|c| c.is_alphabetic())
        .collect();
    UNITS.contains(&letters.as_str())
}

/// `1` and `|` stand for `i` ("k1ll", "su1c1de") except where `l` is the likelier letter: at the start
/// of a word before a vowel ("1ife", "1oser") and at its end after an `l` ("ki1l1" is "kill").
fn one_as_l(symbol: char, letter: char, prev: Option<char>, next: Option<char>) -> char {
    let vowel = |c: Option<char>| c.is_some_and(|c| "aeiou".contains(c));
    let word_ends = next.is_none_or(|c| !c.is_alphanumeric());
    match symbol {
        '1' | '|' if (prev.is_none() && vowel(next)) || (word_ends && prev == Some('l')) => 'l',
        _ => letter,
    }
}

/// Characters that render as nothing (or only reorder text) and are used to split words invisibly.
fn is_invisible(ch: char) -> bool {
    matches!(ch,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
        || is_combining_mark(ch)
}

include!(concat!(env!("OUT_DIR"), "/decompositions.rs"));

/// The compatibility decomposition of `ch` without combining marks (`é` → `e`, `𝐤` → `k`, `ﬁ` → `fi`),
/// for Latin, Greek and Cyrillic with accents and the fullwidth, styled and enclosed letter blocks
/// (table generated by `build.rs`). `None` when `ch` is kept as written.
fn decomposition(ch: char) -> Option<&'static str> {
    if ch < DECOMPOSED_CHARS[0] {
        return None; // ASCII and Latin-1 controls: most characters, no search
    }
    let index = DECOMPOSED_CHARS.binary_search(&ch).ok()?;
    let start = index
        .checked_sub(1)
        .map_or(0, |i| usize::from(DECOMPOSED_ENDS[i]));
    Some(&DECOMPOSED_TEXT[start..usize::from(DECOMPOSED_ENDS[index])])
}

/// Emoji that stand for Latin letters and have no compatibility decomposition: negative circled and
/// squared letters (🅐, 🅰), regional indicators (🇦), and ⭕ / ❌ / ❎ for `o` and `x`.
fn emoji_letter(ch: char) -> Option<char> {
    let offset_from = |first: char| char::from_u32(u32::from('a') + (ch as u32 - first as u32));
    match ch {
        '\u{1F150}'..='\u{1F169}' => offset_from('\u{1F150}'),
        '\u{1F170}'..='\u{1F189}' => offset_from('\u{1F170}'),
        '\u{1F1E6}'..='\u{1F1FF}' => offset_from('\u{1F1E6}'),
        '\u{2B55}' => Some('o'),
        '\u{274C}' | '\u{274E}' => Some('x'),
        _ => None,
    }
}

/// Appends a unit, folding a run of white space into one: a newline if the run had one, else a space.
fn push_collapsing(units: &mut Vec<Unit>, unit: Unit) {
    if unit.ch == ' ' || unit.ch == '\n' {
        if let Some(last) = units.last_mut().filter(|l| l.ch == ' ' || l.ch == '\n') {
            if unit.ch == '\n' {
                last.ch = '\n';
            }
            last.end = unit.end;
            return;
        }
    }
    units.push(unit);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_table_is_unicode_compatibility_decomposition_without_marks() {
        for ch in DECOMPOSED_BLOCKS
            .iter()
            .flat_map(|&(first, last)| first..=last)
        {
            let mut expected = String::new();
            unicode_normalization::char::decompose_compatible(ch, |part| {
                if !is_combining_mark(part) {
                    expected.push(part);
                }
            });
            let found = decomposition(ch).map_or_else(|| ch.to_string(), str::to_owned);
            assert_eq!(found, expected, "{ch:?}");
        }
        assert_eq!(decomposition('ﬁ'), Some("fi"));
        assert_eq!(decomposition('a'), None);
    }

    fn norm(text: &str) -> String {
        Normalizer::default().normalize(text).as_str().to_owned()
    }

    #[test]
    fn folds_case_accents_and_compatibility_forms() {
        assert_eq!(norm("ＫＩＬＬ Myself"), "kill myself");
        assert_eq!(norm("𝐤𝐢𝐥𝐥 𝓂𝓎𝓈𝑒𝓁𝒻"), "kill myself");
        assert_eq!(norm("sùïçîdé"), "suicide");
    }

    #[test]
    fn reads_letter_emoji_as_letters() {
        assert_eq!(norm("g\u{2B55} d\u{2139}\u{FE0F}e"), "go die");
        assert_eq!(norm("\u{1F170}\u{FE0F}\u{1F1F8}\u{1F1F8}"), "ass");
    }

    #[test]
    fn maps_homoglyphs_to_latin() {
        assert_eq!(norm("ѕuісіdе"), "suicide");
        assert_eq!(norm("κιll yοurself"), "kill yourself");
    }

    #[test]
    fn drops_invisible_and_bidi_characters() {
        assert_eq!(norm("ki\u{200B}ll my\u{200D}self"), "kill myself");
        assert_eq!(norm("\u{202E}kill\u{202C} myself"), "kill myself");
        assert_eq!(norm("k\u{0}y\u{0}s"), "kill yourself");
    }

    #[test]
    fn reads_symbols_inside_words_as_letters_only() {
        assert_eq!(norm("k1ll mys3lf"), "kill myself");
        assert_eq!(norm("su1c1de"), "suicide");
        assert_eq!(norm("sh!t"), "shit");
        assert_eq!(norm("$uicide"), "suicide");
        assert_eq!(norm("call 988 or text 741741"), "call 988 or text 741741");
        assert_eq!(norm("take 100mg"), "take 100mg");
        assert_eq!(norm("help!"), "help!");
        assert_eq!(norm("covid19"), "covid19");
        assert_eq!(norm("1d10t"), "idiot");
        assert_eq!(norm("k1l1 my 1if3"), "kill my life");
        assert_eq!(norm("d1e"), "die");
        assert_eq!(norm("7o 4l1 of u"), "to all of you");
        assert_eq!(norm("4k video, 2nd try, 10mg"), "4k video, 2nd try, 10mg");
        assert_eq!(norm("5g causes"), "5g causes");
    }

    #[test]
    fn reads_leetspeak_words_through_the_vocabulary() {
        assert_eq!(
            norm("1 w4n7 70 k111 my$31f 70n1gh7"),
            "i want to kill myself tonight"
        );
        assert_eq!(
            norm("1 4m g01ng 70 74k3 411 7h3 p111$"),
            "i am going to take all the pills"
        );
        assert_eq!(
            norm("y0u 4r3 4 w0r7h13$$ 1d107"),
            "you are a worthless idiot"
        );
        // Digits alone stay numbers unless the text spells words with digits.
        assert_eq!(
            norm("1 of 4 left, 70 in all, 4m"),
            "1 of 4 left, 70 in all, 4m"
        );
        assert_eq!(
            norm("g01ng 4 m1l3s, call 988 or 741741"),
            "going a miles, call 988 or 741741"
        );
    }

    #[test]
    fn joins_spaced_and_dotted_letters_that_spell_a_known_word() {
        assert_eq!(norm("k y s"), "kill yourself");
        assert_eq!(norm("s.u.i.c.i.d.e"), "suicide");
        assert_eq!(norm("self-harm"), "self harm");
        assert_eq!(norm("i.e. a b c"), "i.e. a b c");
        assert_eq!(norm("w.i.s.h i was d-e-a-d"), "wish i was dead");
        assert_eq!(norm("i   h a v e   t h e   p i l l s"), "i have the pills");
        assert_eq!(norm("i w.a.n.t t.o d.i.e"), "i want to die");
        assert_eq!(norm("u r a loser"), "you r a loser");
    }

    #[test]
    fn collapses_repeated_letters() {
        assert_eq!(norm("diiiiie"), "die");
        assert_eq!(norm("noooo"), "no");
        assert_eq!(norm("killl"), "kil");
        assert_eq!(norm("kill"), "kill");
    }

    #[test]
    fn expands_euphemisms_but_not_units() {
        assert_eq!(norm("i want to unalive"), "i want to kill");
        assert_eq!(norm("kms"), "kill myself");
        assert_eq!(norm("sewerslide"), "suicide");
        assert_eq!(norm("it is 5 kms away"), "it is 5 kms away");
    }

    #[test]
    fn removes_apostrophes_and_straightens_quotes() {
        assert_eq!(norm("I don’t “care”"), "i dont \"care\"");
        assert_eq!(norm("i don t know, i m fine"), "i dont know, im fine");
        assert_eq!(norm("a t b"), "a t b");
    }

    #[test]
    fn collapses_whitespace_keeping_line_breaks() {
        assert_eq!(norm("a  \t b\n\n c"), "a b\nc");
    }

    #[test]
    fn maps_every_match_back_to_what_was_typed() {
        let original = "ok.  K\u{200B}Y\u{200B}S now";
        let n = Normalizer::default().normalize(original);
        assert_eq!(n.as_str(), "ok. kill yourself now");
        let at = n.as_str().find("kill yourself").unwrap();
        let range = n.original_range(at..at + "kill yourself".len());
        assert_eq!(&original[range], "K\u{200B}Y\u{200B}S");
    }
}
