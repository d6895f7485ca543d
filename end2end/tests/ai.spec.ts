import { test, expect, type Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";

// The AI pages against the local AI twin (server/src/local/ai_twin/mod.rs): its answers say
// "You said: …" and react to trigger words — `list` (a Markdown list), `xss-test` (a script
// tag, an <img onerror> and a javascript: link, verbatim) and `long-answer` (sentences until
// the token limit, 10 ms a token). A person on PRO (paid through the Midtrans twin) chats,
// stops an answer and uses a template; a FREE person is shown the way to a plan with AI.

const unique = (name: string) => `${name}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@kilat.id`;

/** Signs a new person in through the Google twin's consent page, landing on the dashboard. */
async function signIn(page: Page, name: string) {
  await page.goto("/auth/google");
  await page.locator("#email").fill(unique(name.toLowerCase()));
  await page.locator("#name").fill(name);
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
}

/** Buys a month of PRO on the Midtrans twin's hosted page and waits for the order to be paid. */
async function upgradeToPro(page: Page) {
  await page.goto("/checkout?plan=PRO&lang=en");
  await page.getByTestId("checkout-submit").click();
  await expect(page).toHaveURL(/\/midtrans\/snap\/v4\/redirection\//);
  await page.getByTestId("midtrans-method-qris").check();
  await page.getByTestId("midtrans-pay").click();
  await expect(page).toHaveURL(/\/order\/[0-9a-f-]{36}/);
  await expect(page.getByTestId("order-status")).toHaveAttribute("data-status", "PAID", { timeout: 15_000 });
}

async function openChat(page: Page, lang: "en" | "id") {
  await page.goto(`/dashboard/ai?lang=${lang}`);
  await expect(page.locator("html")).toHaveAttribute("lang", lang);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  // Once the usage is read, either its reading or (for a plan without AI) the way to a plan.
  await expect(page.getByTestId("ai-meter-reading").or(page.getByTestId("ai-no-plan")).filter({ visible: true })).toBeVisible();
}

/** Types `message` into the box and sends it with Enter. */
async function send(page: Page, message: string) {
  const box = page.getByTestId("ai-message");
  await expect(box).toBeEnabled();
  await box.fill(message);
  await box.press("Enter");
}

const answers = (page: Page) => page.getByTestId("ai-turn-assistant");

/** Serious and critical axe findings on the page as it is now (answers rendered). */
async function accessibilityProblems(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(" ")).join("; ")}`);
}

test("a PRO person chats: a streamed list, hostile markup shown as text, stop, regenerate, rename, delete", async ({ page, context }) => {
  test.setTimeout(90_000);
  const dialogs: string[] = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await signIn(page, "Ayu");
  await upgradeToPro(page);

  await page.goto("/dashboard?lang=en");
  await page.getByTestId("dashboard-ai").getByRole("link", { name: "Chat" }).click();
  await expect(page).toHaveURL(/\/dashboard\/ai$/);
  await openChat(page, "en");
  await expect(page.getByTestId("ai-meter-reading")).toContainText("of 100,000 tokens used this month");
  await expect(page.getByTestId("ai-no-conversations")).toBeVisible();

  // Shift+Enter is a new line; Enter sends.
  const box = page.getByTestId("ai-message");
  await box.fill("Give me a list");
  await box.press("Shift+Enter");
  await box.pressSequentially("of three things");
  await expect(box).toHaveValue("Give me a list\nof three things");
  await box.press("Enter");
  await expect(box).toHaveValue("");
  await expect(page.getByTestId("ai-turn-user").first()).toHaveText("Give me a list\nof three things");
  const first = answers(page).first();
  await expect(first).toContainText("Hello from the local OpenAI twin. You said: Give me a list of three things");
  await expect(first.locator("ul > li")).toHaveCount(3);
  await expect(first).toHaveAttribute("data-status", "complete");
  // The new conversation is first in the list, titled by its first line, and in the address.
  await expect(page.getByTestId("ai-conversation").first()).toContainText("Give me a list");
  await expect(page.getByTestId("ai-conversation-title")).toHaveText("Give me a list");
  await expect(page).toHaveURL(/[?&]c=[0-9a-f-]{36}$/);
  await expect(page.getByTestId("ai-meter-reading")).not.toContainText(/^0 of/);

  // Copy puts the answer's Markdown on the clipboard.
  await first.getByTestId("ai-copy").click();
  await expect(first.getByTestId("ai-copy")).toHaveText("Copied");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toContain("Hello from the local OpenAI twin");

  // Hostile markup in an answer is text: no script, no image handler, no javascript: link.
  await send(page, "xss-test");
  const hostile = answers(page).nth(1);
  await expect(hostile).toHaveAttribute("data-status", "complete");
  await expect(hostile).toContainText("<script>alert(1)</script>");
  await expect(hostile).toContainText("<img src=x onerror=alert(1)>");
  await expect(hostile).toContainText("[a link](javascript:alert(1))");
  await expect(page.getByTestId("ai-log").locator("script")).toHaveCount(0);
  await expect(page.locator("img[onerror]")).toHaveCount(0);
  await expect(page.locator('a[href^="javascript:" i]')).toHaveCount(0);
  await expect(hostile.locator("a")).toHaveCount(0);
  expect(await accessibilityProblems(page)).toEqual([]);

  // A long answer streams (typing indicator, Send waits) until Stop; what came is kept.
  await send(page, "long-answer please");
  await expect(page.getByTestId("ai-typing")).toBeVisible();
  await expect(page.getByTestId("ai-send")).toBeDisabled();
  await expect(page.getByTestId("ai-message")).toBeDisabled();
  await expect(page.getByTestId("ai-streaming")).toContainText("You said: long-answer please");
  await page.getByTestId("ai-stop").click();
  const stopped = answers(page).nth(2);
  await expect(stopped).toHaveAttribute("data-status", "stopped");
  await expect(stopped.getByTestId("ai-note")).toHaveText("Stopped. What was written so far is kept.");
  await expect(page.getByTestId("ai-typing")).toBeHidden();
  await expect(page.getByTestId("ai-message")).toBeEnabled();
  await expect(page.getByTestId("ai-message")).toBeFocused();

  // Regenerate asks the last message again, as a new turn (stopped at once this time).
  await stopped.getByTestId("ai-regenerate").click();
  await expect(page.getByTestId("ai-turn-user")).toHaveCount(4);
  await expect(page.getByTestId("ai-turn-user").last()).toHaveText("long-answer please");
  await expect(page.getByTestId("ai-streaming")).toContainText("You said");
  await page.getByTestId("ai-stop").click();
  await expect(answers(page)).toHaveCount(4);
  await expect(answers(page).last()).toHaveAttribute("data-status", "stopped");

  // Kept: the conversation opens again from its address, partial answer and all.
  await page.reload();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(answers(page)).toHaveCount(4);
  await expect(answers(page).first().locator("ul > li")).toHaveCount(3);
  await expect(answers(page).nth(2)).toHaveAttribute("data-status", "stopped");

  // Rename, then delete.
  await page.getByTestId("ai-rename").click();
  await page.getByTestId("ai-title-input").fill("Three things");
  await page.getByTestId("ai-title-save").click();
  await expect(page.getByTestId("ai-conversation-title")).toHaveText("Three things");
  await expect(page.getByTestId("ai-conversation").first()).toContainText("Three things");
  await page.getByTestId("ai-delete").click();
  await page.getByTestId("ai-delete-yes").click();
  await expect(page.getByTestId("ai-no-conversations")).toBeVisible();
  await expect(page.getByTestId("ai-conversation-title")).toHaveText("New conversation");
  await expect(page.getByTestId("ai-empty")).toBeVisible();

  expect(dialogs).toEqual([]);
});

test("in Indonesian: the list renders, hostile markup stays text, a stopped answer says so", async ({ page }) => {
  test.setTimeout(90_000);
  await signIn(page, "Budi");
  await upgradeToPro(page);
  await openChat(page, "id");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Asisten AI");
  await expect(page.getByTestId("ai-meter-reading")).toContainText("dari 100.000 token terpakai bulan ini");

  await send(page, "tolong buat list");
  await expect(answers(page).first().locator("ul > li")).toHaveCount(3);

  await send(page, "xss-test");
  await expect(answers(page).nth(1)).toContainText("<script>alert(1)</script>");
  await expect(page.locator("img[onerror]")).toHaveCount(0);
  await expect(page.locator('a[href^="javascript:" i]')).toHaveCount(0);

  await send(page, "long-answer");
  await expect(page.getByTestId("ai-streaming")).toContainText("You said");
  await page.getByTestId("ai-stop").click();
  await expect(answers(page).nth(2).getByTestId("ai-note")).toHaveText("Dihentikan. Bagian yang sudah ditulis tetap disimpan.");

  // On a phone, in the dark: the list opens from its button, and nothing scrolls sideways.
  await page.emulateMedia({ colorScheme: "dark" });
  await page.setViewportSize({ width: 375, height: 800 });
  await expect(page.getByTestId("ai-conversations")).toBeHidden();
  await page.getByRole("button", { name: "Tampilkan percakapan" }).click();
  await expect(page.getByTestId("ai-conversation")).toHaveCount(1);
  expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBe(0);
  expect(await accessibilityProblems(page)).toEqual([]);
});

test("a PRO person writes with a template and can stop it", async ({ page }) => {
  test.setTimeout(90_000);
  await signIn(page, "Citra");
  await upgradeToPro(page);
  await page.goto("/dashboard/ai/generate?lang=en");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByTestId("ai-meter-reading")).toBeVisible();

  await page.getByLabel("Email reply").check();
  await expect(page.locator("#ai-input-hint")).toHaveText("Paste the email, and add what you want to say in reply.");
  await page.getByLabel("Your notes").fill("Thank them and list the next steps");
  await page.getByTestId("ai-generate").click();
  const result = page.getByTestId("ai-result");
  await expect(result.locator("ul > li")).toHaveCount(3);
  await expect(result).toContainText("You said: Thank them and list the next steps");
  await expect(page.getByTestId("ai-copy")).toBeVisible();

  await page.getByLabel("Your notes").fill("A long-answer about our launch");
  await page.getByTestId("ai-generate").click();
  await expect(page.getByTestId("ai-generate")).toBeDisabled();
  await expect(page.getByTestId("ai-typing")).toBeVisible();
  await expect(result).toContainText("You said");
  await page.getByTestId("ai-stop").click();
  await expect(page.getByTestId("ai-note")).toHaveText("Stopped. What was written so far is kept.");
  await expect(page.getByTestId("ai-generate")).toBeEnabled();
});

test("a FREE person is shown the way to a plan with AI, in both languages", async ({ page }) => {
  await signIn(page, "Dewi");
  for (const [lang, words] of [
    ["en", "Your plan has no AI"],
    ["id", "Paket Anda tidak mencakup AI"],
  ] as const) {
    await openChat(page, lang);
    const notice = page.getByTestId("ai-no-plan");
    await expect(notice).toContainText(words);
    await expect(notice.getByRole("link")).toHaveAttribute("href", "/pricing");
    await expect(page.getByTestId("ai-message")).toBeDisabled();
    await expect(page.getByTestId("ai-send")).toBeDisabled();

    await page.goto(`/dashboard/ai/generate?lang=${lang}`);
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
    await expect(page.getByTestId("ai-no-plan")).toContainText(words);
    await expect(page.getByTestId("ai-generate")).toBeDisabled();
  }

  // What the pages rely on: the route refuses with the message and the way to upgrade.
  const refused = await page.request.post("/api/ai/chat?lang=id", { data: { message: "halo" } });
  expect(refused.status()).toBe(403);
  expect(await refused.json()).toMatchObject({ code: "plan_without_ai", upgrade_url: "/pricing" });

  await page.getByTestId("ai-no-plan").getByRole("link").click();
  await expect(page).toHaveURL(/\/pricing$/);
});

test("the AI pages are linked from the account menu and ask a visitor to sign in", async ({ page }) => {
  const visitor = await page.goto("/dashboard/ai?lang=en");
  expect(visitor?.ok()).toBeTruthy();
  await expect(page).toHaveURL(/\/auth\/login\?next=%2Fdashboard%2Fai/);

  await signIn(page, "Eka");
  await page.goto("/dashboard?lang=en");
  await page.getByTestId("account-menu").locator("summary").click();
  await page.getByTestId("account-menu").getByRole("link", { name: "AI assistant" }).click();
  await expect(page).toHaveURL(/\/dashboard\/ai$/);
  await page.getByRole("navigation", { name: "AI tools" }).getByRole("link", { name: "Templates" }).click();
  await expect(page).toHaveURL(/\/dashboard\/ai\/generate$/);
  await expect(page.getByRole("link", { name: "Templates" })).toHaveAttribute("aria-current", "page");
});
