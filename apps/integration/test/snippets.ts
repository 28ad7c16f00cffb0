/**
 * The fenced blocks of a README, with the directive that says how a test runs each one: the HTML
 * comment on the line before the fence, `<!-- snippet: continues -->` (this block runs after the
 * one before it, in the same program: a README may split one program to explain it) or
 * `<!-- snippet: skip (why) -->` (not run; the reason is required and printed).
 */
export interface Block {
  /** The fence's language tag ('ts', 'sh', ...; '' when none). */
  lang: string;
  code: string;
  /** 1-based line of the opening fence. */
  line: number;
  directive: { kind: 'run' } | { kind: 'continues' } | { kind: 'skip'; reason: string };
}

/** A program: one block, or a block and the blocks that continue it. */
export interface Program {
  code: string;
  /** The first block's line. */
  line: number;
  /** Why it is not run (it is still type-checked), when its block says `skip`. */
  skip?: string;
}

const DIRECTIVE = /^<!--\s*snippet:\s*(continues|skip\s*\((.+)\))\s*-->$/;

/** The fenced blocks of a Markdown text, each with its directive. */
export function blocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i] as string);
    if (open === null) continue;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end] as string)) end++;
    let before = i - 1;
    while (before >= 0 && (lines[before] as string).trim() === '') before--;
    const m = before >= 0 ? DIRECTIVE.exec((lines[before] as string).trim()) : null;
    const directive: Block['directive'] = m === null ? { kind: 'run' } : m[2] !== undefined ? { kind: 'skip', reason: m[2].trim() } : { kind: 'continues' };
    if (/^<!--\s*snippet:/.test(before >= 0 ? (lines[before] as string).trim() : '') && m === null) throw new Error(`line ${before + 1}: a snippet directive this runner does not know: ${lines[before]}`);
    out.push({ lang: open[1] as string, code: lines.slice(i + 1, end).join('\n'), line: i + 1, directive });
    i = end;
  }
  return out;
}

/**
 * The TypeScript and JavaScript programs of the blocks: `continues` joins a block to the program
 * before it; a skipped block is a program marked `skip`.
 */
export function programs(all: readonly Block[]): Program[] {
  const out: Program[] = [];
  for (const b of all) {
    if (!['ts', 'js', 'typescript', 'javascript', 'mjs'].includes(b.lang)) continue;
    const last = out.at(-1);
    if (b.directive.kind === 'continues') {
      if (last === undefined) throw new Error(`line ${b.line}: 'continues' with no program before it`);
      last.code += `\n${b.code}`;
    } else if (b.directive.kind === 'skip') out.push({ code: b.code, line: b.line, skip: b.directive.reason });
    else out.push({ code: b.code, line: b.line });
  }
  return out;
}

/** The packages an `npm install` line of the blocks names (the first such line). */
export function installLine(all: readonly Block[]): string[] | undefined {
  for (const b of all) {
    if (b.lang !== 'sh') continue;
    for (const l of b.code.split('\n')) {
      const m = /^npm install\s+(.+)$/.exec(l.trim());
      if (m !== null) return (m[1] as string).split(/\s+/).filter((w) => !w.startsWith('-'));
    }
  }
  return undefined;
}

/** The packages a program imports (`@feed/alpaca/testing` is `@feed/alpaca`), without `node:` modules. */
export function imported(code: string): string[] {
  const names = new Set<string>();
  for (const m of code.matchAll(/^\s*import\s+(?:type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
    const spec = m[1] as string;
    if (spec.startsWith('node:') || spec.startsWith('.')) continue;
    const parts = spec.split('/');
    names.add(spec.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] as string));
  }
  return [...names].sort();
}
