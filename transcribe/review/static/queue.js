// The review queue refreshes on its own when new drafts arrive.
"use strict";
(function () {
  const script = document.currentScript;
  const table = document.querySelector("#queue tbody");
  const counts = document.getElementById("counts");
  let last = "";

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  async function refresh() {
    try {
      const response = await fetch("/api/queue" + window.location.search, { credentials: "same-origin" });
      if (!response.ok) return;
      const data = await response.json();
      const signature = JSON.stringify(data);
      if (signature === last) return;
      last = signature;
      table.replaceChildren();
      data.items.forEach(function (item) {
        const row = document.createElement("tr");
        row.dataset.job = item.id;
        if (item.urgent) row.className = "urgent";
        [item.id, item.urgent ? "!" : "", item.author, item.worktype, item.patient, item.language, item.duration,
          item.due, item.age_minutes + " min", item.flags].forEach(function (value) { cell(row, String(value)); });
        const last = cell(row, "");
        if (item.locked_by) {
          const lock = document.createElement("span");
          lock.className = "lock";
          lock.textContent = script.dataset.locked + " " + item.locked_by + " ";
          last.appendChild(lock);
        }
        const link = document.createElement("a");
        link.href = "/review/" + item.id;
        link.textContent = script.dataset.open;
        last.appendChild(link);
        table.appendChild(row);
      });
      if (!data.items.length) {
        const row = document.createElement("tr");
        row.className = "empty";
        const td = cell(row, script.dataset.empty);
        td.colSpan = 11;
        table.appendChild(row);
      }
      counts.textContent = Object.entries(data.counts).map(function (e) { return e[0] + " " + e[1]; }).join(" · ");
    } catch (e) { /* the next refresh tries again */ }
  }
  refresh();
  setInterval(refresh, 5000);
})();
