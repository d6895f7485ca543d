import { test, expect, type Browser, type Page } from "@playwright/test";

// The waitlist and the contact form, with and without JavaScript, in both languages: success,
// a refusal under its field (keeping what was typed), and the rate limit. Each test comes from
// its own client address (X-Forwarded-For, believed from 127.0.0.1: the e2e server runs with
// TRUSTED_PROXIES=127.0.0.1/32), so each has its own limits.

async function visitorFrom(browser: Browser, options: { javaScriptEnabled?: boolean } = {}) {
  const octet = () => Math.floor(Math.random() * 254) + 1;
  const address = `10.${octet()}.${octet()}.${octet()}`;
  const context = await browser.newContext({ ...options, extraHTTPHeaders: { "X-Forwarded-For": address } });
  return context.newPage();
}

async function hydrated(page: Page) {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

test("join the waitlist from the landing page, in English, after fixing the address", async ({ browser }) => {
  const page = await visitorFrom(browser);
  await page.goto("/?lang=en");
  await hydrated(page);
  const form = page.getByTestId("waitlist-form");
  await form.locator('input[name="name"]').fill("Budi Santoso");
  // The browser accepts "budi@kilat" as an email; the server does not, and says so under it.
  await form.locator('input[name="email"]').fill("budi@kilat");
  await page.getByTestId("waitlist-submit").click();
  await expect(page.locator("#landing-waitlist-email-error")).toHaveText("That does not look like an email address, e.g. nama@contoh.id.");
  await expect(form.locator('input[name="email"]')).toBeFocused();
  await expect(form.locator('input[name="name"]')).toHaveValue("Budi Santoso");

  await form.locator('input[name="email"]').fill(`budi-${Date.now()}@kilat.id`);
  await page.getByTestId("waitlist-submit").click();
  await expect(page.getByTestId("waitlist-joined")).toBeVisible();
  await expect(page.getByTestId("waitlist-joined")).toContainText("You're on the list");
  await expect(form).toBeHidden();
});

test("the waitlist page in Indonesian keeps its campaign, and says when the limit is reached", async ({ browser }) => {
  const page = await visitorFrom(browser);
  for (let signup = 1; signup <= 6; signup++) {
    await page.goto("/waitlist?lang=id&utm_source=newsletter&utm_campaign=desember");
    await hydrated(page);
    await expect(page.getByTestId("waitlist-form").locator('input[name="source"]')).toHaveValue("newsletter:desember");
    await page.getByTestId("waitlist-form").locator('input[name="email"]').fill(`sari-${signup}-${Date.now()}@kilat.id`);
    await page.getByTestId("waitlist-submit").click();
    if (signup <= 5) {
      await expect(page.getByTestId("waitlist-joined")).toContainText("Anda sudah terdaftar");
    } else {
      await expect(page.getByTestId("form-error")).toContainText("Coba lagi");
      await expect(page.getByTestId("waitlist-form")).toBeVisible();
    }
  }
});

test("send a message through the contact form, in Indonesian", async ({ browser }) => {
  const page = await visitorFrom(browser);
  await page.goto("/contact?lang=id");
  await hydrated(page);
  const form = page.getByTestId("contact-form");
  await form.locator('input[name="name"]').fill("Citra Lestari");
  await form.locator('input[name="email"]').fill("citra@kilat");
  await form.locator('textarea[name="message"]').fill("Halo, bagaimana cara membayar dengan QRIS?");
  await page.getByTestId("contact-submit").click();
  await expect(page.locator("#contact-email-error")).toHaveText("Itu tidak tampak seperti alamat email, misalnya nama@contoh.id.");
  await expect(form.locator('textarea[name="message"]')).toHaveValue("Halo, bagaimana cara membayar dengan QRIS?");

  await form.locator('input[name="email"]').fill("citra@kilat.id");
  // A person takes more than three seconds to write; a form sent sooner is a bot's.
  await page.waitForTimeout(3_000);
  await page.getByTestId("contact-submit").click();
  await expect(page.getByTestId("contact-sent")).toContainText("Pesan terkirim");

  // The outbox worker sends it moments later (it gathers a burst first): read the mailbox
  // again until it is there.
  await expect(async () => {
    await page.goto("/dev/mailbox");
    await expect(page.getByTestId("mail").filter({ hasText: "bagaimana cara membayar dengan QRIS?" })).toHaveCount(1, { timeout: 1000 });
  }).toPass({ timeout: 15000 });
});

test.describe("without JavaScript", () => {
  test("the contact form posts and comes back with the refusal, then the notice, in English", async ({ browser }) => {
    const page = await visitorFrom(browser, { javaScriptEnabled: false });
    await page.goto("/contact?lang=en");
    const form = page.getByTestId("contact-form");
    await form.locator('input[name="name"]').fill("Dewi");
    await form.locator('input[name="email"]').fill("dewi@kilat");
    await form.locator('textarea[name="message"]').fill("Can I pay yearly instead of monthly?");
    await page.getByTestId("contact-submit").click();
    await expect(page).toHaveURL(/\/contact\?lang=en&error=email_invalid/);
    await expect(page.locator("#contact-email-error")).toHaveText("That does not look like an email address, e.g. nama@contoh.id.");

    await page.getByTestId("contact-form").locator('input[name="name"]').fill("Dewi");
    await page.getByTestId("contact-form").locator('input[name="email"]').fill("dewi@kilat.id");
    await page.getByTestId("contact-form").locator('textarea[name="message"]').fill("Can I pay yearly instead of monthly?");
    await page.waitForTimeout(3_000);
    await page.getByTestId("contact-submit").click();
    await expect(page).toHaveURL(/\/contact\?lang=en&notice=sent/);
    await expect(page.getByTestId("contact-sent")).toContainText("Message sent");
  });

  test("the landing page's waitlist form posts and comes back to it", async ({ browser }) => {
    const page = await visitorFrom(browser, { javaScriptEnabled: false });
    await page.goto("/?lang=en");
    await page.getByTestId("waitlist-form").locator('input[name="email"]').fill(`nojs-${Date.now()}@kilat.id`);
    await page.getByTestId("waitlist-submit").click();
    await expect(page).toHaveURL(/\/\?lang=en&notice=joined#waitlist$/);
    await expect(page.getByTestId("waitlist-joined")).toBeVisible();
  });
});
