// axe-core in the page. The client's CSP (script-src 'self') refuses an injected <script>, so
// axe's source is evaluated through the DevTools protocol (page.evaluate), which CSP does not
// govern.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ARTIFACTS } from './env.mjs';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core'), 'utf8');

/** Runs axe on the page; returns its violations (impact, id, help, nodes' targets and summaries). */
export async function runAxe(page, name) {
  const loaded = await page.evaluate(`${axeSource}\n;typeof window.axe === 'object'`);
  if (!loaded) throw new Error('axe-core did not load in the page');
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary, html: n.html.slice(0, 200) })),
    }));
  });
  writeFileSync(join(ARTIFACTS, `axe-${name}.json`), JSON.stringify(violations, null, 2));
  if (violations.length === 0) {
    console.log(`axe (${name}): no violations`);
  }
  for (const v of violations) {
    console.log(`axe (${name}): [${v.impact}] ${v.id}: ${v.help} (${v.nodes.length} node(s))`);
    for (const n of v.nodes.slice(0, 8)) {
      console.log(`    ${n.target} — ${(n.summary || '').replace(/\s+/g, ' ').slice(0, 300)}`);
    }
  }
  return violations;
}

/** The violations that fail the test: impact serious or critical. */
export function blocking(violations) {
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
