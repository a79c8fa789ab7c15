import type { Metadata, Viewport } from "next";
import Link from "next/link";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Bulkhead lab", template: "%s · Bulkhead lab" },
  description: "Todo service under load: shared vs per-endpoint database pools.",
};

export const viewport: Viewport = { width: "device-width", initialScale: 1 };

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header className="topbar">
          <span className="brand">Bulkhead lab</span>
          <nav aria-label="Main">
            <Link href="/todos">Todos</Link>
            <Link href="/dashboard">Dashboard</Link>
            <form action="/logout" method="post">
              <button type="submit" className="link-button">
                Log out
              </button>
            </form>
          </nav>
        </header>
        {children}
      </body>
    </html>
  );
}
