import { test, expect } from "@playwright/test";

import { confirmFromMailbox, submitSignUp } from "./accounts";

// A person upgrades to PRO on the Midtrans twin's hosted page; the order page turns PAID by
// itself (the notification reaches the server, the page follows the order's events); billing
// shows PRO with its period, then they cancel and resume.
test("upgrade to PRO through the Midtrans twin, then cancel and resume", async ({ page }) => {
  const email = `billing-${Date.now()}@kilat.id`;
  await page.goto("/auth/sign-up?lang=en");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await submitSignUp(page, "Budi Santoso", email);
  await confirmFromMailbox(page, email);

  await page.goto("/pricing");
  await page.locator('a[href="/checkout?plan=PRO"]').click();
  await expect(page).toHaveURL(/\/checkout\?plan=PRO$/);
  await expect(page.getByTestId("checkout-price")).toHaveText("IDR 99,000");
  await page.getByTestId("checkout-submit").click();

  // The gateway's page (the twin's, on the stand-in port).
  await expect(page).toHaveURL(/\/midtrans\/snap\/v4\/redirection\//);
  await page.getByTestId("midtrans-method-qris").check();
  await page.getByTestId("midtrans-pay").click();

  await expect(page).toHaveURL(/\/order\/[0-9a-f-]{36}/);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByTestId("order-status")).toHaveAttribute("data-status", "PAID", { timeout: 15_000 });
  await expect(page.getByTestId("order-lead")).toContainText("Your plan is active");

  await page.goto("/dashboard/billing");
  await expect(page.getByTestId("billing-plan")).toHaveText("Pro");
  await expect(page.getByTestId("billing-until")).toContainText("Paid until");
  await expect(page.getByTestId("payment-history")).toContainText("IDR 99,000");

  await page.getByTestId("cancel").locator("summary").click();
  await page.getByTestId("cancel-yes").click();
  await expect(page).toHaveURL(/notice=canceled/);
  await expect(page.getByTestId("billing-until")).toContainText("Canceled");
  await page.getByTestId("resume").click();
  await expect(page).toHaveURL(/notice=resumed/);
  await expect(page.getByTestId("billing-until")).toContainText("Paid until");
});

// An order page left open while the person pays elsewhere (another device, a bank app) turns
// PAID by itself: the notification reaches the server and the page follows the order's events.
test("a waiting order page turns PAID by itself", async ({ page, request }) => {
  const email = `live-${Date.now()}@kilat.id`;
  await page.goto("/auth/sign-up?lang=en");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await submitSignUp(page, "Citra Lestari", email);
  await confirmFromMailbox(page, email);

  await page.goto("/checkout?plan=BASIC");
  await page.getByTestId("checkout-submit").click();
  await expect(page).toHaveURL(/\/midtrans\/snap\/v4\/redirection\//);
  const twin = page.url().replace(/\/snap\/v4\/redirection\/.*$/, "");

  // Back on the site, the order waits.
  await page.goto("/dashboard/billing");
  await page.getByTestId("payment-history").locator("a").first().click();
  await expect(page).toHaveURL(/\/order\//);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByTestId("order-status")).toHaveAttribute("data-status", "PENDING");
  await expect(page.getByTestId("continue-paying")).toBeVisible();
  const order = (await page.getByTestId("order-number").textContent())!.trim();

  // Paid somewhere else.
  const paid = await request.post(`${twin}/_twin/transactions/${order}/pay`, { data: { method: "gopay" } });
  expect(paid.ok()).toBeTruthy();
  await expect(page.getByTestId("order-status")).toHaveAttribute("data-status", "PAID", { timeout: 15_000 });
  await expect(page.getByTestId("order-lead")).toContainText("Your plan is active");
});
