// The model build under Node.js: loading the model from bytes, parity with native ONNX Runtime, and
// clear errors for missing or damaged files.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { Detector } from "../pkg/node-model.js";
import { PARITY_TOLERANCE, compare, modelDir, nativeReports, parityTexts } from "./native.mjs";

const files = {
  model: readFileSync(`${modelDir}model.onnx`),
  tokenizer: readFileSync(`${modelDir}tokenizer.json`),
  manifest: readFileSync(`${modelDir}manifest.json`),
};
// The full engine: every text reaches the model, as in the native reports it is compared with.
const detector = await Detector.load({ ...files, engine: "full" });

test("the model runs fused with the rules", () => {
  assert.equal(detector.usesModel, true);
  const report = detector.score("I just want to die, nothing ever gets better");
  assert.equal(report.engine.mode, "model+rules");
  assert.match(report.engine.model, /^safespace-minilm-int8@/);
  assert.ok(report.engine.model_scores.self_harm > 0.9);
  assert.ok(report.flagged.includes("self_harm"));
});

test("scores agree with native tract and ONNX Runtime within 5e-3", () => {
  const texts = parityTexts();
  const wasm = detector.scoreBatch(texts);
  for (const backend of ["tract", "onnxruntime"]) {
    const native = nativeReports(texts, { backend });
    assert.ok(native.every((r) => r.engine.mode === "model+rules"), `the native ${backend} CLI ran without the model`);
    const summary = compare(wasm, native);
    console.log(`vs native ${backend}: ${JSON.stringify(summary)}`);
    assert.ok(summary.max_difference <= PARITY_TOLERANCE, `${backend}: ${summary.max_difference}`);
    assert.equal(summary.same_flags, summary.texts, `${backend}: flags differ`);
  }
});

test("a text longer than one window is read in windows", () => {
  const filler = "We talked about the weather and the garden for a while. ".repeat(60);
  const report = detector.score(`${filler} I bought the pills, tonight's the night.`);
  assert.ok(report.flagged.includes("self_harm"));
});

test("the default engine is the cascade: the model reads only where it could change a flag", async () => {
  const auto = await Detector.load(files);
  const unsettled = auto.score("i think about dying every day");
  assert.deepEqual(unsettled.engine.tiers, ["rules", "lexical", "model"]);
  const crisis = auto.score("I bought the pills, tonight's the night");
  assert.deepEqual(crisis.engine.tiers, ["rules", "lexical"], "the rules flag it already");
  assert.ok(crisis.flagged.includes("self_harm"));
  const everyday = auto.score("see you at practice on tuesday");
  assert.deepEqual(everyday.engine.tiers, ["rules", "lexical"]);
  await assert.rejects(Detector.load({ ...files, engine: "fast" }), /the fast engine runs no model/);
  auto.free();
});

test("files may be ArrayBuffers, Responses or promises", async () => {
  const asResponse = (bytes) => Promise.resolve(new Response(bytes));
  const loaded = await Detector.load({
    model: asResponse(files.model),
    tokenizer: files.tokenizer.buffer.slice(files.tokenizer.byteOffset, files.tokenizer.byteOffset + files.tokenizer.length),
    manifest: new Uint8Array(files.manifest),
    policy: "strict",
  });
  assert.equal(loaded.usesModel, true);
  loaded.free();
});

test("missing, damaged or failed files are clear errors", async () => {
  await assert.rejects(Detector.load({ model: files.model, tokenizer: files.tokenizer }), /needs all of/);
  const damaged = new Uint8Array(files.model);
  damaged[damaged.length >> 1] ^= 0xff;
  await assert.rejects(Detector.load({ ...files, model: damaged }), /model\.onnx/);
  await assert.rejects(Detector.load({ ...files, manifest: new TextEncoder().encode("{}") }), /manifest\.json/);
  await assert.rejects(Detector.load({ ...files, tokenizer: 12 }), (e) => e instanceof TypeError && /tokenizer/.test(e.message));
  await assert.rejects(
    Detector.load({ ...files, model: new Response("gone", { status: 404, statusText: "Not Found" }) }),
    /fetching model failed: 404/,
  );
  assert.equal(detector.score("still here").engine.mode, "model+rules");
});
