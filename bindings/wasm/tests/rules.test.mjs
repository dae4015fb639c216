// The rules build under Node.js: the package's API, its errors, and parity with the native rules.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { Detector } from "../pkg/node.js";
import { compare, nativeReports, parityTexts } from "./native.mjs";

const detector = new Detector();

test("a crisis post is flagged with the crisis resources", () => {
  const report = detector.score("I bought the pills, tonight's the night");
  assert.deepEqual(report.flagged, ["self_harm"]);
  assert.equal(report.severity, "critical");
  assert.equal(report.action, "show_crisis_resources");
  const how = report.resources.map((r) => r.how).join(" | ");
  for (const service of ["988", "741741", "1-800-662-4357"]) {
    assert.ok(how.includes(service), `${service} missing from ${how}`);
  }
  assert.equal(report.engine.mode, "fast");
  assert.deepEqual(report.engine.tiers, ["rules", "lexical"]);
  assert.equal(detector.usesModel, false);
});

test("everyday hyperbole and recovery stories are not flagged", () => {
  for (const text of ["this homework is killing me lol", "two years clean from cutting today, proud of myself", ""]) {
    const report = detector.score(text);
    assert.deepEqual(report.flagged, [], text);
    assert.equal(report.action, "allow", text);
  }
});

test("evidence offsets index the JavaScript string", () => {
  for (const text of parityTexts()) {
    for (const evidence of detector.score(text).evidence) {
      assert.equal(text.slice(evidence.start, evidence.end), evidence.text, `${evidence.rule} in ${text}`);
      assert.equal(evidence.utf16_start, evidence.start);
      assert.ok(evidence.byte_end >= evidence.end);
    }
  }
  const text = "🙂🙂 kys";
  const [evidence] = detector.score(text).evidence;
  assert.deepEqual([evidence.start, evidence.end, evidence.byte_start, evidence.byte_end], [5, 8, 9, 12]);
});

test("scores match the native fast engine to float rounding, evidence exactly", () => {
  const texts = parityTexts();
  const native = nativeReports(texts, { engine: "fast" });
  const wasm = detector.scoreBatch(texts);
  assert.equal(wasm.length, texts.length);
  const summary = compare(wasm, native);
  // The lexical tier's logarithms and exponentials come from each platform's maths library.
  assert.ok(summary.max_difference <= 1e-6, JSON.stringify(summary));
  wasm.forEach((report, i) => {
    assert.deepEqual(report.engine.rules_scores, native[i].engine.rules_scores, texts[i]);
    assert.deepEqual(report.flagged, native[i].flagged, texts[i]);
    assert.deepEqual(
      report.evidence.map((e) => [e.rule, e.byte_start, e.byte_end]),
      native[i].evidence.map((e) => [e.rule, e.start, e.end]),
      texts[i],
    );
  });
});

test("scoreBatch keeps order and agrees with score", () => {
  const texts = ["kys", "have a lovely day", "vaccines cause autism", "kys"];
  const reports = detector.scoreBatch(texts);
  assert.equal(reports.length, 4);
  reports.forEach((report, i) => assert.deepEqual(report, detector.score(texts[i])));
  assert.deepEqual(detector.scoreBatch([]), []);
  assert.equal(detector.scoreBatch(new Set(["kys"])).length, 1);
});

test("wrong types are TypeErrors that say what was wrong", () => {
  for (const value of [undefined, null, 42, {}, ["kys"], new Uint8Array(3)]) {
    assert.throws(() => detector.score(value), TypeError);
  }
  assert.throws(() => detector.scoreBatch("kys"), /array of strings/);
  assert.throws(() => detector.scoreBatch(["ok", 7]), (e) => e instanceof TypeError && /texts\[1\]/.test(e.message));
  assert.throws(() => new Detector("strict"), TypeError);
});

test("bad options are Errors with the reason", () => {
  assert.throws(() => new Detector({ policy: "lenient" }), /unknown policy `lenient`/);
  assert.throws(() => new Detector({ locale: "Mars" }), /unknown locale/);
  assert.throws(() => new Detector({ thresholds: { harassment: 2 } }), /threshold/);
  assert.throws(() => new Detector({ thresholds: { spam: 0.5 } }), /spam/);
  assert.throws(() => new Detector({ polcy: "strict" }), /unknown option `polcy` \(expected one of engine, policy, locale, .*, lexical, lexicalName\)/);
  assert.throws(() => new Detector({ rules: [{ name: "ours.toml", toml: "[[rule]]\nid = " }] }), /ours\.toml:2/);
  assert.throws(() => new Detector({ maxInputBytes: 0 }), /at least 1/);
});

test("options change the outcome", () => {
  const uk = new Detector({ locale: "UK" }).score("i want to kill myself");
  assert.ok(uk.resources.some((r) => r.region === "UK"));
  const text = "you are kind of an idiot";
  const lenient = new Detector({ thresholds: { harassment: 0.99 } }).score(text);
  assert.ok(!lenient.flagged.includes("harassment"));
  const rules = [{ name: "ours.toml", toml: "[[rule]]\nid = 'ours.bozo'\nlabels = ['harassment/insult']\nweight = 0.9\nterms = ['bozo']" }];
  const custom = new Detector({ rules }).score("what a bozo");
  assert.deepEqual(custom.flagged, ["harassment"]);
  assert.equal(custom.evidence[0].rule, "ours.bozo");
  const disabled = new Detector({ rules, disableRules: ["ours.bozo"] });
  assert.deepEqual(disabled.score("what a bozo").flagged, []);
});

test("a text over maxInputBytes throws, and the detector goes on working", () => {
  const small = new Detector({ maxInputBytes: 16 });
  assert.throws(() => small.score("x".repeat(17)), (e) => e instanceof Error && /over the limit of 16 bytes/.test(e.message));
  assert.throws(() => small.scoreBatch(["ok", "x".repeat(17)]), /texts\[1\]/);
  assert.deepEqual(small.score("kys").flagged, ["self_harm", "harassment"]);
});

test("hostile text gives a report, not a trap", () => {
  const texts = [
    "\0\0kys\0",
    "\u202e\u2066I want to die\u2069\u202c",
    "👩‍👩‍👧‍👦🏳️‍🌈🇺🇸".repeat(1000),
    "\ud800 lone surrogate then kys",
    "a".repeat(10 * 1024 * 1024 + 7) + " kys",
  ];
  for (const text of texts) {
    const report = detector.score(text);
    for (const e of report.evidence) {
      assert.ok(e.start <= e.end && e.end <= text.length);
    }
  }
  assert.ok(detector.score("\0\0kys\0").flagged.includes("self_harm"));
  assert.ok(detector.score(texts[4]).flagged.includes("self_harm"));
});

test("the rules build says how to get the model", async () => {
  await assert.rejects(
    Detector.load({ model: new Uint8Array(1), tokenizer: new Uint8Array(1), manifest: new Uint8Array(1) }),
    /fast-engine build; import "safespace\/model"/,
  );
  const loaded = await Detector.load({ policy: "strict" });
  assert.equal(loaded.usesModel, false);
});

test("a freed detector refuses calls with an Error", () => {
  const temporary = new Detector();
  temporary.free();
  assert.throws(() => temporary.score("hi"), /freed/);
  temporary.free();
});

test("the engine option: fast here, auto and full only with the model files", () => {
  assert.equal(new Detector({ engine: "fast" }).score("kys").engine.mode, "fast");
  assert.throws(() => new Detector({ engine: "full" }), /the full engine runs the model/);
  assert.throws(() => new Detector({ engine: "auto" }), /the auto engine runs the model/);
  assert.throws(() => new Detector({ engine: "turbo" }), /unknown engine `turbo`/);
});

test("a refitted lexical tier's weights load in place of the built-in one", async () => {
  const weights = readFileSync(new URL("../../../models/safespace-lexical/weights.bin", import.meta.url));
  const custom = new Detector({ lexical: weights, lexicalName: "ours@1" });
  const report = custom.score("kys");
  assert.equal(report.engine.lexical, "ours@1");
  assert.deepEqual(report.scores, detector.score("kys").scores);
  const loaded = await Detector.load({ lexical: Promise.resolve(new Response(weights)) });
  assert.equal(loaded.score("kys").engine.lexical, "custom");
  assert.throws(() => new Detector({ lexical: new Uint8Array([1, 2, 3]) }), /lexical tier could not be loaded/);
  assert.throws(() => new Detector({ lexical: "weights.bin" }), /lexical must be bytes here/);
});
