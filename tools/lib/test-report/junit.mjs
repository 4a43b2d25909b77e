// JUnit XML for `npm test -- --junit FILE`: one <testsuite> per test file (classname = the
// file), one <testcase> per test, <failure message type> with the details, <skipped/>,
// and <system-out> naming the console logs kept for a failed QEMU test. The totals are
// the ones the runner prints: passed = tests - failures - skipped.
import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";

/** Reads the recorder's JSON lines (missing file: none). */
export function readRecords(path) {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8").split("\n").filter(Boolean).flatMap((line) => {
    try { return [JSON.parse(line)]; } catch { return []; }
  });
}

/** Text as XML character data or attribute value: escaped, without the characters XML 1.0 forbids. */
export function xmlText(s) {
  return String(s ?? "")
    .replace(/\x1b\[[0-9;]*[A-Za-z]/g, "") // terminal colours
    .replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "\uFFFD")
    .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

const seconds = (ms) => (Math.max(0, ms ?? 0) / 1000).toFixed(3);

/** Counts of a list of cases. */
export function countCases(cases) {
  const failed = cases.filter((c) => c.status === "failed").length;
  const skipped = cases.filter((c) => c.status === "skipped").length;
  return { tests: cases.length, failed, skipped, passed: cases.length - failed - skipped };
}

/**
 * cases: [{file, name, status, ms, message, type, details, out}] in run order.
 * Returns the XML document.
 */
export function junitXml(cases, { name = "npm test", timestamp = new Date() } = {}) {
  const byFile = new Map();
  for (const c of cases) {
    if (!byFile.has(c.file)) byFile.set(c.file, []);
    byFile.get(c.file).push(c);
  }
  const all = countCases(cases);
  const totalMs = cases.reduce((s, c) => s + (c.ms ?? 0), 0);
  const stamp = timestamp.toISOString().replace(/\.\d+Z$/, "");
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  lines.push(`<testsuites name="${xmlText(name)}" tests="${all.tests}" failures="${all.failed}" errors="0" skipped="${all.skipped}" time="${seconds(totalMs)}">`);
  for (const [file, list] of byFile) {
    const n = countCases(list);
    const ms = list.reduce((s, c) => s + (c.ms ?? 0), 0);
    lines.push(`  <testsuite name="${xmlText(file)}" tests="${n.tests}" failures="${n.failed}" errors="0" skipped="${n.skipped}" time="${seconds(ms)}" timestamp="${stamp}" hostname="${xmlText(hostname())}">`);
    for (const c of list) {
      const head = `    <testcase classname="${xmlText(file)}" name="${xmlText(c.name)}" time="${seconds(c.ms)}"`;
      const body = [];
      if (c.status === "failed") {
        body.push(`      <failure message="${xmlText(c.message ?? "failed")}" type="${xmlText(c.type ?? "Error")}">${xmlText(c.details ?? "")}</failure>`);
      } else if (c.status === "skipped") {
        body.push("      <skipped/>");
      }
      if (c.out) body.push(`      <system-out>${xmlText(c.out)}</system-out>`);
      lines.push(body.length ? `${head}>\n${body.join("\n")}\n    </testcase>` : `${head}/>`);
    }
    lines.push("  </testsuite>");
  }
  lines.push("</testsuites>");
  return lines.join("\n") + "\n";
}
