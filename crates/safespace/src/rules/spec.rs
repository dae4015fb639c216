//! Rule files: their TOML schema, validation with file and line numbers, and compilation.
//!
//! A rule file holds `[[rule]]` entries (patterns that are evidence for sub-labels or content warnings)
//! and `[[context]]` entries (modifiers that lower or raise the weight of nearby evidence). Patterns are
//! regular expressions matched against the *normalized* text: lower case, apostrophes removed inside
//! words (`dont`, `im`), spelling tricks undone. `terms` are plain phrases matched as whole words.
//! A doubled letter in a pattern or term also matches a single one (`kill` matches `kil`), because the
//! normalizer folds `killlll` to `kil`.
//!
//! Every entry may show `examples` (texts it applies to) and `not_examples` (look-alikes it leaves
//! alone); the built-in files must, and the tests hold them to it. A context's `kind` is one of a
//! closed list ([`ContextKind`]): a misspelt kind is an error, not a new kind.

use std::ops::Range;

use regex::{Regex, RegexBuilder};
use serde::Deserialize;
use toml::Spanned;

use super::{Context, Effect, Examples, Requirement, Rule, Scope};
use crate::error::{Error, Result};
use crate::vocabulary::ContextKind;
use crate::vocabulary::{ContentWarning, Severity};
use crate::Label;

/// Doubled letters kept exact, because the single-letter form is another common word
/// (`off`/`of`, `too`/`to`, `good`/`god`, `ass`/`as`).
const UNTOLERATED_DOUBLES: &[char] = &['f', 'o', 's'];

/// Compiled patterns may not grow past this many bytes each (guards against pathological repetitions).
const REGEX_SIZE_LIMIT: usize = 2 << 20;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<Spanned<RuleSpec>>,
    #[serde(default)]
    context: Vec<Spanned<ContextSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    id: Spanned<String>,
    #[serde(default)]
    labels: Vec<Spanned<String>>,
    #[serde(default = "default_weight")]
    weight: Spanned<f32>,
    #[serde(default)]
    severity: Option<Severity>,
    #[serde(default)]
    warnings: Vec<ContentWarning>,
    #[serde(default)]
    patterns: Vec<Spanned<String>>,
    #[serde(default)]
    terms: Vec<Spanned<String>>,
    #[serde(default)]
    requires: Option<Requirement>,
    /// Texts the rule fires on and look-alikes it must not fire on (checked by `rules/examples.rs`).
    #[serde(default)]
    examples: Vec<String>,
    #[serde(default)]
    not_examples: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContextSpec {
    id: Spanned<String>,
    kind: ContextKind,
    scope: Scope,
    #[serde(default)]
    window: Option<usize>,
    #[serde(default)]
    patterns: Vec<Spanned<String>>,
    #[serde(default)]
    terms: Vec<Spanned<String>>,
    #[serde(default)]
    unless: Vec<Spanned<String>>,
    effect: Effect,
    #[serde(default)]
    cap: Option<Severity>,
    /// Whether the context, found anywhere in the text, also lowers the model's probabilities.
    #[serde(default)]
    model: bool,
    /// Texts the context applies to and look-alikes it must leave alone (checked by `rules/examples.rs`).
    #[serde(default)]
    examples: Vec<String>,
    #[serde(default)]
    not_examples: Vec<String>,
}

fn default_weight() -> Spanned<f32> {
    Spanned::new(0..0, 0.5)
}

/// Rules and contexts parsed from one file, before they are merged into an engine.
#[derive(Debug, Default)]
pub(crate) struct ParsedRules {
    pub rules: Vec<Rule>,
    pub contexts: Vec<Context>,
}

/// Parses and validates one rule file. `file` names it in error messages.
pub(crate) fn parse(file: &str, source: &str) -> Result<ParsedRules> {
    let error_at = |span: Range<usize>, message: String| Error::Rules {
        file: file.to_owned(),
        line: line_of(source, span.start),
        message,
    };
    let parsed: RuleFile = toml::from_str(source).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        error_at(span, e.message().to_owned())
    })?;
    let mut out = ParsedRules::default();
    for spanned in parsed.rule {
        let span = spanned.span();
        let spec = spanned.into_inner();
        let id = spec.id.get_ref().clone();
        check_id(&id).map_err(|m| error_at(spec.id.span(), m))?;
        let labels = spec
            .labels
            .iter()
            .map(|l| {
                l.get_ref()
                    .parse::<Label>()
                    .map_err(|m| error_at(l.span(), m))
            })
            .collect::<Result<Vec<_>>>()?;
        if labels.is_empty() && spec.warnings.is_empty() {
            return Err(error_at(
                span,
                format!("rule `{id}` needs `labels` or `warnings`, or it can never have an effect"),
            ));
        }
        let weight = *spec.weight.get_ref();
        if !(0.0..=1.0).contains(&weight) {
            return Err(error_at(
                spec.weight.span(),
                format!("rule `{id}` has weight {weight}; weights lie in [0, 1]"),
            ));
        }
        let regex = compile_all(&spec.patterns, &spec.terms, &id, span, &error_at)?;
        out.rules.push(Rule {
            id,
            labels,
            weight,
            severity: spec.severity.unwrap_or(Severity::Medium),
            warnings: spec.warnings,
            regex,
            requires: spec.requires,
            examples: Examples {
                examples: spec.examples,
                not_examples: spec.not_examples,
            },
        });
    }
    for spanned in parsed.context {
        let span = spanned.span();
        let spec = spanned.into_inner();
        let id = spec.id.get_ref().clone();
        check_id(&id).map_err(|m| error_at(spec.id.span(), m))?;
        let needs_patterns = spec.scope != Scope::Quoted;
        let regex = if needs_patterns {
            Some(compile_all(
                &spec.patterns,
                &spec.terms,
                &id,
                span.clone(),
                &error_at,
            )?)
        } else if !spec.patterns.is_empty() || !spec.terms.is_empty() {
            return Err(error_at(
                span,
                format!("context `{id}` has scope `quoted`, which takes no patterns or terms"),
            ));
        } else {
            None
        };
        let unless = if spec.unless.is_empty() {
            None
        } else {
            Some(compile_all(
                &spec.unless,
                &[],
                &id,
                span.clone(),
                &error_at,
            )?)
        };
        let window_scope = matches!(spec.scope, Scope::Before | Scope::After | Scope::Around);
        if window_scope != spec.window.is_some() {
            return Err(error_at(
                span,
                format!(
                    "context `{id}`: `window` (a number of words) is required for scopes before, after \
                     and around, and not allowed for the others"
                ),
            ));
        }
        spec.effect
            .validate()
            .map_err(|m| error_at(span.clone(), format!("context `{id}`: {m}")))?;
        out.contexts.push(Context {
            id,
            kind: spec.kind,
            scope: spec.scope,
            window: spec.window.unwrap_or(0),
            regex,
            unless,
            effect: spec.effect,
            cap: spec.cap,
            damps_model: spec.model || spec.scope == Scope::Model,
            examples: Examples {
                examples: spec.examples,
                not_examples: spec.not_examples,
            },
        });
    }
    Ok(out)
}

fn check_id(id: &str) -> Result<(), String> {
    let valid = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "id `{id}` must be non-empty lower-case ASCII letters, digits, `.`, `_` or `-`"
        ))
    }
}

/// Compiles every pattern and term of one entry into a single alternation, validating each on its own
/// first so that an error points at the line of the pattern that is wrong.
fn compile_all(
    patterns: &[Spanned<String>],
    terms: &[Spanned<String>],
    id: &str,
    entry_span: Range<usize>,
    error_at: &impl Fn(Range<usize>, String) -> Error,
) -> Result<Regex> {
    let mut sources = Vec::with_capacity(patterns.len() + terms.len());
    for pattern in patterns {
        sources.push((pattern.span(), tolerate_single_letters(pattern.get_ref())));
    }
    for term in terms {
        sources.push((term.span(), term_pattern(term.get_ref())));
    }
    if sources.is_empty() {
        return Err(error_at(
            entry_span,
            format!("`{id}` needs at least one entry in `patterns` or `terms`"),
        ));
    }
    for (span, source) in &sources {
        build_regex(source).map_err(|m| error_at(span.clone(), format!("in `{id}`: {m}")))?;
        if Regex::new(source).is_ok_and(|r| r.is_match("")) {
            return Err(error_at(
                span.clone(),
                format!("in `{id}`: pattern `{source}` matches empty text, which would match everywhere"),
            ));
        }
    }
    let joined = sources
        .iter()
        .map(|(_, s)| format!("(?:{s})"))
        .collect::<Vec<_>>()
        .join("|");
    build_regex(&joined).map_err(|m| error_at(entry_span, format!("in `{id}`: {m}")))
}

fn build_regex(source: &str) -> Result<Regex, String> {
    if enables_case_insensitivity(source) {
        return Err(
            "case-insensitive flags are not supported: rules match the normalized, \
             lower-case text, so write patterns in lower case"
                .to_owned(),
        );
    }
    RegexBuilder::new(&ascii_word_boundaries(source))
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(16 << 20)
        .build()
        .map_err(|e| e.to_string())
}

/// Whether a pattern turns on the `i` flag (`(?i)`, `(?xi:...)`). Refused in every build: the
/// WebAssembly build leaves out the regex crate's Unicode case tables (20 KB gzipped), and case
/// folding has nothing to do on the normalizer's lower-case text.
fn enables_case_insensitivity(pattern: &str) -> bool {
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '(' if chars.clone().next() == Some('?') => {
                let flags: String = chars
                    .clone()
                    .skip(1)
                    .take_while(|f| f.is_ascii_alphabetic() || *f == '-')
                    .collect();
                if flags.split('-').next().is_some_and(|on| on.contains('i')) {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// Rewrites `\b` to the ASCII word boundary `(?-u:\b)`. Rules are written against ASCII text, and a
/// Unicode boundary would stop the fast DFA engines on any text containing non-ASCII characters.
fn ascii_word_boundaries(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => out.push_str("(?-u:\\b)"),
            Some(next) => {
                out.push(c);
                out.push(next);
            }
            None => out.push(c),
        }
    }
    out
}

/// A plain phrase as a whole-word pattern: `"waste of space"` → `\bwaste of space\b`.
fn term_pattern(term: &str) -> String {
    let words: Vec<String> = term
        .to_lowercase()
        .replace(['\'', '’'], "")
        .split_whitespace()
        .map(|w| tolerate_single_letters(&regex::escape(w)))
        .collect();
    format!(r"\b{}\b", words.join(" "))
}

/// Rewrites each doubled ASCII letter written as a literal (`ll` in `kill`) to `l{1,2}`, so patterns
/// match words whose letter runs the normalizer folded to one. Escapes, classes, letters followed by a
/// quantifier and the doubles in [`UNTOLERATED_DOUBLES`] are left as written.
pub(crate) fn tolerate_single_letters(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut i = 0;
    let mut in_class = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                out.push(c);
                if let Some(&next) = chars.get(i + 1) {
                    out.push(next);
                }
                i += 2;
                continue;
            }
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            _ => {}
        }
        let doubled = !in_class
            && c.is_ascii_lowercase()
            && !UNTOLERATED_DOUBLES.contains(&c)
            && chars.get(i + 1) == Some(&c)
            && !matches!(chars.get(i + 2), Some('*' | '+' | '?' | '{'));
        if doubled {
            out.push(c);
            out.push_str("{1,2}");
            i += 2;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn line_of(source: &str, offset: usize) -> usize {
    source.as_bytes()[..offset.min(source.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(source: &str) -> String {
        parse("test.toml", source).unwrap_err().to_string()
    }

    #[test]
    fn doubled_letters_also_match_single_ones() {
        assert_eq!(tolerate_single_letters(r"\bkill\b"), r"\bkil{1,2}\b");
        assert_eq!(tolerate_single_letters(r"\bbetter"), r"\bbet{1,2}er");
        assert_eq!(tolerate_single_letters("[ll]ll+"), "[ll]ll+");
        assert_eq!(term_pattern("Waste of  space"), r"\bwaste of space\b");
    }

    #[test]
    fn errors_name_the_line_of_the_bad_pattern() {
        let err = error_of("[[rule]]\nid = 'a'\nlabels = ['harassment/insult']\npatterns = [\n  'ok',\n  '(unclosed',\n]\n");
        assert!(err.starts_with("test.toml:6: in `a`:"), "{err}");
    }

    #[test]
    fn rejects_unknown_labels_fields_and_bad_weights() {
        assert!(
            error_of("[[rule]]\nid = 'a'\nlabels = ['harassment/rude']\nterms = ['x']\n")
                .starts_with("test.toml:3: unknown label")
        );
        assert!(
            error_of("[[rule]]\nid = 'a'\nlabel = ['harassment/insult']\n")
                .contains("unknown field")
        );
        assert!(error_of(
            "[[rule]]\nid = 'a'\nlabels = ['harassment/insult']\nweight = 2.0\nterms = ['x']\n"
        )
        .starts_with("test.toml:4:"));
    }

    #[test]
    fn case_insensitive_flags_are_refused_with_the_reason() {
        let err = error_of(
            "[[rule]]\nid = 'a'\nlabels = ['harassment/insult']\npatterns = ['(?i)idiot']\n",
        );
        assert!(err.contains("write patterns in lower case"), "{err}");
        assert!(enables_case_insensitivity("a(?xi:b)"));
        assert!(!enables_case_insensitivity(r"(?-i:a)\(?i|(?:x)"));
    }

    #[test]
    fn rejects_patterns_that_match_everything() {
        let err =
            error_of("[[rule]]\nid = 'a'\nlabels = ['harassment/insult']\npatterns = ['x*']\n");
        assert!(err.contains("matches empty text"), "{err}");
    }

    #[test]
    fn a_misspelt_context_kind_is_an_error_naming_the_kinds() {
        let source = "[[context]]\nid = 'n'\nkind = 'negaton'\nscope = 'clause'\nterms = ['not']\neffect = { self_harm = 0.1 }\n";
        let err = error_of(source);
        assert!(err.starts_with("test.toml:3:"), "{err}");
        assert!(err.contains("unknown variant `negaton`"), "{err}");
        assert!(
            err.contains("`negation`") && err.contains("`third_person`"),
            "{err}"
        );
        let parsed = parse("test.toml", &source.replace("negaton", "third_person")).unwrap();
        assert_eq!(parsed.contexts[0].kind, ContextKind::ThirdPerson);
    }

    #[test]
    fn examples_are_read_and_misspelt_example_keys_are_errors() {
        let rule = "[[rule]]\nid = 'a'\nlabels = ['harassment/insult']\nterms = ['x']\n";
        let parsed = parse(
            "test.toml",
            &format!("{rule}examples = ['x y', 'a x']\nnot_examples = ['xx']\n"),
        )
        .unwrap();
        assert_eq!(parsed.rules[0].examples.examples, ["x y", "a x"]);
        assert_eq!(parsed.rules[0].examples.not_examples, ["xx"]);
        let err = error_of(&format!("{rule}example = ['x y']\n"));
        assert!(err.contains("unknown field `example`"), "{err}");
        let err = error_of(&format!("{rule}not_example = ['x y']\n"));
        assert!(err.contains("unknown field `not_example`"), "{err}");
    }

    #[test]
    fn context_window_must_fit_its_scope() {
        let source = "[[context]]\nid = 'n'\nkind = 'negation'\nscope = 'before'\nterms = ['not']\neffect = { self_harm = 0.1 }\n";
        assert!(error_of(source).contains("`window`"));
    }
}
