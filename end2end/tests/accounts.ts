import { expect, type Page } from "@playwright/test";

// The steps many journeys start with. Callers wait for the islands first when they test with
// JavaScript; these work either way.

/** Fills and sends the sign-up form (password `rahasia-123`), landing on the check-your-email page. */
export async function submitSignUp(page: Page, fullName: string, email: string) {
  const form = page.getByTestId("signup-form");
  await form.locator('input[name="full_name"]').fill(fullName);
  await form.locator('input[name="email"]').fill(email);
  await form.locator('input[name="password"]').fill("rahasia-123");
  await form.locator('button[type="submit"]').click();
  await expect(page).toHaveURL(/\/auth\/sign-up-success$/);
}

/** Opens the confirmation link sent to `email` from the local mailbox, landing on the dashboard. */
export async function confirmFromMailbox(page: Page, email: string) {
  await page.goto("/dev/mailbox");
  const mail = page.getByTestId("mail").filter({ hasText: email }).first();
  await expect(mail).toBeVisible();
  await mail.locator('a[href*="type=signup"]').click();
  await expect(page).toHaveURL(/\/dashboard$/);
}
