// Palimpsest: small enhancements on top of pages that work without JavaScript.
// No inline handlers, no eval: the Content Security Policy forbids both.
(function () {
  "use strict";

  function typingInField(event) {
    const el = event.target;
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  // Compare page: n / j = next change, p / k = previous change, c = toggle "changes only".
  function changes() {
    return Array.from(document.querySelectorAll("[data-change]"));
  }

  function currentIndex(list) {
    const current = document.querySelector(".diff-row.current");
    if (current) return list.indexOf(current);
    // Nothing selected yet: start from the first change below the top of the window.
    const firstBelow = list.findIndex((el) => el.getBoundingClientRect().top > 80);
    return firstBelow === -1 ? list.length : firstBelow - 1;
  }

  function goTo(list, index) {
    if (!list.length) return;
    const target = list[Math.max(0, Math.min(index, list.length - 1))];
    document.querySelectorAll(".diff-row.current").forEach((el) => el.classList.remove("current"));
    target.classList.add("current");
    target.scrollIntoView({ block: "start" });
    target.focus({ preventScroll: true });
    history.replaceState(null, "", "#" + target.id);
  }

  function toggleChangesOnly() {
    const box = document.getElementById("changes-only");
    if (!box) return;
    box.checked = !box.checked;
    box.dispatchEvent(new Event("change", { bubbles: true }));
  }

  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "changes-only") {
      const container = document.getElementById("comparison");
      if (container) container.classList.toggle("changes-only", event.target.checked);
      const url = new URL(window.location.href);
      if (event.target.checked) url.searchParams.set("changes", "only");
      else url.searchParams.delete("changes");
      history.replaceState(null, "", url);
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typingInField(event)) return;
    if (!document.getElementById("comparison")) return;
    const list = changes().filter((el) => el.offsetParent !== null);
    if (event.key === "n" || event.key === "j") {
      goTo(list, currentIndex(list) + 1);
      event.preventDefault();
    } else if (event.key === "p" || event.key === "k") {
      goTo(list, currentIndex(list) - 1);
      event.preventDefault();
    } else if (event.key === "c") {
      toggleChangesOnly();
      event.preventDefault();
    }
  });

  // Review queue: a review's Undo button is offered for a few seconds, then withdrawn (the
  // server refuses a late undo anyway). Runs for the page and for every fragment htmx swaps in.
  function armUndo(root) {
    if (!root || !root.querySelectorAll) return;
    const notices = Array.from(root.querySelectorAll("[data-undo-seconds]"));
    if (root.matches && root.matches("[data-undo-seconds]")) notices.push(root);
    notices.forEach(function (notice) {
      window.setTimeout(function () {
        const form = notice.querySelector(".undo-form");
        if (form) form.remove();
      }, Number(notice.dataset.undoSeconds) * 1000);
    });
  }

  document.addEventListener("htmx:load", function (event) {
    armUndo(event.detail && event.detail.elt);
  });

  // Adjudication: on a focused category, g accepts it into gold and x rejects it.
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typingInField(event)) return;
    const choice = document.activeElement && document.activeElement.closest(".choice");
    if (!choice) return;
    const selector = { g: "[data-accept]", x: "[data-reject]" }[event.key];
    const button = selector && choice.querySelector(selector);
    if (button) {
      event.preventDefault();
      button.click();
    }
  });
})();
