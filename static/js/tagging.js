// Tagging in the reader: click a clause or select words, then pick a category (click or key).
// Offsets come from the clause fragments the server marked: a fragment holds one text node and
// knows its offset in the section text (data-frag), so no DOM walking is needed.
(function () {
  "use strict";

  const policy = document.getElementById("policy");
  const picker = document.getElementById("tag-picker");
  if (!policy || !picker || !policy.hasAttribute("data-can-tag")) return;

  let current = null; // the clause element the keyboard is on

  function fragmentOf(node) {
    const el = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
    return el ? el.closest("span.clause[data-frag]") : null;
  }

  // The section text between two offsets, rebuilt from the fragments (blocks are joined by "\n").
  function sectionText(section, start, end) {
    let text = "";
    let at = null;
    for (const frag of section.querySelectorAll("span.clause[data-frag]")) {
      const from = Number(frag.dataset.frag);
      const piece = frag.textContent;
      if (at !== null && from > at) text += "\n".repeat(from - at);
      if (at === null) at = from;
      if (from >= at) {
        text += piece;
        at = from + piece.length;
      }
      if (at >= end) break;
    }
    const first = Number(section.querySelector("span.clause[data-frag]").dataset.frag);
    return text.slice(start - first, end - first);
  }

  // A selection that starts or ends inside a word is widened to whole words (the server
  // refuses partial words), and outer spaces are dropped; the picker says when it changed.
  const WORD = /[\p{L}\p{N}]/u;

  function snapToWords(section, start, end) {
    const first = Number(section.querySelector("span.clause[data-frag]").dataset.frag);
    const text = sectionText(section, first, Infinity);
    const at = (offset) => text.charAt(offset - first);
    const from = start;
    const to = end;
    while (start < end && /\s/.test(at(start))) start++;
    while (end > start && /\s/.test(at(end - 1))) end--;
    while (start > first && WORD.test(at(start - 1)) && WORD.test(at(start))) start--;
    while (end - first < text.length && WORD.test(at(end - 1)) && WORD.test(at(end))) end++;
    const widened = start < from || end > to;
    return { start: start, end: end, widened: widened };
  }

  function offsetIn(node, offset) {
    const frag = fragmentOf(node);
    if (!frag) return null;
    if (node.nodeType !== Node.TEXT_NODE) offset = offset > 0 ? frag.textContent.length : 0;
    return Number(frag.dataset.frag) + offset;
  }

  function open(section, start, end, anchorEl, widened, link) {
    const quote = sectionText(section, start, end);
    if (!quote.trim()) return;
    picker.querySelector(".picker-widened").hidden = !widened;
    const linkNote = picker.querySelector(".picker-link");
    linkNote.hidden = !link;
    if (link) linkNote.querySelector("a").href = link.href;
    picker.elements.section.value = section.dataset.section;
    picker.elements.start.value = start;
    picker.elements.end.value = end;
    picker.elements.quote.value = quote;
    picker.setAttribute("hx-target", 'section[data-section="' + section.dataset.section + '"]');
    picker.querySelector(".picker-quote").textContent =
      "“" + (quote.length > 160 ? quote.slice(0, 157) + "…" : quote) + "”";
    picker.hidden = false;
    const box = anchorEl.getBoundingClientRect();
    picker.style.top = window.scrollY + box.bottom + 6 + "px";
    picker.style.left = Math.max(8, Math.min(window.scrollX + box.left, window.innerWidth - 380)) + "px";
    picker.querySelector(".picker-button").focus({ preventScroll: true });
    // Opened low on the screen, the picker's last buttons would hang below the window.
    picker.scrollIntoView({ block: "nearest" });
  }

  // A click (not requestSubmit) so htmx sends this button's category as the submitter.
  function choose(button) {
    button.focus({ preventScroll: true });
    button.click();
  }

  function close() {
    picker.hidden = true;
    if (current) current.focus({ preventScroll: true });
  }

  function clauseElements() {
    const seen = new Set();
    return Array.from(policy.querySelectorAll("span.clause[data-clause]")).filter((el) => {
      const key = el.closest("section").dataset.section + ":" + el.dataset.clause;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  function setCurrent(el) {
    document.querySelectorAll(".clause.current").forEach((c) => c.classList.remove("current"));
    current = el;
    if (!el) return;
    const section = el.closest("section");
    section
      .querySelectorAll('span.clause[data-clause="' + el.dataset.clause + '"]')
      .forEach((c) => c.classList.add("current"));
    el.setAttribute("tabindex", "-1");
    el.focus({ preventScroll: true });
    el.scrollIntoView({ block: "nearest" });
  }

  function openForClause(el) {
    const section = el.closest("section");
    open(section, Number(el.dataset.start), Number(el.dataset.end), el);
  }

  policy.addEventListener("mouseup", function (event) {
    if (event.target.closest("a, button, select, input, form")) return;
    const selection = window.getSelection();
    if (selection && !selection.isCollapsed) {
      const range = selection.getRangeAt(0);
      const a = fragmentOf(range.startContainer);
      const b = fragmentOf(range.endContainer);
      if (!a || !b) return;
      const section = a.closest("section");
      if (section !== b.closest("section")) return; // one section at a time
      const start = offsetIn(range.startContainer, range.startOffset);
      const end = offsetIn(range.endContainer, range.endOffset);
      if (start !== null && end !== null && end > start) {
        const words = snapToWords(section, start, end);
        if (words.end > words.start) open(section, words.start, words.end, b, words.widened);
      }
      return;
    }
    const clause = event.target.closest("span.clause[data-clause]");
    if (clause) {
      setCurrent(clause);
      openForClause(clause);
    }
  });

  picker.addEventListener("click", function (event) {
    if (event.target.closest(".picker-close")) close();
  });

  // A clause inside a link (an opt-out URL written as its own link) is tagged by clicking it
  // like any clause: while tagging is on, a plain click opens the picker, which offers the link;
  // a Ctrl-, Cmd-, Shift- or middle click still opens the link.
  policy.addEventListener("click", function (event) {
    const link = event.target.closest("a[href]");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    const clause = event.target.closest("span.clause[data-clause]") || link.querySelector("span.clause[data-clause]");
    const selection = window.getSelection();
    if (!clause || (selection && !selection.isCollapsed)) return;
    event.preventDefault();
    setCurrent(clause);
    open(clause.closest("section"), Number(clause.dataset.start), Number(clause.dataset.end), clause, false, link);
  });

  // After a tag is saved, the section is swapped; close the picker and keep the place.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.closest && event.target.closest("#policy")) {
      picker.hidden = true;
      picker.elements.note.value = "";
      // The swap replaced the current clause's element: keep the keyboard's place on its copy,
      // or j would start again from the top of the policy.
      if (current && !current.isConnected) {
        const id = current.closest("section").dataset.section;
        const section = policy.querySelector('section[data-section="' + id + '"]');
        setCurrent(section && section.querySelector('span.clause[data-clause="' + current.dataset.clause + '"]'));
      }
    }
  });

  // The accept or reject control of the first suggestion on the keyboard's current sentence.
  function suggestionControl(clause, selector) {
    const start = Number(clause.dataset.start), end = Number(clause.dataset.end);
    const items = clause.closest("section").querySelectorAll("[data-suggestion]");
    for (const item of items) {
      if (Number(item.dataset.start) < end && Number(item.dataset.end) > start) {
        return item.querySelector(selector);
      }
    }
    return null;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName);
    if (!picker.hidden) {
      if (event.key === "Escape") {
        close();
        event.preventDefault();
      } else if (!typing) {
        const button = picker.querySelector('.picker-button[data-key="' + event.key + '"]');
        if (button) {
          choose(button);
          event.preventDefault();
        }
      }
      return;
    }
    if (typing) return;
    if (event.key === "j" || event.key === "k") {
      const list = clauseElements();
      let index = current ? list.findIndex((c) => c.closest("section") === current.closest("section") && c.dataset.clause === current.dataset.clause) : -1;
      index = event.key === "j" ? index + 1 : Math.max(0, index - 1);
      if (list[index]) setCurrent(list[index]);
      event.preventDefault();
    } else if (event.key === "Enter" && current) {
      openForClause(current);
      event.preventDefault();
    } else if (event.key === "A" && event.shiftKey) {
      const all = document.querySelector("[data-accept-all]");
      if (all) all.click();
      event.preventDefault();
    } else if ((event.key === "a" || event.key === "x") && current) {
      const control = suggestionControl(current, event.key === "a" ? "[data-accept]" : "[data-reject]");
      if (control) control.click();
      event.preventDefault();
    } else if (current && /^[0-9]$/.test(event.key)) {
      openForClause(current);
      const button = picker.querySelector('.picker-button[data-key="' + event.key + '"]');
      if (button) choose(button);
      event.preventDefault();
    }
  });
})();
