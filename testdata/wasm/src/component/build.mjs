// build.mjs: builds testdata/wasm/component.wasm from tiny.wasm + wit/tiny.wit
// using jco's bundled wasm-tools (component embed + component new).
// Usage: node src/component/build.mjs <jco-install-dir>   (run from testdata/wasm)
// The WIT is passed as source text: `jco embed --wit <path>` panics in
// jco 1.35.0 (the bundled wasm-tools cannot open the path).
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const jcoDir = process.argv[2];
if (!jcoDir) {
  console.error("usage: node src/component/build.mjs <jco-install-dir>");
  process.exit(2);
}
const api = await import(
  pathToFileURL(join(jcoDir, "node_modules/@bytecodealliance/jco/dist/api.js")).href
);

const core = await readFile("tiny.wasm");
const witSource = await readFile("wit/tiny.wit", "utf8");
const embedded = await api.componentEmbed({ binary: core, witSource, world: "tiny" });
const component = await api.componentNew(embedded);
await writeFile("component.wasm", component);
console.log(`component.wasm: ${component.length} bytes`);
