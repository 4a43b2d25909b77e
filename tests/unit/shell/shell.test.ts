import { test } from "uvu";
import * as assert from "uvu/assert";
import { Shell, PROMPT, MAX_TYPE_AHEAD } from "../../../apps/shell/shell.js";
import { UsageError, type Command } from "../../../apps/shell/command.js";
import { MAX_LINE } from "../../../apps/shell/line-editor.js";
import { fakePlatform, flush } from "./fake-platform.js";
import { fakeShell } from "./shell-rig.js";

function setup(commands: Command[] = []) {
  return fakeShell({ bus: null, commands });
}

/** A command that completes when the test says so. */
function gate(name = "wait") {
  let open: (status: number) => void = () => {};
  const command: Command = {
    name,
    usage: name,
    summary: "waits",
    run: (_args, io) =>
      new Promise<number>((resolve) => {
        open = (status) => {
          io.print(`${name} done`);
          resolve(status);
        };
      }),
  };
  return { command, open: (status = 0) => open(status) };
}

test("prints the prompt at start", () => {
  const { platform } = setup();
  assert.is(platform.output(), PROMPT);
  assert.is(PROMPT, "virtio> ");
});

test("echoes typed characters and handles backspace", async () => {
  const { platform } = setup();
  platform.clearOutput();
  platform.type("hx\x7fe");
  assert.is(platform.output(), "hx\b \be");
});

test("unknown command: message, then the prompt again", async () => {
  const { run } = setup();
  const out = await run("frobnicate now");
  assert.is(out, "frobnicate now\r\nunknown command: frobnicate (try 'help')\r\nvirtio> ");
});

test("empty line: just a new prompt", async () => {
  const { run } = setup();
  assert.is(await run("   "), "   \r\nvirtio> ");
});

test("help lists every command with usage and summary", async () => {
  const { run } = setup();
  const out = await run("help");
  for (const name of ["help", "devices [--json]", "js <expression>", "mem", "batch", "poweroff"]) {
    assert.ok(out.includes(name), `help lists ${name}`);
  }
  assert.ok(out.includes("evaluate JavaScript"));
  assert.ok((await run("help js")).includes("usage: js <expression>"));
});

test("help puts a long usage on its own line, the summary under it", async () => {
  const long: Command = { name: "long", usage: "long a | b [--c N] | d ONE TWO", summary: "long one", run: () => 0 };
  const { run } = setup([long]);
  const out = await run("help");
  assert.ok(out.includes("\r\n  help [COMMAND]            list the commands"), out);
  assert.ok(out.includes("\r\n  long a | b [--c N] | d ONE TWO\r\n                            long one\r\n"), out);
});

test("batch on: no echo, @@status after each command, before the prompt", async () => {
  const { run } = setup();
  assert.is(await run("batch on"), "batch on\r\n@@status 0\r\nvirtio> ");
  assert.is(await run("nope"), "unknown command: nope (try 'help')\r\n@@status 1\r\nvirtio> ");
  assert.is(await run("js 1+1"), "2\r\n@@status 0\r\nvirtio> ");
  assert.is(await run("batch off"), "@@status 0\r\nvirtio> ");
  assert.is(await run("js 3"), "js 3\r\n3\r\nvirtio> ");
});

test("batch with a wrong argument: usage, status 1", async () => {
  const { run } = setup();
  await run("batch on");
  const out = await run("batch maybe");
  assert.ok(out.includes("usage: batch [on|off]"));
  assert.ok(out.endsWith("@@status 1\r\nvirtio> "));
});

test("input typed while a command runs is queued, not lost", async () => {
  const g = gate();
  const { platform, shell } = setup([g.command]);
  platform.type("wait\rjs 6*7\rjs 'b'\r");
  await flush();
  assert.ok(shell.busy);
  assert.not.ok(platform.output().includes("42"));
  g.open();
  await shell.whenIdle();
  const out = platform.output();
  assert.ok(out.includes("wait done\r\nvirtio> js 6*7\r\n42\r\nvirtio> js 'b'\r\nb\r\nvirtio> "), JSON.stringify(out));
});

test("type-ahead beyond MAX_TYPE_AHEAD is dropped with a bell", async () => {
  const g = gate();
  const { platform, shell } = setup([g.command]);
  platform.type("wait\r");
  await flush();
  platform.clearOutput();
  platform.type("x".repeat(MAX_TYPE_AHEAD - 2) + "\r");
  platform.type("js 1\r");
  assert.is(platform.output(), "\x07");
  g.open();
  await shell.whenIdle();
  const out = platform.output();
  // The line editor keeps MAX_LINE characters of the long line; one byte of "js 1\r" fit.
  assert.ok(out.includes(`unknown command: ${"x".repeat(MAX_LINE)} (try 'help')`));
  assert.ok(out.endsWith("virtio> j"), JSON.stringify(out.slice(-80)));
});

test("a CRLF split by a running command still counts as one line end", async () => {
  const g = gate();
  const { platform, shell } = setup([g.command]);
  platform.type("wait\r");
  await flush();
  platform.type("\n");
  g.open();
  await shell.whenIdle();
  assert.ok(platform.output().endsWith("wait done\r\nvirtio> "));
});

test("a command that throws prints message and stack, status 1, shell stays up", async () => {
  const boom: Command = {
    name: "boom",
    usage: "boom",
    summary: "throws",
    run() {
      throw new RangeError("too far");
    },
  };
  const { run } = setup([boom]);
  await run("batch on");
  const out = await run("boom");
  assert.ok(out.startsWith("RangeError: too far\r\n    at "), JSON.stringify(out));
  assert.not.ok(out.includes("execute"), "the shell's own frames are left out");
  assert.ok(out.endsWith("@@status 1\r\nvirtio> "));
  assert.is(await run("js 1"), "1\r\n@@status 0\r\nvirtio> ");
});

test("a UsageError prints the message and the usage, no stack", async () => {
  const picky: Command = {
    name: "picky",
    usage: "picky N",
    summary: "wants N",
    run() {
      throw new UsageError("N is missing");
    },
  };
  const { run } = setup([picky]);
  assert.is(await run("picky"), "picky\r\nN is missing\r\nusage: picky N\r\nvirtio> ");
});

test("a command returning non-zero is reported as status 1", async () => {
  const two: Command = { name: "two", usage: "two", summary: "", run: () => 2 };
  const { run } = setup([two]);
  await run("batch on");
  assert.ok((await run("two")).endsWith("@@status 1\r\nvirtio> "));
});

test("arguments are split on blanks with quotes", async () => {
  let seen: readonly string[] = [];
  const echo: Command = { name: "args", usage: "args", summary: "", run: (a) => void (seen = a) };
  const { run } = setup([echo]);
  await run(`args a  "b c" 'd\\e' f\\ g`);
  assert.equal(seen, ["a", "b c", "d\\e", "f g"]);
  const out = await run(`args "open`);
  assert.ok(out.includes('unterminated " quote'));
});

test("Ctrl-C while a command runs interrupts it and drops the type-ahead", async () => {
  let sawInterrupt = false;
  const serve: Command = {
    name: "serve",
    usage: "serve",
    summary: "until Ctrl-C",
    async run(_args, io) {
      await io.untilInterrupted();
      sawInterrupt = io.interrupted;
      io.print("stopped");
      return 0;
    },
  };
  const { platform, shell } = setup([serve]);
  platform.type("serve\r");
  await flush();
  platform.type("js 'lost'\r\x03js 'kept'\r");
  await shell.whenIdle();
  const out = platform.output();
  assert.ok(sawInterrupt);
  assert.not.ok(out.includes("lost\r\n"));
  assert.ok(out.includes("^C\r\nstopped\r\nvirtio> js 'kept'\r\nkept\r\nvirtio> "), JSON.stringify(out));
});

test("Ctrl-C at the prompt cancels the line and prints a new prompt", async () => {
  const { platform } = setup();
  platform.clearOutput();
  platform.type("abc\x03");
  assert.is(platform.output(), "abc^C\r\nvirtio> ");
});

test("duplicate command names are refused", () => {
  const platform = fakePlatform();
  const dup: Command = { name: "help", usage: "help", summary: "", run: () => 0 };
  assert.throws(() => new Shell({ platform, commands: [dup] }), /already registered: help/);
});

test("register adds a driver's command at run time", async () => {
  const { shell, run } = setup();
  shell.register({ name: "rng", usage: "rng N", summary: "random bytes", run: (a, io) => io.print(`rng ${a[0]}`) });
  assert.ok((await run("rng 4")).includes("rng 4\r\nrng 4\r\n"));
  assert.ok((await run("help")).includes("rng N"));
});

test("close lets go of the console and is safe twice", () => {
  const { platform, shell } = setup();
  shell.close();
  shell.close();
  assert.is(platform.console.onReceive, null);
});

test("poweroff prints a line and powers off", async () => {
  const { platform, run } = setup();
  const out = await run("poweroff");
  assert.ok(out.includes("powering off"));
  assert.ok(platform.poweredOff);
});

test.run();
