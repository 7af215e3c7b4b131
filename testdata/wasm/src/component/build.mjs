// build.mjs: builds the component fixtures of testdata/wasm with jco's
// bundled wasm-tools (parse, component embed + component new):
//   component.wasm    tiny.wasm (from wat2wasm) + wit/tiny.wit
//   sockets.wasm      sockets.wat + wit/sockets.wit
//   capabilities.wasm capabilities.wat + wit/capabilities.wit
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

async function build(out, core, world) {
  const witSource = await readFile(`wit/${world}.wit`, "utf8");
  const embedded = await api.componentEmbed({ binary: core, witSource, world });
  const component = await api.componentNew(embedded);
  await writeFile(out, component);
  console.log(`${out}: ${component.length} bytes`);
}

await build("component.wasm", await readFile("tiny.wasm"), "tiny");
await build("sockets.wasm", await api.parse(await readFile("sockets.wat", "utf8")), "sockets");
await build("capabilities.wasm", await api.parse(await readFile("capabilities.wat", "utf8")), "capabilities");
