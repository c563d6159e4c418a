import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { renderDocs } from "./docs.ts";

const root = join(import.meta.dirname, "..");
const pages = renderDocs();
for (const [path, content] of pages) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}
process.stdout.write(`wrote ${pages.size} pages\n`);
