// Breaks a user question into what the semantic cache compares: content words in base form, negations,
// numbers and dates, and entity-like tokens (names, identifiers, quoted strings). Pure and cheap.
import type { Lexicon } from './wordnet.js';

export interface AnalysedText {
  /** Content words (stop words dropped), base form, in order. */
  words: string[];
  /** Words as typed (lower case) for the ones that looked like names: capitalised mid-sentence, mixed case, code-like. */
  entities: Set<string>;
  /** Normalised numbers, number words, ordinals, years, months and weekdays, in order. */
  quantities: string[];
  /** How many negations (not, never, no, without, n't…) the text holds. */
  negations: number;
}

const tokenPattern = /"[^"]{1,200}"|'[^'\s][^']{0,198}[^'\s]'|`[^`]{1,200}`|[\p{L}\p{N}][\p{L}\p{N}._+#/@:'-]*[\p{L}\p{N}+#]|[\p{L}\p{N}]|\$|%|€|£/gu;

const negationWords = new Set(['not', 'no', 'never', 'without', 'cannot', 'neither', 'nor', 'none', 'nobody', 'nothing', 'nowhere', 'dont', 'doesnt', 'didnt', 'isnt', 'arent', 'wasnt', 'werent', 'wont', 'cant', 'couldnt', 'shouldnt', 'wouldnt', 'hasnt', 'havent', 'hadnt', 'mustnt', 'lacking', 'except', 'excluding', 'unless']);

/** Question scaffolding and function words: dropping them is what lets "How do I X?" meet "What's the way to X?". */
const stopWords = new Set(
  (
    'a an the and or but if then so than that this these those there here of to in on at by for from with into onto about as ' +
    'is are was were be been being am do does did doing done have has had having can could would should will shall may might must ' +
    'i me my mine we us our you your yours he him his she her it its they them their what which who whom whose when where why how ' +
    'please kindly tell show explain give let know help want need like just really actually also some any way ways best good ' +
    'hi hello hey thanks thank possible correct right proper properly exactly simply basically quick quickly go going get getting ' +
    'someone something anyone anything one thing things step steps guide instructions method procedure process mean means meaning ' +
    'should would could id im ive youre whats hows wheres whos thats theres lets'
  ).split(' '),
);

const numberWords = new Map<string, string>(
  Object.entries({
    zero: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9', ten: '10',
    eleven: '11', twelve: '12', thirteen: '13', fourteen: '14', fifteen: '15', sixteen: '16', seventeen: '17', eighteen: '18',
    nineteen: '19', twenty: '20', thirty: '30', forty: '40', fifty: '50', sixty: '60', seventy: '70', eighty: '80', ninety: '90',
    hundred: '100', thousand: '1000', million: '1000000', billion: '1000000000', dozen: '12', half: '0.5', twice: '2x', double: '2x', triple: '3x',
    first: '#1', second: '#2', third: '#3', fourth: '#4', fifth: '#5', last: '#last', next: '#next', previous: '#previous',
    january: 'month:1', february: 'month:2', march: 'month:3', april: 'month:4', june: 'month:6', july: 'month:7', august: 'month:8',
    september: 'month:9', october: 'month:10', november: 'month:11', december: 'month:12', jan: 'month:1', feb: 'month:2', mar: 'month:3',
    apr: 'month:4', jun: 'month:6', jul: 'month:7', aug: 'month:8', sep: 'month:9', sept: 'month:9', oct: 'month:10', nov: 'month:11', dec: 'month:12',
    monday: 'day:1', tuesday: 'day:2', wednesday: 'day:3', thursday: 'day:4', friday: 'day:5', saturday: 'day:6', sunday: 'day:7',
    today: 'rel:0', tonight: 'rel:0', tomorrow: 'rel:+1', yesterday: 'rel:-1', weekend: 'rel:weekend',
  }),
);
// "may" is left out of the months on purpose: it is far more often the verb.

const numeric = /^[+-]?\d[\d,]*(\.\d+)?(st|nd|rd|th|k|m|b|x|s)?$/;

export function analyse(text: string, lexicon: Lexicon | undefined): AnalysedText {
  const result: AnalysedText = { words: [], entities: new Set(), quantities: [], negations: 0 };
  const tokens = text.normalize('NFKC').replace(/[’‘]/g, "'").match(tokenPattern) ?? [];
  let sentenceStart = true;
  for (const token of tokens) {
    const first = token[0];
    if (first === '"' || first === '`' || (first === "'" && token.length > 2)) {
      result.entities.add(token.slice(1, -1).toLowerCase());
      sentenceStart = false;
      continue;
    }
    if (token === '$' || token === '%' || token === '€' || token === '£') {
      result.quantities.push(token);
      continue;
    }
    const lower = token.toLowerCase();
    const bare = lower.replace(/'/g, '');
    if (lower.endsWith("n't") || negationWords.has(bare)) {
      result.negations++;
      sentenceStart = false;
      continue;
    }
    const quantity = quantityOf(bare);
    if (quantity !== undefined) {
      result.quantities.push(quantity);
      sentenceStart = false;
      continue;
    }
    if (looksLikeName(token, sentenceStart)) result.entities.add(lower);
    sentenceStart = false;
    const word = lower.replace(/'s$/, '').replace(/'/g, '');
    if (stopWords.has(word) || word.length === 0) continue;
    result.words.push(baseForm(word, lexicon));
  }
  return result;
}

function quantityOf(token: string): string | undefined {
  const named = numberWords.get(token);
  if (named !== undefined) return named;
  if (!numeric.test(token)) return undefined;
  return token.replace(/,/g, '').replace(/(st|nd|rd|th)$/, '');
}

/** Proper names and identifiers: capitalised after the first word, mixed case (iPhone), or holding digits/symbols (gpt-4o, node.js). */
function looksLikeName(token: string, sentenceStart: boolean): boolean {
  if (/[\d._+#/@:]/.test(token) && /\p{L}/u.test(token)) return true;
  if (/\p{Ll}\p{Lu}/u.test(token)) return true;
  if (token.length > 1 && token === token.toUpperCase() && /\p{Lu}/u.test(token)) return true; // acronyms: AWS, SQL
  return !sentenceStart && /^\p{Lu}/u.test(token) && token !== 'I';
}

const nounRules: Array<[string, string]> = [['ies', 'y'], ['ses', 's'], ['xes', 'x'], ['zes', 'z'], ['ches', 'ch'], ['shes', 'sh'], ['men', 'man'], ['s', '']];
const verbRules: Array<[string, string]> = [['ies', 'y'], ['es', 'e'], ['es', ''], ['ed', 'e'], ['ed', ''], ['ing', 'e'], ['ing', ''], ['s', '']];
const adjectiveRules: Array<[string, string]> = [['est', ''], ['est', 'e'], ['er', ''], ['er', 'e'], ['iest', 'y'], ['ier', 'y']];

/**
 * WordNet's morphy rules (inflection → base form), checked against the lexicon; without it, a conservative
 * plural/-ing/-ed stripper so the offline mode still matches "passwords" with "password".
 */
export function baseForm(word: string, lexicon: Lexicon | undefined): string {
  if (word.length <= 3) return word;
  if (!lexicon) return word.replace(/(ies)$/, 'y').replace(/(ing|ed|es|s)$/, '') || word;
  if (lexicon.concepts(word)) return word;
  for (const [rules, partOfSpeech] of [[nounRules, 'noun'], [verbRules, 'verb'], [adjectiveRules, 'adj']] as const) {
    for (const [suffix, replacement] of rules) {
      if (!word.endsWith(suffix)) continue;
      const candidate = word.slice(0, word.length - suffix.length) + replacement;
      if (candidate.length > 1 && lexicon.has(candidate, partOfSpeech)) return candidate;
    }
  }
  // Doubled consonants before -ing/-ed (stopped → stop, running → run).
  const doubled = /([b-df-hj-np-tv-z])\1(ing|ed)$/.exec(word);
  if (doubled) {
    const candidate = word.slice(0, word.length - (doubled[2]?.length ?? 0) - 1);
    if (lexicon.has(candidate, 'verb')) return candidate;
  }
  return word;
}
