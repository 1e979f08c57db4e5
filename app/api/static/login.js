// Sign in, then go back to the console that sent us here (or the one the role uses).

const HOME = { agent: "/agent", supervisor: "/supervisor", knowledge_manager: "/kb", admin: "/admin" };
const $ = (id) => document.getElementById(id);

function nextPage(role) {
  const next = new URLSearchParams(location.search).get("next") || "";
  // Only a path on this site: never a redirect elsewhere.
  return next.startsWith("/") && !next.startsWith("//") ? next : HOME[role] || "/agent";
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("login-error").textContent = "";
  const response = await fetch("/api/session", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email: $("email").value, password: $("password").value }),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    $("login-error").textContent = typeof data.detail === "string" ? data.detail : "Those details were not accepted.";
    $("password").select();
    return;
  }
  location.assign(nextPage(data.person.role));
});
