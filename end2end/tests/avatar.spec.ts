import { test, expect } from "@playwright/test";
import { readFileSync } from "node:fs";
import path from "node:path";

import { confirmFromMailbox, submitSignUp } from "./accounts";

// The share picture the site serves: a real 1200 × 630 PNG, small enough for an avatar.
const picture = readFileSync(path.join(__dirname, "../../public/og.png"));

// A person uploads a picture and sees it in the header; a file over 2 MB and an SVG come back
// with their reasons; removing it (after a confirming question) brings the initials back.
test("upload, refuse, and remove an avatar", async ({ page }) => {
  const email = `avatar-${Date.now()}@kilat.id`;
  await page.goto("/auth/sign-up?lang=en");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await submitSignUp(page, "Ana Putri", email);
  await confirmFromMailbox(page, email);
  await expect(page.getByTestId("account-menu").getByTestId("avatar-initials")).toHaveText("AP");

  await page.goto("/dashboard/settings");
  const card = page.locator("#avatar");
  const send = async (file: { name: string; mimeType: string; buffer: Buffer }) => {
    await page.locator("#avatar-file").setInputFiles(file);
    await page.getByTestId("avatar-form").locator('button[type="submit"]').click();
  };

  await send({ name: "huge.png", mimeType: "image/png", buffer: Buffer.alloc(2 * 1024 * 1024 + 1) });
  await expect(page).toHaveURL(/error=avatar_too_large/);
  await expect(card.getByTestId("form-error")).toContainText("over 2 MB");

  await send({
    name: "drawing.svg",
    mimeType: "image/svg+xml",
    buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'),
  });
  await expect(card.getByTestId("form-error")).toContainText("not a JPEG, PNG, WebP or GIF");

  await send({ name: "me.png", mimeType: "image/png", buffer: picture });
  await expect(page).toHaveURL(/notice=avatar_saved/);
  await expect(card.getByTestId("form-success")).toContainText("Your new picture is saved");
  for (const where of [page.getByTestId("account-menu"), page.getByTestId("settings-avatar")]) {
    const img = where.getByTestId("avatar-picture");
    await expect(img).toBeVisible();
    // Loaded from Storage through its signed URL (the page's policy allows Storage's origin).
    await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth)).toBeGreaterThan(0);
  }

  // Removing asks first.
  await page.getByTestId("avatar-remove").locator("summary").click();
  await page.getByTestId("avatar-remove").locator('button[type="submit"]').click();
  await expect(page).toHaveURL(/notice=avatar_removed/);
  await expect(page.getByTestId("account-menu").getByTestId("avatar-initials")).toHaveText("AP");
  await expect(page.getByTestId("avatar-remove")).toHaveCount(0);
});
