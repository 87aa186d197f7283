/**
 * docs/api.md's endpoint reference, generated from the OpenAPI document (`npm run docs:api`)
 * between marker comments, so the docs cannot drift from the routes (test/api-docs.test.ts).
 * Pure: a document in, Markdown out.
 */
export const API_TABLE_BEGIN =
  '<!-- endpoints: generated from the OpenAPI document by `npm run docs:api`; edit the routes in src/api/routes -->';
export const API_TABLE_END = '<!-- end of endpoints -->';

interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  description?: string;
  anyOf?: Schema[];
}

interface Operation {
  summary?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: {
    name: string;
    in: string;
    required?: boolean;
    schema?: Schema;
    description?: string;
  }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { description: string; content?: Record<string, unknown> }>;
}

export interface ApiDocument {
  paths?: Record<string, Record<string, Operation> | undefined>;
  components?: { schemas?: Record<string, Schema> };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

function typeOf(schema: Schema | undefined): string {
  if (schema === undefined) return 'any';
  if (schema.$ref !== undefined) return schema.$ref.split('/').at(-1) ?? 'object';
  if (schema.enum !== undefined) return schema.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (schema.anyOf !== undefined) return schema.anyOf.map(typeOf).join(' \\| ');
  if (schema.type === 'array') return `${typeOf(schema.items)}[]`;
  return Array.isArray(schema.type) ? schema.type.join(' \\| ') : (schema.type ?? 'object');
}

/** An object's fields one level deep: `{ tasks: object[], note: string }`. */
function shape(schema: Schema): string {
  if (schema.properties === undefined) return `\`${typeOf(schema)}\``;
  const fields = Object.entries(schema.properties).map(([name, s]) => `${name}: ${typeOf(s)}`);
  // Outside a table, `|` needs no escape.
  return `\`{ ${fields.join(', ').replace(/ \\\| /g, ' | ')} }\``;
}

function cell(text: string | undefined): string {
  return (text ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function renderOperation(method: string, path: string, op: Operation): string {
  const lines = [`### \`${method.toUpperCase()} ${path}\``, '', cell(op.summary)];
  if (op.security !== undefined && op.security.length === 0) lines.push('', 'No token needed.');
  const fields: string[][] = [];
  for (const p of op.parameters ?? [])
    fields.push([
      `${p.in} \`${p.name}\``,
      typeOf(p.schema),
      p.required === true ? 'yes' : '',
      cell(p.description ?? p.schema?.description),
    ]);
  const body = op.requestBody?.content['application/json']?.schema;
  for (const [name, schema] of Object.entries(body?.properties ?? {}))
    fields.push([
      `body \`${name}\``,
      typeOf(schema),
      body?.required?.includes(name) === true ? 'yes' : '',
      cell(schema.description),
    ]);
  if (fields.length > 0)
    lines.push(
      '',
      '| Field | Type | Required | |',
      '| --- | --- | --- | --- |',
      ...fields.map((f) => `| ${f.join(' | ')} |`),
    );
  const entries = Object.entries(op.responses);
  for (const [status, r] of entries.filter(([code]) => code.startsWith('2'))) {
    const json = r.content?.['application/json'] as { schema?: Schema } | undefined;
    const answer = json?.schema === undefined ? '`text/event-stream`' : shape(json.schema);
    lines.push('', `\`${status}\` ${cell(r.description)}: ${answer}`);
  }
  const problems = entries.filter(([code]) => !code.startsWith('2')).map(([code]) => code);
  lines.push('', `Problems: ${problems.join(', ')}.`);
  return lines.join('\n');
}

/** One section per tag, its operations in declaration order. */
export function renderEndpoints(document: ApiDocument): string {
  const byTag = new Map<string, string[]>();
  const index: string[] = [];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of METHODS) {
      const op = item?.[method];
      if (op === undefined) continue;
      const tag = op.tags?.[0] ?? 'other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), renderOperation(method, path, op)]);
      index.push(
        `| \`${method.toUpperCase()}\` | \`${path}\` | ${cell(op.summary).split('. ')[0] ?? ''} |`,
      );
    }
  }
  const schemas = Object.entries(document.components?.schemas ?? {}).map(([name, schema]) => {
    const rows = Object.entries(schema.properties ?? {}).map(
      ([field, s]) =>
        `| \`${field}\` | ${typeOf(s)}${schema.required?.includes(field) === true ? '' : ' (optional)'} |`,
    );
    return [`### ${name}`, '', '| Field | Type |', '| --- | --- |', ...rows].join('\n');
  });
  const sections = [...byTag].map(
    ([tag, ops]) => `## ${tag[0]?.toUpperCase() ?? ''}${tag.slice(1)}\n\n${ops.join('\n\n')}`,
  );
  return [
    ['| Method | Path | What |', '| --- | --- | --- |', ...index].join('\n'),
    ...sections,
    '## Schemas',
    'The fields clients rely on; the documents may carry more.',
    ...schemas,
  ].join('\n\n');
}

export function spliceEndpoints(doc: string, endpoints: string): string {
  const begin = doc.indexOf(API_TABLE_BEGIN);
  const end = begin === -1 ? -1 : doc.indexOf(API_TABLE_END, begin);
  if (end === -1) throw new Error(`no "${API_TABLE_BEGIN}" … "${API_TABLE_END}" block to fill`);
  return `${doc.slice(0, begin + API_TABLE_BEGIN.length)}\n\n${endpoints}\n\n${doc.slice(end)}`;
}
