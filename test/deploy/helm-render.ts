// A small renderer for the subset of Helm's Go templates the Breakwater chart uses, for tests on machines without
// `helm`. It implements Go template semantics for what it supports (trim markers, pipelines, if/else if/with/range/
// define/include, variables, Go truthiness) and throws on anything else, so the chart cannot silently drift outside
// the subset. With helm installed, `helm template` / `helm lint deploy/helm/breakwater` remain the reference.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

type Value = unknown;

// ---------------------------------------------------------------- lexing: text and {{ actions }}

interface TextNode { kind: 'text'; text: string }
interface ActionNode { kind: 'action'; source: string; where: string }
type Piece = TextNode | ActionNode;

function split(template: string, name: string): Piece[] {
  const pieces: Piece[] = [];
  let position = 0;
  let trimNext = false;
  while (position < template.length) {
    const open = template.indexOf('{{', position);
    let text = open === -1 ? template.slice(position) : template.slice(position, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open === -1) {
      pieces.push({ kind: 'text', text });
      break;
    }
    const trimBefore = template.startsWith('{{- ', open) || template.startsWith('{{-\n', open);
    if (trimBefore) text = text.replace(/\s+$/, '');
    pieces.push({ kind: 'text', text });
    const close = findClose(template, open + 2);
    if (close === -1) throw new Error(`${name}: unclosed action`);
    const trimAfter = template[close - 1] === '-' && /\s/.test(template[close - 2] ?? '');
    let source = template.slice(open + (trimBefore ? 3 : 2), trimAfter ? close - 1 : close).trim();
    const line = template.slice(0, open).split('\n').length;
    if (source.startsWith('/*')) source = ''; // comment
    if (source !== '') pieces.push({ kind: 'action', source, where: `${name}:${line}` });
    trimNext = trimAfter;
    position = close + 2;
  }
  return pieces;
}

function findClose(template: string, from: number): number {
  let quote: string | undefined;
  for (let index = from; index < template.length; index++) {
    const char = template[index];
    if (quote) {
      if (char === '\\' && quote === '"') index++;
      else if (char === quote) quote = undefined;
    } else if (char === '"' || char === '`') quote = char;
    else if (char === '}' && template[index + 1] === '}') return index;
  }
  return -1;
}

// ---------------------------------------------------------------- expressions

type Token = { type: 'string' | 'number' | 'ident' | 'field' | 'variable' | 'punct'; text: string };

function tokenize(source: string, where: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s*(?:("(?:[^"\\]|\\.)*"|`[^`]*`)|(-?\d+(?:\.\d+)?)|(\$[A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)|(\.[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*|\.)|([A-Za-z_][A-Za-z0-9_]*)|(:=|=|\||\(|\)|,))/y;
  let position = 0;
  while (position < source.length) {
    if (/^\s*$/.test(source.slice(position))) break;
    pattern.lastIndex = position;
    const match = pattern.exec(source);
    if (!match) throw new Error(`${where}: cannot read template expression at "${source.slice(position)}"`);
    position = pattern.lastIndex;
    if (match[1] !== undefined) tokens.push({ type: 'string', text: match[1] });
    else if (match[2] !== undefined) tokens.push({ type: 'number', text: match[2] });
    else if (match[3] !== undefined) tokens.push({ type: 'variable', text: match[3] });
    else if (match[4] !== undefined) tokens.push({ type: 'field', text: match[4] });
    else if (match[5] !== undefined) tokens.push({ type: 'ident', text: match[5] });
    else tokens.push({ type: 'punct', text: match[6] as string });
  }
  return tokens;
}

type Expression =
  | { kind: 'literal'; value: Value }
  | { kind: 'field'; path: string[]; base: 'dot' | string }
  | { kind: 'call'; name: string; args: Expression[] }
  | { kind: 'pipeline'; commands: Expression[] };

interface Pipeline { declare?: string; assign?: string; expression: Expression }

class ExpressionParser {
  private index = 0;
  constructor(private readonly tokens: Token[], private readonly where: string) {}

  pipelineWithDeclaration(): Pipeline {
    const [first, second] = [this.tokens[0], this.tokens[1]];
    if (first?.type === 'variable' && second?.text === ':=') {
      this.index = 2;
      return { declare: first.text, expression: this.pipeline() };
    }
    if (first?.type === 'variable' && second?.text === '=') {
      this.index = 2;
      return { assign: first.text, expression: this.pipeline() };
    }
    return { expression: this.pipeline() };
  }

  /** `range $key, $value := pipeline` */
  rangeHeader(): { keyVariable?: string; valueVariable?: string; expression: Expression } {
    const tokens = this.tokens;
    if (tokens[0]?.type === 'variable' && tokens[1]?.text === ',' && tokens[2]?.type === 'variable' && tokens[3]?.text === ':=') {
      this.index = 4;
      return { keyVariable: tokens[0].text, valueVariable: tokens[2].text, expression: this.pipeline() };
    }
    if (tokens[0]?.type === 'variable' && tokens[1]?.text === ':=') {
      this.index = 2;
      return { valueVariable: tokens[0].text, expression: this.pipeline() };
    }
    return { expression: this.pipeline() };
  }

  done(): void {
    if (this.index !== this.tokens.length) throw new Error(`${this.where}: unexpected "${this.tokens[this.index]?.text}"`);
  }

  pipeline(): Expression {
    const commands = [this.command()];
    while (this.tokens[this.index]?.text === '|') {
      this.index++;
      commands.push(this.command());
    }
    return commands.length === 1 ? (commands[0] as Expression) : { kind: 'pipeline', commands };
  }

  private command(): Expression {
    const token = this.tokens[this.index];
    if (token?.type === 'ident' && !['true', 'false', 'nil'].includes(token.text)) {
      this.index++;
      const args: Expression[] = [];
      while (this.index < this.tokens.length && !['|', ')'].includes(this.tokens[this.index]?.text ?? '')) args.push(this.operand());
      return { kind: 'call', name: token.text, args };
    }
    return this.operand();
  }

  private operand(): Expression {
    const token = this.tokens[this.index++];
    if (!token) throw new Error(`${this.where}: expression ends early`);
    switch (token.type) {
      case 'string':
        return { kind: 'literal', value: token.text.startsWith('`') ? token.text.slice(1, -1) : (JSON.parse(token.text) as string) };
      case 'number':
        return { kind: 'literal', value: Number(token.text) };
      case 'field':
        return { kind: 'field', base: 'dot', path: token.text === '.' ? [] : token.text.slice(1).split('.') };
      case 'variable': {
        const [name = '$', ...path] = token.text.split('.');
        return { kind: 'field', base: name, path };
      }
      case 'ident':
        if (token.text === 'true' || token.text === 'false') return { kind: 'literal', value: token.text === 'true' };
        if (token.text === 'nil') return { kind: 'literal', value: undefined };
        return { kind: 'call', name: token.text, args: [] };
      case 'punct':
        if (token.text === '(') {
          const inner = this.pipeline();
          if (this.tokens[this.index++]?.text !== ')') throw new Error(`${this.where}: missing )`);
          return inner;
        }
    }
    throw new Error(`${this.where}: unexpected "${token.text}"`);
  }
}

// ---------------------------------------------------------------- statements

type Node =
  | TextNode
  | { kind: 'output'; pipeline: Pipeline; where: string }
  | { kind: 'if'; branches: Array<{ condition: Pipeline; body: Node[] }>; otherwise: Node[]; where: string }
  | { kind: 'with'; pipeline: Pipeline; body: Node[]; otherwise: Node[]; where: string }
  | { kind: 'range'; header: ReturnType<ExpressionParser['rangeHeader']>; body: Node[]; otherwise: Node[]; where: string };

function parsePipeline(source: string, where: string): Pipeline {
  const parser = new ExpressionParser(tokenize(source, where), where);
  const pipeline = parser.pipelineWithDeclaration();
  parser.done();
  return pipeline;
}

function build(pieces: Piece[], defines: Map<string, Node[]>): Node[] {
  let index = 0;
  const block = (terminators: string[]): { nodes: Node[]; end: string } => {
    const nodes: Node[] = [];
    while (index < pieces.length) {
      const piece = pieces[index++] as Piece;
      if (piece.kind === 'text') {
        if (piece.text) nodes.push(piece);
        continue;
      }
      const [keyword = '', ...rest] = piece.source.split(/\s+/);
      const argument = rest.join(' ');
      if (terminators.includes(keyword) || (keyword === 'else' && terminators.includes('else'))) {
        index--;
        return { nodes, end: keyword };
      }
      if (keyword === 'if') {
        const branches = [{ condition: parsePipeline(argument, piece.where), body: [] as Node[] }];
        let otherwise: Node[] = [];
        for (;;) {
          const inner = block(['else', 'end']);
          (branches.at(-1) as { body: Node[] }).body = inner.nodes;
          const terminator = pieces[index++] as ActionNode;
          if (inner.end === 'end') break;
          const elseArgument = terminator.source.replace(/^else\s*/, '');
          if (elseArgument.startsWith('if ')) {
            branches.push({ condition: parsePipeline(elseArgument.slice(3), terminator.where), body: [] });
            continue;
          }
          otherwise = block(['end']).nodes;
          index++;
          break;
        }
        nodes.push({ kind: 'if', branches, otherwise, where: piece.where });
      } else if (keyword === 'with' || keyword === 'range') {
        const body = block(['else', 'end']);
        let otherwise: Node[] = [];
        const terminator = pieces[index++] as ActionNode;
        if (body.end === 'else') {
          if (terminator.source.trim() !== 'else') throw new Error(`${terminator.where}: only plain else after ${keyword}`);
          otherwise = block(['end']).nodes;
          index++;
        }
        if (keyword === 'with') nodes.push({ kind: 'with', pipeline: parsePipeline(argument, piece.where), body: body.nodes, otherwise, where: piece.where });
        else {
          const parser = new ExpressionParser(tokenize(argument, piece.where), piece.where);
          const header = parser.rangeHeader();
          parser.done();
          nodes.push({ kind: 'range', header, body: body.nodes, otherwise, where: piece.where });
        }
      } else if (keyword === 'define') {
        const name = JSON.parse(argument) as string;
        const body = block(['end']);
        index++;
        defines.set(name, body.nodes);
      } else if (['end', 'else', 'block', 'template', 'break', 'continue'].includes(keyword)) {
        throw new Error(`${piece.where}: "${keyword}" is outside the supported subset or misplaced`);
      } else {
        nodes.push({ kind: 'output', pipeline: parsePipeline(piece.source, piece.where), where: piece.where });
      }
    }
    if (terminators.length > 0) throw new Error(`missing {{ end }} (expected one of ${terminators.join(', ')})`);
    return { nodes, end: '' };
  };
  return block([]).nodes;
}

// ---------------------------------------------------------------- evaluation

class RenderFailure extends Error {}

function truthy(value: Value): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

function text(value: Value): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') throw new Error('printing a map or list directly: use toYaml');
  return String(value);
}

function indentLines(spaces: number, value: string): string {
  const pad = ' '.repeat(spaces);
  return value
    .split('\n')
    .map((line) => pad + line)
    .join('\n');
}

function toYaml(value: Value): string {
  if (value === undefined || value === null) return 'null';
  // Helm's toYaml goes through JSON, which sorts map keys; the output has no trailing newline.
  return stringifyYaml(value, { sortMapEntries: true, lineWidth: 0 }).replace(/\n$/, '');
}

function printf(format: string, ...args: Value[]): string {
  let next = 0;
  return format.replace(/%([-0-9.]*)([svdqf%])/g, (_whole, _flags: string, verb: string) => {
    if (verb === '%') return '%';
    const value = args[next++];
    if (verb === 'q') return JSON.stringify(text(value));
    if (verb === 'd') return String(Math.trunc(Number(value)));
    return text(value);
  });
}

interface Scope {
  dot: Value;
  variables: Map<string, Value>;
}

export interface Chart {
  directory: string;
  metadata: Record<string, Value>;
  defaults: Record<string, Value>;
  templates: Map<string, Node[]>;
  defines: Map<string, Node[]>;
}

export function loadChart(directory: string): Chart {
  const metadata = parseYaml(readFileSync(join(directory, 'Chart.yaml'), 'utf8')) as Record<string, Value>;
  const defaults = (parseYaml(readFileSync(join(directory, 'values.yaml'), 'utf8')) ?? {}) as Record<string, Value>;
  const defines = new Map<string, Node[]>();
  const templates = new Map<string, Node[]>();
  for (const file of readdirSync(join(directory, 'templates')).sort()) {
    const source = readFileSync(join(directory, 'templates', file), 'utf8');
    const nodes = build(split(source, `templates/${file}`), defines);
    if (!file.startsWith('_') && /\.ya?ml$/.test(file)) templates.set(file, nodes);
  }
  return { directory, metadata, defaults, templates, defines };
}

function mergeValues(base: Value, override: Value): Value {
  if (override === undefined) return base;
  if (base && override && typeof base === 'object' && typeof override === 'object' && !Array.isArray(base) && !Array.isArray(override)) {
    const result: Record<string, Value> = { ...(base as Record<string, Value>) };
    for (const [key, value] of Object.entries(override as Record<string, Value>)) {
      // Helm: a null in user values deletes the default key.
      if (value === null) delete result[key];
      else result[key] = mergeValues(result[key], value);
    }
    return result;
  }
  return override;
}

export interface RenderOptions {
  releaseName?: string;
  namespace?: string;
  values?: Record<string, Value>;
}

/** Renders every template; returns file name → rendered text (empty output dropped). Throws on `fail`/`required`. */
export function renderChart(chart: Chart, options: RenderOptions = {}): Map<string, string> {
  const values = mergeValues(chart.defaults, options.values ?? {}) as Record<string, Value>;
  const root = {
    Values: values,
    Release: { Name: options.releaseName ?? 'breakwater', Namespace: options.namespace ?? 'default', Service: 'Helm', IsInstall: true, IsUpgrade: false },
    Chart: { Name: chart.metadata.name, Version: chart.metadata.version, AppVersion: chart.metadata.appVersion },
    Capabilities: { KubeVersion: { Version: 'v1.31.0' } },
  };

  const functions: Record<string, (...args: Value[]) => Value> = {
    include: (name, dot) => {
      const body = chart.defines.get(String(name));
      if (!body) throw new Error(`include of undefined template "${String(name)}"`);
      return execute(body, { dot, variables: new Map([['$', dot]]) });
    },
    toYaml,
    nindent: (spaces, value) => '\n' + indentLines(Number(spaces), text(value)),
    indent: (spaces, value) => indentLines(Number(spaces), text(value)),
    quote: (...args) => args.map((value) => JSON.stringify(text(value))).join(' '),
    squote: (value) => `'${text(value)}'`,
    default: (fallback, value) => (truthy(value) ? value : fallback),
    required: (message, value) => {
      if (value === undefined || value === null || value === '') throw new RenderFailure(String(message));
      return value;
    },
    fail: (message) => {
      throw new RenderFailure(String(message));
    },
    printf: (format, ...args) => printf(String(format), ...args),
    print: (...args) => args.map(text).join(''),
    eq: (first, ...others) => others.some((other) => other === first),
    ne: (first, second) => first !== second,
    lt: (first, second) => Number(first) < Number(second),
    le: (first, second) => Number(first) <= Number(second),
    gt: (first, second) => Number(first) > Number(second),
    ge: (first, second) => Number(first) >= Number(second),
    and: (...args) => args.find((value) => !truthy(value)) ?? args.at(-1),
    or: (...args) => args.find((value) => truthy(value)) ?? args.at(-1),
    not: (value) => !truthy(value),
    empty: (value) => !truthy(value),
    int: (value) => Math.trunc(Number(value ?? 0)),
    add: (...args) => args.reduce<number>((sum, value) => sum + Number(value), 0),
    mul: (...args) => args.reduce<number>((product, value) => product * Number(value), 1),
    trunc: (length, value) => text(value).slice(0, Number(length)),
    trimSuffix: (suffix, value) => (text(value).endsWith(text(suffix)) ? text(value).slice(0, -text(suffix).length) : text(value)),
    replace: (from, to, value) => text(value).split(text(from)).join(text(to)),
    lower: (value) => text(value).toLowerCase(),
    toString: (value: Value) => text(value),
    hasKey: (map, key) => typeof map === 'object' && map !== null && Object.hasOwn(map, String(key)),
    sha256sum: (value) => createHash('sha256').update(text(value)).digest('hex'),
    contains: (part, value) => text(value).includes(text(part)),
  };

  const evaluate = (expression: Expression, scope: Scope, piped?: { value: Value }): Value => {
    switch (expression.kind) {
      case 'literal':
        return expression.value;
      case 'field': {
        let value: Value = expression.base === 'dot' ? scope.dot : scope.variables.get(expression.base);
        if (expression.base !== 'dot' && !scope.variables.has(expression.base)) throw new Error(`undefined variable ${expression.base}`);
        for (const key of expression.path) value = value !== null && typeof value === 'object' ? (value as Record<string, Value>)[key] : undefined;
        if (piped) throw new Error('a field cannot take piped input');
        return value;
      }
      case 'call': {
        const implementation = functions[expression.name];
        if (!implementation) throw new Error(`function "${expression.name}" is outside the supported subset`);
        const args = expression.args.map((argument) => evaluate(argument, scope));
        if (piped) args.push(piped.value);
        return implementation(...args);
      }
      case 'pipeline': {
        let value = evaluate(expression.commands[0] as Expression, scope, piped);
        for (const command of expression.commands.slice(1)) value = evaluate(command, scope, { value });
        return value;
      }
    }
  };

  const runPipeline = (pipeline: Pipeline, scope: Scope): Value => {
    const value = evaluate(pipeline.expression, scope);
    if (pipeline.declare) {
      scope.variables.set(pipeline.declare, value);
      return '';
    }
    if (pipeline.assign) {
      if (!scope.variables.has(pipeline.assign)) throw new Error(`assignment to undeclared ${pipeline.assign}`);
      scope.variables.set(pipeline.assign, value);
      return '';
    }
    return value;
  };

  const execute = (nodes: Node[], scope: Scope): string => {
    let output = '';
    for (const node of nodes) {
      try {
        switch (node.kind) {
          case 'text':
            output += node.text;
            break;
          case 'output': {
            const value = runPipeline(node.pipeline, scope);
            if (!node.pipeline.declare && !node.pipeline.assign) output += text(value);
            break;
          }
          case 'if': {
            const branch = node.branches.find((candidate) => truthy(runPipeline(candidate.condition, scope)));
            output += execute(branch ? branch.body : node.otherwise, { dot: scope.dot, variables: new Map(scope.variables) });
            break;
          }
          case 'with': {
            const value = runPipeline(node.pipeline, scope);
            output += truthy(value) ? execute(node.body, { dot: value, variables: new Map(scope.variables) }) : execute(node.otherwise, { dot: scope.dot, variables: new Map(scope.variables) });
            break;
          }
          case 'range': {
            const collection = evaluate(node.header.expression, scope);
            const entries: Array<[Value, Value]> = Array.isArray(collection)
              ? collection.map((item, position) => [position, item])
              : collection && typeof collection === 'object'
                ? Object.keys(collection)
                    .sort()
                    .map((key) => [key, (collection as Record<string, Value>)[key]])
                : [];
            if (entries.length === 0) output += execute(node.otherwise, { dot: scope.dot, variables: new Map(scope.variables) });
            for (const [key, item] of entries) {
              const variables = new Map(scope.variables);
              if (node.header.keyVariable) variables.set(node.header.keyVariable, key);
              if (node.header.valueVariable) variables.set(node.header.valueVariable, item);
              output += execute(node.body, { dot: item, variables });
            }
            break;
          }
        }
      } catch (error) {
        if (error instanceof RenderFailure) throw error;
        const where = 'where' in node ? node.where : '';
        throw new Error(`${where}: ${(error as Error).message}`, { cause: error });
      }
    }
    return output;
  };

  const rendered = new Map<string, string>();
  for (const [file, nodes] of chart.templates) {
    const output = execute(nodes, { dot: root, variables: new Map([['$', root]]) });
    if (output.trim() !== '') rendered.set(file, output);
  }
  return rendered;
}

export { RenderFailure };
