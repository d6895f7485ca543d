import { test, expect } from "@playwright/test";

// The e2e server runs with ADMIN_EMAILS set to this address (see scripts/test). Signing in
// with Google works every run: the first one creates the account and makes it admin.
const ADMIN = "admin@e2e.kilat.test";

test("an admin from ADMIN_EMAILS goes from the dashboard to the admin overview", async ({ page }) => {
  await page.goto("/auth/login");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await page.getByTestId("google-sign-in").click();
  await page.locator("#email").fill(ADMIN);
  await page.locator("#name").fill("Admin");
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);

  await page.getByRole("link", { name: "Admin overview" }).click();
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.getByRole("heading", { name: "Admin overview" })).toBeVisible();
  await expect(page.getByTestId("revenue")).toContainText("IDR");
});
