import { test, expect } from "@playwright/test";

import { confirmFromMailbox, submitSignUp } from "./accounts";

// Pages are server-rendered; only islands (forms, the theme switch) run WASM. Every form must
// work without JavaScript, and with it the islands add inline checks and in-place answers.

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("sign up, confirm, rename, sign out and sign in again with plain form posts", async ({ page }) => {
    const email = `nojs-${Date.now()}@kilat.id`;

    await page.goto("/auth/sign-up");
    await submitSignUp(page, "Dewi", email);
    await confirmFromMailbox(page, email);
    await expect(page.getByTestId("welcome")).toContainText("Dewi");

    await page.goto("/dashboard/settings");
    const settings = page.getByTestId("settings-form");
    await settings.locator('input[name="full_name"]').fill("Dewi Sartika");
    await settings.locator('button[type="submit"]').click();
    await expect(page).toHaveURL(/\/dashboard\/settings/);
    await expect(page.getByTestId("settings-form").locator('input[name="full_name"]')).toHaveValue("Dewi Sartika");

    // The session card's button (the header menu's copy sits in a closed <details>).
    await page.getByTestId("sign-out").last().click();
    await expect(page).toHaveURL(/\/$/);
    await expect(page.getByTestId("header-sign-in")).toBeVisible();

    // A wrong password comes back to the form with the refusal in words.
    await page.goto("/auth/login");
    const login = page.getByTestId("login-form");
    await login.locator('input[name="email"]').fill(email);
    await login.locator('input[name="password"]').fill("not-the-password");
    await login.locator('button[type="submit"]').click();
    await expect(page).toHaveURL(/\/auth\/login/);
    await expect(page.getByTestId("form-error")).toContainText("do not match an account");

    await page.getByTestId("login-form").locator('input[name="email"]').fill(email);
    await page.getByTestId("login-form").locator('input[name="password"]').fill("rahasia-123");
    await page.getByTestId("login-form").locator('button[type="submit"]').click();
    await expect(page).toHaveURL(/\/dashboard$/);
    await expect(page.getByTestId("welcome")).toContainText("Dewi Sartika");
  });
});

test("with JavaScript, a form checks fields as they are left and answers in place", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().includes("401")) errors.push(message.text());
  });

  await page.goto("/auth/login");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  const email = page.locator("#login-email");
  await email.fill("not-an-address");
  await email.blur();
  await expect(page.locator("#login-email-error")).toContainText("That does not look like an email address");
  await expect(email).toHaveAttribute("aria-invalid", "true");

  // While a field is invalid the form is not sent; the first invalid field gets focus.
  await page.getByTestId("login-form").locator('button[type="submit"]').click();
  await expect(email).toBeFocused();
  await expect(page.locator("#login-password-error")).toHaveText("Enter your password.");

  // Answered in place: no page load, the refusal appears above the form.
  await email.fill(`nobody-${Date.now()}@kilat.id`);
  await page.locator("#login-password").fill("whatever-123");
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1));
  await page.getByTestId("login-form").locator('button[type="submit"]').click();
  await expect(page.getByTestId("form-error")).toContainText("do not match an account");
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(1);
  expect(errors).toEqual([]);
});

test("with JavaScript, the settings forms answer in place: a refusal on its field, then success", async ({ page }) => {
  const email = `inplace-${Date.now()}@kilat.id`;
  await page.goto("/auth/sign-up");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await submitSignUp(page, "Sari", email);
  await confirmFromMailbox(page, email);

  await page.goto("/dashboard/settings");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1));

  // The server's refusal lands on the field it concerns, focused.
  const passwordForm = page.getByTestId("password-form");
  await passwordForm.locator('input[name="current_password"]').fill("not-my-password");
  await passwordForm.locator('input[name="password"]').fill("rahasia-baru-456");
  await passwordForm.locator('button[type="submit"]').click();
  await expect(page.locator("#settings-current-password-error")).toContainText("not your current password");
  await expect(page.locator("#settings-current-password")).toBeFocused();

  await passwordForm.locator('input[name="current_password"]').fill("rahasia-123");
  await passwordForm.locator('button[type="submit"]').click();
  await expect(page.locator("#settings-current-password-error")).toBeEmpty();
  await expect(page.getByText("Password changed.")).toBeVisible();

  // The answer's value decides the words: links went out to confirm the new address.
  const emailForm = page.getByTestId("email-form");
  await emailForm.locator('input[name="email"]').fill(`new-${email}`);
  await emailForm.locator('button[type="submit"]').click();
  await expect(page.getByText("Check your inbox: open the link we sent to your new address")).toBeVisible();

  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(1);
});

test("a refusal the server sent back in the address shows at once and stays when the island wakes", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  // What the server does for a form posted before the island woke: back to the page with the
  // server function's path and its error (base64url JSON) in `__path` and `__err`.
  await page.goto("/auth/login");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  const action = await page.getByTestId("login-form").getAttribute("action");
  const json = JSON.stringify({ code: "invalid_credentials", message: "ignored" });
  const err = Buffer.from(json).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
  await page.goto(`/auth/login?__path=${encodeURIComponent(action!)}&__err=${encodeURIComponent(err)}`);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByTestId("form-error")).toContainText("do not match an account");

  // The woken island checks fields as before.
  const email = page.locator("#login-email");
  await email.fill("not-an-address");
  await email.blur();
  await expect(page.locator("#login-email-error")).toContainText("That does not look like an email address");
  await expect(page.getByTestId("form-error")).toContainText("do not match an account");
  expect(errors).toEqual([]);
});
