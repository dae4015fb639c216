// Types of the `safespace` package; the same for every entry point ("safespace", "safespace/model").

/** The three categories, as report keys. */
export type Category = "self_harm" | "harassment" | "misinformation";
export type Severity = "none" | "low" | "medium" | "high" | "critical";
/** What the policy recommends, from least to most restrictive. */
export type Action = "allow" | "suggest_content_warning" | "show_crisis_resources" | "hold_for_review" | "block";
export type ContentWarning = "suicide" | "self_harm" | "eating_disorder" | "substance_use" | "trauma_abuse";
export type Preset = "peer_support" | "general" | "strict";

/** One matched span. `start`/`end` index the JavaScript string: `text.slice(start, end)`. */
export interface Evidence {
  category: Category;
  /** The sub-label, e.g. `intent`. */
  subcategory: string;
  /** Id of the rule that matched. */
  rule: string;
  /** The span as the writer typed it. */
  text: string;
  /** UTF-16 offset of the span start (a JavaScript string index). */
  start: number;
  /** UTF-16 offset of the span end, exclusive. */
  end: number;
  /** Same as `start`. */
  utf16_start: number;
  /** Same as `end`. */
  utf16_end: number;
  /** Byte offset of the span start in the UTF-8 text. */
  byte_start: number;
  /** Byte offset of the span end in the UTF-8 text, exclusive. */
  byte_end: number;
  /** Weight after context modifiers, in [0, 1]. */
  weight: number;
  severity: Severity;
  /** Context modifiers that changed the weight (negation, past, third person...). */
  context?: string[];
}

/** A crisis or support service to show beside self-harm content. */
export interface Resource {
  name: string;
  how: string;
  region: string;
}

export interface EngineInfo {
  /** "model+rules" (the full engine) or "fast" (rules and lexical tier). */
  mode: string;
  /** The tiers that ran. */
  tiers: ("rules" | "lexical" | "model")[];
  /** `name@hash` of the model, or null. */
  model: string | null;
  /** `name@version` of the lexical tier, when it ran. */
  lexical?: string;
  rules: string;
  /** The rules' own scores, before fusion. */
  rules_scores: Record<Category, number>;
  /** The model's own probabilities, before fusion. */
  model_scores?: Record<Category, number>;
  /** The lexical tier's own probabilities, before fusion. */
  lexical_scores?: Record<Category, number>;
  /** How the learned tiers were combined with the rules, when one ran. */
  fusion?: {
    /** The combiner's probability, before its ceiling and the maximum with the rules. */
    combined: Record<Category, number>;
    /** The rule files' reduction of the learned tier (1 = none). */
    damping: Record<Category, number>;
    /** The context kinds that lowered each category (e.g. "past", "negation"), where any did. */
    contexts?: Partial<Record<Category, string[]>>;
  };
  /** Why the engine is not the one asked for, or what was cut. */
  note?: string;
}

/** What safespace says about one text. */
export interface Report {
  /** Calibrated probability per category. */
  scores: Record<Category, number>;
  /** Probability per sub-label, e.g. "self_harm/intent". */
  labels: Record<string, number>;
  /** Categories at or over the policy's threshold. */
  flagged: Category[];
  severity: Severity;
  action: Action;
  evidence: Evidence[];
  /** Evidence items left out (only the 64 strongest are listed). */
  evidence_omitted?: number;
  content_warnings: ContentWarning[];
  /** Crisis resources, present when self_harm is flagged. */
  resources: Resource[];
  engine: EngineInfo;
}

/** A user rule file (TOML, the format of the built-in rules). */
export interface RuleFile {
  name: string;
  toml: string;
}

export interface DetectorOptions {
  /** "fast" (rules and lexical tier; what `new Detector()` runs), or, with the model files through
   * `Detector.load`, "auto" (default: the model reads the texts the fast engine screens in) or
   * "full" (the model reads every text). */
  engine?: "auto" | "full" | "fast";
  /** Thresholds and actions; default "peer_support". */
  policy?: Preset;
  /** Whose crisis resources reports carry: "US" (default), "UK", "IE", "CA" or "AU". */
  locale?: string;
  /** Per-category threshold overrides in [0, 1]. */
  thresholds?: Partial<Record<Category, number>>;
  /** Extra rules. */
  rules?: RuleFile[];
  /** Ids of built-in rules or context modifiers to turn off. */
  disableRules?: string[];
  /** Longer texts make `score` throw; default 32 MiB of UTF-8. */
  maxInputBytes?: number;
  /** A lexical tier's `weights.bin` (from `safespace fit`) to run instead of the built-in tier:
   * bytes here, also a `Response` or URL with `Detector.load`. */
  lexical?: Uint8Array | ArrayBuffer | ArrayBufferView;
  /** The name reports give that tier (`engine.lexical`); default "custom". */
  lexicalName?: string;
}

/** A model file: bytes, a fetch `Response`, a URL to fetch, or a promise of one of those. */
export type ModelFileSource = Uint8Array | ArrayBuffer | ArrayBufferView | Response | string | URL | PromiseLike<Uint8Array | ArrayBuffer | ArrayBufferView | Response | string | URL>;

export interface LoadOptions extends Omit<DetectorOptions, "lexical"> {
  /** A lexical tier's `weights.bin`: bytes, a `Response`, a URL, or a promise of one. */
  lexical?: ModelFileSource;
  /** `model.onnx` (model build only). */
  model?: ModelFileSource;
  /** `tokenizer.json` (model build only). */
  tokenizer?: ModelFileSource;
  /** `manifest.json` (model build only). */
  manifest?: ModelFileSource;
}

/** Loads the WebAssembly module (once); `Detector.load` calls it for you. */
export function init(): Promise<void>;

export class Detector {
  /** A fast-engine detector (rules and lexical tier); needs `await init()` first. Throws on bad options. */
  constructor(options?: DetectorOptions);
  /** Loads the module, then builds a detector; with model files, one that runs the model. */
  static load(options?: LoadOptions): Promise<Detector>;
  /** Whether the model runs (the full engine; otherwise the fast one). */
  readonly usesModel: boolean;
  /** Scores one text. Throws a `TypeError` for a non-string, an `Error` for a text over the limit. */
  score(text: string): Report;
  /** Scores many texts; one report per text, in order. */
  scoreBatch(texts: Iterable<string>): Report[];
  /** Releases the WebAssembly memory now. */
  free(): void;
}
