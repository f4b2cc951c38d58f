// A small Dockerfile reader for the static image checks: instructions (continuations joined, comments dropped) grouped by stage.
export interface Instruction {
  keyword: string;
  /** Everything after the keyword, flags included. */
  argument: string;
  line: number;
}

export interface Stage {
  /** The image after FROM, with build ARG defaults substituted. */
  image: string;
  name?: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  globalArgs: Map<string, string>;
  stages: Stage[];
  all: Instruction[];
}

export function parseDockerfile(text: string): Dockerfile {
  const all: Instruction[] = [];
  let pending = '';
  let startLine = 0;
  text.split('\n').forEach((raw, index) => {
    const trimmed = raw.trim();
    if (pending === '' && (trimmed === '' || trimmed.startsWith('#'))) return;
    if (pending !== '' && trimmed.startsWith('#')) return; // comment lines inside a continuation are ignored by Docker too
    if (pending === '') startLine = index + 1;
    if (trimmed.endsWith('\\')) {
      pending += trimmed.slice(0, -1) + ' ';
      return;
    }
    pending += trimmed;
    const match = /^(\S+)\s*(.*)$/.exec(pending);
    if (match) all.push({ keyword: (match[1] as string).toUpperCase(), argument: (match[2] as string).trim(), line: startLine });
    pending = '';
  });
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const instruction of all) {
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = instruction.argument.replace(/--platform=\S+\s+/, '').split(/\s+/);
      const resolved = image.replace(/\$\{?(\w+)\}?/g, (_whole, variable: string) => globalArgs.get(variable) ?? '');
      stages.push({ image: resolved, ...(as?.toUpperCase() === 'AS' && name ? { name } : {}), instructions: [] });
      continue;
    }
    const current = stages.at(-1);
    if (!current && instruction.keyword === 'ARG') {
      const [variable = '', value = ''] = instruction.argument.split('=');
      globalArgs.set(variable.trim(), value.trim());
      continue;
    }
    current?.instructions.push(instruction);
  }
  return { globalArgs, stages, all };
}

/** The JSON-array (exec) form of CMD/ENTRYPOINT/HEALTHCHECK CMD as a list, or undefined for the shell form. */
export function execForm(argument: string): string[] | undefined {
  const start = argument.indexOf('[');
  if (start === -1) return undefined;
  try {
    const parsed: unknown = JSON.parse(argument.slice(start));
    return Array.isArray(parsed) && parsed.every((item) => typeof item === 'string') ? (parsed as string[]) : undefined;
  } catch {
    return undefined;
  }
}
