// Whitespace word counting: the simulator's stand-in for a tokenizer.

/** Counts runs of non-whitespace characters without allocating an array of words. */
export function countWords(text: string): number {
  let count = 0;
  let inWord = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    // Space, tab, line feed, vertical tab, form feed, carriage return, and no-break space.
    const isSpace = code === 32 || (code >= 9 && code <= 13) || code === 160;
    if (isSpace) inWord = false;
    else if (!inWord) {
      inWord = true;
      count++;
    }
  }
  return count;
}
