//! Shared inputs for the benchmarks: deterministic forum-style posts of a chosen length.

/// Sentences the benchmark posts are built from: everyday chatter, support messages, idioms and some
/// risky content, so that the rules and context modifiers all do real work.
const SENTENCES: &[&str] = &[
    "Had a long day at work and the bus was late again.",
    "Thanks everyone for the kind replies yesterday, it really helped.",
    "I feel like nobody would even notice if I was gone.",
    "This homework is killing me, three essays due on Friday.",
    "If you're struggling tonight, you can call or text 988.",
    "Two years ago I tried to end my life; today I'm doing better.",
    "you are such a pathetic loser, nobody wants you here",
    "Stop taking your meds, essential oils cure depression.",
    "My therapist suggested journaling before bed and it helps a bit.",
    "Does anyone know a good recipe for lentil soup?",
    "I'm not suicidal, just exhausted from everything lately.",
    "kill the process and restart the server before the demo",
    "Sending hugs, you're not alone in this 💙",
    "I cut myself again last night and I hate that I did.",
];

/// Everyday sentences that no rule should match: most real traffic looks like this.
const EVERYDAY: &[&str] = &[
    "Had a long day at work and the bus was late again.",
    "Thanks everyone for the kind replies yesterday, it really helped.",
    "My therapist suggested journaling before bed and it helps a bit.",
    "Does anyone know a good recipe for lentil soup?",
    "We finally repainted the kitchen and it looks great.",
    "The library closes early on Sundays so plan ahead.",
];

/// A post of exactly `len` bytes or slightly less (whole characters), built from the sentence list above
/// starting at sentence `seed`.
pub fn post(len: usize, seed: usize) -> String {
    build(SENTENCES, len, seed)
}

/// Like [`post`], from everyday sentences only.
pub fn everyday_post(len: usize, seed: usize) -> String {
    build(EVERYDAY, len, seed)
}

fn build(sentences: &[&str], len: usize, seed: usize) -> String {
    let mut out = String::with_capacity(len + 64);
    let mut i = seed;
    while out.len() < len {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(sentences[i % sentences.len()]);
        i += 1;
    }
    let mut cut = len.min(out.len());
    while !out.is_char_boundary(cut) {
        cut -= 1;
    }
    out.truncate(cut);
    out
}

/// `count` posts of about `len` bytes, each starting at a different sentence.
pub fn posts(count: usize, len: usize) -> Vec<String> {
    (0..count).map(|seed| post(len, seed)).collect()
}

/// Like [`posts`], from everyday sentences only.
pub fn everyday_posts(count: usize, len: usize) -> Vec<String> {
    (0..count).map(|seed| everyday_post(len, seed)).collect()
}
