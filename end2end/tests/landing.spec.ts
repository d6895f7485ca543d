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
  // The browser asks for English (Accept-Language en-US): rupiah written the English way.
  await expect(page.getByText("IDR 99,000")).toBeVisible();

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

test("a visitor switches to Indonesian, and the pages and their islands speak it", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));

  await page.goto("/auth/login");
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await page.getByTestId("language-switch").first().getByRole("button", { name: "Bahasa Indonesia" }).click();

  // Back on the same page, now in Indonesian, without JavaScript's help.
  await expect(page).toHaveURL(/\/auth\/login$/);
  await expect(page.locator("html")).toHaveAttribute("lang", "id");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Masuk");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");

  // The island's inline check speaks the page's language too.
  const email = page.locator("#login-email");
  await email.fill("bukan-alamat");
  await email.blur();
  await expect(page.locator("#login-email-error")).toContainText("Itu tidak tampak seperti alamat email");

  // The choice holds on the next page: rupiah the Indonesian way.
  await page.goto("/");
  await expect(page.getByText("Rp 99.000")).toBeVisible();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Luncurkan SaaS Indonesia Anda");
  expect(errors).toEqual([]);
});
