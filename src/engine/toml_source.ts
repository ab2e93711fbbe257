/**
 * Parses a rule file's TOML keeping the parser's line of every key and list
 * element, so a problem found later (schema, condition, list reference) is
 * reported on the line the parser saw, not on a line guessed by searching
 * the text.
 */
import { type AST, getStaticTOMLValue, ParseError, parseTOML } from "toml-eslint-parser";

/** A key path from the document root: table keys and array indices. */
export type TomlPath = readonly (string | number)[];

export interface TomlSource {
  /** The document as plain values (tables are objects, arrays are arrays). */
  value: Record<string, unknown>;
  /** 1-based line of the deepest known node on `path` (1 when nothing on it is known). */
  lineOf(path: TomlPath): number;
}

export type TomlResult = { ok: true; source: TomlSource } | {
  ok: false;
  line: number;
  message: string;
};

function keyName(k: AST.TOMLBare | AST.TOMLQuoted): string {
  return k.type === "TOMLBare" ? k.name : k.value;
}

export function parseTomlSource(text: string): TomlResult {
  let ast: AST.TOMLProgram;
  try {
    ast = parseTOML(text);
  } catch (e) {
    if (e instanceof ParseError) return { ok: false, line: e.lineNumber, message: e.message };
    return { ok: false, line: 0, message: e instanceof Error ? e.message : String(e) };
  }
  const lines = new Map<string, number>();
  const note = (path: TomlPath, line: number) => {
    const k = JSON.stringify(path);
    if (!lines.has(k)) lines.set(k, line);
  };
  const walkValue = (path: TomlPath, node: AST.TOMLContentNode) => {
    note(path, node.loc.start.line);
    if (node.type === "TOMLArray") {
      node.elements.forEach((el, i) => walkValue([...path, i], el));
    } else if (node.type === "TOMLInlineTable") {
      for (const kv of node.body) walkKeyValue(path, kv);
    }
  };
  const walkKeyValue = (base: TomlPath, kv: AST.TOMLKeyValue) => {
    const keys = kv.key.keys.map(keyName);
    for (let i = 1; i < keys.length; i++) note([...base, ...keys.slice(0, i)], kv.loc.start.line);
    const path = [...base, ...keys];
    note(path, kv.loc.start.line);
    walkValue(path, kv.value);
  };
  for (const node of ast.body[0].body) {
    if (node.type === "TOMLKeyValue") walkKeyValue([], node);
    else {
      note(node.resolvedKey, node.loc.start.line);
      for (const kv of node.body) walkKeyValue(node.resolvedKey, kv);
    }
  }
  const value = getStaticTOMLValue(ast) as Record<string, unknown>;
  return {
    ok: true,
    source: {
      value,
      lineOf(path) {
        for (let n = path.length; n > 0; n--) {
          const l = lines.get(JSON.stringify(path.slice(0, n)));
          if (l !== undefined) return l;
        }
        return 1;
      },
    },
  };
}
