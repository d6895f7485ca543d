import { test, expect, type Browser } from "@playwright/test";

// Pages left before their islands woke, from several tabs at once: every page that arrives must
// still carry its own Content-Security-Policy (with its nonce). Through Leptos' ResponseOptions
// the header went missing about once in 150 such pages (the page then ran with the fallback
// policy, which blocks its scripts); the server now sends it itself (app::PagePolicy).
test("every page keeps its own policy while navigations are cut short", async ({ browser }) => {
  test.setTimeout(120_000);
  const missing: string[] = [];
  let pages = 0;
  async function tab(browser: Browser, id: number) {
    const context = await browser.newContext({ locale: "en-US" });
    const page = await context.newPage();
    page.on("response", async (response) => {
      if (response.request().resourceType() !== "document" || response.status() !== 200) return;
      pages++;
      const policy = (await response.allHeaders())["content-security-policy"] ?? "";
      if (!/script-src 'self' 'nonce-/.test(policy)) missing.push(`${id} ${response.url()}: ${policy}`);
    });
    for (let i = 0; i < 25; i++) {
      await page.goto(`/auth/login?lang=${i % 2 ? "id" : "en"}`, { waitUntil: "commit" });
      await page.waitForTimeout((i * 7) % 60);
      await page.goto("/pricing", { waitUntil: "commit" });
      await page.waitForTimeout((i * 13) % 80);
      await page.goto("/auth/sign-up");
    }
    await context.close();
  }
  await Promise.all([1, 2, 3].map((id) => tab(browser, id)));
  expect(pages).toBeGreaterThan(100);
  expect(missing).toEqual([]);
});
