//! Tests of the build step that expands the rule files' phrase lists (`build/rule_lists.rs`).

#[allow(dead_code)] // `write` and the file readers run in the build script only.
#[path = "../../build/rule_lists.rs"]
mod rule_lists;

use std::collections::{BTreeMap, BTreeSet};

use rule_lists::{expand, group};

fn lists(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
    entries
        .iter()
        .map(|(name, text)| (name.to_string(), group(name, text).unwrap()))
        .collect()
}

#[test]
fn a_list_becomes_a_group_of_escaped_phrases_longest_first() {
    let text = "# pain relief\nmeds\n\nsleeping pills\npills\n100% natural\n";
    assert_eq!(
        group("drugs.txt", text).unwrap(),
        r"(?:sleeping pills|100% natural|pills|meds)"
    );
    assert_eq!(group("x.txt", "a.b (c)\n").unwrap(), r"(?:a\.b \(c\))");
}

#[test]
fn names_are_replaced_and_repetitions_kept() {
    let lists = lists(&[("drug", "pills\nmeds\n"), ("when", "tonight\n")]);
    let mut used = BTreeSet::new();
    let source = "# {comment}\npatterns = ['\\b{drug}\\b.{0,20}{when}', 'x{2,3}']\n";
    let expanded = expand("f.toml", source, &lists, &mut used).unwrap();
    assert_eq!(
        expanded,
        "# {comment}\npatterns = ['\\b(?:pills|meds)\\b.{0,20}(?:tonight)', 'x{2,3}']\n"
    );
    assert_eq!(used, BTreeSet::from(["drug".to_owned(), "when".to_owned()]));
}

#[test]
fn mistakes_fail_the_build_with_file_and_line() {
    let lists = lists(&[("drug", "pills\n")]);
    let err = expand("f.toml", "a\nb = '{drugs}'\n", &lists, &mut BTreeSet::new()).unwrap_err();
    assert_eq!(err, "f.toml:2: no list `drugs` in rules/lists");
    assert_eq!(
        group("l.txt", "pills\nmeds\npills\n").unwrap_err(),
        "l.txt:3: `pills` is listed twice"
    );
    assert!(group("l.txt", "Pills\n")
        .unwrap_err()
        .starts_with("l.txt:1: `Pills`"));
    assert!(group("l.txt", "don't\n")
        .unwrap_err()
        .starts_with("l.txt:1:"));
    assert_eq!(
        group("l.txt", "# nothing\n").unwrap_err(),
        "l.txt: the list is empty"
    );
}

#[test]
fn every_built_in_list_compiles() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/lists");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let group = group(&path.display().to_string(), &text).unwrap();
        regex::Regex::new(&group).unwrap();
    }
}
