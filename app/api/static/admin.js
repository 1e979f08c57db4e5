// The admins' page: everyone who signs in, with their role, skills, languages, channels and
// capacities; the router uses a change from its next decision.

import { api as call, signOut, signedIn } from "/static/session.js";

const $ = (id) => document.getElementById(id);
let csrfToken = "";
let editing = null; // the id of the person in the form, or null for a new one
const api = (path, options) => call(csrfToken, path, options);

const pairs = (map) => Object.entries(map).map(([key, value]) => `${key}=${value}`).join(", ");
const list = (text) => text.split(",").map((item) => item.trim()).filter(Boolean);

function parsePairs(text, field) {
  const parsed = {};
  for (const item of list(text)) {
    const [key, value] = item.split("=").map((part) => part.trim());
    if (!key || !/^\d+$/.test(value || "")) throw new Error(`${field}: write name=number, not "${item}"`);
    parsed[key] = Number(value);
  }
  return parsed;
}

function say(text, isError = false) {
  $("error").textContent = isError ? text : "";
  $("notice").textContent = isError ? "" : text;
}

async function load() {
  const people = await api("/api/admin/people");
  const body = $("people");
  body.replaceChildren();
  for (const person of people) {
    const row = document.createElement("tr");
    row.dataset.email = person.email;
    const cells = [
      person.name,
      person.email,
      person.role.replace("_", " "),
      pairs(person.skills),
      person.languages.join(", "),
      pairs(person.capacity),
      person.teams.join(", "),
      person.presence,
    ];
    for (const text of cells) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    const edit = document.createElement("button");
    edit.type = "button";
    edit.className = "secondary";
    edit.textContent = "Edit";
    edit.setAttribute("aria-label", `Edit ${person.name}`);
    edit.addEventListener("click", () => fill(person));
    const token = document.createElement("button");
    token.type = "button";
    token.className = "secondary";
    token.textContent = "New token";
    token.setAttribute("aria-label", `New token for ${person.name}`);
    token.addEventListener("click", () => replaceToken(person));
    const cell = document.createElement("td");
    cell.append(edit, " ", token);
    row.append(cell);
    body.append(row);
  }
}

function fill(person) {
  editing = person ? person.id : null;
  $("form-title").textContent = person ? `Change ${person.name}` : "Add someone";
  $("name").value = person ? person.name : "";
  $("email").value = person ? person.email : "";
  $("email").disabled = Boolean(person);
  $("role").value = person ? person.role : "agent";
  $("password").value = "";
  $("skills").value = person ? pairs(person.skills) : "";
  $("languages").value = person ? person.languages.join(", ") : "en";
  $("capacity").value = person ? pairs(person.capacity) : "webchat=3";
  $("teams").value = person ? person.teams.join(", ") : "";
  say("");
  $("name").focus();
}

// A new API token ends the old one at once, wherever it is used: asked first, and shown only here.
async function replaceToken(person) {
  if (!confirm(`Give ${person.name} a new API token? Their current token stops working at once.`)) return;
  try {
    const replaced = await api(`/api/admin/people/${person.id}/token`, { method: "POST" });
    say(`New API token for ${replaced.person.name}, shown once: ${replaced.token} (the old one no longer works)`);
  } catch (error) {
    say(error.message, true);
  }
}

async function save(event) {
  event.preventDefault();
  try {
    const body = {
      name: $("name").value,
      role: $("role").value,
      skills: parsePairs($("skills").value, "Skills"),
      languages: list($("languages").value),
      capacity: parsePairs($("capacity").value, "Channels"),
      teams: list($("teams").value),
    };
    if ($("password").value) body.password = $("password").value;
    if (editing === null) {
      const created = await api("/api/admin/people", { method: "POST", body: { ...body, email: $("email").value } });
      fill(null);
      say(`Added ${created.person.name}. Their API token, shown once: ${created.token}`);
    } else {
      const changed = await api(`/api/admin/people/${editing}`, { method: "PATCH", body });
      say(`Saved ${changed.name}.`);
    }
    await load();
  } catch (error) {
    say(error.message, true);
  }
}

$("person-form").addEventListener("submit", save);
$("new-person").addEventListener("click", () => fill(null));
$("sign-out").addEventListener("click", () => signOut(csrfToken));

const me = await signedIn("/admin");
csrfToken = me.csrf_token;
$("status").textContent = me.person.name;
if (me.person.role !== "admin") {
  $("access-error").textContent = `${me.person.name} is signed in, but only admins manage people.`;
} else {
  $("workspace").hidden = false;
  fill(null);
  await load();
}
