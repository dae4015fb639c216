// The JavaScript face of safespace, shared by every entry point (browser or Node.js, rules or model
// build). Each entry hands `defineApi` its wasm-bindgen module and how to instantiate it.

const fromNative = Symbol("safespace native detector");

/**
 * Builds the package's API over one compiled module.
 *
 * @param {object} native the wasm-bindgen module (exports `Detector`)
 * @param {(() => Promise<unknown>) | null} instantiate loads the WebAssembly (once); null when the
 *   module is instantiated already
 */
export function defineApi(native, instantiate) {
  let instantiating = null;
  let ready = instantiate === null;
  /** After a trap the module's memory may be inconsistent: every later call is refused. */
  let stopped = null;

  /** Runs `call`, turning a WebAssembly trap into an ordinary `Error` and refusing calls after one. */
  function guard(call) {
    if (stopped) {
      throw new Error(`safespace: the WebAssembly module stopped after an internal error (${stopped}); load it again`);
    }
    try {
      return call();
    } catch (error) {
      if (error instanceof WebAssembly.RuntimeError) {
        stopped = error.message;
        throw new Error(`safespace: internal error in the WebAssembly module (${error.message})`, { cause: error });
      }
      if (error instanceof Error) {
        if (!error.message.startsWith("safespace:")) {
          error.message = `safespace: ${error.message}`;
        }
        throw error;
      }
      throw new Error(`safespace: ${String(error)}`);
    }
  }

  /** Loads the WebAssembly module; `new Detector()` needs it done, `Detector.load()` does it. */
  async function init() {
    instantiating ??= Promise.resolve(instantiate?.()).then(() => {
      ready = true;
    });
    return instantiating;
  }

  class Detector {
    #native;

    /**
     * A fast-engine detector (rules and lexical tier), fast enough for every keystroke. Call
     * `await init()` first (or use `Detector.load`).
     */
    constructor(options = {}) {
      if (options !== null && typeof options === "object" && fromNative in options) {
        this.#native = options[fromNative];
        return;
      }
      if (!ready) {
        throw new Error("safespace: call `await init()` before `new Detector()`, or use `await Detector.load()`");
      }
      if (options?.engine === "auto" || options?.engine === "full") {
        throw new Error(`safespace: the ${options.engine} engine runs the model: use \`await Detector.load({ model, tokenizer, manifest })\``);
      }
      const object = options !== null && typeof options === "object" && !Array.isArray(options);
      const { lexical, lexicalName, ...settings } = object ? options : {};
      const json = optionsJson(object ? settings : options);
      const tier = lexical === undefined ? undefined : bytesNow(lexical, "lexical");
      if (lexicalName !== undefined && typeof lexicalName !== "string") {
        throw new TypeError(`safespace: lexicalName must be a string, got ${describe(lexicalName)}`);
      }
      this.#native = guard(() => new native.Detector(json, tier, lexicalName));
    }

    /**
     * A detector, after loading the WebAssembly. With `model`, `tokenizer` and `manifest` (bytes, a
     * `Response`, a URL, or promises of them) it runs the model too; that needs the model build.
     */
    static async load(options = {}) {
      await init();
      if (options === null || typeof options !== "object") {
        throw new TypeError(`safespace: options must be an object, got ${describe(options)}`);
      }
      const { model, tokenizer, manifest, lexical, lexicalName, ...rest } = options;
      const tier = lexical === undefined ? undefined : await toBytes(lexical, "lexical");
      const files = { model, tokenizer, manifest };
      const given = Object.keys(files).filter((key) => files[key] !== undefined);
      if (given.length === 0) {
        return new Detector({ ...rest, lexical: tier, lexicalName });
      }
      if (rest.engine === "fast") {
        throw new Error("safespace: the fast engine runs no model; leave out `model`, `tokenizer` and `manifest`");
      }
      if (!native.Detector.buildHasModel()) {
        throw new Error('safespace: this is the fast-engine build; import "safespace/model" to run the model');
      }
      if (given.length < 3) {
        throw new TypeError("safespace: the model needs all of `model`, `tokenizer` and `manifest`");
      }
      const json = optionsJson(rest);
      const [m, t, j] = await Promise.all(given.map((key) => toBytes(files[key], key)));
      return new Detector({ [fromNative]: guard(() => native.Detector.withModel(json, m, t, j, tier, lexicalName)) });
    }

    /** Whether the model runs (the full engine; otherwise the fast one). */
    get usesModel() {
      return guard(() => this.#alive().usesModel);
    }

    /** The report for one text; evidence `start`/`end` index the JavaScript string. */
    score(text) {
      if (typeof text !== "string") {
        throw new TypeError(`safespace: score() takes a string, got ${describe(text)}`);
      }
      return JSON.parse(guard(() => this.#alive().score(text)));
    }

    /** One report per text, in order. */
    scoreBatch(texts) {
      if (texts === null || typeof texts !== "object" || typeof texts[Symbol.iterator] !== "function") {
        throw new TypeError(`safespace: scoreBatch() takes an array of strings, got ${describe(texts)}`);
      }
      const list = Array.from(texts);
      list.forEach((text, index) => {
        if (typeof text !== "string") {
          throw new TypeError(`safespace: scoreBatch() texts[${index}] is ${describe(text)}, not a string`);
        }
      });
      return JSON.parse(guard(() => this.#alive().scoreBatch(list)));
    }

    /** Releases the WebAssembly memory now instead of at garbage collection. */
    free() {
      this.#native?.free();
      this.#native = null;
    }

    #alive() {
      if (!this.#native) {
        throw new Error("safespace: this detector was freed");
      }
      return this.#native;
    }
  }

  return { init, Detector };
}

/** Each option's name in the JSON of the core's `Settings`. */
const SETTING_NAMES = {
  engine: "engine",
  policy: "policy",
  locale: "locale",
  thresholds: "thresholds",
  rules: "rules",
  disableRules: "disable_rules",
  maxInputBytes: "max_input_bytes",
};

function optionsJson(options) {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new TypeError(`safespace: options must be an object, got ${describe(options)}`);
  }
  const settings = {};
  for (const [name, value] of Object.entries(options)) {
    if (!Object.hasOwn(SETTING_NAMES, name)) {
      const known = [...Object.keys(SETTING_NAMES), "lexical", "lexicalName"].join(", ");
      throw new Error(`safespace: unknown option \`${name}\` (expected one of ${known})`);
    }
    settings[SETTING_NAMES[name]] = value;
  }
  return JSON.stringify(settings);
}

/** The bytes of a file given as bytes (no fetching: for the synchronous constructor). */
function bytesNow(value, name) {
  const bytes = asBytes(value);
  if (bytes === null) {
    throw new TypeError(`safespace: ${name} must be bytes here, got ${describe(value)}; \`Detector.load\` also takes a Response or a URL`);
  }
  return bytes;
}

/** `value` as a Uint8Array when it is bytes (an array buffer or a view of one), else null. */
function asBytes(value) {
  if (value instanceof Uint8Array) {
    return value;
  }
  if (value instanceof ArrayBuffer) {
    return new Uint8Array(value);
  }
  if (ArrayBuffer.isView(value)) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  return null;
}

/** The bytes of a model file given as bytes, a Response, a URL, or a promise of one of those. */
async function toBytes(value, name) {
  const given = await value;
  const bytes = asBytes(given);
  if (bytes !== null) {
    return bytes;
  }
  if (typeof given === "string" || given instanceof URL) {
    return toBytes(fetch(given), name);
  }
  if (given && typeof given.arrayBuffer === "function") {
    if (given.ok === false) {
      throw new Error(`safespace: fetching ${name} failed: ${given.status} ${given.statusText ?? ""}`.trim());
    }
    return new Uint8Array(await given.arrayBuffer());
  }
  throw new TypeError(`safespace: ${name} must be bytes, a Response or a URL, got ${describe(given)}`);
}

function describe(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? `a ${value.constructor?.name ?? "object"}` : `${typeof value} ${String(value)}`.slice(0, 60);
}
