// Browsers and bundlers, model build: `await init()` (or `Detector.load`) fetches the .wasm beside this file.
import instantiate, * as native from "./web/model/safespace_wasm.js";
import { defineApi } from "./safespace.js";

export const { init, Detector } = defineApi(native, () => instantiate());
