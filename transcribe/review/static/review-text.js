// The report's text in the listening pane: one editable block per section, its words linked to the audio.
// The DOM holds text nodes and word spans (with their times); the server keeps plain text. These
// functions go between the two: the plain text of a block, a position in it, a range of it.
"use strict";
window.ReviewText = (function () {
  function isMark(node) { return node.nodeType === 1 && node.dataset && node.dataset.mark !== undefined; }
  function isBlockElement(node) { return node.nodeType === 1 && (node.nodeName === "DIV" || node.nodeName === "P"); }

  // the plain text of a node as the browser shows it: text, line breaks, lines it made as elements
  function textOf(root, keepTrailing) {
    let out = "";
    (function walk(node) {
      node.childNodes.forEach(function (child) {
        if (child.nodeType === 3) out += child.data;
        else if (child.nodeName === "BR") out += "\n";
        else if (child.nodeType === 1 && !isMark(child)) {
          if (isBlockElement(child) && out.length && !out.endsWith("\n")) out += "\n";
          walk(child);
        } else if (child.nodeType === 11) walk(child);
      });
    })(root);
    // a block ending with a line break shows it with one more: the browser's own, not hers
    return !keepTrailing && out.endsWith("\n") ? out.slice(0, -1) : out;
  }

  // a text in the quotation marks of the interface language (labels.quote: "« {text} »")
  function quoted(text, labels) { return (labels.quote || "\"{text}\"").split("{text}").join(text); }

  // the pieces of a block (words with their times, changes, marks) as DOM nodes; the text between them
  // (what she typed, spaces) goes in as few text nodes as it can: a pasted letter is one node, not one per word
  function fill(element, pieces, labels) {
    const nodes = [];
    let plain = "";
    let text = "";
    function flush() {
      if (plain) nodes.push(document.createTextNode(plain));
      plain = "";
    }
    pieces.forEach(function (piece) {
      text += piece.text;
      if (piece.edit !== undefined && piece.text === "") {
        flush();
        const mark = document.createElement("span");
        mark.className = "edit-mark";
        mark.contentEditable = "false";
        mark.dataset.mark = "";
        mark.dataset.edit = piece.edit;
        if (piece.start !== undefined) mark.dataset.start = piece.start;
        mark.title = labels.words_removed + " " + quoted(piece.heard, labels);
        nodes.push(mark);
        return;
      }
      if (piece.start === undefined && piece.edit === undefined && !piece.flags) {
        plain += piece.text;
        return;
      }
      flush();
      const span = document.createElement("span");
      span.className = "word";
      span.textContent = piece.text;
      if (piece.start !== undefined && piece.start !== null) span.dataset.start = piece.start;
      if (piece.end !== undefined && piece.end !== null) span.dataset.end = piece.end;
      if (piece.low) { span.classList.add("low"); span.title = labels.low_confidence; }
      if (piece.flags) { span.classList.add("flagged"); span.dataset.flags = piece.flags.join(" "); }
      if (piece.edit !== undefined) {
        span.classList.add(piece.reverted ? "reverted" : "edit");
        span.dataset.edit = piece.edit;
        span.title = labels.heard + " " + quoted(piece.heard, labels);
      }
      nodes.push(span);
    });
    if (text.endsWith("\n")) plain += "\n";
    flush();
    element.replaceChildren.apply(element, nodes);
  }

  // where the caret (or the selection) stands in a block, as offsets in its plain text; null when elsewhere
  function selectionIn(element) {
    const selection = window.getSelection();
    if (!selection.rangeCount) return null;
    const range = selection.getRangeAt(0);
    if (!element.contains(range.startContainer) || !element.contains(range.endContainer)) return null;
    return { start: offsetOf(element, range.startContainer, range.startOffset),
             end: offsetOf(element, range.endContainer, range.endOffset) };
  }

  // the offset in a block's plain text of a DOM position, counted as textOf counts (no copy of the DOM:
  // this runs at each key and each move of the caret, on reports of tens of thousands of characters)
  function offsetOf(element, node, offset) {
    let count = 0;
    let done = false;
    let last = "";
    function add(text) { if (text) { count += text.length; last = text[text.length - 1]; } }
    function before(container, index) {  // the children of container before index, counted whole
      for (let i = 0; i < index && i < container.childNodes.length; i++) walk(container.childNodes[i]);
    }
    function walk(child) {
      if (done) return;
      if (child === node) {
        if (child.nodeType === 3) add(child.data.slice(0, offset)); else before(child, offset);
        done = true;
        return;
      }
      if (child.nodeType === 3) add(child.data);
      else if (child.nodeName === "BR") add("\n");
      else if (child.nodeType === 1 && !isMark(child)) {
        if (isBlockElement(child) && count && last !== "\n") add("\n");
        if (child.contains(node)) {
          for (let i = 0; i < child.childNodes.length && !done; i++) walk(child.childNodes[i]);
          done = true;
        } else {
          for (let i = 0; i < child.childNodes.length; i++) walk(child.childNodes[i]);
        }
      } else if (child.nodeType === 1 && isMark(child) && child.contains(node)) {
        done = true;
      }
    }
    if (node === element) { before(element, offset); return count; }
    for (let i = 0; i < element.childNodes.length && !done; i++) walk(element.childNodes[i]);
    return count;
  }

  // a DOM position for an offset of a block's plain text
  function positionAt(element, offset) {
    let left = offset;
    let found = null;
    (function walk(node) {
      for (let i = 0; i < node.childNodes.length && !found; i++) {
        const child = node.childNodes[i];
        if (child.nodeType === 3) {
          if (left <= child.data.length) { found = { node: child, offset: left }; return; }
          left -= child.data.length;
        } else if (child.nodeName === "BR") {
          if (left === 0) { found = { node: node, offset: i }; return; }
          left -= 1;
        } else if (child.nodeType === 1 && !isMark(child)) {
          walk(child);
        }
      }
    })(element);
    return found || { node: element, offset: element.childNodes.length };
  }

  function rangeOf(element, start, end) {
    const range = document.createRange();
    const a = positionAt(element, start);
    const b = positionAt(element, end);
    range.setStart(a.node, a.offset);
    range.setEnd(b.node, b.offset);
    return range;
  }

  function select(element, start, end) {
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(rangeOf(element, start, end));
  }

  // write plain text in place of the selection (a paste, a text block), as typing would
  function insertPlain(element, text) {
    const selection = window.getSelection();
    if (!selection.rangeCount) return;
    const range = selection.getRangeAt(0);
    if (!element.contains(range.startContainer)) return;
    range.deleteContents();
    // at the edge of a heard word, the text goes beside it, not into it (it was not heard)
    const host = range.startContainer.nodeType === 3 ? range.startContainer.parentElement : null;
    if (host && host !== element && host.classList.contains("word") && range.collapsed) {
      if (range.startOffset === range.startContainer.data.length) range.setStartAfter(host);
      else if (range.startOffset === 0) range.setStartBefore(host);
      range.collapse(true);
    }
    const node = document.createTextNode(text);
    range.insertNode(node);
    range.setStartAfter(node);
    range.collapse(true);
    selection.removeAllRanges();
    selection.addRange(range);
    element.normalize();
    element.dispatchEvent(new Event("input", { bubbles: true }));
  }

  return { textOf: textOf, fill: fill, selectionIn: selectionIn, rangeOf: rangeOf, select: select,
           insertPlain: insertPlain };
})();
