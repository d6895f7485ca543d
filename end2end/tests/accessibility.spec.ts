import { test, expect, type Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";

// Every page, signed out and signed in, in both languages and both themes: axe finds no
// serious or critical violation, and at a phone's width (375 px) nothing scrolls sideways.

const PUBLIC = ["/", "/pricing", "/waitlist", "/contact", "/contact?error=message_too_short", "/terms", "/privacy", "/status", "/auth/login", "/auth/sign-up", "/auth/forgot-password", "/auth/error", "/no-such-page"];
const SIGNED_IN = ["/dashboard", "/dashboard/settings", "/dashboard/billing", "/dashboard/ai", "/dashboard/ai/generate", "/checkout?plan=PRO", "/admin"];
const ADMIN = "admin@e2e.kilat.test";

async function audit(page: Page, path: string) {
  const problems: string[] = [];
  for (const lang of ["id", "en"]) {
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.goto(`${path}${path.includes("?") ? "&" : "?"}lang=${lang}`);
      await expect(page.locator("html")).toHaveAttribute("lang", lang);
      await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
      const results = await new AxeBuilder({ page }).analyze();
      for (const violation of results.violations) {
        if (violation.impact === "serious" || violation.impact === "critical") {
          const where = violation.nodes.slice(0, 3).map((node) => node.target.join(" ")).join("; ");
          problems.push(`${path} (${lang}, ${scheme}): ${violation.id} — ${violation.help} — ${where}`);
        }
      }
      await page.setViewportSize({ width: 375, height: 800 });
      const sideways = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (sideways > 0) problems.push(`${path} (${lang}, ${scheme}): scrolls ${sideways}px sideways at 375px`);
    }
  }
  return problems;
}

test("public pages pass the accessibility audit and fit a phone", async ({ page }) => {
  test.setTimeout(180_000);
  const problems: string[] = [];
  for (const path of PUBLIC) problems.push(...(await audit(page, path)));
  expect(problems).toEqual([]);
});

test("signed-in pages pass the accessibility audit and fit a phone", async ({ page }) => {
  test.setTimeout(180_000);
  await page.goto("/auth/google");
  await page.locator("#email").fill(ADMIN);
  await page.locator("#name").fill("Admin");
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  const problems: string[] = [];
  for (const path of SIGNED_IN) problems.push(...(await audit(page, path)));
  expect(problems).toEqual([]);
});

test("the header menu opens by keyboard on a phone and leads to pricing", async ({ page }) => {
  await page.setViewportSize({ width: 375, height: 800 });
  await page.goto("/?lang=en");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  const menu = page.getByTestId("nav-menu");
  await menu.locator("summary").focus();
  await page.keyboard.press("Enter");
  await expect(menu.getByRole("link", { name: "Pricing" })).toBeVisible();
  // The open menu lies inside the screen.
  for (const link of await menu.getByRole("link").all()) {
    const box = (await link.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(375);
  }
  await menu.getByRole("link", { name: "Pricing" }).focus();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/pricing$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Pricing");
});
