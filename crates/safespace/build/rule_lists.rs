//! The built-in rule files with their phrase lists expanded (`$OUT_DIR/rules/*.toml`), and the table
//! that embeds them (`$OUT_DIR/builtin_rules.rs`).
//!
//! A long alternation is written as a list, `rules/lists/NAME.txt`: one phrase per line, blank lines
//! and lines starting with `#` skipped. A pattern names the list as `{NAME}`
//! (`'\b{medication} (?:is|are) poison\b'`), and the build replaces the name with a non-capturing
//! group of the escaped phrases, longest first: `(?:antidepressants|medication|meds)`. The build fails,
//! naming the file and line, on an unknown or unused list, an empty list, a repeated phrase, or a
//! phrase no pattern could match (upper case: rules see lower-cased text; a `'`, which would end the
//! TOML string).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The built-in rule files, in load order.
const RULE_FILES: [&str; 5] = [
    "self_harm.toml",
    "harassment.toml",
    "misinformation.toml",
    "topics.toml",
    "context.toml",
];

/// Expands the lists of `rules/lists/` into every file of [`RULE_FILES`], writes the results to
/// `out/rules/`, and writes `out/builtin_rules.rs`: the `(file name, contents)` table that embeds them.
pub fn write(rules: &Path, out: &Path) -> Result<(), String> {
    let lists = read_lists(&rules.join("lists"))?;
    let mut used = BTreeSet::new();
    std::fs::create_dir_all(out.join("rules")).map_err(|e| e.to_string())?;
    for file in RULE_FILES {
        let path = rules.join(file);
        let source =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let expanded = expand(&format!("rules/{file}"), &source, &lists, &mut used)?;
        std::fs::write(out.join("rules").join(file), expanded).map_err(|e| e.to_string())?;
    }
    let table: Vec<String> = RULE_FILES
        .iter()
        .map(|file| {
            format!("({file:?}, include_str!(concat!(env!(\"OUT_DIR\"), \"/rules/{file}\")))")
        })
        .collect();
    let table = format!("&[{}]\n", table.join(", "));
    std::fs::write(out.join("builtin_rules.rs"), table).map_err(|e| e.to_string())?;
    match lists.keys().find(|name| !used.contains(name.as_str())) {
        Some(unused) => Err(format!(
            "rules/lists/{unused}.txt: no rule file names {{{unused}}}"
        )),
        None => Ok(()),
    }
}

/// Every list in `dir` as name → alternation group.
fn read_lists(dir: &Path) -> Result<BTreeMap<String, String>, String> {
    let mut lists = BTreeMap::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".txt"))
        else {
            return Err(format!(
                "{}: a list's file name is NAME.txt",
                path.display()
            ));
        };
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        lists.insert(
            name.to_owned(),
            group(&format!("rules/lists/{name}.txt"), &text)?,
        );
    }
    Ok(lists)
}

/// The phrases of one list file as a non-capturing group, longest first (ties alphabetical).
pub fn group(file: &str, text: &str) -> Result<String, String> {
    let mut phrases = BTreeSet::new();
    for (number, line) in text.lines().enumerate() {
        let phrase = line.trim();
        if phrase.is_empty() || phrase.starts_with('#') {
            continue;
        }
        let at = format!("{file}:{}", number + 1);
        if phrase.chars().any(|c| c.is_uppercase() || c == '\'') {
            return Err(format!(
                "{at}: `{phrase}` has an upper-case letter or a quote, which rules never see"
            ));
        }
        if !phrases.insert(phrase) {
            return Err(format!("{at}: `{phrase}` is listed twice"));
        }
    }
    if phrases.is_empty() {
        return Err(format!("{file}: the list is empty"));
    }
    let mut phrases: Vec<&str> = phrases.into_iter().collect();
    phrases.sort_by_key(|p| std::cmp::Reverse(p.len()));
    let escaped: Vec<String> = phrases.iter().map(|p| escape(p)).collect();
    Ok(format!("(?:{})", escaped.join("|")))
}

/// `source` with every `{name}` of a list outside comment lines replaced by the list's group; the
/// names found go to `used`.
pub fn expand(
    file: &str,
    source: &str,
    lists: &BTreeMap<String, String>,
    used: &mut BTreeSet<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(source.len());
    for (number, line) in source.split_inclusive('\n').enumerate() {
        if line.trim_start().starts_with('#') {
            out.push_str(line);
            continue;
        }
        let mut rest = line;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let name_len = after
                .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
                .unwrap_or(after.len());
            let name = &after[..name_len];
            // `{2,5}` and other repetitions start with a digit; a list name is `{lower_case}`.
            if name.is_empty() || !after[name_len..].starts_with('}') {
                out.push('{');
                rest = after;
                continue;
            }
            let Some(group) = lists.get(name) else {
                return Err(format!(
                    "{file}:{}: no list `{name}` in rules/lists",
                    number + 1
                ));
            };
            out.push_str(group);
            used.insert(name.to_owned());
            rest = &after[name_len + 1..];
        }
        out.push_str(rest);
    }
    Ok(out)
}

/// `phrase` with the characters that mean something in a regex escaped.
fn escape(phrase: &str) -> String {
    let mut out = String::with_capacity(phrase.len());
    for c in phrase.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
