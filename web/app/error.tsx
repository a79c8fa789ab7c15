"use client";

/** Shown instead of a blank page if rendering a page fails in the browser. */
export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <main>
      <p className="alert" role="alert">
        This page failed to render: {error.message || "unknown error"}
      </p>
      <button type="button" onClick={reset}>
        Try again
      </button>
    </main>
  );
}
