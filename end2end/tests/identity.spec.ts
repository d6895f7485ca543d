import { test, expect } from "@playwright/test";

import { confirmFromMailbox, submitSignUp } from "./accounts";

// A new person signs up, opens the confirmation email in the local mailbox, lands on the
// dashboard, and renames themselves in settings.
test("sign up, confirm by email, reach settings and change the name", async ({ page }) => {
  const email = `e2e-${Date.now()}@kilat.id`;

  await page.goto("/auth/sign-up");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await submitSignUp(page, "Ana", email);
  await confirmFromMailbox(page, email);
  await expect(page.getByTestId("welcome")).toContainText("Ana");
  await expect(page.getByTestId("plan")).toHaveText("Free");

  await page.goto("/dashboard/settings");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  const settings = page.getByTestId("settings-form");
  await settings.locator('input[name="full_name"]').fill("Ana Lestari");
  await settings.locator('button[type="submit"]').click();
  await expect(page.getByTestId("form-success")).toBeVisible();

  await page.reload();
  await expect(page.getByTestId("settings-form").locator('input[name="full_name"]')).toHaveValue("Ana Lestari");
});

test("the dashboard sends anonymous visitors to sign in and back", async ({ page }) => {
  await page.goto("/dashboard/settings");
  await expect(page).toHaveURL(/\/auth\/login\?next=%2Fdashboard%2Fsettings$/);
});

// "Continue with Google" goes through the twin's labelled consent page and back through PKCE;
// the new member finds no admin area.
test("sign in with Google through the local consent page", async ({ page }) => {
  const email = `google-${Date.now()}@gmail.test`;

  await page.goto("/auth/login");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await page.getByTestId("google-sign-in").click();
  await expect(page).toHaveURL(/\/local\/google\/consent\?state=/);
  await page.locator("#email").fill(email);
  await page.locator("#name").fill("Gita");
  await page.getByRole("button", { name: "Continue" }).click();

  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId("welcome")).toContainText("Gita");

  const admin = await page.goto("/admin");
  expect(admin?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "This page does not exist" })).toBeVisible();
});

test("sign in with a magic link from the mailbox", async ({ page }) => {
  const email = `magic-${Date.now()}@kilat.id`;

  await page.goto("/auth/login");
  const form = page.getByTestId("magic-link-form");
  await form.locator('input[name="email"]').fill(email);
  await form.locator('button[type="submit"]').click();
  await expect(page).toHaveURL(/\/auth\/magic-link-sent$/);

  await page.goto("/dev/mailbox");
  const mail = page.getByTestId("mail").filter({ hasText: email }).first();
  await mail.locator('a[href*="/auth/v1/verify"]').click();

  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId("welcome")).toContainText(email);
});

test.describe("in Indonesian", () => {
  test.use({ locale: "id-ID" });

  test("the whole sign-up journey reads in Indonesian", async ({ page }) => {
    const email = `id-${Date.now()}@kilat.id`;
    await page.goto("/auth/sign-up");
    await expect(page.locator("html")).toHaveAttribute("lang", "id");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Buat akun Anda");
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
    const form = page.getByTestId("signup-form");
    // The island checks in Indonesian too.
    await form.locator('input[name="password"]').fill("pendek");
    await form.locator('input[name="password"]').blur();
    await expect(page.locator("#signup-password-error")).toHaveText("Gunakan minimal 8 karakter.");
    await submitSignUp(page, "Sari", email);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Periksa email Anda");

    await confirmFromMailbox(page, email);
    await expect(page.getByTestId("welcome")).toHaveText("Selamat datang, Sari");
    await expect(page.getByText("Paket Anda")).toBeVisible();
  });
});
