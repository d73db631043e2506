/**
 * A system is described with types only the entry point may give it (examples/ import nothing else). Every
 * named type reachable from `SystemSpec` (its fields, their fields, the members of unions) must therefore be
 * exported from index.ts, or a new user cannot name the value they build (`const link: LinkSpec = ...`).
 * That the examples compile against the built package is `npm run check:package` (scripts/check-package.js).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

const ROOT = join(__dirname, '..');

/** Named project types reachable from `root`'s fields, by name, with the file declaring each. */
function typesOfDescription(checker: ts.TypeChecker, root: ts.Type): Map<string, string> {
  const found = new Map<string, string>();
  const seen = new Set<ts.Type>();
  const projectDeclaration = (symbol: ts.Symbol | undefined) =>
    symbol?.declarations?.find((declaration) => !declaration.getSourceFile().fileName.includes('/node_modules/'));
  const visit = (type: ts.Type): void => {
    if (seen.has(type)) return;
    seen.add(type);
    const alias = type.aliasSymbol;
    const aliasDeclaration = projectDeclaration(alias);
    if (alias !== undefined && aliasDeclaration !== undefined) found.set(alias.name, relative(ROOT, aliasDeclaration.getSourceFile().fileName));
    for (const argument of type.aliasTypeArguments ?? []) visit(argument);
    if (type.isUnionOrIntersection()) type.types.forEach(visit);
    const symbol = type.getSymbol();
    const declaration = projectDeclaration(symbol);
    if (declaration !== undefined && (ts.isInterfaceDeclaration(declaration) || ts.isClassDeclaration(declaration) || ts.isEnumDeclaration(declaration))) {
      found.set(symbol!.name, relative(ROOT, declaration.getSourceFile().fileName));
      // A class (HealthCheck, Duration) is made through its factories; its private parts are not the description's.
      if (ts.isClassDeclaration(declaration)) return;
    }
    if (checker.isArrayType(type) || checker.isTupleType(type)) (checker.getTypeArguments(type as ts.TypeReference) ?? []).forEach(visit);
    if (type.flags & ts.TypeFlags.Object && (declaration === undefined || !ts.isClassDeclaration(declaration))) {
      if (type.getCallSignatures().length > 0) return;
      for (const property of checker.getPropertiesOfType(type)) {
        const at = property.valueDeclaration ?? property.declarations?.[0];
        if (at !== undefined && !at.getSourceFile().fileName.includes('/node_modules/')) visit(checker.getNonNullableType(checker.getTypeOfSymbolAtLocation(property, at)));
      }
      const index = checker.getIndexInfosOfType(type);
      for (const info of index) visit(info.type);
    }
  };
  visit(root);
  return found;
}

describe('the entry point', () => {
  // The model alone (not index.ts, which pulls in every provider binding): a tenth of the time.
  const model = join(ROOT, 'system', 'model.ts');
  const program = ts.createProgram([model], { strict: true, skipLibCheck: true, noEmit: true, types: [], lib: ['lib.es2022.d.ts'], target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS });
  const checker = program.getTypeChecker();
  const systemSpec = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(model)!)!).find((symbol) => symbol.name === 'SystemSpec')!;
  const described = typesOfDescription(checker, checker.getDeclaredTypeOfSymbol(systemSpec));
  // What index.ts exports, read from its export declarations: `export { A, type B as C } from ...`, `export type { D }`.
  const entry = ts.createSourceFile('index.ts', readFileSync(join(ROOT, 'index.ts'), 'utf8'), ts.ScriptTarget.ES2022);
  const exportedNames = new Set(
    entry.statements.flatMap((statement) =>
      ts.isExportDeclaration(statement) && statement.exportClause !== undefined && ts.isNamedExports(statement.exportClause)
        ? statement.exportClause.elements.map((element) => element.name.text)
        : [],
    ),
  );

  it('reaches the whole description from SystemSpec', () => {
    for (const name of ['ServiceSpec', 'LinkSpec', 'AccessorySpec', 'RestartPolicy', 'HealthCheck', 'EnvironmentSpec', 'InvariantExemption']) expect(described.has(name)).toBe(true);
    expect(dirname(described.get('ServiceSpec')!)).toBe('system');
  });

  it('exports every type a description uses', () => {
    expect([...described].filter(([name]) => !exportedNames.has(name)).map(([name, file]) => `${name} (${file})`)).toEqual([]);
  });
});
