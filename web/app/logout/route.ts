/**
 * Forgets the session in this browser: clears the cookie and goes to /login.
 * (The service has no logout endpoint; its session simply expires.)
 */
export async function POST(request: Request) {
  const response = new Response(null, { status: 303, headers: { location: new URL("/login", request.url).pathname } });
  response.headers.append("set-cookie", "session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0");
  return response;
}
