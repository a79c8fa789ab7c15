import type { Metadata } from "next";
import { Dashboard } from "../ui/dashboard/dashboard";

export const metadata: Metadata = { title: "Dashboard" };

export default function DashboardPage() {
  return (
    <main className="wide">
      <Dashboard />
    </main>
  );
}
