// gapwatch console: refreshes the sensor health card on the overview every 5 s.
"use strict";
(function () {
  const card = document.getElementById("health");
  if (!card) { return; }
  function cell(label, value) {
    for (const row of card.querySelectorAll("tr")) {
      const th = row.querySelector("th");
      if (th && th.textContent === label) { row.querySelector("td").textContent = value; }
    }
  }
  async function refresh() {
    try {
      const r = await fetch("/api/v1/health", { credentials: "same-origin" });
      if (!r.ok) { return; }
      const h = await r.json();
      cell("State", h.running ? "running" : "stopped");
      cell("Packets", String(h.packets));
      cell("Packets/s", String(Math.round(h.packets_per_sec)));
      cell("Drops", String(h.drops));
      cell("Flow evictions", String(h.evictions));
      if (h.last_packet) { cell("Last packet", h.last_packet); }
      if (h.learning_progress !== null && h.learning_progress < 1) {
        cell("Learning", Math.round(h.learning_progress * 100) + " %, until " + h.learning_until);
      }
    } catch (e) { /* the next tick tries again */ }
  }
  setInterval(refresh, 5000);
})();
