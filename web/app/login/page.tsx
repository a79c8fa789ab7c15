import type { Metadata } from "next";
import { LoginForm } from "../ui/login-form";

export const metadata: Metadata = { title: "Log in" };

/** Where to go after logging in: only a local path, never another site. */
function safeNext(next: string | string[] | undefined): string {
  return typeof next === "string" && next.startsWith("/") && !next.startsWith("//") ? next : "/todos";
}

export default async function LoginPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { next } = await searchParams;
  return (
    <main>
      <div className="card login">
        <h1>Log in</h1>
        <p className="muted">The demo account is demo@lab.test / demo-password.</p>
        <LoginForm next={safeNext(next)} />
      </div>
    </main>
  );
}
