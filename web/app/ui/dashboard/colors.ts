/**
 * The dashboard's colours: one per endpoint (load/shape.json's names, colors.test.ts holds them
 * to it), the same for the pool that serves it in isolated mode, one for the shared pool and one
 * for `other`. A name without a colour of its own is drawn grey.
 */
const COLORS: Readonly<Record<string, string>> = {
  login: "#d9480f",
  create_todo: "#7048e8",
  todo_write: "#7048e8",
  list_todos: "#1c7ed6",
  todo_read: "#1c7ed6",
  shared: "#2b8a3e",
  other: "#868e96",
};

/** What an unknown endpoint or pool is drawn in. */
export const FALLBACK_COLOR = "#495057";

export const color = (name: string): string => COLORS[name] ?? FALLBACK_COLOR;
