// The agent console: one websocket carries offers and messages in, and commands out (protocol 2,
// docs/realtime.md). Every command has an id; the server answers each with an ack or an error. A
// "welcome" snapshot after each (re)connection replaces the whole state, and the events numbered
// after the last one this page saw follow it, so a dropped connection never leaves the page stale.

import { bubble } from "/static/bubble.js";
import { signOut, signedIn } from "/static/session.js";

const WHO = { customer: "Customer", bot: "Bot", agent: "You", system: "" };
const $ = (id) => document.getElementById(id);

const state = {
  agent: null,
  alerts: [],
  offers: new Map(), // offer id -> offer event
  conversations: new Map(), // conversation id -> { conversation, history: Map(seq -> message), unread }
  selected: null,
  typing: new Map(), // conversation id -> until when (ms) the customer counts as typing
};
let socket = null;
let nextCommand = 1;
const waiting = new Map(); // command id -> callback(answer)
let retryDelay = 500;
let csrfToken = "";
let lastSeq = null; // the number of the newest feed event applied; null before the first welcome

function command(type, fields, onAnswer) {
  const id = String(nextCommand++);
  if (onAnswer) waiting.set(id, onAnswer);
  socket.send(JSON.stringify({ id, type, ...fields }));
}

function showError(text) {
  $("detail-error").textContent = text;
}

function storeConversation(view) {
  const existing = state.conversations.get(view.conversation.id);
  const history = existing ? existing.history : new Map();
  for (const message of view.history) history.set(message.seq, message);
  state.conversations.set(view.conversation.id, {
    conversation: view.conversation,
    history,
    unread: existing ? existing.unread : 0,
  });
}

// A short two-note chime for a new offer (browsers play it once the page has had a click or a key).
let audio = null;
function chime() {
  try {
    audio = audio || new AudioContext();
    for (const [index, frequency] of [660, 880].entries()) {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      const start = audio.currentTime + index * 0.15;
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.08, start);
      gain.gain.exponentialRampToValueAtTime(0.001, start + 0.3);
      tone.connect(gain).connect(audio.destination);
      tone.start(start);
      tone.stop(start + 0.3);
    }
  } catch {
    // No audio here: the title badge still counts the offers.
  }
}

function handle(event) {
  switch (event.type) {
    case "heartbeat":
    case "pong":
      return;
    case "typing":
      if (event.typing) state.typing.set(event.conversation_id, Date.now() + 8000);
      else state.typing.delete(event.conversation_id);
      break;
    case "welcome":
      state.agent = event.agent;
      $("presence").hidden = false;
      $("presence").value = "online";
      $("alerts-panel").hidden = event.agent.role !== "supervisor";
      state.offers = new Map(event.offers.map((offer) => [offer.offer.id, offer]));
      state.conversations = new Map();
      event.conversations.forEach(storeConversation);
      if (!state.conversations.has(state.selected)) state.selected = null;
      $("status").textContent = `${event.agent.name} · Online`;
      break;
    case "offer":
      if (!state.offers.has(event.offer.id)) chime();
      state.offers.set(event.offer.id, event);
      break;
    case "offer_withdrawn":
      state.offers.delete(event.offer_id);
      break;
    case "presence":
      $("presence").value = event.presence;
      $("status").textContent = `${state.agent.name} · ${event.presence === "away" ? "Away" : "Online"}`;
      break;
    case "alert":
      if (!state.alerts.some((alert) => alert.id === event.alert.id)) state.alerts.unshift(event.alert);
      break;
    case "message": {
      const entry = state.conversations.get(event.conversation_id);
      if (!entry) break;
      entry.history.set(event.message.seq, event.message);
      if (event.message.payload?.event === "resolved") entry.conversation.status = "resolved";
      if (event.message.payload?.event === "handed_back") entry.conversation.owner = "bot";
      if (event.message.payload?.event === "transferred") entry.conversation.owner = "queue";
      if (event.message.author === "customer") state.typing.delete(event.conversation_id);
      if (event.conversation_id !== state.selected && event.message.author === "customer") entry.unread += 1;
      break;
    }
    case "ack":
    case "error": {
      const callback = waiting.get(event.id);
      waiting.delete(event.id);
      if (callback) callback(event);
      else if (event.type === "error") showError(event.detail);
      break;
    }
  }
  draw();
}

function formatWait(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
}

function lastCustomerText(history) {
  const messages = [...history.values()].filter((m) => m.author === "customer");
  return messages.length ? messages[messages.length - 1].text : "";
}

function drawOffers() {
  const list = $("offers");
  list.replaceChildren();
  for (const offer of state.offers.values()) {
    const item = document.createElement("li");
    item.dataset.offerId = offer.offer.id;
    const left = Math.max(0, Math.round((Date.parse(offer.offer.expires_at) - Date.now()) / 1000));
    item.innerHTML = `<div class="meta">${offer.conversation.channel} · <span class="left">${left}s left</span></div>`;
    const quote = document.createElement("p");
    quote.className = "quote";
    quote.textContent = lastCustomerText(offer.history);
    const actions = document.createElement("div");
    actions.className = "actions";
    const accept = document.createElement("button");
    accept.textContent = "Accept";
    accept.dataset.testid = "offer-accept";
    accept.onclick = () =>
      command("accept", { offer_id: offer.offer.id }, (answer) => {
        if (answer.type === "error") return showError(answer.detail);
        state.offers.delete(offer.offer.id);
        storeConversation(answer.result);
        state.selected = answer.result.conversation.id;
        draw();
        $("reply").focus();
      });
    const decline = document.createElement("button");
    decline.textContent = "Decline";
    decline.className = "secondary";
    decline.dataset.testid = "offer-decline";
    decline.onclick = () => command("decline", { offer_id: offer.offer.id }, () => {
      state.offers.delete(offer.offer.id);
      draw();
    });
    actions.append(accept, decline);
    item.append(quote, actions);
    list.append(item);
  }
  $("offer-count").textContent = state.offers.size;
  document.title = state.offers.size ? `(${state.offers.size}) Carebridge · Agent console` : "Carebridge · Agent console";
}

function drawConversations() {
  const list = $("conversations");
  list.replaceChildren();
  for (const [id, entry] of state.conversations) {
    const item = document.createElement("li");
    item.classList.toggle("selected", id === state.selected);
    const open = document.createElement("button");
    open.className = "open";
    open.dataset.testid = "conversation-open";
    const status = entry.conversation.status === "resolved" ? "resolved" : `opened ${formatWait(entry.conversation.created_at)} ago`;
    open.innerHTML = `<div class="meta">${entry.conversation.channel} · ${status}</div>`;
    if (entry.unread) open.innerHTML += `<span class="unread">${entry.unread}</span>`;
    const quote = document.createElement("p");
    quote.className = "quote";
    quote.textContent = lastCustomerText(entry.history);
    open.append(quote);
    open.onclick = () => {
      state.selected = id;
      entry.unread = 0;
      draw();
      $("reply").focus();
    };
    item.append(open);
    list.append(item);
  }
}

function drawPacket(history) {
  const box = $("packet");
  const handoff = [...history.values()].filter((m) => m.payload?.event === "handoff").pop();
  if (!handoff) {
    box.textContent = "No handoff packet: this conversation came straight to a person.";
    return;
  }
  const packet = handoff.payload.packet;
  const intent = packet.intent?.name ? `${packet.intent.name} (${Math.round((packet.intent.confidence || 0) * 100)}%)` : "–";
  const articles = (packet.articles || []).map((a) => `${a.title || a.slug} (${a.score})`).join(", ") || "none";
  const collected = [
    ...(packet.entities || []).map((e) => `${e.entity.replaceAll("_", " ")}: ${e.value}`),
    ...Object.entries(packet.slots || {}).map(([name, value]) => `${name.replaceAll("_", " ")}: ${value}`),
  ];
  const feeling = packet.sentiment ? `${packet.sentiment.label} (${packet.sentiment.score})` : "–";
  const rows = [
    ["Why", (packet.reason || "unknown").replaceAll("_", " ")],
    ["Intent", intent],
    ["Sentiment", feeling],
    ["Priority", packet.priority ?? "–"],
    ["Already told us", [...new Set(collected)].join(", ") || "nothing yet"],
    ["Articles tried", articles],
    ["Skills", (packet.skills || []).join(", ") || "any"],
    ["Channel", packet.channel || "–"],
  ];
  box.innerHTML = "<strong>Handoff from the bot</strong>";
  const dl = definitions(rows);
  box.append(dl);
}

// A <dl> of [term, value] rows, as text (never HTML: customers' words go in).
function definitions(rows) {
  const dl = document.createElement("dl");
  for (const [term, value] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = value;
    dl.append(dt, dd);
  }
  return dl;
}

function drawHistory(entry) {
  const list = $("history");
  list.replaceChildren();
  const ordered = [...entry.history.values()].sort((a, b) => a.seq - b.seq);
  for (const message of ordered) {
    const item = bubble(message, message.kind === "note" ? "You · private note" : WHO[message.author]);
    const source = message.payload?.answer;
    if (source?.article) {
      const note = document.createElement("span");
      note.className = "source";
      note.textContent = `From article “${source.article.title}” (score ${source.score})`;
      item.append(note);
    }
    // Personal data posted in public is stored masked; the agent sees that, and where the case began.
    const masked = message.payload?.masked;
    if (masked) {
      const note = document.createElement("span");
      note.className = "source masked";
      note.textContent = `Personal data masked (${masked.kinds.join(", ") || "topic"}): ${masked.reason}`;
      item.append(note);
    }
    const origin = message.payload?.from_public;
    if (origin?.link) {
      const link = document.createElement("a");
      link.className = "source";
      link.href = origin.link;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = "Moved here from a public post";
      item.append(link);
    }
    list.append(item);
  }
  list.lastElementChild?.scrollIntoView({ block: "end" });
}

// The three best knowledge-base answers to the customer's last message, one click from the reply box.
const suggested = { query: null, results: [] };
async function suggest(entry) {
  const query = lastCustomerText(entry.history);
  if (!query || query === suggested.query) return;
  suggested.query = query;
  const response = await fetch("/api/kb/search", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ query, limit: 3 }),
  });
  if (!response.ok || suggested.query !== query) return;
  suggested.results = (await response.json()).results;
  drawSuggestions();
}

function drawSuggestions() {
  const list = $("suggestions");
  list.replaceChildren();
  for (const hit of suggested.results) {
    const item = document.createElement("li");
    item.className = "suggestion";
    const title = document.createElement("div");
    title.className = "title";
    title.textContent = `${hit.title} (${Math.round(hit.confidence * 100)}%)`;
    const preview = document.createElement("p");
    preview.textContent = hit.short_answer || hit.answer;
    const use = document.createElement("button");
    use.type = "button";
    use.className = "secondary";
    use.textContent = "Use";
    use.dataset.testid = "suggestion-use";
    use.setAttribute("aria-label", `Use the answer "${hit.title}"`);
    use.onclick = () => {
      $("reply").value = hit.answer;
      $("as-note").checked = false;
      $("reply").focus();
    };
    item.append(title, preview, use);
    list.append(item);
  }
}

// Who the customer is across channels, and their earlier conversations: nobody asks them again.
const profiles = new Map(); // customer id -> { at, profile }
async function describeCustomer(conversation) {
  const cached = profiles.get(conversation.customer_id);
  if (!cached || Date.now() - cached.at > 30000) {
    const response = await fetch(`/api/customers/${conversation.customer_id}`);
    if (!response.ok) return;
    profiles.set(conversation.customer_id, { at: Date.now(), profile: await response.json() });
  }
  if (state.selected === conversation.id) drawCustomer(conversation, profiles.get(conversation.customer_id).profile);
}

function drawCustomer(conversation, profile) {
  const box = $("customer");
  box.replaceChildren();
  const rows = [
    ["Name", profile.display_name || "unknown"],
    ["Email", profile.email ? `${profile.email}${profile.email_verified ? " (verified)" : ""}` : "–"],
    ["Phone", profile.phone ? `${profile.phone}${profile.phone_verified ? " (verified)" : ""}` : "–"],
    ["Channels", [...new Set(profile.identities.map((i) => i.channel))].join(", ")],
  ];
  const dl = definitions(rows);
  const earlier = profile.conversations.filter((c) => c.id !== conversation.id);
  const heading = document.createElement("p");
  heading.textContent = earlier.length ? `Earlier conversations (${earlier.length}):` : "No earlier conversations.";
  const list = document.createElement("ul");
  list.className = "earlier";
  list.dataset.testid = "earlier-conversations";
  for (const other of earlier) {
    // Each earlier conversation opens in place, read only: what was said there, on whatever channel.
    const item = document.createElement("li");
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = `${other.channel} · ${other.status} · ${new Date(other.created_at).toLocaleDateString()}`;
    const said = document.createElement("ol");
    said.className = "messages earlier-history";
    details.append(summary, said);
    details.addEventListener("toggle", async () => {
      if (!details.open || said.childElementCount) return;
      const response = await fetch(`/api/customers/${profile.id}/conversations/${other.id}/messages`);
      if (!response.ok) return;
      for (const message of await response.json()) said.append(bubble(message, WHO[message.author]));
    });
    item.append(details);
    list.append(item);
  }
  box.append(dl, heading, list);
}

function drawAlerts() {
  const list = $("alerts");
  list.replaceChildren();
  for (const alert of state.alerts.slice(0, 20)) {
    const item = document.createElement("li");
    item.className = "alert";
    item.textContent = alert.message;
    list.append(item);
  }
}

function draw() {
  drawOffers();
  drawConversations();
  drawAlerts();
  const entry = state.conversations.get(state.selected);
  $("placeholder").hidden = Boolean(entry);
  $("detail").hidden = !entry;
  $("context").hidden = !entry;
  if (!entry) return;
  suggest(entry);
  if ($("customer").dataset.conversation !== entry.conversation.id) {
    $("customer").dataset.conversation = entry.conversation.id;
    $("customer").replaceChildren();
    describeCustomer(entry.conversation);
  }
  drawPacket(entry.history);
  drawHistory(entry);
  const open = entry.conversation.status !== "resolved" && entry.conversation.owner === "agent";
  for (const control of ["reply", "canned", "as-note", "resolve", "hand-back", "transfer-to", "transfer-note"]) {
    $(control).disabled = !open;
  }
  drawTyping();
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws/agent`);
  socket.onopen = () => {
    // No token: the session cookie goes with the handshake and signs the console in.
    const hello = { type: "hello" };
    if (lastSeq !== null) hello.after_seq = lastSeq;
    socket.send(JSON.stringify(hello));
  };
  // Heartbeats both ways: each side sends something every 5 seconds and gives up on a connection
  // silent for 15, so a dropped network is noticed in seconds whichever side it hides from.
  let lastHeard = Date.now();
  const opened = socket;
  const beat = setInterval(() => {
    if (opened.readyState !== WebSocket.OPEN) return;
    if (Date.now() - lastHeard > 15000) opened.close();
    else opened.send('{"type":"ping"}');
  }, 5000);
  socket.addEventListener("close", () => clearInterval(beat));
  socket.onmessage = (frame) => {
    lastHeard = Date.now();
    const event = JSON.parse(frame.data);
    if (event.type === "welcome") {
      $("workspace").hidden = false;
      retryDelay = 500;
    }
    handle(event);
    if (typeof event.seq === "number") lastSeq = event.seq;
  };
  socket.onclose = (closed) => {
    if (closed.code === 4409) lastSeq = null; // the feed cannot replay: start from a fresh snapshot
    if (closed.code === 4401) {
      location.assign("/login?next=/agent"); // the session ended: sign in again
      return;
    }
    if (closed.code === 4403) {
      $("status").textContent = closed.reason;
      return;
    }
    $("status").textContent = "Reconnecting…";
    setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 10000);
  };
}


function drawTyping() {
  const until = state.typing.get(state.selected) || 0;
  $("customer-typing").textContent = until > Date.now() ? "Customer is typing…" : "";
}

// The customer sees that the agent is typing: told at most every 3 seconds, and told when they stop.
let typingSentAt = 0;
let typingStop = null;
function tellTyping(typing) {
  if (!state.selected || !socket || socket.readyState !== WebSocket.OPEN) return;
  command("typing", { conversation_id: state.selected, typing });
  typingSentAt = typing ? Date.now() : 0;
}

$("reply").addEventListener("input", () => {
  if ($("as-note").checked) return;
  if (Date.now() - typingSentAt > 3000) tellTyping(true);
  clearTimeout(typingStop);
  typingStop = setTimeout(() => tellTyping(false), 3000);
});

$("reply-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("reply").value.trim();
  if (!text || !state.selected) return;
  $("reply").value = "";
  clearTimeout(typingStop);
  if (typingSentAt) tellTyping(false);
  const kind = $("as-note").checked ? "note" : "send";
  command(kind, { conversation_id: state.selected, text, client_message_id: crypto.randomUUID() }, (answer) => {
    if (answer.type === "error") {
      showError(answer.detail);
      $("reply").value = text;
    } else {
      showError("");
    }
  });
});

$("presence").addEventListener("change", () => {
  const status = $("presence").value;
  command("set_status", { status }, (answer) => {
    if (answer.type === "error") return showError(answer.detail);
    $("status").textContent = `${state.agent.name} · ${status === "away" ? "Away" : "Online"}`;
  });
});

$("transfer-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const to = $("transfer-to").value.trim();
  if (!to || !state.selected) return;
  const target = /^\d+$/.test(to) ? { to_agent_id: Number(to) } : { to_team: to };
  const conversationId = state.selected;
  command("transfer", { conversation_id: conversationId, note: $("transfer-note").value, ...target }, (answer) => {
    if (answer.type === "error") return showError(answer.detail);
    state.conversations.delete(conversationId);
    state.selected = null;
    $("transfer-to").value = "";
    $("transfer-note").value = "";
    draw();
  });
});

$("hand-back").addEventListener("click", () => {
  if (!state.selected) return;
  command("hand_back", { conversation_id: state.selected }, (answer) => {
    if (answer.type === "error") showError(answer.detail);
  });
});

$("resolve").addEventListener("click", () => {
  if (!state.selected) return;
  command("resolve", { conversation_id: state.selected }, (answer) => {
    if (answer.type === "error") showError(answer.detail);
  });
});

setInterval(() => {
  for (const item of document.querySelectorAll("#offers li")) {
    const offer = state.offers.get(Number(item.dataset.offerId));
    if (!offer) continue;
    const left = Math.max(0, Math.round((Date.parse(offer.offer.expires_at) - Date.now()) / 1000));
    item.querySelector(".left").textContent = `${left}s left`;
  }
  drawTyping();
}, 1000);

$("sign-out").addEventListener("click", () => signOut(csrfToken));

// Canned responses: chosen from the list, or typed as /shortcut and expanded with Tab.
const canned = new Map(); // shortcut -> response
async function loadCanned() {
  const response = await fetch("/api/canned");
  if (!response.ok) return;
  canned.clear();
  const options = [new Option("Canned…", "")];
  for (const item of await response.json()) {
    canned.set(item.shortcut, item);
    options.push(new Option(`/${item.shortcut} · ${item.title}`, item.shortcut));
  }
  $("canned").replaceChildren(...options);
}

$("canned").addEventListener("change", () => {
  const chosen = canned.get($("canned").value);
  if (chosen) $("reply").value = chosen.text;
  $("canned").value = "";
  $("reply").focus();
});

$("reply").addEventListener("keydown", (event) => {
  const typed = /^\/([a-z0-9_-]+)$/i.exec($("reply").value.trim());
  const chosen = typed && canned.get(typed[1].toLowerCase());
  if (event.key === "Tab" && chosen) {
    event.preventDefault();
    $("reply").value = chosen.text;
  }
});

const me = await signedIn("/agent");
csrfToken = me.csrf_token;
connect();
loadCanned();
