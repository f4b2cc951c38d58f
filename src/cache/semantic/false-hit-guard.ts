// The guard against false semantic hits: a cheap comparison of two questions that rejects a near neighbour whose
// meaning differs — negation flips, antonyms, different numbers/dates/quantities, names, or substituted content words.
import type { AnalysedText } from './text-analysis.js';
import type { Lexicon } from './wordnet.js';

export type GuardRejection = 'negation' | 'antonym' | 'quantity' | 'entity' | 'content';

/**
 * Opposites the offline mode must know even without WordNet, and a few WordNet misses (its antonyms are
 * per word sense: "push/pull", "upload/download" are not listed). Symmetric; base forms.
 */
const builtInOpposites: ReadonlyArray<readonly [string, string]> = [
  ['enable', 'disable'], ['install', 'uninstall'], ['encrypt', 'decrypt'], ['increase', 'decrease'], ['lock', 'unlock'],
  ['add', 'remove'], ['show', 'hide'], ['raise', 'lower'], ['subscribe', 'unsubscribe'], ['upload', 'download'],
  ['import', 'export'], ['buy', 'sell'], ['start', 'stop'], ['advantage', 'disadvantage'], ['connect', 'disconnect'],
  ['hot', 'cold'], ['maximize', 'minimize'], ['maximum', 'minimum'], ['max', 'min'], ['good', 'bad'], ['compress', 'decompress'],
  ['allow', 'block'], ['allow', 'deny'], ['on', 'off'], ['in', 'out'], ['up', 'down'], ['high', 'low'], ['highest', 'lowest'],
  ['accept', 'decline'], ['accept', 'reject'], ['push', 'pull'], ['best', 'worst'], ['better', 'worse'], ['gain', 'lose'],
  ['expand', 'collapse'], ['open', 'close'], ['include', 'exclude'], ['before', 'after'], ['above', 'below'], ['more', 'less'],
  ['true', 'false'], ['yes', 'no'], ['fast', 'slow'], ['big', 'small'], ['large', 'small'], ['cheap', 'expensive'], ['old', 'new'],
  ['left', 'right'], ['input', 'output'], ['win', 'lose'], ['login', 'logout'], 
  ['create', 'delete'], ['legal', 'illegal'],
  ['safe', 'unsafe'], ['reachable', 'unreachable'], ['next', 'last'], ['first', 'last'], ['early', 'late'], ['plus', 'minus'],
];
const negatingPrefixes = ['un', 'dis', 'de', 'in', 'il', 'im', 'ir', 'non', 'anti'];

const opposites = new Map<string, Set<string>>();
for (const [one, other] of builtInOpposites) {
  (opposites.get(one) ?? opposites.set(one, new Set()).get(one))?.add(other);
  (opposites.get(other) ?? opposites.set(other, new Set()).get(other))?.add(one);
}

export interface GuardInput {
  analysis: AnalysedText;
  /** Every token of the text in lower case, stop words included (names are matched against it). */
  tokens: ReadonlySet<string>;
}

/** Returns why `query` must not be answered with the cached answer to `cached`, or undefined when it may. */
export function checkFalseHit(query: GuardInput, cached: GuardInput, lexicon: Lexicon | undefined): GuardRejection | undefined {
  const a = query.analysis;
  const b = cached.analysis;
  if (a.negations % 2 !== b.negations % 2) return 'negation';
  if (!sameSequence(sorted(a.quantities), sorted(b.quantities))) return 'quantity';
  if (entitiesDiffer(a.entities, cached.tokens) || entitiesDiffer(b.entities, query.tokens)) return 'entity';
  // The same names in another order change the question: "30 Celsius to Fahrenheit" vs "30 Fahrenheit to Celsius".
  if (!sameSequence(orderedNames(a, b.entities), orderedNames(b, a.entities))) return 'entity';
  const wordsA = new Set([...a.words, ...query.tokens]);
  const wordsB = new Set([...b.words, ...cached.tokens]);
  if (hasOpposite(wordsA, wordsB, lexicon) || hasOpposite(wordsB, wordsA, lexicon)) return 'antonym';
  if (unmatched(a.words, b.words, lexicon) || unmatched(b.words, a.words, lexicon)) return 'content';
  return undefined;
}

function sorted(values: readonly string[]): string[] {
  return [...values].sort();
}

function sameSequence(one: readonly string[], other: readonly string[]): boolean {
  return one.length === other.length && one.every((value, index) => value === other[index]);
}

function entitiesDiffer(entities: ReadonlySet<string>, otherTokens: ReadonlySet<string>): boolean {
  for (const entity of entities) if (!otherTokens.has(entity)) return true;
  return false;
}

function orderedNames(text: AnalysedText, otherEntities: ReadonlySet<string>): string[] {
  return [...text.entities].filter((entity) => otherEntities.has(entity));
}

function hasOpposite(words: ReadonlySet<string>, otherWords: ReadonlySet<string>, lexicon: Lexicon | undefined): boolean {
  for (const word of words) {
    if (otherWords.has(word)) continue;
    const candidates = [...(opposites.get(word) ?? []), ...(lexicon?.antonyms(word) ?? [])];
    for (const opposite of candidates) if (otherWords.has(opposite) && !words.has(opposite)) return true;
    if (word.length < 4) continue;
    for (const prefix of negatingPrefixes) {
      const negated = prefix + word;
      if (otherWords.has(negated) && !words.has(negated)) return true;
    }
  }
  return false;
}

/** A content word of `words` with no counterpart (same base form or a shared WordNet concept) in `otherWords`. */
function unmatched(words: readonly string[], otherWords: readonly string[], lexicon: Lexicon | undefined): boolean {
  const others = new Set(otherWords);
  const otherConcepts = new Set<number>();
  if (lexicon) for (const word of otherWords) for (const concept of lexicon.concepts(word) ?? []) otherConcepts.add(concept);
  for (const word of words) {
    if (others.has(word)) continue;
    const concepts = lexicon?.concepts(word);
    if (concepts?.some((concept) => otherConcepts.has(concept))) continue;
    return true;
  }
  return false;
}
