// A small strict XML parser, enough to check a JUnit report as a CI system reads it:
// one root, properly nested elements, quoted attributes, only defined entities, no raw
// `<` or `&` in text. Throws on anything malformed; returns {name, attrs, children, text}.
const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decode(s, where) {
  return s.replace(/&([^;]*);?/g, (all, body) => {
    if (!all.endsWith(";")) throw new SyntaxError(`XML: a raw '&' in ${where}`);
    if (body in ENTITIES) return ENTITIES[body];
    const m = /^#(x[0-9a-fA-F]+|[0-9]+)$/.exec(body);
    if (!m) throw new SyntaxError(`XML: unknown entity &${body}; in ${where}`);
    return String.fromCodePoint(m[1][0] === "x" ? parseInt(m[1].slice(1), 16) : Number(m[1]));
  });
}

export function parseXml(text) {
  let i = 0;
  const decl = /^<\?xml [^?]*\?>\s*/.exec(text);
  if (decl) i = decl[0].length;
  const root = { name: "#document", attrs: {}, children: [], text: "" };
  const stack = [root];
  const NAME = "[A-Za-z_][\\w.:-]*";
  const tagRe = new RegExp(`<(/?)(${NAME})((?:\\s+${NAME}\\s*=\\s*"[^"<]*")*)\\s*(/?)>`, "y");
  while (i < text.length) {
    const lt = text.indexOf("<", i);
    const chunk = lt < 0 ? text.slice(i) : text.slice(i, lt);
    if (chunk) {
      const top = stack[stack.length - 1];
      if (top === root && chunk.trim()) throw new SyntaxError("XML: text outside the root element");
      top.text += decode(chunk, `the text of <${top.name}>`);
      if (chunk.includes(">") && /\]\]>/.test(chunk)) throw new SyntaxError("XML: ']]>' in text");
    }
    if (lt < 0) break;
    tagRe.lastIndex = lt;
    const m = tagRe.exec(text);
    if (!m) throw new SyntaxError(`XML: malformed tag at ${lt}: ${JSON.stringify(text.slice(lt, lt + 60))}`);
    const [, close, name, attrText, selfClose] = m;
    if (close) {
      const open = stack.pop();
      if (open === root || open.name !== name) throw new SyntaxError(`XML: </${name}> closes <${open?.name}>`);
    } else {
      const attrs = {};
      for (const a of attrText.matchAll(new RegExp(`(${NAME})\\s*=\\s*"([^"]*)"`, "g"))) {
        if (a[1] in attrs) throw new SyntaxError(`XML: attribute ${a[1]} twice on <${name}>`);
        attrs[a[1]] = decode(a[2], `attribute ${a[1]} of <${name}>`);
      }
      const el = { name, attrs, children: [], text: "" };
      const parent = stack[stack.length - 1];
      if (parent === root && root.children.length) throw new SyntaxError("XML: more than one root element");
      parent.children.push(el);
      if (!selfClose) stack.push(el);
    }
    i = tagRe.lastIndex;
  }
  if (stack.length !== 1) throw new SyntaxError(`XML: <${stack[stack.length - 1].name}> is never closed`);
  if (root.children.length !== 1) throw new SyntaxError("XML: no root element");
  return root.children[0];
}
