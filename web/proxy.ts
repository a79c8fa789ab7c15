/**
 * Sends visitors without a `session` cookie to /login before a protected page renders.
 * Only the cookie's presence is checked here; the service decides whether it is valid,
 * and a 401 from it sends the page to /login too.
 *
 * /dashboard is deliberately open: it reads server-side metrics, no user data, and it
 * must stay reachable while logins are failing under load.
 */
import { type NextRequest, NextResponse } from "next/server";

export function proxy(request: NextRequest) {
  if (request.cookies.get("session")?.value) return NextResponse.next();
  const login = new URL("/login", request.url);
  login.searchParams.set("next", request.nextUrl.pathname);
  return NextResponse.redirect(login);
}

export const config = { matcher: ["/todos/:path*"] };
