// Prepares a question for the guard: its analysis and its full lower-case token set.
import type { GuardInput } from './false-hit-guard.js';
import { analyse } from './text-analysis.js';
import type { Lexicon } from './wordnet.js';

const tokenPattern = /[\p{L}\p{N}][\p{L}\p{N}._+#/@:-]*[\p{L}\p{N}+#]|[\p{L}\p{N}]/gu;

export function guardInput(text: string, lexicon: Lexicon | undefined): GuardInput {
  const normalised = text.normalize('NFKC').replace(/[’‘]/g, "'");
  const tokens = new Set((normalised.toLowerCase().match(tokenPattern) ?? []).map((token) => token.replace(/'/g, '')));
  return { analysis: analyse(normalised, lexicon), tokens };
}
