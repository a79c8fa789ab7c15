import type { Metadata } from "next";
import { TodosView } from "../ui/todos-view";

export const metadata: Metadata = { title: "Todos" };

export default function TodosPage() {
  return (
    <main>
      <TodosView />
    </main>
  );
}
