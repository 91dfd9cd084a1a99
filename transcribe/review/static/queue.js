// The worklist: filters and sorting apply at once, and it refreshes on its own when new drafts arrive.
"use strict";
(function () {
  const script = document.currentScript;
  const labels = script.dataset;
  const form = document.getElementById("filters");
  const table = document.querySelector("#queue tbody");
  const counts = document.getElementById("counts");
  let last = "";
  let typing = null;

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function cell(row, className) {
    const td = element("td", null, className);
    row.appendChild(td);
    return td;
  }

  function rowOf(item) {
    const row = document.createElement("tr");
    row.dataset.job = item.id;
    row.className = (item.urgent ? "urgent" : "") + (item.overdue ? " overdue" : "");
    const urgent = cell(row);
    if (item.urgent) {
      const mark = element("span", "!", "urgent-mark");
      mark.title = labels.urgent;
      urgent.appendChild(mark);
    }
    const patient = cell(row, "patient");
    if (item.patient_id) {
      patient.appendChild(element("span", item.patient_name || "?", "name"));
      patient.appendChild(document.createTextNode(" "));
      patient.appendChild(element("span", labels.ipp + " " + item.patient_id, "ipp"));
      if (!item.patient_chosen) patient.appendChild(element("span", " (" + labels.proposed + ")", "proposed"));
    } else if (item.carried) {  // what the dictation says of its patient, before anyone chose one
      const who = [item.carried.name || (labels.ipp + " " + item.carried.id), item.carried.birth_date].filter(Boolean).join(" ");
      patient.appendChild(element("span", who + " (" + item.carried.source + ")", "carried"));
    }
    cell(row, "file").textContent = item.file_name;
    const author = cell(row, "author");
    author.textContent = item.author_name;
    author.title = item.author;
    cell(row, "dictated").textContent = item.dictated;
    const due = cell(row, "due");
    due.textContent = item.due;
    if (item.overdue) {
      due.appendChild(document.createTextNode(" "));
      due.appendChild(element("span", labels.overdue, "overdue-mark"));
    }
    cell(row, "duration").textContent = item.duration;
    cell(row, "worktype").textContent = item.worktype_label;
    cell(row, "flags").textContent = String(item.flags);
    const state = cell(row, "state");
    state.textContent = item.state_label;
    if (item.awaiting_signature) state.appendChild(element("span", " (" + item.waits_label + ")", "waits"));
    if (item.thread.length) {
      const details = element("details", null, "thread");
      details.appendChild(element("summary", labels.thread + " (" + item.thread.length + ")"));
      item.thread.forEach(function (message) {
        const p = document.createElement("p");
        p.appendChild(element("b", message.by));
        p.appendChild(document.createTextNode(" — " + message.text));
        details.appendChild(p);
      });
      state.appendChild(details);
    }
    const holder = cell(row, "holder");
    if (item.holder) holder.appendChild(element("span", labels.locked + " " + item.holder, "lock"));
    const open = element("a", labels.open, "open");
    open.href = "/review/" + item.id;
    cell(row).appendChild(open);
    return row;
  }

  function render(data) {
    const opened = new Set(Array.from(table.querySelectorAll("details[open]")).map(function (d) {
      return d.closest("tr").dataset.job;
    }));
    const focused = table.contains(document.activeElement) ? document.activeElement.closest("tr").dataset.job : null;
    table.replaceChildren();
    data.items.forEach(function (item) {
      const row = rowOf(item);
      const details = row.querySelector("details");
      if (details && opened.has(String(item.id))) details.open = true;
      table.appendChild(row);
    });
    if (focused) {  // a refresh does not take the keyboard away from the row she was on
      const again = table.querySelector('tr[data-job="' + focused + '"] a.open') || firstLink();
      if (again) again.focus();
    }
    if (!data.items.length) {
      const row = element("tr", null, "empty");
      const td = cell(row);
      td.textContent = labels.empty;
      td.colSpan = 12;
      table.appendChild(row);
    }
    counts.replaceChildren(document.createTextNode(labels.counts + " "));
    data.counts.forEach(function (c) {
      const link = element("a", c.label + " " + c.count, "count");
      link.href = "/queue?status=" + c.state;
      link.dataset.state = c.state;
      counts.appendChild(link);
    });
  }

  function showSort(params) {
    const sort = params.get("sort");
    const order = params.get("order") === "desc" ? "desc" : "asc";
    document.querySelectorAll("#queue th[data-column]").forEach(function (th) {
      const sorted = th.dataset.column === sort;
      if (sorted) th.setAttribute("aria-sort", order === "desc" ? "descending" : "ascending");
      else th.removeAttribute("aria-sort");
      th.querySelector(".arrow").textContent = sorted ? (order === "desc" ? " ▼" : " ▲") : "";
    });
  }

  async function refresh() {
    const search = window.location.search;
    try {
      const response = await fetch("/api/queue" + search, { credentials: "same-origin" });
      if (!response.ok || search !== window.location.search) return;  // the filters changed meanwhile
      const data = await response.json();
      const signature = search + JSON.stringify(data);
      if (signature !== last) {
        last = signature;
        render(data);
      }
      table.dataset.shown = search;
    } catch (e) { /* the next refresh tries again */ }
  }

  // the filters, the search and the sort live in the address, so that a reload keeps them
  function apply() {
    const params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) { if (value !== "") params.set(key, value); });
    const query = params.toString();
    history.replaceState(null, "", "/queue" + (query ? "?" + query : ""));
    showSort(params);
    refresh();
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
  form.addEventListener("change", function (event) {
    if (event.target.id === "mine-filter") {
      const status = document.getElementById("status-filter");
      if (event.target.checked && status.value === "drafted") status.value = "all";
      if (!event.target.checked && status.value === "all") status.value = "drafted";
    }
    if (event.target.name !== "q") apply();
  });
  document.getElementById("search").addEventListener("input", function () {
    clearTimeout(typing);
    typing = setTimeout(apply, 300);
  });
  document.querySelectorAll("#queue a.sort").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      const sort = form.elements.sort;
      const order = form.elements.order;
      order.value = sort.value === link.dataset.sort && order.value !== "desc" ? "desc" : "asc";
      sort.value = link.dataset.sort;
      apply();
    });
  });
  // the keyboard: the first report's link has the focus when the list opens (Enter opens it); the arrows go
  // from row to row, and from the search box to the list
  function firstLink() { return table.querySelector("tr[data-job] a.open"); }

  function links() { return Array.from(table.querySelectorAll("tr[data-job] a.open")); }

  table.addEventListener("keydown", function (event) {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const all = links();
    const at = all.indexOf(document.activeElement);
    if (at < 0) return;
    event.preventDefault();
    const next = all[Math.max(0, Math.min(all.length - 1, at + (event.key === "ArrowDown" ? 1 : -1)))];
    if (next) next.focus();
  });
  document.getElementById("search").addEventListener("keydown", function (event) {
    if (event.key !== "ArrowDown" && event.key !== "Enter") return;
    event.preventDefault();
    clearTimeout(typing);
    apply();
    const wait = setInterval(function () {
      if (table.dataset.shown !== window.location.search) return;
      clearInterval(wait);
      const first = firstLink();
      if (first) first.focus();
    }, 50);
  });

  const first = firstLink();
  if (first && document.activeElement === document.body) first.focus();
  refresh();
  setInterval(refresh, 5000);
})();
