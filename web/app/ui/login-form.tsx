"use client";

import { useState } from "react";
import { callApi } from "../lib/api";

export function LoginForm({ next }: { next: string }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    const result = await callApi("/login", {
      method: "POST",
      json: { email: form.get("email"), password: form.get("password") },
    });
    if (result.ok) {
      // A full navigation, so the request for the next page carries the new cookie.
      window.location.assign(next);
      return;
    }
    setBusy(false);
    setError(result.status === 401 ? "Wrong email or password." : `Login failed: ${result.error}`);
  }

  return (
    <form onSubmit={onSubmit} aria-describedby={error ? "login-error" : undefined}>
      <div className="field">
        <label htmlFor="email">Email</label>
        <input id="email" name="email" type="email" autoComplete="username" required />
      </div>
      <div className="field">
        <label htmlFor="password">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required />
      </div>
      {error && (
        <p id="login-error" className="alert" role="alert" data-testid="login-error">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy}>
        {busy ? "Logging in…" : "Log in"}
      </button>
    </form>
  );
}
