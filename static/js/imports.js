// Palimpsest, the upload form: drag and drop onto the file input, the chosen files listed before
// upload, the upload's limits checked before sending. Progressive enhancement: without this
// script the plain <input type=file multiple> works, and the server checks the same limits.
(function () {
  "use strict";

  const zone = document.getElementById("drop-zone");
  const input = document.getElementById("id_files");
  const form = document.getElementById("upload-form");
  if (!zone || !input || !form) return;

  const maxFiles = Number(zone.dataset.maxFiles);
  const maxUploadBytes = Number(zone.dataset.maxUploadBytes);
  const maxFileBytes = Number(zone.dataset.maxFileBytes);
  const archive = /\.(zip|tar|tgz|tbz2|txz|tar\.gz|tar\.bz2|tar\.xz)$/i;
  const summary = document.getElementById("file-summary");
  const count = document.getElementById("file-count");
  const list = document.getElementById("file-list");
  const button = document.getElementById("start-import");

  function size(bytes) {
    const units = ["bytes", "KB", "MB", "GB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return (unit === 0 ? String(value) : value.toFixed(1).replace(/\.0$/, "")) + " " + units[unit];
  }

  function problems(files) {
    const found = [];
    const total = files.reduce((sum, file) => sum + file.size, 0);
    if (files.length > maxFiles) {
      found.push(
        "Too many files: at most " + maxFiles + " per upload. Put them in a .zip or .tar.gz archive, or upload them in several goes."
      );
    }
    if (total > maxUploadBytes) {
      found.push("The upload is " + size(total) + ", over the " + size(maxUploadBytes) + " limit for one upload. Split it into several uploads.");
    }
    return found;
  }

  function item(text, className) {
    const li = document.createElement("li");
    li.textContent = text;
    if (className) li.className = className;
    return li;
  }

  function render() {
    const files = Array.from(input.files || []);
    list.replaceChildren();
    summary.hidden = files.length === 0;
    if (!files.length) return;
    const total = files.reduce((sum, file) => sum + file.size, 0);
    count.textContent = files.length + (files.length === 1 ? " file, " : " files, ") + size(total) + ":";
    for (const file of files) {
      const tooBig = !archive.test(file.name) && file.size > maxFileBytes;
      list.append(
        item(
          file.name + " (" + size(file.size) + ")" + (tooBig ? ": over the " + size(maxFileBytes) + " limit, will be reported as failed" : ""),
          tooBig ? "error" : ""
        )
      );
    }
    for (const problem of problems(files)) list.append(item(problem, "error"));
  }

  function addFiles(dropped) {
    // A drop adds to what is already chosen; DataTransfer is how a script may set input.files.
    const transfer = new DataTransfer();
    for (const file of Array.from(input.files || [])) transfer.items.add(file);
    for (const file of Array.from(dropped)) transfer.items.add(file);
    input.files = transfer.files;
    render();
  }

  document.getElementById("drop-hint").hidden = false;
  zone.classList.add("droppable");

  ["dragenter", "dragover"].forEach((type) =>
    zone.addEventListener(type, (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    })
  );
  ["dragleave", "dragend"].forEach((type) =>
    zone.addEventListener(type, (event) => {
      if (!zone.contains(event.relatedTarget)) zone.classList.remove("dragging");
    })
  );
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    if (event.dataTransfer && event.dataTransfer.files.length) addFiles(event.dataTransfer.files);
  });
  // A file dropped just outside the zone must not make the browser navigate away to it.
  ["dragover", "drop"].forEach((type) =>
    document.addEventListener(type, (event) => {
      if (!zone.contains(event.target)) event.preventDefault();
    })
  );

  input.addEventListener("change", render);

  form.addEventListener("submit", (event) => {
    const found = problems(Array.from(input.files || []));
    if (found.length) {
      event.preventDefault();
      render();
      list.lastElementChild?.scrollIntoView({ block: "nearest" });
      return;
    }
    // One upload per click: a second submit would start a second run.
    button.disabled = true;
    button.textContent = "Uploading…";
  });

  // Coming back with the browser's back button restores the page as it was left.
  window.addEventListener("pageshow", () => {
    button.disabled = false;
    button.textContent = "Start import";
    render();
  });
})();
