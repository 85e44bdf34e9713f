import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The build lands inside the Python package, so an installed package serves the UI with no Node at run time.
const outDir = fileURLToPath(new URL("../python/bullet_dashboard/static", import.meta.url));

export default defineConfig({
  plugins: [react()],
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  build: { outDir, emptyOutDir: true, chunkSizeWarningLimit: 1024 },
  // `npm run dev` talks to a server started with `python -m bullet_dashboard --port 8000`.
  server: { proxy: { "/api": "http://127.0.0.1:8000" } },
  test: { environment: "happy-dom", include: ["src/**/*.test.{ts,tsx}"] },
});
