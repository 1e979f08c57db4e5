// The supervisor's view: queues by channel and skill with their waits and SLA, each person's status
// and load, alerts, and moving a chat to someone else. Refreshed every few seconds.

import { api as call, signOut, signedIn } from "/static/session.js";

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 3000;
let csrfToken = "";
const api = (path, options) => call(csrfToken, path, options);

function seconds(value) {
  const s = Math.round(value);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${s % 60}s`;
}

function row(cells, risky = false) {
  const tr = document.createElement("tr");
  if (risky) tr.className = "risky";
  for (const text of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.append(td);
  }
  return tr;
}

function draw(overview, alerts) {
  $("queues").replaceChildren(
    ...overview.queues.map((q) =>
      row(
        [q.channel, q.skills.join(", ") || "any", q.waiting, q.offered, seconds(q.oldest_wait_seconds), q.at_risk, q.breached],
        q.at_risk + q.breached > 0,
      ),
    ),
  );
  if (!overview.queues.length) $("queues").append(row(["Nothing waiting", "", "", "", "", "", ""]));
  $("team").replaceChildren(
    ...overview.people.map((p) => {
      const load = Object.entries(p.capacity)
        .map(([channel, most]) => `${channel} ${p.load[channel] || 0}/${most}`)
        .join(", ");
      const tr = row([`${p.name} (#${p.id})`, p.presence, load || "–", p.offers_open, p.missed_offers, p.conversations.length]);
      tr.dataset.name = p.name;
      return tr;
    }),
  );
  const chosen = $("conversation").value;
  const options = overview.people.flatMap((p) =>
    p.conversations.map((id) => {
      const option = document.createElement("option");
      option.value = id;
      option.textContent = `${p.name}: ${id.slice(0, 8)}`;
      return option;
    }),
  );
  $("conversation").replaceChildren(...options);
  if (options.some((o) => o.value === chosen)) $("conversation").value = chosen;
  $("alerts").replaceChildren(
    ...alerts.slice(0, 30).map((alert) => {
      const item = document.createElement("li");
      item.className = "alert";
      item.textContent = `${new Date(alert.created_at).toLocaleTimeString()} · ${alert.message}`;
      return item;
    }),
  );
  $("updated").textContent = `updated ${new Date(overview.at).toLocaleTimeString()}`;
}

async function refresh() {
  try {
    const [overview, alerts] = await Promise.all([api("/api/assignment/overview"), api("/api/assignment/alerts")]);
    draw(overview, alerts);
  } catch (error) {
    $("error").textContent = error.message;
  }
}

$("reassign-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const target = $("target").value.trim();
  const body = /^\d+$/.test(target) ? { to_agent_id: Number(target) } : { to_team: target };
  try {
    await api(`/api/assignment/conversations/${$("conversation").value}/reassign`, {
      method: "POST",
      body: { ...body, note: $("note").value },
    });
    $("error").textContent = "";
    $("notice").textContent = `Offered to ${target}.`;
    $("note").value = "";
    await refresh();
  } catch (error) {
    $("notice").textContent = "";
    $("error").textContent = error.message;
  }
});
$("sign-out").addEventListener("click", () => signOut(csrfToken));

async function loadCanned() {
  const items = await api("/api/canned");
  $("canned").replaceChildren(
    ...items.map((item) => {
      const li = document.createElement("li");
      li.textContent = `/${item.shortcut} · ${item.title}: ${item.text}`;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "secondary";
      remove.textContent = "Delete";
      remove.setAttribute("aria-label", `Delete /${item.shortcut}`);
      remove.onclick = async () => {
        await api(`/api/canned/${item.shortcut}`, { method: "DELETE" });
        await loadCanned();
      };
      li.append(" ", remove);
      return li;
    }),
  );
}

$("canned-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const shortcut = $("canned-shortcut").value.trim().toLowerCase();
  try {
    await api(`/api/canned/${encodeURIComponent(shortcut)}`, {
      method: "PUT",
      body: { shortcut, title: $("canned-title").value, text: $("canned-text").value },
    });
    $("canned-error").textContent = "";
    $("canned-form").reset();
    await loadCanned();
  } catch (error) {
    $("canned-error").textContent = error.message;
  }
});

const me = await signedIn("/supervisor");
csrfToken = me.csrf_token;
$("status").textContent = me.person.name;
if (!["supervisor", "admin"].includes(me.person.role)) {
  $("access-error").textContent = `${me.person.name} is signed in, but only supervisors watch the queues.`;
} else {
  $("workspace").hidden = false;
  await Promise.all([refresh(), loadCanned()]);
  setInterval(refresh, REFRESH_MS);
}
