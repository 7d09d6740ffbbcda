import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRIES = ['index', 'extensions', 'typeorm', 'axios', 'metrics', 'health', 'testing', 'dashboard'].map((entry) => join(ROOT, 'libs/webhooks/src', `${entry}.ts`));

/** Every name an entry exports, with whether its declaration carries a doc comment. */
function exportsOf(entry: string, program: ts.Program): Array<{ name: string; documented: boolean }> {
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry)!;
  return checker.getExportsOfModule(checker.getSymbolAtLocation(source)!).map((exported) => {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const documented = (symbol.declarations ?? []).some((declaration) => {
      const node = ts.isVariableDeclaration(declaration) ? declaration.parent.parent : declaration;
      return ts.getJSDocCommentsAndTags(node).length > 0;
    });
    return { name: exported.name, documented };
  });
}

describe('the public API', () => {
  const program = ts.createProgram(ENTRIES, { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, experimentalDecorators: true });
  const [main, extensions, typeorm, axios, metrics, health, testing, dashboard] = ENTRIES.map((entry) => exportsOf(entry, program));

  it('the main entry is small: module, services, decorators, extension points, events, errors, model', () => {
    // About 35, and four more with scopes and declared subscriptions (two services, two event classes).
    expect(main!.length).toBeLessThanOrEqual(44);
    // Phase internals, queue plumbing and TypeORM entities live elsewhere.
    const names = main!.map((e) => e.name);
    for (const internal of ['WebhookShipment', 'WebhookDelivery', 'PublishedWebhookEvent', 'WebhookDeliveryQueue', 'WebhookStore', 'WEBHOOK_ENTITIES']) {
      expect(names).not.toContain(internal);
    }
  });

  it('every exported name of every entry has a doc comment', () => {
    const undocumented = [main, extensions, typeorm, axios, metrics, health, testing, dashboard].flatMap((entry) => entry!.filter((e) => !e.documented).map((e) => e.name));
    expect(undocumented).toEqual([]);
  });
});
