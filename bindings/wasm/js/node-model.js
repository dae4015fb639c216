// Node.js, model build: the .wasm is compiled synchronously when this module is imported.
import { createRequire } from "node:module";
import { defineApi } from "./safespace.js";

const native = createRequire(import.meta.url)("./node/model/safespace_wasm.js");

export const { init, Detector } = defineApi(native, null);
