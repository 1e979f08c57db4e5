// The knowledge managers' console: articles with their versions, publishing, previews of which
// customer questions an article gets, and the questions the bot could not answer.

import { api as call, signOut, signedIn } from "/static/session.js";

const $ = (id) => document.getElementById(id);
let csrfToken = "";
let current = null; // the article open in the editor (as the API returns it), or null for a new one

const api = (path, options) => call(csrfToken, path, options);

function say(text, isError = false) {
  $("error").textContent = isError ? text : "";
  $("notice").textContent = isError ? "" : text;
}

// Markdown, just enough for FAQ answers: paragraphs, **bold**, *italic*, and "- " lists.
function markdown(text) {
  const escape = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const inline = (s) => escape(s).replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>").replace(/\*(.+?)\*/g, "<em>$1</em>");
  return text
    .trim()
    .split(/\n\s*\n/)
    .map((block) => {
      const lines = block.split("\n");
      if (lines.every((line) => line.trim().startsWith("- "))) {
        return `<ul>${lines.map((line) => `<li>${inline(line.trim().slice(2))}</li>`).join("")}</ul>`;
      }
      return `<p>${inline(block.replace(/\n/g, " "))}</p>`;
    })
    .join("");
}

function contentFromForm() {
  const lines = (id) => $(id).value.split("\n").map((s) => s.trim()).filter(Boolean);
  return {
    title: $("title").value,
    questions: lines("questions"),
    answer: $("answer").value,
    short_answer: $("short").value,
    tags: $("tags").value.split(",").map((s) => s.trim()).filter(Boolean),
    skill: $("skill").value.trim() || null,
    locale: $("locale").value.trim() || "en",
  };
}

function fillForm(article) {
  const version = article ? article.current : null;
  $("slug").value = article ? article.slug : "";
  $("slug").disabled = Boolean(article);
  $("title").value = version ? version.title : "";
  $("questions").value = version ? version.questions.join("\n") : "";
  $("answer").value = version ? version.answer : "";
  $("short").value = version ? version.short_answer : "";
  $("tags").value = version ? version.tags.join(", ") : "";
  $("skill").value = version && version.skill ? version.skill : "";
  $("locale").value = version ? version.locale : "en";
  $("note").value = "";
  $("answer-preview").innerHTML = markdown($("answer").value);
  $("short-count").textContent = `${$("short").value.length}/280`;
  const live = article && article.published_version ? `version ${article.published_version} is live` : "nothing live";
  $("article-state").textContent = article
    ? `${article.status.replace("_", " ")} · version ${article.current_version} · ${live} · answered ${article.stats.answered}, not helpful ${article.stats.not_helpful}`
    : "new article";
  for (const id of ["review", "publish", "unpublish", "archive", "preview-matches"]) $(id).disabled = !article;
  $("matches").hidden = true;
  $("diff").hidden = true;
}

async function loadList() {
  const params = new URLSearchParams();
  for (const [key, id] of [["search", "search"], ["status", "status-filter"], ["tag", "tag-filter"], ["skill", "skill-filter"]]) {
    if ($(id).value.trim()) params.set(key, $(id).value.trim());
  }
  const list = $("articles");
  list.replaceChildren();
  for (const article of await api(`/api/kb/articles?${params}`)) {
    const item = document.createElement("li");
    const open = document.createElement("button");
    open.className = "open";
    open.dataset.slug = article.slug;
    open.innerHTML = `<span class="badge ${article.status}"></span> <strong></strong><div class="meta"></div>`;
    open.querySelector(".badge").textContent = article.status.replace("_", " ");
    open.querySelector("strong").textContent = article.title;
    open.querySelector(".meta").textContent = `${article.slug} · v${article.current_version} · answered ${article.stats.answered}`;
    open.onclick = () => openArticle(article.slug);
    item.append(open);
    list.append(item);
  }
}

// Published versions the bot leaves out (stored as no valid article): said until a fixed one is published.
async function showRefused() {
  const refused = await api("/api/kb/refused");
  const banner = $("refused");
  banner.hidden = refused.length === 0;
  banner.textContent = refused.length
    ? `Left out of the bot's answers until a fixed version is published: ${refused
        .map((r) => `${r.slug} (version ${r.version}: ${r.problem})`)
        .join("; ")}`
    : "";
}

async function openArticle(slug) {
  current = await api(`/api/kb/articles/${slug}`);
  showTab("articles");
  $("editor").hidden = false;
  fillForm(current);
  await loadHistory();
}

async function loadHistory() {
  const list = $("history");
  list.replaceChildren();
  const versions = await api(`/api/kb/articles/${current.slug}/versions`);
  for (const version of versions) {
    const item = document.createElement("li");
    const when = new Date(version.created_at).toLocaleString();
    item.textContent = `v${version.version} · ${when} · ${version.author_name || "system"} · ${version.note} `;
    if (version.version > 1) {
      const diff = document.createElement("button");
      diff.className = "link";
      diff.type = "button";
      diff.textContent = "diff";
      diff.dataset.testid = `kb-diff-${version.version}`;
      diff.onclick = () => showDiff(version.version - 1, version.version);
      item.append(diff);
    }
    if (version.version !== current.current_version) {
      const back = document.createElement("button");
      back.className = "link";
      back.type = "button";
      back.textContent = "roll back to this";
      back.dataset.testid = `kb-rollback-${version.version}`;
      back.onclick = () => act(`rollback`, { version: version.version }, `Rolled back to version ${version.version}.`);
      item.append(back);
    }
    list.append(item);
  }
}

async function showDiff(from, to) {
  const result = await api(`/api/kb/articles/${current.slug}/diff?from=${from}&to=${to}`);
  const lines = [`Version ${from} → ${to}`];
  for (const [field, change] of Object.entries(result.changes)) {
    if (field === "questions") {
      lines.push("questions:", ...change.added.map((q) => `  + ${q}`), ...change.removed.map((q) => `  - ${q}`));
    } else if (Array.isArray(change)) {
      lines.push(`${field}:`, ...change.slice(2).map((line) => `  ${line}`));
    } else {
      lines.push(`${field}: ${JSON.stringify(change.before)} → ${JSON.stringify(change.after)}`);
    }
  }
  if (lines.length === 1) lines.push("no differences");
  $("diff").textContent = lines.join("\n");
  $("diff").hidden = false;
}

async function act(action, body, done) {
  try {
    current = await api(`/api/kb/articles/${current.slug}/${action}`, { method: "POST", body });
    fillForm(current);
    await Promise.all([loadHistory(), loadList(), showRefused()]);
    say(done);
  } catch (error) {
    say(error.message, true);
  }
}

async function save(event) {
  event.preventDefault();
  const body = { ...contentFromForm(), note: $("note").value };
  try {
    if (current) {
      current = await api(`/api/kb/articles/${current.slug}`, { method: "PUT", body: { ...body, base_version: current.current_version } });
    } else {
      current = await api("/api/kb/articles", { method: "POST", body: { ...body, slug: $("slug").value.trim() } });
    }
    fillForm(current);
    await Promise.all([loadHistory(), loadList(), showRefused()]);
    say(`Saved as version ${current.current_version}.` + (current.published_version && current.published_version !== current.current_version ? " Publish it to make it live." : ""));
  } catch (error) {
    say(error.message, true);
  }
}

async function previewMatches() {
  try {
    const result = await api(`/api/kb/articles/${current.slug}/preview`, { method: "POST", body: contentFromForm() });
    const list = $("match-list");
    list.replaceChildren();
    for (const match of result.matches) {
      const item = document.createElement("li");
      const fate = match.answered ? "would be answered" : "below the threshold";
      const today = match.now_answered_by ? ` (today: ${match.now_answered_by})` : "";
      item.textContent = `“${match.question}” · ${match.score.toFixed(2)} · ${fate}${today}`;
      list.append(item);
    }
    if (!result.matches.length) list.innerHTML = "<li>No recent question would come to this article.</li>";
    $("matches").hidden = false;
  } catch (error) {
    say(error.message, true);
  }
}

async function loadGroups() {
  const list = $("groups");
  list.replaceChildren();
  const groups = await api("/api/kb/unanswered");
  if (!groups.length) list.innerHTML = "<li>Nothing unanswered. 🎉</li>";
  for (const group of groups) {
    const item = document.createElement("li");
    const title = document.createElement("strong");
    title.textContent = `${group.count} × “${group.samples[0]}”`;
    const meta = document.createElement("div");
    meta.className = "meta";
    const nearest = group.nearest_slug ? ` · nearest article ${group.nearest_slug} (${group.nearest_score.toFixed(2)})` : "";
    meta.textContent = `first ${new Date(group.first_seen).toLocaleString()} · last ${new Date(group.last_seen).toLocaleString()}${nearest}`;
    const samples = document.createElement("ul");
    for (const sample of group.samples.slice(1)) {
      const line = document.createElement("li");
      line.textContent = sample;
      samples.append(line);
    }
    const draft = document.createElement("button");
    draft.textContent = "New draft article";
    draft.dataset.testid = "kb-group-draft";
    draft.onclick = async () => {
      const slug = prompt("Slug for the new article (lowercase-with-hyphens)");
      if (!slug) return;
      try {
        current = await api("/api/kb/unanswered/draft", { method: "POST", body: { question_ids: group.question_ids, slug, title: group.samples[0] } });
        await openArticle(current.slug);
        say("Draft created from the group: write the answer, then publish.");
      } catch (error) {
        say(error.message, true);
      }
    };
    const attach = document.createElement("button");
    attach.className = "secondary";
    attach.textContent = "Add to an article";
    attach.onclick = async () => {
      const slug = prompt("Add these questions to which article (slug)?", group.nearest_slug || "");
      if (!slug) return;
      try {
        await api("/api/kb/unanswered/attach", { method: "POST", body: { question_ids: group.question_ids, slug } });
        await openArticle(slug);
        say(`Added ${group.count} phrasings to ${slug}: publish to make them live.`);
      } catch (error) {
        say(error.message, true);
      }
    };
    const actions = document.createElement("div");
    actions.className = "actions";
    actions.append(draft, attach);
    item.append(title, meta, samples, actions);
    list.append(item);
  }
}

function showTab(name) {
  $("tab-articles").setAttribute("aria-selected", String(name === "articles"));
  $("tab-unanswered").setAttribute("aria-selected", String(name === "unanswered"));
  $("unanswered").hidden = name !== "unanswered";
  $("editor").hidden = name !== "articles" || (!current && $("editor").hidden);
}

async function start() {
  const me = await signedIn("/kb");
  csrfToken = me.csrf_token;
  $("status").textContent = `${me.person.name}`;
  if (!["knowledge_manager", "admin"].includes(me.person.role)) {
    $("access-error").textContent = `${me.person.name} is signed in, but only knowledge managers edit the knowledge base.`;
    return;
  }
  await Promise.all([loadList(), showRefused()]);
  $("workspace").hidden = false;
}

$("sign-out").addEventListener("click", () => signOut(csrfToken));
$("filters").addEventListener("input", () => loadList());
$("filters").addEventListener("submit", (event) => event.preventDefault());
$("new-article").addEventListener("click", () => {
  current = null;
  showTab("articles");
  $("editor").hidden = false;
  fillForm(null);
  $("history").replaceChildren();
  $("slug").focus();
});
$("article-form").addEventListener("submit", save);
$("answer").addEventListener("input", () => ($("answer-preview").innerHTML = markdown($("answer").value)));
$("short").addEventListener("input", () => ($("short-count").textContent = `${$("short").value.length}/280`));
$("review").addEventListener("click", () => act("review", undefined, "Submitted for review."));
$("publish").addEventListener("click", () => act("publish", undefined, "Published: customers get this version now."));
$("unpublish").addEventListener("click", () => act("unpublish", undefined, "Unpublished: no version answers customers."));
$("archive").addEventListener("click", () => act("archive", undefined, "Archived."));
$("preview-matches").addEventListener("click", previewMatches);
$("tab-articles").addEventListener("click", () => showTab("articles"));
$("tab-unanswered").addEventListener("click", async () => {
  showTab("unanswered");
  await loadGroups();
});

start();
