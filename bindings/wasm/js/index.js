// Browsers and bundlers, rules build: `await init()` (or `Detector.load`) fetches the .wasm beside this file.
import instantiate, * as native from "./web/rules/safespace_wasm.js";
import { defineApi } from "./safespace.js";

export const { init, Detector } = defineApi(native, () => instantiate());
