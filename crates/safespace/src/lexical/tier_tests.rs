use super::ngrams::Fnv1a;
use super::tier::push_leb128;
use super::*;
use crate::normalize::Normalizer;
use crate::Category;

/// One category's head: bias, unit and (bucket, weight) pairs by ascending bucket.
type Head<'a> = (f32, f32, &'a [(u32, i8)]);

/// A `weights.bin` with the given head per category, written as `models/training/lexical.py`
/// writes it.
fn encoded(categories: [Head; 3]) -> Vec<u8> {
    let mut out = b"SSLX".to_vec();
    out.push(1);
    out.push(3);
    out.extend(LexicalFeatures::N_FEATURES.to_le_bytes());
    for (bias, unit, entries) in categories {
        out.extend(bias.to_le_bytes());
        out.extend(unit.to_le_bytes());
        out.extend((entries.len() as u32).to_le_bytes());
        let mut previous = 0;
        for &(bucket, _) in entries {
            push_leb128(&mut out, bucket - previous);
            previous = bucket;
        }
        out.extend(entries.iter().map(|&(_, w)| w as u8));
    }
    out
}

fn bucket(gram: &str) -> u32 {
    Fnv1a::new().write(gram.as_bytes()).bucket()
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

#[test]
fn the_builtin_tier_parses_and_ranks_abuse_above_small_talk() {
    let tier = LexicalTier::builtin();
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../models/safespace-lexical"
    );
    assert_eq!(tier.id(), LexicalTier::from_dir(dir).unwrap().id());
    let abuse = tier.probabilities("what a dumb bitch")[Category::Harassment.index()];
    let small_talk = tier.probabilities("see you at practice")[Category::Harassment.index()];
    assert!(abuse > 0.9 && small_talk < 0.3, "{abuse} {small_talk}");
}

#[test]
fn probabilities_are_the_calibrated_dot_product_of_int8_weights_and_features() {
    let idiot = bucket("w1:idiot");
    let (below, above) = (idiot.min(70_000), idiot.max(70_000) + 1);
    let bytes = encoded([
        (-1.0, 0.5, &[]),
        (-2.0, 0.25, &[(below, -3), (idiot, 100), (above, 7)]),
        (0.5, 1.0, &[]),
    ]);
    let tier = LexicalTier::from_bytes("hand-made", &bytes).unwrap();
    let features = crate::lexical_features("idiot");
    let value = features.values[features.indices.binary_search(&idiot).unwrap()];
    let p = tier.probabilities("idiot");
    assert!((p[1] - sigmoid(-2.0 + 0.25 * 100.0 * value)).abs() < 1e-6);
    assert!((p[0] - sigmoid(-1.0)).abs() < 1e-6 && (p[2] - sigmoid(0.5)).abs() < 1e-6);
}

/// The tier reads its weighted n-grams while counting; its probabilities are exactly those of the
/// dot product over the whole feature vector, in ascending index order.
#[test]
fn probabilities_equal_the_dot_product_over_the_feature_vector_bit_for_bit() {
    let text = format!("you idiot, {} dumb dumb idiot", "idiot ".repeat(70));
    let features = crate::lexical_features(&text);
    // Weights on a few of the text's indices (one n-gram counted more than 64 times) and on one
    // index it does not have.
    let mut harassment: Vec<(u32, i8)> = [bucket("w1:you"), bucket("w1:idiot"), bucket("w1:dumb")]
        .into_iter()
        .zip([-3, 31, 9])
        .collect();
    harassment.push((bucket("w1:kind"), -20));
    harassment.sort_unstable();
    let tier = LexicalTier::from_bytes(
        "hand-made",
        &encoded([(-1.0, 0.5, &[]), (-2.0, 0.25, &harassment), (0.5, 1.0, &[])]),
    )
    .unwrap();
    let mut sum = 0.0f32;
    for (index, value) in features.indices.iter().zip(&features.values) {
        if let Some(&(_, w)) = harassment.iter().find(|(b, _)| b == index) {
            sum += f32::from(w) * value;
        }
    }
    assert_eq!(tier.probabilities(&text)[1], sigmoid(-2.0 + 0.25 * sum));
}

#[test]
fn broken_files_are_refused_with_the_byte_where_reading_stopped() {
    let good = encoded([(0.0, 1.0, &[(5, 1)]), (0.0, 1.0, &[]), (0.0, 1.0, &[])]);
    let error = |bytes: &[u8]| LexicalTier::from_bytes("t", bytes).unwrap_err().to_string();
    assert!(error(b"GIF89a").contains("not a lexical tier"));
    assert!(error(&good[..good.len() - 1]).contains("ends early"));
    assert!(error(&[&good[..], &[0]].concat()).contains("trailing bytes"));
    let mut version = good.clone();
    version[4] = 2;
    assert_eq!(
        error(&version),
        "lexical tier t: byte 5: version 2; this library reads version 1"
    );
    let mut size = good.clone();
    size[6] = 1;
    assert!(error(&size).contains("expected 3 over 262144"));
    let out_of_range = encoded([
        (0.0, 1.0, &[(LexicalFeatures::N_FEATURES, 1)]),
        (0.0, 1.0, &[]),
        (0.0, 1.0, &[]),
    ]);
    assert!(error(&out_of_range).contains("out of range"));
    let mut not_finite = good;
    not_finite[10..14].copy_from_slice(&f32::NAN.to_le_bytes());
    assert!(error(&not_finite).contains("not finite"));
}

#[test]
fn explanations_name_the_words_that_raise_the_score_and_merge_neighbours() {
    let bytes = encoded([
        (0.0, 1.0, &[]),
        (0.0, 1.0, &{
            let mut entries = vec![
                (bucket("w1:dumb"), 60),
                (bucket("w1:bitch"), 90),
                (bucket("w1:cake"), -50),
            ];
            entries.sort_unstable();
            entries
        }),
        (0.0, 1.0, &[]),
    ]);
    let tier = LexicalTier::from_bytes("hand-made", &bytes).unwrap();
    let normalized = Normalizer::default().normalize("Cake? What a DUMB b1tch, honestly");
    let run = tier.run(&normalized).unwrap();
    let spans = tier.explain(&normalized, &run, Category::Harassment, 4);
    assert_eq!(spans.len(), 1, "{spans:?}");
    let (range, share) = spans[0].clone();
    assert_eq!(normalized.original_range(range), 13..23); // "DUMB b1tch"
    assert!(
        (share - 1.0).abs() < 1e-5,
        "the only raising words carry all of it: {share}"
    );
    assert!(tier
        .explain(&normalized, &run, Category::SelfHarm, 4)
        .is_empty());
}

#[test]
fn explaining_a_long_text_takes_linear_time_and_bounded_output() {
    let tier = LexicalTier::builtin();
    let normalized = Normalizer::default().normalize(&"you stupid idiot ".repeat(60_000));
    let run = tier.run(&normalized).unwrap();
    let spans = tier.explain(&normalized, &run, Category::Harassment, 4);
    assert!(!spans.is_empty() && spans.len() <= 4);
}

#[test]
fn leb128_takes_seven_bits_a_byte_low_bits_first() {
    let encoded = |value| {
        let mut out = Vec::new();
        push_leb128(&mut out, value);
        out
    };
    assert_eq!(encoded(0), [0]);
    assert_eq!(encoded(127), [127]);
    assert_eq!(encoded(128), [0x80, 1]);
    assert_eq!(encoded(262_143), [0xFF, 0xFF, 0x0F]);
}
