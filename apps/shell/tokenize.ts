// Splits a command line into words: blanks separate words; '...' and "..." group blanks
// into a word; a backslash outside single quotes takes the next character literally.

import { UsageError } from "./command.js";

const BLANK = /\s/;

/** Returns the words of `line`; throws UsageError on an unterminated quote. */
export function tokenize(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote = "";
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote !== "") {
      if (c === quote) quote = "";
      else if (c === "\\" && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (BLANK.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== "") throw new UsageError(`unterminated ${quote} quote`);
  if (inWord) words.push(word);
  return words;
}

/** Splits a line into its first word and the raw rest (leading blanks removed). */
export function splitCommand(line: string): { name: string; rest: string } {
  const trimmed = line.replace(/^\s+/, "");
  const m = /^(\S+)\s*([\s\S]*)$/.exec(trimmed);
  return m ? { name: m[1]!, rest: m[2]! } : { name: "", rest: "" };
}
