// Offsets between the units in play, and highlighted text.
//
// JavaScript strings are UTF-16: text.length, slice() and DOM ranges count UTF-16 code units.
// The labeling API and runtime predictions count code points (stringIndexType
// UnicodeCodePoint); evaluation results and project files count UTF-16 code units. A span on
// screen must never split a user-perceived character (an emoji with modifiers or ZWJ, a letter
// with combining marks), so selections snap to grapheme clusters found by Intl.Segmenter. A
// labeling selection also snaps to whole words (Intl.Segmenter's word-like segments): a drag
// that starts or ends inside "Microsoft" takes all of it.

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
const wordSegmenter = new Intl.Segmenter(undefined, { granularity: "word" });

export class TextIndex {
  constructor(text) {
    this.text = text;
    // codePointStarts[i] = UTF-16 index of code point i; one extra entry for the end.
    const starts = [];
    for (let index = 0; index < text.length; ) {
      starts.push(index);
      const value = text.codePointAt(index);
      index += value > 0xffff ? 2 : 1;
    }
    starts.push(text.length);
    this.codePointStarts = starts;
    // Grapheme cluster boundaries in UTF-16 units, from 0 to text.length.
    const boundaries = [];
    for (const part of segmenter.segment(text)) boundaries.push(part.index);
    boundaries.push(text.length);
    this.boundaries = boundaries;
  }

  get codePointLength() {
    return this.codePointStarts.length - 1;
  }

  // Code point index → UTF-16 index.
  toUtf16(codePoint) {
    if (codePoint < 0 || codePoint > this.codePointLength) {
      throw new RangeError(`code point ${codePoint} is outside the text (0…${this.codePointLength})`);
    }
    return this.codePointStarts[codePoint];
  }

  // UTF-16 index → code point index (an index inside a surrogate pair counts as its start).
  toCodePoint(utf16) {
    return upperBound(this.codePointStarts, utf16) - 1;
  }

  // A span given in code points → [start, end) in UTF-16 units.
  spanToUtf16(offset, length) {
    return [this.toUtf16(offset), this.toUtf16(offset + length)];
  }

  // [start, end) in UTF-16 units → {offset, length} in code points.
  spanToCodePoints(start, end) {
    const first = this.toCodePoint(start);
    return { offset: first, length: this.toCodePoint(end) - first };
  }

  // Word-like segments as [start, end) pairs in UTF-16 units, in order; found on first use
  // (a long document's words cost a moment only when a selection needs them).
  get words() {
    if (!this._words) {
      this._words = [];
      for (const part of wordSegmenter.segment(this.text)) {
        if (part.isWordLike) this._words.push([part.index, part.index + part.segment.length]);
      }
    }
    return this._words;
  }

  // The word-like segment with offset strictly inside it, or null.
  wordAround(offset) {
    const words = this.words;
    let low = 0;
    let high = words.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (words[middle][0] < offset) low = middle + 1;
      else high = middle;
    }
    const word = words[low - 1];
    return word && word[0] < offset && offset < word[1] ? word : null;
  }

  // Widen [start, end) (UTF-16) to whole grapheme clusters (and with words, to whole words),
  // then drop whitespace at the edges. Returns null when nothing but whitespace is left.
  snap(start, end, { words = false } = {}) {
    if (end < start) [start, end] = [end, start];
    if (words) {
      start = (this.wordAround(start) || [start])[0];
      end = (this.wordAround(end) || [0, end])[1];
    }
    const boundaries = this.boundaries;
    let first = upperBound(boundaries, start) - 1; // cluster containing start
    let last = lowerBound(boundaries, end); // first boundary at or after end
    first = Math.max(0, first);
    last = Math.min(boundaries.length - 1, last);
    while (first < last && isBlank(this.text.slice(boundaries[first], boundaries[first + 1]))) first += 1;
    while (last > first && isBlank(this.text.slice(boundaries[last - 1], boundaries[last]))) last -= 1;
    if (first >= last) return null;
    return [boundaries[first], boundaries[last]];
  }
}

function isBlank(cluster) {
  return /^\s+$/u.test(cluster);
}

// First index whose value is > target.
function upperBound(values, target) {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (values[middle] <= target) low = middle + 1;
    else high = middle;
  }
  return low;
}

// First index whose value is >= target.
function lowerBound(values, target) {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (values[middle] < target) low = middle + 1;
    else high = middle;
  }
  return low;
}

// -- highlighted text ---------------------------------------------------------------------------

// Render text into container with marks: [{start, end (UTF-16), classes: [...], tag, title,
// id}]. Marks may overlap (evaluation shows expected and predicted spans together): the text is
// cut at every mark boundary and each piece carries the classes of every mark covering it. The
// tag (a label name) is drawn by CSS after the last piece of its mark, so the DOM text stays
// exactly the document's text and DOM offsets equal text offsets. The container takes its
// direction from the text (dir="auto"); studio.css isolates each mark and its tag
// (unicode-bidi), so a Latin tag inside right-to-left text never reorders the words around it.
export function renderMarked(container, text, marks) {
  container.replaceChildren();
  // The text's own direction (Arabic, Hebrew: right to left), whatever the page's is.
  if (!container.hasAttribute("dir")) container.setAttribute("dir", "auto");
  const cuts = new Set([0, text.length]);
  for (const mark of marks) {
    cuts.add(mark.start);
    cuts.add(mark.end);
  }
  const points = [...cuts].filter((point) => point >= 0 && point <= text.length).sort((a, b) => a - b);
  for (let index = 0; index + 1 < points.length; index += 1) {
    const start = points[index];
    const end = points[index + 1];
    const piece = text.slice(start, end);
    const covering = marks.filter((mark) => mark.start <= start && mark.end >= end);
    if (!covering.length) {
      container.append(document.createTextNode(piece));
      continue;
    }
    const element = document.createElement("mark");
    element.textContent = piece;
    for (const mark of covering) element.classList.add(...(mark.classes || []));
    const ending = covering.filter((mark) => mark.end === end && mark.tag);
    if (ending.length) element.dataset.tag = ending.map((mark) => mark.tag).join(" · ");
    const titles = covering.map((mark) => mark.title).filter(Boolean);
    if (titles.length) element.title = titles.join("\n");
    element.dataset.marks = covering.map((mark) => mark.id).join(" ");
    if (covering.length === 1 && covering[0].category) element.dataset.category = covering[0].category;
    container.append(element);
  }
}

// The UTF-16 offset of a DOM point inside container (clamped to the container's text).
export function textOffset(container, node, offset) {
  const whole = document.createRange();
  whole.selectNodeContents(container);
  const position = whole.comparePoint(node, offset);
  if (position < 0) return 0;
  if (position > 0) return container.textContent.length;
  const before = document.createRange();
  before.setStart(container, 0);
  before.setEnd(node, offset);
  return before.toString().length;
}

// The current selection inside container as [start, end) UTF-16 offsets, or null.
export function selectionOffsets(container) {
  const selection = window.getSelection();
  if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
  const range = selection.getRangeAt(0);
  if (!container.contains(range.commonAncestorContainer) && !range.intersectsNode(container)) return null;
  const start = textOffset(container, range.startContainer, range.startOffset);
  const end = textOffset(container, range.endContainer, range.endOffset);
  return start < end ? [start, end] : null;
}

// The UTF-16 offset inside container under the viewport point (x, y), or null outside it.
export function offsetAtPoint(container, x, y) {
  let node = null;
  let offset = 0;
  if (document.caretPositionFromPoint) {
    const position = document.caretPositionFromPoint(x, y);
    if (position) [node, offset] = [position.offsetNode, position.offset];
  } else if (document.caretRangeFromPoint) {
    const range = document.caretRangeFromPoint(x, y);
    if (range) [node, offset] = [range.startContainer, range.startOffset];
  }
  if (!node || !container.contains(node)) return null;
  return textOffset(container, node, offset);
}

// The DOM point at UTF-16 offset inside container.
function domPoint(container, offset) {
  const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
  let remaining = offset;
  let node = walker.nextNode();
  let last = null;
  while (node) {
    if (remaining <= node.data.length) return [node, remaining];
    remaining -= node.data.length;
    last = node;
    node = walker.nextNode();
  }
  return last ? [last, last.data.length] : [container, 0];
}

// Show [start, end) (UTF-16) as the browser's selection.
export function selectOffsets(container, start, end) {
  const range = document.createRange();
  range.setStart(...domPoint(container, start));
  range.setEnd(...domPoint(container, end));
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

// The label colour class of a category (colors.js decides it for every page).
export { colourClass } from "./colors.js";
