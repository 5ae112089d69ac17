// One colour per label (entity type, class, intent) on every page: labeling, utterances, test
// and evaluation all ask here. A label's place in the project's label list picks one of the
// palette's classes (.c0 … .c8 in studio.css), so the first nine labels differ; a category the
// list does not name (a prediction of a label removed since training) gets a stable hash of
// its name, the same on every page and every visit.

export const PALETTE_SIZE = 9;

function hash(text) {
  let value = 0;
  for (const character of text) value = (value * 31 + character.codePointAt(0)) >>> 0;
  return value;
}

// The colour class of category among labels (the project's label list, in order).
export function colourClass(labels, category) {
  const index = labels.indexOf(category);
  return `c${(index >= 0 ? index : hash(String(category))) % PALETTE_SIZE}`;
}
