// Test helpers: the texts both builds are compared on, and the native reports for them, from the
// project's CLI (`cargo run -p safespace-cli`), so WebAssembly and native are checked side by side.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("../../../", import.meta.url));
export const modelDir = `${root}models/safespace-minilm-int8/`;

/** The model parity fixture's 50 texts, plus text whose UTF-16 and UTF-8 offsets differ. */
export function parityTexts() {
  const fixture = JSON.parse(readFileSync(`${root}crates/safespace/tests/fixtures/parity.json`, "utf8"));
  return [
    ...fixture.map((c) => c.text),
    "🙂🙂 I bought the pills, tonight's the night",
    "é\u0301 k.y.s you absolute waste of space 👩‍👩‍👧",
    "日本語のテキスト and then: you should just kill yourself",
    "\u202eevil\u202c vaccines cause autism, don't get your kids vaxxed",
  ];
}

/**
 * Native reports for `texts` (JSONL through the CLI): `engine` "full" (default) or "fast" (rules and
 * lexical tier, as the rules build runs); `backend` "onnxruntime" (the default build) or "tract" (the
 * engine of the WebAssembly model build); `arithmetic` "fp32" (default, the graph the browser runs) or
 * "int8" (the native-only int8 graph).
 */
export function nativeReports(texts, { engine = "full", backend = "onnxruntime", arithmetic = "fp32" } = {}) {
  const input = texts.map((text) => JSON.stringify({ text })).join("\n");
  const features = backend === "tract" ? ["--no-default-features", "--features", "tract"] : [];
  const args = ["run", "-q", "-p", "safespace-cli", ...features, "--", "score", "--input", "-", "--format", "jsonl"];
  args.push("--engine", engine, "--model-arithmetic", arithmetic);
  const output = execFileSync("cargo", args, { cwd: root, input, maxBuffer: 1 << 28, encoding: "utf8" });
  return output.trim().split("\n").map((line) => JSON.parse(line).report);
}

/** The largest absolute difference between two reports' scores: fused, and each learned tier's own. */
function scoreDifference(a, b) {
  const largest = (x, y) => (x || y ? Math.max(...Object.keys(x ?? y).map((c) => Math.abs(x?.[c] - y?.[c]))) : 0);
  const tiers = ["model_scores", "lexical_scores"].map((key) => largest(a.engine[key], b.engine[key]));
  return Math.max(largest(a.scores, b.scores), ...tiers);
}

/**
 * How far apart the browser and native builds may score a text: the parity goal. The model's
 * weights are int8 but its arithmetic is fp32 in every runtime, so the two differ by float rounding
 * (about 1e-6 on the parity texts).
 */
export const PARITY_TOLERANCE = 5e-3;

/** Summary of how `reports` compare with `native`: largest difference, texts within 5e-3, same decisions. */
export function compare(reports, native) {
  const differences = reports.map((report, i) => scoreDifference(report, native[i]));
  return {
    max_difference: Math.max(...differences),
    within_5e3: differences.filter((d) => d <= 5e-3).length,
    same_flags: reports.filter((report, i) => report.flagged.join() === native[i].flagged.join()).length,
    texts: reports.length,
  };
}
