import { copyFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The build lands inside the Python package, so an installed package serves the UI with no Node at run time.
const outDir = fileURLToPath(new URL("../python/bullet_dashboard/static", import.meta.url));

// The server's /docs page runs Swagger UI from these files (the app works offline, so not from a CDN).
const SWAGGER_FILES = ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "LICENSE", "NOTICE"];

function swaggerUi() {
  return {
    name: "swagger-ui-files",
    apply: "build" as const,
    closeBundle() {
      const from = fileURLToPath(new URL("./node_modules/swagger-ui-dist/", import.meta.url));
      mkdirSync(`${outDir}/swagger`, { recursive: true });
      for (const file of SWAGGER_FILES) copyFileSync(from + file, `${outDir}/swagger/${file}`);
    },
  };
}

export default defineConfig({
  plugins: [react(), swaggerUi()],
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  build: { outDir, emptyOutDir: true, chunkSizeWarningLimit: 1024 },
  // `npm run dev` talks to a server started with `python -m bullet_dashboard --port 8000`.
  server: { proxy: { "/api": "http://127.0.0.1:8000" } },
  test: { environment: "happy-dom", include: ["src/**/*.test.{ts,tsx}"] },
});
