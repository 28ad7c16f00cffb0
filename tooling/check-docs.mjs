// @ts-check
/**
 * Every symbol a package exports has a doc comment: TypeDoc 0.28's `validation.notDocumented` does
 * not report (TypeStrong/typedoc#3046), so `pnpm docs` runs this check after TypeDoc. It reads the
 * entry points of typedoc.json with the TypeScript API and lists each export without one.
 */
import { readFileSync } from 'node:fs';
import ts from 'typescript';

const config = JSON.parse(readFileSync('typedoc.json', 'utf8'));
const parsed = ts.getParsedCommandLineOfConfigFile(config.tsconfig, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
if (parsed === undefined) throw new Error(`cannot read ${config.tsconfig}`);
const program = ts.createProgram(parsed.fileNames, parsed.options);
const checker = program.getTypeChecker();
const missing = [];
for (const entry of config.entryPoints) {
  const file = program.getSourceFile(entry);
  const module = file && checker.getSymbolAtLocation(file);
  if (module === undefined) throw new Error(`no module for ${entry}`);
  for (const exported of checker.getExportsOfModule(module)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const documented =
      symbol.getDocumentationComment(checker).length > 0 ||
      (symbol.declarations ?? []).some((d) => ts.getJSDocCommentsAndTags(d).length > 0);
    if (!documented) missing.push(`${entry}: ${exported.getName()}`);
  }
}
if (missing.length > 0) {
  console.error(`exported without a doc comment (${missing.length}):\n  ${missing.join('\n  ')}`);
  process.exit(1);
}
console.log(`every export of ${config.entryPoints.length} entry points has a doc comment`);
