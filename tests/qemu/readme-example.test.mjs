// The README's "Use it in your test suite" example, as a new user runs it: its files are
// taken from README.md verbatim into a new folder outside the tree, this checkout is
// installed with `npm install PATH` (offline: the path is all it needs), and `npm test`
// there boots two boards in parallel with different disks, checks their `blk read` CRCs
// and exits cleanly, leaving no QEMU and no temp dir of its boards behind.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./lib/firmware.mjs";

const project = mkdtempSync(join(tmpdir(), "virtio-readme-example-"));
test.after(() => rmSync(project, { recursive: true, force: true }));

/** The fenced blocks of a README section that name a file: "```js board.test.mjs". */
function sectionFiles(markdown, heading) {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `README has "## ${heading}"`);
  const end = markdown.indexOf("\n## ", start + 1);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  const files = {};
  for (const m of section.matchAll(/^```\w+ (\S+)\n([\s\S]*?)^```$/gm)) files[m[1]] = m[2];
  return files;
}


test("README example: a separate project installs virtio-xs by path and passes", () => {
  const files = sectionFiles(readFileSync(join(ROOT, "README.md"), "utf8"), "Use it in your test suite");
  assert.equal(Object.keys(files).sort(), ["board.test.mjs", "package.json"]);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(project, name), text);
  const npm = (args, env = {}) => spawnSync("npm", args, { cwd: project, encoding: "utf8", timeout: 180000, env: { ...process.env, npm_config_update_notifier: "false", ...env } });

  const install = npm(["install", "--offline", "--no-audit", "--no-fund", ROOT]);
  assert.is(install.status, 0, install.stdout + install.stderr);
  const dep = join(project, "node_modules", "virtio-xs");
  assert.ok(lstatSync(dep).isSymbolicLink() && realpathSync(dep) === realpathSync(ROOT), "linked to this checkout");
  assert.match(JSON.parse(readFileSync(join(project, "package.json"), "utf8")).dependencies["virtio-xs"], /^file:/);

  // Its own TMPDIR: what the boards leave there (nothing, if they clean up) is theirs alone.
  const tmp = join(project, "tmp");
  mkdirSync(tmp);
  const t0 = Date.now();
  const run = npm(["test"], { TMPDIR: tmp });
  const output = run.stdout + run.stderr;
  assert.is(run.status, 0, output);
  assert.match(output, /# pass 1\b/);
  assert.match(output, /# fail 0\b/);
  console.log(`  the example's npm test: ${Date.now() - t0} ms`);
  assert.equal(readdirSync(tmp), [], "the boards' temp dirs and the example's own are removed");
});

test.run();
