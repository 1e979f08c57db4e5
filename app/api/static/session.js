// The consoles' sign-in: the session cookie goes with every request by itself; every change also
// carries the session's CSRF token, which another site's page cannot read.

export async function signedIn(page) {
  const response = await fetch("/api/session");
  if (response.status === 401) {
    location.assign(`/login?next=${encodeURIComponent(page)}`);
    return new Promise(() => {}); // the page is going away
  }
  if (!response.ok) throw new Error(`could not read the session: HTTP ${response.status}`);
  return response.json(); // { agent, email, csrf_token }
}

export async function signOut(csrfToken) {
  await fetch("/api/session", { method: "DELETE", headers: { "X-CSRF-Token": csrfToken } });
  location.assign("/login");
}

// A fetch of the JSON API with the CSRF token; errors carry the server's reason and the status.
export async function api(csrfToken, path, { method = "GET", body } = {}) {
  const response = await fetch(path, {
    method,
    headers: { "X-CSRF-Token": csrfToken, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail =
      typeof data.detail === "string" ? data.detail : (data.detail || []).map((d) => `${d.loc.at(-1)}: ${d.msg}`).join("; ");
    const error = new Error(detail || `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return data;
}
