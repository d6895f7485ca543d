import { execFileSync } from "node:child_process";

import { test, expect } from "@playwright/test";

import { confirmFromMailbox, submitSignUp } from "./accounts";

// The e2e server's database: the project-local cluster (scripts/test runs it without
// DATABASE_URL), where the fixture below writes what a real outage leaves behind.
const DATABASE = `postgres://postgres@127.0.0.1:${process.env.LOCAL_POSTGRES_PORT ?? "54322"}/kilat`;
const ADMIN = "admin@e2e.kilat.test";

/** A Midtrans settlement for `order` that reached the server while its database was down: kept
 *  in the webhook ledger as failed, the payment still PENDING. */
function failedSettlement(order: string) {
  const body = JSON.stringify({
    order_id: order, status_code: "200", gross_amount: "99000.00", transaction_status: "settlement",
    fraud_status: "accept", payment_type: "qris", transaction_id: `e2e-${order}`, currency: "IDR",
    signature_key: "checked-on-arrival",
  });
  const sql = `insert into public.webhook_events
    (provider, event_id, event_type, order_id, payload, status, attempts, last_error, processed_at)
    values ('MIDTRANS', :'order' || ':settlement:200', 'settlement', :'order',
            jsonb_build_object('body', :'body'::jsonb), 'failed', 3, 'connection reset by peer', now())`;
  execFileSync("psql", ["-q", "-v", "ON_ERROR_STOP=1", "-v", `order=${order}`, "-v", `body=${body}`, DATABASE], {
    input: sql,
  });
}

test("an admin finds a customer's failed payment, replays its notification and sees the plan change", async ({ page, browser }) => {
  // A customer starts a PRO checkout and leaves the gateway's page before anything is settled.
  const customer = await browser.newPage();
  const email = `stuck-${Date.now()}@kilat.id`;
  await customer.goto("/auth/sign-up?lang=en");
  await expect(customer.locator("body")).toHaveAttribute("data-hydrated", "true");
  await submitSignUp(customer, "Rina Wijaya", email);
  await confirmFromMailbox(customer, email);
  await customer.goto("/checkout?plan=PRO");
  await customer.getByTestId("checkout-submit").click();
  await expect(customer).toHaveURL(/\/midtrans\/snap\/v4\/redirection\//);
  await customer.goto("/dashboard/billing");
  await customer.getByTestId("payment-history").locator("a").first().click();
  const order = (await customer.getByTestId("order-number").textContent())!.trim();
  failedSettlement(order);

  // The admin signs in (Google twin; ADMIN_EMAILS makes the account admin).
  await page.goto("/auth/login?lang=en");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await page.getByTestId("google-sign-in").click();
  await page.locator("#email").fill(ADMIN);
  await page.locator("#name").fill("Admin");
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);

  // Finds the customer by name.
  await page.goto("/admin/users");
  await page.getByTestId("people-search").fill("rina wijaya");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("link", { name: email }).click();
  await expect(page.getByTestId("person-plan")).toHaveText("Free");
  await expect(page.getByTestId("person-payments")).toContainText(order);

  // Opens the payment: still pending, its notification failed.
  await page.getByRole("link", { name: order }).click();
  await expect(page.getByTestId("payment").getByTestId("order-status")).toHaveAttribute("data-status", "PENDING");
  const event = page.getByTestId("webhook-event");
  await expect(event).toHaveAttribute("data-status", "failed");
  await expect(event).toContainText("connection reset by peer");

  // Replays it: the notification goes through ingestion, once.
  await event.getByTestId("replay").click();
  await expect(page.getByTestId("webhook-event")).toHaveAttribute("data-status", "processed");
  await expect(page.getByTestId("payment").getByTestId("order-status")).toHaveAttribute("data-status", "PAID");

  // The customer is on PRO now, and the replay is on the audit trail.
  await page.getByTestId("payment").getByRole("link", { name: email }).click();
  await expect(page.getByTestId("person-plan")).toHaveText("Pro");
  await expect(page.getByTestId("audit")).toContainText("subscription.changed");

  // And exports the waitlist: the whole list as CSV, headed by its columns.
  await page.getByRole("navigation", { name: "Admin sections" }).getByRole("link", { name: "Waitlist" }).click();
  await expect(page.getByTestId("waitlist-total")).toBeVisible();
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("waitlist-csv").click()]);
  expect(download.suggestedFilename()).toMatch(/^waitlist-\d{8}\.csv$/);
  const csv = await (await download.createReadStream()).toArray();
  expect(Buffer.concat(csv).toString("utf8").split("\r\n")[0]).toBe("joined_at,email,name,source");
});
