//! End-to-end behaviour of the rule engine on hand-written examples of each mechanism. The model path
//! has its own tests in `model.rs`.

use safespace::{
    Action, Category, ContentWarning, Detector, DetectorBuilder, Engine, Locale, Policy, Severity,
    Tier,
};

fn rules() -> DetectorBuilder {
    Detector::builder().rules_only(true)
}

fn detector() -> Detector {
    rules().build().unwrap()
}

/// Asserts that the rules flag `category` in each text.
fn assert_each_flagged(category: Category, texts: &[&str]) {
    let detector = detector();
    for text in texts {
        let report = detector.score(text);
        assert!(
            report.is_flagged(category),
            "{category}: {text}: {report:?}"
        );
    }
}

/// Asserts that the rules flag nothing in each text.
fn assert_none_flagged(texts: &[&str]) {
    let detector = detector();
    for text in texts {
        let report = detector.score(text);
        assert!(report.flagged.is_empty(), "{text}: {report:?}");
    }
}

#[test]
fn plan_and_time_is_critical_with_resources() {
    let report = detector().score("I bought the pills, tonight's the night");
    assert_eq!(report.severity, Severity::Critical);
    assert_eq!(report.action, Action::ShowCrisisResources);
    let hows: Vec<&str> = report.resources.iter().map(|r| r.how.as_str()).collect();
    assert!(hows.contains(&"Call or text 988"));
    assert!(hows.contains(&"Text HOME to 741741"));
    assert!(hows.iter().any(|h| h.contains("1-800-662-4357")));
    assert_eq!(report.content_warnings, vec![ContentWarning::Suicide]);
}

#[test]
fn indirect_signs_of_a_plan_are_flagged_and_their_everyday_twins_are_not() {
    assert_each_flagged(
        Category::SelfHarm,
        &[
            "bought a rope today. not for camping",
            "looked up how high the parking garage is. 9 floors should do it",
            "made my peace with it. deleted my accounts, gave my cat to my neighbor. goodbye guys",
            "the razor is the only thing that makes the noise in my head stop",
            "thinking about sewer slide again",
            "counting down the days until i can finally end this",
            "if my grades come back bad tomorrow i'm jumping off the roof",
            "s/h again last night, the urges won",
            "I have intrusive thoughts about killing myself and I'm scared I'll act on them",
            "In recovery for three years. But this week the old thoughts are back.",
            "I caught myself staring at the knives for way too long last night",
            "it didn't work. woke up in the hospital. i'll do it properly next time",
            "I have enough of my old prescription saved to make sure I don't wake up",
            "i've been burning my wrists with a hot spoon since summer",
            "su1c1de is the only option left for me",
            "wrote a note and left it on my pillow. i'm sorry mom",
            "I'm going to drive my car into a tree on the highway tonight",
            "need meanspo to stop me from eating tonight",
            "🔪🩸 again tonight",
            "gonna take a long nap. the permanent kind",
            "i have a bottle of vodka and all my pills",
            "what does it mean when you want to die every day?",
            "my scars have faded but the urges are back this week",
            "goodbye everyone, see you in a better place",
        ],
    );
    assert_none_flagged(&[
        "bought a rope for the tent, camping trip this weekend",
        "the new office building is 9 floors and the elevator is always broken",
        "gave my cat to my neighbor while I'm on holiday",
        "coffee is the only thing that makes mornings bearable",
        "intrusive thoughts about jumping from a balcony are common, my therapist says",
        "Study: teens who had a trusted adult were less likely to attempt suicide.",
        "Can someone explain what passive suicidal ideation means?",
        "going to sleep forever after this exam week",
        "I'm sorry for your loss. Suicide leaves so many questions behind.",
        "goodbye everyone, logging off for the night, see you tomorrow",
        "thinspo accounts should be banned from every platform",
        "I'm jumping off the roof into the pool at the party",
        "counting down the days until i can finally end this contract",
        "the permanent kind of marker works best on glass",
    ]);
}

#[test]
fn time_words_alone_are_not_risk() {
    let report = detector().score("I bought the tickets, tonight's the show");
    assert!(report.flagged.is_empty(), "{report:?}");
}

#[test]
fn idioms_and_technical_senses_are_not_flagged() {
    for text in [
        "this homework is killing me",
        "kill the process",
        "I'm dying of laughter",
        "you killed it",
    ] {
        let report = detector().score(text);
        assert!(report.flagged.is_empty(), "{text}: {:?}", report.flagged);
        assert!(report.evidence.is_empty(), "{text}: {:?}", report.evidence);
    }
}

#[test]
fn negation_and_recovery_lower_risk_but_recovery_keeps_a_content_warning() {
    let negated = detector().score("I'm not suicidal, just tired");
    assert!(negated.flagged.is_empty());
    let recovery = detector().score("I used to cut myself in high school, I'm 5 years clean now");
    assert!(recovery.flagged.is_empty());
    assert_eq!(recovery.action, Action::SuggestContentWarning);
    assert!(recovery
        .content_warnings
        .contains(&ContentWarning::SelfHarm));
    let evidence = &recovery.evidence[0];
    assert!(
        evidence.context.iter().any(|c| c.starts_with("past.")),
        "{evidence:?}"
    );
}

#[test]
fn third_person_concern_is_flagged_at_lower_severity() {
    let report = detector().score("my sister says she wants to kill herself");
    assert!(report.is_flagged(Category::SelfHarm));
    assert_eq!(report.severity, Severity::Medium);
    let first_person = detector().score("I want to kill myself");
    assert!(report.scores.self_harm < first_person.scores.self_harm);
}

#[test]
fn directed_encouragement_is_self_harm_and_harassment() {
    let report = detector().score("do everyone a favor and jump");
    assert!(report.is_flagged(Category::SelfHarm));
    assert!(report.is_flagged(Category::Harassment));
    assert_eq!(report.action, Action::Block);
}

#[test]
fn threats_extortion_and_dehumanization_are_harassment() {
    assert_each_flagged(
        Category::Harassment,
        &[
            "if i see you at the game i'll break your legs",
            "send nudes or i'll share your pics with the whole school",
            "I hope someone finds your address",
            "your kind are vermin",
            "Nice house. Be a shame if something happened to it.",
            "women are too emotional to be doctors",
            "i'll dox you",
            "hope your whole family dies in a car crash",
            "you deserve every bad thing that happens to you",
        ],
    );
}

#[test]
fn quoted_and_reported_abuse_is_not_flagged() {
    let report = detector().score("the mods removed a post that said kys");
    assert!(report.flagged.is_empty(), "{report:?}");
}

#[test]
fn supportive_messages_are_not_risk() {
    let report = detector().score("If you're having thoughts of suicide, please call or text 988");
    assert!(report.flagged.is_empty(), "{report:?}");
    assert!(report.resources.is_empty());
}

#[test]
fn insults_need_a_target() {
    assert!(detector()
        .score("you are such an idiot")
        .is_flagged(Category::Harassment));
    assert!(!detector()
        .score("I'm such an idiot, I forgot my keys")
        .is_flagged(Category::Harassment));
}

#[test]
fn identity_terms_alone_are_not_attacks() {
    assert_none_flagged(&[
        "I'm gay and proud",
        "As a Muslim woman I love this forum",
        "my trans friends are great",
    ]);
    assert_each_flagged(Category::Harassment, &["all muslims are terrorists"]);
}

#[test]
fn misinformation_claims_not_topics() {
    assert_each_flagged(
        Category::Misinformation,
        &[
            "vaccines cause autism",
            "ADHD was invented by drug companies to sell stimulants to kids",
            "asking someone if they're suicidal puts the idea in their head",
            "schizophrenia is caused by demons",
            "bipolar disorder can be cured completely with a keto diet",
            "SSRIs cause permanent brain damage",
            "autism comes from bad parenting",
            "only weak people need antidepressants",
            "Kids don't get depression, they're just moody",
            "anorexia is just a diet that went too far",
            "Don't ever tell a therapist you're suicidal, they'll lock you up",
            "Suicidal people are just selfish",
            "Antidepressants are more addictive than heroin",
            "Psychiatry is a pseudoscience",
            "Kratom is a safe, natural replacement for antidepressants",
            "Calling 988 just gets the cops sent to your house, never call them",
            "ADHD meds are basically meth for kids",
            "you only get depressed if you're ungrateful",
            "sugar causes ADHD",
        ],
    );
    assert_none_flagged(&[
        "vaccines do not cause autism",
        "I got my flu vaccine today",
        "Don't stop your meds without talking to your doctor",
        "It's a myth that asking someone if they're suicidal puts the idea in their head",
        "asking someone about suicide doesn't put the idea in their head",
        "Alcohol can make anxiety worse over time, even if it feels like it helps at first.",
        "Kids don't get depression as often as adults, but they can and do.",
    ]);
}

#[test]
fn obfuscated_spellings_are_caught_and_spans_point_at_what_was_typed() {
    let text = "ok i w4nt to d1e";
    let report = detector().score(text);
    assert!(report.is_flagged(Category::SelfHarm));
    assert_eq!(report.evidence[0].text, "w4nt to d1e");
    assert_eq!(
        &text[report.evidence[0].start..report.evidence[0].end],
        "w4nt to d1e"
    );
}

#[test]
fn utf16_offsets_count_surrogate_pairs() {
    let text = "😀😀 kys";
    let report = detector().score(text);
    let evidence = &report.evidence[0];
    assert_eq!((evidence.start, evidence.end), (9, 12));
    assert_eq!((evidence.utf16_start, evidence.utf16_end), (5, 8));
}

#[test]
fn policies_trade_recall_for_quiet() {
    let text = "I can't go on like this";
    let strict = rules().policy(Policy::strict()).build().unwrap();
    let general = rules().policy(Policy::general()).build().unwrap();
    let (s, g) = (strict.score(text), general.score(text));
    assert_eq!(s.scores, g.scores);
    assert!(s.flagged.len() >= g.flagged.len());
}

#[test]
fn locales_change_resources() {
    let uk = rules().locale(Locale::Uk).build().unwrap();
    let report = uk.score("I want to die");
    assert!(report.resources.iter().any(|r| r.how.contains("116 123")));
}

#[test]
fn reports_serialize_to_the_documented_json_shape() {
    let report = detector().score("kys");
    let json = serde_json::to_value(&report).unwrap();
    for key in [
        "scores",
        "labels",
        "flagged",
        "severity",
        "action",
        "evidence",
        "content_warnings",
        "resources",
        "engine",
    ] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    assert_eq!(json["engine"]["mode"], "fast");
    assert_eq!(
        json["labels"]["self_harm/encouragement"],
        json["scores"]["self_harm"]
    );
    let evidence = &json["evidence"][0];
    for key in [
        "category",
        "subcategory",
        "rule",
        "text",
        "start",
        "end",
        "utf16_start",
        "utf16_end",
    ] {
        assert!(evidence.get(key).is_some(), "evidence misses {key}");
    }
    let back: safespace::Report = serde_json::from_value(json).unwrap();
    assert_eq!(back, report);
}

#[test]
fn huge_inputs_score_with_bounded_evidence() {
    let text = "I want to die. ".repeat(200_000); // 3 MB
    let report = detector().score(&text);
    assert!(report.is_flagged(Category::SelfHarm));
    assert_eq!(report.evidence.len(), 64);
    assert_eq!(report.evidence_omitted, 200_000 - 64);
}

/// Ten megabytes of patterns built to hit the slow paths of each normalizer step and of the rules:
/// spaced letters (one endless spelled-out run), censoring stars, ambiguous digits, leetspeak, dotted
/// and repeated letters; `requires` rules without support, negated, quoted and dense evidence, and
/// text without sentence breaks. Each must score (a quadratic step would not finish:
/// `.config/nextest.toml` ends a test after five minutes) and still find what it spells.
/// `pathological.rs` measures how each family's time grows.
#[test]
fn ten_megabytes_of_adversarial_patterns_score_in_one_pass() {
    let patterns: [(&str, Option<Category>); 12] = [
        ("k y s ", Some(Category::Harassment)),
        ("k*ll y*urs*lf ", Some(Category::Harassment)),
        ("1111111 4444 7070 ", None),
        ("1 w4n7 70 d13 ", Some(Category::SelfHarm)),
        ("s.u.i.c.i.d.e.", None),
        ("diiiiiiiiie ", None),
        ("i have the pills. ", None),
        ("i have the pills tonight. ", None),
        ("i am not going to kill myself, not suicidal. ", None),
        ("\"kys\" he said. ", Some(Category::SelfHarm)),
        ("not kys ", Some(Category::Harassment)),
        ("not.kys.", None),
    ];
    let detector = detector();
    for (pattern, category) in patterns {
        let text = pattern.repeat(10_000_000 / patterns.len() / pattern.len());
        let report = detector.score(&text);
        if let Some(category) = category {
            assert!(report.is_flagged(category), "{pattern:?} not flagged");
        }
        assert!(
            report.evidence.len() <= 64,
            "{pattern:?}: evidence is bounded"
        );
    }
}

#[test]
fn user_rules_extend_and_disabled_rules_stop() {
    let custom = rules()
        .add_rules_str(
            "community.toml",
            "[[rule]]\nid = 'community.ctb'\nlabels = ['self_harm/ideation']\nweight = 0.8\nterms = ['catch the bus']\n",
        )
        .disable_rule("harassment.insult.directed")
        .build()
        .unwrap();
    assert!(custom
        .score("I want to catch the bus tonight")
        .is_flagged(Category::SelfHarm));
    assert!(!detector()
        .score("I want to catch the bus tonight")
        .is_flagged(Category::SelfHarm));
    let insult = custom.score("you are such an idiot");
    assert!(
        insult.engine.rules_scores.harassment < 0.6,
        "the rules alone no longer flag it"
    );
}

#[test]
fn bad_rule_files_name_file_line_and_problem() {
    let err = rules()
        .add_rules_str("ours.toml", "[[rule]]\nid = 'ours.a'\nlabels = ['harassment/insult']\nterms = ['x']\n\n[[context]]\nid = 'ours.c'\nkind = 'negation'\nscope = 'nearby'\nterms = ['not']\neffect = {}\n")
        .build()
        .unwrap_err();
    let message = err.to_string();
    assert!(message.starts_with("ours.toml:9:"), "{message}");
    assert!(message.contains("nearby"), "{message}");
}

#[test]
fn texts_over_the_size_limit_are_refused_by_try_score_and_cut_by_score() {
    let detector = Detector::builder()
        .rules_only(true)
        .max_input_bytes(24)
        .build()
        .unwrap();
    let text = "I want to die. And then a long tail that goes past the limit";
    let err = detector.try_score(text).unwrap_err();
    assert!(
        err.to_string().contains("over the limit of 24 bytes"),
        "{err}"
    );
    let report = detector.score(text);
    assert!(
        report.is_flagged(Category::SelfHarm),
        "the first 24 bytes are scored"
    );
    assert!(report
        .engine
        .note
        .as_deref()
        .unwrap()
        .contains("first 24 of"));
    let batch = detector.try_score_batch(&["kys", text, "ok"]);
    assert!(batch[0].is_ok() && batch[1].is_err() && batch[2].is_ok());
    assert_eq!(
        detector.score_batch(&[text])[0],
        report,
        "batch and single agree"
    );
    // A cut never splits a character: byte 24 falls inside the sixth emoji, so 22 bytes are scored.
    let emoji = format!("ab{}", "😢".repeat(10));
    let note = detector.score(&emoji).engine.note.unwrap();
    assert!(note.contains("first 22 of 42 bytes"), "{note}");
}

#[test]
fn the_fast_engine_flags_what_its_lexical_tier_finds_and_says_where() {
    let insult = "what a dumb bitch";
    let without_rules = Detector::builder()
        .engine(Engine::Fast)
        .disable_rule("harassment.insult.directed")
        .disable_rule("harassment.insult.term")
        .build()
        .unwrap();
    let report = without_rules.score(insult);
    assert_eq!(report.engine.tiers, [Tier::Rules, Tier::Lexical]);
    assert_eq!(report.engine.rules_scores.harassment, 0.0);
    assert!(report.is_flagged(Category::Harassment), "{report:?}");
    let lexical: Vec<_> = report
        .evidence
        .iter()
        .filter(|e| e.rule == "lexical")
        .collect();
    assert!(!lexical.is_empty() && lexical.iter().all(|e| e.category == Category::Harassment));
    assert!(
        lexical.iter().any(|e| e.text.contains("bitch")),
        "{lexical:?}"
    );
    // With the rules on, they carry the flag and the evidence is theirs alone.
    let fast = Detector::builder().engine(Engine::Fast).build().unwrap();
    assert!(fast
        .score(insult)
        .evidence
        .iter()
        .all(|e| e.rule != "lexical"));
    assert!(fast
        .score("see you at practice on tuesday")
        .evidence
        .is_empty());
}
