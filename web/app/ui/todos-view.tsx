"use client";

/**
 * The todos page as a person under load experiences it: the list refreshes every
 * 2 s, each load's duration is shown, and a failed load keeps the last good list on
 * screen next to the error instead of blanking it.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { type Todo, callApi } from "../lib/api";

const REFRESH_MS = 2000;
const LIST_LIMIT = 20;

interface LoadInfo {
  ms: number;
  at: Date;
  ok: boolean;
}

const clock = (d: Date) => d.toLocaleTimeString([], { hour12: false });
/** Today's todos by time of day, older ones with their date too. */
const when = (iso: string) => {
  const d = new Date(iso);
  return d.toDateString() === new Date().toDateString() ? clock(d) : d.toLocaleString([], { hour12: false });
};

function toLogin() {
  window.location.assign(`/login?next=${encodeURIComponent("/todos")}`);
}

export function TodosView() {
  const [todos, setTodos] = useState<Todo[] | null>(null);
  const [loadedAt, setLoadedAt] = useState<Date | null>(null);
  const [lastLoad, setLastLoad] = useState<LoadInfo | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [addError, setAddError] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const [autoRefresh, setAutoRefresh] = useState(true);
  const inFlight = useRef(false);

  const load = useCallback(async () => {
    if (inFlight.current) return; // a slow load is still running: don't pile up
    inFlight.current = true;
    const result = await callApi<{ todos: Todo[] }>(`/todos?limit=${LIST_LIMIT}`);
    inFlight.current = false;
    if (result.status === 401) return toLogin();
    setLastLoad({ ms: result.ms, at: new Date(), ok: result.ok });
    if (result.ok && result.data) {
      setTodos(result.data.todos);
      setLoadedAt(new Date());
      setLoadError(null);
    } else {
      setLoadError(result.error); // keep the stale list on screen
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(() => {
    if (!autoRefresh) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const tick = async () => {
      await load();
      if (!stopped) timer = setTimeout(tick, REFRESH_MS);
    };
    timer = setTimeout(tick, REFRESH_MS);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [autoRefresh, load]);

  async function onAdd(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const title = String(new FormData(form).get("title") ?? "").trim();
    if (!title) return;
    setAdding(true);
    const result = await callApi<Todo>("/todos", { method: "POST", json: { title } });
    setAdding(false);
    if (result.status === 401) return toLogin();
    if (result.ok && result.data) {
      const created = result.data;
      setAddError(null);
      form.reset();
      setTodos((old) => [created, ...(old ?? []).filter((t) => t.id !== created.id)].slice(0, LIST_LIMIT));
    } else {
      setAddError(`Could not add “${title}”: ${result.error}`);
    }
  }

  return (
    <>
      <h1>Todos</h1>

      <div className="status">
        <span>
          Last load:{" "}
          {lastLoad ? (
            <>
              <strong data-testid="load-ms" className={lastLoad.ok ? "ok" : "bad"}>
                {lastLoad.ms} ms
              </strong>{" "}
              <span className="muted">at {clock(lastLoad.at)}</span>
            </>
          ) : (
            <span className="muted">loading…</span>
          )}
        </span>
        <label className="toggle">
          <input type="checkbox" checked={autoRefresh} onChange={(e) => setAutoRefresh(e.target.checked)} />
          Auto-refresh every {REFRESH_MS / 1000} s
        </label>
        <button type="button" className="secondary" onClick={() => void load()}>
          Refresh now
        </button>
      </div>

      {loadError && (
        <p className="alert" role="alert" data-testid="load-error">
          Loading todos failed: {loadError}
          {loadedAt && todos ? ` (showing the list from ${clock(loadedAt)})` : ""}
        </p>
      )}

      <form className="card" onSubmit={onAdd}>
        <div className="row">
          <div className="grow">
            <label htmlFor="new-todo">New todo</label>
            <input id="new-todo" name="title" type="text" maxLength={200} required autoComplete="off" />
          </div>
          <button type="submit" disabled={adding}>
            {adding ? "Adding…" : "Add"}
          </button>
        </div>
        {addError && (
          <p className="alert" role="alert" data-testid="add-error">
            {addError}
          </p>
        )}
      </form>

      {todos === null ? (
        <p className="muted">{loadError ? "No todos loaded yet." : "Loading todos…"}</p>
      ) : todos.length === 0 ? (
        <p className="muted">No todos yet.</p>
      ) : (
        <ul className="todos" aria-label="Latest todos">
          {todos.map((todo) => (
            <li key={todo.id}>
              <span>{todo.title}</span>
              <time dateTime={todo.created_at}>{when(todo.created_at)}</time>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
