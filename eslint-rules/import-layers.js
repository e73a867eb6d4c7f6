/**
 * The layout is the architecture: a folder of src/ may import only from folders on a lower
 * layer (and from itself). An import that runs up, or sideways into a peer on the same layer,
 * is an error. docs/architecture.md draws the same order.
 */
import path from 'node:path';

/** Lowest first. Peers on one layer never import each other. */
export const LAYERS = [
  ['core'],
  ['sigma', 'intel', 'attack'],
  ['sources', 'formats'],
  ['engine'],
  ['sinks', 'store', 'pack'],
  ['scan', 'service', 'serve', 'cluster'],
  ['cli'],
];

const RANK = new Map(LAYERS.flatMap((names, rank) => names.map((name) => [name, rank])));

/** The top-level folder of src/ that a file lies in ('' for a file directly in src/), or undefined outside src/. */
export function roomOf(file, srcDir) {
  const relative = path.relative(srcDir, file);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
  const parts = relative.split(path.sep);
  return parts.length > 1 ? parts[0] : '';
}

/** Why importing `to` from `from` breaks the layering, or undefined when it is allowed. */
export function layerViolation(from, to) {
  if (from === to) return undefined;
  const fromRank = RANK.get(from);
  const toRank = RANK.get(to);
  if (fromRank === undefined) return `src/${from}/ is on no layer: add it to LAYERS in eslint-rules/import-layers.js`;
  if (toRank === undefined) return `src/${to === '' ? '' : `${to}/`} is on no layer: every module lives in a folder of src/ on a layer`;
  if (toRank < fromRank) return undefined;
  if (toRank === fromRank) return `src/${from}/ and src/${to}/ are peers on one layer and must not import each other`;
  return `src/${from}/ (layer ${fromRank}) must not import from src/${to}/ (layer ${toRank}): imports go down only (core -> sigma/intel/attack -> sources/formats -> engine -> sinks/store/pack -> scan/service/serve/cluster -> cli)`;
}

export const importLayersRule = {
  meta: {
    type: 'problem',
    docs: { description: 'imports between folders of src/ go down the layers only' },
    schema: [{ type: 'object', properties: { srcDir: { type: 'string' } }, additionalProperties: false }],
    messages: { upward: '{{reason}}' },
  },
  create(context) {
    const filename = context.filename ?? context.getFilename();
    const srcDir = path.resolve(context.options[0]?.srcDir ?? path.join(context.cwd ?? process.cwd(), 'src'));
    const from = roomOf(filename, srcDir);
    if (from === undefined) return {};
    function check(node, source) {
      if (source === null || source === undefined || source.type !== 'Literal' || typeof source.value !== 'string') return;
      const spec = source.value;
      if (!spec.startsWith('.')) return;
      const to = roomOf(path.resolve(path.dirname(filename), spec), srcDir);
      if (to === undefined) return;
      const reason = layerViolation(from, to);
      if (reason !== undefined) context.report({ node: source, messageId: 'upward', data: { reason } });
    }
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source),
    };
  },
};

export const layersPlugin = { rules: { 'import-layers': importLayersRule } };
