import { test, expect } from "@playwright/test";

test("the landing page renders, hydrates, and the theme toggle responds", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });

  await page.emulateMedia({ colorScheme: "light" });
  await page.goto("/");
  await expect(page).toHaveTitle("Kilat");
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Ship your Indonesian SaaS");
  await expect(page.getByText("Rp 99.000")).toBeVisible();

  // The WASM marks the body once it has taken over the server-rendered page.
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");

  const html = page.locator("html");
  const toggle = page.getByTestId("theme-toggle");
  await expect(html).not.toHaveClass(/dark/);
  await expect(toggle).toHaveAttribute("aria-pressed", "false");

  await toggle.click();
  await expect(html).toHaveClass(/dark/);
  await expect(toggle).toHaveAttribute("aria-pressed", "true");

  // The choice survives a reload (applied before paint by the boot script).
  await page.reload();
  await expect(html).toHaveClass(/dark/);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(toggle).toHaveAttribute("aria-pressed", "true");

  expect(errors, "no script or CSP errors in the console").toEqual([]);
});

test("an unknown page says so and links home", async ({ page }) => {
  const response = await page.goto("/does-not-exist");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("This page does not exist");
  await page.getByRole("link", { name: "Back to home" }).click();
  await expect(page).toHaveURL(/\/$/);
});
