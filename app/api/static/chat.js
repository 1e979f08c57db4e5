// The customer's chat: messages go out over HTTP (stored before acknowledged, retried with the same
// client id), and everything in the conversation comes back over a websocket, resumed by sequence number.

import { bubble } from "/static/bubble.js";

const STORAGE_KEY = "carebridge.chat";
const list = document.getElementById("messages");
const statusEl = document.getElementById("status");
const errorEl = document.getElementById("error");
const form = document.getElementById("composer");
const input = document.getElementById("text");

const shown = new Map(); // seq -> <li>
let lastSeq = 0;
let session = null;
let retryDelay = 500;
let agentName = "Agent";
let socket = null;
const typingEl = document.getElementById("typing");
let typingHide = null;
let typingSentAt = 0; // when "typing: true" last went out; 0 when the agent was told we stopped
let typingStop = null;

const WHO = { customer: "You", bot: "Assistant", system: "" };

function render(message) {
  if (shown.has(message.seq)) return;
  document.querySelector(`li[data-client-id="${CSS.escape(message.client_message_id || "")}"]`)?.remove();
  if (message.payload?.event === "assigned") agentName = message.payload.agent.name;
  const item = bubble(message, message.author === "agent" ? agentName : WHO[message.author]);
  if (message.payload?.answer) item.append(askIfHelpful(message));
  const before = [...list.children].find((li) => li.dataset.seq && Number(li.dataset.seq) > message.seq);
  // Choices stand only under the newest message: anything said after them answers or passes them by.
  if (!before) list.querySelectorAll(".quick-replies").forEach((box) => box.remove());
  if (!before && message.payload?.quick_replies?.length) item.append(quickReplies(message.payload.quick_replies));
  list.insertBefore(item, before || null);
  shown.set(message.seq, item);
  lastSeq = Math.max(lastSeq, message.seq);
  item.scrollIntoView({ block: "end" });
}

function askIfHelpful(message) {
  const box = document.createElement("span");
  box.className = "feedback";
  box.append("Did this help? ");
  for (const [label, helpful] of [["Yes", true], ["No", false]]) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link";
    button.textContent = label;
    button.dataset.testid = helpful ? "answer-helped" : "answer-did-not-help";
    button.onclick = async () => {
      const response = await fetch(`/api/chat/conversations/${session.conversation_id}/messages/${message.id}/feedback`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${session.token}` },
        body: JSON.stringify({ helpful }),
      });
      box.textContent = response.ok ? "Thanks for telling us." : "Could not send that, sorry.";
    };
    box.append(button, " ");
  }
  return box;
}

// Choices the bot offers (a rating, say): a tap sends the choice as the customer's own message.
function quickReplies(choices) {
  const box = document.createElement("span");
  box.className = "quick-replies";
  for (const choice of choices) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = choice;
    button.onclick = () => {
      box.remove();
      send(choice);
    };
    box.append(button);
  }
  return box;
}

async function startSession() {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved) return JSON.parse(saved);
  const response = await fetch("/api/chat/sessions", { method: "POST" });
  if (!response.ok) throw new Error(`could not start a chat (HTTP ${response.status})`);
  const created = await response.json();
  localStorage.setItem(STORAGE_KEY, JSON.stringify(created));
  return created;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws/chat/${session.conversation_id}`);
  socket.onopen = () => socket.send(JSON.stringify({ type: "hello", token: session.token, after_seq: lastSeq }));
  socket.onmessage = (frame) => {
    const event = JSON.parse(frame.data);
    if (event.type === "ready") {
      statusEl.textContent = "Connected";
      retryDelay = 500;
    } else if (event.type === "message") {
      render(event.message);
      if (event.message.author === "agent") showTyping(false);
    } else if (event.type === "typing") {
      showTyping(event.typing);
    }
  };
  socket.onclose = (closed) => {
    if (closed.code === 4401 || closed.code === 4404) {
      // The saved chat is gone (a new database, say): start afresh.
      localStorage.removeItem(STORAGE_KEY);
      statusEl.textContent = "Starting a new chat…";
      setTimeout(boot, 200);
      return;
    }
    statusEl.textContent = "Reconnecting…";
    setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 10000);
  };
}

async function send(text) {
  const clientId = crypto.randomUUID();
  const pending = document.createElement("li");
  pending.className = "customer pending";
  pending.dataset.clientId = clientId;
  pending.textContent = text;
  list.append(pending);
  pending.scrollIntoView({ block: "end" });
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const response = await fetch(`/api/chat/conversations/${session.conversation_id}/messages`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${session.token}` },
        body: JSON.stringify({ text, client_message_id: clientId }),
      });
      if (response.ok) {
        render(await response.json());
        errorEl.textContent = "";
        return;
      }
      const problem = await response.json().catch(() => ({}));
      errorEl.textContent = `Not sent: ${typeof problem.detail === "string" ? problem.detail : "please check the message"}`;
      pending.remove();
      return;
    } catch {
      // Network trouble: the same client id makes a retry safe.
      await new Promise((resolve) => setTimeout(resolve, 500 * (attempt + 1)));
    }
  }
  errorEl.textContent = "Not sent: no connection. Please try again.";
  pending.remove();
}

function showTyping(typing) {
  clearTimeout(typingHide);
  typingEl.textContent = typing ? `${agentName} is typing…` : "";
  // A lost "stopped typing" must not leave the line up for ever.
  if (typing) typingHide = setTimeout(() => showTyping(false), 8000);
}

// The agent sees that we are typing: told at most every 3 seconds, and told when we stop.
function tellTyping(typing) {
  if (!socket || socket.readyState !== WebSocket.OPEN) return;
  socket.send(JSON.stringify({ type: "typing", typing }));
  typingSentAt = typing ? Date.now() : 0;
}

input.addEventListener("input", () => {
  if (Date.now() - typingSentAt > 3000) tellTyping(true);
  clearTimeout(typingStop);
  typingStop = setTimeout(() => tellTyping(false), 3000);
});

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  clearTimeout(typingStop);
  if (typingSentAt) tellTyping(false);
  send(text);
});

async function boot() {
  try {
    session = await startSession();
    connect();
    input.focus();
  } catch (error) {
    errorEl.textContent = String(error.message || error);
  }
}

boot();
