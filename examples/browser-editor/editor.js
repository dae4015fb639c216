// A post editor that checks the draft on this device: the rules build highlights evidence on every
// keystroke; "Post" runs the model build (loaded in the background) and responds to what it finds.
import { Detector as RulesDetector } from "../../bindings/wasm/pkg/index.js";
import { Detector as ModelDetector } from "../../bindings/wasm/pkg/model.js";

const MODEL_DIR = "../../models/safespace-minilm-int8/";

const editor = document.getElementById("post");
const highlights = document.getElementById("highlights");
const status = document.getElementById("status");
const postButton = document.getElementById("post-button");
const modelStatus = document.getElementById("model-status");
const support = document.getElementById("support");
const resources = document.getElementById("resources");
const reconsider = document.getElementById("reconsider");
const reconsiderText = document.getElementById("reconsider-text");
const published = document.getElementById("published");

const MESSAGES = {
  harassment: "Parts of this could come across as hurtful to someone. Would you like to reword it before it goes up?",
  misinformation: "This makes a health claim that may not be accurate. Could you add a source, such as your doctor's advice or a health service like the NHS, CDC or WHO?",
};

const rules = await RulesDetector.load();
let model = null;
const modelReady = loadModel();
status.textContent = "";
editor.addEventListener("input", check);
editor.addEventListener("scroll", () => (highlights.parentElement.scrollTop = editor.scrollTop));
postButton.addEventListener("click", post);
document.getElementById("post-anyway").addEventListener("click", () => publish(editor.value));
document.getElementById("edit-button").addEventListener("click", () => {
  reconsider.hidden = true;
  editor.focus();
});
document.getElementById("support-close").addEventListener("click", () => {
  support.hidden = true;
  editor.focus();
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && (!support.hidden || !reconsider.hidden)) {
    support.hidden = reconsider.hidden = true;
    editor.focus();
  }
});
check();

async function loadModel() {
  modelStatus.textContent = "Loading the full check…";
  try {
    const file = (name) => fetch(new URL(MODEL_DIR + name, import.meta.url));
    model = await ModelDetector.load({
      model: file("model.onnx"),
      tokenizer: file("tokenizer.json"),
      manifest: file("manifest.json"),
    });
    modelStatus.textContent = "Full check ready";
  } catch (error) {
    modelStatus.textContent = "Quick check only (the full check could not load)";
    console.warn(error);
  }
}

/** Rules on every keystroke: highlight the evidence and say, quietly, what it is about. */
function check() {
  const text = editor.value;
  const report = rules.score(text);
  renderHighlights(text, report.evidence);
  const message = report.flagged.includes("harassment")
    ? "Some words here may come across as hurtful."
    : report.flagged.includes("misinformation")
      ? "This includes a health claim worth double-checking."
      : "";
  if (status.textContent !== message) {
    status.textContent = message;
  }
}

/** Draws `text` behind the textarea with each evidence span in a <mark> (outer span wins on overlap). */
function renderHighlights(text, evidence) {
  const spans = [...evidence].sort((a, b) => a.start - b.start || b.end - a.end);
  const parts = [];
  let at = 0;
  for (const span of spans) {
    if (span.start < at) continue;
    parts.push(document.createTextNode(text.slice(at, span.start)));
    const mark = document.createElement("mark");
    mark.className = span.category;
    mark.dataset.rule = span.rule;
    mark.textContent = text.slice(span.start, span.end);
    parts.push(mark);
    at = span.end;
  }
  // A trailing newline needs a character after it to take up a line, as in the textarea.
  parts.push(document.createTextNode(text.slice(at) + "\u200b"));
  highlights.replaceChildren(...parts);
}

async function post() {
  const text = editor.value;
  if (!text.trim()) {
    status.textContent = "Write something first.";
    return;
  }
  postButton.disabled = true;
  support.hidden = reconsider.hidden = true;
  try {
    if (!model) {
      modelStatus.textContent = "Finishing the full check…";
      await modelReady;
    }
    const report = (model ?? rules).score(text);
    if (report.flagged.includes("self_harm")) {
      publish(text);
      showSupport(report.resources);
      return;
    }
    const concerns = report.flagged.filter((category) => category in MESSAGES);
    if (concerns.length > 0) {
      reconsiderText.textContent = concerns.map((category) => MESSAGES[category]).join(" ");
      reconsider.hidden = false;
      reconsider.focus();
      return;
    }
    publish(text);
  } finally {
    postButton.disabled = false;
  }
}

function showSupport(list) {
  resources.replaceChildren(
    ...list.map((resource) => {
      const item = document.createElement("li");
      const name = document.createElement("strong");
      name.textContent = resource.name;
      item.append(name, `: ${resource.how}`);
      return item;
    }),
  );
  support.hidden = false;
  support.focus();
}

function publish(text) {
  reconsider.hidden = true;
  const article = document.createElement("article");
  article.textContent = text;
  published.prepend(article);
  editor.value = "";
  check();
}
