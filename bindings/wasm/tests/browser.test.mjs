// The package in a real browser: Debian's Chromium driven by playwright-core. Types into the example
// editor and checks what the writer sees, then measures latency and parity with native in the page.
// Writes target/browser-editor-typing.png and target/browser-editor.png (screenshots while typing and
// after Post) and target/wasm-browser-metrics.json.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { after, before, test } from "node:test";

import { chromium } from "playwright-core";

import { startServer } from "../../../examples/browser-editor/serve.mjs";
import { PARITY_TOLERANCE, compare, nativeReports, parityTexts, root } from "./native.mjs";

const CHROMIUM_FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run",
];

let server;
let browser;
let base;

before(async () => {
  server = await startServer(0);
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: CHROMIUM_FLAGS,
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

/** A new page that fails the test on any console error or uncaught exception. */
async function openPage(path) {
  const page = await browser.newPage();
  const problems = [];
  page.on("console", (m) => m.type() === "error" && problems.push(`${m.text()} (${m.location().url})`));
  page.on("pageerror", (error) => problems.push(error.message));
  await page.goto(`${base}${path}`);
  return { page, problems };
}

test("the editor highlights a crisis sentence and offers support on Post", { timeout: 300_000 }, async () => {
  const { page, problems } = await openPage("/examples/browser-editor/");
  const editor = page.locator("#post");
  await editor.pressSequentially("I bought the pills, tonight's the night", { delay: 5 });
  const mark = page.locator("mark.self_harm").first();
  await mark.waitFor({ state: "attached" });
  assert.match(await mark.textContent(), /bought the pills|tonight's the night/);
  await page.screenshot({ path: `${root}target/browser-editor-typing.png` });

  await page.locator("#model-status", { hasText: "Full check ready" }).waitFor({ timeout: 240_000 });
  await page.locator("#post-button").click();
  const support = page.locator("#support");
  await support.waitFor({ state: "visible" });
  const text = await support.textContent();
  for (const service of ["988", "741741", "1-800-662-4357"]) {
    assert.ok(text.includes(service), `${service} missing from the support panel`);
  }
  assert.equal(await page.evaluate(() => document.activeElement.id), "support");
  await page.screenshot({ path: `${root}target/browser-editor.png`, fullPage: true });

  await page.keyboard.press("Escape");
  await editor.pressSequentially("you are a worthless idiot and nobody wants you here", { delay: 2 });
  await page.locator("mark.harassment").first().waitFor({ state: "attached" });
  await page.locator("#post-button").click();
  await page.locator("#reconsider").waitFor({ state: "visible" });
  assert.match(await page.locator("#reconsider-text").textContent(), /hurtful/);
  assert.deepEqual(problems, []);
  await page.close();
});

test("in Chromium: keystroke and post latency, and parity with native", { timeout: 300_000 }, async () => {
  const texts = parityTexts();
  const native = {
    tract: nativeReports(texts, { backend: "tract" }),
    onnxruntime: nativeReports(texts),
    onnxruntime_int8: nativeReports(texts, { arithmetic: "int8" }),
  };
  const { page, problems } = await openPage("/bindings/wasm/tests/browser/harness.html");
  const measured = await page.evaluate(async (texts) => {
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const quantile = (q) => (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * q)];
    const [p95, p99] = [quantile(0.95), quantile(0.99)];
    const rulesBuild = await import("/bindings/wasm/pkg/index.js");
    const modelBuild = await import("/bindings/wasm/pkg/model.js");
    let start = performance.now();
    const rules = await rulesBuild.Detector.load();
    const rulesLoadMs = performance.now() - start;
    const post = "Honestly I don't know why I keep trying. Everyone at school acts like I'm invisible " +
      "and my parents just fight all the time. I bought the pills last week and tonight feels like " +
      "the night. I'm sorry to dump this here, I just needed to tell someone before it's too late.";
    const keystrokes = [];
    for (let i = 1; i <= post.length; i++) {
      start = performance.now();
      rules.score(post.slice(0, i));
      keystrokes.push(performance.now() - start);
    }
    const draft = post.slice(0, 280);
    const drafts = [];
    for (let i = 0; i < 500; i++) {
      start = performance.now();
      rules.score(draft);
      drafts.push(performance.now() - start);
    }
    const dir = "/models/safespace-minilm-int8/";
    start = performance.now();
    const model = await modelBuild.Detector.load({
      model: fetch(`${dir}model.onnx`), tokenizer: fetch(`${dir}tokenizer.json`), manifest: fetch(`${dir}manifest.json`),
      engine: "full",
    });
    const modelLoadMs = performance.now() - start;
    const posts = [];
    const reports = texts.map((text) => {
      start = performance.now();
      const report = model.score(text);
      posts.push(performance.now() - start);
      return report;
    });
    return {
      reports,
      metrics: {
        rules_load_ms: rulesLoadMs,
        keystroke_ms_median: median(keystrokes),
        keystroke_ms_p95: p95(keystrokes),
        keystroke_ms_p99: p99(keystrokes),
        keystrokes: keystrokes.length,
        draft_280_ms_median: median(drafts),
        draft_280_ms_p99: p99(drafts),
        model_load_ms: modelLoadMs,
        post_ms_median: median(posts),
        post_ms_p95: p95(posts),
        posts: posts.length,
        user_agent: navigator.userAgent,
      },
    };
  }, texts);
  assert.ok(measured.reports.every((report) => report.engine.mode === "model+rules"));
  const metrics = {
    ...measured.metrics,
    vs_native_tract: compare(measured.reports, native.tract),
    vs_native_onnxruntime: compare(measured.reports, native.onnxruntime),
    // Recorded, not held to 5e-3: the int8 graph runs natively only and scores about 0.01 apart.
    vs_native_onnxruntime_int8: compare(measured.reports, native.onnxruntime_int8),
  };
  writeFileSync(`${root}target/wasm-browser-metrics.json`, `${JSON.stringify(metrics, null, 2)}\n`);
  console.log(JSON.stringify(metrics));
  assert.ok(metrics.vs_native_tract.max_difference <= PARITY_TOLERANCE, "browser vs native tract");
  assert.ok(metrics.vs_native_onnxruntime.max_difference <= PARITY_TOLERANCE, "browser vs native ONNX Runtime");
  assert.equal(metrics.vs_native_onnxruntime.same_flags, metrics.vs_native_onnxruntime.texts, "browser vs native flags");
  assert.deepEqual(problems, []);
  await page.close();
});
