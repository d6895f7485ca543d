// cargo-leptos starts the server and this suite at the same moment; wait until the server
// (and, on a first run, the local PostgreSQL it creates) answers healthy.
export default async function waitForHealthyServer() {
  const base = process.env.KILAT_BASE_URL ?? "http://127.0.0.1:3000";
  const deadline = Date.now() + 180_000;
  let last = "no answer";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${base}/api/health`);
      if (response.ok) return;
      last = `HTTP ${response.status}: ${await response.text()}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the server at ${base} never became healthy (last: ${last})`);
}
